//! Carrying out a plan: the only code that writes. Direct commits are compare-and-swap on the
//! branch the plan was computed from; pull requests are idempotent and never overwrite commits the
//! bot did not make; everything written is read back and compared with the plan.

use std::collections::BTreeMap;

use bytes::Bytes;
use valkey_bot_core::github::{CommitId, FileWrite, GitHubError, PullRequestSpec};
use valkey_bot_core::plan::{Delivery, Effect, PlannedCommit, PullRequestDelivery, RepoChange};

use crate::forge::Forge;

/// What delivering one change or effect did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Delivered {
    /// Commits were added to a branch.
    Committed {
        /// Repository.
        repo: String,
        /// Branch.
        branch: String,
        /// The new head.
        commit: CommitId,
        /// How many commits.
        commits: usize,
    },
    /// The change was already there.
    UpToDate {
        /// Repository.
        repo: String,
    },
    /// A pull request carries the change.
    PullRequest {
        /// Repository.
        repo: String,
        /// Its number.
        number: u64,
        /// Its address.
        url: String,
        /// Its head branch.
        branch: String,
        /// The branch it merges into.
        base: String,
        /// Whether it was created, updated or already right.
        state: PullRequestState,
    },
    /// An event was sent.
    Dispatched {
        /// Repository.
        repo: String,
        /// Event type.
        event_type: String,
    },
}

impl Delivered {
    /// Whether this changed anything on GitHub.
    pub fn changed(&self) -> bool {
        match self {
            Self::Committed { .. } | Self::Dispatched { .. } => true,
            Self::UpToDate { .. } => false,
            Self::PullRequest { state, .. } => *state != PullRequestState::Unchanged,
        }
    }
}

/// What happened to a pull request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PullRequestState {
    /// Opened by this run.
    Created,
    /// Its branch, title or body changed.
    Updated,
    /// Already exactly as planned.
    Unchanged,
}

/// Why delivery failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliverError {
    /// The branch moved after the plan was computed: re-plan and try again.
    #[error("{repo}: branch `{branch}` moved while planning; the plan must be recomputed")]
    Moved {
        /// Repository.
        repo: String,
        /// Branch.
        branch: String,
    },
    /// The pull request branch holds commits the bot did not make.
    #[error(
        "{repo}: branch `{branch}` has commits the bot did not make ({commits}); refusing to overwrite them"
    )]
    ForeignCommits {
        /// Repository.
        repo: String,
        /// Branch.
        branch: String,
        /// The commits, `id (author)`.
        commits: String,
    },
    /// What was read back differs from the plan.
    #[error("{repo}: verification failed after writing commit {commit} to `{branch}`: {problem}")]
    Verification {
        /// Repository.
        repo: String,
        /// Branch.
        branch: String,
        /// The commit written.
        commit: CommitId,
        /// What differs.
        problem: String,
    },
    /// The pull request branch holds the change, but its pull request could not be found,
    /// opened or updated.
    #[error(
        "{repo}: branch `{branch}` holds the change (commit {commit}) but its pull request could not be opened or updated: {source}; a rerun opens it (to undo instead, delete the branch)"
    )]
    PullRequestPending {
        /// Repository.
        repo: String,
        /// The pull request branch.
        branch: String,
        /// Its head.
        commit: CommitId,
        /// The error.
        source: GitHubError,
    },
    /// The branch is under a ruleset (or protection) that refuses direct updates: re-planning
    /// cannot help, the repository's settings or the task's delivery must change.
    #[error(
        "{repo}: branch `{branch}` refuses direct commits: {rule} Either add the App to the bypass list of the branch's ruleset (Settings → Rules), or give this task `delivery.pull-request = {{ branch = \"...\", title = \"...\" }}` in tasks.toml"
    )]
    RuleViolation {
        /// Repository.
        repo: String,
        /// Branch.
        branch: String,
        /// GitHub's text for the rule, e.g. `Changes must be made through a pull request.`
        rule: String,
    },
    /// GitHub refused or failed.
    #[error("{repo}: {source}")]
    GitHub {
        /// Repository.
        repo: String,
        /// The error.
        source: GitHubError,
    },
}

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

