//! The container task's decisions, as pure functions: given the files of
//! `valkey-io/valkey-container` (branch `mainline`) and a published release, the new
//! `versions.json`, Dockerfiles and aliases block, split into the pull request's two commits,
//! and the image tags the release ships under.
//!
//! Usage: read `versions.json`, call [`paths_to_read`], read what it names into a
//! [`RepoSnapshot`], call [`plan()`]. Nothing here does I/O.
//!
//! The repository generates its Dockerfiles from templates (`apply-templates.sh`); the pieces
//! that reproduce that are [`render`] (a line's directories: warning block, rendered template,
//! `docker-entrypoint.sh` with its mode, variants debian/alpine/pkg, no pkg for `unstable`) and
//! [`official_images`] (the base images' versions from docker-library/official-images). The
//! image tags ([`tags`]) already cover pkg; [`plan()`] does not use the renderer yet.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod aliases;
pub mod dockerfile;
mod error;
pub mod jq;
mod minor;
pub mod official_images;
pub mod plan;
pub mod render;
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
