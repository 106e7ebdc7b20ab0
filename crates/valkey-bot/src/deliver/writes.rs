//! What a change writes, decided once, and the one comparison of a tree with it.

use std::collections::BTreeMap;

use bytes::Bytes;
use valkey_bot_core::github::{CommitId, FileWrite, GitHubError};
use valkey_bot_core::plan::{PlannedCommit, RepoChange};

use super::DeliverError;
use crate::forge::Forge;

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
            .wrong_modes(|path| actual.get(path).map(|(_, executable)| *executable))
            .into_iter()
            .map(|(path, _)| path)
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

    /// Every file a commit writes whose mode (`mode_of`: executable or not, `None` if absent) is
    /// not the planned one, with the planned mode (`true`: executable).
    pub fn wrong_modes(&self, mode_of: impl Fn(&str) -> Option<bool>) -> Vec<(&'a str, bool)> {
        self.final_state
            .iter()
            .filter(|(_, file)| file.bytes.is_some())
            .filter_map(|(path, file)| {
                let planned = file.executable?;
                (mode_of(path) != Some(planned)).then_some((*path, planned))
            })
            .collect()
    }

    /// The `Signed-off-by:` identity of the change's commits, if they are signed off (asking
    /// GitHub for the bot's own identity for [`Signoff::Author`]).
    pub async fn trailer(
        &self,
        forge: &Forge,
        signoff: Option<Signoff<'_>>,
    ) -> Result<Option<String>, GitHubError> {
        Ok(match signoff {
            Some(Signoff::As(identity)) => Some(identity.to_owned()),
            Some(Signoff::Author) if !self.commits.is_empty() => {
                Some(forge.write.own_identity().await?.signoff())
            }
            Some(Signoff::Author) | None => None,
        })
    }

    /// Creates the commits on top of `base`, each with its message (and the sign-off
    /// `trailer`, from [`Self::trailer`]), and returns the last one.
    pub async fn create_commits(
        &self,
        base: &str,
        forge: &Forge,
        trailer: Option<&str>,
    ) -> Result<CommitId, GitHubError> {
        let mut parent = base.to_owned();
        for (commit, writes) in &self.commits {
            parent = forge
                .write
                .create_commit(
                    &self.change.repo,
                    &parent,
                    writes,
                    &with_signoff(&commit.message, trailer),
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
