//! The platforms binaries are built for: a distribution code name and a CPU architecture.

use std::fmt;

/// Longest distro or arch name accepted.
const MAX_PART_LEN: usize = 32;

/// A build platform, e.g. `noble` / `x86_64`.
///
/// Both parts are non-empty, at most 32 bytes, and made of lowercase ASCII letters, digits
/// and `_` only: no `-` (the part separator in artifact names), no `/`, `.` or anything
/// that could change the meaning of a file name or URL.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "RawPlatform")]
pub struct Platform {
    distro: String,
    arch: String,
}

/// The unchecked serde shape of a [`Platform`].
#[derive(serde::Deserialize)]
struct RawPlatform {
    distro: String,
    arch: String,
}

impl TryFrom<RawPlatform> for Platform {
    type Error = PlatformError;
    fn try_from(raw: RawPlatform) -> Result<Self, Self::Error> {
        Platform::new(&raw.distro, &raw.arch)
    }
}

/// Why a distro or arch name was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid platform {part} {value:?}: expected 1-32 characters from [a-z0-9_]")]
pub struct PlatformError {
    /// Which part was refused: `distro` or `arch`.
    pub part: &'static str,
    /// The refused value (at most 64 characters of it).
    pub value: String,
}

impl Platform {
    /// Checks and builds a platform, e.g. `Platform::new("jammy", "arm64")`.
    pub fn new(distro: &str, arch: &str) -> Result<Self, PlatformError> {
        check_part("distro", distro)?;
        check_part("arch", arch)?;
        Ok(Self {
            distro: distro.to_owned(),
            arch: arch.to_owned(),
        })
    }

    /// The distribution code name, e.g. `jammy`.
    pub fn distro(&self) -> &str {
        &self.distro
    }

    /// The CPU architecture, e.g. `x86_64`.
    pub fn arch(&self) -> &str {
        &self.arch
    }
}

impl fmt::Display for Platform {
    /// `<distro>-<arch>`, the way the platform appears in an artifact name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.distro, self.arch)
    }
}

fn check_part(part: &'static str, value: &str) -> Result<(), PlatformError> {
    let valid = !value.is_empty()
        && value.len() <= MAX_PART_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(PlatformError {
            part,
            value: value.chars().take(64).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_published_platforms() {
        for (distro, arch) in [
            ("jammy", "arm64"),
            ("jammy", "x86_64"),
            ("noble", "arm64"),
            ("noble", "x86_64"),
        ] {
            let platform = Platform::new(distro, arch).expect("valid platform");
            assert_eq!(platform.distro(), distro);
            assert_eq!(platform.arch(), arch);
            assert_eq!(platform.to_string(), format!("{distro}-{arch}"));
        }
    }

    #[test]
    fn refuses_names_that_could_change_a_file_name_or_url() {
        for (distro, arch) in [
            ("", "arm64"),
            ("jammy", ""),
            ("jam-my", "arm64"),
            ("jammy", "x86-64"),
            ("../etc", "arm64"),
            ("jammy", "arm64?x=1"),
            ("Jammy", "arm64"),
            ("jammy", "arm 64"),
            ("jammy", "arm64\n"),
            (&"a".repeat(33), "arm64"),
        ] {
            assert!(
                Platform::new(distro, arch).is_err(),
                "accepted {distro:?}/{arch:?}"
            );
        }
        let error = Platform::new("jammy", "x86-64").expect_err("refused");
        assert_eq!(error.part, "arch");
        assert_eq!(
            error.to_string(),
            "invalid platform arch \"x86-64\": expected 1-32 characters from [a-z0-9_]"
        );
    }

    #[test]
    fn deserializing_checks_too() {
        let ok: Platform =
            serde_json::from_str(r#"{"distro":"noble","arch":"arm64"}"#).expect("valid");
        assert_eq!(ok, Platform::new("noble", "arm64").expect("valid"));
        assert!(serde_json::from_str::<Platform>(r#"{"distro":"no/ble","arch":"arm64"}"#).is_err());
    }
}
