//! Git references: get, create, update (fast-forward or forced, as a compare-and-swap) and delete.

use super::extract::GhPath;
use axum::Extension;
use axum::Json;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::SharedState;
use super::extract::GhJson;
use crate::auth::{CONTENTS_READ, CONTENTS_WRITE, Caller};
use crate::error::ApiError;
use crate::git::{Git, is_hex_id};
use crate::lag::LagAfter;
use crate::repo::Repo;
use crate::shared::Shared;

/// The all-zero id `update-ref` takes as "must not exist yet".
const ZERO_ID: &str = "0000000000000000000000000000000000000000";

/// `refs/<name>` if `name` is `heads/...` or `tags/...` and a valid ref name; else `None`.
async fn full_ref(git: &Git, name: &str) -> Result<Option<String>, ApiError> {
    if !(name.starts_with("heads/") || name.starts_with("tags/")) {
        return Ok(None);
    }
    let full = format!("refs/{name}");
    let valid = git.is_valid_ref_name(&full).await?;
    Ok(valid.then_some(full))
}

/// The JSON GitHub gives for a ref pointing at `sha`.
async fn ref_json(shared: &Shared, repo: &Repo, full: &str, sha: &str) -> Result<Value, ApiError> {
    let kind = repo
        .git
        .object_info(sha)
        .await?
        .map_or_else(|| "commit".to_owned(), |info| info.kind);
    Ok(ref_value(shared, repo, full, sha, &kind))
}

/// The JSON GitHub gives for ref `full` pointing at `sha`, an object of type `kind`.
fn ref_value(shared: &Shared, repo: &Repo, full: &str, sha: &str, kind: &str) -> Value {
    let api = shared.repo_api_url(repo);
    let object_path = if kind == "tag" { "tags" } else { "commits" };
    json!({
        "ref": full,
        "node_id": format!("REF_{}", crate::auth::stable_id(&format!("{}:{full}", repo.full_name()))),
        "url": format!("{api}/git/{full}"),
        "object": { "sha": sha, "type": kind, "url": format!("{api}/git/{object_path}/{sha}") },
    })
}

/// `GET /repos/{o}/{r}/git/ref/{heads/B|tags/T}`.
pub(crate) async fn get_ref(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name, reference)): GhPath<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let repo = shared.open(&owner, &name, &caller, CONTENTS_READ)?;
    let full = full_ref(&repo.git, &reference)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let sha = repo
        .read_ref(&full)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(ref_json(&shared, &repo, &full, &sha).await?))
}

/// `GET /repos/{o}/{r}/git/matching-refs/{prefix}`: every branch or tag ref whose name starts
/// with `refs/<prefix>`, as an array (empty when none), sorted by name; GitHub does not page it.
pub(crate) async fn matching_refs(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name, prefix)): GhPath<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let repo = shared.open(&owner, &name, &caller, CONTENTS_READ)?;
    let full_prefix = format!("refs/{prefix}");
    let mut refs = Vec::new();
    for (full, sha, kind) in repo.git.refs_with_prefix(&full_prefix).await? {
        if !(full.starts_with("refs/heads/") || full.starts_with("refs/tags/")) {
            continue;
        }
        refs.push(ref_value(&shared, &repo, &full, &sha, &kind));
    }
    Ok(Json(Value::Array(refs)))
}

/// Body of `POST /git/refs`.
#[derive(Deserialize)]
pub(crate) struct CreateRef {
    #[serde(rename = "ref")]
    reference: String,
    sha: String,
}

