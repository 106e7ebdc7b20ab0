//! Direct commits: compare-and-swap on the branch the plan was computed from.

use valkey_bot_core::github::GitHubError;

use super::rollback::roll_back;
use super::{DeliverError, Delivered, Signoff, Writes};
use crate::forge::Forge;

/// GitHub's text for the rule that refused a branch update ("Repository rule violations found"
/// followed by one line per rule), or `None` for any other error.
fn rule_violation(error: &GitHubError) -> Option<String> {
    const MARK: &str = "Repository rule violations found";
    let GitHubError::Rejected(text) = error else {
        return None;
    };
    let after = &text[text.find(MARK)? + MARK.len()..];
    let rules: Vec<&str> = after
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect();
    Some(if rules.is_empty() {
        format!("{MARK}.")
    } else {
        rules.join(" ")
    })
}

/// Commits the change on its base branch (if it has not moved), verifies it, and rolls it back
/// if what was read back differs from the plan.
pub(super) async fn deliver(
    writes: &Writes<'_>,
    forge: &Forge,
    signoff: Option<Signoff<'_>>,
) -> Result<Delivered, DeliverError> {
    let change = writes.change;
    let github = DeliverError::github(&change.repo);
    let trailer = writes.trailer(forge, signoff).await.map_err(&github)?;
    let head = writes
        .create_commits(&change.base_commit, forge, trailer.as_deref())
        .await
        .map_err(&github)?;
    if let Err(e) = forge
        .write
        .move_branch(&change.repo, &change.base_branch, &head, false)
        .await
    {
        return Err(match rule_violation(&e) {
            Some(rule) => DeliverError::RuleViolation {
                repo: change.repo.to_string(),
                branch: change.base_branch.clone(),
                rule,
            },
            None => DeliverError::moved_on_conflict(&change.repo, &change.base_branch, e),
        });
    }
    if let Err(DeliverError::Verification {
        repo,
        branch,
        commit,
        problem,
    }) = writes.verify(forge, &change.base_branch, &head).await
    {
        let rollback = roll_back(writes, forge, &head).await;
        return Err(DeliverError::Verification {
            repo,
            branch,
            commit,
            problem: format!("{problem}; {rollback}"),
        });
    }
    Ok(Delivered::Committed {
        repo: change.repo.to_string(),
        branch: change.base_branch.clone(),
        commit: head,
        commits: writes.commits.len(),
    })
}
