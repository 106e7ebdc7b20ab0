//! The `unstable` line: refused.
//!
//! The real repository has an `"unstable"` entry in `versions.json` and an `unstable/` directory,
//! but they are placeholders that follow the `unstable` branch: the URL is
//! `.../archive/unstable.tar.gz`, the digest is 64 zeros and the template skips the checksum for
//! it. Nothing in them depends on a release, so "releasing" `unstable` could only leave them as
//! they are or break them; its image is rebuilt from the branch, not by this task. The task
//! therefore refuses `unstable` up front with [`ContainerError::Unstable`] instead of planning a
//! silent no-op, so a mistaken trigger is visible.

use crate::ContainerError;
use valkey_bot_core::Version;

/// Refuses the `unstable` pseudo-version; accepts every numbered release.
pub fn refuse_unstable(version: &Version) -> Result<(), ContainerError> {
    if version.is_unstable() {
        Err(ContainerError::Unstable)
    } else {
        Ok(())
    }
}
