//! Where a release's page lives in the website repository.

use valkey_bot_core::Version;

/// The directory of the release pages in valkey-io/valkey-io.github.io.
pub const RELEASES_DIR: &str = "content/download/releases";

/// The page of `version`: `content/download/releases/v<version with every '.' replaced by '-'>.md`,
/// e.g. `content/download/releases/v9-1-0-rc2.md` for `9.1.0-rc2`.
pub fn page_path(version: &Version) -> String {
    format!("{RELEASES_DIR}/v{}.md", version.as_str().replace('.', "-"))
}
