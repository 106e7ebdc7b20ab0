//! The on-disk cache: a cached digest is returned only after a 304; a 200 re-hashes and
//! replaces the entry; corrupt entries and entries without a validator are not used.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use support::{Server, body, ok_with, policy, sha256_hex, status};
use valkey_bot_fetch::{Fetcher, Origin, ProgressMode};

/// A fresh fetcher (a new "run") over `dir`.
fn run(dir: &Path) -> Fetcher {
    Fetcher::builder(policy())
        .cache_dir(dir)
        .progress(ProgressMode::Quiet)
        .build()
        .expect("client builds")
}

fn entries(dir: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(rd) => rd.map(|e| e.expect("dir entry").path()).collect(),
        Err(_) => Vec::new(),
    }
}

/// Serves version `n` of a body with ETag `"v<n>"`, answering 304 to a matching If-None-Match.
async fn etag_server(version: Arc<AtomicU32>) -> Server {
    Server::start(move |req, _| {
        let n = version.load(Ordering::SeqCst);
        let etag = format!("\"v{n}\"");
        if req.headers.get("if-none-match") == Some(&etag) {
            status("304 Not Modified")
        } else {
            ok_with(&body(50_000, n.into()), &[("ETag", etag)])
        }
    })
    .await
}

#[tokio::test]
async fn cached_digest_only_after_304_and_rehashed_after_200() {
    let dir = tempfile::tempdir().expect("tempdir");
    let version = Arc::new(AtomicU32::new(1));
    let server = etag_server(Arc::clone(&version)).await;
    let url = server.url("/valkey-9.1.1.tar.gz");
    let v1 = sha256_hex(&body(50_000, 1));
    let v2 = sha256_hex(&body(50_000, 2));

    // Run 1: nothing cached, downloaded, entry written.
    let first = run(dir.path()).digest(&url).await.expect("run 1");
    assert_eq!(
        (first.sha256.to_string(), first.origin),
        (v1.clone(), Origin::Downloaded)
    );
    assert_eq!(server.requests()[0].headers.get("if-none-match"), None);
    let files = entries(dir.path());
    assert_eq!(files.len(), 1);
    assert_eq!(
        std::fs::read_to_string(&files[0]).expect("entry"),
        format!(
            "{{\n  \"url\": \"http://127.0.0.1:{}/valkey-9.1.1.tar.gz\",\n  \"sha256\": \"{v1}\",\n  \"bytes\": 50000,\n  \"etag\": \"\\\"v1\\\"\",\n  \"last_modified\": null\n}}\n",
            server.port
        )
    );

    // Run 2: revalidated with If-None-Match, 304, cached digest, nothing downloaded.
    let f = run(dir.path());
    let second = f.digest(&url).await.expect("run 2");
    assert_eq!(second.sha256.to_string(), v1);
    assert_eq!(second.origin, Origin::Revalidated);
    assert_eq!(second.bytes, 50_000);
    assert_eq!(
        server.requests()[1]
            .headers
            .get("if-none-match")
            .map(String::as_str),
        Some("\"v1\"")
    );
    assert_eq!((f.stats().cache_hits, f.stats().downloads_started), (1, 0));

    // Run 3: the file changed; the server answers 200 to the old ETag: re-hashed, not trusted.
    version.store(2, Ordering::SeqCst);
    let f = run(dir.path());
    let third = f.digest(&url).await.expect("run 3");
    assert_eq!(
        server.requests()[2]
            .headers
            .get("if-none-match")
            .map(String::as_str),
        Some("\"v1\"")
    );
    assert_eq!(
        (third.sha256.to_string(), third.origin),
        (v2.clone(), Origin::Downloaded)
    );
    assert_eq!(f.stats().cache_hits, 0);

    // Run 4: the replaced entry revalidates with the new ETag.
    let fourth = run(dir.path()).digest(&url).await.expect("run 4");
    assert_eq!(
        server.requests()[3]
            .headers
            .get("if-none-match")
            .map(String::as_str),
        Some("\"v2\"")
    );
    assert_eq!(
        (fourth.sha256.to_string(), fourth.origin),
        (v2, Origin::Revalidated)
    );
}

