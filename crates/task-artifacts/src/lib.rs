//! The pure decisions of the binary-artifacts task.
//!
//! For every published binary (named by `valkey-bot-release-artifacts`), this crate checks the
//! downloaded `.sha256` file ([`parse_sha256_file`]) and decides whether a computed digest makes
//! the artifact a [`VerifiedArtifact`](valkey_bot_core::outputs::VerifiedArtifact) ([`verify`]).
//! Downloading is done elsewhere.

pub mod task;
pub mod verified;

pub use task::{ArtifactsSettings, FACTORY};
pub use valkey_bot_release_artifacts::checksum::{
    ChecksumFileError, MAX_SHA256_FILE_LEN, parse_sha256_file,
};
pub use verified::{VerifyError, verify};
