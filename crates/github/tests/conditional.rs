//! Conditional reads against the sandbox: a repeated GET is sent with `If-None-Match` and a 304 is
//! answered from the kept body; an object named by its SHA is never asked for twice; the disk
//! cache carries both across connections; anonymous access reads public repositories.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{APP_SLUG, Fixture, repo};
use valkey_bot_core::github::{RepoRead, RepoWrite};
use valkey_bot_github::Credentials;

fn statuses(fixture: &Fixture, path: &str) -> Vec<Option<u16>> {
    fixture
        .sandbox
        .request_log()
        .iter()
        .filter(|entry| entry.method == "GET" && entry.path.ends_with(path))
        .map(|entry| entry.status)
        .collect()
}

#[tokio::test]
async fn a_repeated_read_is_revalidated_and_a_304_gives_the_same_answer() {
    let fixture = Fixture::new().await;
    let client = fixture.client().await;
    let images = repo("acme/images");
    let first = client.branch_head(&images, "main").await.unwrap();
    let second = client.branch_head(&images, "main").await.unwrap();
    assert_eq!(first, second);
    assert_eq!(
        statuses(&fixture, "/git/ref/heads/main"),
        [Some(200), Some(304)]
    );
    let quota = fixture.github.quota();
    assert_eq!(quota.not_modified, 1);
    assert_eq!(quota.limit, Some(5000));

    // A changed branch answers 200 with the new head, not the kept one.
    fixture.git(&["update-ref", "refs/heads/main", &fixture.images.first]);
    let moved = client.branch_head(&images, "main").await.unwrap();
    assert_eq!(moved.unwrap(), fixture.images.first);
    assert_eq!(
        statuses(&fixture, "/git/ref/heads/main"),
        [Some(200), Some(304), Some(200)]
    );
}

#[tokio::test]
async fn an_authorized_304_costs_no_quota() {
    let fixture = Fixture::new().await;
    let client = fixture.client().await;
    let images = repo("acme/images");
    client.branch_head(&images, "main").await.unwrap();
    let after_first = fixture.github.quota().remaining.unwrap();
    client.branch_head(&images, "main").await.unwrap();
    assert_eq!(fixture.github.quota().remaining, Some(after_first));
}

#[tokio::test]
async fn a_file_at_a_commit_is_read_once_and_then_served_from_the_cache() {
    let fixture = Fixture::new().await;
    let client = fixture.client().await;
    let images = repo("acme/images");
    let head = &fixture.images.main;
    let once = client
        .read_file(&images, head, "versions.json")
        .await
        .unwrap();
    let twice = client
        .read_file(&images, head, "versions.json")
        .await
        .unwrap();
    assert_eq!(once, twice);
    assert_eq!(statuses(&fixture, "/contents/versions.json").len(), 1);
    assert_eq!(fixture.github.quota().from_cache, 1);
}

#[tokio::test]
async fn kept_answers_on_disk_make_a_second_connection_almost_free() {
    let fixture = Fixture::new().await;
    let cache = tempfile::tempdir().unwrap();
    let credentials = Credentials::Token(common::TOKEN.to_owned().into());
    let images = repo("acme/images");
    let head = fixture.images.main.clone();
    for round in 0..2 {
        let github = fixture.github_with(&credentials, |config| {
            config.cache_dir = Some(cache.path().to_path_buf());
        });
        let client = github
            .client_for(common::scope("acme/images", &common::all_write()))
            .await
            .unwrap();
        let found = client.branch_head(&images, "main").await.unwrap().unwrap();
        assert_eq!(found, head);
        let file = client
            .read_file(&images, &head, "versions.json")
            .await
            .unwrap();
        assert_eq!(file.unwrap().as_ref(), b"{\"9.1\": \"9.1.0\"}\n");
        let quota = github.quota();
        if round == 1 {
            assert_eq!(
                (quota.sent, quota.not_modified, quota.from_cache),
                (1, 1, 1)
            );
        }
    }
    assert_eq!(
        statuses(&fixture, "/git/ref/heads/main"),
        [Some(200), Some(304)]
    );
    assert_eq!(statuses(&fixture, "/contents/versions.json").len(), 1);
}

#[tokio::test]
async fn anonymous_access_reads_public_repositories_and_names_the_apps_bot() {
    let fixture = Fixture::with_app().await;
    let anonymous = fixture.github_with(
        &Credentials::Anonymous {
            app_slug: APP_SLUG.to_owned(),
        },
        |_| {},
    );
    let client = anonymous
        .client_for(common::scope("acme/images", &common::all_write()))
        .await
        .unwrap();
    let images = repo("acme/images");
    let head = client.branch_head(&images, "main").await.unwrap().unwrap();
    assert_eq!(head, fixture.images.main);
    let identity = client.own_identity().await.unwrap();
    assert_eq!(identity.login, format!("{APP_SLUG}[bot]"));
    assert_eq!(fixture.mints(), 0, "anonymous access mints no token");
    let quota = anonymous.quota();
    assert_eq!(quota.limit, Some(valkey_bot_sandbox::PUBLIC_RATE_LIMIT));
    assert!(
        fixture
            .sandbox
            .request_log()
            .iter()
            .all(|entry| entry.scope == "public"),
        "every request went without a token"
    );
}
