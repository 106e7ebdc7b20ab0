//! The container task's decisions, as pure functions: given the files of
//! `valkey-io/valkey-container` (branch `mainline`) and a published release, the new
//! `versions.json`, Dockerfiles and aliases block, split into the pull request's two commits,
//! and the image tags the release ships under.
//!
//! Usage: read `versions.json`, call [`paths_to_read`], read what it names into a
//! [`RepoSnapshot`], call [`plan()`]. Nothing here does I/O.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod aliases;
pub mod dockerfile;
mod error;
pub mod jq;
mod minor;
pub mod plan;
pub mod tags;
mod task;
pub mod unstable;
pub mod versions_json;

pub use error::ContainerError;
pub use plan::{
    ContainerUpdate, PlannedCommit, ReadList, Release, RepoSnapshot, SnapshotFile, VARIANTS,
    paths_to_read, plan,
};
pub use tags::ImageTags;
pub use task::{Container, ContainerSettings, Factory};
