//! The checksums task's audit of the hashes file, for every released version:
//!
//! - `format` (whole file): every line is a comment, blank, or `hash <file> sha256 <64 hex> <url>`
//!   with single spaces; a line in another shape (three fields, say) is drift at its line;
//! - `placeholder` (whole file): the `unstable` placeholder line is exactly the configured one,
//!   byte for byte, and there is one;
//! - `final-newline` (whole file): the file ends with a newline;
//! - `one-line` and `one-digest` (per version): its file name is on one line only, and never with
//!   two digests (the container repository takes the last line, so a second digest decides what
//!   ships: a person must find out which archive is genuine);
//! - `url` (per version): the line's URL is the canonical archive URL of the version;
//! - `recorded` (per release): every final release has a line (a rerun of the task appends
//!   it); a release candidate without one is not applicable.
//!
//! It publishes [`RecordedArchives`]: the last line of each version, as `versions.sh` reads it.

use std::collections::BTreeMap;

use valkey_bot_core::audit::{Audit, AuditContext, FileLine, Finding, Fix, Subject};
use valkey_bot_core::outputs::{RecordedArchive, RecordedArchives};
use valkey_bot_core::{TaskError, Version};

use crate::Checksums;

/// One line of the file as the audit sees it.
enum Line<'a> {
    /// A comment or a blank line.
    Other,
    /// `hash <file> sha256 <digest> <url>`.
    Entry {
        filename: &'a str,
        digest: &'a str,
        url: &'a str,
    },
    /// Anything else, and why.
    Malformed(String),
}

fn classify(line: &str) -> Line<'_> {
    if line.is_empty() || line.starts_with('#') {
        return Line::Other;
    }
    let words: Vec<&str> = line.split(' ').collect();
    match words.as_slice() {
        ["hash", filename, "sha256", digest, url] => {
            let hex = digest.len() == 64
                && digest
                    .bytes()
                    .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
            if !hex {
                Line::Malformed(format!("digest {digest:?} is not 64 lowercase hex digits"))
            } else if filename.is_empty() || url.is_empty() {
                Line::Malformed("an empty field".to_owned())
            } else {
                Line::Entry {
                    filename,
                    digest,
                    url,
                }
            }
        }
        _ => Line::Malformed(format!(
            "{} space-separated fields, expected 5 (`hash <file> sha256 <digest> <url>`)",
            words.len()
        )),
    }
}

/// A recorded entry and where it is.
struct Recorded<'a> {
    line: usize,
    digest: &'a str,
    url: &'a str,
}

