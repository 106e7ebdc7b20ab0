//! Shadow mode (`mode = "shadow"` in tasks.toml): a task plans as usual, writes nothing, and its
//! plan is compared with the change that is already there, made by the old automation. One
//! comparison per planned change, by its delivery:
//!
//! - a direct commit: the final state of every planned file against the target branch at the
//!   commit the plan read (the old automation commits to the same branch);
//! - a pull request: the old automation's pull request from `shadow.branch` (default: the task's
//!   own branch), open or merged, opened by `shadow.author` with every commit of an open one by
//!   the same account; the planned files against its head (open) or its merge commit (merged).
//!
//! The runner decides that a task shadows ([`crate::runner::Order`]) and hands it read-only access;
//! this module only reads.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use bytes::Bytes;
use valkey_bot_core::config::TaskConfig;
use valkey_bot_core::github::{GitHubError, PullRequestRecord, PullRequestStatus};
use valkey_bot_core::plan::{Delivery, Effect, FileEdit, PullRequestDelivery, RepoChange};
use valkey_bot_core::task::Target;
use valkey_bot_core::{Plan, Version};

use crate::deliver::Writes;
use crate::dry_run;
use crate::forge::Forge;

/// How a shadow task's plan compares with the existing change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// The existing change is exactly what the task would write (or neither writes anything).
    Same,
    /// The existing change differs from the plan (the difference is the task's diff).
    Differs,
    /// The plan writes something, and no existing change was found.
    NoExistingChange,
    /// What is there is not the old automation's: not compared.
    NotOldAutomation,
}

impl Verdict {
    /// Whether the bot agrees with what is there: only [`Verdict::Same`] does. Anything else
    /// fails the run (exit code 1), so a maintainer's workflow notices.
    pub fn agrees(self) -> bool {
        self == Self::Same
    }

    /// The words shown in tables.
    pub fn label(self) -> &'static str {
        match self {
            Self::Same => "shadow: same",
            Self::Differs => "shadow: differs",
            Self::NoExistingChange => "shadow: none found",
            Self::NotOldAutomation => "shadow: not comparable",
        }
    }
}

/// The result of comparing a whole plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// The least agreeing verdict of its changes.
    pub verdict: Verdict,
    /// What was compared with what, in words (one sentence per change).
    pub detail: String,
    /// Every difference as a unified diff, existing (`a/`) against planned (`b/`).
    pub diff: String,
}

/// One planned change's comparison.
struct Compared {
    verdict: Verdict,
    detail: String,
    diff: String,
}

impl Compared {
    fn message(verdict: Verdict, detail: String) -> Self {
        Self {
            verdict,
            detail,
            diff: String::new(),
        }
    }
}

/// Compares `plan` (made by `task` for `version`, writing to `target`) with what is on GitHub,
/// through `forge` (read-only).
pub async fn compare(
    plan: &Plan,
    task: &TaskConfig,
    target: Option<&Target>,
    version: &Version,
    forge: Option<&Forge>,
) -> Result<Comparison, GitHubError> {
    let mut compared = Vec::new();
    for change in plan.changes.iter() {
        let Some(forge) = forge else {
            compared.push(Compared::message(
                Verdict::NotOldAutomation,
                format!(
                    "the plan writes to {}, but the task has no `repository` to compare with",
                    change.repo
                ),
            ));
            continue;
        };
        compared.push(match &change.delivery {
            Delivery::Commit => compare_commit(change, forge).await?,
            Delivery::PullRequest(pr) => compare_pull(change, pr, task, version, forge).await?,
        });
    }
    for effect in &plan.effects {
        match effect {
            Effect::Dispatch {
                repo, event_type, ..
            } => compared.push(Compared::message(
                Verdict::Same,
                format!(
                    "would send `{event_type}` to {repo} (not compared: an event leaves nothing to compare with)"
                ),
            )),
            Effect::RunWorkflow(dispatch) => compared.push(Compared::message(
                Verdict::Same,
                format!(
                    "would run workflow `{}` in {} (not compared: the old automation's runs carry no marker to find them by)",
                    dispatch.workflow, dispatch.repo
                ),
            )),
        }
    }
    if compared.is_empty() {
        compared.push(nothing_planned(target, forge).await?);
    }
    Ok(Comparison {
        verdict: compared
            .iter()
            .map(|c| c.verdict)
            .max()
            .unwrap_or(Verdict::Same),
        detail: compared
            .iter()
            .map(|c| c.detail.as_str())
            .collect::<Vec<_>>()
            .join("; "),
        diff: compared.iter().map(|c| c.diff.as_str()).collect(),
    })
}

