//! The subcommands, callable from tests as from `main`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use valkey_bot_core::config::{self, Config, ConfigError};
use valkey_bot_core::request::parse_event;
use valkey_bot_core::{Environment, ReleaseRequest, Version};
use valkey_bot_fetch::{FetchPolicy, Fetcher, Url};
use valkey_bot_github::{Credentials, GitHub, GitHubConfig};

use crate::connect::AppConnector;
use crate::notify::alert::{self, Webhook};
use crate::notify::labels::FailedRunLabels;
use crate::notify::summary;
use crate::notify::tracking::TrackingIssue;
use crate::outcome::RunReport;
use crate::registry;
use crate::runner::{Order, Runner};

/// How a command ended, as an exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 0: every task done or up to date.
    Success = 0,
    /// 1: a task failed or was skipped.
    TaskFailed = 1,
    /// 2: bad usage, configuration or event; nothing ran.
    Usage = 2,
}

impl From<Status> for ExitCode {
    fn from(status: Status) -> Self {
        ExitCode::from(status as u8)
    }
}

/// Why a configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {path}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is invalid.
    #[error(transparent)]
    Invalid(#[from] ConfigError),
}

/// Loads `path` with every registered task.
pub fn load_config(path: &Path) -> Result<Config, LoadError> {
    let name = path.display().to_string();
    let source = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: name.clone(),
        source,
    })?;
    Ok(config::load(&name, &source, &registry::factories())?)
}

/// `valkey-bot check-config PATH`.
pub fn check_config(path: &Path) -> Result<Status, LoadError> {
    let config = load_config(path)?;
    let names: Vec<&str> = config.tasks.iter().map(|t| t.name.as_str()).collect();
    println!(
        "{}: ok ({} tasks: {})",
        path.display(),
        names.len(),
        names.join(", ")
    );
    let shadows: Vec<&str> = config
        .tasks
        .iter()
        .filter(|t| t.mode == config::Mode::Shadow)
        .map(|t| t.name.as_str())
        .collect();
    if !shadows.is_empty() {
        println!(
            "in shadow mode (they write nothing): {}",
            shadows.join(", ")
        );
    }
    Ok(Status::Success)
}

/// `valkey-bot list-tasks`.
pub fn list_tasks() {
    for factory in registry::factories() {
        println!("{:12} {}", factory.name(), factory.description());
    }
}

/// Where the request of a `run` comes from, and what to do with it: `valkey-bot run`'s
/// arguments, filled by clap.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RunArgs {
    /// The configuration.
    #[arg(long, default_value = "tasks.toml")]
    pub config: PathBuf,
    /// A GitHub webhook payload file; defaults to GITHUB_EVENT_PATH inside GitHub Actions.
    #[arg(long, requires = "event_name")]
    pub event: Option<PathBuf>,
    /// The event's name: repository_dispatch or workflow_dispatch.
    #[arg(long, requires = "event")]
    pub event_name: Option<String>,
    /// Run for this version without an event (local use).
    #[arg(long, conflicts_with = "event")]
    pub version: Option<String>,
    /// Environment of a run started with --version.
    #[arg(long, requires = "version", value_parser = environment_parser())]
    pub environment: Option<Environment>,
    /// Only these tasks (comma-separated), and what they need.
    #[arg(long, value_delimiter = ',')]
    pub only: Option<Vec<String>>,
    /// Plan and print the changes as diffs; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the run report as JSON to this file.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Keep download digests and GitHub's answers here between runs (always revalidated with
    /// the server).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Allow the GITHUB_TOKEN fallback for a `prod` run that writes (refused otherwise;
    /// also VALKEY_BOT_ALLOW_GITHUB_TOKEN=true).
    #[arg(long)]
    pub allow_github_token: bool,
}

/// `--environment`'s values: the environments' names, as in events and `tasks.toml`.
pub(crate) fn environment_parser() -> impl clap::builder::TypedValueParser<Value = Environment> {
    use clap::builder::TypedValueParser as _;
    const ALL: [Environment; 2] = [Environment::Prod, Environment::Dev];
    clap::builder::PossibleValuesParser::new(ALL.map(Environment::as_str)).try_map(|name| {
        ALL.into_iter()
            .find(|environment| environment.as_str() == name)
            .ok_or("not an environment")
    })
}

