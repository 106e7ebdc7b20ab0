//! Contract tests: every operation of the client against the sandbox (a local GitHub over real
//! git repositories), checked with `git` and the sandbox's recorded state.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use bytes::Bytes;
use common::{Fixture, TOKEN, repo};
use valkey_bot_core::github::{
    Dispatches, FileWrite, GitHubError, Issues, PullRequestSpec, PullRequests, RepoRead, RepoWrite,
};
use valkey_bot_github::ReadOnly;

fn file(path: &str, content: &str) -> FileWrite {
    FileWrite {
        path: path.to_owned(),
        content: Some(Bytes::from(content.to_owned())),
        executable: false,
    }
}

#[tokio::test]
async fn reads_branches_files_and_directories() {
    let fx = Fixture::new().await;
    let client = fx.client().await;
    let images = repo("acme/images");

    assert_eq!(
        client.branch_head(&images, "main").await.unwrap(),
        Some(fx.images.main.clone())
    );
    assert_eq!(
        client.branch_head(&images, "update/9.1").await.unwrap(),
        Some(fx.images.update.clone())
    );
    assert_eq!(client.branch_head(&images, "nope").await.unwrap(), None);
    // A prefix of a branch with slashes is not a branch.
    assert_eq!(client.branch_head(&images, "update").await.unwrap(), None);

    let dockerfile = client
        .read_file(&images, "main", "9.1/debian/Dockerfile")
        .await
        .unwrap();
    assert_eq!(
        dockerfile.as_deref(),
        Some(&b"FROM debian:bookworm-slim\n"[..])
    );
    let old = client
        .read_file(&images, &fx.images.first, "versions.json")
        .await
        .unwrap();
    assert_eq!(old, None, "versions.json did not exist in the first commit");
    let on_branch = client
        .read_file(&images, "update/9.1", "versions.json")
        .await
        .unwrap();
    assert_eq!(on_branch.as_deref(), Some(&b"{\"9.1\": \"9.1.1\"}\n"[..]));
    assert_eq!(
        client.read_file(&images, "main", "9.1").await.unwrap(),
        None
    );

    let listed = |dir: &'static str| {
        let client = client.clone();
        let images = images.clone();
        let main = fx.images.main.clone();
        async move {
            client
                .list_files(&images, &main, dir)
                .await
                .unwrap()
                .map(|files| {
                    for file in &files {
                        assert_eq!(file.blob.len(), 40, "each file's blob id: {file:?}");
                    }
                    files
                        .into_iter()
                        .map(|f| (f.path, f.executable))
                        .collect::<Vec<_>>()
                })
        }
    };
    let file = |path: &str| (path.to_owned(), false);
    assert_eq!(
        listed("").await,
        Some(vec![
            file("9.1/alpine/Dockerfile"),
            file("9.1/debian/Dockerfile"),
            file("README.md"),
            file("versions.json"),
        ])
    );
    assert_eq!(
        listed("9.1/").await,
        Some(vec![
            file("9.1/alpine/Dockerfile"),
            file("9.1/debian/Dockerfile")
        ])
    );
    assert_eq!(listed("9.2").await, None, "no such directory");
    assert_eq!(listed("README.md").await, None, "a file is not a directory");
}