/// A plan without changes: the target branch already holds what the task would write (the old
/// automation's change, once made), or the task writes no file.
async fn nothing_planned(
    target: Option<&Target>,
    forge: Option<&Forge>,
) -> Result<Compared, GitHubError> {
    let (Some(target), Some(commits), Some(forge)) =
        (target, target.and_then(|t| t.commits.as_ref()), forge)
    else {
        return Ok(Compared::message(
            Verdict::Same,
            "nothing to change, nothing to compare".to_owned(),
        ));
    };
    let head = forge
        .read
        .branch_head(&target.repo, &commits.branch)
        .await?;
    Ok(Compared::message(
        Verdict::Same,
        format!(
            "same as the existing change: {}@{}{} already holds everything the task would write",
            target.repo,
            commits.branch,
            head.map(|h| format!(" (commit {})", short(&h)))
                .unwrap_or_default()
        ),
    ))
}

/// A direct commit: the target branch, at the commit the plan read, against the final state.
async fn compare_commit(change: &RepoChange, forge: &Forge) -> Result<Compared, GitHubError> {
    let at = &change.base_commit;
    let diff = differences(change, forge, at).await?;
    let place = format!(
        "{}@{} (commit {})",
        change.repo,
        change.base_branch,
        short(at)
    );
    Ok(if diff.is_empty() {
        Compared::message(
            Verdict::Same,
            format!("same as the existing change on {place}"),
        )
    } else {
        Compared {
            verdict: Verdict::Differs,
            detail: format!("differs from {place}: see the diff"),
            diff: heading(change, at, &diff),
        }
    })
}

/// A pull request: the old automation's, open or merged, on the branch its convention names.
async fn compare_pull(
    change: &RepoChange,
    pr: &PullRequestDelivery,
    task: &TaskConfig,
    version: &Version,
    forge: &Forge,
) -> Result<Compared, GitHubError> {
    let repo = &change.repo;
    let author = task.shadow.author.as_str();
    let branch = task
        .shadow
        .branch
        .as_ref()
        .map_or_else(|| pr.branch.clone(), |b| b.render(version));
    let found = forge.pulls.find_latest(repo, &branch).await?;
    let record = found.filter(|r| r.status != PullRequestStatus::Closed);
    let Some(record) = record else {
        return without_pull(change, forge, &branch, author).await;
    };
    let PullRequestRecord {
        pull,
        author: opened_by,
        base_branch,
        status,
    } = &record;
    let what = format!("pull request #{} from `{branch}` in {repo}", pull.number);
    if opened_by != author {
        return Ok(Compared::message(
            Verdict::NotOldAutomation,
            format!(
                "{what} was opened by `{opened_by}`, not by the old automation (`{author}`): not compared; \
                 set `shadow.author` (or `shadow.branch`) in tasks.toml if the old automation is another account"
            ),
        ));
    }
    let (at, state) = match status {
        PullRequestStatus::Merged(commit) => {
            (commit.clone(), format!("merged as {}", short(commit)))
        }
        PullRequestStatus::Open | PullRequestStatus::Closed => {
            let strangers =
                strangers(forge, change, base_branch, &pull.head_commit, author).await?;
            if !strangers.is_empty() {
                return Ok(Compared::message(
                    Verdict::NotOldAutomation,
                    format!(
                        "{what} has commits not by the old automation (`{author}`): {}; not compared",
                        strangers.join(", ")
                    ),
                ));
            }
            (
                pull.head_commit.clone(),
                format!("open, head {}", short(&pull.head_commit)),
            )
        }
    };
    let diff = differences(change, forge, &at).await?;
    let place = format!("{what} ({state}): {}", pull.url);
    Ok(if diff.is_empty() {
        Compared::message(
            Verdict::Same,
            format!("same as the existing change, {place}"),
        )
    } else {
        Compared {
            verdict: Verdict::Differs,
            detail: format!("differs from the existing change, {place}: see the diff"),
            diff: heading(change, &at, &diff),
        }
    })
}

