//! The state every handler shares, and the URLs the sandbox writes into its answers.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::AtomicU64;

use bytes::Bytes;

use crate::auth::{Access, Auth, Caller, Permission};
use crate::error::ApiError;
use crate::faults::Faults;
use crate::log::RequestLog;
use crate::renames::Renames;
use crate::repo::{Repo, Repos};
use crate::rules::Rulesets;
use crate::state::Store;

/// A cached source archive: its bytes and their strong ETag.
#[derive(Debug, Clone)]
pub(crate) struct CachedArchive {
    pub(crate) bytes: Bytes,
    pub(crate) etag: String,
}

/// Everything a request handler can reach.
pub(crate) struct Shared {
    pub(crate) repos: Repos,
    pub(crate) store: Store,
    pub(crate) auth: Auth,
    pub(crate) faults: Faults,
    /// Branches that require pull requests.
    pub(crate) rulesets: Rulesets,
    /// Repositories renamed since the start: their old names redirect.
    pub(crate) renames: Renames,
    pub(crate) log: RequestLog,
    /// Keyed by (`owner/repo`, tag, tag object id), so a moved tag gets a new archive.
    pub(crate) archives: Mutex<HashMap<(String, String, String), CachedArchive>>,
    pub(crate) downloads_dir: PathBuf,
    pub(crate) base_url: String,
    /// API requests answered so far (drives `x-ratelimit-remaining`).
    pub(crate) api_requests: AtomicU64,
    /// Of those, requests without a token (an App configured): they have their own limit.
    pub(crate) public_requests: AtomicU64,
    /// The hourly limit of requests without a token.
    pub(crate) public_rate_limit: u64,
    /// The Unix time the rate-limit window resets.
    pub(crate) rate_reset: u64,
    /// The check against GitHub's description (off until a test turns it on).
    #[cfg(feature = "contract")]
    pub(crate) contract: crate::contract::Contract,
}

impl Shared {
    /// `<base>/api/v3`.
    pub(crate) fn api_url(&self) -> String {
        format!("{}/api/v3", self.base_url)
    }

    /// `<base>/api/v3/repos/<owner>/<repo>`.
    pub(crate) fn repo_api_url(&self, repo: &Repo) -> String {
        format!("{}/repos/{}/{}", self.api_url(), repo.owner, repo.name)
    }

    /// `<base>/<owner>/<repo>`.
    pub(crate) fn html_url(&self, repo: &Repo) -> String {
        format!("{}/{}/{}", self.base_url, repo.owner, repo.name)
    }

    /// Opens `owner/repo` (404 if missing, or private and outside the caller's scope) and checks
    /// the caller may do one of `needs` (403 if not).
    pub(crate) fn open(
        &self,
        owner: &str,
        repo: &str,
        caller: &Caller,
        needs: &[(Permission, Access)],
    ) -> Result<Repo, ApiError> {
        let opened = self.repos.open(owner, repo)?;
        caller.require(&opened, needs)?;
        Ok(opened)
    }
}
