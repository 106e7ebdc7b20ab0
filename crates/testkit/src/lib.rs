//! In-memory fakes of valkey-bot's narrow interfaces: a GitHub that keeps repositories, pull
//! requests, issues and dispatches in memory and records every write, and a download server of
//! fixed files. Tests of tasks and of the runner use them; wire-level behaviour is tested against
//! the sandbox instead.

pub mod contract;
mod downloads;
mod github;

pub use downloads::{MemoryDownloads, sha256};
pub use github::{MEMORY_USER_ID, MemoryGitHub, MemoryWorkflow, Write};
