//! `tasks.toml` loading: a good file, and every error located by line, column and key.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use valkey_bot_core::config::{Access, Permission, Start, load};
use valkey_bot_core::task::{DeliverySpec, Settings};
use valkey_bot_core::{Environment, Plan, Task, TaskContext, TaskError, TaskFactory};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EchoSettings {
    #[serde(default)]
    word: String,
}

struct Echo(#[allow(dead_code)] String);

#[async_trait]
impl Task for Echo {
    async fn plan(&self, _ctx: &TaskContext<'_>) -> Result<Plan, TaskError> {
        Ok(Plan::default())
    }
}

/// A test task named `.0` that changes files when `.1`.
struct EchoFactory(&'static str, bool);

impl TaskFactory for EchoFactory {
    fn name(&self) -> &'static str {
        self.0
    }
    fn description(&self) -> &'static str {
        "test task"
    }
    fn build(&self, settings: Settings<'_>) -> Result<Arc<dyn Task>, toml::de::Error> {
        let settings: EchoSettings = settings.parse()?;
        Ok(Arc::new(Echo(settings.word)))
    }
    fn changes_files(&self) -> bool {
        self.1
    }
}

const FACTORIES: [&dyn TaskFactory; 3] = [
    &EchoFactory("alpha", true),
    &EchoFactory("beta", true),
    &EchoFactory("gamma", true),
];

/// `FACTORIES` with an `alpha` that only sends events.
const ALPHA_SENDS_EVENTS: [&dyn TaskFactory; 3] = [
    &EchoFactory("alpha", false),
    &EchoFactory("beta", true),
    &EchoFactory("gamma", true),
];

const GOOD: &str = r#"
[trigger]
repository_dispatch = ["valkey-release"]
workflow_dispatch = true

[run]
timeout = "2m"
attempts = 4
signoff = "valkey-bot <bot@example.com>"

[environments.dev]
dry_run = true

[downloads]
allowed_hosts = ["download.valkey.io"]
max_bytes = 1000

[tasks.gamma]
needs = ["beta", "alpha"]
repository = "valkey-io/valkey-container"
branch = "mainline"
delivery.pull-request = { branch = "update-{version}", title = "Update to version {version}" }
signoff = true
permissions = { contents = "write", pull_requests = "write" }
env.dev = { repository = "valkey-bot-dev/valkey-container" }

[tasks.beta]
needs = ["alpha"]
timeout = "30s"
attempts = 2

[tasks.alpha]
repository = "valkey-io/valkey-hashes"
branch = "main"
delivery = "commit"
permissions = { contents = "write" }

[tasks.alpha.settings]
word = "hello"
"#;

fn error(source: &str) -> String {
    load("tasks.toml", source, &FACTORIES)
        .unwrap_err()
        .to_string()
}

/// `GOOD` with `from` replaced by `to` (which must occur exactly once).
fn edited(from: &str, to: &str) -> String {
    assert_eq!(GOOD.matches(from).count(), 1, "{from:?} must occur once");
    GOOD.replace(from, to)
}

#[test]
fn a_good_file_loads_in_dependency_order() {
    let config = load("tasks.toml", GOOD, &FACTORIES).unwrap();
    let names: Vec<&str> = config.tasks.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["alpha", "beta", "gamma"]);
    assert_eq!(config.triggers.repository_dispatch, ["valkey-release"]);
    assert!(config.environments[&Environment::Dev].dry_run);
    assert_eq!(config.downloads.allowed_hosts, ["download.valkey.io"]);

    let beta = &config.tasks[1];
    assert_eq!(beta.timeout, Duration::from_secs(30));
    assert_eq!(beta.attempts, 2);
    assert!(beta.targets.is_empty());

    let gamma = &config.tasks[2];
    assert_eq!(
        gamma.timeout,
        Duration::from_secs(120),
        "the run's default timeout"
    );
    assert_eq!(gamma.attempts, 4);
    assert_eq!(gamma.permissions[&Permission::PullRequests], Access::Write);
    assert_eq!(
        gamma.target(Environment::Prod).unwrap().repo.to_string(),
        "valkey-io/valkey-container"
    );
    assert_eq!(
        gamma.target(Environment::Dev).unwrap().repo.to_string(),
        "valkey-bot-dev/valkey-container"
    );
    let dev_commits = gamma.target(Environment::Dev).unwrap().commits.as_ref();
    assert_eq!(dev_commits.unwrap().branch, "mainline");
    let prod_commits = gamma.target(Environment::Prod).unwrap().commits.as_ref();
    assert!(matches!(
        prod_commits.unwrap().delivery,
        DeliverySpec::PullRequest { .. }
    ));
    assert!(gamma.signoff);
    assert_eq!(
        config.run.signoff.as_deref(),
        Some("valkey-bot <bot@example.com>")
    );
}