#[tokio::test]
async fn last_modified_is_sent_as_if_modified_since() {
    let dir = tempfile::tempdir().expect("tempdir");
    let stamp = "Wed, 21 Oct 2026 07:28:00 GMT";
    let server = Server::start(move |req, _| {
        if req.headers.get("if-modified-since").map(String::as_str) == Some(stamp) {
            status("304 Not Modified")
        } else {
            ok_with(b"release bytes", &[("Last-Modified", stamp.into())])
        }
    })
    .await;
    let url = server.url("/f");
    assert_eq!(
        run(dir.path()).digest(&url).await.expect("run 1").origin,
        Origin::Downloaded
    );
    let second = run(dir.path()).digest(&url).await.expect("run 2");
    assert_eq!(second.origin, Origin::Revalidated);
    assert_eq!(second.sha256.to_string(), sha256_hex(b"release bytes"));
    assert_eq!(second.last_modified.as_deref(), Some(stamp));
}

#[tokio::test]
async fn corrupt_entry_is_ignored_and_replaced() {
    let dir = tempfile::tempdir().expect("tempdir");
    let version = Arc::new(AtomicU32::new(1));
    let server = etag_server(version).await;
    let url = server.url("/c");
    run(dir.path()).digest(&url).await.expect("run 1");
    let files = entries(dir.path());
    std::fs::write(&files[0], "{\"sha256\": tru").expect("corrupt it");

    let second = run(dir.path()).digest(&url).await.expect("run 2");
    assert_eq!(server.requests()[1].headers.get("if-none-match"), None);
    assert_eq!(second.origin, Origin::Downloaded);
    assert_eq!(second.sha256.to_string(), sha256_hex(&body(50_000, 1)));

    let third = run(dir.path()).digest(&url).await.expect("run 3");
    assert_eq!(third.origin, Origin::Revalidated);
}

#[tokio::test]
async fn entry_with_a_bad_digest_is_ignored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = etag_server(Arc::new(AtomicU32::new(1))).await;
    let url = server.url("/d");
    run(dir.path()).digest(&url).await.expect("run 1");
    let files = entries(dir.path());
    let text = std::fs::read_to_string(&files[0]).expect("entry");
    let bad = text.replace(&sha256_hex(&body(50_000, 1)), "not-hex");
    std::fs::write(&files[0], bad).expect("rewrite");
    let second = run(dir.path()).digest(&url).await.expect("run 2");
    assert_eq!(server.requests()[1].headers.get("if-none-match"), None);
    assert_eq!(second.origin, Origin::Downloaded);
}

#[tokio::test]
async fn responses_without_validators_are_not_cached() {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = Server::start(|_, _| ok_with(b"no validators", &[])).await;
    let url = server.url("/plain");
    run(dir.path()).digest(&url).await.expect("run 1");
    assert!(entries(dir.path()).is_empty());
    let second = run(dir.path()).digest(&url).await.expect("run 2");
    assert_eq!(second.origin, Origin::Downloaded);
    let seen = server.requests();
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|s| !s.headers.contains_key("if-none-match")
        && !s.headers.contains_key("if-modified-since")));
}

#[tokio::test]
async fn an_answer_without_validators_drops_the_old_entry() {
    let dir = tempfile::tempdir().expect("tempdir");
    let validators = Arc::new(AtomicU32::new(1));
    let flag = Arc::clone(&validators);
    let server = Server::start(move |_, _| {
        if flag.load(Ordering::SeqCst) == 1 {
            ok_with(b"v", &[("ETag", "\"e\"".into())])
        } else {
            ok_with(b"v", &[])
        }
    })
    .await;
    let url = server.url("/drop");
    run(dir.path()).digest(&url).await.expect("run 1");
    assert_eq!(entries(dir.path()).len(), 1);
    validators.store(0, Ordering::SeqCst);
    run(dir.path()).digest(&url).await.expect("run 2");
    assert!(entries(dir.path()).is_empty());
}
