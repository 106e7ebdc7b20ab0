//! The `docs` task: after every new final `X.Y.0` line, one pull request to valkey-io/valkey-doc
//! (branch `update-docs-<version>`, title and commit `Update documentation for Valkey <version>`,
//! signed off) that changes four files:
//!
//! - `topics/releases.md`: the row `| X.Y | <today> | <today + 3 years> | <security end> |` right
//!   after the table's separator line `| -- | -- | -- | -- |`; the security end is today + 3 years
//!   for an `X.0` line and + 5 years otherwise. "Today" is the run's UTC day
//!   ([`valkey_bot_core::TaskContext::run_date`], so tests fix it); years are added as GNU
//!   `date -d "+N years"` adds them (2028-02-29 + 3 years is 2031-03-01). A row for the line that
//!   is already there is left alone.
//! - `Makefile`: the `VERSION ?=` and `DATE ?=` lines set to the version and today; every other
//!   byte kept. A Makefile that already names the version is left alone (it keeps that run's date).
//! - `topics/valkey.conf.md`: the `valkey.conf for Valkey X.Y` link line inserted before the first
//!   line of that form, unless it is already there.
//! - `topics/modules-api-ref.md`: regenerated from `src/module.c` of the Valkey repository at the
//!   release tag by [`modref::generate`], a Rust port of the source's own
//!   `utils/generate-module-api-doc.rb`, byte for byte (see that module for the rules and for how
//!   the port was checked against the real script).
//!
//! Why a port and not the script: the script needs Ruby and a full clone of the Valkey history
//! (it reads `module.c` at every release tag to find the first release defining each function).
//! The task needs neither: the "since" values the current `modules-api-ref.md` already states
//! are kept, and only the release tags after the newest release it mentions (up to this release)
//! are read, through the GitHub API (`GET git/matching-refs/tags` to list them, and the
//! contents API for `src/module.c` at each). For a new minor line that is a handful of files.
//!
//! Which versions: final `X.Y.0` releases only. A patch release, a release candidate or
//! `unstable` is not applicable: the plan is empty and says so (the run reports the task up to
//! date, not failed). When nothing would change (a rerun), no pull request is opened.
//!
//! Bad input (a `releases.md` without the separator line, a `Makefile` without `VERSION ?=` or
//! `DATE ?=`, a `valkey.conf.md` without a link line, a `module.c` the generator cannot parse)
//! fails the task with an error naming the file and what is missing, and nothing is written.

mod audit;
pub mod dates;
pub mod files;
pub mod modref;
mod task;

pub use task::{Docs, DocsSettings, FACTORY};

/// Why the docs could not be updated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocsError {
    /// A file lacks the line the edit is anchored on.
    #[error("`{file}` has no {what}")]
    Missing {
        /// The file, e.g. `topics/releases.md`.
        file: &'static str,
        /// What it lacks, e.g. ``table separator line `| -- | -- | -- | -- |` ``.
        what: String,
    },
    /// The generator cannot read `module.c`.
    #[error("`src/module.c` cannot be documented: {0}")]
    ModuleSource(String),
    /// The run's date is not a day, or its years overflow.
    #[error("run date {0}")]
    RunDate(String),
}
