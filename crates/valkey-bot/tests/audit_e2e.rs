//! `valkey-bot audit` against the sandbox: a release of 9.1.0 is made and its pull requests
//! merged, then each drift the history shows is seeded by hand, and the audit must name it, where
//! it is, and the fix; the consistent seed must be all ok.
#![allow(clippy::unwrap_used)]

mod common;

use valkey_bot::audit::{
    AuditReport, ISSUE_LABEL, ISSUE_TITLE, IssueAction, fix_text, keep_issue, markdown, table,
};
use valkey_bot::rehearse::Stage;
use valkey_bot_core::audit::{Fix, Verdict};
use valkey_bot_core::github::Issues;
use valkey_bot_core::{Environment, ReleaseRequest, RepoId, Version};
use valkey_bot_sandbox::{FaultAction, FaultRule};

const HASHES: &str = "valkey-io/valkey-hashes";
const CONTAINER: &str = "valkey-io/valkey-container";
const WEBSITE: &str = "valkey-io/valkey-io.github.io";
const DOCS: &str = "valkey-io/valkey-doc";

/// A stage after the release of 9.1.0, every pull request merged.
async fn released() -> Stage {
    let stage = common::stage(&["9.1.0"]).await;
    let request = ReleaseRequest::local(Version::parse("9.1.0").unwrap(), Environment::Prod);
    let report = common::run(&stage, &request).await;
    assert!(!report.failed(), "{report:?}");
    stage.merge_pull_requests(&report).unwrap();
    stage
}

async fn audit(stage: &Stage) -> AuditReport {
    let report = stage
        .auditor(stage.config().unwrap(), false)
        .await
        .unwrap()
        .audit()
        .await;
    common::assert_github_contract(stage);
    report
}

/// The drift `task` found for `subject` in `check`: what, where, and the fix as printed.
fn drift(report: &AuditReport, task: &str, subject: &str, check: &str) -> (String, String, String) {
    match report.verdict(task, subject, check) {
        Some(Verdict::Drift { what, at, fix }) => (
            what.clone(),
            at.as_ref().map(ToString::to_string).unwrap_or_default(),
            fix_text(task, fix),
        ),
        other => panic!(
            "{task}/{check} of {subject}: expected drift, got {other:?}\n{}",
            table(report)
        ),
    }
}

/// Replaces `from` by `to` in `path` of `repo`'s `branch`.
fn edit(stage: &Stage, repo: &str, branch: &str, path: &str, edit: impl Fn(String) -> String) {
    let before = common::file(&stage.root, repo, branch, path);
    let after = edit(before.clone());
    assert_ne!(before, after, "the edit of {repo}:{path} changed nothing");
    common::commit_file(&stage.root, repo, branch, path, &after, "A hand edit");
}

#[tokio::test]
async fn a_consistent_release_history_is_all_ok_and_the_report_counts_requests() {
    let stage = released().await;
    let report = audit(&stage).await;
    assert!(report.consistent, "{}", table(&report));
    assert_eq!(
        report.releases,
        ["8.0.6", "8.1.4", "9.0.1", "9.0.2", "9.1.0"]
    );
    for (task, finding) in report.findings() {
        assert!(
            matches!(finding.verdict, Verdict::Ok | Verdict::NotApplicable { .. }),
            "{task}/{} of {}: {:?}",
            finding.check,
            finding.subject,
            finding.verdict
        );
    }
    for (task, check) in [
        ("checksums", "one-digest"),
        ("container", "archive"),
        ("container", "dockerfiles"),
        ("website", "tags"),
        ("website", "binaries"),
        ("docs", "makefile"),
    ] {
        assert_eq!(
            report.verdict(task, "9.1.0", check),
            Some(&Verdict::Ok),
            "{task}/{check}"
        );
    }
    // Each file is read once: one README, one versions.json, however many audits use them.
    assert_eq!(
        report.requests.get(HASHES),
        Some(&2),
        "{:?}",
        report.requests
    );
    assert!(report.requests.contains_key(CONTAINER));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.json");
    let status = valkey_bot::audit::finish(&report, Some(&path)).unwrap();
    assert_eq!(status, valkey_bot::commands::Status::Success);
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(json["consistent"], true);
    assert_eq!(json["requests"][HASHES], 2);
    assert_eq!(json["tasks"][0]["task"], "checksums");
    assert!(table(&report).ends_with("everything is consistent\n"));
}