/// Appends a `Signed-off-by:` trailer to `message` when `signoff` is set.
pub fn with_signoff(message: &str, signoff: Option<&str>) -> String {
    match signoff {
        None => message.to_owned(),
        Some(identity) => format!("{}\n\nSigned-off-by: {identity}", message.trim_end()),
    }
}

/// Who signs off a change's commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signoff<'a> {
    /// `Name <email>` as configured (`[run].signoff`).
    As(&'a str),
    /// The identity GitHub attributes the bot's commits to, so that the trailer names the
    /// commit's author (what a DCO check compares); asked only when a commit is made.
    Author,
}

/// Delivers one repository change.
pub async fn deliver_change(
    change: &RepoChange,
    forge: &Forge,
    signoff: Option<Signoff<'_>>,
) -> Result<Delivered, DeliverError> {
    let repo = change.repo.to_string();
    let github = |source| DeliverError::GitHub {
        repo: repo.clone(),
        source,
    };
    let commits: Vec<&PlannedCommit> = change
        .commits
        .iter()
        .filter(|c| c.edits.iter().any(|e| !e.is_noop()))
        .collect();
    match &change.delivery {
        Delivery::Commit => {
            if commits.is_empty() {
                return Ok(Delivered::UpToDate { repo });
            }
            let head = create_commits(change, &commits, &change.base_commit, forge, signoff)
                .await
                .map_err(github)?;
            match forge
                .write
                .move_branch(&change.repo, &change.base_branch, &head, false)
                .await
            {
                Ok(()) => {}
                Err(GitHubError::Conflict(_)) => {
                    return Err(DeliverError::Moved {
                        repo,
                        branch: change.base_branch.clone(),
                    });
                }
                Err(e) => {
                    return Err(match rule_violation(&e) {
                        Some(rule) => DeliverError::RuleViolation {
                            repo,
                            branch: change.base_branch.clone(),
                            rule,
                        },
                        None => github(e),
                    });
                }
            }
            if let Err(DeliverError::Verification {
                repo,
                branch,
                commit,
                problem,
            }) = verify(change, forge, &change.base_branch, &head).await
            {
                let rollback = roll_back(change, forge, &head).await;
                return Err(DeliverError::Verification {
                    repo,
                    branch,
                    commit,
                    problem: format!("{problem}; {rollback}"),
                });
            }
            Ok(Delivered::Committed {
                repo,
                branch: change.base_branch.clone(),
                commit: head,
                commits: commits.len(),
            })
        }
        Delivery::PullRequest(pr) => {
            if commits.is_empty() {
                return Ok(Delivered::UpToDate { repo });
            }
            deliver_pull_request(change, pr, &commits, forge, signoff).await
        }
    }
}

async fn deliver_pull_request(
    change: &RepoChange,
    pr: &PullRequestDelivery,
    commits: &[&PlannedCommit],
    forge: &Forge,
    signoff: Option<Signoff<'_>>,
) -> Result<Delivered, DeliverError> {
    let repo = change.repo.to_string();
    let github = |source| DeliverError::GitHub {
        repo: repo.clone(),
        source,
    };
    let existing = forge
        .read
        .branch_head(&change.repo, &pr.branch)
        .await
        .map_err(github)?;
    let mut branch_changed = false;
    let head = match existing {
        Some(head) => {
            refuse_foreign_commits(change, pr, &head, forge).await?;
            if holds_final_state(change, forge, &head)
                .await
                .map_err(github)?
            {
                head
            } else {
                let new_head = create_commits(change, commits, &change.base_commit, forge, signoff)
                    .await
                    .map_err(github)?;
                // Safe to force: every commit on the branch is the bot's own (checked just above).
                forge
                    .write
                    .move_branch(&change.repo, &pr.branch, &new_head, true)
                    .await
                    .map_err(github)?;
                branch_changed = true;
                new_head
            }
        }
        None => {
            let new_head = create_commits(change, commits, &change.base_commit, forge, signoff)
                .await
                .map_err(github)?;
            match forge
                .write
                .create_branch(&change.repo, &pr.branch, &new_head)
                .await
            {
                Ok(()) => {}
                Err(GitHubError::Conflict(_)) => {
                    return Err(DeliverError::Moved {
                        repo,
                        branch: pr.branch.clone(),
                    });
                }
                Err(e) => return Err(github(e)),
            }
            branch_changed = true;
            new_head
        }
    };
    verify(change, forge, &pr.branch, &head).await?;
    let pending = |source| DeliverError::PullRequestPending {
        repo: repo.clone(),
        branch: pr.branch.clone(),
        commit: head.clone(),
        source,
    };

    let (pull, state) = match forge
        .pulls
        .find_open(&change.repo, &pr.branch)
        .await
        .map_err(pending)?
    {
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
                .map_err(pending)?;
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
                    return Err(DeliverError::Moved {
                        repo,
                        branch: pr.branch.clone(),
                    });
                }
                other => other.map_err(pending)?,
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
    let repo = change.repo.to_string();
    let github = |source| DeliverError::GitHub {
        repo: repo.clone(),
        source,
    };
    let own = forge.write.own_identity().await.map_err(github)?;
    let foreign: Vec<String> = forge
        .write
        .commits_between(&change.repo, &change.base_branch, head)
        .await
        .map_err(github)?
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
            repo,
            branch: pr.branch.clone(),
            commits: foreign.join(", "),
        })
    }
}

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// The state every planned file must have after all commits: path → bytes (or absence).
fn final_state(change: &RepoChange) -> BTreeMap<&str, Option<&Bytes>> {
    change
        .commits
        .iter()
        .flat_map(|c| &c.edits)
        .map(|e| (e.path.as_str(), e.after.as_ref()))
        .collect()
}

