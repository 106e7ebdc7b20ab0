//! Source archives, raw files and `_downloads`: bytes, validators, 304s and path safety.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Read;

use common::{Fixture, assert_head_has};
use reqwest::header;

/// The member paths, as `tar tzf` lists them (the pax global header is not a member).
fn tar_paths(gz: &[u8]) -> Vec<String> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(gz));
    archive
        .entries()
        .unwrap()
        .map(Result::unwrap)
        .filter(|entry| entry.header().entry_type() != tar::EntryType::XGlobalHeader)
        .map(|entry| entry.path().unwrap().to_string_lossy().into_owned())
        .collect()
}

/// The `comment` record of the pax global header (git writes the commit id there).
fn pax_comment(gz: &[u8]) -> String {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(gz));
    let mut entry = archive.entries().unwrap().next().unwrap().unwrap();
    assert_eq!(entry.header().entry_type(), tar::EntryType::XGlobalHeader);
    let mut text = String::new();
    entry.read_to_string(&mut text).unwrap();
    text.split_once("comment=").unwrap().1.trim_end().to_owned()
}

fn tar_file(gz: &[u8], wanted: &str) -> String {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(gz));
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().to_string_lossy() == wanted {
            let mut text = String::new();
            entry.read_to_string(&mut text).unwrap();
            return text;
        }
    }
    panic!("{wanted} not in archive");
}

#[tokio::test]
async fn tag_archive_is_prefixed_stable_and_conditional() {
    let fx = Fixture::new().await;
    let url = fx.web("/acme/widgets/archive/refs/tags/1.0.0.tar.gz");
    let first = fx.fetch(&url).await;
    assert_eq!(first.status(), 200);
    let etag = first.headers()[header::ETAG].to_str().unwrap().to_owned();
    let length: usize = first.headers()[header::CONTENT_LENGTH]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let bytes = first.bytes().await.unwrap();
    assert_eq!(bytes.len(), length);
    assert_eq!(
        tar_paths(&bytes),
        [
            "widgets-1.0.0/",
            "widgets-1.0.0/9.1/",
            "widgets-1.0.0/9.1/alpine/",
            "widgets-1.0.0/9.1/alpine/Dockerfile",
            "widgets-1.0.0/9.1/debian/",
            "widgets-1.0.0/9.1/debian/Dockerfile",
            "widgets-1.0.0/README",
        ]
    );
    assert_eq!(tar_file(&bytes, "widgets-1.0.0/README"), "hello\nworld\n");
    assert_eq!(pax_comment(&bytes), fx.widgets.main);

    let second = fx.fetch_bytes(&url).await;
    assert_eq!(second, bytes, "same bytes every time");

    let not_modified = fx.fetch_with(&url, &[(header::IF_NONE_MATCH, &etag)]).await;
    assert_eq!(not_modified.status(), 304);
    assert_eq!(not_modified.headers()[header::ETAG].to_str().unwrap(), etag);
    assert!(not_modified.bytes().await.unwrap().is_empty());
    let other_etag = fx
        .fetch_with(&url, &[(header::IF_NONE_MATCH, "\"other\"")])
        .await;
    assert_eq!(other_etag.status(), 200);

    let missing = fx
        .get_web("/acme/widgets/archive/refs/tags/9.9.9.tar.gz")
        .await;
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn the_archive_route_redirects_to_codeload_as_github_com_does() {
    let fx = Fixture::new().await;
    let (head, body) = fx
        .raw_get("/acme/widgets/archive/refs/tags/1.0.0.tar.gz")
        .await;
    assert!(head.starts_with("HTTP/1.1 302"), "{head}");
    let codeload = fx.web("/_codeload/acme/widgets/tar.gz/refs/tags/1.0.0");
    assert_head_has(
        &head,
        &format!("location: {}", codeload.to_ascii_lowercase()),
    );
    assert!(body.is_empty());
    let archive = fx.fetch(&codeload).await;
    assert_eq!(archive.status(), 200);
    assert_eq!(
        tar_file(&archive.bytes().await.unwrap(), "widgets-1.0.0/README"),
        "hello\nworld\n"
    );
    let (missing, _) = fx
        .raw_get("/acme/widgets/archive/refs/tags/9.9.9.tar.gz")
        .await;
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
}

#[tokio::test]
async fn archive_bytes_are_cached_per_tag_target() {
    let fx = Fixture::new().await;
    let url = fx.web("/acme/widgets/archive/refs/tags/1.0.0.tar.gz");
    let first = fx.fetch_bytes(&url).await;
    // A config change that would make `git archive` write other bytes (file modes) ...
    fx.widgets_git(&["config", "tar.umask", "0077"]);
    let second = fx.fetch_bytes(&url).await;
    // ... does not change what the sandbox serves for the same tag: the bytes are cached.
    assert_eq!(second, first);

    // Moving the tag is a new archive (the digest changes, as it did on GitHub for re-tags).
    fx.widgets_git(&["tag", "-f", "1.0.0", &fx.widgets.feature]);
    let moved = fx.fetch_bytes(&url).await;
    assert_ne!(moved, first);
    assert!(tar_paths(&moved).contains(&"widgets-1.0.0/feature.txt".to_owned()));
}

#[tokio::test]
async fn raw_serves_file_bytes_at_a_ref() {
    let fx = Fixture::new().await;
    let response = fx
        .get_web("/acme/widgets/raw/main/9.1/debian/Dockerfile")
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "FROM debian:bookworm\n");
    let at_release = fx.get_web("/acme/widgets/raw/release/9.1/README").await;
    assert_eq!(at_release.text().await.unwrap(), "hello\n");
    let at_sha = fx
        .get_web(&format!("/acme/widgets/raw/{}/README", fx.widgets.first))
        .await;
    assert_eq!(at_sha.text().await.unwrap(), "hello\n");
    let at_tag = fx.get_web("/acme/widgets/raw/refs/tags/1.0.0/README").await;
    assert_eq!(at_tag.text().await.unwrap(), "hello\nworld\n");
    let missing = fx.get_web("/acme/widgets/raw/main/nope").await;
    assert_eq!(missing.status(), 404);
}

