//! A local GitHub: GitHub's REST API (the subset the bot uses) served over real git repositories
//! on disk, with App authentication, a programmable fault plan and a request log for tests.
//!
//! Repositories are `ROOT/<owner>/<repo>.git` (bare) or `ROOT/<owner>/<repo>` (with a work tree).
//! Issues, pull requests, comments, dispatches and workflow runs persist in
//! `ROOT/_sandbox/state.json`; workflow runs end as `ROOT/_sandbox/workflows.json` says;
//! static downloads are served from `ROOT/_downloads/`. Repositories are public unless marked
//! private ([`set_private`]).
//!
//! It reads and writes them with the `git` command line (2.36 or later: reads go to one
//! long-running `git cat-file --batch-command` per repository; writes each run their own `git`).

mod api;
mod auth;
mod catfile;
#[cfg(feature = "contract")]
pub mod contract;
mod control;
mod error;
mod etag;
mod faults;
mod git;
mod lag;
mod log;
mod pipeline;
mod renames;
mod repo;
mod rules;
mod server;
mod shared;
mod state;
mod web;
mod workflows;

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use error::SandboxError;
pub use faults::{FaultAction, FaultRule, Faults};
pub use log::LoggedRequest;
pub use rules::{BranchRule, Rulesets};
pub use state::{
    Comment, Dispatch, Issue, Label, PullRequest, RepoState, SandboxState, WorkflowRunRecord,
};
pub use workflows::{Outcome as WorkflowRunOutcome, WorkflowOutcome, WorkflowOutcomes};

use crate::auth::Auth;
use crate::error::ApiError;
use crate::log::RequestLog;
use crate::repo::Repos;
use crate::shared::Shared;
use crate::state::Store;

/// Where the sandbox keeps its data and where it listens.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The folder holding `<owner>/<repo>(.git)`, `_sandbox/` and `_downloads/`.
    pub root: PathBuf,
    /// The address to bind; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The GitHub App whose JWTs and installation tokens are accepted; `None` = no auth at all
    /// (any token has full access, like a classic personal token).
    pub app: Option<AppConfig>,
    /// With an App: how many requests without a token are answered per hour (GitHub's 60);
    /// the next is refused as GitHub refuses it.
    pub public_rate_limit: u64,
    /// Tokens that act as a workflow's `GITHUB_TOKEN`, each confined to its repository (App or
    /// not): public repositories read, private ones elsewhere 404, writes elsewhere 403.
    pub workflow_tokens: Vec<WorkflowToken>,
}

impl SandboxConfig {
    /// A config for `root`, listening on `127.0.0.1:0`, without an App.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            app: None,
            public_rate_limit: PUBLIC_RATE_LIMIT,
            workflow_tokens: Vec::new(),
        }
    }

    /// Declares `token` a workflow token of `repository` (`OWNER/NAME`), as GitHub Actions
    /// gives a workflow running there; see [`SandboxConfig::workflow_tokens`].
    #[must_use]
    pub fn with_workflow_token(
        mut self,
        token: impl Into<String>,
        repository: impl Into<String>,
    ) -> Self {
        self.workflow_tokens.push(WorkflowToken {
            token: token.into(),
            repository: repository.into(),
        });
        self
    }
}

/// A token the sandbox treats as the `GITHUB_TOKEN` of a workflow running in `repository`: it
/// acts as `github-actions[bot]` with contents, issues and pull requests write there, and, as on
/// GitHub, reads other public repositories (200), does not see other private ones (404) and may
/// not write anywhere else (403 `Resource not accessible by integration`).
#[derive(Clone)]
pub struct WorkflowToken {
    /// The token, as sent in `Authorization` (never shown by `Debug`).
    pub token: String,
    /// `OWNER/NAME` of the repository the workflow runs in.
    pub repository: String,
}

impl std::fmt::Debug for WorkflowToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WorkflowToken")
            .field("token", &"<redacted>")
            .field("repository", &self.repository)
            .finish()
    }
}

/// GitHub's hourly rate limit for requests without a token.
pub const PUBLIC_RATE_LIMIT: u64 = 60;

/// The GitHub App the sandbox plays the server side of.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// The App id (the JWT's `iss`).
    pub app_id: u64,
    /// The App slug; its bot user is `<slug>[bot]`.
    pub slug: String,
    /// The App's RSA public key, PEM (`-----BEGIN PUBLIC KEY-----` or `RSA PUBLIC KEY`).
    pub public_key_pem: String,
}