#[test]
fn a_task_that_only_sends_events_names_its_repository_alone() {
    let source = edited("branch = \"main\"\ndelivery = \"commit\"\n", "");
    let config = load("tasks.toml", &source, &ALPHA_SENDS_EVENTS).unwrap();
    let alpha = config.tasks.iter().find(|t| t.name == "alpha").unwrap();
    let target = alpha.target(Environment::Prod).unwrap();
    assert_eq!(target.repo.to_string(), "valkey-io/valkey-hashes");
    assert_eq!(target.commits, None);

    // Given a branch and a delivery it would never use, it is refused at load time...
    let message = load("tasks.toml", GOOD, &ALPHA_SENDS_EVENTS)
        .unwrap_err()
        .to_string();
    assert!(
        message.contains(
            "`tasks.alpha`: this task changes no files, so it takes no `branch` or `delivery`"
        ),
        "{message}"
    );
    // ...as is a task that changes files without them, instead of failing mid-release.
    let message = error(&source);
    assert!(
        message.contains("`tasks.alpha`: this task changes files in its `repository`: it needs a `branch` and a `delivery` (environment prod)"),
        "{message}"
    );
}

#[test]
fn without_a_signoff_identity_signed_off_tasks_use_the_bots_own() {
    let source = edited("signoff = \"valkey-bot <bot@example.com>\"\n", "");
    let config = load("tasks.toml", &source, &FACTORIES).unwrap();
    assert!(config.tasks[2].signoff);
    assert_eq!(config.run.signoff, None);
}

#[test]
fn syntax_errors_are_located() {
    let message = error(&edited("max_bytes = 1000", "max_bytes = = 1000"));
    assert!(message.starts_with("tasks.toml:16:13: "), "{message}");
}

#[test]
fn unknown_keys_are_located() {
    let message = error(&edited("[run]\n", "[run]\ncolour = 1\n"));
    assert!(
        message.starts_with("tasks.toml:7:1: unknown field `colour`"),
        "{message}"
    );
    let message = error(&edited("attempts = 2\n", "attempts = 2\nretries = 2\n"));
    assert!(
        message.starts_with("tasks.toml:31:1: unknown field `retries`"),
        "{message}"
    );
}

#[test]
fn task_settings_errors_are_located_inside_the_settings_table() {
    let message = error(&edited("word = \"hello\"", "word = \"hello\"\nwrod = 1"));
    assert!(
        message.starts_with("tasks.toml:40:1: unknown field `wrod`"),
        "{message}"
    );
    let message = error(&edited("word = \"hello\"", "word = 5"));
    assert!(
        message.starts_with("tasks.toml:39:8: invalid type: integer `5`, expected a string"),
        "{message}"
    );
}

#[test]
fn unknown_task_names_are_refused() {
    let message = error(&edited("[tasks.beta]", "[tasks.betta]").replace("\"beta\"", "\"betta\""));
    assert_eq!(
        message,
        "tasks.toml:27:8: `tasks.betta`: unknown task `betta` (known tasks: alpha, beta, gamma)"
    );
}

#[test]
fn a_kind_lets_several_tables_use_one_task_factory() {
    let source = edited(
        "[tasks.alpha]\n",
        "[tasks.first-beta]\nkind = \"beta\"\n\n[tasks.second-beta]\nkind = \"beta\"\nneeds = [\"first-beta\"]\n\n[tasks.alpha]\n",
    );
    let config = load("tasks.toml", &source, &FACTORIES).unwrap();
    let names: Vec<&str> = config.tasks.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        ["alpha", "beta", "first-beta", "gamma", "second-beta"]
    );
    let message = error(&edited(
        "[tasks.alpha]\n",
        "[tasks.odd]\nkind = \"delta\"\n\n[tasks.alpha]\n",
    ));
    assert_eq!(
        message,
        "tasks.toml:33:8: `tasks.odd`: unknown kind `delta` (known kinds: alpha, beta, gamma)"
    );
}