/// Set to `true` to allow the `GITHUB_TOKEN` fallback for a `prod` run that writes (as
/// `--allow-github-token` does). That token is not narrowed per task and is confined to the
/// workflow's own repository, so it cannot do a release: without this, such a run is refused.
pub const ALLOW_TOKEN_VARIABLE: &str = "VALKEY_BOT_ALLOW_GITHUB_TOKEN";

/// Refuses (before anything runs) a `prod` run that would write with a plain token, unless
/// explicitly allowed.
pub fn check_plain_token(
    credentials: &Credentials,
    order: &Order,
    allowed: bool,
) -> anyhow::Result<()> {
    if matches!(credentials, Credentials::Token(_))
        && order.request().environment == Environment::Prod
        && order.tasks_write()
        && !allowed
    {
        anyhow::bail!(
            "refusing a `prod` run that writes with GITHUB_TOKEN: it is not narrowed per task and cannot reach the other repositories; \
             set VALKEY_BOT_APP_ID and VALKEY_BOT_APP_PRIVATE_KEY, or allow it explicitly with --allow-github-token ({ALLOW_TOKEN_VARIABLE}=true)"
        );
    }
    Ok(())
}

/// The request of a run: an explicit event file, the GitHub Actions event, or `--version`.
pub fn request_for(
    args: &RunArgs,
    config: &Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<ReleaseRequest> {
    let from_file = |path: &Path, name: &str| -> anyhow::Result<ReleaseRequest> {
        let payload = std::fs::read(path)
            .with_context(|| format!("cannot read event file {}", path.display()))?;
        parse_event(name, &payload, &config.triggers)
            .with_context(|| format!("refused event {}", path.display()))
    };
    let mut request = match (&args.event, &args.event_name, &args.version) {
        (Some(path), Some(name), None) => from_file(path, name)?,
        (Some(_), None, _) | (None, Some(_), _) => {
            anyhow::bail!("--event and --event-name go together")
        }
        (Some(_), Some(_), Some(_)) => anyhow::bail!("give either an event or --version, not both"),
        (None, None, Some(version)) => {
            let version = Version::parse(version)?;
            ReleaseRequest::local(version, args.environment.unwrap_or(Environment::Prod))
        }
        (None, None, None) => match (env("GITHUB_EVENT_NAME"), env("GITHUB_EVENT_PATH")) {
            (Some(name), Some(path)) => from_file(Path::new(&path), &name)?,
            _ => anyhow::bail!(
                "no event: give --version, or --event with --event-name, or run inside GitHub Actions"
            ),
        },
    };
    if let Some(only) = &args.only {
        request.tasks = Some(only.clone());
    }
    Ok(request)
}

/// A runner over `config` with App (or token) access through `github` and downloads through `fetcher`.
pub fn runner(config: Config, github: GitHub, fetcher: Fetcher) -> Runner {
    let server_url = github.config().server_url.clone();
    Runner {
        config: Arc::new(config),
        connector: Arc::new(AppConnector::new(github)),
        downloads: Arc::new(fetcher),
        server_url,
        run_date: today_utc(),
        observers: Vec::new(),
    }
}

/// A fetcher allowed to download from `config`'s hosts and from the GitHub server.
pub fn fetcher(
    config: &Config,
    server_url: &str,
    cache_dir: Option<&Path>,
) -> anyhow::Result<Fetcher> {
    fetcher_with(fetch_policy(config, server_url)?, cache_dir)
}

/// The download policy of `[downloads]`: its hosts plus the GitHub server's, its size limit.
pub fn fetch_policy(config: &Config, server_url: &str) -> anyhow::Result<FetchPolicy> {
    let mut hosts = config.downloads.allowed_hosts.clone();
    let server = Url::parse(server_url)
        .with_context(|| format!("GITHUB_SERVER_URL {server_url:?} is not a URL"))?;
    // The server's own port, if it has one other than the default (GitHub Enterprise Server).
    hosts.extend(server.host_str().map(|host| match server.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }));
    let mut policy = FetchPolicy::new(hosts);
    policy.max_bytes = config.downloads.max_bytes;
    Ok(policy)
}

/// A fetcher with `policy`, caching on disk in `cache_dir` if given.
pub fn fetcher_with(policy: FetchPolicy, cache_dir: Option<&Path>) -> anyhow::Result<Fetcher> {
    let mut builder = Fetcher::builder(policy);
    if let Some(dir) = cache_dir {
        builder = builder.cache_dir(dir);
    }
    Ok(builder.build()?)
}

