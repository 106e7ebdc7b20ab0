//! The `valkey-bot` command line. Exit codes: 0 every task done or up to date; 1 a task failed;
//! 2 bad usage, configuration or event (nothing ran).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use valkey_bot::commands::{self, RunArgs, Status};
use valkey_bot::notify::actions::ActionsFormat;
use valkey_bot::rehearse::{self, RehearseArgs};

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

#[derive(Subcommand)]
enum Command {
    /// Run the release tasks for an event (or a version).
    Run(RunArgs),
    /// Plan a release against real GitHub with no credentials (or any token): prints every
    /// change as a diff and the rate-limit quota spent; writes nothing.
    Plan(valkey_bot::plan::PlanArgs),
    /// Check that every released version is consistent across the tasks' repositories.
    Audit(valkey_bot::audit::AuditArgs),
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
        /// Treat the token in VALKEY_BOT_SANDBOX_WORKFLOW_TOKEN as a workflow's GITHUB_TOKEN
        /// confined to this OWNER/NAME repository (other plain tokens keep full access).
        #[arg(long, value_name = "OWNER/NAME")]
        workflow_token_repository: Option<String>,
    },
    /// Exercise every GitHub endpoint the client uses once on a throwaway repository; print
    /// where the answers differ from GitHub's description or the sandbox's (exit 1 if any).
    Smoke(valkey_bot::smoke::SmokeArgs),
    /// Validate a tasks.toml and exit.
    CheckConfig {
        /// The file to check.
        #[arg(default_value = "tasks.toml")]
        path: PathBuf,
    },
    /// List the registered tasks.
    ListTasks,
    /// Check the GitHub App's setup for every task of tasks.toml (installation, permissions,
    /// branch rules, labels, sign-off identity, alert webhook) and print one table; exit 0 only
    /// when a release would not fail for setup reasons.
    Doctor(valkey_bot::doctor::DoctorArgs),
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
        Command::Run(args) => commands::run(args).await,
        Command::Plan(args) => valkey_bot::plan::run(args).await,
        Command::Audit(args) => valkey_bot::audit::run(args).await,
        Command::Rehearse { version, keep } => {
            rehearse::rehearse(RehearseArgs { version, keep }).await
        }
        Command::Sandbox {
            root,
            listen,
            app_id,
            app_public_key,
            app_slug,
            workflow_token_repository,
        } => {
            let app = app_id
                .zip(app_public_key)
                .map(|(id, key)| (id, key, app_slug));
            commands::sandbox(root, listen, app, workflow_token_repository).await
        }
        Command::Smoke(args) => valkey_bot::smoke::run(args).await,
        Command::CheckConfig { path } => Ok(commands::check_config(&path)?),
        Command::Doctor(args) => valkey_bot::doctor::run(args).await,
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
