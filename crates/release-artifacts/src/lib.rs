//! Where Valkey publishes its binaries and what they are called.
//!
//! The release pipeline publishes `valkey-<version>-<distro>-<arch>.tar.gz` under
//! `https://download.valkey.io/releases/`, each with a `<same name>.sha256` beside it. This crate
//! holds the build [`Platform`]s, the validated [`BaseUrl`] and the names and URLs of each
//! [`Artifact`], and the `.sha256` files' format ([`checksum`]); the tasks that verify the
//! binaries and link to them share it, so they always agree on a file's name and its checksum.

pub mod base_url;
pub mod checksum;
pub mod naming;
pub mod platform;

pub use base_url::{BaseUrl, BaseUrlError, DEFAULT_BASE_URL};
pub use checksum::{ChecksumFileError, MAX_SHA256_FILE_LEN, parse_sha256_file};
pub use naming::{Artifact, CHECKSUM_SUFFIX, artifact_name};
pub use platform::{Platform, PlatformError};
