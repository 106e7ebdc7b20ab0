//! GitHub App authentication against the sandbox: JWT → installation → a token narrowed to one
//! scope, cached, masked; outside its scope it reads public repositories, does not see private
//! ones (404) and is refused writes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use bytes::Bytes;
use common::{APP_ID, APP_SLUG, Fixture, app_keys, repo, scope};
use valkey_bot_core::config::{Access, Permission};
use valkey_bot_core::github::{FileWrite, GitHubError, Issues, RepoRead, RepoWrite};
use valkey_bot_github::{Credentials, GitHub, GitHubConfig, SetupError};

fn contents_write() -> Vec<(Permission, Access)> {
    vec![(Permission::Contents, Access::Write)]
}

#[tokio::test]
async fn an_app_token_is_narrowed_to_its_repository_and_permissions() {
    let fx = Fixture::with_app().await;
    let images = repo("acme/images");
    let client = fx.client_scoped("acme/images", &contents_write()).await;

    let log = fx.sandbox.request_log();
    let lookup = log
        .iter()
        .find(|e| e.path == "/api/v3/repos/acme/images/installation")
        .unwrap();
    assert_eq!(
        (lookup.method.as_str(), lookup.scope.as_str()),
        ("GET", "app-jwt")
    );
    let mint = log
        .iter()
        .find(|e| e.path.ends_with("/access_tokens"))
        .unwrap();
    assert_eq!(
        (mint.method.as_str(), mint.scope.as_str(), mint.status),
        ("POST", "app-jwt", Some(201))
    );

    assert_eq!(
        client.branch_head(&images, "main").await.unwrap(),
        Some(fx.images.main.clone())
    );
    let last = fx.sandbox.request_log().pop().unwrap();
    assert!(last.scope.starts_with("installation:"), "{last:?}");

    // Another repository of the same installation: a public one reads as on GitHub (any token),
    // a private one does not exist for this token (404, never 403).
    assert!(
        client
            .branch_head(&repo("acme/other"), "main")
            .await
            .unwrap()
            .is_some(),
        "a public repository reads with any token"
    );
    valkey_bot_sandbox::set_private(fx.temp.path(), "acme", "other", true).unwrap();
    let hidden = client
        .branch_head(&repo("acme/other"), "main")
        .await
        .unwrap();
    assert_eq!(
        hidden, None,
        "a private repository outside the scope answers 404"
    );
    let last = fx.sandbox.request_log().pop().unwrap();
    assert_eq!(last.status, Some(404), "{last:?}");
    // Writes outside the scope stay refused.
    let write = client
        .create_issue(&repo("acme/other"), "t", "b", "release")
        .await
        .unwrap_err();
    assert!(
        matches!(write, GitHubError::Forbidden(_) | GitHubError::NotFound(_)),
        "{write:?}"
    );
    // Another permission on the same repository: refused.
    let issues = client
        .create_issue(&images, "t", "b", "release")
        .await
        .unwrap_err();
    assert!(matches!(issues, GitHubError::Forbidden(_)), "{issues:?}");
    assert!(fx.sleeper.waits().is_empty(), "a 403 is not retried");
}

#[tokio::test]
async fn app_commits_are_attributed_to_the_bot_and_verified() {
    let fx = Fixture::with_app().await;
    let images = repo("acme/images");
    let client = fx.client_scoped("acme/images", &contents_write()).await;
    let identity = client.own_identity().await.unwrap();
    assert_eq!(identity.login, format!("{APP_SLUG}[bot]"));
    let log = fx.sandbox.request_log();
    let app_call = log.iter().find(|e| e.path == "/api/v3/app").unwrap();
    assert_eq!(app_call.scope, "app-jwt");
    // The email's id is the bot user's, which only `GET /users/<slug>[bot]` knows (not the App id).
    let user_call = log
        .iter()
        .find(|e| e.path.starts_with("/api/v3/users/"))
        .unwrap();
    assert_eq!(user_call.status, Some(200));
    assert!(
        !identity.email.starts_with(&format!("{APP_ID}+")),
        "{identity:?}"
    );

    let file = FileWrite {
        path: "9.1/debian/Dockerfile".into(),
        content: Some(Bytes::from_static(b"FROM debian:trixie-slim\n")),
        executable: false,
    };
    let commit = client
        .create_commit(&images, &fx.images.main, &[file], "Update 9.1")
        .await
        .unwrap();
    client
        .move_branch(&images, "main", &commit, false)
        .await
        .unwrap();
    assert_eq!(
        fx.git(&["log", "-1", "--format=%an <%ae> | %cn <%ce>", "main"]),
        format!("{} | GitHub <noreply@github.com>", identity.signoff())
    );
    assert!(fx.sandbox.state().await.verified_commits.contains(&commit));
    // A comparison reports what makes the commit trustworthy: GitHub's verified signature, GitHub
    // as committer, the bot as author.
    let listed = client
        .commits_between(&images, &fx.images.main, "main")
        .await
        .unwrap();
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].id, commit);
    assert!(listed[0].verified);
    assert_eq!(listed[0].committer_email, "noreply@github.com");
    assert_eq!(listed[0].author_email, identity.email);
    assert!(listed[0].is_made_by(&identity), "{listed:?}");
}

