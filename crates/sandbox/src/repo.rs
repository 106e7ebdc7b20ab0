//! Finding repositories under the sandbox root and serializing writes to each one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::sync::OwnedMutexGuard;

use crate::catfile::CatFile;
use crate::error::ApiError;
use crate::git::{Git, GitError, is_hex_id};
use crate::lag::Lag;

/// The repositories under `ROOT/<owner>/<repo>(.git)`, one write lock and one object reader
/// per repository.
#[derive(Debug)]
pub(crate) struct Repos {
    root: PathBuf,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// The long-running reader of each git directory opened so far.
    readers: Mutex<HashMap<PathBuf, Arc<CatFile>>>,
    /// The stale views a `lag` fault left, shared by every repository opened here.
    pub(crate) lag: Arc<Lag>,
}

/// One repository: its owner, name, git directory and visibility.
#[derive(Debug, Clone)]
pub(crate) struct Repo {
    pub(crate) owner: String,
    pub(crate) name: String,
    pub(crate) git: Git,
    /// Private repositories are seen only by tokens whose scope covers them; public ones
    /// (the default) are readable with any token, as on GitHub.
    pub(crate) private: bool,
    /// What reads see while a `lag` fault is in force.
    pub(crate) lag: Arc<Lag>,
}

/// The file in a repository's git directory whose presence makes it private.
pub(crate) const PRIVATE_MARKER: &str = "sandbox-private";

/// Whether `name` is a safe owner or repository name (GitHub's characters, no dot-only names).
pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.starts_with('_')
        && name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'))
}

impl Repos {
    /// The registry for repositories under `root`.
    pub(crate) fn new(root: PathBuf) -> Self {
        Self {
            root,
            locks: Mutex::new(HashMap::new()),
            readers: Mutex::new(HashMap::new()),
            lag: Arc::default(),
        }
    }

    /// The root folder the repositories are under.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// The git directory of `owner/name`, if that repository exists.
    fn git_dir(&self, owner: &str, name: &str) -> Option<PathBuf> {
        if !valid_name(owner) || !valid_name(name) {
            return None;
        }
        let owner_dir = self.root.join(owner);
        let bare = owner_dir.join(format!("{name}.git"));
        if bare.join("HEAD").is_file() {
            return Some(bare);
        }
        let with_work_tree = owner_dir.join(name).join(".git");
        if with_work_tree.join("HEAD").is_file() {
            return Some(with_work_tree);
        }
        None
    }

    /// Opens `owner/name`, or 404 `Not Found`.
    pub(crate) fn open(&self, owner: &str, name: &str) -> Result<Repo, ApiError> {
        let dir = self.git_dir(owner, name).ok_or_else(ApiError::not_found)?;
        let private = dir.join(PRIVATE_MARKER).is_file();
        let reader = Arc::clone(
            self.readers
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .entry(dir.clone())
                .or_insert_with(|| Arc::new(CatFile::new(dir.clone()))),
        );
        Ok(Repo {
            owner: owner.to_owned(),
            name: name.to_owned(),
            git: Git::new(dir, reader),
            private,
            lag: Arc::clone(&self.lag),
        })
    }

    /// The owners that have at least one repository, sorted.
    pub(crate) fn owners(&self) -> Vec<String> {
        let mut owners: Vec<String> = read_dir_names(&self.root)
            .into_iter()
            .filter(|owner| valid_name(owner) && !self.repositories(owner).is_empty())
            .collect();
        owners.sort();
        owners
    }