/// Makes `ROOT/<owner>/<name>` private (`private = true`) or public again (the default).
///
/// A private repository is seen only by installation tokens whose scope covers it: any other
/// token gets 404, as on GitHub. A public one is readable with any token. The mark is the file
/// `sandbox-private` in the repository's git directory, so it survives restarts.
pub fn set_private(
    root: &std::path::Path,
    owner: &str,
    name: &str,
    private: bool,
) -> Result<(), SandboxError> {
    let path = root.join(owner).join(name);
    match Repos::new(root.to_path_buf()).set_private(owner, name, private) {
        Ok(true) => Ok(()),
        Ok(false) => Err(SandboxError::Io {
            path,
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such repository"),
        }),
        Err(source) => Err(SandboxError::Io { path, source }),
    }
}

/// Starts sandboxes.
pub struct Sandbox;

impl Sandbox {
    /// Binds `config.listen` and serves in the background on the current tokio runtime.
    pub async fn start(config: SandboxConfig) -> Result<RunningSandbox, SandboxError> {
        if !config.root.is_dir() {
            return Err(SandboxError::Root(config.root));
        }
        let state_dir = config.root.join("_sandbox");
        std::fs::create_dir_all(&state_dir).map_err(|source| SandboxError::Io {
            path: state_dir.clone(),
            source,
        })?;
        let store = Store::load(state_dir.join("state.json"))?;
        let rulesets = Rulesets::load(&state_dir.join("rulesets.json"))?;
        let workflow_outcomes = WorkflowOutcomes::load(&state_dir.join("workflows.json"))?;
        let auth = Auth::new(config.app, &config.workflow_tokens)?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|source| SandboxError::Bind {
                addr: config.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SandboxError::Bind {
            addr: config.listen,
            source,
        })?;
        let base_url = format!("http://{addr}");
        let shared = Arc::new(Shared {
            repos: Repos::new(config.root.clone()),
            store,
            auth,
            faults: Faults::default(),
            rulesets,
            workflow_outcomes,
            renames: renames::Renames::default(),
            log: RequestLog::default(),
            archives: Mutex::new(HashMap::new()),
            downloads_dir: config.root.join("_downloads"),
            base_url: base_url.clone(),
            api_requests: AtomicU64::new(0),
            public_requests: AtomicU64::new(0),
            public_rate_limit: config.public_rate_limit,
            rate_reset: auth::unix_seconds(SystemTime::now() + Duration::from_secs(3600)),
            #[cfg(feature = "contract")]
            contract: contract::Contract::default(),
        });
        let router = Router::new()
            .nest("/api/v3", api::router())
            .merge(web::router())
            .merge(control::router())
            .fallback(not_found)
            .method_not_allowed_fallback(not_found)
            .layer(axum::middleware::from_fn_with_state(
                shared.clone(),
                pipeline::pipeline,
            ))
            .with_state(shared.clone());
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(server::serve(listener, router, stopped));
        Ok(RunningSandbox {
            base_url,
            shared,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

async fn not_found() -> ApiError {
    ApiError::not_found()
}

/// A sandbox serving in the background; dropping it stops the server too.
pub struct RunningSandbox {
    base_url: String,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningSandbox {
    /// `http://127.0.0.1:PORT`: the web routes (archives, raw files, `_downloads`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `<base>/api/v3`: the REST API, as on GitHub Enterprise Server.
    pub fn api_url(&self) -> String {
        self.shared.api_url()
    }

    /// The fault plan; rules added here apply to the next matching requests.
    pub fn faults(&self) -> Faults {
        self.shared.faults.clone()
    }

    /// The branch rulesets in force (from `ROOT/_sandbox/rulesets.json`, and added here).
    pub fn rulesets(&self) -> Rulesets {
        self.shared.rulesets.clone()
    }

    /// How simulated workflow runs end (from `ROOT/_sandbox/workflows.json`, and set here).
    pub fn workflow_outcomes(&self) -> WorkflowOutcomes {
        self.shared.workflow_outcomes.clone()
    }

    /// Every request so far (control routes under `/_sandbox` excepted).
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.shared.log.entries()
    }

    /// From now on, checks every API answer and request body against GitHub's own description
    /// (see [`contract`]); [`RunningSandbox::contract_violations`] lists what did not match.
    #[cfg(feature = "contract")]
    pub fn check_contract(&self) {
        self.shared.contract.enable();
    }

    /// Every answer or request body seen since [`RunningSandbox::check_contract`] that is not
    /// GitHub's shape for its operation and status.
    #[cfg(feature = "contract")]
    pub fn contract_violations(&self) -> Vec<contract::Violation> {
        self.shared.contract.violations()
    }

    /// How many API exchanges the contract check has validated (proves a test's check ran).
    #[cfg(feature = "contract")]
    pub fn contract_exchanges_checked(&self) -> u64 {
        self.shared.contract.checked()
    }

    /// `None` when the contract check validated at least one exchange and found nothing; else
    /// what to fail a test with: every violation, one a line.
    #[cfg(feature = "contract")]
    pub fn contract_report(&self) -> Option<String> {
        if self.contract_exchanges_checked() == 0 {
            return Some("the contract check saw no exchange".to_owned());
        }
        let violations = self.contract_violations();
        (!violations.is_empty()).then(|| {
            let lines: Vec<String> = violations.iter().map(ToString::to_string).collect();
            format!(
                "{} exchange(s) differ from GitHub's description:\n{}",
                violations.len(),
                lines.join("\n")
            )
        })
    }

    /// Sets what the App may do from now on (GitHub's names and levels, e.g.
    /// `[("contents", "write"), ("issues", "read")]`; `metadata: read` always): `GET /app`,
    /// `GET /repos/{o}/{r}/installation` show it and no token can exceed it. Tokens issued
    /// before keep theirs. The App starts with contents, issues and pull requests `write`.
    pub fn set_app_permissions(&self, permissions: &[(&str, &str)]) -> Result<(), SandboxError> {
        self.shared
            .auth
            .set_app_permissions(permissions)
            .map_err(SandboxError::Setup)
    }

    /// Leaves `repository` (`owner/name`) out of the App's installation (as a "selected
    /// repositories" installation without it): its installation lookup answers 404 and no new
    /// token covers it.
    pub fn uninstall_app(&self, repository: &str) {
        self.shared.auth.uninstall(repository);
    }

    /// Revokes every installation token issued so far: the next request with one gets 401
    /// `Bad credentials`, as after a revocation on GitHub.
    pub fn revoke_tokens(&self) {
        self.shared.auth.revoke_tokens();
    }

    /// Renames repository `owner/old` to `owner/new`, as GitHub's settings do: the repository,
    /// its issues and pull requests move to the new name, and API requests on the old one answer
    /// `301 Moved Permanently` (`307` for writes) to the new one (see `renames.rs`).
    pub async fn rename_repository(
        &self,
        owner: &str,
        old: &str,
        new: &str,
    ) -> Result<(), SandboxError> {
        let path = self.shared.repos.root().join(owner).join(old);
        match self.shared.repos.rename(owner, old, new) {
            Ok(true) => {}
            Ok(false) => {
                return Err(SandboxError::Io {
                    path,
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        format!("no such repository, or `{new}` is taken or not a valid name"),
                    ),
                });
            }
            Err(source) => return Err(SandboxError::Io { path, source }),
        }
        let (old_name, new_name) = (format!("{owner}/{old}"), format!("{owner}/{new}"));
        let moved = (old_name.clone(), new_name.clone());
        self.shared
            .store
            .update(move |state| {
                if let Some(repo) = state.repos.remove(&moved.0) {
                    state.repos.insert(moved.1, repo);
                }
                Ok(())
            })
            .await
            .map_err(|error| SandboxError::Io {
                path: self.shared.repos.root().join("_sandbox"),
                source: std::io::Error::other(error.message),
            })?;
        self.shared.renames.add(&old_name, &new_name);
        Ok(())
    }

    /// Changes the recorded pull requests, issues, comments and dispatches behind the API's
    /// back, as someone else's work would (another automation's pull request, a merge on the
    /// web): how tests and rehearsals stage what the bot finds. The change is persisted.
    pub async fn edit_state<R: Send>(
        &self,
        change: impl FnOnce(&mut SandboxState) -> R + Send,
    ) -> Result<R, SandboxError> {
        self.shared
            .store
            .update(|state| Ok(change(state)))
            .await
            .map_err(|error| SandboxError::Io {
                path: self.shared.repos.root().join("_sandbox"),
                source: std::io::Error::other(error.message),
            })
    }

    /// A copy of the pull requests, issues, comments and dispatches recorded so far.
    pub async fn state(&self) -> SandboxState {
        self.shared.store.snapshot().await
    }

    /// Stops accepting, closes open connections and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            // The server may already have stopped; either way it is stopping now.
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            // A server task that panicked has stopped all the same.
            let _ = task.await;
        }
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Runs a sandbox until Ctrl-C (for `valkey-bot sandbox --root DIR [--listen ADDR]`); prints nothing.
pub async fn serve_forever(config: SandboxConfig) -> Result<(), SandboxError> {
    let running = Sandbox::start(config).await?;
    let waited = tokio::signal::ctrl_c().await;
    running.shutdown().await;
    waited.map_err(SandboxError::Signal)
}