/// The files the change writes whose mode at `commit` is not the planned one (one tree
/// listing). Edits that change no bytes are not written, so their mode is not the plan's to check.
async fn wrong_modes(
    change: &RepoChange,
    forge: &Forge,
    commit: &str,
) -> Result<Vec<String>, GitHubError> {
    let planned: BTreeMap<&str, bool> = change
        .commits
        .iter()
        .flat_map(|c| &c.edits)
        .filter(|e| !e.is_noop())
        .map(|e| (e.path.as_str(), e.executable))
        .collect();
    let actual: BTreeMap<String, bool> = forge
        .read
        .list_files(&change.repo, commit, "")
        .await?
        .unwrap_or_default()
        .into_iter()
        .map(|file| (file.path, file.executable))
        .collect();
    Ok(final_state(change)
        .into_iter()
        .filter(|(path, after)| after.is_some() && planned.contains_key(path))
        .filter(|(path, _)| actual.get(*path) != planned.get(path))
        .map(|(path, _)| path.to_owned())
        .collect())
}

/// Whether `commit`'s whole tree is the plan's: every planned file as planned, bytes and mode,
/// and every other file exactly as on the plan's base commit (same content, same mode, none
/// added or removed). Anything else (a file an older plan wrote, a base that moved on) means the
/// branch is rebuilt from the base.
async fn holds_final_state(
    change: &RepoChange,
    forge: &Forge,
    commit: &str,
) -> Result<bool, GitHubError> {
    let written: BTreeMap<&str, Option<&Bytes>> = change
        .commits
        .iter()
        .flat_map(|c| &c.edits)
        .filter(|e| !e.is_noop())
        .map(|e| (e.path.as_str(), e.after.as_ref()))
        .collect();
    let listing = |at: String| async move {
        forge
            .read
            .list_files(&change.repo, &at, "")
            .await
            .map(|files| {
                files
                    .unwrap_or_default()
                    .into_iter()
                    .map(|f| (f.path, (f.blob, f.executable)))
                    .collect::<BTreeMap<_, _>>()
            })
    };
    let base = listing(change.base_commit.clone()).await?;
    let actual = listing(commit.to_owned()).await?;
    let untouched = |map: &BTreeMap<String, (String, bool)>| -> BTreeMap<String, (String, bool)> {
        map.iter()
            .filter(|(path, _)| !written.contains_key(path.as_str()))
            .map(|(path, file)| (path.clone(), file.clone()))
            .collect()
    };
    if untouched(&base) != untouched(&actual) {
        return Ok(false);
    }
    for (path, expected) in &written {
        if actual.contains_key(*path) != expected.is_some() {
            return Ok(false);
        }
    }
    for (path, expected) in final_state(change) {
        let actual = forge.read.read_file(&change.repo, commit, path).await?;
        if actual.as_ref() != expected {
            return Ok(false);
        }
    }
    Ok(wrong_modes(change, forge, commit).await?.is_empty())
}