impl Checksums {
    /// The audit described in this module's documentation.
    pub(crate) async fn audit_file(&self, ctx: &AuditContext<'_>) -> Result<Audit, TaskError> {
        let (target, _) = ctx.branch()?;
        let head = ctx.head().await?;
        let path = self.settings.file.as_str();
        let bytes = ctx
            .repos
            .read_file(&target.repo, &head, path)
            .await?
            .ok_or_else(|| {
                TaskError::Invalid(format!("{}: `{path}` does not exist", target.repo))
            })?;
        let text = String::from_utf8_lossy(&bytes);
        let mut audit = Audit::default();
        let at = |line: Option<usize>| {
            Some(FileLine {
                path: path.to_owned(),
                line,
            })
        };
        let hand = |how: String| Fix::ByHand { how };

        let mut placeholders = Vec::new();
        let mut malformed = 0;
        let mut by_version: BTreeMap<Version, Vec<Recorded<'_>>> = BTreeMap::new();
        for (index, line) in text.split('\n').enumerate() {
            let number = index + 1;
            let (filename, digest, url) = match classify(line) {
                Line::Other => continue,
                Line::Malformed(why) => {
                    malformed += 1;
                    audit.findings.push(Finding::drift(
                        Subject::All,
                        "format",
                        format!("line {number} is not a hash line: {why}"),
                        at(Some(number)),
                        hand(format!(
                            "rewrite line {number} of `{path}` as `hash <file> sha256 <digest> <url>` (or delete it)"
                        )),
                    ));
                    continue;
                }
                Line::Entry {
                    filename,
                    digest,
                    url,
                } => (filename, digest, url),
            };
            if filename == "valkey-unstable.tar.gz" {
                placeholders.push((number, line));
                continue;
            }
            let version = filename
                .strip_prefix("valkey-")
                .and_then(|rest| rest.strip_suffix(".tar.gz"))
                .and_then(|v| Version::parse(v).ok());
            let Some(version) = version else {
                malformed += 1;
                audit.findings.push(Finding::drift(
                    Subject::All,
                    "format",
                    format!("line {number}: file name {filename:?} is not valkey-<version>.tar.gz"),
                    at(Some(number)),
                    hand(format!("fix the file name on line {number} of `{path}`")),
                ));
                continue;
            };
            by_version.entry(version).or_default().push(Recorded {
                line: number,
                digest,
                url,
            });
        }
        if malformed == 0 {
            audit.findings.push(Finding::ok(Subject::All, "format"));
        }

        let wanted = &self.settings.placeholder;
        audit.findings.push(match placeholders.as_slice() {
            [(_, line)] if line == wanted => Finding::ok(Subject::All, "placeholder"),
            [] => Finding::drift(
                Subject::All,
                "placeholder",
                "the `unstable` placeholder line is missing",
                at(None),
                hand(format!(
                    "restore the placeholder line `{wanted}` after the header"
                )),
            ),
            [(number, _)] => Finding::drift(
                Subject::All,
                "placeholder",
                format!("the `unstable` placeholder on line {number} was changed"),
                at(Some(*number)),
                hand(format!("restore line {number} to `{wanted}`")),
            ),
            [_, more @ ..] => {
                let lines: Vec<String> = more.iter().map(|(n, _)| n.to_string()).collect();
                Finding::drift(
                    Subject::All,
                    "placeholder",
                    format!(
                        "the `unstable` placeholder is on {} lines",
                        placeholders.len()
                    ),
                    at(more.first().map(|(n, _)| *n)),
                    hand(format!(
                        "keep only the first placeholder line, `{wanted}`; delete line(s) {}",
                        lines.join(", ")
                    )),
                )
            }
        });

        audit.findings.push(if bytes.is_empty() || bytes.ends_with(b"\n") {
            Finding::ok(Subject::All, "final-newline")
        } else {
            Finding::drift(
                Subject::All,
                "final-newline",
                format!("`{path}` does not end with a newline"),
                at(Some(text.lines().count())),
                hand(format!(
                    "add a newline at the end of `{path}` (the bot adds it only when it appends)"
                )),
            )
        });

        let mut recorded = BTreeMap::new();
        for (version, lines) in &by_version {
            let subject = || Subject::Version(version.clone());
            let numbers: Vec<String> = lines.iter().map(|l| l.line.to_string()).collect();
            let first = lines.first().map(|l| l.digest).unwrap_or_default();
            let digests_agree = lines.iter().all(|l| l.digest == first);
            audit.findings.push(if lines.len() == 1 {
                Finding::ok(subject(), "one-line")
            } else if digests_agree {
                Finding::drift(
                    subject(),
                    "one-line",
                    format!(
                        "valkey-{version}.tar.gz is recorded on lines {}",
                        numbers.join(", ")
                    ),
                    at(lines.get(1).map(|l| l.line)),
                    hand(format!(
                        "delete the repeated line(s) {} of `{path}`",
                        numbers[1..].join(", ")
                    )),
                )
            } else {
                Finding::not_applicable(subject(), "one-line", "see one-digest")
            });
            audit.findings.push(if digests_agree {
                Finding::ok(subject(), "one-digest")
            } else {
                let listed: Vec<String> = lines
                    .iter()
                    .map(|l| format!("line {}: {}", l.line, l.digest))
                    .collect();
                Finding::drift(
                    subject(),
                    "one-digest",
                    format!(
                        "valkey-{version}.tar.gz is recorded with different digests ({}); the container repository takes the last",
                        listed.join("; ")
                    ),
                    at(lines.last().map(|l| l.line)),
                    hand(format!(
                        "find out which archive of {version} is genuine (the tag may have moved), keep that line and delete the other(s); the bot never chooses"
                    )),
                )
            });
            let canonical = self.archive_url(ctx.server_url, version.as_str());
            let wrong: Vec<&Recorded<'_>> = lines.iter().filter(|l| l.url != canonical).collect();
            audit.findings.push(match wrong.first() {
                None => Finding::ok(subject(), "url"),
                Some(line) => Finding::drift(
                    subject(),
                    "url",
                    format!(
                        "line {} has URL {}, not the canonical {canonical}",
                        line.line, line.url
                    ),
                    at(Some(line.line)),
                    hand(format!("set the URL on line {} to {canonical}", line.line)),
                ),
            });
            if let Some(last) = lines.last() {
                recorded.insert(
                    version.to_string(),
                    RecordedArchive {
                        url: last.url.to_owned(),
                        sha256: last.digest.to_owned(),
                    },
                );
            }
        }

        for version in ctx.releases.all() {
            let subject = Subject::Version(version.clone());
            audit.findings.push(if by_version.contains_key(version) {
                Finding::ok(subject, "recorded")
            } else if version.is_release_candidate() {
                Finding::not_applicable(
                    subject,
                    "recorded",
                    "a release candidate need not be recorded",
                )
            } else {
                Finding::drift(
                    subject,
                    "recorded",
                    format!("the final release {version} has no line in `{path}`"),
                    at(None),
                    Fix::Rerun {
                        version: version.clone(),
                    },
                )
            });
        }
        audit.outputs.insert(RecordedArchives(recorded));
        Ok(audit)
    }
}
