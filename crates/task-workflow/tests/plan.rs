//! The workflow task's plans: which releases start the workflow, the inputs rendered from the
//! release with the bot's marker, and settings refused with the key named.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use valkey_bot_core::outputs::Outputs;
use valkey_bot_core::plan::{Effect, WorkflowDispatch};
use valkey_bot_core::task::{Settings, Target};
use valkey_bot_core::{
    Environment, Plan, ReleaseRequest, RepoId, TaskContext, TaskFactory, Version,
};
use valkey_bot_task_workflow::FACTORY;
use valkey_bot_testkit::{MemoryDownloads, MemoryGitHub};

const TRY_VALKEY: &str = r#"
workflow = "update-try-valkey.yml"
ref = "main"
inputs = { version = "{version}", region = "us-west-2", bucket = "try-{minor}-{environment}" }
when = "newest-final"
source_repository = "valkey-io/valkey"
poll_interval = "20s"
"#;

/// The settings table `lines` (one `key = value` a line) as the inline table the loader hands over.
fn settings(lines: &str) -> Settings<'static> {
    let table = lines
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    let table: &'static str = Box::leak(format!("{{ {table} }}").into_boxed_str());
    Settings::new(Some(toml::de::ValueDeserializer::parse(table).unwrap()))
}

async fn plan(version: &str, environment: Environment, settings: &str, tags: &[&str]) -> Plan {
    let task = FACTORY.build(self::settings(settings)).unwrap();
    let github = MemoryGitHub::default();
    let source = RepoId::parse("valkey-io/valkey").unwrap();
    for tag in tags {
        github.seed_tag(&source, tag, &[("README", b"x")]);
    }
    let request = ReleaseRequest::local(Version::parse(version).unwrap(), environment);
    let target = Target {
        repo: RepoId::parse("valkey-io/valkey-release-automation").unwrap(),
        commits: None,
    };
    let (inputs, downloads) = (Outputs::default(), MemoryDownloads::default());
    let ctx = TaskContext {
        request: &request,
        target: Some(&target),
        inputs: &inputs,
        repos: Some(&github),
        downloads: &downloads,
        server_url: "https://github.com",
        run_date: "2026-12-03",
    };
    task.plan(&ctx).await.unwrap()
}

fn dispatch(plan: &Plan) -> &WorkflowDispatch {
    match plan.effects.as_slice() {
        [Effect::RunWorkflow(dispatch)] => dispatch,
        other => panic!("one workflow run: {other:?}"),
    }
}

#[tokio::test]
async fn the_newest_final_release_starts_the_workflow_with_rendered_inputs_and_the_marker() {
    let plan = plan(
        "9.1.2",
        Environment::Dev,
        TRY_VALKEY,
        &["9.0.3", "9.1.1", "9.2.0-rc1"],
    )
    .await;
    let run = dispatch(&plan);
    assert_eq!(run.repo.to_string(), "valkey-io/valkey-release-automation");
    assert_eq!(run.workflow, "update-try-valkey.yml");
    assert_eq!(run.reference, "main");
    assert_eq!(run.marker, "valkey-bot 9.1.2 (dev)");
    let inputs: Vec<(&str, &str)> = run
        .inputs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        inputs,
        [
            ("bucket", "try-9.1-dev"),
            ("region", "us-west-2"),
            ("valkey_bot_marker", "valkey-bot 9.1.2 (dev)"),
            ("version", "9.1.2"),
        ]
    );
    assert_eq!(run.poll_interval, Duration::from_secs(20));
    assert_eq!(run.start_timeout, Duration::from_secs(300));
}

#[tokio::test]
async fn an_older_line_or_a_release_candidate_is_not_applicable() {
    let older = plan("9.0.4", Environment::Prod, TRY_VALKEY, &["9.1.1"]).await;
    assert!(older.effects.is_empty());
    assert_eq!(
        older.notes,
        [
            "9.0.4 is not the newest release (9.1.1 is, in valkey-io/valkey): update-try-valkey.yml runs for the newest final release only"
        ]
    );
    let rc = plan("9.2.0-rc1", Environment::Prod, TRY_VALKEY, &[]).await;
    assert!(rc.effects.is_empty());
    assert!(rc.notes[0].contains("release candidate"), "{:?}", rc.notes);
    let unstable = plan("unstable", Environment::Prod, TRY_VALKEY, &[]).await;
    assert!(unstable.effects.is_empty());
}

#[tokio::test]
async fn when_always_runs_release_candidates_too() {
    let settings =
        "workflow = \"packages.yml\"\nref = \"main\"\ninputs = { version = \"{version}\" }\n";
    let run = plan("9.2.0-rc1", Environment::Prod, settings, &["9.3.0"]).await;
    assert_eq!(dispatch(&run).inputs["version"], "9.2.0-rc1");
}

fn refused(settings: &str) -> String {
    match FACTORY.build(self::settings(settings)) {
        Ok(_) => panic!("accepted: {settings}"),
        Err(error) => error.to_string(),
    }
}

#[test]
fn bad_settings_are_refused_naming_the_key() {
    let base = "ref = \"main\"\n";
    assert!(refused(&format!("workflow = \"ci/build.yml\"\n{base}")).contains("`workflow`"));
    assert!(
        refused(&format!("workflow = \"build.sh\"\n{base}")).contains("not a workflow file name")
    );
    assert!(refused("workflow = \"b.yml\"\nref = \" \"\n").contains("`ref`"));
    assert!(
        refused(&format!(
            "workflow = \"b.yml\"\n{base}inputs = {{ v = \"{{tag}}\" }}\n"
        ))
        .contains("unknown placeholder `{tag}`")
    );
    assert!(
        refused(&format!(
            "workflow = \"b.yml\"\n{base}inputs = {{ valkey_bot_marker = \"x\" }}\n"
        ))
        .contains("marker input")
    );
    assert!(
        refused(&format!(
            "workflow = \"b.yml\"\n{base}poll_interval = \"100ms\"\n"
        ))
        .contains("`poll_interval`: at least 1s")
    );
    assert!(
        refused(&format!(
            "workflow = \"b.yml\"\n{base}when = \"newest-final\"\n"
        ))
        .contains("needs `source_repository`")
    );
    assert!(refused(&format!("workflow = \"b.yml\"\n{base}colour = 1\n")).contains("colour"));
}