/// Today's date, UTC, `YYYY-MM-DD`.
pub fn today_utc() -> String {
    humantime::format_rfc3339(std::time::SystemTime::now()).to_string()[..10].to_owned()
}

/// Where the end of a run is reported.
#[derive(Default)]
pub struct Outputs<'a> {
    /// Write the run report as JSON here.
    pub report: Option<&'a Path>,
    /// Append the Markdown summary here (`GITHUB_STEP_SUMMARY`).
    pub step_summary: Option<&'a Path>,
    /// Print each task's details in a collapsible group (inside GitHub Actions).
    pub actions_groups: bool,
    /// Send failures and security detections here.
    pub alerts: Option<&'a Webhook>,
}

impl<'a> Outputs<'a> {
    /// The outputs GitHub Actions provides, from the environment.
    pub fn from_env(
        report: Option<&'a Path>,
        step_summary: Option<&'a Path>,
        alerts: Option<&'a Webhook>,
    ) -> Self {
        Self {
            report,
            step_summary,
            actions_groups: std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true"),
            alerts,
        }
    }
}

/// What a run prints on standard output at its end: per task (inside GitHub Actions, a
/// collapsible group) what it did, its notes and its diff, then the table. Everything that comes
/// from outside is inert to the Actions runner: lines are [`inert`], and inside Actions each
/// group's body is [`fenced`] with `::stop-commands::` (a diff shows files as they are).
///
/// [`inert`]: crate::notify::actions::inert
/// [`fenced`]: crate::notify::actions::fenced
pub fn stdout_text(report: &RunReport, actions_groups: bool) -> String {
    use crate::notify::actions::{fenced, inert};
    let mut out = String::new();
    for task in &report.tasks {
        let diff = task.diff.as_deref().filter(|d| !d.is_empty());
        if actions_groups {
            let mut body = format!("{}\n", inert(&crate::report::detail(task)));
            for note in &task.notes {
                body.push_str(&format!("note: {}\n", inert(note)));
            }
            body.push_str(diff.unwrap_or_default());
            out.push_str(&format!(
                "::group::{}: {}\n{}::endgroup::\n",
                task.name,
                task.outcome.label(),
                fenced(&body)
            ));
        } else if let Some(diff) = diff {
            let kind = match task.outcome {
                crate::outcome::Outcome::Shadow { .. } => "shadow: existing → planned",
                _ => "dry run",
            };
            out.push_str(&format!("# {} ({kind})\n{diff}\n", task.name));
        }
    }
    out.push_str(&crate::report::table(report));
    out
}

/// Reports the end of a run: diffs (dry run), per-task groups, the table, the JSON report, the
/// step summary and the alert. A report or alert that cannot be delivered is logged as an error
/// and does not change the exit status, which is the run's own.
pub async fn finish(
    report: &RunReport,
    server_url: &str,
    outputs: &Outputs<'_>,
) -> anyhow::Result<Status> {
    print!("{}", stdout_text(report, outputs.actions_groups));
    if let Some(path) = outputs.report {
        let json = serde_json::to_vec_pretty(report)?;
        if let Err(e) = std::fs::write(path, json) {
            tracing::error!("cannot write the report to {}: {e}", path.display());
        }
    }
    let mut markdown = summary::markdown(report, server_url);
    if outputs.alerts.is_none() && report.request.environment == Environment::Prod {
        tracing::warn!(
            "{} is not set: this prod run sends no alert, whatever fails",
            alert::WEBHOOK_VARIABLE
        );
        markdown = format!("{}{markdown}", summary::no_alerts_warning());
    }
    if let Some(path) = outputs.step_summary
        && let Err(e) = summary::append(path, &markdown)
    {
        tracing::error!("cannot append the run summary to {}: {e}", path.display());
    }
    if let (Some(webhook), Some(payload)) = (outputs.alerts, alert::payload(report))
        && let Err(e) = webhook.send(&payload).await
    {
        tracing::error!("{e}");
    }
    Ok(if report.failed() || report.shadow_disagrees() {
        Status::TaskFailed
    } else {
        Status::Success
    })
}

