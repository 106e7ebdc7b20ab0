//! [`GitHub`]: the one connection a run makes, handing out a [`GitHubClient`] per token scope.

use std::sync::Arc;

use tokio::sync::OnceCell;
use valkey_bot_core::github::{GitHubError, Identity};

use crate::api::Api;
use crate::auth::{
    ActionsMask, AuthError, Authority, Clock, Credentials, MaskSink, SystemClock, TokenScope,
};
use crate::client::GitHubClient;
use crate::config::GitHubConfig;
use crate::observe::ExchangeObserver;
use crate::retry::{Sleeper, TokioSleeper};
use crate::transport::TransportError;

/// Why a [`GitHub`] could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// The HTTP client could not be built.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The credentials are unusable.
    #[error(transparent)]
    Auth(#[from] AuthError),
}

/// Replaceable parts, for tests.
#[derive(Debug, Clone, Default)]
pub struct Hooks {
    /// Waits between retries (default: `tokio::time::sleep`).
    pub sleeper: Option<Arc<dyn Sleeper>>,
    /// Receives minted tokens when `in_actions` is set (default: `::add-mask::` on stdout).
    pub mask: Option<Arc<dyn MaskSink>>,
    /// Decides when cached tokens are refreshed (default: the system clock).
    pub clock: Option<Arc<dyn Clock>>,
    /// Sees every answered API exchange, token minting included (default: none; the smoke
    /// check validates real GitHub's answers with it).
    pub observer: Option<Arc<dyn ExchangeObserver>>,
}

/// An installation of the App, as GitHub describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installation {
    /// Its id.
    pub id: u64,
    /// What it grants, GitHub's names and levels (`contents` → `write`).
    pub permissions: std::collections::BTreeMap<String, String>,
}

/// A connection to one GitHub (or GitHub Enterprise Server, or the sandbox) with one identity.
#[derive(Debug, Clone)]
pub struct GitHub {
    authority: Arc<Authority>,
    config: GitHubConfig,
    identity: Arc<OnceCell<Identity>>,
}

impl GitHub {
    /// Connects with `credentials`. For a plain token this logs a warning: least privilege is
    /// not enforced.
    pub fn new(config: GitHubConfig, credentials: &Credentials) -> Result<Self, SetupError> {
        Self::with_hooks(config, credentials, Hooks::default())
    }

    /// Like [`GitHub::new`], with replaced parts.
    pub fn with_hooks(
        config: GitHubConfig,
        credentials: &Credentials,
        hooks: Hooks,
    ) -> Result<Self, SetupError> {
        let sleeper = hooks.sleeper.unwrap_or_else(|| Arc::new(TokioSleeper));
        let mask = config
            .in_actions
            .then(|| hooks.mask.unwrap_or_else(|| Arc::new(ActionsMask)));
        let api = Api::new(&config, sleeper, hooks.observer)?;
        let clock = hooks.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let authority = Authority::new(api, credentials, mask, clock)?;
        Ok(Self {
            authority: Arc::new(authority),
            config,
            identity: Arc::new(OnceCell::new()),
        })
    }

    /// What this connection has spent of GitHub's rate limit, as GitHub last announced it.
    pub fn quota(&self) -> crate::Quota {
        self.authority.api().quota()
    }

    /// The configuration it was made with.
    pub fn config(&self) -> &GitHubConfig {
        &self.config
    }

    /// Revokes every installation token this connection minted (`DELETE /installation/token`)
    /// and forgets them; call it when the run ends, whatever its outcome. Nothing for a plain
    /// token. Returns how many tokens were revoked.
    pub async fn revoke_tokens(&self) -> usize {
        self.authority.revoke_all().await
    }

    /// The App's installation covering `repo` (`GET /repos/{o}/{r}/installation` with the App's
    /// JWT): `None` when the App is not installed there (404). An error for a plain token.
    pub async fn installation_on(
        &self,
        repo: &valkey_bot_core::RepoId,
    ) -> Result<Option<Installation>, GitHubError> {
        let jwt = self.authority.app_jwt()?;
        let path = format!(
            "/repos/{}/{}/installation",
            crate::transport::encode_path(repo.owner()),
            crate::transport::encode_path(repo.name())
        );
        match self
            .authority
            .api()
            .call_json::<(), crate::wire::Installation>(
                http::Method::GET,
                &path,
                Some(&jwt),
                None,
                crate::retry::Idempotency::Idempotent,
            )
            .await
        {
            Ok(installation) => Ok(Some(Installation {
                id: installation.id,
                permissions: installation.permissions,
            })),
            Err(GitHubError::NotFound(_)) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// A client whose token covers exactly `scope` (for an App: minted now, narrowed to the
    /// scope's repositories and permissions, masked in Actions, cached and refreshed 5 minutes
    /// before it expires). For a plain token the scope is not enforced.
    pub async fn client_for(&self, scope: TokenScope) -> Result<GitHubClient, GitHubError> {
        self.authority.token_for(&scope).await?;
        Ok(GitHubClient::new(
            self.authority.clone(),
            scope,
            self.config.in_actions,
            self.identity.clone(),
        ))
    }
}
