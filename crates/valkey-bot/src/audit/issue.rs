//! `--issue`: one "Release consistency" issue in the automation repository, opened when an audit
//! finds drift (or cannot check something), its body replaced by every later audit, and closed
//! (with a last body saying so) when everything is consistent again. Found as the release
//! tracking issue is: by title and label, among the issues the bot's own account opened.

use std::fmt;

use valkey_bot_core::RepoId;
use valkey_bot_core::github::{GitHubError, Issues};

use super::{AuditReport, markdown};

/// The issue's title.
pub const ISSUE_TITLE: &str = "Release consistency";
/// Its label.
pub const ISSUE_LABEL: &str = "release-consistency";

/// What [`keep_issue`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueAction {
    /// Opened issue `number`.
    Opened(u64),
    /// Replaced the body of issue `number`.
    Updated(u64),
    /// Closed issue `number`: everything is consistent again.
    Closed(u64),
    /// Consistent, and no issue is open: nothing to do.
    Nothing,
}

impl fmt::Display for IssueAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Opened(n) => write!(f, "opened the \"{ISSUE_TITLE}\" issue #{n}"),
            Self::Updated(n) => write!(f, "updated the \"{ISSUE_TITLE}\" issue #{n}"),
            Self::Closed(n) => write!(
                f,
                "closed the \"{ISSUE_TITLE}\" issue #{n}: everything is consistent"
            ),
            Self::Nothing => write!(f, "no \"{ISSUE_TITLE}\" issue is needed"),
        }
    }
}

/// Opens, updates or closes the issue in `repo` for `report`.
pub async fn keep_issue(
    issues: &dyn Issues,
    repo: &RepoId,
    report: &AuditReport,
) -> Result<IssueAction, GitHubError> {
    let open = issues.find_issue(repo, ISSUE_TITLE, ISSUE_LABEL).await?;
    match (open, report.consistent) {
        (None, true) => Ok(IssueAction::Nothing),
        (Some(issue), true) => {
            issues
                .edit_issue(
                    repo,
                    issue.number,
                    &format!(
                        "The last `valkey-bot audit` found every release consistent ({} release(s) checked), so this issue is closed.\n",
                        report.releases.len()
                    ),
                )
                .await?;
            issues.close_issue(repo, issue.number).await?;
            Ok(IssueAction::Closed(issue.number))
        }
        (None, false) => {
            let issue = issues
                .create_issue(repo, ISSUE_TITLE, &markdown(report), ISSUE_LABEL)
                .await?;
            Ok(IssueAction::Opened(issue.number))
        }
        (Some(issue), false) => {
            issues
                .edit_issue(repo, issue.number, &markdown(report))
                .await?;
            Ok(IssueAction::Updated(issue.number))
        }
    }
}
