//! The subcommands, callable from tests as from `main`.

use std::path::Path;
use std::process::ExitCode;

use valkey_bot_core::config::{self, Config, ConfigError};

use crate::registry;

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
    println!("{}: ok ({} tasks: {})", path.display(), names.len(), names.join(", "));
    Ok(Status::Success)
}

/// `valkey-bot list-tasks`.
pub fn list_tasks() {
    for factory in registry::factories() {
        println!("{:12} {}", factory.name(), factory.description());
    }
}