fn setup_downloads(fx: &Fixture) -> std::path::PathBuf {
    let dir = fx.root().join("_downloads/releases");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("valkey-9.1.1-jammy-x86_64.tar.gz");
    std::fs::write(&file, b"tarball bytes").unwrap();
    std::fs::write(fx.root().join("secret.txt"), b"TOP SECRET").unwrap();
    file
}

#[tokio::test]
async fn downloads_serve_files_with_validators_and_304s() {
    let fx = Fixture::new().await;
    setup_downloads(&fx);
    let url = fx.web("/_downloads/releases/valkey-9.1.1-jammy-x86_64.tar.gz");
    let response = fx.fetch(&url).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[header::CONTENT_LENGTH], "13");
    let etag = response.headers()[header::ETAG]
        .to_str()
        .unwrap()
        .to_owned();
    let modified = response.headers()[header::LAST_MODIFIED]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(response.bytes().await.unwrap().as_ref(), b"tarball bytes");

    let by_etag = fx.fetch_with(&url, &[(header::IF_NONE_MATCH, &etag)]).await;
    assert_eq!(by_etag.status(), 304);
    let by_date = fx
        .fetch_with(&url, &[(header::IF_MODIFIED_SINCE, &modified)])
        .await;
    assert_eq!(by_date.status(), 304);
    let old_date = fx
        .fetch_with(
            &url,
            &[(header::IF_MODIFIED_SINCE, "Mon, 01 Jan 2001 00:00:00 GMT")],
        )
        .await;
    assert_eq!(old_date.status(), 200);
    // If-None-Match takes precedence over If-Modified-Since.
    let mismatch = fx
        .fetch_with(
            &url,
            &[
                (header::IF_NONE_MATCH, "\"stale\""),
                (header::IF_MODIFIED_SINCE, &modified),
            ],
        )
        .await;
    assert_eq!(mismatch.status(), 200);

    let missing = fx.get_web("/_downloads/releases/none.tar.gz").await;
    assert_eq!(missing.status(), 404);
    let directory = fx.get_web("/_downloads/releases").await;
    assert_eq!(directory.status(), 404);
}

#[tokio::test]
async fn downloads_refuse_path_traversal() {
    let fx = Fixture::new().await;
    setup_downloads(&fx);
    for target in [
        "/_downloads/../secret.txt",
        "/_downloads/releases/../../secret.txt",
        "/_downloads/%2e%2e/secret.txt",
        "/_downloads/releases%2F..%2F..%2Fsecret.txt",
        "/_downloads/..%5Csecret.txt",
    ] {
        let (head, body) = common::raw_get(fx.sandbox.base_url(), target).await;
        let answer = format!("{head}\n{}", String::from_utf8_lossy(&body));
        let status_line = answer.lines().next().unwrap();
        assert!(
            status_line.contains(" 400 ") || status_line.contains(" 404 "),
            "{target}: {status_line}"
        );
        assert!(!answer.contains("TOP SECRET"), "{target} leaked the file");
    }
    // A symlink inside _downloads that points outside is refused too.
    std::os::unix::fs::symlink(
        fx.root().join("secret.txt"),
        fx.root().join("_downloads/link.txt"),
    )
    .unwrap();
    let response = fx.get_web("/_downloads/link.txt").await;
    assert_eq!(response.status(), 400);
    assert!(!response.text().await.unwrap().contains("TOP SECRET"));
    // And the repositories are not reachable through it.
    assert!(fx.widgets_git(&["rev-parse", "main"]).len() == 40);
}
