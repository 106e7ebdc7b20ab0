//! The task: reads valkey-doc's four files and the release's `module.c`, and plans one commit.

use std::fmt::Write as _;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::{StreamExt as _, TryStreamExt as _};
use serde::Deserialize;
use valkey_bot_core::audit::{Audit, AuditContext};
use valkey_bot_core::plan::{FileEdit, PlannedCommit};
use valkey_bot_core::task::FactoryOf;
use valkey_bot_core::template::Template as Message;
use valkey_bot_core::{Plan, RepoId, Task, TaskContext, TaskError, Version};

use crate::files::{self, ReleaseRow};
use crate::modref::{self, SinceMap};
use crate::{DocsError, dates};

/// The task's `settings` in `tasks.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DocsSettings {
    /// The Valkey source repository whose `src/module.c` (at the release tag) the Modules API
    /// reference is generated from; public, read with the task's token.
    #[serde(default = "default_source")]
    pub source_repository: RepoId,
    /// The commit subject.
    #[serde(default = "default_message")]
    pub commit_message: Message,
}

fn default_source() -> RepoId {
    RepoId::parse("valkey-io/valkey").unwrap_or_else(|_| unreachable!("a valid literal"))
}

fn default_message() -> Message {
    Message::parse("Update documentation for Valkey {version}")
        .unwrap_or_else(|_| unreachable!("a valid literal"))
}

/// Registers the task.
pub static FACTORY: FactoryOf<DocsSettings> = FactoryOf::new(
    "docs",
    "updates valkey-doc for a new X.Y.0 line: releases table, Makefile, valkey.conf link, Modules API reference",
    |settings| Ok(Arc::new(Docs { settings })),
);

/// The task itself.
pub struct Docs {
    settings: DocsSettings,
}

/// `(major, minor)` when `version` is a final `X.Y.0`, else `None`.
pub(crate) fn new_line(version: &Version) -> Option<(u32, u32)> {
    match version.numbers() {
        Some((major, minor, 0)) if !version.is_release_candidate() => Some((major, minor)),
        _ => None,
    }
}

/// The row of line `major.minor` first released on `today`.
fn release_row(major: u32, minor: u32, today: &str) -> Result<ReleaseRow, DocsError> {
    let day = dates::parse_day(today)?;
    let security_years = if minor == 0 { 3 } else { 5 };
    Ok(ReleaseRow {
        line: format!("{major}.{minor}"),
        released: dates::format_day(day),
        maintenance_end: dates::format_day(dates::add_years(day, 3)?),
        security_end: dates::format_day(dates::add_years(day, security_years)?),
    })
}

/// The text of a file read from valkey-doc, or an error naming it.
fn text<'b>(path: &str, bytes: &'b Bytes) -> Result<&'b str, TaskError> {
    std::str::from_utf8(bytes).map_err(|e| {
        TaskError::Invalid(format!("`{path}` is not UTF-8 (byte {})", e.valid_up_to()))
    })
}

impl Docs {
    /// The "since" values for `module_c` of `version`: those `reference` states, then each
    /// release tag after the newest it mentions, up to `version`, read in order.
    async fn since(
        &self,
        ctx: &TaskContext<'_>,
        version: &Version,
        module_c: &str,
        reference: &str,
    ) -> Result<(SinceMap, Vec<String>), TaskError> {
        let source = &self.settings.source_repository;
        let mut since = SinceMap::from_reference(reference);
        let newest = since.newest();
        let release = version
            .numbers()
            .map(|(x, y, z)| (u64::from(x), u64::from(y), u64::from(z)));
        let mut tags: Vec<((u64, u64, u64), String)> = ctx
            .repos()?
            .list_tags(source)
            .await?
            .into_iter()
            .filter_map(|tag| modref::release_numbers(&tag).map(|n| (n, tag)))
            .filter(|(n, _)| newest.is_none_or(|newest| *n > newest) && Some(*n) < release)
            .collect();
        tags.sort();
        // The tags' `module.c` are read several at once (a bounded number, clear of GitHub's
        // secondary rate limits) and added oldest first, as before.
        let repos = ctx.repos()?;
        let reads: Vec<_> = tags
            .iter()
            .map(|(_, tag)| repos.read_file(source, tag, modref::MODULE_C))
            .collect();
        let sources: Vec<Option<Bytes>> = futures::stream::iter(reads)
            .buffered(CONCURRENT_READS)
            .try_collect()
            .await?;
        let mut read = Vec::new();
        for ((_, tag), bytes) in tags.into_iter().zip(sources) {
            if let Some(bytes) = bytes {
                since.add_release(&tag, &String::from_utf8_lossy(&bytes));
            }
            read.push(tag);
        }
        if release.is_some_and(|r| newest.is_none_or(|newest| r > newest)) {
            since.add_release(version.as_str(), module_c);
        }
        Ok((since, read))
    }
}

/// How many tags' `module.c` the task reads at once.
const CONCURRENT_READS: usize = 8;

