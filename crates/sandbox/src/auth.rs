//! Who is calling: App JWTs, installation tokens and their scopes, and the permission checks.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, StatusCode, header};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use rand::Rng;
use serde::Deserialize;

use crate::error::{ApiError, SandboxError};
use crate::repo::Repo;
use crate::{AppConfig, WorkflowToken};

/// The login of a caller that is not an App installation.
pub(crate) const SANDBOX_USER: &str = "sandbox-user";

/// How long an installation token lives (GitHub: one hour).
const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// The login of the account a workflow's `GITHUB_TOKEN` acts as.
const WORKFLOW_LOGIN: &str = "github-actions[bot]";

/// How long a workflow token lives (GitHub: until its job ends, at most 24 hours).
const WORKFLOW_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// A permission an installation token can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Permission {
    Contents,
    PullRequests,
    Issues,
    Metadata,
    Actions,
}

impl Permission {
    fn name(self) -> &'static str {
        match self {
            Self::Contents => "contents",
            Self::PullRequests => "pull_requests",
            Self::Issues => "issues",
            Self::Metadata => "metadata",
            Self::Actions => "actions",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        [
            Self::Contents,
            Self::PullRequests,
            Self::Issues,
            Self::Metadata,
            Self::Actions,
        ]
        .into_iter()
        .find(|permission| permission.name() == name)
    }
}

/// Read or write; write implies read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Access {
    Read,
    Write,
}

impl Access {
    fn name(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }

    fn parse(name: &str) -> Option<Self> {
        match name {
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            _ => None,
        }
    }
}

/// Reading repository contents, git data and comparisons.
pub(crate) const CONTENTS_READ: &[(Permission, Access)] = &[(Permission::Contents, Access::Read)];
/// Writing git data and refs, and sending dispatches.
pub(crate) const CONTENTS_WRITE: &[(Permission, Access)] = &[(Permission::Contents, Access::Write)];

/// Reading workflow runs and their jobs.
pub(crate) const ACTIONS_READ: &[(Permission, Access)] = &[(Permission::Actions, Access::Read)];
/// Starting workflows (`workflow_dispatch`).
pub(crate) const ACTIONS_WRITE: &[(Permission, Access)] = &[(Permission::Actions, Access::Write)];

/// What the App itself may do unless a test says otherwise ([`Auth::set_app_permissions`]);
/// every installation grants all of it.
const APP_PERMISSIONS: &[(Permission, Access)] = &[
    (Permission::Actions, Access::Write),
    (Permission::Contents, Access::Write),
    (Permission::Issues, Access::Write),
    (Permission::Metadata, Access::Read),
    (Permission::PullRequests, Access::Write),
];

/// An installation token's grant: which repositories of which owner, with which permissions.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub(crate) installation_id: u64,
    pub(crate) owner: String,
    pub(crate) repositories: Vec<String>,
    pub(crate) permissions: BTreeMap<Permission, Access>,
    pub(crate) expires_at: SystemTime,
}

impl Grant {
    /// The permissions as GitHub's JSON object.
    pub(crate) fn permissions_json(&self) -> serde_json::Value {
        permissions_json(&self.permissions)
    }

    /// Allows the request if the grant lets its holder do one of `needs` on `repo`, as GitHub
    /// decides: reading a public repository is allowed with any token (even one narrowed to
    /// another repository); a private repository outside the grant's scope answers 404 (GitHub
    /// never tells such a caller it exists); anything else the grant does not hold answers 403.
    fn require(&self, repo: &Repo, needs: &[(Permission, Access)]) -> Result<(), ApiError> {
        let covers_repo = self.owner == repo.owner && self.repositories.contains(&repo.name);
        if !covers_repo && repo.private {
            return Err(ApiError::not_found());
        }
        let reads_only = needs.iter().all(|(_, access)| *access == Access::Read);
        if reads_only && !repo.private {
            return Ok(());
        }
        let holds = needs.iter().any(|(permission, access)| {
            *permission == Permission::Metadata
                || self
                    .permissions
                    .get(permission)
                    .is_some_and(|held| held >= access)
        });
        if covers_repo && holds {
            Ok(())
        } else {
            Err(ApiError::not_accessible())
        }
    }
}

