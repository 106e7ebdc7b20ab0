//! `GET /repos/{o}/{r}/git/blobs/{sha}`: a blob's bytes, base64 — how files over the contents
//! API's 1 MB cut-off are read.

use axum::Extension;
use axum::Json;
use serde_json::{Value, json};

use super::SharedState;
use super::contents::github_base64;
use super::extract::GhPath;
use crate::auth::{CONTENTS_READ, Caller};
use crate::error::ApiError;
use crate::git::is_hex_id;

/// The largest file the contents API returns inline; larger ones come with `"content": ""` and
/// `"encoding": "none"`.
pub(crate) const CONTENTS_INLINE_MAX: u64 = 1024 * 1024;

/// `GET /repos/{o}/{r}/git/blobs/{sha}`, or 404 when there is no such blob.
pub(crate) async fn get_blob(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name, sha)): GhPath<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let repo = shared.open(&owner, &name, &caller, CONTENTS_READ)?;
    if !is_hex_id(&sha) {
        return Err(ApiError::not_found());
    }
    let info = repo
        .git
        .object_info(&sha)
        .await?
        .filter(|info| info.kind == "blob" && !repo.lag.is_hidden(&info.sha))
        .ok_or_else(ApiError::not_found)?;
    let bytes = repo
        .git
        .read(&info.sha, "blob")
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(json!({
        "sha": info.sha,
        "node_id": format!("B_{}", &info.sha[..12]),
        "size": info.size,
        "url": format!("{}/git/blobs/{}", shared.repo_api_url(&repo), info.sha),
        "content": github_base64(&bytes),
        "encoding": "base64",
    })))
}
