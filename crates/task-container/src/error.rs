//! The one error type of this crate; every variant names the file (or the release field) and what
//! was wrong with it.

/// Why the container update could not be decided.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContainerError {
    /// A template could not be converted or rendered (the error names the template and line).
    #[error(transparent)]
    Template(#[from] valkey_bot_jq_template::TemplateError),
    /// A directory under the newest line that no configured variant renders: it would go stale.
    #[error(
        "{line}/{directory}/: a variant directory the task does not render (configured variants: {configured}); add it to `[tasks.container.settings] variants` or remove it"
    )]
    UnrenderedVariant {
        /// The newest line, e.g. `9.1`.
        line: String,
        /// The directory, e.g. `wolfi`.
        directory: String,
        /// The configured variant names, comma-separated.
        configured: String,
    },
    /// A file the decision needs is not in the snapshot (the caller did not read it).
    #[error("{path}: not in the repository snapshot, but the update needs it")]
    MissingFile {
        /// Repository path of the missing file.
        path: String,
    },
    /// A text file is not valid UTF-8.
    #[error("{path}: not valid UTF-8")]
    NotUtf8 {
        /// Repository path of the file.
        path: String,
    },
    /// `versions.json` is not JSON, or not shaped as the container repository writes it.
    #[error("{path}: malformed versions.json: {reason}")]
    MalformedVersionsJson {
        /// Repository path (`versions.json`).
        path: String,
        /// What was wrong, e.g. `entry "9.0" has no string "sha256"`.
        reason: String,
    },
    /// `versions.json` already lists a newer version on the release's minor line.
    #[error(
        "{path}: minor line {line} is already at {current}, newer than the release {release}; refusing to go back"
    )]
    Downgrade {
        /// Repository path (`versions.json`).
        path: String,
        /// The minor line, e.g. `9.0`.
        line: String,
        /// The version the file has now.
        current: String,
        /// The version being released.
        release: String,
    },
    /// `versions.json` already lists this exact version with another URL or digest.
    #[error(
        "{path}: {version} is already listed with {field} {current:?}, not {release:?}; the tag may have been moved, replacing it needs an operator decision"
    )]
    ConflictingEntry {
        /// Repository path (`versions.json`).
        path: String,
        /// The version, e.g. `9.0.3`.
        version: String,
        /// `url` or `sha256`.
        field: &'static str,
        /// Value in the file.
        current: String,
        /// Value of the release.
        release: String,
    },
    /// No numeric minor line exists to copy a new minor line from.
    #[error("{path}: no numeric minor line to copy the new line {line} from")]
    NoLineToCopy {
        /// Repository path (`versions.json`).
        path: String,
        /// The new minor line.
        line: String,
    },
    /// `generate-stackbrew-library.sh` has no `declare -A aliases=(` ... `)` block.
    #[error("{path}: no `declare -A aliases=(` block closed by a `)` line")]
    MissingAliasesBlock {
        /// Repository path of the script.
        path: String,
    },
    /// A line inside the aliases block is not `\t[MAJOR.MINOR]='words'`.
    #[error(
        "{path}: line {line_number} of the aliases block is not `\\t[MAJOR.MINOR]='alias ...'`: {line:?}"
    )]
    MalformedAlias {
        /// Repository path of the script.
        path: String,
        /// 1-based line number in the script.
        line_number: usize,
        /// The offending line.
        line: String,
    },
    /// The release's URL or digest cannot be written into the files safely.
    #[error("release {field} {value:?} refused: {reason}")]
    InvalidRelease {
        /// `url` or `sha256`.
        field: &'static str,
        /// The refused value.
        value: String,
        /// Why.
        reason: &'static str,
    },
    /// A docker-library/official-images manifest (`library/debian`, `library/alpine`) cannot
    /// give the base image's version.
    #[error("{path}{}: {reason}", line.map(|n| format!(":{n}")).unwrap_or_default())]
    Manifest {
        /// The manifest's path in official-images.
        path: String,
        /// 1-based line, when one is at fault.
        line: Option<usize>,
        /// What is wrong.
        reason: String,
    },
    /// `unstable` is not released through this task (see the `unstable` module).
    #[error(
        "versions.json: the `unstable` line tracks the unstable branch (sha256 of zeros, no checksum check); a release never changes it, so the container task refuses `unstable`"
    )]
    Unstable,
}