#[tokio::test]
async fn tokens_are_cached_per_scope_and_masked_before_first_use() {
    let fx = Fixture::with_app().await;
    let installation_uses = || fx.count_where(|e| e.scope.starts_with("installation:"));
    let first = fx.client_scoped("acme/images", &contents_write()).await;
    assert_eq!(fx.mask.masked().len(), 1, "masked as soon as minted");
    assert_eq!(installation_uses(), 0, "before any use");
    first
        .branch_head(&repo("acme/images"), "main")
        .await
        .unwrap();

    let same = fx.client_scoped("acme/images", &contents_write()).await;
    same.branch_head(&repo("acme/images"), "main")
        .await
        .unwrap();
    assert_eq!(fx.mints(), 1, "the same scope reuses its token");

    let wider = vec![
        (Permission::Contents, Access::Read),
        (Permission::Issues, Access::Write),
    ];
    let issues = fx.client_scoped("acme/images", &wider).await;
    assert_eq!(fx.mints(), 2, "another scope gets its own token");
    let masked = fx.mask.masked();
    assert_eq!(masked.len(), 2);
    assert_ne!(masked[0], masked[1]);
    issues
        .create_issue(&repo("acme/images"), "Tracking", "b", "release")
        .await
        .unwrap();
    let lookups = fx.count_where(|e| e.path.ends_with("/installation"));
    assert_eq!(lookups, 1, "the installation is looked up once per owner");
}

#[tokio::test]
async fn a_token_is_refreshed_five_minutes_before_it_expires() {
    let fx = Fixture::with_app().await;
    let images = repo("acme/images");
    let client = fx.client_scoped("acme/images", &contents_write()).await;
    // The sandbox's tokens live an hour: at 54 minutes the cached one is still used.
    fx.clock.shift(Duration::from_secs(54 * 60));
    client.branch_head(&images, "main").await.unwrap();
    assert_eq!(fx.mints(), 1);
    // At 56 minutes fewer than 5 are left: the next request gets a new token.
    fx.clock.shift(Duration::from_secs(56 * 60));
    client.branch_head(&images, "main").await.unwrap();
    assert_eq!(fx.mints(), 2);
    let masked = fx.mask.masked();
    assert_eq!(masked.len(), 2);
    assert_ne!(masked[0], masked[1]);
}

#[tokio::test]
async fn a_token_github_no_longer_accepts_is_replaced_once() {
    // GitHub no longer accepts the token the client has cached (revoked): it gets 401 once.
    let fx = Fixture::with_app().await;
    let client = fx.client_scoped("acme/images", &contents_write()).await;
    client
        .branch_head(&repo("acme/images"), "main")
        .await
        .unwrap();
    assert_eq!(fx.mask.masked().len(), 1);
    fx.sandbox.revoke_tokens();

    let head = client
        .branch_head(&repo("acme/images"), "main")
        .await
        .unwrap();
    assert_eq!(head, Some(fx.images.main.clone()));
    let statuses: Vec<Option<u16>> = fx
        .sandbox
        .request_log()
        .iter()
        .filter(|e| e.path.ends_with("/git/ref/heads/main"))
        .map(|e| e.status)
        .collect();
    // The new token's read is conditional (the first answer is kept): GitHub confirms it, 304.
    assert_eq!(statuses, vec![Some(200), Some(401), Some(304)]);
    assert_eq!(fx.mask.masked().len(), 2, "a new token was minted");
}

#[tokio::test]
async fn tokens_are_not_masked_outside_actions() {
    let fx = Fixture::with_app().await;
    let (private_pem, _) = app_keys().clone();
    let credentials = Credentials::App {
        app_id: APP_ID,
        private_key: private_pem.into(),
    };
    let github = fx.github_with(&credentials, |config| config.in_actions = false);
    github
        .client_for(scope("acme/images", &contents_write()))
        .await
        .unwrap();
    assert!(fx.mask.masked().is_empty());
}

