//! The docs task's audit of valkey-doc at the head of its branch, for the newest final `X.Y.0`
//! release (the one the task last had work for):
//!
//! - `row`: `topics/releases.md` has the row of line `X.Y`;
//! - `conf-link`: `topics/valkey.conf.md` has the `valkey.conf` link of line `X.Y`;
//! - `makefile`: the `Makefile`'s `VERSION ?=` is `X.Y.0`.
//!
//! Each is decided by the task's own edit ([`files`]): a file is consistent when the edit would
//! change nothing. Without any final `X.Y.0` among the releases, nothing applies.

use valkey_bot_core::audit::{Audit, AuditContext, FileLine, Finding, Fix, Subject};
use valkey_bot_core::{TaskError, Version};

use crate::DocsError;
use crate::files::{self, ReleaseRow};
use crate::task::{Docs, new_line};

impl Docs {
    /// The audit described in this module's documentation.
    pub(crate) async fn audit_docs(&self, ctx: &AuditContext<'_>) -> Result<Audit, TaskError> {
        let mut audit = Audit::default();
        let checks = ["row", "conf-link", "makefile"];
        let Some(version) = ctx
            .releases
            .finals()
            .filter(|v| new_line(v).is_some())
            .max()
            .cloned()
        else {
            for check in checks {
                audit.findings.push(Finding::not_applicable(
                    Subject::All,
                    check,
                    "no final X.Y.0 release",
                ));
            }
            return Ok(audit);
        };
        let (target, _) = ctx.branch()?;
        let head = ctx.head().await?;
        let line = version.minor_line();
        let row = ReleaseRow {
            line: line.clone(),
            released: String::new(),
            maintenance_end: String::new(),
            security_end: String::new(),
        };
        for (check, path) in
            checks
                .into_iter()
                .zip([files::RELEASES, files::VALKEY_CONF, files::MAKEFILE])
        {
            let bytes = ctx.repos.read_file(&target.repo, &head, path).await?;
            let text = String::from_utf8_lossy(bytes.as_deref().unwrap_or_default()).into_owned();
            let edit: Result<Option<String>, DocsError> = match check {
                "row" => files::add_release_row(&text, &row),
                "conf-link" => files::add_conf_link(&text, &line),
                _ => files::set_makefile(&text, version.as_str(), ""),
            };
            audit
                .findings
                .push(finding(&version, check, path, bytes.is_some(), edit));
        }
        Ok(audit)
    }
}

/// The finding of `check` on `path` from what the task's edit of it says.
fn finding(
    version: &Version,
    check: &'static str,
    path: &str,
    exists: bool,
    edit: Result<Option<String>, DocsError>,
) -> Finding {
    let subject = Subject::Version(version.clone());
    let at = Some(FileLine {
        path: path.to_owned(),
        line: None,
    });
    let line = version.minor_line();
    match edit {
        Ok(None) if exists => Finding::ok(subject, check),
        Ok(_) if exists => {
            let what = match check {
                "row" => format!("`{path}` has no row for {line}"),
                "conf-link" => format!("`{path}` has no valkey.conf link for {line}"),
                _ => format!("`{path}`'s `VERSION ?=` is not {version}"),
            };
            Finding::drift(
                subject,
                check,
                what,
                at,
                Fix::Rerun {
                    version: version.clone(),
                },
            )
        }
        Ok(_) => Finding::drift(
            subject,
            check,
            format!("`{path}` does not exist"),
            at,
            Fix::ByHand {
                how: format!("restore `{path}`"),
            },
        ),
        Err(e) => Finding::drift(
            subject,
            check,
            e.to_string(),
            at,
            Fix::ByHand {
                how: format!("restore the line of `{path}` the task edits after"),
            },
        ),
    }
}
