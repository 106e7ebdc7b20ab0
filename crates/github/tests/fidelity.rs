//! The client against what real GitHub does that a kind fake would not: files over the contents
//! API's 1 MB cut-off, labels a token may not create and labels dropped from a new issue.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bytes::Bytes;
use common::{Fixture, repo};
use valkey_bot_core::config::{Access, Permission};
use valkey_bot_core::github::{
    FileWrite, GitHubError, Issues, PullRequestSpec, PullRequests, RepoRead, RepoWrite,
};

/// A pull request from `update/9.1` into `main`.
fn update_pull() -> PullRequestSpec {
    PullRequestSpec {
        head_branch: "update/9.1".into(),
        base_branch: "main".into(),
        title: "Update".into(),
        body: String::new(),
    }
}

#[tokio::test]
async fn a_file_over_one_megabyte_is_read_through_its_blob() {
    let fx = Fixture::new().await;
    let client = fx.client().await;
    let images = repo("acme/images");
    let big: Vec<u8> = (0..1_500_000u32).map(|n| (n % 251) as u8).collect();
    let commit = client
        .create_commit(
            &images,
            &fx.images.main,
            &[FileWrite {
                path: "big.bin".into(),
                content: Some(Bytes::from(big.clone())),
                executable: false,
            }],
            "Add a big file",
        )
        .await
        .unwrap();
    let read = client.read_file(&images, &commit, "big.bin").await.unwrap();
    assert_eq!(read.as_deref(), Some(&big[..]));
    let blob_reads = fx.count_where(|entry| {
        entry.method == "GET"
            && entry
                .path
                .starts_with("/api/v3/repos/acme/images/git/blobs/")
    });
    assert_eq!(
        blob_reads, 1,
        "the contents answer had no bytes; the blob was read"
    );
    // A small file comes inline, without a blob read.
    client
        .read_file(&images, &commit, "README.md")
        .await
        .unwrap()
        .unwrap();
    let blob_reads_after = fx.count_where(|entry| entry.path.contains("/git/blobs/"));
    assert_eq!(blob_reads_after, 1);
}

#[tokio::test]
async fn a_missing_label_is_created_or_its_permission_named() {
    let fx = Fixture::new().await;
    let images = repo("acme/images");
    let client = fx.client().await;
    let pull = client.open(&images, &update_pull()).await.unwrap();
    client
        .add_labels(&images, pull.number, &["valkey-bot: run failed".into()])
        .await
        .unwrap();
    let state = fx.sandbox.state().await;
    let labels = &state.repo("acme/images").unwrap().labels;
    assert_eq!(labels.len(), 1, "created explicitly");
    assert_eq!(labels[0].name, "valkey-bot: run failed");
    let found = client
        .find_open(&images, "update/9.1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.labels, ["valkey-bot: run failed"]);
}

#[tokio::test]
async fn with_an_app_token_that_may_not_create_labels_the_error_names_the_permission() {
    let fx = Fixture::with_app().await;
    let images = repo("acme/images");
    let writer = fx
        .client_scoped(
            "acme/images",
            &[
                (Permission::Contents, Access::Write),
                (Permission::PullRequests, Access::Write),
            ],
        )
        .await;
    let pull = writer.open(&images, &update_pull()).await.unwrap();
    let error = writer
        .add_labels(&images, pull.number, &["missing".into()])
        .await
        .unwrap_err();
    let GitHubError::Forbidden(text) = &error else {
        panic!("{error:?}");
    };
    assert!(text.contains("issues: write"), "{text}");
    assert!(text.contains("`missing`"), "{text}");

    // A token with issues but no contents: the label of the new issue is created and kept,
    // and the issue is found again by its label.
    let tracker = fx
        .client_scoped("acme/images", &[(Permission::Issues, Access::Write)])
        .await;
    let issue = tracker
        .create_issue(&images, "Release 9.1.0", "- [ ] x", "release-tracking")
        .await
        .unwrap();
    let found = tracker
        .find_issue(&images, "Release 9.1.0", "release-tracking")
        .await
        .unwrap();
    assert_eq!(found.map(|f| f.number), Some(issue.number));
    let created = fx.count_where(|entry| {
        entry.method == "POST"
            && entry.path == "/api/v3/repos/acme/images/labels"
            && entry.status == Some(201)
    });
    assert_eq!(
        created, 1,
        "the label was created explicitly before the issue"
    );
}

#[tokio::test]
async fn a_renamed_repository_is_followed_to_its_new_name() {
    let fx = Fixture::new().await;
    let client = fx.client().await;
    let old = repo("acme/images");
    let opened = client
        .create_issue(&old, "Release 9.1.0", "tracking", "release")
        .await
        .unwrap();
    fx.sandbox
        .rename_repository("acme", "images", "pictures")
        .await
        .unwrap();
    let found = client
        .find_issue(&old, "Release 9.1.0", "release")
        .await
        .unwrap()
        .expect("found under the new name");
    assert_eq!(found.number, opened.number);
    let moved = fx.count_where(|entry| {
        entry.path.starts_with("/api/v3/repos/acme/images/") && entry.status == Some(301)
    });
    assert!(moved >= 1, "the old name answered 301");
    assert!(fx.count_where(|entry| entry.path.starts_with("/api/v3/repos/acme/pictures/")) >= 1);
}

#[tokio::test]
async fn a_redirect_off_the_api_host_is_not_followed() {
    let fx = Fixture::new().await;
    let client = fx.client().await;
    fx.fault(valkey_bot_sandbox::FaultRule::new(
        "GET",
        "/repos/*/*/issues",
        valkey_bot_sandbox::FaultAction::Redirect {
            location: "https://elsewhere.example/repos/acme/images/issues".into(),
        },
    ));
    let error = client
        .find_issue(&repo("acme/images"), "Release 9.1.0", "release")
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("not followed"), "{text}");
    assert!(
        text.contains("https://elsewhere.example/repos/acme/images/issues"),
        "{text}"
    );
}

