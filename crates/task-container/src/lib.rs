//! The container task's decisions, as pure functions: given the files of
//! `valkey-io/valkey-container` (branch `mainline`) and a published release, the new
//! `versions.json`, Dockerfiles and aliases block, split into the pull request's two commits,
//! and the image tags the release ships under.
//!
//! Usage: read `versions.json`, make a [`Planner`], read what [`Planner::to_read`] names into a
//! [`RepoSnapshot`] and the [`External`] inputs, call [`Planner::plan`]. Nothing but the task
//! ([`Container`]) does I/O.
//!
//! The repository generates its Dockerfiles from templates (`apply-templates.sh`); the pieces
//! that reproduce that are [`render`] (a line's directories: warning block, rendered template,
//! `docker-entrypoint.sh` with its mode, for the configured variants: debian/alpine/pkg, no pkg
//! for `unstable`) and
//! [`official_images`] (the base images' versions from docker-library/official-images). The
//! image tags ([`tags`]) cover every variant.
//!
//! Where each input comes from (all read through the GitHub API by [`Container`]):
//!
//! - the templates, `valkey-sbom.jq`, `docker-entrypoint.sh`, `versions.json`, the aliases
//!   script and the line's committed files: the container repository at the head of its branch
//!   (the pull request's base commit);
//! - `.template-helper-functions`: docker-library/bashbrew's `scripts/template-helper-functions.jq`
//!   at the commit pinned in `tasks.toml` (`helper-functions`), as `apply-templates.sh` pins it;
//! - the base images: docker-library/official-images' `library/debian` and `library/alpine` at
//!   the reference configured in `tasks.toml` (`official-images`), as `versions.sh` reads them.

#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod aliases;
mod audit;
mod error;
pub mod jq;
mod minor;
pub mod official_images;
pub mod plan;
mod release;
pub mod render;
pub mod tags;
mod task;
pub mod unstable;
pub mod versions_json;

pub use error::ContainerError;
pub use plan::{
    ContainerUpdate, Drift, External, NamedText, Planner, ReadList, RepoSnapshot, SnapshotFile,
};
pub use release::Release;
pub use render::Variant;
pub use tags::ImageTags;
pub use task::{Container, ContainerSettings, FACTORY, HelperFunctions, OfficialImages};
pub use versions_json::BaseImageChange;
