//! Pull requests: list (by state, head, base), create (refusing duplicates and empty ones), get, update.

use super::extract::GhPath;
use axum::Extension;
use axum::Json;
use axum::extract::Query;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::SharedState;
use super::extract::GhJson;
use super::issues::{apply_edits, file_issue, in_state, issue_mut, labels_json, repo_state};
use super::paging::{Paged, Pager};
use crate::auth::{Access, Caller, Permission, stable_id};
use crate::error::ApiError;
use crate::lag::LagAfter;
use crate::repo::Repo;
use crate::shared::Shared;
use crate::state::{Issue, PullRequest, now_rfc3339};

const READ: &[(Permission, Access)] = &[(Permission::PullRequests, Access::Read)];
const WRITE: &[(Permission, Access)] = &[(Permission::PullRequests, Access::Write)];

/// The commit branch `branch` points at; None when there is no such branch or the name is unsafe.
async fn branch_commit(repo: &Repo, branch: &str) -> Result<Option<String>, ApiError> {
    if crate::repo::safe_ref_text(branch) {
        Ok(repo
            .git
            .resolve(&format!("refs/heads/{branch}"), "commit")
            .await?)
    } else {
        Ok(None)
    }
}

/// GitHub's pull-request JSON; `head.sha` is the head branch's current commit.
async fn pull_json(shared: &Shared, repo: &Repo, issue: &Issue) -> Result<Value, ApiError> {
    let Some(pull) = &issue.pull else {
        return Err(ApiError::not_found());
    };
    let head_sha = repo
        .git
        .ref_target(&format!("refs/heads/{}", pull.head_ref))
        .await?
        .unwrap_or_else(|| pull.head_sha.clone());
    let base_sha = repo
        .git
        .ref_target(&format!("refs/heads/{}", pull.base_ref))
        .await?;
    let number = issue.number;
    let api = shared.repo_api_url(repo);
    let full_name = repo.full_name();
    Ok(super::shapes::pull(
        shared,
        &repo.owner,
        &repo.name,
        json!({
            "id": stable_id(&format!("{full_name}#{number}")),
            "node_id": format!("PR_{number}"),
            "number": number,
            "url": format!("{api}/pulls/{number}"),
            "html_url": format!("{}/pull/{number}", shared.html_url(repo)),
            "issue_url": format!("{api}/issues/{number}"),
            "state": issue.state,
            "title": issue.title,
            "body": issue.body,
            "user": { "login": issue.user },
            "labels": labels_json(&issue.labels),
            "head": {
                "ref": pull.head_ref,
                "sha": head_sha,
                "label": format!("{}:{}", pull.head_owner, pull.head_ref),
                "repo": { "full_name": full_name, "name": repo.name },
            },
            "base": {
                "ref": pull.base_ref,
                "sha": base_sha,
                "label": format!("{}:{}", repo.owner, pull.base_ref),
                "repo": { "full_name": full_name, "name": repo.name },
            },
            "draft": false,
            "merged": pull.merge_commit.is_some(),
            "merged_at": pull.merge_commit.as_ref().and(issue.closed_at.as_ref()),
            "merge_commit_sha": pull.merge_commit,
            "created_at": issue.created_at,
            "updated_at": issue.updated_at,
            "closed_at": issue.closed_at,
        }),
    ))
}

/// Query of `GET /pulls`.
#[derive(Deserialize)]
pub(crate) struct PullQuery {
    state: Option<String>,
    head: Option<String>,
    base: Option<String>,
}

/// `GET /repos/{o}/{r}/pulls?state=&head=owner:branch&base=`, newest first.
pub(crate) async fn list_pulls(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name)): GhPath<(String, String)>,
    Query(query): Query<PullQuery>,
    pager: Pager,
) -> Result<Paged, ApiError> {
    let repo = shared.open(&owner, &name, &caller, READ)?;
    let wanted_state = query.state.unwrap_or_else(|| "open".to_owned());
    let state = shared.store.snapshot().await;
    let lagging = repo.lag.pulls_view(&repo.full_name());
    let mut listed = Vec::new();
    if let Some(repo_state) = lagging.as_ref().or_else(|| state.repo(&repo.full_name())) {
        for issue in repo_state.pulls().rev() {
            let Some(pull) = &issue.pull else { continue };
            let state_matches = in_state(issue, &wanted_state);
            let head_matches = query.head.as_ref().is_none_or(|head| {
                let (head_owner, head_ref) = head.split_once(':').unwrap_or((&repo.owner, head));
                head_owner == pull.head_owner && head_ref == pull.head_ref
            });
            let base_matches = query
                .base
                .as_ref()
                .is_none_or(|base| *base == pull.base_ref);
            if state_matches && head_matches && base_matches {
                listed.push(pull_json(&shared, &repo, issue).await?);
            }
        }
    }
    Ok(pager.respond(&shared.api_url(), listed))
}

