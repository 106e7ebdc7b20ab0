//! GitHub App endpoints (App JWT only): the App, a repository's installation, installation tokens.

use std::collections::BTreeMap;

use super::extract::GhPath;
use axum::Extension;
use axum::Json;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::SharedState;
use super::extract::parse_optional;
use crate::AppConfig;
use crate::auth::{Caller, installation_id, stable_id, unix_seconds};
use crate::error::ApiError;
use crate::shared::Shared;

/// The configured App, and a caller holding a valid JWT for it.
fn app_for<'a>(shared: &'a Shared, caller: &Caller) -> Result<&'a AppConfig, ApiError> {
    let app = shared.auth.app().ok_or_else(ApiError::not_found)?;
    caller.require_app_jwt()?;
    Ok(app)
}

/// `GET /app` → `{id, slug, ...}`.
pub(crate) async fn get_app(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Value>, ApiError> {
    let app = app_for(&shared, &caller)?;
    let value = json!({
        "id": app.app_id,
        "slug": app.slug,
        "name": app.slug,
        "node_id": format!("A_{}", app.app_id),
        "permissions": shared.auth.app_permissions_json(),
        "events": [],
    });
    Ok(Json(super::shapes::app(&shared, value, &app.slug)))
}

fn installation_json(shared: &Shared, app: &AppConfig, owner: &str) -> Value {
    let id = installation_id(owner);
    let every = shared
        .repos
        .repositories(owner)
        .iter()
        .all(|name| shared.auth.installed(owner, name));
    let value = json!({
        "id": id,
        "app_id": app.app_id,
        "app_slug": app.slug,
        "account": { "login": owner, "id": stable_id(owner) },
        "repository_selection": if every { "all" } else { "selected" },
        "access_tokens_url": format!("{}/app/installations/{id}/access_tokens", shared.api_url()),
        "permissions": shared.auth.app_permissions_json(),
    });
    super::shapes::installation(shared, value, owner)
}

/// `GET /repos/{o}/{r}/installation` → `{id, app_id, ...}`: every owner has the App installed,
/// on every repository but those a test removed (404, as GitHub answers for a repository the
/// installation does not cover).
pub(crate) async fn get_installation(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name)): GhPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let app = app_for(&shared, &caller)?;
    let repo = shared.repos.open(&owner, &name)?;
    if !shared.auth.installed(&repo.owner, &repo.name) {
        return Err(ApiError::not_found());
    }
    Ok(Json(installation_json(&shared, app, &repo.owner)))
}

/// Body of `POST /app/installations/{id}/access_tokens`.
#[derive(Deserialize, Default)]
pub(crate) struct TokenRequest {
    #[serde(default)]
    repositories: Option<Vec<String>>,
    #[serde(default)]
    permissions: Option<BTreeMap<String, String>>,
}

/// `POST /app/installations/{id}/access_tokens` → 201 `{token, expires_at, permissions, repositories}`.
pub(crate) async fn create_access_token(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath(id): GhPath<u64>,
    body: axum::body::Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    app_for(&shared, &caller)?;
    let owner = shared
        .repos
        .owners()
        .into_iter()
        .find(|owner| installation_id(owner) == id)
        .ok_or_else(ApiError::not_found)?;
    let request: TokenRequest = parse_optional(&body)?;
    let all = shared
        .repos
        .repositories(&owner)
        .into_iter()
        .filter(|name| shared.auth.installed(&owner, name))
        .collect();
    let selection = if request.repositories.is_some() {
        "selected"
    } else {
        "all"
    };
    let (token, grant) =
        shared
            .auth
            .issue_token(id, &owner, all, request.repositories, request.permissions)?;
    let repositories: Vec<Value> = grant
        .repositories
        .iter()
        .map(|name| {
            let full_name = format!("{owner}/{name}");
            json!({ "id": stable_id(&full_name), "name": name, "full_name": full_name })
        })
        .collect();
    let expires_at =
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix_seconds(grant.expires_at));
    let value = json!({
            "token": token,
            "expires_at": humantime::format_rfc3339_seconds(expires_at).to_string(),
            "permissions": grant.permissions_json(),
            "repository_selection": selection,
            "repositories": repositories,
    });
    Ok((
        StatusCode::CREATED,
        Json(super::shapes::installation_token(&shared, value, &owner)),
    ))
}

/// `DELETE /installation/token` → 204: the installation token the request is made with is
/// revoked (401 from then on). Only an installation token may ask (else 401, as on GitHub).
pub(crate) async fn revoke_installation_token(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    headers: axum::http::HeaderMap,
) -> Result<StatusCode, ApiError> {
    let token = match caller {
        Caller::Installation(_) => crate::auth::bearer(&headers),
        _ => None,
    }
    .ok_or_else(ApiError::bad_credentials)?;
    shared.auth.revoke_token(token);
    Ok(StatusCode::NO_CONTENT)
}
