//! The one contract of the narrow GitHub traits (`valkey_bot_testkit::contract`), run against
//! every implementation: the real client over the sandbox, the read-only wrapper over it, the
//! testkit's in-memory fake and the wrapper over the fake.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Fixture, repo};
use valkey_bot_core::config::{Access, Permission};
use valkey_bot_core::github::{GitHubError, Workflows};
use valkey_bot_github::ReadOnly;
use valkey_bot_testkit::MemoryGitHub;
use valkey_bot_testkit::contract::{self, World};

/// `acme/images` of the sandbox fixture holds exactly the contract's seed on `main`.
fn sandbox_world(fx: &Fixture) -> World {
    World {
        repo: repo("acme/images"),
        main: fx.images.main.clone(),
    }
}

#[tokio::test]
async fn the_client_keeps_the_contract() {
    // With the App: commits made through the API are GitHub's, signed, the bot's own.
    let fx = Fixture::with_app().await;
    let client = fx.client().await;
    let world = sandbox_world(&fx);
    contract::check_reads(&client, &world).await;
    contract::check_writes(&client, &world).await;
}

#[tokio::test]
async fn the_client_keeps_the_workflows_contract() {
    let fx = Fixture::with_app().await;
    fx.commit_file(
        "other",
        &format!(".github/workflows/{}", contract::WORKFLOW),
        contract::WORKFLOW_YAML,
    );
    fx.sandbox.check_contract();
    let client = fx
        .client_scoped("acme/other", &[(Permission::Actions, Access::Write)])
        .await;
    contract::check_workflows(&client, &repo("acme/other")).await;
    // Starting a workflow takes `actions: write`: a token without it is refused.
    let contents_only = fx
        .client_scoped("acme/other", &[(Permission::Contents, Access::Write)])
        .await;
    let refused = contents_only
        .dispatch_workflow(
            &repo("acme/other"),
            contract::WORKFLOW,
            "main",
            &std::collections::BTreeMap::from([("version".to_owned(), "9.1.1".to_owned())]),
        )
        .await;
    assert!(
        matches!(refused, Err(GitHubError::Forbidden(_))),
        "{refused:?}"
    );
    if let Some(report) = fx.sandbox.contract_report() {
        panic!("{report}");
    }
}

#[tokio::test]
async fn the_memory_fake_keeps_the_workflows_contract() {
    let github = MemoryGitHub::default();
    let other = repo("acme/other");
    contract::seed_memory_workflow(&github, &other);
    contract::check_workflows(&github, &other).await;
}

#[tokio::test]
async fn the_read_only_client_keeps_the_contract() {
    let fx = Fixture::with_app().await;
    let client = ReadOnly(fx.client().await);
    contract::check_refuses_writes(&client, &sandbox_world(&fx)).await;
}

#[tokio::test]
async fn the_memory_fake_keeps_the_contract() {
    let github = MemoryGitHub::default();
    let world = contract::seed_memory(&github, &repo("acme/images"));
    contract::check_reads(&github, &world).await;
    contract::check_writes(&github, &world).await;
}

#[tokio::test]
async fn the_read_only_memory_fake_keeps_the_contract() {
    let github = MemoryGitHub::default();
    let world = contract::seed_memory(&github, &repo("acme/images"));
    contract::check_refuses_writes(&ReadOnly(github), &world).await;
}
