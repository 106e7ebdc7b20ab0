//! The GitHub client of valkey-bot: the narrow traits of `valkey_bot_core::github` over GitHub's
//! REST API (through octocrab's raw calls), with
//! - least privilege: a GitHub App token minted per [`TokenScope`] (repositories + permissions),
//!   cached and refreshed, masked in GitHub Actions ([`auth`]);
//! - our own retry policy that never repeats a create that may have taken effect ([`retry`]);
//! - commits created through the git data API without an author, so GitHub signs them;
//! - [`ReadOnly`], which refuses every write (dry runs).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::collections::BTreeMap;
//! use valkey_bot_core::config::{Access, Permission};
//! use valkey_bot_core::github::RepoRead;
//! use valkey_bot_github::{Credentials, GitHub, GitHubConfig, TokenScope};
//!
//! let github = GitHub::new(GitHubConfig::from_env(), &Credentials::from_env()?)?;
//! let repo = "valkey-io/valkey-hashes".parse()?;
//! let scope = TokenScope::new(repo, BTreeMap::from([(Permission::Contents, Access::Write)]));
//! let client = github.client_for(scope).await?;
//! let head = client.branch_head(&"valkey-io/valkey-hashes".parse()?, "main").await?;
//! # let _ = head; Ok(()) }
//! ```

mod api;
pub mod auth;
mod cache;
mod client;
pub mod config;
mod connect;
mod error;
pub mod observe;
mod quota;
mod readonly;
pub mod retry;
mod transport;
mod wire;

pub use auth::{ActionsMask, AuthError, Clock, Credentials, MaskSink, SystemClock, TokenScope};
pub use client::{BranchRule, GitHubClient};
pub use config::GitHubConfig;
pub use connect::{GitHub, Hooks, Installation, SetupError};
pub use observe::{Exchange, ExchangeObserver};
pub use quota::Quota;
pub use readonly::ReadOnly;
pub use retry::{Idempotency, RecordingSleeper, RetryPolicy, Sleeper, TokioSleeper};
pub use transport::TransportError;
