//! The base images' current versions, read from docker-library/official-images as the
//! container repository's `versions.sh` reads them: `library/debian` and `library/alpine` are
//! bashbrew manifest files (a header, then entries separated by blank lines, each with a
//! `Tags: a, b, c` line; `#` lines are comments, indented lines continue the field above).
//! The entry whose tags include `latest` gives:
//!
//! - Debian: its first tag that is not `latest` and has no digit, `.` or `-` (the codename,
//!   `trixie`);
//! - Alpine: its one tag of the form `X.Y` (`3.23`); none or several is an error.

use crate::ContainerError;

/// The tags of the entry tagged `latest` in the manifest `text` (file `path`).
pub fn latest_tags(path: &str, text: &str) -> Result<Vec<String>, ContainerError> {
    let mut latest = None;
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() || line.starts_with('#') || line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((field, value)) = line.split_once(':') else {
            return Err(ContainerError::Manifest {
                path: path.to_owned(),
                line: Some(number),
                reason: format!("not a `Field: value` line: {line:?}"),
            });
        };
        if field.trim().eq_ignore_ascii_case("tags")
            || field.trim().eq_ignore_ascii_case("sharedtags")
        {
            let tags: Vec<String> = value
                .split(',')
                .map(|tag| tag.trim().to_owned())
                .filter(|tag| !tag.is_empty())
                .collect();
            if tags.iter().any(|tag| tag == "latest") {
                if latest.is_some() {
                    return Err(ContainerError::Manifest {
                        path: path.to_owned(),
                        line: Some(number),
                        reason: "a second entry tagged `latest`".to_owned(),
                    });
                }
                latest = Some(tags);
            }
        }
    }
    latest.ok_or_else(|| ContainerError::Manifest {
        path: path.to_owned(),
        line: None,
        reason: "no entry tagged `latest`".to_owned(),
    })
}

/// The Debian codename of `library/debian`'s `latest` entry (`trixie`).
pub fn debian_codename(path: &str, text: &str) -> Result<String, ContainerError> {
    latest_tags(path, text)?
        .into_iter()
        .find(|tag| {
            tag != "latest"
                && !tag
                    .bytes()
                    .any(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
        })
        .ok_or_else(|| ContainerError::Manifest {
            path: path.to_owned(),
            line: None,
            reason: "the `latest` entry has no codename tag".to_owned(),
        })
}

/// The `X.Y` version of `library/alpine`'s `latest` entry (`3.23`).
pub fn alpine_version(path: &str, text: &str) -> Result<String, ContainerError> {
    let is_x_y = |tag: &str| {
        tag.split_once('.').is_some_and(|(x, y)| {
            [x, y]
                .iter()
                .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
        })
    };
    let mut found: Vec<String> = latest_tags(path, text)?
        .into_iter()
        .filter(|tag| is_x_y(tag))
        .collect();
    match found.len() {
        1 => Ok(found.remove(0)),
        n => Err(ContainerError::Manifest {
            path: path.to_owned(),
            line: None,
            reason: format!("the `latest` entry has {n} `X.Y` tags, not one"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBIAN: &str = "# made-up manifest in bashbrew's format\nMaintainers: Someone <a@example.org> (@someone),\n             Other <b@example.org> (@other)\nGitRepo: https://example.invalid/debian.git\n\n# bookworm\nTags: bookworm, bookworm-20261101, 12.12, 12\nDirectory: bookworm\n\n# trixie\nTags: trixie, trixie-20261101, 13.2, 13, latest\nArchitectures: amd64, arm64v8\nDirectory: trixie\n\nTags: trixie-slim, 13-slim\nDirectory: trixie/slim\n";
    const ALPINE: &str = "Maintainers: Someone <a@example.org>\nGitRepo: https://example.invalid/alpine.git\n\nTags: 20261001, edge\nDirectory: edge\n\nTags: 3.24.1, 3.24, 3, latest\nDirectory: x86_64\n\nTags: 3.23.4, 3.23\nDirectory: old\n";

    #[test]
    fn reads_the_latest_entries() {
        assert_eq!(debian_codename("library/debian", DEBIAN).unwrap(), "trixie");
        assert_eq!(alpine_version("library/alpine", ALPINE).unwrap(), "3.24");
    }

    #[test]
    fn bad_manifests_are_named() {
        let error = debian_codename("library/debian", "Tags: trixie\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "library/debian: no entry tagged `latest`"
        );
        let error = alpine_version("library/alpine", "GitRepo: x\nnonsense here\n").unwrap_err();
        assert_eq!(
            error.to_string(),
            "library/alpine:2: not a `Field: value` line: \"nonsense here\""
        );
        let error = alpine_version("library/alpine", "Tags: 3, latest\n").unwrap_err();
        assert!(error.to_string().contains("0 `X.Y` tags"), "{error}");
    }
}
