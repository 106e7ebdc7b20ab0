//! The generated Dockerfiles, `<minor>/debian/Dockerfile` and `<minor>/alpine/Dockerfile`:
//! puts a release's values into the lines that carry them and keeps every other byte.
//!
//! Lines rewritten (each must be present exactly once unless said otherwise):
//! - `ENV VALKEY_VERSION <version>`;
//! - `ENV VALKEY_DOWNLOAD_SHA <sha256>`;
//! - the archive URL, in whichever form the template of the day writes it: `ENV VALKEY_DOWNLOAD_URL
//!   <url>` (templates up to 2025) and/or `ADD "<url>" /valkey.tar.gz` (the multi-stage template
//!   since); at least one of the two, each at most once;
//! - the one-line SPDX SBOM: `"versionInfo":"<version>"` and `pkg:generic/valkey-server@<version>?`;
//! - optional, every occurrence: `echo "Version <version> is ...` (the template prints it for
//!   lines from 8.1 on).

use crate::ContainerError;
use crate::plan::Release;

/// File name of the Dockerfile inside a variant directory.
pub const FILE_NAME: &str = "Dockerfile";

const VERSION_ENV: &str = "ENV VALKEY_VERSION";
const SHA_ENV: &str = "ENV VALKEY_DOWNLOAD_SHA";
const URL_ENV: &str = "ENV VALKEY_DOWNLOAD_URL";
const ADD_PREFIX: &str = "ADD \"";
const ADD_SUFFIX: &str = "\" /valkey.tar.gz";
const SBOM_VERSION: &str = "\"versionInfo\":\"";
const SBOM_PURL: &str = "pkg:generic/valkey-server@";
const ECHO_VERSION: &str = "echo \"Version ";

/// Returns `bytes` (the Dockerfile at `path`) with the release's version, URL and digest in place.
pub fn substitute(path: &str, bytes: &[u8], release: &Release) -> Result<Vec<u8>, ContainerError> {
    let text = std::str::from_utf8(bytes).map_err(|_| ContainerError::NotUtf8 {
        path: path.to_owned(),
    })?;
    let version = release.version.as_str();
    let mut counts = Counts::default();
    let mut out = String::with_capacity(text.len() + 64);
    for raw in text.split_inclusive('\n') {
        let (body, end) = split_line_end(raw);
        let new_body = if let Some(sep) = env_separator(body, VERSION_ENV) {
            counts.version += 1;
            format!("{VERSION_ENV}{sep}{version}")
        } else if let Some(sep) = env_separator(body, SHA_ENV) {
            counts.sha += 1;
            format!("{SHA_ENV}{sep}{}", release.sha256)
        } else if let Some(sep) = env_separator(body, URL_ENV) {
            counts.url_env += 1;
            format!("{URL_ENV}{sep}{}", release.url)
        } else if is_archive_add(body) {
            counts.url_add += 1;
            format!("{ADD_PREFIX}{}{ADD_SUFFIX}", release.url)
        } else if body.contains(SBOM_VERSION) {
            counts.sbom += 1;
            if !body.contains(SBOM_PURL) {
                return Err(line_error(
                    path,
                    "SBOM `pkg:generic/valkey-server@<version>?`",
                    0,
                ));
            }
            let with_info = replace_after(body, SBOM_VERSION, '"', version);
            replace_after(&with_info, SBOM_PURL, '?', version)
        } else if body.trim_start().starts_with(ECHO_VERSION) && body.contains(" is ") {
            replace_between(body, ECHO_VERSION, " is ", version)
        } else {
            body.to_owned()
        };
        out.push_str(&new_body);
        out.push_str(end);
    }
    counts.check(path)?;
    Ok(out.into_bytes())
}

#[derive(Default)]
struct Counts {
    version: usize,
    sha: usize,
    url_env: usize,
    url_add: usize,
    sbom: usize,
}

