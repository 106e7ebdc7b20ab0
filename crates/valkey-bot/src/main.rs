//! The `valkey-bot` command line. Exit codes: 0 every task done or up to date; 1 a task failed;
//! 2 bad usage, configuration or event (nothing ran).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use valkey_bot::commands::{self, RunArgs, Status};
use valkey_bot::notify::actions::ActionsFormat;
use valkey_bot::rehearse::{self, RehearseArgs};
use valkey_bot_core::Environment;

/// Runs what must happen after a Valkey release.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// Log format on standard error (`auto`: GitHub Actions workflow commands when
    /// GITHUB_ACTIONS=true, readable lines otherwise).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Auto)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    /// `actions` inside GitHub Actions, `text` elsewhere.
    Auto,
    /// GitHub Actions workflow commands: errors and warnings become annotations.
    Actions,
    /// Readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum EnvironmentArg {
    Prod,
    Dev,
}

#[derive(Subcommand)]
enum Command {
    /// Run the release tasks for an event (or a version).
    Run {
        /// The configuration.
        #[arg(long, default_value = "tasks.toml")]
        config: PathBuf,
        /// A GitHub webhook payload file; defaults to GITHUB_EVENT_PATH inside GitHub Actions.
        #[arg(long, requires = "event_name")]
        event: Option<PathBuf>,
        /// The event's name: repository_dispatch or workflow_dispatch.
        #[arg(long, requires = "event")]
        event_name: Option<String>,
        /// Run for this version without an event (local use).
        #[arg(long, conflicts_with = "event")]
        version: Option<String>,
        /// Environment of a run started with --version.
        #[arg(long, value_enum, requires = "version")]
        environment: Option<EnvironmentArg>,
        /// Only these tasks (comma-separated), and what they need.
        #[arg(long, value_delimiter = ',')]
        only: Option<Vec<String>>,
        /// Plan and print the changes as diffs; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write the run report as JSON to this file.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Keep download digests here between runs (always revalidated with the server).
        #[arg(long)]
        cache_dir: Option<PathBuf>,
        /// Allow the GITHUB_TOKEN fallback for a `prod` run that writes (refused otherwise;
        /// also VALKEY_BOT_ALLOW_GITHUB_TOKEN=true).
        #[arg(long)]
        allow_github_token: bool,
    },
    /// Check that every released version is consistent across the tasks' repositories.
    Audit {
        /// The configuration.
        #[arg(long, default_value = "tasks.toml")]
        config: PathBuf,
        /// Write the audit as JSON (with the request count per repository) to this file.
        #[arg(long)]
        report: Option<PathBuf>,
        /// Open, update or close the "Release consistency" issue in the automation repository.
        #[arg(long)]
        issue: bool,
        /// Download every linked binary instead of a sample.
        #[arg(long)]
        deep: bool,
        /// Keep download digests here between audits (always revalidated with the server).
        #[arg(long)]
        cache_dir: Option<PathBuf>,
        /// The repository whose version tags are the releases.
        #[arg(long, default_value = valkey_bot::audit::DEFAULT_SOURCE)]
        source: valkey_bot_core::RepoId,
    },
    /// Rehearse a whole release against a local GitHub: no network, no account.
    Rehearse {
        /// The version to release (default: a demo version).
        version: Option<String>,
        /// Keep the repositories in this (new or empty) directory for inspection.
        #[arg(long)]
        keep: Option<PathBuf>,
    },
    /// Serve a local GitHub over the git repositories under a directory, until interrupted.
    Sandbox {
        /// Holds <owner>/<repo>(.git) repositories and _downloads/.
        #[arg(long)]
        root: PathBuf,
        /// Address to listen on (loopback).
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: SocketAddr,
        /// Play this GitHub App: accept only its JWTs and the installation tokens they mint
        /// (without it, any token has full access, like a classic personal token).
        #[arg(long, requires = "app_public_key")]
        app_id: Option<u64>,
        /// The App's RSA public key (PEM file), to check its JWTs.
        #[arg(long, requires = "app_id")]
        app_public_key: Option<PathBuf>,
        /// The App's slug; its bot user is `<slug>[bot]`.
        #[arg(long, default_value = "valkey-automation-bot")]
        app_slug: String,
    },
    /// Validate a tasks.toml and exit.
    CheckConfig {
        /// The file to check.
        #[arg(default_value = "tasks.toml")]
        path: PathBuf,
    },
    /// List the registered tasks.
    ListTasks,
    /// Write a new task crate, crates/task-NAME, from templates (see docs/adding-a-task.md).
    NewTask {
        /// The task's name: lowercase letters, digits and `-`.
        name: String,
        /// Where task crates live.
        #[arg(long, default_value = "crates")]
        crates_dir: PathBuf,
    },
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("VALKEY_BOT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,valkey_bot=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let in_actions = std::env::var("GITHUB_ACTIONS").as_deref() == Ok("true");
    match format {
        LogFormat::Actions => builder.with_ansi(false).event_format(ActionsFormat).init(),
        LogFormat::Auto if in_actions => {
            builder.with_ansi(false).event_format(ActionsFormat).init()
        }
        LogFormat::Auto | LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

async fn dispatch(command: Command) -> anyhow::Result<Status> {
    match command {
        Command::Run {
            config,
            event,
            event_name,
            version,
            environment,
            only,
            dry_run,
            report,
            cache_dir,
            allow_github_token,
        } => {
            commands::run(RunArgs {
                config,
                event,
                event_name,
                version,
                environment: environment.map(|e| match e {
                    EnvironmentArg::Prod => Environment::Prod,
                    EnvironmentArg::Dev => Environment::Dev,
                }),
                only,
                dry_run,
                report,
                cache_dir,
                allow_github_token,
            })
            .await
        }
        Command::Audit {
            config,
            report,
            issue,
            deep,
            cache_dir,
            source,
        } => {
            valkey_bot::audit::run(valkey_bot::audit::AuditArgs {
                config,
                report,
                issue,
                deep,
                cache_dir,
                source,
            })
            .await
        }
        Command::Rehearse { version, keep } => {
            rehearse::rehearse(RehearseArgs { version, keep }).await
        }
        Command::Sandbox {
            root,
            listen,
            app_id,
            app_public_key,
            app_slug,
        } => {
            let app = app_id
                .zip(app_public_key)
                .map(|(id, key)| (id, key, app_slug));
            commands::sandbox(root, listen, app).await
        }
        Command::CheckConfig { path } => Ok(commands::check_config(&path)?),
        Command::ListTasks => {
            commands::list_tasks();
            Ok(Status::Success)
        }
        Command::NewTask { name, crates_dir } => {
            let scaffold = valkey_bot::scaffold::new_task(&name, &crates_dir)?;
            println!(
                "wrote {}: {}",
                scaffold.dir.display(),
                scaffold.files.join(", ")
            );
            println!("now add by hand:");
            for line in &scaffold.hand_edits {
                println!("  {line}");
            }
            Ok(Status::Success)
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return Status::Usage.into();
        }
    };
    match runtime.block_on(dispatch(cli.command)) {
        Ok(status) => status.into(),
        Err(error) => {
            // The error may quote outside text (an event, a file): inert on its line.
            let message = valkey_bot::notify::actions::inert(&format!("{error:#}"));
            eprintln!("error: {message}");
            Status::Usage.into()
        }
    }
}
