//! The `checksums` task: hashes the release's source archive and records
//! `hash valkey-<version>.tar.gz sha256 <hex> <url>` at the end of the hashes repository's file.
//!
//! Safety rules, from the incidents of the automation this replaces:
//! - a file name already recorded with a *different* digest stops the task with a security
//!   failure (a moved tag or tampering), unless the operator explicitly asked to replace it, and
//!   then the line is replaced in place, never duplicated;
//! - when the build sent its own digests, ours must match before anything is written, and a
//!   `prod` run started by an event requires the build's digest of the archive;
//! - the `unstable` placeholder line is never touched.

mod audit;
mod hashes_file;

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use serde::Deserialize;
use valkey_bot_core::audit::{Audit, AuditContext};
use valkey_bot_core::outputs::SourceArchive;
use valkey_bot_core::plan::{FileEdit, PlannedCommit};
use valkey_bot_core::task::FactoryOf;
use valkey_bot_core::template::Template;
use valkey_bot_core::{Plan, RepoId, Task, TaskContext, TaskError};

pub use hashes_file::{Decision, HashLine, Refusal, decide};

/// The task's `settings` in `tasks.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecksumsSettings {
    /// The repository whose tag archives are hashed.
    #[serde(default = "default_source")]
    pub source_repository: RepoId,
    /// The hashes file in the target repository.
    #[serde(default = "default_file")]
    pub file: String,
    /// The commit subject.
    #[serde(default = "default_message")]
    pub commit_message: Template,
    /// The `unstable` placeholder line, exactly as the file has it (the audit checks it byte
    /// for byte; the task never touches it).
    #[serde(default = "default_placeholder")]
    pub placeholder: String,
}

/// The placeholder line of valkey-io/valkey-hashes.
pub const PLACEHOLDER: &str = "hash valkey-unstable.tar.gz sha256 0000000000000000000000000000000000000000000000000000000000000000 https://github.com/valkey-io/valkey/archive/unstable.tar.gz";

fn default_placeholder() -> String {
    PLACEHOLDER.to_owned()
}

fn default_source() -> RepoId {
    RepoId::parse("valkey-io/valkey").unwrap_or_else(|_| unreachable!("a valid literal"))
}

fn default_file() -> String {
    "README".into()
}

fn default_message() -> Template {
    Template::parse("Update hash for {version}").unwrap_or_else(|_| unreachable!("a valid literal"))
}

/// Registers the task.
pub static FACTORY: FactoryOf<ChecksumsSettings> = FactoryOf::new(
    "checksums",
    "records the SHA-256 of the release's source archive in the hashes repository",
    |settings| Ok(Arc::new(Checksums { settings })),
);

/// The task itself.
pub struct Checksums {
    pub(crate) settings: ChecksumsSettings,
}

impl Checksums {
    /// `<server>/<owner>/<repo>/archive/refs/tags/<version>.tar.gz`.
    pub fn archive_url(&self, server_url: &str, version: &str) -> String {
        format!(
            "{}/{}/archive/refs/tags/{version}.tar.gz",
            server_url.trim_end_matches('/'),
            self.settings.source_repository
        )
    }
}

#[async_trait]
impl Task for Checksums {
    async fn audit(&self, ctx: &AuditContext<'_>) -> Result<Audit, TaskError> {
        self.audit_file(ctx).await
    }

    async fn plan(&self, ctx: &TaskContext<'_>) -> Result<Plan, TaskError> {
        let version = &ctx.request.version;
        if version.is_unstable() {
            return Err(TaskError::Invalid(
                "`unstable` has a fixed placeholder line in the hashes file; there is nothing to record".into(),
            ));
        }
        let url = self.archive_url(ctx.server_url, version.as_str());
        let filename = format!("valkey-{version}.tar.gz");
        let expected = ctx.request.build_digest(&filename)?;
        let path = &self.settings.file;
        // The archive's digest and the hashes file do not depend on each other: both at once.
        let current = async {
            let head = ctx.target_head().await?;
            let before = ctx.required_file(&head, path).await?;
            Ok::<_, TaskError>((head, before))
        };
        let (digested, (head, before)) = futures::try_join!(
            async { Ok::<_, TaskError>(ctx.downloads.digest(&url).await?) },
            current
        )?;
        if let Some(expected) = expected
            && *expected != digested.sha256
        {
            return Err(TaskError::Security(format!(
                "{filename}: the release build reported {expected}, but {url} hashes to {}; nothing was written",
                digested.sha256
            )));
        }
        let line = HashLine {
            filename: filename.clone(),
            sha256: digested.sha256,
            url: url.clone(),
        };

        let mut plan = Plan::default();
        plan.outputs.insert(SourceArchive {
            version: version.clone(),
            filename: filename.clone(),
            url: url.clone(),
            sha256: digested.sha256,
        });
        let subject = self.settings.commit_message.render(version);
        let (after, message) = match decide(&before, &line, ctx.request.replace) {
            Ok(Decision::UpToDate) => {
                plan.notes
                    .push(format!("{filename} is already recorded with this digest"));
                return Ok(plan);
            }
            Ok(Decision::Append(after)) => (after, subject),
            Ok(Decision::Replace {
                content,
                old_digest,
            }) => {
                let note = format!(
                    "{filename}: recorded digest {old_digest} replaced by {} at the operator's request",
                    digested.sha256
                );
                plan.alerts.push(note);
                let body = format!(
                    "Replaces the recorded digest of {filename} at the operator's explicit request.\n\nOld: {old_digest}\nNew: {}",
                    digested.sha256
                );
                (content, format!("{subject}\n\n{body}"))
            }
            Err(refusal) => return Err(refusal_error(&filename, &url, &line, path, refusal)),
        };
        let commit = PlannedCommit {
            message,
            edits: vec![FileEdit {
                path: path.clone(),
                before: Some(before),
                after: Some(Bytes::from(after)),
                executable: false,
            }],
        };
        plan.changes
            .push(ctx.change(head, vec![commit], String::new())?);
        Ok(plan)
    }
}

fn refusal_error(
    filename: &str,
    url: &str,
    line: &HashLine,
    path: &str,
    refusal: Refusal,
) -> TaskError {
    match refusal {
        Refusal::DigestChanged { recorded } => TaskError::Security(format!(
            "{filename} is already recorded with digest {}, but {url} now hashes to {}. The tag may have been moved \
             or the archive tampered with; nothing was written. If the new archive is legitimate, rerun with \
             `replace` set to replace the recorded digest.",
            recorded.join(", "),
            line.sha256
        )),
        Refusal::AmbiguousReplace { lines } => TaskError::Invalid(format!(
            "{filename} appears on {lines} lines of `{path}`; remove the wrong ones by hand before replacing"
        )),
        Refusal::NotText => TaskError::Invalid(format!("`{path}` is not UTF-8 text")),
    }
}
