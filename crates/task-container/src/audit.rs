//! The container task's audit of the container repository at the head of its branch:
//!
//! - `versions-json` (whole file): `versions.json` is an object of lines, each with string
//!   `version`, `url`, `sha256`, `debian.version` and `alpine.version`; anything else is drift
//!   (and the other checks cannot be made);
//! - `archive` (per line, for the version it is at): `version`/`url`/`sha256` equal the LAST
//!   line of that version in the hashes file (the checksums audit's [`RecordedArchives`]);
//! - `current` (per line): the line is at the newest release of its minor line, and every
//!   released minor line has a line;
//! - `dockerfiles` (per line): every file of `<line>/<variant>/` is what this task's own
//!   renderer ([`render_line`]) makes from `versions.json` as committed, so the audit and the
//!   task cannot disagree;
//! - `latest` (whole file): exactly one line carries `latest` in the aliases block, the newest
//!   line with a final release.
//!
//! It publishes [`PublishedImageTags`]: the tags the repository publishes today, per version
//! that a line is at, computed by the task's own [`image_tags`].

use std::collections::BTreeMap;

use valkey_bot_core::audit::{Audit, AuditContext, FileLine, Finding, Fix, Subject};
use valkey_bot_core::github::dir_prefix;
use valkey_bot_core::outputs::{PublishedImageTags, RecordedArchives};
use valkey_bot_core::{RepoId, TaskError, Version};

use crate::aliases::{self, AliasesScript};
use crate::plan::{ENTRYPOINT_PATH, RepoSnapshot, VALKEY_SBOM_PATH, differing_files};
use crate::render::{RenderInputs, render_line, variants_of};
use crate::tags::image_tags;
use crate::task::{Container, read_all};
use crate::versions_json::{self, LineEntry, VersionsJson};

fn at(path: &str, line: Option<usize>) -> Option<FileLine> {
    Some(FileLine {
        path: path.to_owned(),
        line,
    })
}

fn text(path: &str, bytes: &[u8]) -> Result<String, TaskError> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| TaskError::Invalid(format!("{path}: not valid UTF-8")))
}

impl Container {
    /// The audit described in this module's documentation.
    pub(crate) async fn audit_repository(
        &self,
        ctx: &AuditContext<'_>,
    ) -> Result<Audit, TaskError> {
        let (target, _) = ctx.branch()?;
        let repo = &target.repo;
        let head = ctx.head().await?;
        let mut audit = Audit::default();
        let versions_bytes = read_all(ctx.repos, repo, &head, vec![versions_json::PATH.to_owned()])
            .await?
            .concat();
        let parsed = VersionsJson::parse(&versions_bytes).and_then(|file| {
            let entries = file
                .lines()
                .into_iter()
                .map(|line| Ok((line.to_owned(), file.entry(line)?)))
                .collect::<Result<Vec<_>, crate::ContainerError>>()?;
            Ok((file, entries))
        });
        let (versions, entries) = match parsed {
            Ok((file, entries)) => (
                file,
                entries
                    .into_iter()
                    .filter_map(|(line, entry)| entry.map(|e| (line, e)))
                    .collect::<Vec<(String, LineEntry)>>(),
            ),
            Err(e) => {
                let line = serde_json::from_slice::<serde_json::Value>(&versions_bytes)
                    .err()
                    .map(|e| e.line());
                audit.findings.push(Finding::drift(
                    Subject::All,
                    "versions-json",
                    e.to_string(),
                    at(versions_json::PATH, line),
                    Fix::ByHand {
                        how: format!(
                            "repair `{}` (an object keyed by minor line, as `jq .` writes it); no other container check can be made until then",
                            versions_json::PATH
                        ),
                    },
                ));
                return Ok(audit);
            }
        };
        audit
            .findings
            .push(Finding::ok(Subject::All, "versions-json"));
        let subject_of = |entry: &LineEntry| {
            Version::parse(&entry.version).map_or(Subject::All, Subject::Version)
        };

        self.check_archives(ctx, &entries, &mut audit);
        check_current(ctx, &entries, &mut audit);

        let script_bytes = read_all(ctx.repos, repo, &head, vec![aliases::PATH.to_owned()])
            .await?
            .concat();
        let script = match AliasesScript::parse(&script_bytes) {
            Ok(script) => Some(script),
            Err(e) => {
                audit.findings.push(Finding::drift(
                    Subject::All,
                    "latest",
                    e.to_string(),
                    at(aliases::PATH, None),
                    Fix::ByHand {
                        how: format!("repair the aliases block of `{}`", aliases::PATH),
                    },
                ));
                None
            }
        };
        if let Some(script) = &script {
            audit.findings.push(check_latest(script, &entries));
            let mut published = BTreeMap::new();
            for (line, entry) in &entries {
                if line == "unstable" {
                    continue;
                }
                let tags = image_tags(
                    &entry.version,
                    line,
                    &script.aliases_of(line),
                    &entry.debian_suite,
                    &entry.alpine_version,
                );
                published.insert(entry.version.clone(), tags);
            }
            audit.outputs.insert(PublishedImageTags(published));
        }

        let rendered = self
            .render_all(ctx, repo, &head, &versions_bytes, &versions)
            .await?;
        for ((line, entry), (snapshot, result)) in entries.iter().zip(rendered) {
            let subject = subject_of(entry);
            let finding = match result {
                Err(e) => Finding::drift(
                    subject,
                    "dockerfiles",
                    format!("line {line} does not render: {e}"),
                    at(versions_json::PATH, None),
                    Fix::ByHand {
                        how: format!("fix the templates or line {line} of `versions.json`"),
                    },
                ),
                Ok(files) => {
                    let differing =
                        differing_files(&snapshot, &self.settings.variants, line, &files);
                    match differing.first() {
                        None => Finding::ok(subject, "dockerfiles"),
                        Some((first, _)) => {
                            let paths: Vec<&str> =
                                differing.iter().map(|(p, _)| p.as_str()).collect();
                            let fix = match Version::parse(&entry.version) {
                                Ok(version) if !version.is_unstable() => Fix::Rerun { version },
                                _ => Fix::ByHand {
                                    how: format!(
                                        "run `./apply-templates.sh {line}` and commit the result"
                                    ),
                                },
                            };
                            Finding::drift(
                                subject,
                                "dockerfiles",
                                format!(
                                    "{} file(s) differ from what the templates render for versions.json: {}",
                                    paths.len(),
                                    paths.join(", ")
                                ),
                                at(first, None),
                                fix,
                            )
                        }
                    }
                }
            };
            audit.findings.push(finding);
        }
        Ok(audit)
    }

