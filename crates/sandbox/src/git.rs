//! Running the `git` command line against one repository's git directory.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// A git command that could not be run or did not succeed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum GitError {
    /// `git` could not be started or its pipes failed.
    #[error("running git {args}: {source}")]
    Spawn {
        args: String,
        source: std::io::Error,
    },
    /// `git` exited unsuccessfully.
    #[error("git {args} failed: {stderr}")]
    Failed { args: String, stderr: String },
}

/// The environment variables that would redirect git away from the directory we name.
const SCRUBBED_ENV: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_CEILING_DIRECTORIES",
];

/// One git directory, and how to run git in it.
#[derive(Debug, Clone)]
pub(crate) struct Git {
    dir: PathBuf,
}

/// What a finished git command printed.
pub(crate) struct GitOutput {
    pub(crate) success: bool,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
}

impl Git {
    /// Git run with `--git-dir=dir`.
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    /// The git directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Runs git with `args`, optional `stdin` and extra `env`; returns its output whatever its exit code.
    pub(crate) async fn run(
        &self,
        args: &[&str],
        stdin: Option<&[u8]>,
        env: &[(&str, &str)],
    ) -> Result<GitOutput, GitError> {
        let describe = || args.join(" ");
        let mut command = Command::new("git");
        command.arg("--git-dir").arg(&self.dir).args(args);
        for name in SCRUBBED_ENV {
            command.env_remove(name);
        }
        command
            .env("LC_ALL", "C")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("GIT_CONFIG_NOSYSTEM", "1");
        for (name, value) in env {
            command.env(name, value);
        }
        command
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let spawn_error = |source| GitError::Spawn {
            args: describe(),
            source,
        };
        let mut child = command.spawn().map_err(spawn_error)?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input).await.map_err(spawn_error)?;
            drop(pipe);
        }
        let output = child.wait_with_output().await.map_err(spawn_error)?;
        Ok(GitOutput {
            success: output.status.success(),
            stdout: output.stdout,
            stderr: output.stderr,
        })
    }

    /// Runs git and returns its stdout; a non-zero exit is an error.
    pub(crate) async fn ok(
        &self,
        args: &[&str],
        stdin: Option<&[u8]>,
        env: &[(&str, &str)],
    ) -> Result<Vec<u8>, GitError> {
        let output = self.run(args, stdin, env).await?;
        if output.success {
            Ok(output.stdout)
        } else {
            Err(GitError::Failed {
                args: args.join(" "),
                stderr: String::from_utf8_lossy(&output.stderr)
                    .trim_end()
                    .to_owned(),
            })
        }
    }

    /// Runs git and returns its stdout as trimmed text.
    pub(crate) async fn text(&self, args: &[&str]) -> Result<String, GitError> {
        let out = self.ok(args, None, &[]).await?;
        Ok(String::from_utf8_lossy(&out).trim_end().to_owned())
    }

    /// The object id `rev` names, peeled to `peel` (`commit`, `tree`, ...), or `None`.
    pub(crate) async fn resolve(&self, rev: &str, peel: &str) -> Result<Option<String>, GitError> {
        let spec = format!("{rev}^{{{peel}}}");
        let output = self
            .run(
                &[
                    "rev-parse",
                    "--verify",
                    "--quiet",
                    "--end-of-options",
                    &spec,
                ],
                None,
                &[],
            )
            .await?;
        Ok(output
            .success
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned()))
    }

    /// The object id a full ref name (`refs/heads/main`) points to, unpeeled, or `None`.
    pub(crate) async fn ref_target(&self, full_ref: &str) -> Result<Option<String>, GitError> {
        let output = self
            .run(
                &[
                    "rev-parse",
                    "--verify",
                    "--quiet",
                    "--end-of-options",
                    full_ref,
                ],
                None,
                &[],
            )
            .await?;
        Ok(output
            .success
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned()))
    }

    /// Every ref whose full name starts with `prefix` (`refs/tags`), sorted by name, as
    /// `(full name, object id, object type)`: string prefixes, as GitHub's matching-refs has them.
    pub(crate) async fn refs_with_prefix(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, String, String)>, GitError> {
        let out = self
            .ok(
                &[
                    "for-each-ref",
                    "--format=%(refname) %(objectname) %(objecttype)",
                ],
                None,
                &[],
            )
            .await?;
        let text = String::from_utf8_lossy(&out);
        Ok(text
            .lines()
            .filter_map(|line| {
                let mut parts = line.split(' ');
                let (name, id, kind) = (parts.next()?, parts.next()?, parts.next()?);
                name.starts_with(prefix)
                    .then(|| (name.to_owned(), id.to_owned(), kind.to_owned()))
            })
            .collect())
    }

    /// `(type, size)` of each object spec (`<sha>` or `<rev>:<path>`), `None` when missing.
    pub(crate) async fn object_info(
        &self,
        specs: &[&str],
    ) -> Result<Vec<Option<ObjectInfo>>, GitError> {
        if specs.is_empty() {
            return Ok(Vec::new());
        }
        let mut input = Vec::new();
        for spec in specs {
            input.extend_from_slice(spec.as_bytes());
            input.push(b'\n');
        }
        let out = self
            .ok(
                &[
                    "cat-file",
                    "--batch-check=%(objectname) %(objecttype) %(objectsize)",
                ],
                Some(&input),
                &[],
            )
            .await?;
        let text = String::from_utf8_lossy(&out);
        Ok(text.lines().map(ObjectInfo::parse).collect())
    }

    /// Whether `ancestor` is an ancestor of (or equal to) `descendant`.
    pub(crate) async fn is_ancestor(
        &self,
        ancestor: &str,
        descendant: &str,
    ) -> Result<bool, GitError> {
        Ok(self
            .run(
                &["merge-base", "--is-ancestor", ancestor, descendant],
                None,
                &[],
            )
            .await?
            .success)
    }

    /// Writes `content` as a blob and returns its id.
    pub(crate) async fn write_blob(&self, content: &[u8]) -> Result<String, GitError> {
        let out = self
            .ok(&["hash-object", "-w", "--stdin"], Some(content), &[])
            .await?;
        Ok(String::from_utf8_lossy(&out).trim().to_owned())
    }

    /// The entries of a tree (`ls-tree -l -z`), as deep as `depth` says.
    pub(crate) async fn tree_entries(
        &self,
        tree: &str,
        depth: Depth,
    ) -> Result<Vec<TreeEntry>, GitError> {
        let mut args = vec!["ls-tree", "-l", "-z", "--full-tree"];
        match depth {
            Depth::Top => {}
            Depth::Files => args.push("-r"),
            Depth::All => args.extend(["-r", "-t"]),
        }
        args.push(tree);
        let out = self.ok(&args, None, &[]).await?;
        Ok(out
            .split(|byte| *byte == 0)
            .filter(|record| !record.is_empty())
            .filter_map(TreeEntry::parse)
            .collect())
    }

    /// The name of the branch HEAD points to.
    pub(crate) async fn head_branch(&self) -> Result<String, GitError> {
        self.text(&["symbolic-ref", "--short", "HEAD"]).await
    }

    /// Writes a commit of `tree` with `parents` and the exact `message` bytes; returns its id.
    pub(crate) async fn commit_tree(
        &self,
        tree: &str,
        parents: &[String],
        message: &str,
        author: &Identity,
        committer: &Identity,
    ) -> Result<String, GitError> {
        let mut args = vec!["commit-tree", tree];
        for parent in parents {
            args.push("-p");
            args.push(parent);
        }
        args.extend(["-F", "-"]);
        let env = [
            ("GIT_AUTHOR_NAME", author.name.as_str()),
            ("GIT_AUTHOR_EMAIL", author.email.as_str()),
            ("GIT_AUTHOR_DATE", author.date.as_str()),
            ("GIT_COMMITTER_NAME", committer.name.as_str()),
            ("GIT_COMMITTER_EMAIL", committer.email.as_str()),
            ("GIT_COMMITTER_DATE", committer.date.as_str()),
        ];
        let out = self.ok(&args, Some(message.as_bytes()), &env).await?;
        Ok(String::from_utf8_lossy(&out).trim().to_owned())
    }
}

