//! The checksums task end to end: the real client, App auth and downloads against the sandbox.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use valkey_bot::outcome::Outcome;
use valkey_bot_sandbox::{FaultAction, FaultRule};

const HASHES: &str = "valkey-io/valkey-hashes";

fn lines_for(readme: &str, version: &str) -> Vec<String> {
    readme
        .lines()
        .filter(|l| l.starts_with(&hash_line_prefix(version)))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn first_release_then_a_rerun_that_commits_nothing() {
    let stage = stage(&["9.1.0"]).await;
    let before = file(&stage.root, HASHES, "main", "README");
    let report = run(&stage, &request("9.1.0", &["checksums"])).await;
    assert_eq!(outcome(&report, "checksums"), &Outcome::Done);

    let after = file(&stage.root, HASHES, "main", "README");
    let added = after
        .strip_prefix(&before)
        .expect("every earlier byte kept");
    let url = format!(
        "{}/valkey-io/valkey/archive/refs/tags/9.1.0.tar.gz",
        stage.sandbox.base_url()
    );
    let line = added.strip_suffix('\n').unwrap();
    let digest = line
        .strip_prefix("hash valkey-9.1.0.tar.gz sha256 ")
        .and_then(|rest| rest.strip_suffix(&format!(" {url}")))
        .unwrap();
    let archive = git_bytes(
        &stage.root,
        "valkey-io/valkey",
        &[
            "archive",
            "--format=tar.gz",
            "--prefix=valkey-9.1.0/",
            "9.1.0",
        ],
        &[],
    );
    assert_eq!(
        digest,
        valkey_bot_testkit::sha256(&archive).to_string(),
        "the digest of GitHub's archive bytes"
    );
    assert_eq!(
        subjects(&stage.root, HASHES, "main")[0],
        "Update hash for 9.1.0"
    );
    let log = git(&stage.root, HASHES, &["log", "-1", "--format=%an|%cn|%b"]);
    assert_eq!(
        log.trim(),
        "valkey-automation-bot[bot]|GitHub|",
        "signed by GitHub, no body"
    );

    let rerun = run(&stage, &request("9.1.0", &["checksums"])).await;
    assert_eq!(outcome(&rerun, "checksums"), &Outcome::UpToDate);
    assert_eq!(
        subjects(&stage.root, HASHES, "main").len(),
        2,
        "the seed commit, 9.1.0, nothing more"
    );
    stage.shutdown().await;
}

#[tokio::test]
async fn a_re_tagged_release_is_refused_and_nothing_is_written() {
    let stage = stage(&["9.1.0"]).await;
    let forged = forge_retag(&stage, "9.1.0");
    let report = run(&stage, &request("9.1.0", &["checksums"])).await;
    let (error, security) = failure(&report, "checksums");
    assert!(security, "{error}");
    assert!(error.contains(&"ab".repeat(32)), "{error}");
    assert_eq!(
        file(&stage.root, HASHES, "main", "README"),
        forged,
        "nothing written"
    );
    stage.shutdown().await;
}

#[tokio::test]
async fn an_explicit_replace_rewrites_the_one_line_in_place() {
    let stage = stage(&["9.1.0"]).await;
    let readme = file(&stage.root, HASHES, "main", "README");
    let url = format!(
        "{}/valkey-io/valkey/archive/refs/tags/9.1.0.tar.gz",
        stage.sandbox.base_url()
    );
    let later = "hash valkey-9.1.1.tar.gz sha256 0101010101010101010101010101010101010101010101010101010101010101 https://example.invalid/9.1.1\n";
    let forged = format!(
        "{readme}hash valkey-9.1.0.tar.gz sha256 {} {url}\n{later}",
        "ab".repeat(32)
    );
    commit_file(
        &stage.root,
        HASHES,
        "main",
        "README",
        &forged,
        "Update hash for 9.1.0",
    );
    let mut req = request("9.1.0", &["checksums"]);
    req.replace = true;
    let report = run(&stage, &req).await;
    assert_eq!(outcome(&report, "checksums"), &Outcome::Done);
    let after = file(&stage.root, HASHES, "main", "README");
    let lines = lines_for(&after, "9.1.0");
    assert_eq!(lines.len(), 1, "{after}");
    assert!(!lines[0].contains(&"ab".repeat(32)));
    assert!(
        after.starts_with(&readme) && after.ends_with(later),
        "replaced in place"
    );
    let body = git(&stage.root, HASHES, &["log", "-1", "--format=%b"]);
    assert!(
        body.contains(&format!("Old: {}", "ab".repeat(32))),
        "{body}"
    );
    assert_eq!(report.tasks[0].alerts.len(), 1);
    stage.shutdown().await;
}

#[tokio::test]
async fn a_file_without_a_final_newline_gets_one_before_the_new_line() {
    let stage = stage(&["9.1.0"]).await;
    let readme = file(&stage.root, HASHES, "main", "README");
    let glued = readme.trim_end_matches('\n').to_owned();
    commit_file(
        &stage.root,
        HASHES,
        "main",
        "README",
        &glued,
        "Drop the final newline",
    );
    run(&stage, &request("9.1.0", &["checksums"])).await;
    let after = file(&stage.root, HASHES, "main", "README");
    assert!(
        after.starts_with(&format!("{glued}\nhash valkey-9.1.0.tar.gz ")),
        "{after}"
    );
    assert!(after.ends_with(".tar.gz\n"));
    stage.shutdown().await;
}

#[tokio::test]
async fn a_build_digest_mismatch_stops_before_any_write() {
    let stage = stage(&["9.1.0"]).await;
    let before = subjects(&stage.root, HASHES, "main");
    let mut req = request("9.1.0", &["checksums"]);
    req.build_digests.insert(
        "valkey-9.1.0.tar.gz".into(),
        valkey_bot_core::Sha256Digest::from_bytes([7; 32]),
    );
    let report = run(&stage, &req).await;
    let (error, security) = failure(&report, "checksums");
    assert!(
        security && error.contains("the release build reported"),
        "{error}"
    );
    assert_eq!(subjects(&stage.root, HASHES, "main"), before);
    stage.shutdown().await;
}

/// Applies `action` to every download of a source archive (served by codeload, where the
/// github.com route redirects).
fn on_source_archives(stage: &valkey_bot::rehearse::Stage, action: FaultAction) {
    stage
        .sandbox
        .faults()
        .add(FaultRule::new(
            "GET",
            "/_codeload/valkey-io/valkey/**",
            action,
        ))
        .unwrap();
}

#[tokio::test]
async fn a_truncated_download_is_never_a_digest() {
    let stage = stage(&["9.1.0"]).await;
    let before = subjects(&stage.root, HASHES, "main");
    on_source_archives(&stage, FaultAction::Truncate { bytes: 10 });
    let report = run(&stage, &request("9.1.0", &["checksums"])).await;
    let (error, security) = failure(&report, "checksums");
    assert!(!security);
    assert!(error.contains("9.1.0.tar.gz"), "{error}");
    assert_eq!(
        subjects(&stage.root, HASHES, "main"),
        before,
        "nothing written"
    );
    stage.shutdown().await;
}

#[tokio::test]
async fn an_oversize_archive_is_refused() {
    let stage = stage(&["9.1.0"]).await;
    let mut config = stage.config().unwrap();
    config.downloads.max_bytes = 64;
    let runner = stage.runner(config).unwrap();
    let report = runner
        .run(&runner.order(&request("9.1.0", &["checksums"]), false))
        .await
        .unwrap();
    let (error, _) = failure(&report, "checksums");
    assert!(error.contains("64"), "{error}");
    stage.shutdown().await;
}

#[tokio::test]
async fn a_download_host_off_the_allowlist_is_refused() {
    let stage = stage(&["9.1.0"]).await;
    let mut config = stage.config().unwrap();
    config.downloads.allowed_hosts.clear();
    // The runner always allows the GitHub server itself; a runner for another server does not.
    let runner = stage.runner(config).unwrap();
    let mut req = request("9.1.0", &["checksums"]);
    req.tasks = Some(vec!["checksums".into()]);
    let other = valkey_bot::runner::Runner {
        server_url: stage.sandbox.base_url().replace("127.0.0.1", "localhost"),
        ..runner
    };
    let report = other.run(&other.order(&req, false)).await.unwrap();
    let (error, _) = failure(&report, "checksums");
    assert!(error.contains("localhost"), "{error}");
    stage.shutdown().await;
}

#[tokio::test]
async fn a_download_redirected_off_the_allowlist_is_refused_before_contact() {
    let stage = stage(&["9.1.0"]).await;
    let before = subjects(&stage.root, HASHES, "main");
    // A loopback server that is not on the allowlist, counting who connects.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let contacts = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = std::sync::Arc::clone(&contacts);
    let server = tokio::spawn(async move {
        while listener.accept().await.is_ok() {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    });
    on_source_archives(
        &stage,
        FaultAction::Redirect {
            location: format!("http://localhost:{port}/valkey-9.1.0.tar.gz"),
        },
    );
    let report = run(&stage, &request("9.1.0", &["checksums"])).await;
    let (error, security) = failure(&report, "checksums");
    assert!(!security);
    assert!(
        error.contains("\"localhost\" is not in the allowed hosts"),
        "{error}"
    );
    assert_eq!(
        contacts.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the redirect target was never contacted"
    );
    assert_eq!(
        subjects(&stage.root, HASHES, "main"),
        before,
        "nothing written"
    );

    stage.sandbox.faults().clear();
    let rerun = run(&stage, &request("9.1.0", &["checksums"])).await;
    assert_eq!(outcome(&rerun, "checksums"), &Outcome::Done);
    server.abort();
    stage.shutdown().await;
}

#[tokio::test]
async fn four_versions_released_at_once_lose_no_line() {
    let versions = ["9.1.0", "9.0.3", "8.1.5", "8.0.7"];
    let stage = stage(&versions).await;
    let runs = versions.map(|v| {
        let stage = &stage;
        async move { run(stage, &request(v, &["checksums"])).await }
    });
    let reports = futures::future::join_all(runs).await;
    for report in &reports {
        assert_eq!(
            report.tasks[0].outcome,
            Outcome::Done,
            "{:?}",
            report.tasks[0]
        );
    }
    let readme = file(&stage.root, HASHES, "main", "README");
    for version in versions {
        assert_eq!(lines_for(&readme, version).len(), 1, "{version}: {readme}");
    }
    let replans: u32 = reports.iter().map(|r| r.tasks[0].attempts).sum();
    assert!(replans >= 4, "each run planned at least once");
    stage.shutdown().await;
}

#[tokio::test]
async fn a_prod_event_missing_a_build_digest_stops_its_dependents_and_alerts() {
    let stage = stage(&["9.1.0"]).await;
    let before = subjects(&stage.root, HASHES, "main");
    let version = valkey_bot_core::Version::parse("9.1.0").unwrap();
    let mut req =
        valkey_bot_core::ReleaseRequest::local(version.clone(), valkey_bot_core::Environment::Prod);
    req.origin = valkey_bot_core::request::Origin::RepositoryDispatch {
        event_type: "valkey-release".into(),
    };
    // The build sent the digests of its binaries but not of the source archive.
    let digests = valkey_bot::rehearse::seed::build_digests(&stage.root, &version).unwrap();
    for (name, digest) in digests
        .iter()
        .filter(|(name, _)| *name != "valkey-9.1.0.tar.gz")
    {
        req.build_digests.insert(
            name.clone(),
            valkey_bot_core::Sha256Digest::parse(digest).unwrap(),
        );
    }
    let report = run(&stage, &req).await;
    let (error, security) = failure(&report, "checksums");
    assert!(
        security && error.contains("the release build sent no digest for valkey-9.1.0.tar.gz"),
        "{error}"
    );
    assert_eq!(
        outcome(&report, "artifacts"),
        &Outcome::UpToDate,
        "its own digests were all sent"
    );
    for dependent in ["container", "website", "bundle"] {
        assert!(
            matches!(outcome(&report, dependent), Outcome::Skipped { reason } if reason.contains("which did not succeed")),
            "{dependent}: {:?}",
            outcome(&report, dependent)
        );
    }
    assert_eq!(
        subjects(&stage.root, HASHES, "main"),
        before,
        "nothing written"
    );
    assert!(pulls(&stage, "valkey-io/valkey-container").await.is_empty());
    let state = stage.sandbox.state().await;
    assert!(
        state
            .repo("valkey-io/valkey-bundle")
            .is_none_or(|r| r.dispatches.is_empty()),
        "the bundle heard nothing"
    );
    let alert = valkey_bot::notify::alert::payload(&report).unwrap();
    let text = alert["text"].as_str().unwrap();
    assert!(text.contains("a security check failed"), "{text}");
    assert!(text.contains("valkey-9.1.0.tar.gz"), "{text}");

    // With every digest, the same event goes through.
    req.build_digests.insert(
        "valkey-9.1.0.tar.gz".into(),
        valkey_bot_core::Sha256Digest::parse(&digests["valkey-9.1.0.tar.gz"]).unwrap(),
    );
    let report = run(&stage, &req).await;
    assert!(!report.failed(), "{:?}", report.tasks);
    stage.shutdown().await;
}