/// Adds the release tracking issue (when `[tracking]` is configured and the run writes) and
/// the labelling of failed runs' pull requests.
pub async fn with_notifications(mut runner: Runner, dry_run: bool) -> Runner {
    if let Some(tracking) = runner.config.tracking.clone().filter(|_| !dry_run) {
        match runner.connector.issues(&tracking.repository).await {
            Ok(issues) => {
                let needs = runner
                    .config
                    .tasks
                    .iter()
                    .map(|t| (t.name.clone(), t.needs.clone()))
                    .collect();
                let tracker = TrackingIssue::new(issues, tracking, &runner.server_url, needs);
                runner.observers.push(Arc::new(tracker));
            }
            Err(e) => tracing::error!("the release tracking issue cannot be kept: {e}"),
        }
    }
    runner.observers.push(Arc::new(FailedRunLabels {
        connector: Arc::clone(&runner.connector),
        config: Arc::clone(&runner.config),
    }));
    runner
}

/// `valkey-bot run`.
pub async fn run(args: RunArgs) -> anyhow::Result<Status> {
    let config = load_config(&args.config)?;
    let request = request_for(&args, &config, &|name| {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    })?;
    let mut github_config = GitHubConfig::from_env();
    github_config.cache_dir = args.cache_dir.clone();
    let credentials = Credentials::from_env()?;
    let fetcher = fetcher(
        &config,
        &github_config.server_url,
        args.cache_dir.as_deref(),
    )?;
    let allowed = args.allow_github_token
        || std::env::var(ALLOW_TOKEN_VARIABLE).is_ok_and(|v| v.trim() == "true");
    let github = GitHub::new(github_config, &credentials)?;
    let runner = runner(config, github.clone(), fetcher);
    let order = runner.order(&request, args.dry_run);
    check_plain_token(&credentials, &order, allowed)?;
    let result = run_and_finish(runner, &order, &args).await;
    // Whatever happened, no minted token outlives the run.
    let revoked = github.revoke_tokens().await;
    tracing::debug!(revoked, "revoked the run's installation tokens");
    result
}

async fn run_and_finish(runner: Runner, order: &Order, args: &RunArgs) -> anyhow::Result<Status> {
    let runner = with_notifications(runner, order.dry_run()).await;
    let report = runner.run(order).await?;
    let step_summary = std::env::var_os("GITHUB_STEP_SUMMARY").map(PathBuf::from);
    let webhook = Webhook::from_env();
    let outputs = Outputs::from_env(
        args.report.as_deref(),
        step_summary.as_deref(),
        webhook.as_ref(),
    );
    finish(&report, &runner.server_url, &outputs).await
}

/// The environment variable holding the token `valkey-bot sandbox --workflow-token-repository`
/// declares a workflow token (a token never goes on the command line, where `ps` shows it).
pub const SANDBOX_WORKFLOW_TOKEN_ENV: &str = "VALKEY_BOT_SANDBOX_WORKFLOW_TOKEN";