/// No open or merged pull request from `branch`: the branch alone is not the old automation's
/// change, and no branch means there is none.
async fn without_pull(
    change: &RepoChange,
    forge: &Forge,
    branch: &str,
    author: &str,
) -> Result<Compared, GitHubError> {
    let repo = &change.repo;
    if let Some(head) = forge.read.branch_head(repo, branch).await? {
        let strangers = strangers(forge, change, &change.base_branch, &head, author).await?;
        let why = if strangers.is_empty() {
            "no open or merged pull request was opened from it".to_owned()
        } else {
            format!(
                "its commits are not by the old automation (`{author}`): {}",
                strangers.join(", ")
            )
        };
        return Ok(Compared::message(
            Verdict::NotOldAutomation,
            format!(
                "branch `{branch}` exists in {repo} but is not the old automation's change ({why}): not compared; \
                 check `shadow.branch` and `shadow.author` in tasks.toml"
            ),
        ));
    }
    if Writes::of(change).is_empty() {
        return Ok(Compared::message(
            Verdict::Same,
            format!("nothing to change in {repo}, and no pull request from `{branch}`"),
        ));
    }
    let diff = differences(change, forge, &change.base_commit).await?;
    Ok(Compared {
        verdict: Verdict::NoExistingChange,
        detail: format!(
            "no existing change found: no open or merged pull request from `{branch}` in {repo} \
             (rerun once the old automation has run); the diff is the plan"
        ),
        diff: heading(change, &change.base_commit, &diff),
    })
}

/// The commits on `head` but not on `base` that `author` did not make, as `id (login)`.
async fn strangers(
    forge: &Forge,
    change: &RepoChange,
    base: &str,
    head: &str,
    author: &str,
) -> Result<Vec<String>, GitHubError> {
    let base = if base.is_empty() {
        change.base_branch.as_str()
    } else {
        base
    };
    Ok(forge
        .write
        .commits_between(&change.repo, base, head)
        .await?
        .into_iter()
        .filter(|c| c.author_login.as_deref() != Some(author))
        .map(|c| {
            format!(
                "{} ({})",
                short(&c.id),
                c.author_login.as_deref().unwrap_or(&c.author_email)
            )
        })
        .collect())
}

/// Every planned file whose bytes at `at` are not its final state, as unified diffs, then every
/// file a commit writes whose mode at `at` is not the planned one, a line each.
async fn differences(change: &RepoChange, forge: &Forge, at: &str) -> Result<String, GitHubError> {
    let writes = Writes::of(change);
    let reads = writes.final_state.iter().map(|(path, file)| async move {
        let existing: Option<Bytes> = forge.read.read_file(&change.repo, at, path).await?;
        Ok::<_, GitHubError>((existing.as_ref() != file.bytes).then(|| {
            dry_run::file_diff(&FileEdit {
                path: (*path).to_owned(),
                before: existing,
                after: file.bytes.cloned(),
                executable: file.executable.unwrap_or(false),
            })
        }))
    });
    let (diffs, listing) = futures::try_join!(
        futures::future::try_join_all(reads),
        forge.read.list_files(&change.repo, at, "")
    )?;
    let existing_modes: BTreeMap<String, bool> = listing
        .unwrap_or_default()
        .into_iter()
        .map(|file| (file.path, file.executable))
        .collect();
    let mut out: String = diffs.into_iter().flatten().collect();
    for (path, planned) in writes.wrong_modes(|path| existing_modes.get(path).copied()) {
        // A file that is not there at all is already in the diff above.
        if let Some(&existing) = existing_modes.get(path) {
            let _ = writeln!(
                out,
                "mode of {path}: {} existing, {} planned",
                mode(existing),
                mode(planned)
            );
        }
    }
    Ok(out)
}

/// Git's mode of a file: `100755` executable, `100644` not.
fn mode(executable: bool) -> &'static str {
    if executable { "100755" } else { "100644" }
}

fn heading(change: &RepoChange, at: &str, diff: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "=== {} (existing at {} → planned)",
        change.repo,
        short(at)
    );
    out.push_str(diff);
    out
}

fn short(commit: &str) -> &str {
    commit.get(..12).unwrap_or(commit)
}
