//! Carrying out a plan: the only code that writes. Direct commits are compare-and-swap on the
//! branch the plan was computed from; pull requests are idempotent and never overwrite commits the
//! bot did not make; everything written is read back and compared with the plan.

use std::collections::BTreeMap;

use bytes::Bytes;
use valkey_bot_core::RepoId;
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

/// What a change writes, decided once: the commits that change something with their writes,
/// and the state every planned file must have after them. Delivery, verification, the "pull
/// request branch is already right" check and the rollback all read it from here.
pub(crate) struct Writes<'a> {
    /// The change.
    pub change: &'a RepoChange,
    /// The commits that change at least one file, each with the writes that carry it out (edits
    /// that change nothing are dropped).
    pub commits: Vec<(&'a PlannedCommit, Vec<FileWrite>)>,
    /// Every planned path after all commits: its bytes (`None`: absent) and, for a path a commit
    /// writes, its mode (`Some(executable)`).
    pub final_state: BTreeMap<&'a str, FinalFile<'a>>,
}

/// One planned path's state after all commits.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FinalFile<'a> {
    /// Its bytes, `None` if it must not exist.
    pub bytes: Option<&'a Bytes>,
    /// Its mode (`true`: executable) if a commit writes it; an edit that changes no bytes is not
    /// written, so its mode is not the plan's to check.
    pub executable: Option<bool>,
    /// Its bytes before the change's first edit of it (what a revert restores).
    pub before: Option<&'a Bytes>,
}

impl<'a> Writes<'a> {
    /// Decides what `change` writes.
    pub fn of(change: &'a RepoChange) -> Self {
        let mut final_state: BTreeMap<&str, FinalFile<'_>> = BTreeMap::new();
        for edit in change.commits.iter().flat_map(|c| &c.edits) {
            let file = final_state.entry(edit.path.as_str()).or_insert(FinalFile {
                bytes: None,
                executable: None,
                before: edit.before.as_ref(),
            });
            file.bytes = edit.after.as_ref();
            if !edit.is_noop() {
                file.executable = Some(edit.executable);
            }
        }
        let commits = change
            .commits
            .iter()
            .filter_map(|commit| {
                let writes: Vec<FileWrite> = commit
                    .edits
                    .iter()
                    .filter(|e| !e.is_noop())
                    .map(|e| e.to_write())
                    .collect();
                (!writes.is_empty()).then_some((commit, writes))
            })
            .collect();
        Self {
            change,
            commits,
            final_state,
        }
    }

    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.commits.is_empty()
    }

    /// How `commit`'s tree differs from the final state, in words (empty: it holds it): every
    /// planned file's bytes, and the mode of every file a commit writes (one tree listing, the
    /// files read at the same time). With `base`, also every other file must be exactly as at
    /// `base` (same content, same mode, none added or removed): what a pull request branch must
    /// hold to count as up to date.
    pub async fn differences(
        &self,
        forge: &Forge,
        commit: &str,
        base: Option<&str>,
    ) -> Result<Vec<String>, GitHubError> {
        let repo = &self.change.repo;
        let listing = |at: &str| {
            let at = at.to_owned();
            async move {
                let files = forge.read.list_files(repo, &at, "").await?;
                Ok::<_, GitHubError>(
                    files
                        .unwrap_or_default()
                        .into_iter()
                        .map(|f| (f.path, (f.blob, f.executable)))
                        .collect::<BTreeMap<_, _>>(),
                )
            }
        };
        let reads =
            futures::future::try_join_all(self.final_state.iter().map(|(path, file)| async move {
                let actual = forge.read.read_file(repo, commit, path).await?;
                Ok::<_, GitHubError>((actual.as_ref() != file.bytes).then_some(*path))
            }));
        let base_listing = async {
            match base {
                Some(base) => listing(base).await.map(Some),
                None => Ok(None),
            }
        };
        let (actual, wrong_bytes, base) = futures::try_join!(listing(commit), reads, base_listing)?;
        let mut problems: Vec<String> = wrong_bytes
            .into_iter()
            .flatten()
            .map(|path| format!("`{path}` does not have the planned content"))
            .collect();
        let wrong_modes: Vec<&str> = self
            .final_state
            .iter()
            .filter(|(_, file)| file.bytes.is_some())
            .filter_map(|(path, file)| {
                let executable = file.executable?;
                (actual.get(*path).map(|(_, x)| *x) != Some(executable)).then_some(*path)
            })
            .collect();
        if !wrong_modes.is_empty() {
            problems.push(format!(
                "`{}` does not have the planned mode",
                wrong_modes.join("`, `")
            ));
        }
        if let Some(base) = base {
            let untouched =
                |files: &BTreeMap<String, (String, bool)>| -> Vec<(String, (String, bool))> {
                    files
                        .iter()
                        .filter(|(path, _)| {
                            self.final_state
                                .get(path.as_str())
                                .is_none_or(|f| f.executable.is_none())
                        })
                        .map(|(path, file)| (path.clone(), file.clone()))
                        .collect()
                };
            if untouched(&base) != untouched(&actual) {
                problems.push("files the change does not write differ from its base".to_owned());
            }
        }
        Ok(problems)
    }

    /// Creates the commits on top of `base`, each with its message (and the sign-off), and
    /// returns the last one.
    pub async fn create_commits(
        &self,
        base: &str,
        forge: &Forge,
        signoff: Option<Signoff<'_>>,
    ) -> Result<CommitId, GitHubError> {
        let trailer = match signoff {
            Some(Signoff::As(identity)) => Some(identity.to_owned()),
            Some(Signoff::Author) if !self.commits.is_empty() => {
                Some(forge.write.own_identity().await?.signoff())
            }
            Some(Signoff::Author) | None => None,
        };
        let mut parent = base.to_owned();
        for (commit, writes) in &self.commits {
            parent = forge
                .write
                .create_commit(
                    &self.change.repo,
                    &parent,
                    writes,
                    &with_signoff(&commit.message, trailer.as_deref()),
                )
                .await?;
        }
        Ok(parent)
    }

    /// Reads everything planned back from `commit` on `branch` and compares it with the plan.
    pub async fn verify(
        &self,
        forge: &Forge,
        branch: &str,
        commit: &str,
    ) -> Result<(), DeliverError> {
        let problem = match (forge.settle)
            .read_until(
                || self.differences(forge, commit, None),
                |read| matches!(read, Ok(problems) if problems.is_empty()),
            )
            .await
        {
            Ok(problems) if problems.is_empty() => return Ok(()),
            Ok(problems) => problems.join("; "),
            Err(e) => format!("the written files could not be read back: {e}"),
        };
        Err(DeliverError::Verification {
            repo: self.change.repo.to_string(),
            branch: branch.to_owned(),
            commit: commit.to_owned(),
            problem,
        })
    }
}