#[tokio::test]
async fn a_digest_appended_twice_with_different_values_needs_a_person() {
    let stage = released().await;
    let forged = common::forge_retag(&stage, "9.0.2");
    let line = forged.lines().count();
    let report = audit(&stage).await;
    assert!(!report.consistent);
    let (what, at, fix) = drift(&report, "checksums", "9.0.2", "one-digest");
    assert!(what.contains("different digests"), "{what}");
    assert!(
        what.contains(&format!("line {line}: {}", "ab".repeat(32))),
        "{what}"
    );
    assert_eq!(at, format!("README:{line}"));
    assert!(
        fix.starts_with("by hand: find out which archive of 9.0.2 is genuine"),
        "{fix}"
    );
    // The container repository takes the last line: its 9.0 line now disagrees with it.
    let (what, _, fix) = drift(&report, "container", "9.0.2", "archive");
    assert!(
        what.contains(&format!("(the hashes file: {})", "ab".repeat(32))),
        "{what}"
    );
    assert!(fix.starts_with("by hand:"), "{fix}");
    assert_eq!(
        report.verdict("checksums", "9.1.0", "one-digest"),
        Some(&Verdict::Ok)
    );
}

#[tokio::test]
async fn an_overwritten_placeholder_and_a_missing_final_newline_are_named_with_their_line() {
    let stage = released().await;
    edit(&stage, HASHES, "main", "README", |text| {
        text.replacen(&"0".repeat(64), &"1".repeat(64), 1)
            .trim_end_matches('\n')
            .to_owned()
    });
    let readme = common::file(&stage.root, HASHES, "main", "README");
    let line = readme
        .lines()
        .position(|l| l.starts_with("hash valkey-unstable.tar.gz"))
        .unwrap()
        + 1;
    let report = audit(&stage).await;
    let (what, at, fix) = drift(&report, "checksums", "all", "placeholder");
    assert_eq!(
        what,
        format!("the `unstable` placeholder on line {line} was changed")
    );
    assert_eq!(at, format!("README:{line}"));
    assert_eq!(
        fix,
        format!(
            "by hand: restore line {line} to `{}`",
            valkey_bot_task_checksums::PLACEHOLDER
        )
    );
    let (what, _, fix) = drift(&report, "checksums", "all", "final-newline");
    assert_eq!(what, "`README` does not end with a newline");
    assert!(
        fix.starts_with("by hand: add a newline at the end of `README`"),
        "{fix}"
    );
}

#[tokio::test]
async fn a_three_field_line_is_drift_at_its_line_and_the_rest_is_still_checked() {
    let stage = released().await;
    edit(&stage, HASHES, "main", "README", |text| {
        format!("{text}hash valkey-9.1.1.tar.gz sha256\n")
    });
    let line = common::file(&stage.root, HASHES, "main", "README")
        .lines()
        .count();
    let report = audit(&stage).await;
    let (what, at, fix) = drift(&report, "checksums", "all", "format");
    assert_eq!(
        what,
        format!(
            "line {line} is not a hash line: 3 space-separated fields, expected 5 (`hash <file> sha256 <digest> <url>`)"
        )
    );
    assert_eq!(at, format!("README:{line}"));
    assert!(
        fix.starts_with(&format!("by hand: rewrite line {line} of `README`")),
        "{fix}"
    );
    assert_eq!(
        report.verdict("checksums", "9.1.0", "one-line"),
        Some(&Verdict::Ok)
    );
    assert_eq!(
        report.verdict("container", "9.1.0", "archive"),
        Some(&Verdict::Ok)
    );
}