fn permissions_json(permissions: &BTreeMap<Permission, Access>) -> serde_json::Value {
    permissions
        .iter()
        .map(|(permission, access)| (permission.name().to_owned(), access.name().into()))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// The caller of one request, as established from its `Authorization` header.
#[derive(Debug, Clone)]
pub(crate) enum Caller {
    /// No App configured and no token: full access.
    Anonymous,
    /// No App configured, some token: full access.
    Bearer,
    /// An App configured and no token, as on github.com without credentials: reads of public
    /// repositories only, within the anonymous rate limit (`pipeline.rs`).
    Public,
    /// A valid App JWT: only the App endpoints.
    AppJwt,
    /// An installation token.
    Installation(Arc<Grant>),
    /// A token declared to be a workflow's `GITHUB_TOKEN` ([`WorkflowToken`]): confined to the
    /// repository the workflow runs in, acting as `github-actions[bot]`.
    Workflow(Arc<Grant>),
}

impl Caller {
    /// The scope written to the request log (never the token itself).
    pub(crate) fn scope(&self) -> String {
        match self {
            Self::Anonymous => "anonymous".to_owned(),
            Self::Bearer => "bearer".to_owned(),
            Self::Public => "public".to_owned(),
            Self::AppJwt => "app-jwt".to_owned(),
            Self::Installation(grant) => format!("installation:{}", grant.installation_id),
            Self::Workflow(grant) => {
                format!("workflow:{}/{}", grant.owner, grant.repositories.join(","))
            }
        }
    }

    /// Allows the request if the caller may do one of `needs` on `repo` (see [`Grant`]'s rules;
    /// a plain token without an App may do anything, an App JWT nothing).
    pub(crate) fn require(
        &self,
        repo: &Repo,
        needs: &[(Permission, Access)],
    ) -> Result<(), ApiError> {
        match self {
            Self::Anonymous | Self::Bearer => Ok(()),
            Self::AppJwt => Err(ApiError::not_accessible()),
            Self::Public if repo.private => Err(ApiError::not_found()),
            Self::Public if needs.iter().all(|(_, access)| *access == Access::Read) => Ok(()),
            Self::Public => Err(ApiError::requires_authentication()),
            Self::Installation(grant) | Self::Workflow(grant) => grant.require(repo, needs),
        }
    }

    /// Whether GitHub signs what this caller commits through the API without an author or
    /// committer: App installation tokens, a workflow's token among them; not personal tokens.
    pub(crate) fn commits_signed(&self) -> bool {
        matches!(self, Self::Installation(_) | Self::Workflow(_))
    }

    /// Allows only a valid App JWT (the App endpoints).
    pub(crate) fn require_app_jwt(&self) -> Result<(), ApiError> {
        match self {
            Self::AppJwt => Ok(()),
            _ => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "A JSON web token could not be decoded",
            )),
        }
    }
}

/// The account commits and comments are attributed to.
#[derive(Debug, Clone)]
pub(crate) struct Actor {
    /// Its user id (an App's bot user has its own, distinct from the App id).
    pub(crate) id: u64,
    pub(crate) login: String,
    pub(crate) name: String,
    /// `<id>+<login>@users.noreply.github.com`, as GitHub gives bots and private-email users.
    pub(crate) email: String,
}

impl Actor {
    fn new(login: String) -> Self {
        let id = stable_id(&format!("user:{login}"));
        Self {
            id,
            email: format!("{id}+{login}@users.noreply.github.com"),
            name: login.clone(),
            login,
        }
    }
}