impl Counts {
    fn check(&self, path: &str) -> Result<(), ContainerError> {
        let exactly_one = [
            ("`ENV VALKEY_VERSION` line", self.version),
            ("`ENV VALKEY_DOWNLOAD_SHA` line", self.sha),
            ("one-line SBOM with `\"versionInfo\":\"`", self.sbom),
        ];
        for (what, found) in exactly_one {
            if found != 1 {
                return Err(line_error(path, what, found));
            }
        }
        let url_what =
            "archive URL line (`ENV VALKEY_DOWNLOAD_URL` or `ADD \"<url>\" /valkey.tar.gz`)";
        if self.url_env > 1 || self.url_add > 1 || self.url_env + self.url_add == 0 {
            return Err(line_error(path, url_what, self.url_env + self.url_add));
        }
        Ok(())
    }
}

fn line_error(path: &str, what: &'static str, found: usize) -> ContainerError {
    ContainerError::DockerfileLine {
        path: path.to_owned(),
        what,
        found,
    }
}

/// Splits a line into its body and its terminator (`\r\n`, `\n` or nothing).
fn split_line_end(raw: &str) -> (&str, &str) {
    if let Some(body) = raw.strip_suffix("\r\n") {
        (body, "\r\n")
    } else if let Some(body) = raw.strip_suffix('\n') {
        (body, "\n")
    } else {
        (raw, "")
    }
}

/// For `ENV NAME value` or `ENV NAME=value`, the separator (` ` or `=`).
fn env_separator(body: &str, env: &str) -> Option<char> {
    let rest = body.strip_prefix(env)?;
    rest.chars().next().filter(|c| *c == ' ' || *c == '=')
}

fn is_archive_add(body: &str) -> bool {
    body.strip_prefix(ADD_PREFIX)
        .and_then(|rest| rest.strip_suffix(ADD_SUFFIX))
        .is_some_and(|url| !url.contains('"'))
}

/// Replaces what follows each `marker` up to the next `stop` with `value`.
fn replace_after(body: &str, marker: &str, stop: char, value: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find(marker) {
        let start = at + marker.len();
        let Some(len) = rest[start..].find(stop) else {
            break;
        };
        out.push_str(&rest[..start]);
        out.push_str(value);
        rest = &rest[start + len..];
    }
    out.push_str(rest);
    out
}

