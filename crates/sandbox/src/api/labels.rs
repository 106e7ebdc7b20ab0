//! Repository labels: `GET/POST /repos/{o}/{r}/labels`, `GET /labels/{name}`, and the rule GitHub
//! applies when a label is added that the repository does not define yet: it is created only if
//! the caller may create labels (`issues: write`), else 403 `You do not have permission to create
//! labels on this repository`.

use axum::Extension;
use axum::Json;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::SharedState;
use super::extract::{GhJson, GhPath};
use super::issues::repo_state;
use super::paging::{Paged, Pager};
use crate::auth::{Access, Caller, Permission, stable_id};
use crate::error::ApiError;
use crate::repo::Repo;
use crate::shared::Shared;
use crate::state::{Label, RepoState};

/// What creating a label takes.
pub(crate) const LABELS_WRITE: &[(Permission, Access)] = &[(Permission::Issues, Access::Write)];

/// What reading labels takes.
const LABELS_READ: &[(Permission, Access)] = &[
    (Permission::Issues, Access::Read),
    (Permission::PullRequests, Access::Read),
];

/// The colour GitHub gives a label created without one.
const DEFAULT_COLOR: &str = "ededed";

/// GitHub's label object.
pub(crate) fn label_json(shared: &Shared, repo: &Repo, label: &Label) -> Value {
    let value = json!({
        "id": stable_id(&format!("label:{}:{}", repo.full_name(), label.name.to_lowercase())),
        "name": label.name,
        "color": label.color,
        "default": false,
        "description": label.description.as_deref().unwrap_or_default(),
    });
    super::shapes::label(shared, &repo.full_name(), value)
}

/// Whether `caller` may create labels in `repo`.
pub(crate) fn may_create_labels(caller: &Caller, repo: &Repo) -> bool {
    caller.require(repo, LABELS_WRITE).is_ok()
}

/// Defines each of `names` the repository lacks, if `may_create`; else 403 for the first one
/// missing, changing nothing. Returns the names as the repository spells them.
pub(crate) fn define_missing(
    repo_state: &mut RepoState,
    names: &[String],
    may_create: bool,
) -> Result<Vec<String>, ApiError> {
    let missing: Vec<&String> = names
        .iter()
        .filter(|name| repo_state.label(name).is_none())
        .collect();
    if !missing.is_empty() && !may_create {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "You do not have permission to create labels on this repository.",
        ));
    }
    for name in missing {
        if repo_state.label(name).is_none() {
            repo_state.labels.push(Label {
                name: name.clone(),
                color: DEFAULT_COLOR.to_owned(),
                description: None,
            });
        }
    }
    Ok(names
        .iter()
        .map(|name| {
            repo_state
                .label(name)
                .map_or_else(|| name.clone(), |l| l.name.clone())
        })
        .collect())
}

/// `GET /repos/{o}/{r}/labels`, in creation order, paged.
pub(crate) async fn list_labels(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name)): GhPath<(String, String)>,
    pager: Pager,
) -> Result<Paged, ApiError> {
    let repo = shared.open(&owner, &name, &caller, LABELS_READ)?;
    let state = shared.store.snapshot().await;
    let labels = state
        .repo(&repo.full_name())
        .map(|repo_state| {
            repo_state
                .labels
                .iter()
                .map(|label| label_json(&shared, &repo, label))
                .collect()
        })
        .unwrap_or_default();
    Ok(pager.respond(&shared.api_url(), labels))
}

/// `GET /repos/{o}/{r}/labels/{name}`, or 404.
pub(crate) async fn get_label(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name, label)): GhPath<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let repo = shared.open(&owner, &name, &caller, LABELS_READ)?;
    let state = shared.store.snapshot().await;
    let found = state
        .repo(&repo.full_name())
        .and_then(|repo_state| repo_state.label(&label))
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(label_json(&shared, &repo, found)))
}

/// Body of `POST /labels`.
#[derive(Deserialize)]
pub(crate) struct CreateLabel {
    name: String,
    #[serde(default)]
    color: Option<String>,
    #[serde(default)]
    description: Option<String>,
}

/// `POST /repos/{o}/{r}/labels` → 201, or 422 `already_exists`.
pub(crate) async fn create_label(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name)): GhPath<(String, String)>,
    GhJson(body): GhJson<CreateLabel>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let repo = shared.open(&owner, &name, &caller, LABELS_WRITE)?;
    if body.name.trim().is_empty() {
        return Err(ApiError::validation("Label", "name cannot be blank"));
    }
    let color = body
        .color
        .unwrap_or_else(|| DEFAULT_COLOR.to_owned())
        .trim_start_matches('#')
        .to_owned();
    if color.len() != 6 || !color.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ApiError::validation("Label", "color is invalid"));
    }
    let label = shared
        .store
        .update(|state| {
            let repo_state = repo_state(state, &repo);
            if repo_state.label(&body.name).is_some() {
                let mut error = ApiError::unprocessable("Validation Failed");
                error.errors = Some(
                    json!([{ "resource": "Label", "code": "already_exists", "field": "name" }]),
                );
                return Err(error);
            }
            let label = Label {
                name: body.name,
                color,
                description: body.description,
            };
            repo_state.labels.push(label.clone());
            Ok(label)
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(label_json(&shared, &repo, &label)),
    ))
}
