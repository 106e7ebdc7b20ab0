//! The task's output: artifacts whose bytes hash to what their `.sha256` file publishes.

use valkey_bot_core::Sha256Digest;
use valkey_bot_core::outputs::VerifiedArtifact;

use valkey_bot_release_artifacts::Artifact;
use valkey_bot_release_artifacts::checksum::{ChecksumFileError, parse_sha256_file};

/// Why an artifact could not be verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The artifact's `.sha256` file is malformed or names another file.
    #[error("{url}: {source}")]
    ChecksumFile {
        /// The `.sha256` file's URL.
        url: String,
        /// What is wrong with it.
        source: ChecksumFileError,
    },
    /// The downloaded bytes hash to something else than the published digest.
    #[error("{url}: SHA-256 mismatch: published {published}, downloaded bytes hash to {computed}")]
    Mismatch {
        /// The tarball's URL.
        url: String,
        /// The digest in the `.sha256` file.
        published: Sha256Digest,
        /// The digest of the downloaded bytes.
        computed: Sha256Digest,
    },
}

/// Decides whether `artifact` is verified, given the bytes of its `.sha256` file and the
/// SHA-256 computed over the tarball's downloaded bytes.
pub fn verify(
    artifact: &Artifact,
    checksum_file: &[u8],
    computed: &Sha256Digest,
) -> Result<VerifiedArtifact, VerifyError> {
    let published = parse_sha256_file(checksum_file, &artifact.name).map_err(|source| {
        VerifyError::ChecksumFile {
            url: artifact.checksum_url.to_string(),
            source,
        }
    })?;
    if published != *computed {
        return Err(VerifyError::Mismatch {
            url: artifact.url.to_string(),
            published,
            computed: *computed,
        });
    }
    Ok(VerifiedArtifact {
        name: artifact.name.clone(),
        url: artifact.url.to_string(),
        sha256: published,
    })
}