/// `POST /repos/{o}/{r}/git/refs`: 201, or 422 `Reference already exists`.
pub(crate) async fn create_ref(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name)): GhPath<(String, String)>,
    lag: LagAfter,
    GhJson(body): GhJson<CreateRef>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let repo = shared.open(&owner, &name, &caller, CONTENTS_WRITE)?;
    repo.refuse_git_data_if_empty().await?;
    let short = body
        .reference
        .strip_prefix("refs/")
        .filter(|rest| rest.contains('/'))
        .ok_or_else(|| {
            ApiError::unprocessable("ref must start with 'refs' and have at least two slashes.")
        })?;
    let full = full_ref(&repo.git, short)
        .await?
        .ok_or_else(|| ApiError::unprocessable("Reference name is invalid"))?;
    let sha = existing_object(&repo, &body.sha).await?;
    let _guard = shared.repos.lock(&repo).await;
    if repo.git.ref_target(&full).await?.is_some() {
        return Err(ApiError::unprocessable("Reference already exists"));
    }
    let created = repo
        .git
        .run(
            &["update-ref", "--end-of-options", &full, &sha, ZERO_ID],
            None,
            &[],
        )
        .await?
        .success;
    if !created {
        return Err(ApiError::unprocessable("Reference already exists"));
    }
    repo.lag.stale_ref(lag, &repo.full_name(), &full, None);
    Ok((
        StatusCode::CREATED,
        Json(ref_json(&shared, &repo, &full, &sha).await?),
    ))
}

/// The full id of the object `sha` names, or 422 `Object does not exist`.
async fn existing_object(repo: &Repo, sha: &str) -> Result<String, ApiError> {
    if !is_hex_id(sha) {
        return Err(ApiError::unprocessable("Object does not exist"));
    }
    repo.git
        .object_info(sha)
        .await?
        .map(|info| info.sha)
        .ok_or_else(|| ApiError::unprocessable("Object does not exist"))
}

/// Body of `PATCH /git/refs/...`.
#[derive(Deserialize)]
pub(crate) struct UpdateRef {
    sha: String,
    #[serde(default)]
    force: bool,
}

/// `PATCH /repos/{o}/{r}/git/refs/{name}`: moves the ref, atomically, from the head it had when read.
pub(crate) async fn update_ref(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name, reference)): GhPath<(String, String, String)>,
    lag: LagAfter,
    GhJson(body): GhJson<UpdateRef>,
) -> Result<Json<Value>, ApiError> {
    let repo = shared.open(&owner, &name, &caller, CONTENTS_WRITE)?;
    let full = full_ref(&repo.git, &reference)
        .await?
        .ok_or_else(|| ApiError::unprocessable("Reference does not exist"))?;
    let new = existing_object(&repo, &body.sha).await?;
    shared
        .rulesets
        .check_update(&repo.full_name(), &full, &caller)?;
    let _guard = shared.repos.lock(&repo).await;
    let old = repo
        .git
        .ref_target(&full)
        .await?
        .ok_or_else(|| ApiError::unprocessable("Reference does not exist"))?;
    if !body.force && old != new && !repo.git.is_ancestor(&old, &new).await? {
        return Err(ApiError::unprocessable("Update is not a fast forward"));
    }
    let swapped = repo
        .git
        .run(
            &["update-ref", "--end-of-options", &full, &new, &old],
            None,
            &[],
        )
        .await?
        .success;
    if !swapped {
        return Err(ApiError::unprocessable("Update is not a fast forward"));
    }
    repo.lag
        .stale_ref(lag, &repo.full_name(), &full, Some(&old));
    Ok(Json(ref_json(&shared, &repo, &full, &new).await?))
}

/// `DELETE /repos/{o}/{r}/git/refs/{name}`: 204, or 422 `Reference does not exist`.
pub(crate) async fn delete_ref(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name, reference)): GhPath<(String, String, String)>,
    lag: LagAfter,
) -> Result<StatusCode, ApiError> {
    let repo = shared.open(&owner, &name, &caller, CONTENTS_WRITE)?;
    let full = full_ref(&repo.git, &reference)
        .await?
        .ok_or_else(|| ApiError::unprocessable("Reference does not exist"))?;
    let _guard = shared.repos.lock(&repo).await;
    let old = repo
        .git
        .ref_target(&full)
        .await?
        .ok_or_else(|| ApiError::unprocessable("Reference does not exist"))?;
    let deleted = repo
        .git
        .run(
            &["update-ref", "-d", "--end-of-options", &full, &old],
            None,
            &[],
        )
        .await?
        .success;
    if deleted {
        repo.lag
            .stale_ref(lag, &repo.full_name(), &full, Some(&old));
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::unprocessable("Reference does not exist"))
    }
}
