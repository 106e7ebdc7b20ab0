//! The fetcher seen through core's `Downloads` interface, as tasks use it.

mod support;

use support::{Server, ok, policy, sha256_hex, status};
use valkey_bot_core::download::Downloads;
use valkey_bot_fetch::{Fetcher, ProgressMode};

#[tokio::test]
async fn digests_small_files_and_not_found_through_the_task_interface() {
    let server = Server::start(|seen, _| match seen.path.as_str() {
        "/valkey-9.1.1-noble-x86_64.tar.gz" => ok(b"tarball"),
        "/valkey-9.1.1-noble-x86_64.tar.gz.sha256" => {
            ok(b"abc  valkey-9.1.1-noble-x86_64.tar.gz\n")
        }
        _ => status("404 Not Found"),
    })
    .await;
    let fetcher = Fetcher::builder(policy())
        .progress(ProgressMode::Quiet)
        .build()
        .expect("client builds");
    let downloads: &dyn Downloads = &fetcher;

    let tarball = server.url("/valkey-9.1.1-noble-x86_64.tar.gz").to_string();
    let digested = downloads.digest(&tarball).await.expect("digest");
    assert_eq!(digested.sha256.to_string(), sha256_hex(b"tarball"));
    assert_eq!(
        (digested.url.as_str(), digested.bytes),
        (tarball.as_str(), 7)
    );

    let checksum = downloads
        .small_file(&format!("{tarball}.sha256"), 4096)
        .await
        .expect("small file");
    assert_eq!(&checksum[..], b"abc  valkey-9.1.1-noble-x86_64.tar.gz\n");

    let missing = server.url("/valkey-9.1.1-jammy-arm64.tar.gz").to_string();
    let error = downloads.digest(&missing).await.expect_err("404");
    assert!(error.not_found, "{error}");
    assert_eq!(error.url, missing);

    let error = downloads.digest("not a url").await.expect_err("bad URL");
    assert!(!error.not_found);
    assert!(error.reason.starts_with("not a URL"), "{error}");
}
