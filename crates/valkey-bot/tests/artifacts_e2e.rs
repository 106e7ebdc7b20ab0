//! The artifacts task end to end: the real downloader against the sandbox's `_downloads/`.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use valkey_bot::outcome::Outcome;

fn artifact(stage: &valkey_bot::rehearse::Stage, name: &str) -> std::path::PathBuf {
    stage.root.join("_downloads").join("releases").join(name)
}

#[tokio::test]
async fn published_artifacts_are_verified() {
    let stage = stage(&["9.1.0"]).await;
    let report = run(&stage, &request("9.1.0", &["artifacts"])).await;
    assert_eq!(outcome(&report, "artifacts"), &Outcome::UpToDate);
    let verified = report.tasks[0].outputs["verified-artifacts"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(verified.len(), 4);
    let url = format!(
        "{}/_downloads/releases/valkey-9.1.0-jammy-x86_64.tar.gz",
        stage.sandbox.base_url()
    );
    assert_eq!(verified[0]["url"], url.as_str());
    let bytes = std::fs::read(artifact(&stage, "valkey-9.1.0-jammy-x86_64.tar.gz")).unwrap();
    assert_eq!(
        verified[0]["sha256"],
        valkey_bot_testkit::sha256(&bytes).to_string().as_str()
    );
    stage.shutdown().await;
}

#[tokio::test]
async fn a_missing_artifact_fails_naming_it() {
    let stage = stage(&["9.1.0"]).await;
    std::fs::remove_file(artifact(&stage, "valkey-9.1.0-noble-arm64.tar.gz.sha256")).unwrap();
    let report = run(&stage, &request("9.1.0", &["artifacts"])).await;
    let (error, security) = failure(&report, "artifacts");
    assert!(!security);
    assert_eq!(
        error,
        format!(
            "checksum file is missing: {}/_downloads/releases/valkey-9.1.0-noble-arm64.tar.gz.sha256",
            stage.sandbox.base_url()
        )
    );
    stage.shutdown().await;
}

#[tokio::test]
async fn a_mismatching_artifact_is_a_security_failure() {
    let stage = stage(&["9.1.0"]).await;
    std::fs::write(
        artifact(&stage, "valkey-9.1.0-jammy-arm64.tar.gz"),
        b"replaced after publishing",
    )
    .unwrap();
    let report = run(&stage, &request("9.1.0", &["artifacts"])).await;
    let (error, security) = failure(&report, "artifacts");
    assert!(security, "{error}");
    assert!(
        error.contains("valkey-9.1.0-jammy-arm64.tar.gz: SHA-256 mismatch"),
        "{error}"
    );
    stage.shutdown().await;
}