async fn create_commits(
    change: &RepoChange,
    commits: &[&PlannedCommit],
    base: &str,
    forge: &Forge,
    signoff: Option<Signoff<'_>>,
) -> Result<CommitId, GitHubError> {
    let trailer = match signoff {
        Some(Signoff::As(identity)) => Some(identity.to_owned()),
        Some(Signoff::Author) if !commits.is_empty() => {
            Some(forge.write.own_identity().await?.signoff())
        }
        Some(Signoff::Author) | None => None,
    };
    let mut parent = base.to_owned();
    for commit in commits {
        let writes: Vec<FileWrite> = commit
            .edits
            .iter()
            .filter(|e| !e.is_noop())
            .map(|e| e.to_write())
            .collect();
        parent = forge
            .write
            .create_commit(
                &change.repo,
                &parent,
                &writes,
                &with_signoff(&commit.message, trailer.as_deref()),
            )
            .await?;
    }
    Ok(parent)
}

/// Reads every planned file back from `commit` and compares it with the plan.
async fn verify(
    change: &RepoChange,
    forge: &Forge,
    branch: &str,
    commit: &str,
) -> Result<(), DeliverError> {
    let failure = |problem: String| DeliverError::Verification {
        repo: change.repo.to_string(),
        branch: branch.to_owned(),
        commit: commit.to_owned(),
        problem,
    };
    for (path, expected) in final_state(change) {
        match forge.read.read_file(&change.repo, commit, path).await {
            Ok(actual) if actual.as_ref() == expected => {}
            Ok(_) => {
                return Err(failure(format!(
                    "`{path}` does not have the planned content"
                )));
            }
            Err(e) => return Err(failure(format!("`{path}` could not be read back: {e}"))),
        }
    }
    match wrong_modes(change, forge, commit).await {
        Ok(paths) if paths.is_empty() => Ok(()),
        Ok(paths) => Err(failure(format!(
            "`{}` does not have the planned mode",
            paths.join("`, `")
        ))),
        Err(e) => Err(failure(format!(
            "the file modes could not be read back: {e}"
        ))),
    }
}

/// Undoes a direct commit whose verification failed, and says what it did.
///
/// If the branch still points at `head`, it is moved back to the plan's base commit. If someone
/// moved it since, a pull request reverting the bot's files is opened instead, for the files that
/// still hold exactly what the bot wrote (the others are left alone and named).
async fn roll_back(change: &RepoChange, forge: &Forge, head: &str) -> String {
    let by_hand = format!(
        "undo it by hand with `git revert {head}` on `{}`",
        change.base_branch
    );
    match forge
        .read
        .branch_head(&change.repo, &change.base_branch)
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
        Ok(Some(current)) => match open_revert(change, forge, head, &current).await {
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
    change: &RepoChange,
    forge: &Forge,
    head: &str,
    current: &str,
) -> Result<String, GitHubError> {
    let mut writes = Vec::new();
    let mut left = Vec::new();
    let before: BTreeMap<&str, Option<&Bytes>> = change
        .commits
        .iter()
        .flat_map(|c| &c.edits)
        .rev()
        .map(|e| (e.path.as_str(), e.before.as_ref()))
        .collect();
    for (path, written) in final_state(change) {
        let now = forge.read.read_file(&change.repo, current, path).await?;
        if now.as_ref() == written {
            writes.push(FileWrite {
                path: path.to_owned(),
                content: before.get(path).copied().flatten().cloned(),
                executable: false,
            });
        } else {
            left.push(path);
        }
    }
    if writes.is_empty() {
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
        .create_commit(&change.repo, current, &writes, &message)
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

/// Carries out one non-file effect.
pub async fn deliver_effect(effect: &Effect, forge: &Forge) -> Result<Delivered, DeliverError> {
    match effect {
        Effect::Dispatch {
            repo,
            event_type,
            payload,
        } => {
            forge
                .dispatches
                .dispatch(repo, event_type, payload)
                .await
                .map_err(|source| DeliverError::GitHub {
                    repo: repo.to_string(),
                    source,
                })?;
            Ok(Delivered::Dispatched {
                repo: repo.to_string(),
                event_type: event_type.clone(),
            })
        }
    }
}
