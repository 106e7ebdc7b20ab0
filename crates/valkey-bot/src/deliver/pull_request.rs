//! Pull requests: one branch per change, rewritten only while every commit on it is the bot's,
//! and its pull request found, opened or edited to match the plan.

use valkey_bot_core::github::{GitHubError, PullRequestSpec};
use valkey_bot_core::plan::{PullRequestDelivery, RepoChange};

use super::{DeliverError, Delivered, PullRequestState, Signoff, Writes, short};
use crate::forge::Forge;

/// Puts the change on the pull request's branch (unless it already holds it), verifies it, and
/// finds, opens or edits the pull request.
pub(super) async fn deliver(
    writes: &Writes<'_>,
    pr: &PullRequestDelivery,
    forge: &Forge,
    signoff: Option<Signoff<'_>>,
) -> Result<Delivered, DeliverError> {
    let change = writes.change;
    let repo = change.repo.to_string();
    let github = DeliverError::github(&change.repo);
    // The sign-off's identity does not depend on the branch: asked at the same time.
    let (existing, trailer) = futures::try_join!(
        forge.read.branch_head(&change.repo, &pr.branch),
        writes.trailer(forge, signoff),
    )
    .map_err(&github)?;
    // An existing branch holds the change already if every planned file is right and nothing
    // else differs from the base; it may be rewritten only if every commit on it is the bot's.
    let holds_change = match &existing {
        Some(head) => {
            let (_, differences) =
                futures::try_join!(refuse_foreign_commits(change, pr, head, forge), async {
                    writes
                        .differences(forge, head, Some(&change.base_commit))
                        .await
                        .map_err(&github)
                },)?;
            differences.is_empty()
        }
        None => false,
    };
    let (head, branch_changed) = match existing {
        Some(head) if holds_change => (head, false),
        existing => {
            let new_head = writes
                .create_commits(&change.base_commit, forge, trailer.as_deref())
                .await
                .map_err(&github)?;
            match existing {
                // Safe to force: every commit on the branch is the bot's own (checked above).
                Some(_) => forge
                    .write
                    .move_branch(&change.repo, &pr.branch, &new_head, true)
                    .await
                    .map_err(&github)?,
                None => forge
                    .write
                    .create_branch(&change.repo, &pr.branch, &new_head)
                    .await
                    .map_err(|e| DeliverError::moved_on_conflict(&change.repo, &pr.branch, e))?,
            }
            (new_head, true)
        }
    };
    let pending = |source| DeliverError::PullRequestPending {
        repo: repo.clone(),
        branch: pr.branch.clone(),
        commit: head.clone(),
        source,
    };
    // Independent reads: the branch's content, and its open pull request.
    let ((), open) = futures::try_join!(writes.verify(forge, &pr.branch, &head), async {
        forge
            .pulls
            .find_open(&change.repo, &pr.branch)
            .await
            .map_err(&pending)
    })?;

    let (pull, state) = match open {
        Some(open) if open.title == pr.title && open.body == pr.body => {
            let state = if branch_changed {
                PullRequestState::Updated
            } else {
                PullRequestState::Unchanged
            };
            (open, state)
        }
        Some(open) => {
            let edited = forge
                .pulls
                .edit(&change.repo, open.number, &pr.title, &pr.body)
                .await
                .map_err(&pending)?;
            (edited, PullRequestState::Updated)
        }
        None => {
            let spec = PullRequestSpec {
                head_branch: pr.branch.clone(),
                base_branch: change.base_branch.clone(),
                title: pr.title.clone(),
                body: pr.body.clone(),
            };
            // Another run for the same release may have opened it in the meantime: plan again,
            // and the next attempt finds it.
            let opened = match forge.pulls.open(&change.repo, &spec).await {
                Err(GitHubError::Conflict(_)) => {
                    (forge.settle)
                        .pull_request_listed(forge, &change.repo, &pr.branch)
                        .await;
                    return Err(DeliverError::Moved {
                        repo,
                        branch: pr.branch.clone(),
                    });
                }
                other => other.map_err(&pending)?,
            };
            (opened, PullRequestState::Created)
        }
    };
    Ok(Delivered::PullRequest {
        repo,
        number: pull.number,
        url: pull.url,
        branch: pr.branch.clone(),
        base: change.base_branch.clone(),
        state,
    })
}

/// Refuses a pull request branch that holds a commit the bot cannot prove it made: only a
/// commit GitHub signed and committed itself, authored by the bot's own identity, is the bot's
/// ([`CommitSummary::is_made_by`]); an author e-mail (and `author.login`, derived from it) can be
/// forged by anyone who can push.
///
/// [`CommitSummary::is_made_by`]: valkey_bot_core::github::CommitSummary::is_made_by
async fn refuse_foreign_commits(
    change: &RepoChange,
    pr: &PullRequestDelivery,
    head: &str,
    forge: &Forge,
) -> Result<(), DeliverError> {
    let github = DeliverError::github(&change.repo);
    let (own, commits) = futures::try_join!(
        forge.write.own_identity(),
        forge
            .write
            .commits_between(&change.repo, &change.base_branch, head),
    )
    .map_err(&github)?;
    let foreign: Vec<String> = commits
        .into_iter()
        .filter_map(|c| {
            let why = c.distrust(&own)?;
            let author = c.author_login.as_deref().unwrap_or("an unknown author");
            Some(format!("{} by {author}: {why}", short(&c.id)))
        })
        .collect();
    if foreign.is_empty() {
        Ok(())
    } else {
        Err(DeliverError::ForeignCommits {
            repo: change.repo.to_string(),
            branch: pr.branch.clone(),
            commits: foreign.join(", "),
        })
    }
}