    /// The repository names of `owner`, sorted.
    pub(crate) fn repositories(&self, owner: &str) -> Vec<String> {
        if !valid_name(owner) {
            return Vec::new();
        }
        let mut names: Vec<String> = read_dir_names(&self.root.join(owner))
            .into_iter()
            .map(|entry| {
                entry
                    .strip_suffix(".git")
                    .map(str::to_owned)
                    .unwrap_or(entry)
            })
            .filter(|name| self.git_dir(owner, name).is_some())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Marks `owner/name` private (or public again); `false` if there is no such repository.
    pub(crate) fn set_private(
        &self,
        owner: &str,
        name: &str,
        private: bool,
    ) -> Result<bool, std::io::Error> {
        let Some(dir) = self.git_dir(owner, name) else {
            return Ok(false);
        };
        let marker = dir.join(PRIVATE_MARKER);
        if private {
            std::fs::write(&marker, "private\n")?;
        } else if marker.exists() {
            std::fs::remove_file(&marker)?;
        }
        Ok(true)
    }

    /// Moves `owner/old` to `owner/new` on disk (keeping its form, bare or with a work tree);
    /// `false` if there is no `owner/old`, or `new` is not a valid name or already taken.
    pub(crate) fn rename(&self, owner: &str, old: &str, new: &str) -> Result<bool, std::io::Error> {
        let Some(dir) = self.git_dir(owner, old) else {
            return Ok(false);
        };
        if !valid_name(new) || self.git_dir(owner, new).is_some() {
            return Ok(false);
        }
        let owner_dir = self.root.join(owner);
        let (from, to) =
            if dir.ends_with(".git") && dir.parent() == Some(owner_dir.join(old).as_path()) {
                (owner_dir.join(old), owner_dir.join(new))
            } else {
                (dir.clone(), owner_dir.join(format!("{new}.git")))
            };
        std::fs::rename(from, to)?;
        // The old directory's reader would look where nothing is now.
        self.readers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(&dir);
        Ok(true)
    }

    /// Takes the write lock of `repo`; writes to one repository happen one at a time.
    pub(crate) async fn lock(&self, repo: &Repo) -> OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self
                .locks
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            locks.entry(repo.full_name()).or_default().clone()
        };
        lock.lock_owned().await
    }
}

fn read_dir_names(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|entry| entry.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default()
}

impl Repo {
    /// `owner/name`.
    pub(crate) fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }

    /// The default branch: the branch HEAD points to.
    pub(crate) async fn default_branch(&self) -> Result<String, GitError> {
        self.git.head_branch().await
    }

    /// The commit a user-given `rev` names: a branch, then a tag, then a commit id; `None` if none.
    /// Reads see what a `lag` fault leaves: a lagging ref's previous target, no hidden commit.
    pub(crate) async fn resolve_commit(&self, rev: &str) -> Result<Option<String>, GitError> {
        if rev.is_empty() || rev.starts_with('-') || !safe_ref_text(rev) {
            return Ok(None);
        }
        let mut full_names = vec![format!("refs/heads/{rev}"), format!("refs/tags/{rev}")];
        if rev.starts_with("refs/heads/") || rev.starts_with("refs/tags/") {
            full_names.push(rev.to_owned());
        }
        for full in full_names {
            if let Some(target) = self.read_ref(&full).await? {
                return self.visible_commit(&target).await;
            }
        }
        if is_hex_id(rev) {
            return self.visible_commit(rev).await;
        }
        Ok(None)
    }

    /// GitHub's `409 Git Repository is empty.` for a git-data write (blob, tree, commit, ref) to a
    /// repository without a commit: it refuses them until a first commit is pushed.
    pub(crate) async fn refuse_git_data_if_empty(&self) -> Result<(), ApiError> {
        if self.git.resolve("HEAD", "commit").await?.is_some()
            || !self.git.refs_with_prefix("refs/").await?.is_empty()
        {
            return Ok(());
        }
        Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "Git Repository is empty.",
        ))
    }

    /// The object id ref `full` points to as reads see it (a lagging ref answers its previous
    /// target), or `None`.
    pub(crate) async fn read_ref(&self, full: &str) -> Result<Option<String>, GitError> {
        match self.lag.ref_view(&self.full_name(), full) {
            Some(previous) => Ok(previous),
            None => self.git.ref_target(full).await,
        }
    }

    /// The commit `rev` peels to, unless a `lag` fault still hides it.
    async fn visible_commit(&self, rev: &str) -> Result<Option<String>, GitError> {
        Ok(self
            .git
            .resolve(rev, "commit")
            .await?
            .filter(|sha| !self.lag.is_hidden(sha)))
    }
}

/// Whether `text` is free of revision syntax (`~`, `^`, `:`, `@{`, ...) so that it names a ref literally.
pub(crate) fn safe_ref_text(text: &str) -> bool {
    !text.contains("..")
        && !text.contains("@{")
        && !text
            .chars()
            .any(|c| c.is_control() || matches!(c, '~' | '^' | ':' | '?' | '*' | '[' | '\\' | ' '))
}