/// Name, email and a date string git accepts (`@<unix> +0000` or ISO 8601).
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub(crate) name: String,
    pub(crate) email: String,
    pub(crate) date: String,
}

/// What `cat-file --batch-check` says of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ObjectInfo {
    pub(crate) sha: String,
    pub(crate) kind: String,
    pub(crate) size: u64,
}

impl ObjectInfo {
    fn parse(line: &str) -> Option<Self> {
        let mut parts = line.split(' ');
        let sha = parts.next()?;
        let kind = parts.next()?;
        let size = parts.next()?.parse().ok()?;
        Some(Self {
            sha: sha.to_owned(),
            kind: kind.to_owned(),
            size,
        })
    }
}

/// How much of a tree [`Git::tree_entries`] lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Depth {
    /// Its own entries.
    Top,
    /// Every file below it, without the subtrees themselves.
    Files,
    /// Every file and subtree below it (GitHub's `recursive=1`).
    All,
}

/// One line of `ls-tree -l -z`.
#[derive(Debug, Clone)]
pub(crate) struct TreeEntry {
    pub(crate) mode: String,
    pub(crate) kind: String,
    pub(crate) sha: String,
    pub(crate) size: Option<u64>,
    pub(crate) path: String,
}

impl TreeEntry {
    fn parse(record: &[u8]) -> Option<Self> {
        let text = String::from_utf8_lossy(record);
        let (meta, path) = text.split_once('\t')?;
        let mut parts = meta.split_whitespace();
        let mode = parts.next()?.to_owned();
        let kind = parts.next()?.to_owned();
        let sha = parts.next()?.to_owned();
        let size = parts.next().and_then(|size| size.parse().ok());
        Some(Self {
            mode,
            kind,
            sha,
            size,
            path: path.to_owned(),
        })
    }
}

/// Whether `text` looks like a (possibly abbreviated) hexadecimal object id.
pub(crate) fn is_hex_id(text: &str) -> bool {
    (4..=64).contains(&text.len()) && text.bytes().all(|byte| byte.is_ascii_hexdigit())
}
