//! The `valkey-bot` command line. Exit codes: 0 every task done or up to date; 1 a task failed;
//! 2 bad usage, configuration or event (nothing ran).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use valkey_bot::commands;

/// Runs what must happen after a Valkey release.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a tasks.toml and exit.
    CheckConfig {
        /// The file to check.
        #[arg(default_value = "tasks.toml")]
        path: PathBuf,
    },
    /// List the registered tasks.
    ListTasks,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::CheckConfig { path } => commands::check_config(&path).map_err(anyhow::Error::from),
        Command::ListTasks => {
            commands::list_tasks();
            Ok(commands::Status::Success)
        }
    };
    match result {
        Ok(status) => status.into(),
        Err(error) => {
            eprintln!("error: {error:#}");
            commands::Status::Usage.into()
        }
    }
}