    /// `archive`: each numeric line's values against the hashes file's last line of its version.
    fn check_archives(
        &self,
        ctx: &AuditContext<'_>,
        entries: &[(String, LineEntry)],
        audit: &mut Audit,
    ) {
        let recorded = ctx.input::<RecordedArchives>();
        for (line, entry) in entries.iter().filter(|(l, _)| l != "unstable") {
            let Ok(version) = Version::parse(&entry.version) else {
                audit.findings.push(Finding::drift(
                    Subject::All,
                    "archive",
                    format!("line {line} has version {:?}", entry.version),
                    at(versions_json::PATH, None),
                    Fix::ByHand {
                        how: format!("set line {line}'s version in `versions.json`"),
                    },
                ));
                continue;
            };
            let subject = Subject::Version(version.clone());
            let recorded = match &recorded {
                Ok(recorded) => recorded,
                Err(e) => {
                    audit
                        .findings
                        .push(Finding::unknown(subject, "archive", e.to_string()));
                    continue;
                }
            };
            let Some(archive) = recorded.0.get(version.as_str()) else {
                audit.findings.push(Finding::drift(
                    subject,
                    "archive",
                    format!(
                        "line {line} is at {version}, which the hashes file does not record"
                    ),
                    at(versions_json::PATH, None),
                    Fix::ByHand {
                        how: format!(
                            "record {version} first (`valkey-bot run --version {version} --only checksums`), then check line {line}'s url and sha256 against it"
                        ),
                    },
                ));
                continue;
            };
            let differs: Vec<String> = [
                ("url", &entry.url, &archive.url),
                ("sha256", &entry.sha256, &archive.sha256),
            ]
            .into_iter()
            .filter(|(_, have, want)| have != want)
            .map(|(field, have, want)| format!("{field} {have} (the hashes file: {want})"))
            .collect();
            audit.findings.push(if differs.is_empty() {
                Finding::ok(subject, "archive")
            } else {
                Finding::drift(
                    subject,
                    "archive",
                    format!(
                        "line {line} disagrees with the last hashes line of {version}: {}",
                        differs.join("; ")
                    ),
                    at(versions_json::PATH, None),
                    Fix::ByHand {
                        how: format!(
                            "find out which digest of {version} is genuine; then set line {line}'s url and sha256 as `update.sh {line}` does (the task refuses to replace a recorded digest)"
                        ),
                    },
                )
            });
        }
    }

