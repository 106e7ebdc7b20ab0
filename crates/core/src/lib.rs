//! The shared vocabulary of valkey-bot: release versions, the release request an event becomes,
//! the `Task` model and its plans, `tasks.toml`, and the narrow GitHub interfaces tasks read through.

pub mod audit;
pub mod config;
pub mod digest;
pub mod download;
pub mod github;
pub mod outputs;
pub mod plan;
pub mod repo;
pub mod request;
pub mod task;
pub mod template;
pub mod version;

pub use digest::Sha256Digest;
pub use plan::Plan;
pub use repo::RepoId;
pub use request::{Environment, ReleaseRequest};
pub use task::{Task, TaskContext, TaskError, TaskFactory};
pub use version::{Version, VersionError};