/// The App (if configured), the installation tokens it has issued and the declared workflow
/// tokens.
pub(crate) struct Auth {
    app: Option<(AppConfig, DecodingKey)>,
    tokens: Mutex<HashMap<String, Arc<Grant>>>,
    /// Workflow tokens by token, each confined to its repository.
    workflow: HashMap<String, Arc<Grant>>,
    /// What the App may do now (its installations grant it).
    granted: Mutex<BTreeMap<Permission, Access>>,
    /// Repositories (`owner/name`) the App's installations do not cover.
    uninstalled: Mutex<std::collections::BTreeSet<String>>,
}

#[derive(Deserialize)]
struct Claims {
    #[serde(default)]
    iss: serde_json::Value,
    #[serde(default)]
    iat: Option<i64>,
    exp: i64,
}

/// The longest a JWT may live, `exp` − `iat`.
const JWT_MAX_LIFETIME_SECS: i64 = 600;
/// How far in the future an `iat` is tolerated (clock drift).
const JWT_IAT_LEEWAY_SECS: i64 = 30;

impl Auth {
    /// Auth for `app` (`None`: every token not declared a workflow token has full access) and
    /// the declared `workflow_tokens`.
    pub(crate) fn new(
        app: Option<AppConfig>,
        workflow_tokens: &[WorkflowToken],
    ) -> Result<Self, SandboxError> {
        let mut workflow = HashMap::new();
        for declared in workflow_tokens {
            let (owner, name) = declared
                .repository
                .split_once('/')
                .filter(|(owner, name)| {
                    !owner.is_empty() && !name.is_empty() && !name.contains('/')
                })
                .ok_or_else(|| SandboxError::WorkflowRepository(declared.repository.clone()))?;
            if declared.token.trim().is_empty() {
                return Err(SandboxError::WorkflowToken(declared.repository.clone()));
            }
            let grant = Grant {
                installation_id: stable_id(&format!("workflow:{owner}/{name}")),
                owner: owner.to_owned(),
                repositories: vec![name.to_owned()],
                permissions: APP_PERMISSIONS.iter().copied().collect(),
                expires_at: SystemTime::now() + WORKFLOW_TOKEN_LIFETIME,
            };
            workflow.insert(declared.token.trim().to_owned(), Arc::new(grant));
        }
        let app = match app {
            Some(config) => {
                let key = DecodingKey::from_rsa_pem(config.public_key_pem.as_bytes())
                    .map_err(SandboxError::AppKey)?;
                Some((config, key))
            }
            None => None,
        };
        Ok(Self {
            app,
            tokens: Mutex::new(HashMap::new()),
            workflow,
            granted: Mutex::new(APP_PERMISSIONS.iter().copied().collect()),
            uninstalled: Mutex::new(std::collections::BTreeSet::new()),
        })
    }

    /// The configured App.
    pub(crate) fn app(&self) -> Option<&AppConfig> {
        self.app.as_ref().map(|(config, _)| config)
    }

    /// Establishes the caller from the `Authorization` header; 401 for a bad credential when an
    /// App is configured (no credential at all is a [`Caller::Public`]).
    pub(crate) fn caller(&self, headers: &HeaderMap) -> Result<Caller, (String, Box<ApiError>)> {
        let token = bearer(headers);
        if let Some(grant) = token.and_then(|token| self.workflow.get(token)) {
            return if grant.expires_at > SystemTime::now() {
                Ok(Caller::Workflow(grant.clone()))
            } else {
                Err((
                    Caller::Workflow(grant.clone()).scope(),
                    Box::new(ApiError::bad_credentials()),
                ))
            };
        }
        let Some((app, key)) = &self.app else {
            return Ok(if token.is_some() {
                Caller::Bearer
            } else {
                Caller::Anonymous
            });
        };
        let Some(token) = token else {
            return Ok(Caller::Public);
        };
        if token.matches('.').count() == 2 {
            return verify_jwt(token, app, key)
                .map(|()| Caller::AppJwt)
                .map_err(|error| ("app-jwt".to_owned(), Box::new(error)));
        }
        let grant = self
            .tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(token)
            .cloned();
        match grant {
            Some(grant) if grant.expires_at > SystemTime::now() => Ok(Caller::Installation(grant)),
            Some(grant) => Err((
                format!("installation:{}", grant.installation_id),
                Box::new(ApiError::bad_credentials()),
            )),
            None => Err(("bearer".to_owned(), Box::new(ApiError::bad_credentials()))),
        }
    }