    /// Renders every line of `versions` with the task's renderer, beside a snapshot of its
    /// committed variant directories.
    async fn render_all(
        &self,
        ctx: &AuditContext<'_>,
        repo: &RepoId,
        head: &str,
        versions_bytes: &[u8],
        versions: &VersionsJson,
    ) -> Result<Vec<Rendered>, TaskError> {
        let variants = &self.settings.variants;
        let listing = ctx.repos.list_files(repo, head, "").await?.ok_or_else(|| {
            TaskError::Invalid(format!("{repo}: cannot list the files of {head}"))
        })?;
        let mut templates: Vec<String> = variants.iter().map(|v| v.template.clone()).collect();
        templates.sort();
        templates.dedup();
        let mut shared = templates.clone();
        shared.extend([VALKEY_SBOM_PATH.to_owned(), ENTRYPOINT_PATH.to_owned()]);
        let shared_bytes = read_all(ctx.repos, repo, head, shared.clone()).await?;
        let shared: BTreeMap<String, Vec<u8>> = shared
            .into_iter()
            .zip(shared_bytes)
            .map(|(p, b)| (p, b.to_vec()))
            .collect();
        let helper = &self.settings.helper_functions;
        let helper_repo = RepoId::parse(&helper.repository)
            .map_err(|e| TaskError::Invalid(format!("{}: {e}", helper.repository)))?;
        let helper_text = text(
            &helper.path,
            &read_all(
                ctx.repos,
                &helper_repo,
                &helper.commit,
                vec![helper.path.clone()],
            )
            .await?
            .concat(),
        )?;
        let mut template_texts = BTreeMap::new();
        for path in &templates {
            template_texts.insert(path.as_str(), text(path, &shared[path])?);
        }
        let sbom = text(VALKEY_SBOM_PATH, &shared[VALKEY_SBOM_PATH])?;
        let entrypoint_mode = listing
            .iter()
            .any(|f| f.path == ENTRYPOINT_PATH && f.executable);
        let inputs = RenderInputs {
            templates: template_texts
                .iter()
                .map(|(p, t)| (*p, t.as_str()))
                .collect(),
            valkey_sbom: &sbom,
            helper_functions: &helper_text,
            entrypoint: (&shared[ENTRYPOINT_PATH], entrypoint_mode),
            versions_json: versions_bytes,
        };
        let mut out = Vec::new();
        for line in versions.lines() {
            let prefixes: Vec<String> = variants_of(variants, line)
                .map(|v| dir_prefix(&format!("{line}/{}", v.name)))
                .collect();
            let files: Vec<(String, bool)> = listing
                .iter()
                .filter(|f| prefixes.iter().any(|p| f.path.starts_with(p)))
                .map(|f| (f.path.clone(), f.executable))
                .collect();
            let bytes = read_all(
                ctx.repos,
                repo,
                head,
                files.iter().map(|(p, _)| p.clone()).collect(),
            )
            .await?;
            let mut snapshot = RepoSnapshot::new();
            for ((path, executable), bytes) in files.into_iter().zip(bytes) {
                snapshot.insert(path, bytes.to_vec(), executable);
            }
            out.push((snapshot, render_line(&inputs, variants, line)));
        }
        Ok(out)
    }
}

/// A line's committed files and its rendering.
type Rendered = (
    RepoSnapshot,
    Result<BTreeMap<String, (Vec<u8>, bool)>, valkey_bot_jq_template::TemplateError>,
);

/// `current`: every released minor line has a line, at its newest release.
fn check_current(ctx: &AuditContext<'_>, entries: &[(String, LineEntry)], audit: &mut Audit) {
    let mut newest: BTreeMap<String, &Version> = BTreeMap::new();
    for version in ctx.releases.all() {
        newest.insert(version.minor_line(), version);
    }
    for (line, version) in newest {
        let entry = entries.iter().find(|(l, _)| *l == line).map(|(_, e)| e);
        let subject = Subject::Version(version.clone());
        audit.findings.push(match entry {
            Some(entry) if entry.version == version.as_str() => Finding::ok(subject, "current"),
            Some(entry) => Finding::drift(
                subject,
                "current",
                format!(
                    "line {line} is at {}, not at its newest release {version}",
                    entry.version
                ),
                at(versions_json::PATH, None),
                Fix::Rerun {
                    version: version.clone(),
                },
            ),
            None => Finding::drift(
                subject,
                "current",
                format!("versions.json has no line {line} for the release {version}"),
                at(versions_json::PATH, None),
                Fix::Rerun {
                    version: version.clone(),
                },
            ),
        });
    }
}

/// `latest`: exactly one key of the aliases block has `latest`, the newest line whose version is
/// a final release.
fn check_latest(script: &AliasesScript, entries: &[(String, LineEntry)]) -> Finding {
    let newest_final = entries
        .iter()
        .filter_map(|(line, entry)| {
            let version = Version::parse(&entry.version).ok()?;
            let numbers = version.numbers()?;
            (!version.is_release_candidate()).then_some(((numbers.0, numbers.1), line))
        })
        .max()
        .map(|(_, line)| line.clone());
    let carrying: Vec<&str> = script
        .keys()
        .into_iter()
        .filter(|key| script.aliases_of(key).iter().any(|w| w == "latest"))
        .collect();
    let fix = |how: String| Fix::ByHand { how };
    match (carrying.as_slice(), &newest_final) {
        ([key], Some(newest)) if key == newest => Finding::ok(Subject::All, "latest"),
        (_, None) => Finding::not_applicable(Subject::All, "latest", "no line has a final release"),
        ([], Some(newest)) => Finding::drift(
            Subject::All,
            "latest",
            format!("no line carries `latest`; the newest final line is {newest}"),
            at(aliases::PATH, None),
            fix(format!(
                "add `latest` to [{newest}] in the aliases block of `{}`",
                aliases::PATH
            )),
        ),
        (keys, Some(newest)) => Finding::drift(
            Subject::All,
            "latest",
            format!(
                "`latest` is carried by {}, but the newest final line is {newest}",
                keys.join(", ")
            ),
            at(aliases::PATH, None),
            fix(format!(
                "keep `latest` only on [{newest}] in the aliases block of `{}`",
                aliases::PATH
            )),
        ),
    }
}
