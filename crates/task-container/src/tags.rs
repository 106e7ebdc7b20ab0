//! The image tags of a release, computed the way the repository's `generate-stackbrew-library.sh`
//! does for the minor line's directory.
//!
//! Version aliases: starting from the full version, the script adds it and strips the last
//! `.`-separated part until it reaches the minor line; then the minor line, then its aliases.
//! A release candidate is tagged by the same loop: `9.1.0-rc1` strips to `9.1` in one step, so it
//! gets `9.1.0-rc1` and `9.1` (and no major or `latest`, since the aliases block is not changed for a
//! candidate). `unstable` gets `unstable` alone.
//!
//! Debian: the version aliases, then each with `-<suite>` appended. Alpine: each with `-alpine`,
//! then each with `-alpine<version>`. In every suffixed tag the script deletes `latest-`, so
//! `latest-trixie` becomes `trixie`, `latest-alpine` becomes `alpine` and `latest-alpine3.23`
//! becomes `alpine3.23`. The script reads the suite from the Dockerfile's `FROM` line, which the
//! template writes from `versions.json`; here it is taken from `versions.json` directly.
//!
//! pkg (every line but `unstable`, after alpine in the generator's `for variant in debian alpine
//! pkg`): each version alias with `-pkg` (`latest-pkg` becomes `pkg`), and no suite forms: it
//! shares debian's base image, whose suite tags are debian's.

pub use valkey_bot_core::outputs::ImageTags;

/// Computes the tags of `version` on minor line `line` (which has `aliases`), for the Debian suite
/// `debian_suite` (`trixie`) and the Alpine version `alpine_version` (`3.23`).
pub fn image_tags(
    version: &str,
    line: &str,
    aliases: &[String],
    debian_suite: &str,
    alpine_version: &str,
) -> ImageTags {
    let base = version_aliases(version, line, aliases);
    let suffixed = |suffix: &str| -> Vec<String> {
        base.iter()
            .map(|tag| format!("{tag}-{suffix}").replace("latest-", ""))
            .collect()
    };
    let mut debian = base.clone();
    debian.extend(suffixed(debian_suite));
    let mut alpine = suffixed("alpine");
    alpine.extend(suffixed(&format!("alpine{alpine_version}")));
    let pkg = if line == "unstable" {
        Vec::new()
    } else {
        suffixed("pkg")
    };
    ImageTags {
        debian,
        alpine,
        pkg,
    }
}

/// `9.1.1` on `9.1` with `9 latest` → `9.1.1 9.1 9 latest`.
fn version_aliases(version: &str, line: &str, aliases: &[String]) -> Vec<String> {
    let mut tags = Vec::new();
    let mut full = version;
    while full != line {
        let Some((shorter, _)) = full.rsplit_once('.') else {
            break;
        };
        tags.push(full.to_owned());
        full = shorter;
    }
    tags.push(line.to_owned());
    tags.extend(aliases.iter().cloned());
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn final_release_with_latest() {
        let tags = image_tags("9.1.1", "9.1", &words("9 latest"), "trixie", "3.23");
        assert_eq!(
            tags.debian,
            words("9.1.1 9.1 9 latest 9.1.1-trixie 9.1-trixie 9-trixie trixie")
        );
        assert_eq!(
            tags.alpine,
            words(
                "9.1.1-alpine 9.1-alpine 9-alpine alpine 9.1.1-alpine3.23 9.1-alpine3.23 9-alpine3.23 alpine3.23"
            )
        );
        assert_eq!(tags.pkg, words("9.1.1-pkg 9.1-pkg 9-pkg pkg"));
    }

    #[test]
    fn release_candidate_gets_its_version_and_minor_line_only() {
        let tags = image_tags("9.1.0-rc1", "9.1", &[], "trixie", "3.23");
        assert_eq!(
            tags.debian,
            words("9.1.0-rc1 9.1 9.1.0-rc1-trixie 9.1-trixie")
        );
        assert_eq!(
            tags.alpine,
            words("9.1.0-rc1-alpine 9.1-alpine 9.1.0-rc1-alpine3.23 9.1-alpine3.23")
        );
    }

    #[test]
    fn unstable_and_alias_free_lines() {
        let tags = image_tags("unstable", "unstable", &[], "trixie", "3.23");
        assert_eq!(tags.debian, words("unstable unstable-trixie"));
        assert_eq!(tags.alpine, words("unstable-alpine unstable-alpine3.23"));
        assert!(tags.pkg.is_empty(), "no pkg variant for unstable");
        let tags = image_tags("8.0.7", "8.0", &[], "bookworm", "3.21");
        assert_eq!(tags.debian, words("8.0.7 8.0 8.0.7-bookworm 8.0-bookworm"));
        assert_eq!(tags.pkg, words("8.0.7-pkg 8.0-pkg"));
    }
}
