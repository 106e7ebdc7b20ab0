//! What the audit reads through: every answer remembered for the rest of the audit (so a file
//! two audits need is read once), and every request that reached GitHub or a download host
//! counted, per repository and per host, for the report.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use valkey_bot_core::RepoId;
use valkey_bot_core::download::{Digested, DownloadError, Downloads};
use valkey_bot_core::github::{CommitId, GitHubError, RepoRead, TreeFile};

/// A call and its arguments, as the memo's key.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Call {
    Head(RepoId, String),
    File(RepoId, String, String),
    List(RepoId, String, String),
    Tags(RepoId),
}

/// A remembered answer.
#[derive(Clone)]
enum Answer {
    Head(Option<CommitId>),
    File(Option<Bytes>),
    List(Option<Vec<TreeFile>>),
    Tags(Vec<String>),
}

/// Requests that reached the server, by repository (`owner/name`) or download host
/// (`download:<host>`).
#[derive(Clone, Default)]
pub struct Counts(Arc<Mutex<BTreeMap<String, u64>>>);

impl Counts {
    fn add(&self, key: String) {
        if let Ok(mut counts) = self.0.lock() {
            *counts.entry(key).or_default() += 1;
        }
    }

    /// The counts so far.
    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

/// A [`RepoRead`] that asks `inner` each question once per audit and counts what it asks.
pub struct MemoRead {
    inner: Arc<dyn RepoRead>,
    memo: Mutex<HashMap<Call, Answer>>,
    counts: Counts,
}

impl MemoRead {
    /// Reads through `inner`, counting into `counts`.
    pub fn new(inner: Arc<dyn RepoRead>, counts: Counts) -> Self {
        Self {
            inner,
            memo: Mutex::default(),
            counts,
        }
    }

    fn remembered(&self, call: &Call) -> Option<Answer> {
        self.memo.lock().ok()?.get(call).cloned()
    }

    fn remember(&self, call: Call, answer: Answer) {
        if let Ok(mut memo) = self.memo.lock() {
            memo.insert(call, answer);
        }
    }

    /// Counts one request to `repo`.
    fn count(&self, repo: &RepoId) {
        self.counts.add(repo.to_string());
    }
}

#[async_trait]
impl RepoRead for MemoRead {
    async fn branch_head(
        &self,
        repo: &RepoId,
        branch: &str,
    ) -> Result<Option<CommitId>, GitHubError> {
        let call = Call::Head(repo.clone(), branch.to_owned());
        if let Some(Answer::Head(head)) = self.remembered(&call) {
            return Ok(head);
        }
        self.count(repo);
        let head = self.inner.branch_head(repo, branch).await?;
        self.remember(call, Answer::Head(head.clone()));
        Ok(head)
    }

    async fn read_file(
        &self,
        repo: &RepoId,
        reference: &str,
        path: &str,
    ) -> Result<Option<Bytes>, GitHubError> {
        let call = Call::File(repo.clone(), reference.to_owned(), path.to_owned());
        if let Some(Answer::File(bytes)) = self.remembered(&call) {
            return Ok(bytes);
        }
        self.count(repo);
        let bytes = self.inner.read_file(repo, reference, path).await?;
        self.remember(call, Answer::File(bytes.clone()));
        Ok(bytes)
    }

    async fn list_files(
        &self,
        repo: &RepoId,
        commit: &str,
        dir: &str,
    ) -> Result<Option<Vec<TreeFile>>, GitHubError> {
        let call = Call::List(repo.clone(), commit.to_owned(), dir.to_owned());
        if let Some(Answer::List(files)) = self.remembered(&call) {
            return Ok(files);
        }
        self.count(repo);
        let files = self.inner.list_files(repo, commit, dir).await?;
        self.remember(call, Answer::List(files.clone()));
        Ok(files)
    }

    async fn list_tags(&self, repo: &RepoId) -> Result<Vec<String>, GitHubError> {
        let call = Call::Tags(repo.clone());
        if let Some(Answer::Tags(tags)) = self.remembered(&call) {
            return Ok(tags);
        }
        self.count(repo);
        let tags = self.inner.list_tags(repo).await?;
        self.remember(call, Answer::Tags(tags.clone()));
        Ok(tags)
    }
}

/// Downloads through `inner` (which fetches each URL once per run), counted per host.
pub struct CountedDownloads {
    inner: Arc<dyn Downloads>,
    counts: Counts,
}

impl CountedDownloads {
    /// Downloads through `inner`, counting into `counts`.
    pub fn new(inner: Arc<dyn Downloads>, counts: Counts) -> Self {
        Self { inner, counts }
    }

    fn count(&self, url: &str) {
        let host = url
            .split_once("://")
            .map_or(url, |(_, rest)| rest)
            .split('/')
            .next()
            .unwrap_or_default();
        self.counts.add(format!("download:{host}"));
    }
}

#[async_trait]
impl Downloads for CountedDownloads {
    async fn digest(&self, url: &str) -> Result<Digested, DownloadError> {
        self.count(url);
        self.inner.digest(url).await
    }

    async fn small_file(&self, url: &str, max_bytes: u64) -> Result<Bytes, DownloadError> {
        self.count(url);
        self.inner.small_file(url, max_bytes).await
    }
}

#[cfg(test)]
mod tests {
    use valkey_bot_testkit::MemoryGitHub;
    use valkey_bot_testkit::contract;

    use super::*;

    #[tokio::test]
    async fn the_memo_keeps_the_read_contract_and_asks_each_question_once() {
        let github = MemoryGitHub::default();
        let repo = RepoId::parse("acme/images").expect("a valid name");
        let world = contract::seed_memory(&github, &repo);
        let counts = Counts::default();
        let memo = MemoRead::new(Arc::new(github), counts.clone());
        contract::check_reads(&memo, &world).await;
        let asked = counts.snapshot();
        assert!(
            asked.get("acme/images").is_some_and(|n| *n > 0),
            "{asked:?}"
        );
        // The same questions again are answered from the memo, the same way.
        contract::check_reads(&memo, &world).await;
        assert_eq!(counts.snapshot(), asked);
    }
}