/// The tracking issue is trusted by its author, not by title and label: an issue with the same
/// title and label that someone else opened (here a workflow's token, `github-actions[bot]`) is
/// not found; the App's own is.
#[tokio::test]
async fn an_issue_with_the_right_title_and_label_by_someone_else_is_not_found() {
    let fx = Fixture::with_app().await;
    let images = repo("acme/images");
    let (title, label) = ("Release 9.1.1", "release-tracking");
    let someone = fx.github_with(
        &valkey_bot_github::Credentials::Token(common::WORKFLOW_TOKEN.to_owned().into()),
        |_| {},
    );
    let decoy = someone
        .client_for(common::scope("acme/images", &common::all_write()))
        .await
        .unwrap()
        .create_issue(&images, title, "a decoy", label)
        .await
        .unwrap();
    let client = fx.client().await;
    assert_eq!(
        client.find_issue(&images, title, label).await.unwrap(),
        None
    );
    let own = client
        .create_issue(&images, title, "the bot's", label)
        .await
        .unwrap();
    assert_ne!(own.number, decoy.number);
    assert_eq!(
        client.find_issue(&images, title, label).await.unwrap(),
        Some(own)
    );
    if let Some(report) = fx.sandbox.contract_report() {
        panic!("{report}");
    }
}

/// GitHub pages its lists (at most 100 a page): the tracking issue on the second page of the
/// bot's labelled issues is found, and a compare of more than 100 commits lists all of them.
#[tokio::test]
async fn lists_longer_than_a_page_are_read_to_the_end() {
    let fx = Fixture::new().await;
    let client = fx.client().await;
    let images = repo("acme/images");
    let label = "release-tracking";
    // Newest first: the one sought, opened first, comes after 100 newer ones.
    let sought = client
        .create_issue(&images, "Release 9.1.1", "", label)
        .await
        .unwrap();
    for n in 0..100 {
        client
            .create_issue(&images, &format!("Other {n}"), "", label)
            .await
            .unwrap();
    }
    assert_eq!(
        client
            .find_issue(&images, "Release 9.1.1", label)
            .await
            .unwrap(),
        Some(sought)
    );
    let pages = fx
        .sandbox
        .request_log()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/issues"))
        .filter_map(|r| r.query.clone())
        .collect::<Vec<_>>();
    assert!(pages.iter().any(|q| q.contains("page=2")), "{pages:?}");

    let base = fx.git(&["rev-parse", "main"]);
    let tree = fx.git(&["rev-parse", "main^{tree}"]);
    let mut head = base.clone();
    for n in 0..120 {
        head = fx.git(&["commit-tree", &tree, "-p", &head, "-m", &format!("c{n}")]);
    }
    fx.git(&["update-ref", "refs/heads/long", &head]);
    let commits = client
        .commits_between(&images, "main", "long")
        .await
        .unwrap();
    assert_eq!(commits.len(), 120);
    assert_eq!(commits[0].subject, "c0");
    assert_eq!(commits[119].id, head);
}

/// GitHub refuses git data in a repository without a commit (409 `Git Repository is empty.`);
/// the client reports it as a rejection, not as a lost race to re-plan after.
#[tokio::test]
async fn git_data_in_an_empty_repository_is_a_rejection_not_a_conflict() {
    let fx = Fixture::with_app().await;
    let empty = fx.temp.path().join("acme").join("empty.git");
    common::git(
        fx.temp.path(),
        &["init", "--quiet", "--bare", empty.to_str().unwrap()],
    );
    let client = fx
        .client_scoped("acme/empty", &[(Permission::Contents, Access::Write)])
        .await;
    let refused = client
        .create_branch(&repo("acme/empty"), "main", &fx.images.main)
        .await;
    match refused {
        Err(GitHubError::Rejected(message)) => {
            assert!(message.contains("Git Repository is empty."), "{message}")
        }
        other => panic!("expected a rejection: {other:?}"),
    }
    if let Some(report) = fx.sandbox.contract_report() {
        panic!("{report}");
    }
}
