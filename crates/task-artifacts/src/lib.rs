//! The pure decisions of the binary-artifacts task.
//!
//! The release pipeline publishes `valkey-<version>-<distro>-<arch>.tar.gz` under
//! `https://download.valkey.io/releases/`, each with a `<same name>.sha256` beside it in
//! `sha256sum` format. This crate names those files ([`Artifact`]), checks a downloaded
//! `.sha256` file ([`parse_sha256_file`]) and decides whether a computed digest makes an
//! artifact a [`VerifiedArtifact`] ([`verify`]). Downloading is done elsewhere.

pub mod base_url;
pub mod checksum;
pub mod naming;
pub mod platform;
pub mod task;
pub mod verified;

pub use base_url::{BaseUrl, BaseUrlError, DEFAULT_BASE_URL};
pub use checksum::{ChecksumFileError, MAX_SHA256_FILE_LEN, parse_sha256_file};
pub use naming::{Artifact, CHECKSUM_SUFFIX, artifact_name};
pub use platform::{Platform, PlatformError};
pub use task::{ArtifactsSettings, Factory};
pub use verified::{VerifyError, verify};
