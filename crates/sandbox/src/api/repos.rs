//! `GET /repos/{owner}/{repo}`.

use super::extract::GhPath;
use axum::Extension;
use axum::Json;
use serde_json::{Value, json};

use super::SharedState;
use crate::auth::{Access, Caller, Permission, stable_id};
use crate::error::ApiError;

/// The repository's summary, with its default branch (the branch HEAD points to).
pub(crate) async fn get_repo(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name)): GhPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let repo = shared.open(
        &owner,
        &name,
        &caller,
        &[(Permission::Metadata, Access::Read)],
    )?;
    let default_branch = repo.default_branch().await?;
    let full_name = repo.full_name();
    Ok(Json(json!({
        "id": stable_id(&full_name),
        "node_id": format!("R_{}", stable_id(&full_name)),
        "name": repo.name,
        "full_name": full_name,
        "private": repo.private,
        "visibility": if repo.private { "private" } else { "public" },
        "fork": false,
        "archived": false,
        "owner": { "login": repo.owner, "id": stable_id(&repo.owner), "type": "Organization" },
        "html_url": shared.html_url(&repo),
        "url": shared.repo_api_url(&repo),
        "default_branch": default_branch,
    })))
}
