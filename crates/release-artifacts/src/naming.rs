//! Artifact names and URLs: `valkey-<version>-<distro>-<arch>.tar.gz` and its `.sha256`.

use url::Url;
use valkey_bot_core::Version;

use crate::base_url::BaseUrl;
use crate::platform::Platform;

/// The suffix of a checksum file's name, appended to the artifact's name.
pub const CHECKSUM_SUFFIX: &str = ".sha256";

/// The name of the binary tarball for `version` on `platform`,
/// e.g. `valkey-9.1.1-noble-x86_64.tar.gz`.
pub fn artifact_name(version: &Version, platform: &Platform) -> String {
    format!(
        "valkey-{}-{}-{}.tar.gz",
        version.as_str(),
        platform.distro(),
        platform.arch()
    )
}

/// One published binary: its tarball and the `.sha256` file beside it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Artifact {
    /// The build platform.
    pub platform: Platform,
    /// The tarball's file name, e.g. `valkey-9.1.1-noble-x86_64.tar.gz`.
    pub name: String,
    /// The tarball's URL, the base URL joined with `name`.
    pub url: Url,
    /// The checksum file's name, `name` + `.sha256`.
    pub checksum_name: String,
    /// The checksum file's URL, beside the tarball.
    pub checksum_url: Url,
}

impl Artifact {
    /// Names the artifact of `version` for `platform` under `base`.
    pub fn new(base: &BaseUrl, version: &Version, platform: &Platform) -> Self {
        let name = artifact_name(version, platform);
        let checksum_name = format!("{name}{CHECKSUM_SUFFIX}");
        Self {
            platform: platform.clone(),
            url: base.join(&name),
            checksum_url: base.join(&checksum_name),
            name,
            checksum_name,
        }
    }

    /// Every artifact of `version`, one per platform, in the platforms' order.
    pub fn all(base: &BaseUrl, version: &Version, platforms: &[Platform]) -> Vec<Self> {
        platforms
            .iter()
            .map(|platform| Self::new(base, version, platform))
            .collect()
    }
}
