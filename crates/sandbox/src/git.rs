//! Running the `git` command line against one repository's git directory.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::catfile::CatFile;

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

/// One git directory, and how to run git in it: reads of refs and objects go to its
/// long-running [`CatFile`], everything else to a `git` process of its own.
#[derive(Debug, Clone)]
pub(crate) struct Git {
    dir: PathBuf,
    reader: Arc<CatFile>,
}

/// What a finished git command printed.
pub(crate) struct GitOutput {
    pub(crate) success: bool,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
}

impl Git {
    /// Git run with `--git-dir=dir`, reading through `reader` (a reader of the same directory).
    pub(crate) fn new(dir: PathBuf, reader: Arc<CatFile>) -> Self {
        Self { dir, reader }
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
        let mut command = git_command(&self.dir, args);
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
        Ok(self.object_info(&spec).await?.map(|info| info.sha))
    }

    /// The object id a full ref name (`refs/heads/main`) points to, unpeeled, or `None`.
    pub(crate) async fn ref_target(&self, full_ref: &str) -> Result<Option<String>, GitError> {
        Ok(self.object_info(full_ref).await?.map(|info| info.sha))
    }

    /// The bytes of the `kind` object `rev` names (peeled to it, as `git cat-file <kind>`
    /// does), or `None`. An abbreviated `rev` is expanded by [`Git::object_info`] first.
    pub(crate) async fn read(&self, rev: &str, kind: &str) -> Result<Option<Vec<u8>>, GitError> {
        let mut spec = format!("{rev}^{{{kind}}}");
        if is_abbreviated(rev) {
            let Some(info) = self.object_info(&spec).await? else {
                return Ok(None);
            };
            spec = info.sha;
        }
        Ok(self.reader.contents(&spec).await?.map(|(_, bytes)| bytes))
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

    /// `(id, type, size)` of the object `spec` names (`<sha>`, `<rev>^{commit}`, `<rev>:<path>`),
    /// `None` when it names nothing.
    pub(crate) async fn object_info(&self, spec: &str) -> Result<Option<ObjectInfo>, GitError> {
        if !is_abbreviated(spec) {
            return self.reader.info(spec).await;
        }
        let out = self
            .ok(
                &[
                    "cat-file",
                    "--batch-check=%(objectname) %(objecttype) %(objectsize)",
                ],
                Some(format!("{spec}\n").as_bytes()),
                &[],
            )
            .await?;
        Ok(ObjectInfo::parse(String::from_utf8_lossy(&out).trim_end()))
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

    /// The entries of a tree as `ls-tree -l -z --full-tree` lists them (pre-order, subtrees
    /// only with [`Depth::All`]), as deep as `depth` says; read through the long-running reader.
    pub(crate) async fn tree_entries(
        &self,
        tree: &str,
        depth: Depth,
    ) -> Result<Vec<TreeEntry>, GitError> {
        let missing = || GitError::Failed {
            args: format!("ls-tree {tree}"),
            stderr: format!("fatal: not a tree object: {tree}"),
        };
        let bytes = self.read(tree, "tree").await?.ok_or_else(missing)?;
        let mut entries = Vec::new();
        // Trees still to list, last first, each with the path its entries sit under.
        let mut pending = vec![(String::new(), raw_tree_entries(&bytes))];
        while let Some((prefix, mut rest)) = pending.pop() {
            let Some(entry) = rest.pop() else {
                continue;
            };
            pending.push((prefix.clone(), rest));
            let path = format!("{prefix}{}", entry.name);
            let kind = match entry.mode.as_str() {
                "040000" => "tree",
                "160000" => "commit",
                _ => "blob",
            };
            let size = match kind {
                "blob" => self.object_info(&entry.sha).await?.map(|info| info.size),
                _ => None,
            };
            if kind == "tree" && depth != Depth::Top {
                let (_, sub) = self
                    .reader
                    .contents(&entry.sha)
                    .await?
                    .ok_or_else(missing)?;
                pending.push((format!("{path}/"), raw_tree_entries(&sub)));
                if depth == Depth::Files {
                    continue;
                }
            }
            entries.push(TreeEntry {
                mode: entry.mode,
                kind: kind.to_owned(),
                sha: entry.sha,
                size,
                path,
            });
        }
        Ok(entries)
    }

    /// Whether `full` is a valid ref name (`git check-ref-format`). A name git accepted once is
    /// not asked again: the answer depends on the name alone.
    pub(crate) async fn is_valid_ref_name(&self, full: &str) -> Result<bool, GitError> {
        static ACCEPTED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
        let accepted = || ACCEPTED.lock().unwrap_or_else(PoisonError::into_inner);
        if accepted().contains(full) {
            return Ok(true);
        }
        let valid = self
            .run(&["check-ref-format", full], None, &[])
            .await?
            .success;
        if valid {
            accepted().insert(full.to_owned());
        }
        Ok(valid)
    }

    /// The name of the branch HEAD points to, read from the `HEAD` file (git's own error when
    /// HEAD is not a branch).
    pub(crate) async fn head_branch(&self) -> Result<String, GitError> {
        if let Ok(head) = tokio::fs::read_to_string(self.dir.join("HEAD")).await
            && let Some(branch) = head.trim_end().strip_prefix("ref: refs/heads/")
        {
            return Ok(branch.to_owned());
        }
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
    pub(crate) fn parse(line: &str) -> Option<Self> {
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

/// One entry of a raw tree object: mode (six digits, as `ls-tree` prints it), name and id.
struct RawEntry {
    mode: String,
    name: String,
    sha: String,
}

/// The entries of a raw tree object (`<mode> <name>\0<binary id>` each), in reverse order (so
/// that popping them yields the tree's own order).
fn raw_tree_entries(mut bytes: &[u8]) -> Vec<RawEntry> {
    // A SHA-256 repository's ids are 32 bytes; the sandbox's repositories are SHA-1.
    const ID_BYTES: usize = 20;
    let mut entries = Vec::new();
    while let Some(space) = bytes.iter().position(|byte| *byte == b' ') {
        let Some(nul) = bytes[space..].iter().position(|byte| *byte == 0) else {
            break;
        };
        let nul = space + nul;
        let Some(id) = bytes.get(nul + 1..nul + 1 + ID_BYTES) else {
            break;
        };
        let mode = canonical_mode(&String::from_utf8_lossy(&bytes[..space]));
        entries.push(RawEntry {
            mode,
            name: String::from_utf8_lossy(&bytes[space + 1..nul]).into_owned(),
            sha: id.iter().map(|byte| format!("{byte:02x}")).collect(),
        });
        bytes = &bytes[nul + 1 + ID_BYTES..];
    }
    entries.reverse();
    entries
}

/// A raw tree's octal mode as git reads it (`canon_mode`): a file 100644 or 100755, a symlink
/// 120000, a tree 040000, anything else a submodule 160000.
fn canonical_mode(raw: &str) -> String {
    let mode = u32::from_str_radix(raw, 8).unwrap_or(0);
    match mode & 0o170_000 {
        0o100_000 if mode & 0o100 != 0 => "100755",
        0o100_000 => "100644",
        0o120_000 => "120000",
        0o040_000 => "040000",
        _ => "160000",
    }
    .to_owned()
}

/// One entry of a tree listing, as `ls-tree -l` gives it.
#[derive(Debug, Clone)]
pub(crate) struct TreeEntry {
    pub(crate) mode: String,
    pub(crate) kind: String,
    pub(crate) sha: String,
    pub(crate) size: Option<u64>,
    pub(crate) path: String,
}

/// `git --git-dir=dir args`, with the environment that could send git elsewhere removed.
pub(crate) fn git_command(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new("git");
    command.arg("--git-dir").arg(dir).args(args);
    for name in SCRUBBED_ENV {
        command.env_remove(name);
    }
    command
        .env("LC_ALL", "C")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    command
}

/// Whether `text` is a whole object id (SHA-1 or SHA-256, hexadecimal).
pub(crate) fn is_full_id(text: &str) -> bool {
    matches!(text.len(), 40 | 64) && is_hex_id(text)
}

/// Whether the object name `spec` starts with an abbreviated id (`1a2b3c^{tree}`, `1a2b:README`):
/// git resolves those from a listing of loose objects that a long-running process never renews.
fn is_abbreviated(spec: &str) -> bool {
    let head = spec.split(['^', ':', '~', '@']).next().unwrap_or(spec);
    is_hex_id(head) && !is_full_id(head)
}

/// Whether `text` looks like a (possibly abbreviated) hexadecimal object id.
pub(crate) fn is_hex_id(text: &str) -> bool {
    (4..=64).contains(&text.len()) && text.bytes().all(|byte| byte.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// A repository with a work tree holding nested folders, an executable, a symlink and a
    /// submodule entry, committed once; returns the folder and a `Git` for its git directory.
    fn repository() -> (tempfile::TempDir, Git) {
        let folder = tempfile::tempdir().expect("temp dir");
        let work = folder.path();
        let sh = |args: &[&str]| {
            let status = std::process::Command::new("git")
                .current_dir(work)
                .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
                .args(args)
                .status()
                .expect("git runs");
            assert!(status.success(), "git {args:?}");
        };
        sh(&["init", "--quiet", "--initial-branch", "main"]);
        std::fs::create_dir_all(work.join("a/b")).expect("dirs");
        std::fs::write(work.join("a/b/deep.txt"), "deep\n").expect("write");
        std::fs::write(work.join("a/file with space"), "x").expect("write");
        std::fs::write(work.join("run.sh"), "#!/bin/sh\n").expect("write");
        std::fs::write(work.join("z"), "").expect("write");
        std::os::unix::fs::symlink("run.sh", work.join("link")).expect("symlink");
        let executable = std::os::unix::fs::PermissionsExt::from_mode(0o755);
        std::fs::set_permissions(work.join("run.sh"), executable).expect("chmod");
        sh(&["add", "--all"]);
        sh(&[
            "update-index",
            "--add",
            "--cacheinfo",
            "160000,1234567890123456789012345678901234567890,sub",
        ]);
        sh(&["commit", "--quiet", "-m", "one"]);
        let dir = work.join(".git");
        let git = Git::new(dir.clone(), Arc::new(CatFile::new(dir)));
        (folder, git)
    }

    fn ls_tree(git: &Git, flags: &[&str]) -> Vec<(String, String, String, Option<u64>, String)> {
        let output = std::process::Command::new("git")
            .arg("--git-dir")
            .arg(git.dir())
            .args(["ls-tree", "-l", "-z", "--full-tree"])
            .args(flags)
            .arg("HEAD")
            .output()
            .expect("ls-tree");
        output
            .stdout
            .split(|byte| *byte == 0)
            .filter(|record| !record.is_empty())
            .map(|record| {
                let text = String::from_utf8_lossy(record);
                let (meta, path) = text.split_once('\t').expect("tab");
                let parts: Vec<&str> = meta.split_whitespace().collect();
                (
                    parts[0].to_owned(),
                    parts[1].to_owned(),
                    parts[2].to_owned(),
                    parts[3].parse().ok(),
                    path.to_owned(),
                )
            })
            .collect()
    }

    fn listed(entries: Vec<TreeEntry>) -> Vec<(String, String, String, Option<u64>, String)> {
        entries
            .into_iter()
            .map(|e| (e.mode, e.kind, e.sha, e.size, e.path))
            .collect()
    }

    #[tokio::test]
    async fn tree_listings_match_ls_tree_at_every_depth() {
        let (_folder, git) = repository();
        let head = git.resolve("HEAD", "commit").await.expect("reads");
        let head = head.expect("a commit");
        for (depth, flags) in [
            (Depth::Top, &[][..]),
            (Depth::Files, &["-r"][..]),
            (Depth::All, &["-r", "-t"][..]),
        ] {
            let ours = listed(git.tree_entries(&head, depth).await.expect("lists"));
            assert_eq!(ours, ls_tree(&git, flags), "{depth:?}");
        }
        let all = listed(git.tree_entries(&head, Depth::All).await.expect("lists"));
        let modes: Vec<&str> = all.iter().map(|entry| entry.0.as_str()).collect();
        for mode in ["040000", "100644", "100755", "120000", "160000"] {
            assert!(modes.contains(&mode), "the fixture holds a {mode} entry");
        }
    }

    #[tokio::test]
    async fn the_long_running_reader_sees_what_other_processes_write() {
        let (_folder, git) = repository();
        let first = git.ref_target("refs/heads/main").await.expect("reads");
        assert!(first.is_some());
        let blob = git.write_blob(b"new content\n").await.expect("writes");
        let tree = git.resolve(&blob, "blob").await.expect("reads");
        assert_eq!(tree.as_deref(), Some(blob.as_str()));
        let read = git.read(&blob, "blob").await.expect("reads");
        assert_eq!(read.as_deref(), Some(&b"new content\n"[..]));
        // An abbreviated id of an object written after the reader started still resolves.
        let short = git.resolve(&blob[..10], "blob").await.expect("reads");
        assert_eq!(short.as_deref(), Some(blob.as_str()));
        let short_read = git.read(&blob[..10], "blob").await.expect("reads");
        assert_eq!(short_read.as_deref(), Some(&b"new content\n"[..]));
        let head = first.expect("main");
        git.ok(&["update-ref", "refs/heads/topic", &head], None, &[])
            .await
            .expect("update-ref");
        let topic = git.ref_target("refs/heads/topic").await.expect("reads");
        assert_eq!(topic, Some(head));
        git.ok(&["pack-refs", "--all"], None, &[])
            .await
            .expect("pack-refs");
        git.ok(&["update-ref", "-d", "refs/heads/topic"], None, &[])
            .await
            .expect("delete");
        assert_eq!(
            git.ref_target("refs/heads/topic").await.expect("reads"),
            None
        );
        assert_eq!(
            git.read("0123456789abcdef0123456789abcdef01234567", "blob")
                .await
                .expect("reads"),
            None
        );
        assert_eq!(git.object_info("HEAD:missing").await.expect("reads"), None);
        assert!(git.object_info("HEAD:a").await.expect("reads").is_some());
    }

    #[tokio::test]
    async fn a_read_dropped_before_its_answer_leaves_no_answer_for_the_next() {
        let (_folder, git) = repository();
        let big = git.write_blob(&vec![b'x'; 4 << 20]).await.expect("writes");
        let small = git.write_blob(b"small\n").await.expect("writes");
        assert!(git.read(&small, "blob").await.expect("reads").is_some());
        // Polled once, then dropped: the command is sent, its answer not read.
        let dropped = tokio::time::timeout(Duration::ZERO, git.read(&big, "blob")).await;
        assert!(dropped.is_err(), "the big read did not finish in one poll");
        let read = git.read(&small, "blob").await.expect("reads");
        assert_eq!(read.as_deref(), Some(&b"small\n"[..]));
    }
}
