//! Undoing a direct commit that failed verification.

use valkey_bot_core::github::{FileWrite, GitHubError, PullRequestSpec};

use super::{Writes, short};
use crate::forge::Forge;

/// Undoes a direct commit whose verification failed, and says what it did.
///
/// If the branch still points at `head`, it is moved back to the plan's base commit. If someone
/// moved it since, a pull request reverting the bot's files is opened instead, for the files that
/// still hold exactly what the bot wrote (the others are left alone and named).
pub(super) async fn roll_back(writes: &Writes<'_>, forge: &Forge, head: &str) -> String {
    let change = writes.change;
    let by_hand = format!(
        "undo it by hand with `git revert {head}` on `{}`",
        change.base_branch
    );
    match (forge.settle)
        .branch_after_write(forge, &change.repo, &change.base_branch, head)
        .await
    {
        Ok(Some(current)) if current == head => {
            match forge
                .write
                .move_branch(&change.repo, &change.base_branch, &change.base_commit, true)
                .await
            {
                Ok(()) => format!(
                    "rolled back: `{}` was moved back to {}",
                    change.base_branch, change.base_commit
                ),
                Err(e) => format!("the rollback failed ({e}); {by_hand}"),
            }
        }
        Ok(Some(current)) => match open_revert(writes, forge, head, &current).await {
            Ok(message) => message,
            Err(e) => format!(
                "`{}` moved since, and a revert pull request could not be opened ({e}); {by_hand}",
                change.base_branch
            ),
        },
        Ok(None) => format!(
            "`{}` no longer exists; nothing was rolled back",
            change.base_branch
        ),
        Err(e) => format!("the branch could not be read for the rollback ({e}); {by_hand}"),
    }
}

/// Opens a pull request that restores, on top of `current`, every file that still holds exactly
/// what the bot wrote in `head`.
async fn open_revert(
    writes: &Writes<'_>,
    forge: &Forge,
    head: &str,
    current: &str,
) -> Result<String, GitHubError> {
    let change = writes.change;
    let mut restore = Vec::new();
    let mut left = Vec::new();
    for (path, file) in &writes.final_state {
        let now = forge.read.read_file(&change.repo, current, path).await?;
        if now.as_ref() == file.bytes {
            restore.push(FileWrite {
                path: (*path).to_owned(),
                content: file.before.cloned(),
                executable: false,
            });
        } else {
            left.push(*path);
        }
    }
    if restore.is_empty() {
        return Ok(format!(
            "`{}` moved since and every file the bot wrote changed again ({}); nothing was reverted: check them by hand",
            change.base_branch,
            left.join(", ")
        ));
    }
    let subject = change.commits.first().map_or("the bot's commit", |c| {
        c.message.lines().next().unwrap_or_default()
    });
    let message = format!(
        "Revert \"{subject}\"\n\nThis reverts commit {head}: it failed verification after it was written."
    );
    let revert = forge
        .write
        .create_commit(&change.repo, current, &restore, &message)
        .await?;
    let branch = format!("revert-{}", short(head));
    forge
        .write
        .create_branch(&change.repo, &branch, &revert)
        .await?;
    let spec = PullRequestSpec {
        head_branch: branch,
        base_branch: change.base_branch.clone(),
        title: format!("Revert \"{subject}\""),
        body: format!(
            "valkey-bot wrote {head} to `{}`, then read it back and found it different from its plan. \
             The branch had moved since, so it could not simply be reset: merging this pull request reverts the bot's change.{}",
            change.base_branch,
            if left.is_empty() {
                String::new()
            } else {
                format!("\n\nChanged again since, left alone: {}", left.join(", "))
            }
        ),
    };
    let pull = forge.pulls.open(&change.repo, &spec).await?;
    Ok(format!(
        "`{}` moved since; revert pull request opened: {}",
        change.base_branch, pull.url
    ))
}