/// Body of `POST /pulls`.
#[derive(Deserialize)]
pub(crate) struct CreatePull {
    title: String,
    head: String,
    base: String,
    #[serde(default)]
    body: Option<String>,
}

/// `POST /repos/{o}/{r}/pulls` → 201; 422 for a duplicate, an empty diff or a missing branch.
pub(crate) async fn create_pull(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name)): GhPath<(String, String)>,
    lag: LagAfter,
    GhJson(body): GhJson<CreatePull>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let repo = shared.open(&owner, &name, &caller, WRITE)?;
    let (head_owner, head_ref) = body
        .head
        .split_once(':')
        .map_or((repo.owner.clone(), body.head.clone()), |(o, b)| {
            (o.to_owned(), b.to_owned())
        });
    let invalid = |field: &str| {
        let mut error = ApiError::unprocessable("Validation Failed");
        error.errors =
            Some(json!([{ "resource": "PullRequest", "field": field, "code": "invalid" }]));
        error
    };
    if head_owner != repo.owner {
        return Err(invalid("head"));
    }
    let base_sha = branch_commit(&repo, &body.base)
        .await?
        .ok_or_else(|| invalid("base"))?;
    let head_sha = branch_commit(&repo, &head_ref)
        .await?
        .ok_or_else(|| invalid("head"))?;
    let ahead = repo
        .git
        .text(&["rev-list", "--count", &format!("{base_sha}..{head_sha}")])
        .await?;
    if ahead == "0" {
        return Err(ApiError::validation(
            "PullRequest",
            format!("No commits between {} and {}", body.base, body.head),
        ));
    }
    let user = shared.auth.actor(&caller).login;
    let now = now_rfc3339();
    let (issue, before) = shared
        .store
        .update(|state| {
            let repo_state = repo_state(state, &repo);
            let before = repo_state.clone();
            let duplicate = repo_state.pulls().any(|issue| {
                issue.state == "open"
                    && issue.pull.as_ref().is_some_and(|pull| {
                        pull.head_owner == head_owner
                            && pull.head_ref == head_ref
                            && pull.base_ref == body.base
                    })
            });
            if duplicate {
                return Err(ApiError::validation(
                    "PullRequest",
                    format!("A pull request already exists for {head_owner}:{head_ref}."),
                ));
            }
            let pull = PullRequest {
                head_owner,
                head_ref,
                base_ref: body.base,
                head_sha,
                merge_commit: None,
            };
            let issue = file_issue(
                repo_state,
                body.title,
                body.body,
                user,
                Vec::new(),
                Some(pull),
                now,
            );
            Ok((issue, before))
        })
        .await?;
    repo.lag.stale_pulls(lag, &repo.full_name(), before);
    Ok((
        StatusCode::CREATED,
        Json(pull_json(&shared, &repo, &issue).await?),
    ))
}

/// `GET /repos/{o}/{r}/pulls/{n}`.
pub(crate) async fn get_pull(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name, number)): GhPath<(String, String, u64)>,
) -> Result<Json<Value>, ApiError> {
    let repo = shared.open(&owner, &name, &caller, READ)?;
    let state = shared.store.snapshot().await;
    let issue = state
        .repo(&repo.full_name())
        .and_then(|repo_state| repo_state.issue(number))
        .filter(|issue| issue.pull.is_some())
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(pull_json(&shared, &repo, issue).await?))
}

/// Body of `PATCH /pulls/{n}`.
#[derive(Deserialize)]
pub(crate) struct UpdatePull {
    title: Option<String>,
    body: Option<String>,
    state: Option<String>,
    base: Option<String>,
}

/// `PATCH /repos/{o}/{r}/pulls/{n}`: title, body, state, base.
pub(crate) async fn update_pull(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name, number)): GhPath<(String, String, u64)>,
    GhJson(body): GhJson<UpdatePull>,
) -> Result<Json<Value>, ApiError> {
    let repo = shared.open(&owner, &name, &caller, WRITE)?;
    if let Some(base) = &body.base {
        if branch_commit(&repo, base).await?.is_none() {
            return Err(ApiError::validation(
                "PullRequest",
                format!("Proposed base branch '{base}' was not found"),
            ));
        }
    }
    let now = now_rfc3339();
    let issue = shared
        .store
        .update(|state| {
            let issue = issue_mut(state, &repo, number)?;
            let Some(pull) = issue.pull.as_mut() else {
                return Err(ApiError::not_found());
            };
            if let Some(base) = body.base {
                pull.base_ref = base;
            }
            apply_edits(issue, body.title, body.body, body.state, &now)?;
            Ok(issue.clone())
        })
        .await?;
    Ok(Json(pull_json(&shared, &repo, &issue).await?))
}