    /// Who the caller is when it writes: the App's bot user, `github-actions[bot]` for a
    /// workflow token, or `sandbox-user`.
    pub(crate) fn actor(&self, caller: &Caller) -> Actor {
        match (caller, self.app()) {
            (Caller::Workflow(_), _) => Actor::new(WORKFLOW_LOGIN.to_owned()),
            (Caller::Installation(_) | Caller::AppJwt, Some(app)) => Actor::new(bot_login(app)),
            _ => Actor::new(SANDBOX_USER.to_owned()),
        }
    }

    /// The account named `login` (`GET /users/{login}`): the App's bot user, `sandbox-user` or
    /// `github-actions[bot]`.
    pub(crate) fn account(&self, login: &str) -> Option<Actor> {
        let bot = self.app().map(bot_login);
        (login == SANDBOX_USER || login == WORKFLOW_LOGIN || bot.as_deref() == Some(login))
            .then(|| Actor::new(login.to_owned()))
    }

    /// Issues a token for `installation_id` (account `owner`) on `repositories` of `all_repositories`,
    /// narrowed to `requested` permissions (all of the App's when `None`).
    pub(crate) fn issue_token(
        &self,
        installation_id: u64,
        owner: &str,
        all_repositories: Vec<String>,
        repositories: Option<Vec<String>>,
        requested: Option<BTreeMap<String, String>>,
    ) -> Result<(String, Arc<Grant>), ApiError> {
        let repositories = match repositories {
            None => all_repositories,
            Some(names) => {
                if names.iter().any(|name| !all_repositories.contains(name)) {
                    return Err(ApiError::unprocessable(
                        "There is at least one repository that does not exist or is not accessible to the parent installation.",
                    ));
                }
                names
            }
        };
        let app_permissions = self.app_permissions();
        let permissions = match requested {
            None => app_permissions,
            Some(requested) => {
                let mut narrowed = BTreeMap::new();
                for (name, level) in requested {
                    let permission = Permission::parse(&name);
                    let access = Access::parse(&level);
                    match (permission, access) {
                        (Some(permission), Some(access))
                            if app_permissions
                                .get(&permission)
                                .is_some_and(|granted| *granted >= access) =>
                        {
                            narrowed.insert(permission, access);
                        }
                        _ => {
                            return Err(ApiError::unprocessable(
                                "The permissions requested are not granted to this installation.",
                            ));
                        }
                    }
                }
                narrowed.insert(Permission::Metadata, Access::Read);
                narrowed
            }
        };
        let token = random_token();
        let grant = Arc::new(Grant {
            installation_id,
            owner: owner.to_owned(),
            repositories,
            permissions,
            expires_at: SystemTime::now() + TOKEN_LIFETIME,
        });
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(token.clone(), grant.clone());
        Ok((token, grant))
    }