#[async_trait]
impl Task for Docs {
    async fn audit(&self, ctx: &AuditContext<'_>) -> Result<Audit, TaskError> {
        self.audit_docs(ctx).await
    }

    async fn plan(&self, ctx: &TaskContext<'_>) -> Result<Plan, TaskError> {
        let version = &ctx.request.version;
        let Some((major, minor)) = new_line(version) else {
            return Ok(Plan {
                notes: vec![format!(
                    "not applicable: {version} is not a final X.Y.0 release, and valkey-doc changes only for a new minor line"
                )],
                ..Plan::default()
            });
        };
        let (target, _) = ctx.commit_target()?;
        let head = ctx.target_head().await?;
        let invalid = |e: DocsError| TaskError::Invalid(format!("{}: {e}", target.repo));
        let row = release_row(major, minor, ctx.run_date).map_err(invalid)?;
        let line = row.line.clone();

        // The four files and the release's `module.c` do not depend on each other: read at once.
        let source = &self.settings.source_repository;
        let (releases, makefile, conf, reference, module_c) = futures::try_join!(
            ctx.required_file(&head, files::RELEASES),
            ctx.required_file(&head, files::MAKEFILE),
            ctx.required_file(&head, files::VALKEY_CONF),
            async {
                Ok::<_, TaskError>(
                    ctx.repos()?
                        .read_file(&target.repo, &head, modref::REFERENCE)
                        .await?,
                )
            },
            async {
                ctx.repos()?
                    .read_file(source, version.as_str(), modref::MODULE_C)
                    .await?
                    .ok_or_else(|| {
                        TaskError::Invalid(format!(
                            "{source}: `{}` does not exist at tag {version}",
                            modref::MODULE_C
                        ))
                    })
            },
        )?;

        let new_releases =
            files::add_release_row(text(files::RELEASES, &releases)?, &row).map_err(invalid)?;
        let new_makefile = files::set_makefile(
            text(files::MAKEFILE, &makefile)?,
            version.as_str(),
            &row.released,
        )
        .map_err(invalid)?;
        let new_conf =
            files::add_conf_link(text(files::VALKEY_CONF, &conf)?, &line).map_err(invalid)?;

        let source_error = |e: DocsError| TaskError::Invalid(format!("{source} at {version}: {e}"));
        let module_text = std::str::from_utf8(&module_c).map_err(|e| {
            source_error(DocsError::ModuleSource(format!(
                "not UTF-8 (byte {})",
                e.valid_up_to()
            )))
        })?;
        let old_reference = match &reference {
            Some(bytes) => text(modref::REFERENCE, bytes)?,
            None => "",
        };
        let (since, read_tags) = self.since(ctx, version, module_text, old_reference).await?;
        let new_reference = modref::generate(module_text, &since).map_err(source_error)?;

        let mut edits = Vec::new();
        let mut changed = Vec::new();
        let mut edit = |path: &str, before: Option<Bytes>, after: Option<String>, what: String| {
            if let Some(after) = after
                && before.as_deref() != Some(after.as_bytes())
            {
                edits.push(FileEdit {
                    path: path.to_owned(),
                    before,
                    after: Some(Bytes::from(after.into_bytes())),
                    executable: false,
                });
                changed.push(what);
            }
        };
        edit(
            files::RELEASES,
            Some(releases.clone()),
            new_releases,
            format!("`{}`: added `{}`", files::RELEASES, row.render()),
        );
        edit(
            files::MAKEFILE,
            Some(makefile.clone()),
            new_makefile,
            format!(
                "`{}`: `VERSION ?= {version}` and `DATE ?= {}`",
                files::MAKEFILE,
                row.released
            ),
        );
        edit(
            files::VALKEY_CONF,
            Some(conf.clone()),
            new_conf,
            format!(
                "`{}`: added the valkey.conf link for Valkey {line}",
                files::VALKEY_CONF
            ),
        );
        let read = if read_tags.is_empty() {
            "no earlier tag read".to_owned()
        } else {
            format!(
                "tags read for \"Available since\": {}",
                read_tags.join(", ")
            )
        };
        edit(
            modref::REFERENCE,
            reference.clone(),
            Some(new_reference),
            format!(
                "`{}`: regenerated from `{}` of {source} at {version} ({read})",
                modref::REFERENCE,
                modref::MODULE_C
            ),
        );

        if edits.is_empty() {
            return Ok(Plan {
                notes: vec![format!(
                    "{} is already up to date for Valkey {version}",
                    target.repo
                )],
                ..Plan::default()
            });
        }
        let mut body = format!("Updates the documentation for Valkey {version}.\n\n## Changes\n\n");
        for what in &changed {
            let _ = writeln!(body, "- {what}");
        }
        body.push_str("\nOpened by valkey-bot; a rerun updates this pull request.\n");
        let commit = PlannedCommit {
            message: self.settings.commit_message.render(version),
            edits,
        };
        let mut plan = Plan::default();
        plan.changes.push(ctx.change(head, vec![commit], body)?);
        Ok(plan)
    }
}