#[test]
fn dangling_needs_are_refused() {
    let message = error(&edited("needs = [\"alpha\"]", "needs = [\"alhpa\"]"));
    assert_eq!(
        message,
        "tasks.toml:28:10: `tasks.beta.needs`: `alhpa` is not a task in this file"
    );
}

#[test]
fn a_task_starts_on_its_needs_outputs_unless_told_to_wait_for_their_delivery() {
    let config = load("tasks.toml", GOOD, &FACTORIES).unwrap();
    assert_eq!(config.tasks[1].start, Start::Outputs, "the default");
    let waiting = edited(
        "needs = [\"alpha\"]",
        "needs = [\"alpha\"]\nstart = \"delivered\"",
    );
    let config = load("tasks.toml", &waiting, &FACTORIES).unwrap();
    assert_eq!(config.tasks[1].start, Start::Delivered);
    let message = error(&edited(
        "needs = [\"alpha\"]",
        "needs = [\"alpha\"]\nstart = \"deliverd\"",
    ));
    assert!(
        message.starts_with(
            "tasks.toml:29:9: unknown variant `deliverd`, expected `outputs` or `delivered`"
        ),
        "{message}"
    );
}

#[test]
fn dependency_cycles_are_refused() {
    let message = error(&edited(
        "[tasks.alpha]\n",
        "[tasks.alpha]\nneeds = [\"gamma\"]\n",
    ));
    assert!(
        message
            .starts_with("tasks.toml:33:10: `tasks.alpha.needs`: dependency cycle among tasks: "),
        "{message}"
    );
}

#[test]
fn bad_values_are_refused_where_they_stand() {
    let message = error(&edited(
        "\"valkey-io/valkey-hashes\"",
        "\"valkey-io/../hashes\"",
    ));
    assert!(
        message.starts_with("tasks.toml:33:14: invalid repository \"valkey-io/../hashes\""),
        "{message}"
    );
    let message = error(&edited("update-{version}", "update-{tag}"));
    assert!(message.contains("unknown placeholder `{tag}`"), "{message}");
    assert!(message.starts_with("tasks.toml:22:"), "{message}");
    let message = error(&edited("attempts = 2", "attempts = 0"));
    assert_eq!(
        message,
        "tasks.toml:30:12: `tasks.beta.attempts`: must be at least 1"
    );
    let message = error(&edited("timeout = \"30s\"", "timeout = \"soon\""));
    assert!(message.starts_with("tasks.toml:29:"), "{message}");
    let message = error(&edited(
        "permissions = { contents = \"write\" }",
        "permissions = { contents = \"admin\" }",
    ));
    assert!(message.starts_with("tasks.toml:36:"), "{message}");
    let message = error(&edited(
        "signoff = \"valkey-bot <bot@example.com>\"",
        "signoff = \"bot@example.com\"",
    ));
    assert_eq!(
        message,
        "tasks.toml:9:11: `run.signoff`: must be one line of the form `Name <email>`"
    );
    for bad in [
        "Bot <bot@exa mple.com>",
        "Bot <x> <bot@example.com>",
        "<bot@example.com>",
    ] {
        let message = error(&edited(
            "signoff = \"valkey-bot <bot@example.com>\"",
            &format!("signoff = \"{bad}\""),
        ));
        assert!(
            message.contains("`run.signoff`: must be one line"),
            "{bad}: {message}"
        );
    }
    let message = error(&edited("delivery = \"commit\"\n", ""));
    assert!(
        message.contains("`tasks.alpha`: a task with a `branch` needs a `delivery`"),
        "{message}"
    );
    let message = error(&edited("branch = \"main\"\n", ""));
    assert!(
        message.contains(
            "`tasks.alpha`: a task with a `delivery` needs a `branch` (environment prod)"
        ),
        "{message}"
    );
    let message = error(&edited("branch = \"main\"", "branch = \"main..x\""));
    assert!(
        message.contains("`main..x` is not a valid branch name"),
        "{message}"
    );
    let message = error(&edited(
        "[\"download.valkey.io\"]",
        "[\"https://download.valkey.io\"]",
    ));
    assert!(
        message.starts_with("tasks.toml:15:18: `downloads.allowed_hosts`"),
        "{message}"
    );
}