/// `valkey-bot sandbox`: serves until interrupted; the first line on stdout is the base URL.
/// With `app` (its id, public key file and slug) the sandbox plays that GitHub App. With
/// `workflow_repository` (`OWNER/NAME`) the token in [`SANDBOX_WORKFLOW_TOKEN_ENV`] acts as a
/// workflow's `GITHUB_TOKEN` confined to that repository; any other plain token keeps full access
/// when no App is played.
pub async fn sandbox(
    root: std::path::PathBuf,
    listen: std::net::SocketAddr,
    app: Option<(u64, std::path::PathBuf, String)>,
    workflow_repository: Option<String>,
) -> anyhow::Result<Status> {
    let mut config = valkey_bot_sandbox::SandboxConfig::new(root);
    config.listen = listen;
    if let Some(repository) = workflow_repository {
        let token = std::env::var(SANDBOX_WORKFLOW_TOKEN_ENV)
            .ok()
            .filter(|token| !token.trim().is_empty())
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "--workflow-token-repository {repository}: set the token to declare in \
                     {SANDBOX_WORKFLOW_TOKEN_ENV}"
                )
            })?;
        config = config.with_workflow_token(token, repository);
    }
    if let Some((app_id, key_file, slug)) = app {
        let public_key_pem = std::fs::read_to_string(&key_file)
            .map_err(|error| anyhow::anyhow!("--app-public-key {}: {error}", key_file.display()))?;
        config.app = Some(valkey_bot_sandbox::AppConfig {
            app_id,
            slug,
            public_key_pem,
        });
    }
    let sandbox = valkey_bot_sandbox::Sandbox::start(config).await?;
    println!("{}", sandbox.base_url());
    tokio::signal::ctrl_c().await?;
    sandbox.shutdown().await;
    Ok(Status::Success)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Outcome, TaskReport};

    fn report(environment: Environment, error: &str) -> RunReport {
        RunReport {
            request: ReleaseRequest::local(Version::parse("9.1.1").unwrap(), environment),
            dry_run: false,
            tasks: vec![TaskReport {
                name: "website".into(),
                outcome: Outcome::Failed {
                    error: error.into(),
                    security: false,
                    next_step: "Fix it [here](https://evil.example)".into(),
                },
                duration: std::time::Duration::ZERO,
                delivered: Vec::new(),
                notes: Vec::new(),
                alerts: Vec::new(),
                diff: None,
                outputs: serde_json::Value::Null,
                attempts: 1,
            }],
        }
    }

    #[tokio::test]
    async fn a_prod_run_without_an_alert_webhook_warns_loudly_in_the_summary() {
        let dir = tempfile::tempdir().unwrap();
        for (environment, warned) in [(Environment::Prod, true), (Environment::Dev, false)] {
            let path = dir.path().join(format!("{environment}.md"));
            let outputs = Outputs {
                step_summary: Some(&path),
                ..Outputs::default()
            };
            let status = finish(&report(environment, "boom"), "https://github.com", &outputs)
                .await
                .unwrap();
            assert_eq!(status, Status::TaskFailed);
            let text = std::fs::read_to_string(&path).unwrap();
            assert_eq!(
                text.starts_with("> [!CAUTION]\n> **No alerts are sent for this `prod` run**"),
                warned,
                "{text}"
            );
            assert_eq!(text.contains("VALKEY_BOT_ALERT_WEBHOOK"), warned, "{text}");
        }
    }

    #[test]
    fn the_summary_shows_outside_markdown_as_written() {
        let text = summary::markdown(
            &report(
                Environment::Prod,
                "see [the fix](https://evil.example) <img src=x> *now*",
            ),
            "https://github.com",
        );
        assert!(
            text.contains(r"see \[the fix\](https://evil.example) \<img src=x\> \*now\*"),
            "{text}"
        );
        assert!(
            text.contains(r"Fix it \[here\](https://evil.example)"),
            "{text}"
        );
        assert!(!text.contains("[the fix]("), "{text}");
    }

    #[test]
    fn the_summary_shows_a_shadow_diff_folded_and_fenced() {
        let mut run = report(Environment::Prod, "unused");
        run.tasks[0].outcome = Outcome::Shadow {
            verdict: crate::shadow::Verdict::Differs,
            detail: "differs".into(),
        };
        run.tasks[0].diff = Some("--- a/x\n+++ b/x\n-<b>old</b>\n+```\n".into());
        let text = summary::markdown(&run, "https://github.com");
        assert!(
            text.contains(
                "<details><summary>website: how the existing change differs (existing → planned)</summary>\n\n```diff\n--- a/x\n+++ b/x\n-<b>old</b>\n+\'\'\'\n```\n"
            ),
            "{text}"
        );
        run.tasks[0].diff = None;
        assert!(!summary::markdown(&run, "https://github.com").contains("<details>"));
    }

    /// The shipped `tasks.toml`, `extra` appended.
    fn tasks_toml(extra: &str) -> Config {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tasks.toml");
        let source = format!("{}\n{extra}", std::fs::read_to_string(path).unwrap());
        config::load("tasks.toml", &source, &registry::factories()).unwrap()
    }

    #[test]
    fn a_plain_token_is_refused_for_a_prod_run_that_writes_unless_allowed() {
        let token = Credentials::Token("ghs_x".to_owned().into());
        let plain = tasks_toml("");
        let prod = ReleaseRequest::local(Version::parse("9.1.1").unwrap(), Environment::Prod);
        let writes = Order::new(&plain, &prod, false);
        let error = check_plain_token(&token, &writes, false).unwrap_err();
        assert!(
            error.to_string().contains("--allow-github-token"),
            "{error}"
        );
        assert!(error.to_string().contains(ALLOW_TOKEN_VARIABLE), "{error}");
        assert!(check_plain_token(&token, &writes, true).is_ok(), "allowed");
        let dry = Order::new(&plain, &prod, true);
        assert!(check_plain_token(&token, &dry, false).is_ok(), "a dry run");
        let dev = ReleaseRequest::local(Version::parse("9.1.1").unwrap(), Environment::Dev);
        assert!(
            check_plain_token(&token, &Order::new(&plain, &dev, false), false).is_ok(),
            "dev"
        );
        let app = Credentials::App {
            app_id: 1,
            private_key: "pem".to_owned().into(),
        };
        assert!(check_plain_token(&app, &writes, false).is_ok(), "the App");
    }

    #[test]
    fn a_run_whose_every_task_shadows_writes_nothing_so_a_plain_token_may_read_for_it() {
        let token = Credentials::Token("ghs_x".to_owned().into());
        let prod = ReleaseRequest::local(Version::parse("9.1.1").unwrap(), Environment::Prod);
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tasks.toml");
        let shipped = std::fs::read_to_string(path).unwrap();
        let shadow = shipped.replacen("\n[run]\n", "\n[run]\nmode = \"shadow\"\n", 1);
        let config = config::load("tasks.toml", &shadow, &registry::factories()).unwrap();
        let order = Order::new(&config, &prod, false);
        assert!(!order.dry_run() && !order.tasks_write());
        assert!(config.tasks.iter().all(|t| order.shadows(&t.name)));
        assert!(check_plain_token(&token, &order, false).is_ok());
        // One task back in write mode: the run writes again.
        let one_writes = shadow.replacen(
            "[tasks.checksums]\n",
            "[tasks.checksums]\nmode = \"write\"\n",
            1,
        );
        let config = config::load("tasks.toml", &one_writes, &registry::factories()).unwrap();
        let order = Order::new(&config, &prod, false);
        assert!(order.tasks_write() && !order.shadows("checksums") && order.shadows("website"));
        assert!(check_plain_token(&token, &order, false).is_err());
    }

    #[test]
    fn the_token_check_reads_the_one_dry_run_decision_of_the_order() {
        let token = Credentials::Token("ghs_x".to_owned().into());
        let mut prod = ReleaseRequest::local(Version::parse("9.1.1").unwrap(), Environment::Prod);
        // The environment's `dry_run` in tasks.toml makes the run a dry run ...
        let dry_prod = tasks_toml("[environments.prod]\ndry_run = true\n");
        let order = Order::new(&dry_prod, &prod, false);
        assert!(order.dry_run());
        assert!(check_plain_token(&token, &order, false).is_ok());
        // ... and so does the request's own `dry_run`.
        prod.dry_run = true;
        let order = Order::new(&tasks_toml(""), &prod, false);
        assert!(order.dry_run());
        assert!(check_plain_token(&token, &order, false).is_ok());
        prod.dry_run = false;
        assert!(!Order::new(&tasks_toml(""), &prod, false).dry_run());
    }

    /// `valkey-bot run`'s arguments, parsed as the binary parses them.
    fn run_args(args: &[&str]) -> Result<RunArgs, clap::Error> {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            run: RunArgs,
        }
        let words = std::iter::once("run").chain(args.iter().copied());
        <Cli as clap::Parser>::try_parse_from(words).map(|cli| cli.run)
    }

    #[test]
    fn clap_fills_the_run_arguments() {
        let args = run_args(&[
            "--version",
            "9.1.1",
            "--environment",
            "dev",
            "--only",
            "checksums,website",
            "--dry-run",
        ])
        .unwrap();
        assert_eq!(args.config, PathBuf::from("tasks.toml"));
        assert_eq!(args.version.as_deref(), Some("9.1.1"));
        assert_eq!(args.environment, Some(Environment::Dev));
        assert_eq!(
            args.only,
            Some(vec!["checksums".to_owned(), "website".to_owned()])
        );
        assert!(args.dry_run);
        assert!(!args.allow_github_token);

        let error = run_args(&["--version", "9.1.1", "--environment", "staging"]).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("staging") && text.contains("prod, dev"),
            "{text}"
        );
        // --environment goes with --version, --event with --event-name.
        assert!(run_args(&["--environment", "prod"]).is_err());
        assert!(run_args(&["--event", "event.json"]).is_err());
    }
}
