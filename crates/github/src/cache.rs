//! Conditional reads: every successful GET answer that carries an `ETag` is kept (in memory, and
//! on disk when a directory is configured) and the next GET of the same URL sends it back in
//! `If-None-Match`; a `304 Not Modified` is then answered from the kept body. GitHub does not
//! count an authorized 304 against the primary rate limit, so a second audit or plan costs
//! almost nothing.
//!
//! Answers whose URL names a git object by its full SHA (a blob, tree or commit, contents at a
//! commit, a comparison of two commits) can never change: they are served from the cache
//! without asking at all. That matters for anonymous callers, whose 304s GitHub *does* count.
//!
//! The cache is keyed by URL only, never by token: a 304 is GitHub's statement that the body
//! kept for that ETag is current *for the caller who asked*, and it checks access before
//! answering one. The disk files hold API answers as they came; keep the directory as private as
//! the repositories the token reads (valkey-io's are all public).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One kept answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Kept {
    /// The URL, for people reading the file (the file's name is the SHA-256 of it).
    pub(crate) url: String,
    /// The validator GitHub sent, sent back as it was (`W/"…"` included).
    pub(crate) etag: String,
    /// The `Link` header (pagination), if there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) link: Option<String>,
    /// The body (GitHub's API answers JSON, so UTF-8).
    pub(crate) body: String,
}

/// Answers kept by URL.
#[derive(Debug, Default)]
pub(crate) struct ResponseCache {
    dir: Option<PathBuf>,
    memory: Mutex<HashMap<String, Arc<Kept>>>,
}

/// The sub-directory of the cache directory that holds API answers (downloads keep theirs
/// beside it).
const API_DIR: &str = "github-api";

impl ResponseCache {
    /// A cache in memory, and in `dir` (created when first written) if given.
    pub(crate) fn new(dir: Option<&Path>) -> Self {
        Self {
            dir: dir.map(|dir| dir.join(API_DIR)),
            memory: Mutex::default(),
        }
    }

    /// The answer kept for `url`, from memory or disk. An unreadable or corrupt file is warned
    /// about and ignored: the cache only saves work.
    pub(crate) async fn load(&self, url: &str) -> Option<Arc<Kept>> {
        if let Some(kept) = self.memory().get(url) {
            return Some(Arc::clone(kept));
        }
        let path = self.path_for(url)?;
        let text = match tokio::fs::read(&path).await {
            Ok(text) => text,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return None,
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "cannot read a kept GitHub answer, ignoring it");
                return None;
            }
        };
        match serde_json::from_slice::<Kept>(&text) {
            Ok(kept) if kept.url == url => {
                let kept = Arc::new(kept);
                self.memory().insert(url.to_owned(), Arc::clone(&kept));
                Some(kept)
            }
            Ok(_) => None,
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "corrupt kept GitHub answer, ignoring it");
                None
            }
        }
    }

    /// Keeps `kept` for its URL, replacing what was there (atomically on disk).
    pub(crate) async fn store(&self, kept: Kept) {
        let kept = Arc::new(kept);
        self.memory().insert(kept.url.clone(), Arc::clone(&kept));
        let Some(path) = self.path_for(&kept.url) else {
            return;
        };
        if let Err(error) = write_atomically(&path, &kept).await {
            tracing::warn!(path = %path.display(), %error, "cannot keep a GitHub answer on disk");
        }
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Kept>>> {
        self.memory.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn path_for(&self, url: &str) -> Option<PathBuf> {
        let dir = self.dir.as_ref()?;
        Some(dir.join(format!("{:x}.json", Sha256::digest(url.as_bytes()))))
    }
}

async fn write_atomically(path: &Path, kept: &Kept) -> std::io::Result<()> {
    let mut json = serde_json::to_vec_pretty(kept)?;
    json.push(b'\n');
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    let tmp = path.with_extension(format!("json.tmp.{}", std::process::id()));
    tokio::fs::write(&tmp, &json).await?;
    tokio::fs::rename(&tmp, path).await
}

/// Whether the answer to `GET path_and_query` can never change: it names a git object (blob,
/// tree, commit), the contents at a commit, or a comparison of two commits, by full SHA.
pub(crate) fn is_immutable(path_and_query: &str) -> bool {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let segments: Vec<&str> = path.split('/').collect();
    let names_object = segments.windows(3).any(|window| {
        window[0] == "git"
            && matches!(window[1], "blobs" | "trees" | "commits")
            && is_sha(window[2])
    });
    let contents_at_commit = segments.contains(&"contents")
        && query
            .split('&')
            .any(|pair| pair.strip_prefix("ref=").is_some_and(is_sha));
    let compares_commits = segments.windows(2).any(|window| {
        window[0] == "compare"
            && window[1]
                .split_once("...")
                .is_some_and(|(base, head)| is_sha(base) && is_sha(head))
    });
    // A tree read recursively is still one object; other query parameters do not change that.
    names_object || contents_at_commit || compares_commits
}

/// A full 40-hex-digit SHA-1 (a branch or tag name never looks like one on GitHub: it refuses
/// to create such refs).
fn is_sha(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

    fn kept(url: &str, body: &str) -> Kept {
        Kept {
            url: url.to_owned(),
            etag: "W/\"abc\"".to_owned(),
            link: None,
            body: body.to_owned(),
        }
    }

    #[test]
    fn answers_named_by_a_full_sha_are_immutable_and_the_rest_are_not() {
        for path in [
            format!("/repos/o/r/git/blobs/{SHA}"),
            format!("/repos/o/r/git/trees/{SHA}?recursive=1"),
            format!("/repos/o/r/git/commits/{SHA}"),
            format!("/repos/o/r/contents/9.0/debian/Dockerfile?ref={SHA}"),
            format!("/repos/o/r/compare/{SHA}...{SHA}"),
        ] {
            assert!(is_immutable(&path), "{path}");
        }
        for path in [
            "/repos/o/r/git/ref/heads/main".to_owned(),
            "/repos/o/r/contents/README?ref=main".to_owned(),
            format!("/repos/o/r/compare/main...{SHA}"),
            "/repos/o/r/git/trees/main".to_owned(),
            format!("/repos/o/r/git/blobs/{}", &SHA[..39]),
            "/repos/o/r/pulls?head=o:update-9.0.3&state=all".to_owned(),
        ] {
            assert!(!is_immutable(&path), "{path}");
        }
    }

    #[tokio::test]
    async fn a_kept_answer_survives_on_disk_and_a_corrupt_file_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let url = "https://api.github.com/repos/o/r/contents/README?ref=main";
        ResponseCache::new(Some(dir.path()))
            .store(kept(url, "{\"a\":1}"))
            .await;
        let again = ResponseCache::new(Some(dir.path()));
        assert_eq!(again.load(url).await.unwrap().body, "{\"a\":1}");
        assert!(again.load("https://api.github.com/other").await.is_none());

        let file = std::fs::read_dir(dir.path().join(API_DIR))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        std::fs::write(&file, b"{not json").unwrap();
        assert!(
            ResponseCache::new(Some(dir.path()))
                .load(url)
                .await
                .is_none()
        );
    }

    #[tokio::test]
    async fn without_a_directory_answers_are_kept_in_memory_only() {
        let cache = ResponseCache::new(None);
        cache.store(kept("u", "b")).await;
        assert_eq!(cache.load("u").await.unwrap().body, "b");
        assert!(ResponseCache::new(None).load("u").await.is_none());
    }
}
