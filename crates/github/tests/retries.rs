//! The retry policy against injected faults: what is repeated, what is not, and why.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{Fixture, TOKEN, repo};
use valkey_bot_core::github::{
    Dispatches, FileWrite, GitHubError, Issues, PullRequestSpec, PullRequests, RepoRead, RepoWrite,
};
use valkey_bot_github::Credentials;
use valkey_bot_sandbox::{FaultAction, FaultRule};

fn after_effect_500() -> FaultAction {
    FaultAction::Status {
        status: 500,
        retry_after_secs: None,
        after_effect: true,
    }
}

fn rate_limited(code: u16, seconds: u64) -> FaultAction {
    FaultAction::Status {
        status: code,
        retry_after_secs: Some(seconds),
        after_effect: false,
    }
}

const MAIN_REF: &str = "/repos/acme/images/git/ref/heads/main";

#[tokio::test]
async fn reads_are_retried_through_500_502_and_503() {
    let fx = Fixture::new().await;
    let client = fx.client().await;
    for code in [500, 502, 503] {
        let before = fx.count("GET", &format!("/api/v3{MAIN_REF}"));
        let waits_before = fx.sleeper.waits().len();
        fx.fault(FaultRule::new("GET", MAIN_REF, FaultAction::status(code)).times(2));
        let head = client.branch_head(&repo("acme/images"), "main").await;
        assert_eq!(head.unwrap(), Some(fx.images.main.clone()), "after {code}");
        assert_eq!(fx.count("GET", &format!("/api/v3{MAIN_REF}")) - before, 3);
        assert_eq!(fx.sleeper.waits().len() - waits_before, 2);
    }
}

#[tokio::test]
async fn retries_are_bounded_by_attempts() {
    let fx = Fixture::new().await;
    let client = fx.client().await;
    fx.fault(FaultRule::new(
        "GET",
        "/repos/acme/images/contents/**",
        FaultAction::status(503),
    ));
    let error = client
        .read_file(&repo("acme/images"), "main", "README.md")
        .await
        .unwrap_err();
    assert!(matches!(error, GitHubError::Unavailable(_)), "{error:?}");
    assert!(error.to_string().contains("after 4 attempts"), "{error}");
    assert_eq!(
        fx.count("GET", "/api/v3/repos/acme/images/contents/README.md"),
        4
    );
    let waits = fx.sleeper.waits();
    assert_eq!(waits.len(), 3);
    // Full jitter under a doubling cap (base 1 ms in these tests).
    for (retry, wait) in waits.iter().enumerate() {
        assert!(*wait <= Duration::from_millis(1 << retry), "{waits:?}");
    }
}

#[tokio::test]
async fn a_secondary_rate_limit_is_waited_out_even_for_creates() {
    let fx = Fixture::new().await;
    let client = fx.client().await;
    // GitHub checks rate limits before it acts, so a refused create is safe to repeat.
    fx.fault(FaultRule::new("POST", "/repos/acme/images/issues", rate_limited(403, 2)).times(1));
    fx.fault(FaultRule::new("POST", "/repos/acme/images/issues", rate_limited(429, 3)).times(1));
    let issue = client
        .create_issue(&repo("acme/images"), "Tracking", "body", "release")
        .await
        .unwrap();
    assert_eq!(
        fx.sleeper.waits(),
        vec![Duration::from_secs(2), Duration::from_secs(3)],
        "the waits GitHub asked for"
    );
    assert_eq!(fx.count("POST", "/api/v3/repos/acme/images/issues"), 3);
    let state = fx.sandbox.state().await;
    let issues = &state.repo("acme/images").unwrap().issues;
    assert_eq!(issues.len(), 1, "exactly one issue");
    assert_eq!(issues[0].number, issue.number);
}