impl DeliverError {
    /// A GitHub error of `repo`.
    fn github(repo: &RepoId) -> impl Fn(GitHubError) -> Self + '_ {
        move |source| Self::GitHub {
            repo: repo.to_string(),
            source,
        }
    }

    /// A branch write's error: a conflict means `branch` moved (plan again), anything else is
    /// GitHub's.
    fn moved_on_conflict(repo: &RepoId, branch: &str, error: GitHubError) -> Self {
        match error {
            GitHubError::Conflict(_) => Self::Moved {
                repo: repo.to_string(),
                branch: branch.to_owned(),
            },
            source => Self::github(repo)(source),
        }
    }
}

/// Delivers one repository change.
pub async fn deliver_change(
    change: &RepoChange,
    forge: &Forge,
    signoff: Option<Signoff<'_>>,
) -> Result<Delivered, DeliverError> {
    let writes = Writes::of(change);
    if writes.is_empty() {
        return Ok(Delivered::UpToDate {
            repo: change.repo.to_string(),
        });
    }
    match &change.delivery {
        Delivery::Commit => deliver_commit(&writes, forge, signoff).await,
        Delivery::PullRequest(pr) => deliver_pull_request(&writes, pr, forge, signoff).await,
    }
}

async fn deliver_commit(
    writes: &Writes<'_>,
    forge: &Forge,
    signoff: Option<Signoff<'_>>,
) -> Result<Delivered, DeliverError> {
    let change = writes.change;
    let github = DeliverError::github(&change.repo);
    let head = writes
        .create_commits(&change.base_commit, forge, signoff)
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

async fn deliver_pull_request(
    writes: &Writes<'_>,
    pr: &PullRequestDelivery,
    forge: &Forge,
    signoff: Option<Signoff<'_>>,
) -> Result<Delivered, DeliverError> {
    let change = writes.change;
    let repo = change.repo.to_string();
    let github = DeliverError::github(&change.repo);
    let existing = forge
        .read
        .branch_head(&change.repo, &pr.branch)
        .await
        .map_err(&github)?;
    let mut branch_changed = false;
    let head = match existing {
        Some(head) => {
            let (_, differences) =
                futures::try_join!(refuse_foreign_commits(change, pr, &head, forge), async {
                    writes
                        .differences(forge, &head, Some(&change.base_commit))
                        .await
                        .map_err(&github)
                },)?;
            if differences.is_empty() {
                head
            } else {
                let new_head = writes
                    .create_commits(&change.base_commit, forge, signoff)
                    .await
                    .map_err(&github)?;
                // Safe to force: every commit on the branch is the bot's own (checked just above).
                forge
                    .write
                    .move_branch(&change.repo, &pr.branch, &new_head, true)
                    .await
                    .map_err(&github)?;
                branch_changed = true;
                new_head
            }
        }
        None => {
            let new_head = writes
                .create_commits(&change.base_commit, forge, signoff)
                .await
                .map_err(&github)?;
            forge
                .write
                .create_branch(&change.repo, &pr.branch, &new_head)
                .await
                .map_err(|e| DeliverError::moved_on_conflict(&change.repo, &pr.branch, e))?;
            branch_changed = true;
            new_head
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

fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// Undoes a direct commit whose verification failed, and says what it did.
///
/// If the branch still points at `head`, it is moved back to the plan's base commit. If someone
/// moved it since, a pull request reverting the bot's files is opened instead, for the files that
/// still hold exactly what the bot wrote (the others are left alone and named).
async fn roll_back(writes: &Writes<'_>, forge: &Forge, head: &str) -> String {
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
