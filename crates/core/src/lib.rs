//! The shared vocabulary of valkey-bot: release versions, the release request an event becomes,
//! the `Task` model and its plans, `tasks.toml`, and the narrow GitHub interfaces tasks read through.

pub mod version;

pub use version::{Version, VersionError};
