//! The bundle task's plans: which versions are announced, and the exact event sent.
#![allow(clippy::unwrap_used)]

use valkey_bot_core::outputs::Outputs;
use valkey_bot_core::plan::Effect;
use valkey_bot_core::task::{Settings, Target};
use valkey_bot_core::{
    Environment, Plan, ReleaseRequest, RepoId, TaskContext, TaskError, TaskFactory, Version,
};
use valkey_bot_task_bundle::FACTORY;
use valkey_bot_testkit::{MemoryDownloads, MemoryGitHub};

/// The target of the shipped `tasks.toml`: the receiving repository, with no branch to commit to.
fn target(repo: &str) -> Target {
    Target {
        repo: RepoId::parse(repo).unwrap(),
        commits: None,
    }
}

/// Plans `version` sending to `receiver` with the settings table `settings` (TOML, `None` for
/// the defaults).
async fn plan_for(
    version: &str,
    receiver: Option<&Target>,
    settings: Option<&str>,
) -> Result<Plan, TaskError> {
    let settings = settings.map(|s| toml::de::ValueDeserializer::parse(s).unwrap());
    let task = FACTORY.build(Settings::new(settings)).unwrap();
    let request = ReleaseRequest::local(Version::parse(version).unwrap(), Environment::Prod);
    let (inputs, github, downloads) = (
        Outputs::default(),
        MemoryGitHub::default(),
        MemoryDownloads::default(),
    );
    let ctx = TaskContext {
        request: &request,
        target: receiver,
        inputs: &inputs,
        repos: Some(&github),
        downloads: &downloads,
        server_url: "https://github.com",
        run_date: "2026-11-23",
    };
    task.plan(&ctx).await
}

/// Plans `version` for the shipped receiver, valkey-io/valkey-bundle.
async fn plan(version: &str, settings: Option<&str>) -> Plan {
    plan_for(version, Some(&target("valkey-io/valkey-bundle")), settings)
        .await
        .unwrap()
}

/// The one dispatch of `plan`: receiving repository, event type, payload serialized.
fn dispatch(plan: &Plan) -> (String, String, String) {
    assert!(plan.changes.is_empty(), "the task changes no file");
    match plan.effects.as_slice() {
        [
            Effect::Dispatch {
                repo,
                event_type,
                payload,
            },
        ] => (
            repo.to_string(),
            event_type.clone(),
            serde_json::to_string(payload).unwrap(),
        ),
        other => panic!("expected one dispatch, got {other:?}"),
    }
}

#[tokio::test]
async fn the_minimum_version_itself_is_announced_with_the_exact_payload() {
    let plan = plan("8.1.0", None).await;
    assert_eq!(
        dispatch(&plan),
        (
            "valkey-io/valkey-bundle".to_owned(),
            "valkey-release".to_owned(),
            r#"{"version":"8.1.0","component":"valkey"}"#.to_owned(),
        )
    );
    assert!(plan.notes.is_empty());
}

#[tokio::test]
async fn a_version_above_the_minimum_is_announced() {
    let plan = plan("9.1.1", None).await;
    assert_eq!(
        dispatch(&plan).2,
        r#"{"version":"9.1.1","component":"valkey"}"#
    );
}

#[tokio::test]
async fn a_version_below_the_minimum_sends_nothing_and_says_why() {
    let plan = plan("8.0.4", None).await;
    assert!(plan.is_noop());
    assert!(plan.effects.is_empty());
    assert_eq!(
        plan.notes,
        ["8.0.4 is older than 8.1.0: valkey-io/valkey-bundle does not package it"]
    );
}

#[tokio::test]
async fn a_release_candidate_above_the_minimum_is_announced() {
    let plan = plan("9.1.0-rc2", None).await;
    assert_eq!(
        dispatch(&plan).2,
        r#"{"version":"9.1.0-rc2","component":"valkey"}"#
    );
}

#[tokio::test]
async fn a_release_candidate_of_the_minimum_comes_before_it_and_is_not_announced() {
    let plan = plan("8.1.0-rc1", None).await;
    assert!(plan.effects.is_empty());
    assert_eq!(
        plan.notes,
        ["8.1.0-rc1 is older than 8.1.0: valkey-io/valkey-bundle does not package it"]
    );
}

#[tokio::test]
async fn unstable_is_never_announced() {
    let plan = plan("unstable", None).await;
    assert!(plan.effects.is_empty());
    assert_eq!(plan.notes, ["`unstable` is not a release: nothing to send"]);
}

#[tokio::test]
async fn the_target_is_the_receiver_and_settings_change_the_event_and_the_minimum() {
    let settings = r#"{ event_type = "new-valkey", minimum_version = "9.0.0" }"#;
    assert!(plan("8.1.0", Some(settings)).await.effects.is_empty());
    let receiver = target("example/bundle");
    assert_eq!(
        dispatch(
            &plan_for("9.0.0", Some(&receiver), Some(settings))
                .await
                .unwrap()
        ),
        (
            "example/bundle".to_owned(),
            "new-valkey".to_owned(),
            r#"{"version":"9.0.0","component":"valkey"}"#.to_owned(),
        )
    );
}

#[tokio::test]
async fn without_a_target_it_refuses_and_names_the_missing_key() {
    let error = plan_for("9.1.1", None, None).await.err().unwrap();
    assert_eq!(
        error.to_string(),
        "bundle needs a `repository` in tasks.toml: the one that receives the event"
    );
}

#[test]
fn unknown_settings_are_refused() {
    let settings = toml::de::ValueDeserializer::parse("{ minimum = \"8.1.0\" }").unwrap();
    let error = FACTORY.build(Settings::new(Some(settings))).err().unwrap();
    assert!(
        error.to_string().contains("unknown field `minimum`"),
        "{error}"
    );
}
