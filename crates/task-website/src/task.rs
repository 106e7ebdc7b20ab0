//! The `website` task: renders the release's download page from the website repository's own
//! template, checks that every binary link it shows was verified by the artifacts task, and
//! returns the page as a pull request. Inputs: the container task's image tags and the
//! artifacts task's verified list.
//!
//! Reruns: the page carries the date of the run that made it. When the page already exists and
//! equals the rendering with one of the dates it contains, that date is kept, so a rerun on a
//! later day changes nothing.

use std::fmt::Write as _;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use serde::Deserialize;
use valkey_bot_core::audit::{Audit, AuditContext};
use valkey_bot_core::outputs::{ImageTags, VerifiedArtifacts};
use valkey_bot_core::plan::{FileEdit, PlannedCommit};
use valkey_bot_core::task::FactoryOf;
use valkey_bot_core::template::Template as Message;
use valkey_bot_core::{Plan, Task, TaskContext, TaskError};

use crate::{ReleaseDate, ReleasePage, Template, missing_links};

/// The task's `settings` in `tasks.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebsiteSettings {
    /// The page template in the website repository.
    #[serde(default = "default_template")]
    pub template: String,
    /// The commit subject.
    #[serde(default = "default_message")]
    pub commit_message: Message,
}

fn default_template() -> String {
    "templates/valkey-website-template.md".into()
}

fn default_message() -> Message {
    Message::parse("Updates downloads section for version {version}")
        .unwrap_or_else(|_| unreachable!("a valid literal"))
}

/// Registers the task.
pub static FACTORY: FactoryOf<WebsiteSettings> = FactoryOf::new(
    "website",
    "renders the release download page, with every binary link verified",
    |settings| Ok(Arc::new(Website { settings })),
);

/// The task itself.
pub struct Website {
    settings: WebsiteSettings,
}

/// Every `YYYY-MM-DD` in `text`, in order.
fn dates_in(text: &str) -> Vec<ReleaseDate> {
    let bytes = text.as_bytes();
    (0..bytes.len().saturating_sub(9))
        .filter_map(|i| text.get(i..i + 10))
        .filter(|s| {
            s.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            })
        })
        .filter_map(|s| ReleaseDate::parse(s).ok())
        .collect()
}

#[async_trait]
impl Task for Website {
    async fn audit(&self, ctx: &AuditContext<'_>) -> Result<Audit, TaskError> {
        self.audit_pages(ctx).await
    }

    async fn plan(&self, ctx: &TaskContext<'_>) -> Result<Plan, TaskError> {
        let tags = ctx.input::<ImageTags>()?;
        let verified = ctx.input::<VerifiedArtifacts>()?;
        let version = &ctx.request.version;
        let target = ctx.target()?;
        let head = ctx.target_head().await?;
        let template_path = &self.settings.template;
        // The template and the page already there do not depend on each other: read both at once.
        let page_path = crate::path::page_path(version);
        let (template_bytes, before) =
            futures::try_join!(ctx.required_file(&head, template_path), async {
                Ok::<_, TaskError>(
                    ctx.repos()?
                        .read_file(&target.repo, &head, &page_path)
                        .await?,
                )
            },)?;
        let template = Template::parse(&template_bytes)
            .map_err(|e| TaskError::Invalid(format!("`{template_path}`: {e}")))?;
        let invalid = |e: crate::WebsiteError| TaskError::Invalid(e.to_string());
        let today = ReleaseDate::parse(ctx.run_date)
            .map_err(|e| TaskError::Invalid(format!("run date: {e}")))?;
        let mut page = ReleasePage::build(&template, version, today, tags).map_err(invalid)?;
        if let Some(existing) = before.as_ref().and_then(|b| std::str::from_utf8(b).ok())
            && existing != page.content
        {
            for date in dates_in(existing) {
                let again = ReleasePage::build(&template, version, date, tags).map_err(invalid)?;
                if again.content == existing {
                    page = again;
                    break;
                }
            }
        }

        let missing = missing_links(&page.links, &verified.0);
        if !missing.is_empty() {
            let list: Vec<String> = missing.iter().map(ToString::to_string).collect();
            return Err(TaskError::Invalid(format!(
                "the page would link to files the artifacts task did not verify: {}",
                list.join(", ")
            )));
        }

        let mut plan = Plan::default();
        if before.as_deref() == Some(page.content.as_bytes()) {
            plan.notes
                .push(format!("`{}` is already up to date", page.path));
            return Ok(plan);
        }
        let mut body = format!(
            "Adds the download page of Valkey {version}: `{}`.\n\nImage tags listed:\n\n",
            page.path
        );
        for tag in &page.tags {
            let _ = writeln!(body, "- `{tag}`");
        }
        let _ = write!(
            body,
            "\nEvery binary link on the page ({} files) was downloaded and checked against its `.sha256` by the artifacts task.\n\nOpened by valkey-bot; a rerun updates this pull request.\n",
            page.links.len() * 2
        );
        let commit = PlannedCommit {
            message: self.settings.commit_message.render(version),
            edits: vec![FileEdit {
                path: page.path.clone(),
                before,
                after: Some(Bytes::from(page.content.into_bytes())),
                executable: false,
            }],
        };
        plan.changes.push(ctx.change(head, vec![commit], body)?);
        Ok(plan)
    }
}
