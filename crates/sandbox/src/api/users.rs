//! `GET /user` and `GET /users/{login}`: the accounts the sandbox knows (the App's bot user and
//! `sandbox-user`).

use axum::{Extension, Json};
use serde_json::{Value, json};

use super::SharedState;
use super::extract::GhPath;
use crate::auth::{Actor, Caller};
use crate::error::ApiError;

/// `GET /user` → the caller's account: `sandbox-user` for a plain token; 403 for an App
/// installation token or JWT (an installation is not a user) and 401 without a token, as on
/// GitHub.
pub(crate) async fn get_authenticated_user(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Value>, ApiError> {
    match caller {
        Caller::Installation(_) | Caller::AppJwt => Err(ApiError::not_accessible()),
        Caller::Anonymous | Caller::Public => Err(ApiError::requires_authentication()),
        Caller::Bearer => Ok(Json(super::shapes::private_user(
            &shared,
            account_json(&shared.auth.actor(&caller)).0,
        ))),
    }
}

/// `GET /users/{login}` → `{login, id, type, name}`; 404 for an account the sandbox does not have.
pub(crate) async fn get_user(
    axum::extract::State(shared): SharedState,
    GhPath(login): GhPath<String>,
) -> Result<Json<Value>, ApiError> {
    let account = shared
        .auth
        .account(&login)
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(super::shapes::public_user(
        &shared,
        account_json(&account).0,
    )))
}

/// An account as GitHub's JSON: `{login, id, node_id, type, name}`.
fn account_json(account: &Actor) -> Json<Value> {
    let kind = if account.login.ends_with("[bot]") {
        "Bot"
    } else {
        "User"
    };
    Json(json!({
        "login": account.login,
        "id": account.id,
        "node_id": format!("U_{}", account.id),
        "type": kind,
        "name": account.name,
    }))
}