#[tokio::test]
async fn a_pull_request_create_is_not_retried_after_an_after_effect_500() {
    // The 500 comes after the pull request was opened. A client cannot tell that from a 500
    // that came before: repeating would, on GitHub, be refused as "already exists" (hiding that
    // the first attempt worked) or, for issues and comments, make a duplicate. So a create is
    // never repeated after an ambiguous failure; the runner looks with `find_open` instead.
    let fx = Fixture::new().await;
    let client = fx.client().await;
    let images = repo("acme/images");
    fx.fault(FaultRule::new("POST", "/repos/acme/images/pulls", after_effect_500()).times(1));
    let spec = PullRequestSpec {
        head_branch: "update/9.1".into(),
        base_branch: "main".into(),
        title: "Update 9.1".into(),
        body: "b".into(),
    };
    let error = client.open(&images, &spec).await.unwrap_err();
    assert!(matches!(error, GitHubError::Unavailable(_)), "{error:?}");
    assert!(
        error.to_string().contains("may have taken effect"),
        "{error}"
    );
    assert_eq!(fx.count("POST", "/api/v3/repos/acme/images/pulls"), 1);
    assert!(fx.sleeper.waits().is_empty());
    let state = fx.sandbox.state().await;
    assert_eq!(state.repo("acme/images").unwrap().pulls().count(), 1);
    let found = client.find_open(&images, "update/9.1").await.unwrap();
    assert_eq!(found.unwrap().head_commit, fx.images.update);
}

#[tokio::test]
async fn comments_and_dispatches_are_not_retried_after_a_5xx_or_a_dropped_connection() {
    let fx = Fixture::new().await;
    let client = fx.client().await;
    let images = repo("acme/images");
    fx.fault(
        FaultRule::new(
            "POST",
            "/repos/acme/images/issues/*/comments",
            FaultAction::status(502),
        )
        .times(1),
    );
    fx.fault(FaultRule::new("POST", "/repos/acme/images/dispatches", FaultAction::Drop).times(1));
    let issue = client
        .create_issue(&images, "Tracking", "body", "release")
        .await
        .unwrap();
    let comment = client
        .comment(&images, issue.number, "hi")
        .await
        .unwrap_err();
    assert!(
        matches!(comment, GitHubError::Unavailable(_)),
        "{comment:?}"
    );
    let dispatch = client
        .dispatch(&images, "valkey-release", &serde_json::json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(dispatch, GitHubError::Unavailable(_)),
        "{dispatch:?}"
    );
    assert_eq!(
        fx.count(
            "POST",
            &format!("/api/v3/repos/acme/images/issues/{}/comments", issue.number)
        ),
        1
    );
    assert_eq!(fx.count("POST", "/api/v3/repos/acme/images/dispatches"), 1);
    assert!(fx.sleeper.waits().is_empty());
}

#[tokio::test]
async fn ref_writes_are_retried_after_an_after_effect_500_and_recognised_as_done() {
    let fx = Fixture::new().await;
    let client = fx.client().await;
    let images = repo("acme/images");
    let file = FileWrite {
        path: "a.txt".into(),
        content: Some(Bytes::from_static(b"a\n")),
        executable: false,
    };
    let commit = client
        .create_commit(&images, &fx.images.main, &[file], "A")
        .await
        .unwrap();
    // A fast-forward repeated after it took effect is a move to where the branch already is.
    fx.fault(
        FaultRule::new(
            "PATCH",
            "/repos/acme/images/git/refs/heads/main",
            after_effect_500(),
        )
        .times(1),
    );
    client
        .move_branch(&images, "main", &commit, false)
        .await
        .unwrap();
    assert_eq!(
        fx.count("PATCH", "/api/v3/repos/acme/images/git/refs/heads/main"),
        2
    );
    assert_eq!(fx.git(&["rev-parse", "main"]), commit);

    // A repeated branch creation answers "already exists"; the branch is at our commit: done.
    fx.fault(FaultRule::new("POST", "/repos/acme/images/git/refs", after_effect_500()).times(1));
    client
        .create_branch(&images, "bot/x", &commit)
        .await
        .unwrap();
    assert_eq!(fx.count("POST", "/api/v3/repos/acme/images/git/refs"), 2);
    assert_eq!(fx.git(&["rev-parse", "bot/x"]), commit);
}