#[tokio::test]
async fn commits_a_multi_file_change_that_github_signs() {
    let fx = Fixture::new().await;
    let client = fx.client().await;
    let images = repo("acme/images");
    let files = vec![
        file("versions.json", "{\"9.1\": \"9.1.2\"}\n"),
        file("9.2/debian/Dockerfile", "FROM debian:trixie-slim\n"),
        FileWrite {
            path: "9.1/alpine/Dockerfile".into(),
            content: None,
            executable: false,
        },
        FileWrite {
            path: "scripts/update.sh".into(),
            content: Some(Bytes::from_static(b"#!/bin/sh\necho update\n")),
            executable: true,
        },
    ];
    let commit = client
        .create_commit(
            &images,
            &fx.images.main,
            &files,
            "Release 9.1.2\n\nDetails.",
        )
        .await
        .unwrap();
    // Creating a commit moves no branch.
    assert_eq!(fx.git(&["rev-parse", "main"]), fx.images.main);
    client
        .move_branch(&images, "main", &commit, false)
        .await
        .unwrap();
    assert_eq!(fx.git(&["rev-parse", "main"]), commit);

    assert_eq!(
        fx.git(&["rev-parse", &format!("{commit}^")]),
        fx.images.main
    );
    assert_eq!(
        fx.git(&["log", "-1", "--format=%B", &commit]),
        "Release 9.1.2\n\nDetails."
    );
    assert_eq!(
        fx.git(&["show", &format!("{commit}:versions.json")]),
        "{\"9.1\": \"9.1.2\"}"
    );
    assert_eq!(
        fx.git(&["show", &format!("{commit}:9.2/debian/Dockerfile")]),
        "FROM debian:trixie-slim"
    );
    assert_eq!(
        fx.git(&["ls-tree", "-r", "--format=%(objectmode) %(path)", &commit]),
        "100644 9.1/debian/Dockerfile\n100644 9.2/debian/Dockerfile\n100644 README.md\n100755 scripts/update.sh\n100644 versions.json"
    );
    // No author was sent: the sandbox, like GitHub, attributes and signs the commit itself.
    // With a plain token that is the token's user, whose identity the client reads from GET /user.
    let identity = client.own_identity().await.unwrap();
    assert_eq!(identity.login, "sandbox-user");
    assert!(
        identity
            .email
            .ends_with("+sandbox-user@users.noreply.github.com"),
        "{identity:?}"
    );
    // A plain token's commits are its user's own and unsigned (an App's: see app_auth.rs).
    assert_eq!(
        fx.git(&["log", "-1", "--format=%an <%ae> | %cn <%ce>", &commit]),
        format!("{} | {}", identity.signoff(), identity.signoff())
    );
    let state = fx.sandbox.state().await;
    assert!(
        !state.verified_commits.contains(&commit),
        "a plain token's commit is unsigned"
    );
    // The listing reports each file's mode, which the contents API does not.
    assert_eq!(
        client
            .list_files(&images, &commit, "scripts")
            .await
            .unwrap()
            .map(|files| files
                .into_iter()
                .map(|f| (f.path, f.executable))
                .collect::<Vec<_>>()),
        Some(vec![("scripts/update.sh".to_owned(), true)])
    );
}

#[tokio::test]
async fn fast_forward_only_moves_conflict_on_a_moved_branch() {
    let fx = Fixture::new().await;
    let client = fx.client().await;
    let images = repo("acme/images");
    let ours = client
        .create_commit(&images, &fx.images.main, &[file("a.txt", "a\n")], "Ours")
        .await
        .unwrap();
    // Someone else moves main meanwhile.
    fx.git(&["update-ref", "refs/heads/main", &fx.images.update]);

    let error = client
        .move_branch(&images, "main", &ours, false)
        .await
        .unwrap_err();
    assert!(matches!(error, GitHubError::Conflict(_)), "{error:?}");
    assert_eq!(fx.git(&["rev-parse", "main"]), fx.images.update);

    client
        .move_branch(&images, "main", &ours, true)
        .await
        .unwrap();
    assert_eq!(fx.git(&["rev-parse", "main"]), ours);
    // Moving a branch to where it already is succeeds (what a repeated attempt does).
    client
        .move_branch(&images, "main", &ours, false)
        .await
        .unwrap();
}

