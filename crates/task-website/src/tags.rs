//! Which container image tags a release page lists.
//!
//! The rule, applied to the container task's tags for the release:
//!
//! - final release `X.Y.Z`: the tags equal to `X.Y.Z` or starting with `X.Y.Z-`
//!   (`9.1.1`, `9.1.1-trixie`, `9.1.1-alpine`, `9.1.1-alpine3.24`), i.e. the tags that contain the
//!   full version as their version part; `9.1`, `9`, `latest`, `alpine` ... are left out;
//! - release candidate `X.Y.Z-rcN`: the tags of its minor line `X.Y` — equal to `X.Y` or starting
//!   with `X.Y-` — that do not contain `-rc` (`9.1`, `9.1-trixie`, `9.1-alpine`,
//!   `9.1-alpine3.23`);
//! - `unstable`: refused, it has no release page.
//!
//! Debian tags first, then alpine, then pkg (the generator's order), each in the order the container task gave them; a tag
//! listed twice is kept once (its first place). An empty selection is an error: the page would
//! list no image.

use valkey_bot_core::Version;

pub use valkey_bot_core::outputs::ImageTags;

/// Why no tags could be selected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TagError {
    /// `unstable` has no release page.
    #[error("`unstable` has no release page")]
    Unstable,
    /// None of the container tags matches the rule for this version.
    #[error("no container tag matches version {version} (looked for {wanted})")]
    NoTags {
        /// The release version.
        version: String,
        /// What was looked for, e.g. `9.1.1 or 9.1.1-*`.
        wanted: String,
    },
}

/// Selects the tags the page of `version` lists, by the rule in this module's documentation.
pub fn select_tags(version: &Version, tags: &ImageTags) -> Result<Vec<String>, TagError> {
    if version.is_unstable() {
        return Err(TagError::Unstable);
    }
    let (stem, skip_candidates) = if version.is_release_candidate() {
        (version.minor_line(), true)
    } else {
        (version.as_str().to_owned(), false)
    };
    let wanted = |tag: &str| {
        let matches_stem = tag == stem
            || tag
                .strip_prefix(stem.as_str())
                .is_some_and(|rest| rest.starts_with('-'));
        matches_stem && !(skip_candidates && tag.contains("-rc"))
    };
    let mut selected: Vec<String> = Vec::new();
    for tag in tags.debian.iter().chain(&tags.alpine).chain(&tags.pkg) {
        if wanted(tag) && !selected.contains(tag) {
            selected.push(tag.clone());
        }
    }
    if selected.is_empty() {
        let rc_note = if skip_candidates { ", without -rc" } else { "" };
        return Err(TagError::NoTags {
            version: version.as_str().to_owned(),
            wanted: format!("{stem} or {stem}-*{rc_note}"),
        });
    }
    Ok(selected)
}
