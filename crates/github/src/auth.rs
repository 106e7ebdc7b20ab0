//! Who we are to GitHub, with least privilege: an App's JWT exchanged for installation tokens
//! narrowed to one [`TokenScope`] each, cached until 5 minutes before they expire; or, as a
//! fallback, a plain token used as it is.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::Method;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use tokio::sync::Mutex;
use valkey_bot_core::RepoId;
use valkey_bot_core::config::{Access, Permission};
use valkey_bot_core::github::GitHubError;

use crate::api::Api;
use crate::retry::Idempotency;
use crate::transport::encode_path;
use crate::wire;

/// A cached installation token is replaced this long before it expires.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(5 * 60);

/// How the bot proves who it is.
#[derive(Clone)]
pub enum Credentials {
    /// A GitHub App: every token is minted for one [`TokenScope`].
    App {
        /// The App's numeric id.
        app_id: u64,
        /// Its private key, PEM (`-----BEGIN RSA PRIVATE KEY-----` or PKCS#8).
        private_key: SecretString,
    },
    /// A ready token (`GITHUB_TOKEN`): least privilege is NOT enforced, the token's own rights apply.
    Token(SecretString),
    /// No credential at all: public repositories are read anonymously (60 requests an hour on
    /// github.com), and GitHub refuses every write. Only `valkey-bot plan` uses it.
    Anonymous {
        /// The App whose bot user the sign-offs would name (its public profile is read).
        app_slug: String,
    },
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::App { app_id, .. } => f
                .debug_struct("App")
                .field("app_id", app_id)
                .field("private_key", &"[REDACTED]")
                .finish(),
            Self::Token(_) => f.debug_tuple("Token").field(&"[REDACTED]").finish(),
            Self::Anonymous { app_slug } => f
                .debug_struct("Anonymous")
                .field("app_slug", app_slug)
                .finish(),
        }
    }
}

/// Why credentials could not be read or used.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Neither App nor token variables are set.
    #[error(
        "no GitHub credentials: set VALKEY_BOT_APP_ID with VALKEY_BOT_APP_PRIVATE_KEY or VALKEY_BOT_APP_PRIVATE_KEY_PATH, or GITHUB_TOKEN"
    )]
    Missing,
    /// `VALKEY_BOT_APP_ID` is not a number.
    #[error("VALKEY_BOT_APP_ID is not a number: {0:?}")]
    BadAppId(String),
    /// An App id without a private key.
    #[error(
        "VALKEY_BOT_APP_ID is set but neither VALKEY_BOT_APP_PRIVATE_KEY nor VALKEY_BOT_APP_PRIVATE_KEY_PATH is"
    )]
    MissingKey,
    /// The key file could not be read.
    #[error("cannot read the App private key {path}: {source}")]
    KeyFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The key is not an RSA PEM key.
    #[error("the App private key is not a valid RSA PEM key: {0}")]
    BadKey(String),
}