/// Replaces the text between the first `open` and the next `close` with `value`.
fn replace_between(body: &str, open: &str, close: &str, value: &str) -> String {
    let Some(at) = body.find(open) else {
        return body.to_owned();
    };
    let start = at + open.len();
    match body[start..].find(close) {
        Some(len) => format!("{}{value}{}", &body[..start], &body[start + len..]),
        None => body.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use valkey_bot_core::Version;

    fn release(version: &str) -> Release {
        Release {
            version: Version::parse(version).unwrap(),
            url: format!("https://github.com/valkey-io/valkey/archive/refs/tags/{version}.tar.gz"),
            sha256: "ab".repeat(32),
        }
    }

    const SBOM: &str = r#"	echo '{"packages":[{"name":"valkey-server","versionInfo":"9.0.0","externalRefs":[{"referenceLocator":"pkg:generic/valkey-server@9.0.0?os_name=debian&os_version=trixie"}]}]}' > /usr/local/valkey.spdx.json"#;

    fn dockerfile(lines: &[&str]) -> String {
        lines.iter().map(|l| format!("{l}\n")).collect()
    }

    #[test]
    fn rewrites_only_the_release_values_and_keeps_crlf() {
        let input = format!(
            "FROM debian:trixie-slim AS base\r\nENV VALKEY_DOWNLOAD_SHA 00\r\nADD \"https://x/9.0.0.tar.gz\" /valkey.tar.gz\n\techo \"Version 9.0.0 is 8.1 or higher - enabling USE_FAST_FLOAT\"; \\\n{SBOM}\nENV VALKEY_VERSION=9.0.0\nCMD [\"valkey-server\"]"
        );
        let out = substitute("9.0/debian/Dockerfile", input.as_bytes(), &release("9.0.1")).unwrap();
        let expected = format!(
            "FROM debian:trixie-slim AS base\r\nENV VALKEY_DOWNLOAD_SHA {}\r\nADD \"https://github.com/valkey-io/valkey/archive/refs/tags/9.0.1.tar.gz\" /valkey.tar.gz\n\techo \"Version 9.0.1 is 8.1 or higher - enabling USE_FAST_FLOAT\"; \\\n{}\nENV VALKEY_VERSION=9.0.1\nCMD [\"valkey-server\"]",
            "ab".repeat(32),
            SBOM.replace("9.0.0", "9.0.1")
        );
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }

    #[test]
    fn refuses_a_dockerfile_missing_a_line_naming_file_and_line() {
        let full = [
            "ENV VALKEY_VERSION 9.0.0",
            "ENV VALKEY_DOWNLOAD_URL https://x",
            "ENV VALKEY_DOWNLOAD_SHA 00",
            SBOM,
        ];
        assert!(substitute("d", dockerfile(&full).as_bytes(), &release("9.0.1")).is_ok());
        for (skip, what) in [
            (0, "`ENV VALKEY_VERSION` line"),
            (1, "archive URL line"),
            (2, "`ENV VALKEY_DOWNLOAD_SHA` line"),
            (3, "one-line SBOM"),
        ] {
            let lines: Vec<&str> = full
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != skip)
                .map(|(_, l)| *l)
                .collect();
            let err = substitute(
                "9.0/alpine/Dockerfile",
                dockerfile(&lines).as_bytes(),
                &release("9.0.1"),
            )
            .unwrap_err();
            let message = err.to_string();
            assert!(
                message.starts_with("9.0/alpine/Dockerfile: expected exactly one "),
                "{message}"
            );
            assert!(
                message.contains(what) && message.ends_with("found 0"),
                "{message}"
            );
        }
    }

    #[test]
    fn refuses_duplicates_and_an_sbom_without_purl() {
        let twice = dockerfile(&[
            "ENV VALKEY_VERSION 9.0.0",
            "ENV VALKEY_VERSION 9.0.0",
            "ENV VALKEY_DOWNLOAD_URL https://x",
            "ENV VALKEY_DOWNLOAD_SHA 00",
            SBOM,
        ]);
        assert_eq!(
            substitute("f", twice.as_bytes(), &release("9.0.1")).unwrap_err(),
            line_error("f", "`ENV VALKEY_VERSION` line", 2)
        );
        let no_purl = dockerfile(&[
            "ENV VALKEY_VERSION 9.0.0",
            "ENV VALKEY_DOWNLOAD_URL https://x",
            "ENV VALKEY_DOWNLOAD_SHA 00",
            r#"echo '{"versionInfo":"9.0.0"}'"#,
        ]);
        assert!(matches!(
            substitute("f", no_purl.as_bytes(), &release("9.0.1")),
            Err(ContainerError::DockerfileLine { found: 0, .. })
        ));
        assert_eq!(
            substitute("f", &[0xff, 0xfe], &release("9.0.1")).unwrap_err(),
            ContainerError::NotUtf8 { path: "f".into() }
        );
    }

    #[test]
    fn does_not_touch_lookalike_lines() {
        let input = dockerfile(&[
            "ENV VALKEY_VERSION 9.0.0",
            "ENV VALKEY_VERSION_EXTRA keep",
            "ENV VALKEY_DOWNLOAD_URL https://x",
            "ADD \"https://other\" /other.tar.gz",
            "ENV VALKEY_DOWNLOAD_SHA 00",
            SBOM,
            "# Version 9.0.0 is mentioned here",
        ]);
        let out = String::from_utf8(substitute("f", input.as_bytes(), &release("9.0.1")).unwrap())
            .unwrap();
        assert!(out.contains("ENV VALKEY_VERSION_EXTRA keep\n"));
        assert!(out.contains("ADD \"https://other\" /other.tar.gz\n"));
        assert!(out.contains("# Version 9.0.0 is mentioned here\n"));
    }
}