#[tokio::test]
async fn docs_left_on_the_previous_line_are_fixed_by_a_rerun_of_docs() {
    let stage = released().await;
    edit(&stage, DOCS, "main", "Makefile", |text| {
        text.replace("VERSION ?= 9.1.0", "VERSION ?= 9.0.0")
    });
    edit(&stage, DOCS, "main", "topics/releases.md", |text| {
        text.lines()
            .filter(|l| !l.starts_with("| 9.1 |"))
            .map(|l| format!("{l}\n"))
            .collect()
    });
    let report = audit(&stage).await;
    let (what, at, fix) = drift(&report, "docs", "9.1.0", "makefile");
    assert_eq!(what, "`Makefile`'s `VERSION ?=` is not 9.1.0");
    assert_eq!(at, "Makefile");
    assert_eq!(fix, "valkey-bot run --version 9.1.0 --only docs");
    let (what, _, fix) = drift(&report, "docs", "9.1.0", "row");
    assert_eq!(what, "`topics/releases.md` has no row for 9.1");
    assert_eq!(fix, "valkey-bot run --version 9.1.0 --only docs");
    assert_eq!(
        report.verdict("docs", "9.1.0", "conf-link"),
        Some(&Verdict::Ok)
    );
}

#[tokio::test]
async fn a_container_line_whose_digest_and_files_disagree_and_a_page_with_other_tags() {
    let stage = released().await;
    let recorded = common::file(&stage.root, HASHES, "main", "README");
    let digest = recorded
        .lines()
        .find(|l| l.starts_with("hash valkey-9.1.0.tar.gz "))
        .and_then(|l| l.split(' ').nth(3))
        .unwrap()
        .to_owned();
    edit(&stage, CONTAINER, "mainline", "versions.json", |text| {
        text.replace(&digest, &"cd".repeat(32))
    });
    edit(
        &stage,
        WEBSITE,
        "main",
        "content/download/releases/v9-1-0.md",
        |text| text.replace("\"9.1.0-alpine\"", "\"9.1.0-alpine3.0\""),
    );
    let report = audit(&stage).await;
    let (what, at, fix) = drift(&report, "container", "9.1.0", "archive");
    assert_eq!(
        what,
        format!(
            "line 9.1 disagrees with the last hashes line of 9.1.0: sha256 {} (the hashes file: {digest})",
            "cd".repeat(32)
        )
    );
    assert_eq!(at, "versions.json");
    assert!(fix.contains("which digest of 9.1.0 is genuine"), "{fix}");
    // The Dockerfiles carry the digest: rendered from versions.json, they differ from the files.
    let (what, _, fix) = drift(&report, "container", "9.1.0", "dockerfiles");
    assert!(what.contains("9.1/debian/Dockerfile"), "{what}");
    assert_eq!(fix, "valkey-bot run --version 9.1.0 --only container");
    let (what, at, fix) = drift(&report, "website", "9.1.0", "tags");
    assert!(what.contains("9.1.0-alpine3.0"), "{what}");
    assert_eq!(at, "content/download/releases/v9-1-0.md");
    assert_eq!(fix, "valkey-bot run --version 9.1.0 --only website");
    assert_eq!(
        report.verdict("container", "all", "latest"),
        Some(&Verdict::Ok)
    );
}

#[tokio::test]
async fn latest_on_the_wrong_line_is_drift() {
    let stage = released().await;
    edit(
        &stage,
        CONTAINER,
        "mainline",
        "generate-stackbrew-library.sh",
        |text| text.replace("\t[8.1]='8'", "\t[8.1]='8 latest'"),
    );
    let report = audit(&stage).await;
    let (what, at, fix) = drift(&report, "container", "all", "latest");
    assert_eq!(
        what,
        "`latest` is carried by 8.1, 9.1, but the newest final line is 9.1"
    );
    assert_eq!(at, "generate-stackbrew-library.sh");
    assert!(fix.starts_with("by hand:"), "{fix}");
}

#[tokio::test]
async fn versions_json_that_is_not_an_object_is_drift_and_its_dependents_are_unknown() {
    let stage = released().await;
    edit(&stage, CONTAINER, "mainline", "versions.json", |_| {
        "[\n  \"9.1\"\n]\n".to_owned()
    });
    let report = audit(&stage).await;
    let (what, at, fix) = drift(&report, "container", "all", "versions-json");
    assert_eq!(
        what,
        "versions.json: malformed versions.json: the top level is not an object"
    );
    assert_eq!(at, "versions.json");
    assert!(fix.starts_with("by hand: repair `versions.json`"), "{fix}");
    assert!(matches!(
        report.verdict("website", "9.1.0", "tags"),
        Some(Verdict::Unknown { why }) if why.contains("published-image-tags")
    ));
    assert!(!report.consistent);
}

