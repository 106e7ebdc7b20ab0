//! The published release the task updates the images to, and the checks that make its values
//! safe to write into `versions.json` and the Dockerfiles. Its own module so that both the planner
//! and the file editors depend on it without depending on each other.

use crate::ContainerError;
use crate::unstable::refuse_unstable;
use valkey_bot_core::Version;

/// A published release: its version, source archive URL and the archive's SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Release {
    /// The version, e.g. `9.1.1`.
    pub version: Version,
    /// The archive URL, e.g. `https://github.com/valkey-io/valkey/archive/refs/tags/9.1.1.tar.gz`.
    pub url: String,
    /// 64 lowercase hex digits.
    pub sha256: String,
}

/// Refuses `unstable` and values that could not be written safely into the files.
pub(crate) fn validate(release: &Release) -> Result<(), ContainerError> {
    refuse_unstable(&release.version)?;
    let sha = &release.sha256;
    if sha.len() != 64 || !sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(ContainerError::InvalidRelease {
            field: "sha256",
            value: sha.clone(),
            reason: "not 64 lowercase hex digits",
        });
    }
    let url = &release.url;
    let safe = |b: u8| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'\\' | b'`' | b'$');
    // Plain HTTP only to loopback: the local GitHub sandbox of rehearsals and tests.
    let secure = url.starts_with("https://")
        || url.starts_with("http://127.0.0.1:")
        || url.starts_with("http://localhost:");
    if !secure || !url.bytes().all(safe) {
        return Err(ContainerError::InvalidRelease {
            field: "url",
            value: url.clone(),
            reason: "not an https URL of printable ASCII without quotes, backslashes, backticks or `$`",
        });
    }
    Ok(())
}
