//! One long-running `git cat-file --batch-command` per repository, answering object reads.
//!
//! Starting `git` costs about 2 ms of CPU; a release makes the sandbox read thousands of refs and
//! objects, so the reads go to one process per repository that stays up (spawned on first use,
//! killed when the sandbox stops). It sees what other processes write: refs are read from disk on
//! every lookup, and an object it cannot find makes it look for new packs. Abbreviated ids are the
//! exception (git caches the loose-object listing it disambiguates them with), so
//! [`crate::git::Git`] asks a fresh process for those.

use std::path::PathBuf;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, ChildStdout};
use tokio::sync::Mutex;

use crate::git::{GitError, ObjectInfo, git_command, is_full_id};

/// The reader for one git directory: a `cat-file --batch-command` process, started on demand.
#[derive(Debug)]
pub(crate) struct CatFile {
    dir: PathBuf,
    process: Mutex<Option<Process>>,
}

#[derive(Debug)]
struct Process {
    // Held so that dropping the reader kills the process (`kill_on_drop`).
    _child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

/// What one `info` or `contents` command answered.
enum Answer {
    Found(ObjectInfo, Option<Vec<u8>>),
    Missing,
}

impl CatFile {
    /// A reader for the git directory `dir`; no process runs until the first read.
    pub(crate) fn new(dir: PathBuf) -> Self {
        Self {
            dir,
            process: Mutex::new(None),
        }
    }

    /// `(id, type, size)` of the object `spec` names (`<sha>`, `<rev>^{commit}`, `<rev>:<path>`),
    /// `None` when it names nothing.
    pub(crate) async fn info(&self, spec: &str) -> Result<Option<ObjectInfo>, GitError> {
        Ok(match self.ask("info", spec).await? {
            Answer::Found(info, _) => Some(info),
            Answer::Missing => None,
        })
    }

    /// The object `spec` names and its bytes, or `None`.
    pub(crate) async fn contents(
        &self,
        spec: &str,
    ) -> Result<Option<(ObjectInfo, Vec<u8>)>, GitError> {
        Ok(match self.ask("contents", spec).await? {
            Answer::Found(info, bytes) => Some((info, bytes.unwrap_or_default())),
            Answer::Missing => None,
        })
    }

    /// Sends one command; a process that has died is started again once. The process is out of
    /// its slot while it answers, so a request dropped mid-answer (its client went away) takes
    /// the process with it instead of leaving an unread answer for the next one.
    async fn ask(&self, command: &str, spec: &str) -> Result<Answer, GitError> {
        // The protocol is line-based: a name holding a line break names nothing git can find.
        if spec.contains(['\n', '\r']) {
            return Ok(Answer::Missing);
        }
        let mut slot = self.process.lock().await;
        let mut last_error = None;
        for _ in 0..2 {
            let mut process = match slot.take() {
                Some(process) => process,
                None => self.spawn()?,
            };
            match process.exchange(command, spec).await {
                Ok(answer) => {
                    *slot = Some(process);
                    return Ok(answer);
                }
                Err(error) => last_error = Some(error),
            }
        }
        Err(GitError::Spawn {
            args: format!("cat-file --batch-command ({command} {spec})"),
            source: last_error.unwrap_or_else(|| std::io::Error::other("no answer")),
        })
    }

    fn spawn(&self) -> Result<Process, GitError> {
        let mut command = git_command(&self.dir, &["cat-file", "--batch-command"]);
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true);
        let spawn_error = |source| GitError::Spawn {
            args: "cat-file --batch-command".to_owned(),
            source,
        };
        let mut child = command.spawn().map_err(spawn_error)?;
        let missing_pipe = || spawn_error(std::io::Error::other("no pipe to git"));
        let stdin = child.stdin.take().ok_or_else(missing_pipe)?;
        let stdout = child.stdout.take().ok_or_else(missing_pipe)?;
        Ok(Process {
            _child: child,
            stdin,
            stdout: BufReader::new(stdout),
        })
    }
}

impl Process {
    async fn exchange(&mut self, command: &str, spec: &str) -> std::io::Result<Answer> {
        self.stdin
            .write_all(format!("{command} {spec}\n").as_bytes())
            .await?;
        self.stdin.flush().await?;
        let mut header = String::new();
        if self.stdout.read_line(&mut header).await? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "git cat-file exited",
            ));
        }
        let header = header.trim_end_matches('\n');
        // `<name> missing`, `<name> ambiguous` (and the like) name no object.
        let Some(info) = ObjectInfo::parse(header).filter(|info| is_full_id(&info.sha)) else {
            return Ok(Answer::Missing);
        };
        if command != "contents" {
            return Ok(Answer::Found(info, None));
        }
        let size = usize::try_from(info.size).map_err(std::io::Error::other)?;
        let mut bytes = vec![0; size + 1];
        self.stdout.read_exact(&mut bytes).await?;
        // The contents end with a line feed that is not part of the object.
        bytes.truncate(size);
        Ok(Answer::Found(info, Some(bytes)))
    }
}