#[tokio::test]
async fn a_forced_move_is_not_retried_after_a_500() {
    // Repeating a forced move after it took effect could undo a push made in between.
    let fx = Fixture::new().await;
    let client = fx.client().await;
    fx.fault(
        FaultRule::new(
            "PATCH",
            "/repos/acme/images/git/refs/heads/main",
            FaultAction::status(500),
        )
        .times(1),
    );
    let error = client
        .move_branch(&repo("acme/images"), "main", &fx.images.first, true)
        .await
        .unwrap_err();
    assert!(matches!(error, GitHubError::Unavailable(_)), "{error:?}");
    assert_eq!(
        fx.count("PATCH", "/api/v3/repos/acme/images/git/refs/heads/main"),
        1
    );
}

#[tokio::test]
async fn conflicts_and_validation_errors_are_never_retried() {
    let fx = Fixture::new().await;
    let client = fx.client().await;
    let images = repo("acme/images");
    fx.fault(
        FaultRule::new(
            "PATCH",
            "/repos/acme/images/git/refs/heads/main",
            FaultAction::status(409),
        )
        .times(1),
    );
    fx.fault(
        FaultRule::new(
            "PATCH",
            "/repos/acme/images/issues/*",
            FaultAction::status(422),
        )
        .times(1),
    );
    let conflict = client
        .move_branch(&images, "main", &fx.images.update, false)
        .await
        .unwrap_err();
    assert!(matches!(conflict, GitHubError::Conflict(_)), "{conflict:?}");
    assert_eq!(
        fx.count("PATCH", "/api/v3/repos/acme/images/git/refs/heads/main"),
        1
    );
    let issue = client
        .create_issue(&images, "Tracking", "body", "release")
        .await
        .unwrap();
    let rejected = client
        .edit_issue(&images, issue.number, "new")
        .await
        .unwrap_err();
    assert!(matches!(rejected, GitHubError::Rejected(_)), "{rejected:?}");
    assert_eq!(
        fx.count(
            "PATCH",
            &format!("/api/v3/repos/acme/images/issues/{}", issue.number)
        ),
        1
    );
    assert!(fx.sleeper.waits().is_empty());
}

#[tokio::test]
async fn a_stalled_read_times_out_and_is_retried() {
    let fx = Fixture::new().await;
    let credentials = Credentials::Token(TOKEN.to_owned().into());
    let github = fx.github_with(&credentials, |config| {
        config.read_timeout = Duration::from_millis(300);
    });
    let client = github
        .client_for(common::scope("acme/images", &common::all_write()))
        .await
        .unwrap();
    fx.fault(FaultRule::new("GET", MAIN_REF, FaultAction::Stall).times(1));
    let head = client
        .branch_head(&repo("acme/images"), "main")
        .await
        .unwrap();
    assert_eq!(head, Some(fx.images.main.clone()));
    assert_eq!(fx.sleeper.waits().len(), 1);
}

#[tokio::test]
async fn connect_errors_are_retried_even_for_creates() {
    // Nothing listens on the port: the request never left, so even a create may be repeated.
    // The socket is bound but never listens, so connections are refused and no other test can
    // take the port while this one runs.
    let fx = Fixture::new().await;
    let reserved = tokio::net::TcpSocket::new_v4().unwrap();
    reserved.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = reserved.local_addr().unwrap().port();
    let credentials = Credentials::Token(TOKEN.to_owned().into());
    let github = fx.github_with(&credentials, |config| {
        *config = valkey_bot_github::GitHubConfig {
            retry: config.retry.clone(),
            ..valkey_bot_github::GitHubConfig::for_api(format!("http://127.0.0.1:{port}/api/v3"))
        };
    });
    let client = github
        .client_for(common::scope("acme/images", &common::all_write()))
        .await
        .unwrap();
    let error = client
        .create_issue(&repo("acme/images"), "t", "b", "l")
        .await
        .unwrap_err();
    assert!(matches!(error, GitHubError::Unavailable(_)), "{error:?}");
    assert!(error.to_string().contains("could not connect"), "{error}");
    assert!(error.to_string().contains("after 4 attempts"), "{error}");
    assert_eq!(fx.sleeper.waits().len(), 3);
    assert!(!error.to_string().contains(TOKEN));
}