impl Credentials {
    /// Reads `VALKEY_BOT_APP_ID` + `VALKEY_BOT_APP_PRIVATE_KEY` (PEM text) or
    /// `VALKEY_BOT_APP_PRIVATE_KEY_PATH` (a PEM file); else `GITHUB_TOKEN`.
    pub fn from_env() -> Result<Self, AuthError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Credentials::from_env`], with the variables given by `lookup`.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, AuthError> {
        let var = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        if let Some(id) = var("VALKEY_BOT_APP_ID") {
            let app_id = id.trim().parse().map_err(|_| AuthError::BadAppId(id))?;
            let private_key = if let Some(pem) = var("VALKEY_BOT_APP_PRIVATE_KEY") {
                pem
            } else if let Some(path) = var("VALKEY_BOT_APP_PRIVATE_KEY_PATH") {
                let path = PathBuf::from(path);
                std::fs::read_to_string(&path)
                    .map_err(|source| AuthError::KeyFile { path, source })?
            } else {
                return Err(AuthError::MissingKey);
            };
            return Ok(Self::App {
                app_id,
                private_key: private_key.into(),
            });
        }
        var("GITHUB_TOKEN")
            .map(|token| Self::Token(token.into()))
            .ok_or(AuthError::Missing)
    }
}

/// What one token may do: these repositories (all of one owner), these permissions.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TokenScope {
    /// The repositories the token may touch.
    pub repositories: Vec<RepoId>,
    /// The permissions it has on them.
    pub permissions: BTreeMap<Permission, Access>,
}

impl TokenScope {
    /// A scope of one repository.
    pub fn new(repository: RepoId, permissions: BTreeMap<Permission, Access>) -> Self {
        Self {
            repositories: vec![repository],
            permissions,
        }
    }
}

/// Receives every minted token before its first use, to hide it from logs.
pub trait MaskSink: Send + Sync + fmt::Debug {
    /// Hides `secret` in all later log output.
    fn mask(&self, secret: &str);
}

/// Prints `::add-mask::<secret>` to standard output: the GitHub Actions workflow command.
#[derive(Debug, Clone, Copy, Default)]
pub struct ActionsMask;

impl MaskSink for ActionsMask {
    fn mask(&self, secret: &str) {
        let mut stdout = std::io::stdout().lock();
        // A failed write to stdout cannot be reported anywhere better; the token is still used.
        let _ = writeln!(stdout, "::add-mask::{secret}");
        let _ = stdout.flush();
    }
}

/// Tells the time for token expiry checks; injectable so tests can move past an expiry. (JWTs
/// are always signed with the real time: GitHub checks them.)
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> SystemTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A minted token and when it expires.
struct Minted {
    token: SecretString,
    expires_at: SystemTime,
}

/// Whether a token expiring at `expires_at` may still be handed out at `now`.
pub(crate) fn is_fresh(expires_at: SystemTime, now: SystemTime) -> bool {
    now + REFRESH_MARGIN < expires_at
}

/// JWT claims for an App.
#[derive(Serialize)]
struct Claims {
    iat: u64,
    exp: u64,
    iss: String,
}

/// The App side of [`Authority`].
struct AppAuth {
    app_id: u64,
    key: EncodingKey,
    installations: Mutex<HashMap<String, u64>>,
    tokens: Mutex<HashMap<TokenScope, Minted>>,
}

/// Hands out the bearer token for a scope: mints, masks and caches App tokens.
pub(crate) struct Authority {
    api: Api,
    mask: Option<Arc<dyn MaskSink>>,
    clock: Arc<dyn Clock>,
    kind: AuthKind,
}

enum AuthKind {
    App(AppAuth),
    Token(SecretString),
    Anonymous { app_slug: String },
}

impl fmt::Debug for Authority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            AuthKind::App(app) => format!("App({})", app.app_id),
            AuthKind::Token(_) => "Token([REDACTED])".to_owned(),
            AuthKind::Anonymous { .. } => "Anonymous".to_owned(),
        };
        f.debug_struct("Authority").field("kind", &kind).finish()
    }
}

impl Authority {
    /// An authority for `credentials`; `mask` receives each minted token (inside Actions);
    /// `clock` decides when a cached token is too old.
    pub(crate) fn new(
        api: Api,
        credentials: &Credentials,
        mask: Option<Arc<dyn MaskSink>>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, AuthError> {
        let kind = match credentials {
            Credentials::App {
                app_id,
                private_key,
            } => {
                let key = EncodingKey::from_rsa_pem(private_key.expose_secret().as_bytes())
                    .map_err(|error| AuthError::BadKey(error.to_string()))?;
                AuthKind::App(AppAuth {
                    app_id: *app_id,
                    key,
                    installations: Mutex::new(HashMap::new()),
                    tokens: Mutex::new(HashMap::new()),
                })
            }
            Credentials::Token(token) => {
                tracing::warn!(
                    "using a plain GitHub token: least privilege is not enforced, every task gets all of the token's rights"
                );
                AuthKind::Token(token.clone())
            }
            Credentials::Anonymous { app_slug } => AuthKind::Anonymous {
                app_slug: app_slug.clone(),
            },
        };
        Ok(Self {
            api,
            mask,
            clock,
            kind,
        })
    }

    /// The API this authority sends through.
    pub(crate) fn api(&self) -> &Api {
        &self.api
    }

    /// Whether tokens come from an App (else a plain token).
    pub(crate) fn is_app(&self) -> bool {
        matches!(self.kind, AuthKind::App(_))
    }

    /// For anonymous access, the App whose bot user sign-offs name.
    pub(crate) fn anonymous_app_slug(&self) -> Option<&str> {
        match &self.kind {
            AuthKind::Anonymous { app_slug } => Some(app_slug),
            _ => None,
        }
    }

    /// A JWT for the App's own endpoints (`GET /app`, installations).
    pub(crate) fn app_jwt(&self) -> Result<SecretString, GitHubError> {
        match &self.kind {
            AuthKind::App(app) => sign_jwt(app.app_id, &app.key, SystemTime::now()),
            AuthKind::Token(_) | AuthKind::Anonymous { .. } => Err(GitHubError::Other(
                "an App JWT was asked for, but the credentials are not an App's".into(),
            )),
        }
    }

    /// The token for `scope`: a cached one with more than [`REFRESH_MARGIN`] left, or a new one;
    /// `None` for anonymous access.
    pub(crate) async fn token_for(
        &self,
        scope: &TokenScope,
    ) -> Result<Option<SecretString>, GitHubError> {
        let app = match &self.kind {
            AuthKind::Token(token) => return Ok(Some(token.clone())),
            AuthKind::Anonymous { .. } => return Ok(None),
            AuthKind::App(app) => app,
        };
        let mut tokens = app.tokens.lock().await;
        if let Some(minted) = tokens.get(scope) {
            if is_fresh(minted.expires_at, self.clock.now()) {
                return Ok(Some(minted.token.clone()));
            }
        }
        let minted = self.mint(app, scope).await?;
        let token = minted.token.clone();
        tokens.insert(scope.clone(), minted);
        Ok(Some(token))
    }

    /// Revokes every installation token minted so far (`DELETE /installation/token`, sent with
    /// each token itself) and empties the cache, as `actions/create-github-app-token` does when
    /// its job ends; a later request mints a new one. A plain token is never revoked (the
    /// workflow's `GITHUB_TOKEN` belongs to the job). Returns how many were revoked; a token
    /// that cannot be revoked is logged (never shown) and expires within the hour anyway.
    pub(crate) async fn revoke_all(&self) -> usize {
        let AuthKind::App(app) = &self.kind else {
            return 0;
        };
        let minted: Vec<(TokenScope, Minted)> = app.tokens.lock().await.drain().collect();
        let mut revoked = 0;
        for (scope, token) in minted {
            // Safe to repeat: a second revocation of the same token only answers 401.
            match self
                .api
                .call(
                    Method::DELETE,
                    "/installation/token",
                    Some(&token.token),
                    None::<&()>,
                    Idempotency::Idempotent,
                )
                .await
            {
                Ok(_) => revoked += 1,
                Err(error) => tracing::warn!(
                    repositories = ?scope.repositories,
                    "an installation token could not be revoked (it expires within the hour): {error}"
                ),
            }
        }
        revoked
    }

    /// Drops the cached token of `scope` (GitHub no longer accepts it).
    pub(crate) async fn forget(&self, scope: &TokenScope) {
        if let AuthKind::App(app) = &self.kind {
            app.tokens.lock().await.remove(scope);
        }
    }

    async fn mint(&self, app: &AppAuth, scope: &TokenScope) -> Result<Minted, GitHubError> {
        let first = scope.repositories.first().ok_or_else(|| {
            GitHubError::Rejected("a token scope needs at least one repository".into())
        })?;
        if scope.permissions.is_empty() {
            // GitHub gives a token minted without permissions every permission of the installation.
            return Err(GitHubError::Rejected(
                "a token scope needs at least one permission (none would mean all of them)".into(),
            ));
        }
        if let Some(other) = scope
            .repositories
            .iter()
            .find(|repo| repo.owner() != first.owner())
        {
            return Err(GitHubError::Rejected(format!(
                "one token cannot cover {first} and {other}: installations are per owner"
            )));
        }
        let installation = self.installation(app, first).await?;
        let jwt = sign_jwt(app.app_id, &app.key, SystemTime::now())?;
        let body = wire::TokenRequest {
            repositories: scope.repositories.iter().map(RepoId::name).collect(),
            permissions: &scope.permissions,
        };
        // Minting twice only leaves an unused token to expire: safe to repeat.
        let minted: wire::MintedToken = self
            .api
            .call_json(
                Method::POST,
                &format!("/app/installations/{installation}/access_tokens"),
                Some(&jwt),
                Some(&body),
                Idempotency::Idempotent,
            )
            .await?;
        let expires_at = humantime::parse_rfc3339_weak(&minted.expires_at).map_err(|_| {
            GitHubError::Other(format!(
                "installation token expiry {:?} is not a date",
                minted.expires_at
            ))
        })?;
        if let Some(mask) = &self.mask {
            mask.mask(&minted.token);
        }
        tracing::debug!(
            repositories = ?scope.repositories,
            permissions = ?scope.permissions,
            "minted a narrowed installation token"
        );
        Ok(Minted {
            token: minted.token.into(),
            expires_at,
        })
    }

    async fn installation(&self, app: &AppAuth, repo: &RepoId) -> Result<u64, GitHubError> {
        let mut installations = app.installations.lock().await;
        if let Some(id) = installations.get(repo.owner()) {
            return Ok(*id);
        }
        let jwt = sign_jwt(app.app_id, &app.key, SystemTime::now())?;
        let installation: wire::Installation = self
            .api
            .call_json(
                Method::GET,
                &format!(
                    "/repos/{}/{}/installation",
                    encode_path(repo.owner()),
                    encode_path(repo.name())
                ),
                Some(&jwt),
                None::<&()>,
                Idempotency::Idempotent,
            )
            .await?;
        installations.insert(repo.owner().to_owned(), installation.id);
        Ok(installation.id)
    }
}

/// Signs an App JWT: RS256, `iss` = app id, issued 60 s in the past, expiring 9 minutes from now
/// (GitHub allows at most 10; the margin absorbs clock drift).
pub(crate) fn sign_jwt(
    app_id: u64,
    key: &EncodingKey,
    now: SystemTime,
) -> Result<SecretString, GitHubError> {
    let now = now
        .duration_since(UNIX_EPOCH)
        .map_err(|_| GitHubError::Other("the clock is before 1970".into()))?
        .as_secs();
    let claims = Claims {
        iat: now.saturating_sub(60),
        exp: now + 9 * 60,
        iss: app_id.to_string(),
    };
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, key)
        .map(SecretString::from)
        .map_err(|error| GitHubError::Other(format!("cannot sign the App JWT: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_refreshed_five_minutes_before_expiry() {
        let now = SystemTime::now();
        assert!(is_fresh(now + Duration::from_secs(3600), now));
        assert!(is_fresh(now + Duration::from_secs(301), now));
        assert!(!is_fresh(now + Duration::from_secs(300), now));
        assert!(!is_fresh(now + Duration::from_secs(10), now));
    }

    #[test]
    fn app_credentials_come_from_text_or_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        std::fs::write(&path, "PEM FROM FILE").unwrap();
        let path_text = path.display().to_string();
        let credentials = Credentials::from_lookup(|name| match name {
            "VALKEY_BOT_APP_ID" => Some("42".into()),
            "VALKEY_BOT_APP_PRIVATE_KEY_PATH" => Some(path_text.clone()),
            "GITHUB_TOKEN" => Some("ghp_ignored".into()),
            _ => None,
        })
        .unwrap();
        match credentials {
            Credentials::App {
                app_id,
                private_key,
            } => {
                assert_eq!(app_id, 42);
                assert_eq!(private_key.expose_secret(), "PEM FROM FILE");
            }
            Credentials::Token(_) | Credentials::Anonymous { .. } => {
                panic!("expected App credentials")
            }
        }
        let text = Credentials::from_lookup(|name| match name {
            "VALKEY_BOT_APP_ID" => Some("7".into()),
            "VALKEY_BOT_APP_PRIVATE_KEY" => Some("PEM TEXT".into()),
            _ => None,
        })
        .unwrap();
        assert!(matches!(text, Credentials::App { app_id: 7, .. }));
    }

    #[test]
    fn a_token_is_the_fallback_and_missing_is_an_error() {
        let token = Credentials::from_lookup(|name| {
            (name == "GITHUB_TOKEN").then(|| "ghp_secretvalue".to_owned())
        })
        .unwrap();
        assert!(matches!(token, Credentials::Token(_)));
        assert!(!format!("{token:?}").contains("ghp_secretvalue"));
        assert!(matches!(
            Credentials::from_lookup(|_| None),
            Err(AuthError::Missing)
        ));
        assert!(matches!(
            Credentials::from_lookup(|name| (name == "VALKEY_BOT_APP_ID").then(|| "1".into())),
            Err(AuthError::MissingKey)
        ));
        assert!(matches!(
            Credentials::from_lookup(|name| (name == "VALKEY_BOT_APP_ID").then(|| "x".into())),
            Err(AuthError::BadAppId(_))
        ));
    }

    #[test]
    fn app_debug_hides_the_key() {
        let credentials = Credentials::App {
            app_id: 3,
            private_key: "-----BEGIN RSA PRIVATE KEY----- secret".to_owned().into(),
        };
        let shown = format!("{credentials:?}");
        assert!(shown.contains("app_id: 3"));
        assert!(!shown.contains("secret"));
    }
}