#[tokio::test]
async fn a_new_final_release_without_its_chores_is_fixed_by_reruns() {
    let stage = released().await;
    common::git(&stage.root, "valkey-io/valkey", &["tag", "9.1.1"]);
    let report = audit(&stage).await;
    for (task, check) in [
        ("checksums", "recorded"),
        ("container", "current"),
        ("website", "page"),
    ] {
        let (_, _, fix) = drift(&report, task, "9.1.1", check);
        assert_eq!(fix, format!("valkey-bot run --version 9.1.1 --only {task}"));
    }
    let (what, ..) = drift(&report, "container", "9.1.1", "current");
    assert_eq!(
        what,
        "line 9.1 is at 9.1.0, not at its newest release 9.1.1"
    );
}

#[tokio::test]
async fn an_unreachable_repository_or_download_host_is_unknown_never_ok() {
    let stage = released().await;
    let faults = stage.sandbox.faults();
    faults
        .add(FaultRule::new(
            "GET",
            "/repos/valkey-io/valkey-hashes/**",
            FaultAction::status(503),
        ))
        .unwrap();
    faults
        .add(FaultRule::new(
            "GET",
            "/_downloads/**",
            FaultAction::status(503),
        ))
        .unwrap();
    let report = audit(&stage).await;
    assert!(!report.consistent);
    assert!(matches!(
        report.verdict("checksums", "all", "audit"),
        Some(Verdict::Unknown { .. })
    ));
    assert!(matches!(
        report.verdict("container", "9.1.0", "archive"),
        Some(Verdict::Unknown { why }) if why.contains("recorded-archives")
    ));
    assert!(matches!(
        report.verdict("website", "9.1.0", "binaries"),
        Some(Verdict::Unknown { .. })
    ));
    assert!(table(&report).contains("unknown: all checksums/audit:"));
}

#[tokio::test]
async fn the_consistency_issue_is_opened_updated_and_closed() {
    let stage = released().await;
    let repo = RepoId::parse("valkey-io/valkey-automation-bot").unwrap();
    let permissions = std::collections::BTreeMap::from([(
        valkey_bot_core::config::Permission::Issues,
        valkey_bot_core::config::Access::Write,
    )]);
    let issues = stage
        .app()
        .unwrap()
        .client_for(valkey_bot_github::TokenScope::new(
            repo.clone(),
            permissions,
        ))
        .await
        .unwrap();
    let consistent = audit(&stage).await;
    assert_eq!(
        keep_issue(&issues, &repo, &consistent).await.unwrap(),
        IssueAction::Nothing
    );
    common::forge_retag(&stage, "9.0.2");
    let drifted = audit(&stage).await;
    let IssueAction::Opened(number) = keep_issue(&issues, &repo, &drifted).await.unwrap() else {
        panic!("expected an opened issue")
    };
    let open = issues
        .find_issue(&repo, ISSUE_TITLE, ISSUE_LABEL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(open.body, markdown(&drifted));
    assert!(
        open.body.contains("| 9.0.2 | checksums/one-digest |"),
        "{}",
        open.body
    );
    assert_eq!(
        keep_issue(&issues, &repo, &drifted).await.unwrap(),
        IssueAction::Updated(number)
    );
    assert_eq!(
        keep_issue(&issues, &repo, &consistent).await.unwrap(),
        IssueAction::Closed(number)
    );
    assert_eq!(
        issues
            .find_issue(&repo, ISSUE_TITLE, ISSUE_LABEL)
            .await
            .unwrap(),
        None
    );
    let state = stage.sandbox.state().await;
    let issue = state
        .repo("valkey-io/valkey-automation-bot")
        .unwrap()
        .issue(number)
        .unwrap();
    assert_eq!(issue.state, "closed");
    common::assert_github_contract(&stage);
}

#[test]
fn a_rerun_fix_is_the_exact_command() {
    let fix = Fix::Rerun {
        version: Version::parse("9.1.1").unwrap(),
    };
    assert_eq!(
        fix_text("container", &fix),
        "valkey-bot run --version 9.1.1 --only container"
    );
}
