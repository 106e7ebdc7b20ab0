//! No secret reaches anything people or other programs read: the App's private key, the JWTs
//! signed with it and every installation token minted during full runs (a success and a
//! failure) are absent from logs, the JSON report, the step summary, issue and pull request
//! bodies, comments and the alert payload.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use valkey_bot::commands::{Outputs, finish, with_notifications};
use valkey_bot::notify::actions::ActionsFormat;
use valkey_bot::notify::alert;
use valkey_bot::rehearse::{RunnerOptions, Stage};
use valkey_bot_core::{Environment, ReleaseRequest, Version};
use valkey_bot_github::MaskSink;

/// Receives every minted token, as `::add-mask::` would in GitHub Actions.
#[derive(Debug, Default)]
struct Tokens(Mutex<Vec<String>>);

impl MaskSink for Tokens {
    fn mask(&self, secret: &str) {
        self.0.lock().unwrap().push(secret.to_owned());
    }
}

/// Everything a run leaves for people to read.
async fn run_and_collect(
    stage: &Stage,
    tokens: &Arc<Tokens>,
    request: &ReleaseRequest,
) -> Vec<String> {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .event_format(ActionsFormat)
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::TRACE)
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    let mask: Arc<dyn MaskSink> = tokens.clone();
    let runner = stage
        .runner_with(
            stage.config().unwrap(),
            RunnerOptions {
                mask: Some(mask),
                ..RunnerOptions::default()
            },
        )
        .unwrap();
    let runner = with_notifications(runner, false).await;
    let report = runner.run(&runner.order(request, false)).await.unwrap();
    let summary_path = stage.root.join("summary.md");
    let report_path = stage.root.join("report.json");
    let outputs = Outputs {
        report: Some(&report_path),
        step_summary: Some(&summary_path),
        actions_groups: true,
        alerts: None,
    };
    finish(&report, &runner.server_url, &outputs).await.unwrap();
    drop(guard);

    let mut texts = vec![
        logs.text(),
        std::fs::read_to_string(&report_path).unwrap(),
        std::fs::read_to_string(&summary_path).unwrap(),
        valkey_bot::report::table(&report),
        format!("{report:?}"),
    ];
    if let Some(payload) = alert::payload(&report) {
        texts.push(payload.to_string());
    }
    let state = stage.sandbox.state().await;
    for repo in state.repos.values() {
        texts.extend(
            repo.issues
                .iter()
                .map(|i| format!("{}\n{}", i.title, i.body.clone().unwrap_or_default())),
        );
        texts.extend(repo.comments.iter().map(|c| c.body.clone()));
    }
    texts
}

#[tokio::test]
async fn no_token_key_or_jwt_appears_in_anything_a_run_leaves() {
    let stage = stage(&["9.1.0"]).await;
    let tokens = Arc::new(Tokens::default());
    let request = ReleaseRequest::local(Version::parse("9.1.0").unwrap(), Environment::Prod);
    let mut texts = run_and_collect(&stage, &tokens, &request).await;

    // A failure as well: a re-tagged release, with its comment and alert.
    let readme = file(&stage.root, "valkey-io/valkey-hashes", "main", "README");
    let forged: String = readme
        .lines()
        .map(
            |line| match line.strip_prefix("hash valkey-9.1.0.tar.gz sha256 ") {
                Some(rest) => format!(
                    "hash valkey-9.1.0.tar.gz sha256 {}{}\n",
                    "cd".repeat(32),
                    &rest[64..]
                ),
                None => format!("{line}\n"),
            },
        )
        .collect();
    assert_ne!(forged, readme);
    commit_file(
        &stage.root,
        "valkey-io/valkey-hashes",
        "main",
        "README",
        &forged,
        "Forge",
    );
    texts.extend(run_and_collect(&stage, &tokens, &request).await);
    assert!(
        texts.iter().any(|t| t.contains("security check failed")),
        "the failing run ran"
    );

    let tokens = tokens.0.lock().unwrap().clone();
    assert!(
        tokens.len() >= 4,
        "every task and the tracking issue minted a token: {}",
        tokens.len()
    );
    let key_lines: Vec<&str> = stage
        .private_key_pem()
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 20)
        .collect();
    assert!(!key_lines.is_empty());
    for text in &texts {
        for token in &tokens {
            assert!(
                !text.contains(token.as_str()),
                "a token leaked into: {text}"
            );
        }
        for line in &key_lines {
            assert!(!text.contains(line), "the private key leaked into: {text}");
        }
        assert!(!text.contains("eyJhbGciOi"), "a JWT leaked into: {text}");
        assert!(
            !text.contains("PRIVATE KEY"),
            "a key marker leaked into: {text}"
        );
    }
    stage.shutdown().await;
}