#[tokio::test]
async fn minted_tokens_and_keys_never_show_in_errors_or_debug_output() {
    let fx = Fixture::with_app().await;
    let client = fx.client_scoped("acme/images", &contents_write()).await;
    let token = fx.mask.masked().pop().unwrap();
    assert!(token.len() >= 20, "a real token was minted");
    let (private_pem, _) = app_keys();
    let key_body = private_pem.lines().nth(1).unwrap();

    // A write outside the token's scope: refused.
    let error = client
        .create_issue(&repo("acme/other"), "t", "b", "release")
        .await
        .unwrap_err();
    for shown in [
        error.to_string(),
        format!("{error:?}"),
        format!("{client:?}"),
        format!("{:?}", fx.github),
    ] {
        assert!(!shown.contains(&token), "token in {shown}");
        assert!(!shown.contains(key_body), "key in {shown}");
    }
}

#[tokio::test]
async fn one_token_can_cover_several_repositories_of_one_owner() {
    let fx = Fixture::with_app().await;
    let mut both = scope("acme/images", &[(Permission::Contents, Access::Read)]);
    both.repositories.push(repo("acme/other"));
    let client = fx.github.client_for(both).await.unwrap();
    for name in ["acme/images", "acme/other"] {
        assert_eq!(
            client.branch_head(&repo(name), "main").await.unwrap(),
            Some(fx.images.main.clone()),
            "{name}"
        );
    }
    assert_eq!(fx.mints(), 1);
}

#[tokio::test]
async fn scopes_that_would_widen_a_token_are_refused_before_minting() {
    let fx = Fixture::with_app().await;
    let empty = fx.github.client_for(scope("acme/images", &[])).await;
    assert!(matches!(empty, Err(GitHubError::Rejected(_))), "{empty:?}");
    let mut two_owners = scope("acme/images", &contents_write());
    two_owners.repositories.push(repo("elsewhere/images"));
    let mixed = fx.github.client_for(two_owners).await;
    assert!(matches!(mixed, Err(GitHubError::Rejected(_))), "{mixed:?}");
    assert!(
        fx.sandbox.request_log().is_empty(),
        "nothing was asked of GitHub"
    );
}

#[tokio::test]
async fn a_bad_private_key_is_refused_at_setup() {
    let credentials = Credentials::App {
        app_id: 1,
        private_key: "not a key".to_owned().into(),
    };
    let result = GitHub::new(
        GitHubConfig::for_api("http://127.0.0.1:9/api/v3"),
        &credentials,
    );
    assert!(matches!(result, Err(SetupError::Auth(_))), "{result:?}");
}

#[tokio::test]
async fn the_end_of_a_run_revokes_every_minted_token() {
    let fx = Fixture::with_app().await;
    let images = repo("acme/images");
    let reader = fx
        .client_scoped("acme/images", &[(Permission::Contents, Access::Read)])
        .await;
    let writer = fx.client_scoped("acme/images", &contents_write()).await;
    reader.branch_head(&images, "main").await.unwrap();
    writer.branch_head(&images, "main").await.unwrap();
    let minted = fx.mask.masked();
    assert_eq!(minted.len(), 2);

    assert_eq!(fx.github.revoke_tokens().await, 2);
    let revocations: Vec<(String, Option<u16>)> = fx
        .sandbox
        .request_log()
        .iter()
        .filter(|e| e.method == "DELETE")
        .map(|e| (e.path.clone(), e.status))
        .collect();
    assert_eq!(
        revocations,
        vec![("/api/v3/installation/token".to_owned(), Some(204)); 2]
    );
    // A revoked token is dead on GitHub's side.
    for token in &minted {
        let github = GitHub::new(
            GitHubConfig::for_api(fx.sandbox.api_url()),
            &Credentials::Token(token.clone().into()),
        )
        .unwrap();
        let client = github
            .client_for(scope("acme/images", &contents_write()))
            .await
            .unwrap();
        let refused = client.branch_head(&images, "main").await.unwrap_err();
        assert!(matches!(refused, GitHubError::Forbidden(_)), "{refused:?}");
    }
    assert_eq!(
        fx.sandbox
            .request_log()
            .iter()
            .filter(|e| e.path == "/api/v3/repos/acme/images/git/ref/heads/main")
            .filter_map(|e| e.status)
            .filter(|status| *status == 401)
            .count(),
        2,
        "each revoked token answered 401"
    );
    assert_eq!(fx.github.revoke_tokens().await, 0, "nothing left to revoke");
    // A client used after the end mints a fresh token rather than sending a revoked one.
    writer.branch_head(&images, "main").await.unwrap();
    assert_eq!(fx.mask.masked().len(), 3);
}

#[tokio::test]
async fn a_plain_token_is_never_revoked() {
    let fx = Fixture::new().await;
    fx.client()
        .await
        .branch_head(&repo("acme/images"), "main")
        .await
        .unwrap();
    assert_eq!(fx.github.revoke_tokens().await, 0);
    assert_eq!(fx.count("DELETE", "/api/v3/installation/token"), 0);
}