#[test]
fn tasks_write_unless_told_to_shadow_per_task_or_for_the_whole_run() {
    use valkey_bot_core::config::{DEFAULT_SHADOW_AUTHOR, Mode};
    let config = load("tasks.toml", GOOD, &FACTORIES).unwrap();
    assert_eq!(config.run.mode, Mode::Write);
    assert!(config.tasks.iter().all(|t| t.mode == Mode::Write));
    assert_eq!(config.tasks[2].shadow.author, DEFAULT_SHADOW_AUTHOR);
    assert_eq!(config.tasks[2].shadow.branch, None);

    // One task in shadow, the old automation's branch and author named.
    let one = edited(
        "env.dev = { repository = \"valkey-bot-dev/valkey-container\" }\n",
        "env.dev = { repository = \"valkey-bot-dev/valkey-container\" }\nmode = \"shadow\"\nshadow = { branch = \"old-{version}\", author = \"valkeyrie-ops[bot]\" }\n",
    );
    let config = load("tasks.toml", &one, &FACTORIES).unwrap();
    let modes: Vec<(&str, Mode)> = config
        .tasks
        .iter()
        .map(|t| (t.name.as_str(), t.mode))
        .collect();
    assert_eq!(
        modes,
        [
            ("alpha", Mode::Write),
            ("beta", Mode::Write),
            ("gamma", Mode::Shadow)
        ]
    );
    let gamma = &config.tasks[2].shadow;
    assert_eq!(gamma.author, "valkeyrie-ops[bot]");
    assert_eq!(
        gamma
            .branch
            .as_ref()
            .unwrap()
            .render(&valkey_bot_core::Version::parse("9.1.1").unwrap()),
        "old-9.1.1"
    );

    // The whole run in shadow; a task may still be switched to write.
    let run = edited("attempts = 4\n", "attempts = 4\nmode = \"shadow\"\n").replace(
        "permissions = { contents = \"write\" }\n\n[tasks.alpha.settings]",
        "permissions = { contents = \"write\" }\nmode = \"write\"\n\n[tasks.alpha.settings]",
    );
    let config = load("tasks.toml", &run, &FACTORIES).unwrap();
    assert_eq!(config.run.mode, Mode::Shadow);
    let modes: Vec<Mode> = config.tasks.iter().map(|t| t.mode).collect();
    assert_eq!(modes, [Mode::Write, Mode::Shadow, Mode::Shadow]);
}

#[test]
fn bad_shadow_settings_are_refused_where_they_stand() {
    assert_eq!(
        error(&edited("attempts = 4\n", "attempts = 4\nmode = \"copy\"\n")),
        "tasks.toml:9:8: unknown variant `copy`, expected `write` or `shadow`"
    );
    let commit_branch = error(&edited(
        "permissions = { contents = \"write\" }\n\n[tasks.alpha.settings]",
        "permissions = { contents = \"write\" }\nshadow = { branch = \"x-{version}\" }\n\n[tasks.alpha.settings]",
    ));
    assert!(
        commit_branch.starts_with("tasks.toml:")
            && commit_branch
                .contains("`tasks.alpha.shadow.branch`: only a task with `delivery.pull-request`"),
        "{commit_branch}"
    );
    let author = error(&edited(
        "env.dev = { repository = \"valkey-bot-dev/valkey-container\" }\n",
        "env.dev = { repository = \"valkey-bot-dev/valkey-container\" }\nshadow = { author = \"Old Bot <bot@example.com>\" }\n",
    ));
    assert!(
        author.contains("`tasks.gamma.shadow.author`: a GitHub login"),
        "{author}"
    );
    let unknown = error(&edited(
        "env.dev = { repository = \"valkey-bot-dev/valkey-container\" }\n",
        "env.dev = { repository = \"valkey-bot-dev/valkey-container\" }\nshadow = { owner = \"x\" }\n",
    ));
    assert!(unknown.contains("unknown field `owner`"), "{unknown}");
}