    /// What the App may do now.
    fn app_permissions(&self) -> BTreeMap<Permission, Access> {
        self.granted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// The App's permissions as GitHub's JSON object.
    pub(crate) fn app_permissions_json(&self) -> serde_json::Value {
        permissions_json(&self.app_permissions())
    }

    /// Sets what the App may do (GitHub's names, `{"contents": "write"}`; `metadata: read` is
    /// always granted): tokens issued from now on cannot exceed it. An unknown name or level is
    /// an error naming it.
    pub(crate) fn set_app_permissions(&self, permissions: &[(&str, &str)]) -> Result<(), String> {
        let mut granted = BTreeMap::from([(Permission::Metadata, Access::Read)]);
        for (name, level) in permissions {
            match (Permission::parse(name), Access::parse(level)) {
                (Some(permission), Some(access)) => {
                    granted.insert(permission, access);
                }
                _ => {
                    return Err(format!(
                        "not a permission the sandbox knows: {name}: {level}"
                    ));
                }
            }
        }
        *self
            .granted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = granted;
        Ok(())
    }

    /// Removes `repository` (`owner/name`) from the App's installation, as a "selected
    /// repositories" installation that leaves it out.
    pub(crate) fn uninstall(&self, repository: &str) {
        self.uninstalled
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(repository.to_owned());
    }

    /// Whether the App's installation covers `owner/name`.
    pub(crate) fn installed(&self, owner: &str, name: &str) -> bool {
        !self
            .uninstalled
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(&format!("{owner}/{name}"))
    }

    /// Revokes one installation token (`DELETE /installation/token`): it gets 401 from now on.
    /// Whether it was a live token.
    pub(crate) fn revoke_token(&self, token: &str) -> bool {
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(token)
            .is_some()
    }

    /// Forgets every installation token issued so far: each gets 401 from now on, as on GitHub
    /// after a token is revoked.
    pub(crate) fn revoke_tokens(&self) {
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }
}

/// The credential of the `Authorization` header (`Bearer`, `bearer` or `token` scheme), if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            let value = value.trim();
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
                .or_else(|| value.strip_prefix("token "))
                .unwrap_or(value)
                .trim()
        })
        .filter(|token| !token.is_empty())
}

fn verify_jwt(token: &str, app: &AppConfig, key: &DecodingKey) -> Result<(), ApiError> {
    let mut validation = Validation::new(Algorithm::RS256);
    // `iss` is checked below: GitHub accepts it as a number or a string, jsonwebtoken only as a string.
    validation.set_required_spec_claims(&["exp"]);
    validation.leeway = 0;
    let data = jsonwebtoken::decode::<Claims>(token, key, &validation).map_err(|error| {
        use jsonwebtoken::errors::ErrorKind;
        match error.kind() {
            ErrorKind::ExpiredSignature => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires",
            ),
            _ => ApiError::new(StatusCode::UNAUTHORIZED, "A JSON web token could not be decoded"),
        }
    })?;
    let now = i64::try_from(unix_seconds(SystemTime::now())).unwrap_or(i64::MAX);
    let iat = data.claims.iat.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued",
        )
    })?;
    if iat > now + JWT_IAT_LEEWAY_SECS {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "'Issued at' claim ('iat') must be an Integer representing a time in the past",
        ));
    }
    if data.claims.exp - iat > JWT_MAX_LIFETIME_SECS {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "'Expiration time' claim ('exp') is too far in the future",
        ));
    }
    let issuer_matches = match &data.claims.iss {
        serde_json::Value::Number(number) => number.as_u64() == Some(app.app_id),
        serde_json::Value::String(text) => text.parse::<u64>().ok() == Some(app.app_id),
        _ => false,
    };
    if issuer_matches {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "'Issuer' claim ('iss') must be an Integer",
        ))
    }
}

/// An opaque installation token in GitHub's format (`ghs_` + 36 alphanumerics).
fn random_token() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let body: String = (0..36)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("ghs_{body}")
}

/// The login of `app`'s bot user: `<slug>[bot]`.
fn bot_login(app: &AppConfig) -> String {
    format!("{}[bot]", app.slug)
}

/// The installation id of `owner`'s installation: a stable number derived from the owner's name.
pub(crate) fn installation_id(owner: &str) -> u64 {
    stable_id(&format!("installation:{owner}"))
}

/// A stable positive id (below 10^9) for `key`, FNV-1a based.
pub(crate) fn stable_id(key: &str) -> u64 {
    let hash = key.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    });
    hash % 1_000_000_000 + 1
}

/// Seconds since the Unix epoch of `time` (0 before the epoch).
pub(crate) fn unix_seconds(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}