#[tokio::test]
async fn creating_an_existing_branch_conflicts_unless_it_is_already_there() {
    let fx = Fixture::new().await;
    let client = fx.client().await;
    let images = repo("acme/images");
    client
        .create_branch(&images, "bot/9.1.2", &fx.images.first)
        .await
        .unwrap();
    assert_eq!(fx.git(&["rev-parse", "bot/9.1.2"]), fx.images.first);
    let error = client
        .create_branch(&images, "bot/9.1.2", &fx.images.main)
        .await
        .unwrap_err();
    assert!(matches!(error, GitHubError::Conflict(_)), "{error:?}");
    client
        .create_branch(&images, "bot/9.1.2", &fx.images.first)
        .await
        .unwrap();
    assert_eq!(fx.git(&["rev-parse", "bot/9.1.2"]), fx.images.first);
}

#[tokio::test]
async fn lists_the_commits_between_two_refs_oldest_first() {
    let fx = Fixture::new().await;
    let client = fx.client().await;
    let images = repo("acme/images");
    let commits = client
        .commits_between(&images, &fx.images.first, "update/9.1")
        .await
        .unwrap();
    let listed: Vec<(&str, &str)> = commits
        .iter()
        .map(|c| (c.id.as_str(), c.subject.as_str()))
        .collect();
    assert_eq!(
        listed,
        vec![
            (fx.images.main.as_str(), "Record versions"),
            (fx.images.update.as_str(), "Update 9.1 to 9.1.1")
        ]
    );
    assert!(
        client
            .commits_between(&images, "main", "main")
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn opens_finds_edits_and_labels_pull_requests() {
    let fx = Fixture::new().await;
    let client = fx.client().await;
    let images = repo("acme/images");
    assert_eq!(client.find_open(&images, "update/9.1").await.unwrap(), None);
    let spec = PullRequestSpec {
        head_branch: "update/9.1".into(),
        base_branch: "main".into(),
        title: "Update 9.1".into(),
        body: "Bumps 9.1.".into(),
    };
    let opened = client.open(&images, &spec).await.unwrap();
    assert_eq!(opened.title, "Update 9.1");
    assert_eq!(opened.body, "Bumps 9.1.");
    assert_eq!(opened.head_branch, "update/9.1");
    assert_eq!(opened.head_commit, fx.images.update);
    assert!(
        opened
            .url
            .ends_with(&format!("/acme/images/pull/{}", opened.number))
    );

    let found = client.find_open(&images, "update/9.1").await.unwrap();
    assert_eq!(found, Some(opened.clone()));
    assert_eq!(client.find_open(&images, "update").await.unwrap(), None);

    let again = client.open(&images, &spec).await.unwrap_err();
    assert!(matches!(again, GitHubError::Conflict(_)), "{again:?}");

    let edited = client
        .edit(&images, opened.number, "Update 9.1 to 9.1.1", "New body.")
        .await
        .unwrap();
    assert_eq!(edited.title, "Update 9.1 to 9.1.1");
    assert_eq!(edited.body, "New body.");
    client
        .add_labels(
            &images,
            opened.number,
            &["release".into(), "automated".into()],
        )
        .await
        .unwrap();
    let state = fx.sandbox.state().await;
    let recorded = state
        .repo("acme/images")
        .unwrap()
        .issue(opened.number)
        .unwrap();
    let mut labels = recorded.labels.clone();
    labels.sort();
    assert_eq!(labels, vec!["automated", "release"]);
    assert_eq!(recorded.title, "Update 9.1 to 9.1.1");
}

#[tokio::test]
async fn finds_creates_edits_and_comments_on_issues() {
    let fx = Fixture::new().await;
    let client = fx.client().await;
    let images = repo("acme/images");
    let title = "Release 9.1.2 tracking";
    assert_eq!(
        client.find_issue(&images, title, "release").await.unwrap(),
        None
    );
    let created = client
        .create_issue(&images, title, "- [ ] images", "release")
        .await
        .unwrap();
    assert_eq!(created.title, title);
    assert_eq!(created.body, "- [ ] images");
    let found = client.find_issue(&images, title, "release").await.unwrap();
    assert_eq!(found, Some(created.clone()));
    assert_eq!(
        client.find_issue(&images, title, "other").await.unwrap(),
        None
    );
    assert_eq!(
        client
            .find_issue(&images, "Release 9.1.3 tracking", "release")
            .await
            .unwrap(),
        None
    );

    let edited = client
        .edit_issue(&images, created.number, "- [x] images")
        .await
        .unwrap();
    assert_eq!(edited.body, "- [x] images");
    client
        .comment(&images, created.number, "Images published.")
        .await
        .unwrap();
    let state = fx.sandbox.state().await;
    let repo_state = state.repo("acme/images").unwrap();
    let comments: Vec<&str> = repo_state
        .comments_on(created.number)
        .map(|c| c.body.as_str())
        .collect();
    assert_eq!(comments, vec!["Images published."]);
    assert_eq!(
        repo_state.issue(created.number).unwrap().labels,
        vec!["release"]
    );
}

#[tokio::test]
async fn sends_repository_dispatches() {
    let fx = Fixture::new().await;
    let client = fx.client().await;
    let payload = serde_json::json!({"version": "9.1.2", "nested": {"a": [1, 2]}});
    client
        .dispatch(&repo("acme/images"), "valkey-release", &payload)
        .await
        .unwrap();
    let state = fx.sandbox.state().await;
    let dispatches = &state.repo("acme/images").unwrap().dispatches;
    assert_eq!(dispatches.len(), 1);
    assert_eq!(dispatches[0].event_type, "valkey-release");
    assert_eq!(dispatches[0].client_payload, payload);
}

#[tokio::test]
async fn read_only_reads_but_refuses_every_write_without_sending_it() {
    let fx = Fixture::new().await;
    let client = ReadOnly(fx.client().await);
    let images = repo("acme/images");
    assert_eq!(
        client.branch_head(&images, "main").await.unwrap(),
        Some(fx.images.main.clone())
    );
    assert!(
        client
            .read_file(&images, "main", "README.md")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        client
            .list_files(&images, &fx.images.main, "9.1")
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(client.find_open(&images, "update/9.1").await.unwrap(), None);
    let before = fx.sandbox.request_log().len();

    let spec = PullRequestSpec {
        head_branch: "update/9.1".into(),
        base_branch: "main".into(),
        title: "t".into(),
        body: "b".into(),
    };
    let refusals = vec![
        client
            .create_commit(&images, &fx.images.main, &[file("x", "x")], "m")
            .await
            .map(drop),
        client
            .move_branch(&images, "main", &fx.images.first, true)
            .await,
        client.create_branch(&images, "b", &fx.images.first).await,
        client.open(&images, &spec).await.map(drop),
        client.edit(&images, 1, "t", "b").await.map(drop),
        client.add_labels(&images, 1, &["l".into()]).await,
        client.create_issue(&images, "t", "b", "l").await.map(drop),
        client.edit_issue(&images, 1, "b").await.map(drop),
        client.comment(&images, 1, "b").await,
        client
            .dispatch(&images, "e", &serde_json::Value::Null)
            .await,
    ];
    for refusal in refusals {
        assert!(
            matches!(refusal, Err(GitHubError::ReadOnly(_))),
            "{refusal:?}"
        );
    }
    assert_eq!(fx.sandbox.request_log().len(), before, "nothing was sent");
    assert_eq!(fx.git(&["rev-parse", "main"]), fx.images.main);
}

#[tokio::test]
async fn the_token_never_shows_in_debug_output_or_errors() {
    let fx = Fixture::new().await;
    let client = fx.client().await;
    assert!(!format!("{client:?}").contains(TOKEN));
    assert!(!format!("{:?}", fx.github).contains(TOKEN));
    let error = client
        .create_branch(&repo("acme/missing"), "b", &fx.images.main)
        .await
        .unwrap_err();
    assert!(matches!(error, GitHubError::NotFound(_)), "{error:?}");
    assert!(!error.to_string().contains(TOKEN));
    assert!(!format!("{error:?}").contains(TOKEN));
}
