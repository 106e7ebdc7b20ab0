//! Issues, comments and labels (issues and pull requests share numbers, so these work on both).

use super::extract::GhPath;
use axum::Extension;
use axum::Json;
use axum::extract::Query;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::SharedState;
use super::extract::GhJson;
use super::labels::{define_missing, may_create_labels};
use super::paging::{Paged, Pager};
use crate::auth::{Access, CONTENTS_WRITE, Caller, Permission, stable_id};
use crate::error::ApiError;
use crate::repo::Repo;
use crate::shared::Shared;
use crate::state::{Comment, Issue, PullRequest, RepoState, SandboxState, now_rfc3339};

/// The permissions that allow `access` to issue `number`: `issues`, or also `pull_requests` on a PR.
async fn issue_needs(
    shared: &Shared,
    repo: &Repo,
    number: u64,
    access: Access,
) -> Vec<(Permission, Access)> {
    let state = shared.store.snapshot().await;
    let is_pull = state
        .repo(&repo.full_name())
        .and_then(|repo_state| repo_state.issue(number))
        .is_some_and(|issue| issue.pull.is_some());
    if is_pull {
        vec![
            (Permission::Issues, access),
            (Permission::PullRequests, access),
        ]
    } else {
        vec![(Permission::Issues, access)]
    }
}

/// Opens the repository and checks access to issue `number`.
async fn open_issue(
    shared: &Shared,
    caller: &Caller,
    owner: &str,
    name: &str,
    number: u64,
    access: Access,
) -> Result<Repo, ApiError> {
    let repo = shared.repos.open(owner, name)?;
    let needs = issue_needs(shared, &repo, number, access).await;
    caller.require(&repo, &needs)?;
    Ok(repo)
}

/// The repository's state, created on first write.
pub(crate) fn repo_state<'a>(state: &'a mut SandboxState, repo: &Repo) -> &'a mut RepoState {
    state.repos.entry(repo.full_name()).or_default()
}

/// Takes the next issue/pull request number.
fn next_number(repo_state: &mut RepoState) -> u64 {
    let number = repo_state.next_number.max(1);
    repo_state.next_number = number + 1;
    number
}

/// Files an open issue by `user` under the next number (a pull request when `pull` is given),
/// created and updated `now`; returns a copy of it.
pub(crate) fn file_issue(
    repo_state: &mut RepoState,
    title: String,
    body: Option<String>,
    user: String,
    labels: Vec<String>,
    pull: Option<PullRequest>,
    now: String,
) -> Issue {
    let issue = Issue {
        number: next_number(repo_state),
        title,
        body,
        state: "open".to_owned(),
        user,
        labels,
        pull,
        created_at: now.clone(),
        updated_at: now,
        closed_at: None,
    };
    repo_state.issues.push(issue.clone());
    issue
}

/// Appends each of `added` that `labels` does not hold yet, in order.
fn add_missing(labels: &mut Vec<String>, added: Vec<String>) {
    for label in added {
        if !labels.contains(&label) {
            labels.push(label);
        }
    }
}

/// Whether `issue` passes a `state=` filter (`open`, `closed` or `all`).
pub(crate) fn in_state(issue: &Issue, wanted: &str) -> bool {
    wanted == "all" || issue.state == wanted
}

/// Applies the edits issues and pull requests share (title, body, state) and stamps `updated_at`.
pub(crate) fn apply_edits(
    issue: &mut Issue,
    title: Option<String>,
    body: Option<String>,
    state: Option<String>,
    now: &str,
) -> Result<(), ApiError> {
    if let Some(title) = title {
        issue.title = title;
    }
    if let Some(text) = body {
        issue.body = Some(text);
    }
    if let Some(new_state) = state {
        set_state(issue, &new_state, now)?;
    }
    issue.updated_at = now.to_owned();
    Ok(())
}

/// The issue numbered `number`, mutable, or 404.
pub(crate) fn issue_mut<'a>(
    state: &'a mut SandboxState,
    repo: &Repo,
    number: u64,
) -> Result<&'a mut Issue, ApiError> {
    state
        .repos
        .get_mut(&repo.full_name())
        .and_then(|repo_state| {
            repo_state
                .issues
                .iter_mut()
                .find(|issue| issue.number == number)
        })
        .ok_or_else(ApiError::not_found)
}

/// Sets `state` (`open`/`closed`), keeping `closed_at` in step.
fn set_state(issue: &mut Issue, state: &str, now: &str) -> Result<(), ApiError> {
    match state {
        "open" => issue.closed_at = None,
        "closed" if issue.state != "closed" => issue.closed_at = Some(now.to_owned()),
        "closed" => {}
        other => {
            return Err(ApiError::validation(
                "Issue",
                format!("state must be open or closed, not {other:?}"),
            ));
        }
    }
    issue.state = state.to_owned();
    Ok(())
}

/// GitHub's label objects for `names`.
pub(crate) fn labels_json(names: &[String]) -> Value {
    names
        .iter()
        .map(|label| json!({ "id": stable_id(&format!("label:{label}")), "name": label, "color": "ededed", "default": false }))
        .collect()
}

/// GitHub's issue JSON (pull requests carry a `pull_request` key, as on GitHub).
pub(crate) fn issue_json(shared: &Shared, repo: &Repo, issue: &Issue, comments: usize) -> Value {
    let api = shared.repo_api_url(repo);
    let html = shared.html_url(repo);
    let number = issue.number;
    let kind = if issue.pull.is_some() {
        "pull"
    } else {
        "issues"
    };
    let mut value = json!({
        "id": stable_id(&format!("{}#{number}", repo.full_name())),
        "node_id": format!("I_{number}"),
        "number": number,
        "url": format!("{api}/issues/{number}"),
        "html_url": format!("{html}/{kind}/{number}"),
        "state": issue.state,
        "title": issue.title,
        "body": issue.body,
        "user": { "login": issue.user },
        "labels": labels_json(&issue.labels),
        "comments": comments,
        "created_at": issue.created_at,
        "updated_at": issue.updated_at,
        "closed_at": issue.closed_at,
    });
    if let (Some(_), Some(map)) = (&issue.pull, value.as_object_mut()) {
        map.insert(
            "pull_request".to_owned(),
            json!({
                "url": format!("{api}/pulls/{number}"),
                "html_url": format!("{html}/pull/{number}"),
                "diff_url": format!("{html}/pull/{number}.diff"),
                "patch_url": format!("{html}/pull/{number}.patch"),
                "merged_at": null,
            }),
        );
    }
    super::shapes::issue(shared, &repo.full_name(), value)
}

/// Query of `GET /issues`.
#[derive(Deserialize)]
pub(crate) struct IssueQuery {
    state: Option<String>,
    labels: Option<String>,
    creator: Option<String>,
}

/// `GET /repos/{o}/{r}/issues?state=&labels=&creator=`, newest first.
pub(crate) async fn list_issues(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name)): GhPath<(String, String)>,
    Query(query): Query<IssueQuery>,
    pager: Pager,
) -> Result<Paged, ApiError> {
    let repo = shared.open(
        &owner,
        &name,
        &caller,
        &[(Permission::Issues, Access::Read)],
    )?;
    let wanted_state = query.state.unwrap_or_else(|| "open".to_owned());
    let wanted_labels: Vec<&str> = query
        .labels
        .as_deref()
        .map(|labels| {
            labels
                .split(',')
                .map(str::trim)
                .filter(|label| !label.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let state = shared.store.snapshot().await;
    let Some(repo_state) = state.repo(&repo.full_name()) else {
        return Ok(pager.respond(&shared.api_url(), Vec::new()));
    };
    let listed: Vec<Value> = repo_state
        .issues
        .iter()
        .rev()
        .filter(|issue| in_state(issue, &wanted_state))
        .filter(|issue| {
            wanted_labels
                .iter()
                .all(|label| issue.labels.iter().any(|have| have == label))
        })
        .filter(|issue| {
            query
                .creator
                .as_ref()
                .is_none_or(|creator| &issue.user == creator)
        })
        .map(|issue| {
            issue_json(
                &shared,
                &repo,
                issue,
                repo_state.comments_on(issue.number).count(),
            )
        })
        .collect();
    Ok(pager.respond(&shared.api_url(), listed))
}

/// Body of `POST /issues`.
#[derive(Deserialize)]
pub(crate) struct CreateIssue {
    title: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    labels: Vec<String>,
}

/// `POST /repos/{o}/{r}/issues` → 201.
pub(crate) async fn create_issue(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name)): GhPath<(String, String)>,
    GhJson(body): GhJson<CreateIssue>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let repo = shared.open(
        &owner,
        &name,
        &caller,
        &[(Permission::Issues, Access::Write)],
    )?;
    if body.title.trim().is_empty() {
        return Err(ApiError::validation("Issue", "title cannot be blank"));
    }
    let user = shared.auth.actor(&caller).login;
    let now = now_rfc3339();
    // GitHub drops the labels of a new issue, silently, when the caller has no push access; an
    // App's `issues: write` carries the triage right to label issues, so it counts here.
    let push = caller
        .require(
            &repo,
            &[CONTENTS_WRITE[0], (Permission::Issues, Access::Write)],
        )
        .is_ok();
    let may_create = may_create_labels(&caller, &repo);
    let issue = shared
        .store
        .update(|state| {
            let mut labels = Vec::new();
            if push {
                let names = define_missing(repo_state(state, &repo), &body.labels, may_create)?;
                add_missing(&mut labels, names);
            }
            Ok(file_issue(
                repo_state(state, &repo),
                body.title,
                body.body,
                user,
                labels,
                None,
                now,
            ))
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(issue_json(&shared, &repo, &issue, 0)),
    ))
}

/// `GET /repos/{o}/{r}/issues/{n}`.
pub(crate) async fn get_issue(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name, number)): GhPath<(String, String, u64)>,
) -> Result<Json<Value>, ApiError> {
    let repo = open_issue(&shared, &caller, &owner, &name, number, Access::Read).await?;
    let state = shared.store.snapshot().await;
    let repo_state = state
        .repo(&repo.full_name())
        .ok_or_else(ApiError::not_found)?;
    let issue = repo_state.issue(number).ok_or_else(ApiError::not_found)?;
    Ok(Json(issue_json(
        &shared,
        &repo,
        issue,
        repo_state.comments_on(number).count(),
    )))
}

/// Body of `PATCH /issues/{n}`.
#[derive(Deserialize)]
pub(crate) struct UpdateIssue {
    title: Option<String>,
    body: Option<String>,
    state: Option<String>,
    labels: Option<Vec<String>>,
}

/// `PATCH /repos/{o}/{r}/issues/{n}`: title, body, state, labels (replacing them).
pub(crate) async fn update_issue(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name, number)): GhPath<(String, String, u64)>,
    GhJson(body): GhJson<UpdateIssue>,
) -> Result<Json<Value>, ApiError> {
    let repo = open_issue(&shared, &caller, &owner, &name, number, Access::Write).await?;
    let now = now_rfc3339();
    let (issue, comments) = shared
        .store
        .update(|state| {
            let issue = issue_mut(state, &repo, number)?;
            apply_edits(issue, body.title, body.body, body.state, &now)?;
            if let Some(labels) = body.labels {
                issue.labels = labels;
            }
            let issue = issue.clone();
            let comments = state
                .repo(&repo.full_name())
                .map_or(0, |repo_state| repo_state.comments_on(number).count());
            Ok((issue, comments))
        })
        .await?;
    Ok(Json(issue_json(&shared, &repo, &issue, comments)))
}

fn comment_json(shared: &Shared, repo: &Repo, comment: &Comment) -> Value {
    let api = shared.repo_api_url(repo);
    super::shapes::comment(
        shared,
        json!({
            "id": comment.id,
            "node_id": format!("IC_{}", comment.id),
            "body": comment.body,
            "user": { "login": comment.user },
            "url": format!("{api}/issues/comments/{}", comment.id),
            "html_url": format!("{}/issues/{}#issuecomment-{}", shared.html_url(repo), comment.issue_number, comment.id),
            "issue_url": format!("{api}/issues/{}", comment.issue_number),
            "created_at": comment.created_at,
            "updated_at": comment.created_at,
        }),
    )
}

/// `GET /repos/{o}/{r}/issues/{n}/comments`, oldest first.
pub(crate) async fn list_comments(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name, number)): GhPath<(String, String, u64)>,
) -> Result<Json<Value>, ApiError> {
    let repo = open_issue(&shared, &caller, &owner, &name, number, Access::Read).await?;
    let state = shared.store.snapshot().await;
    let repo_state = state
        .repo(&repo.full_name())
        .ok_or_else(ApiError::not_found)?;
    repo_state.issue(number).ok_or_else(ApiError::not_found)?;
    let comments: Vec<Value> = repo_state
        .comments_on(number)
        .map(|comment| comment_json(&shared, &repo, comment))
        .collect();
    Ok(Json(Value::Array(comments)))
}

/// Body of `POST /issues/{n}/comments`.
#[derive(Deserialize)]
pub(crate) struct CreateComment {
    body: String,
}

/// `POST /repos/{o}/{r}/issues/{n}/comments` → 201.
pub(crate) async fn create_comment(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name, number)): GhPath<(String, String, u64)>,
    GhJson(body): GhJson<CreateComment>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let repo = open_issue(&shared, &caller, &owner, &name, number, Access::Write).await?;
    let user = shared.auth.actor(&caller).login;
    let now = now_rfc3339();
    let comment = shared
        .store
        .update(|state| {
            issue_mut(state, &repo, number)?.updated_at = now.clone();
            let id = state.next_comment_id.max(1);
            state.next_comment_id = id + 1;
            let comment = Comment {
                id,
                issue_number: number,
                body: body.body,
                user,
                created_at: now,
            };
            repo_state(state, &repo).comments.push(comment.clone());
            Ok(comment)
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(comment_json(&shared, &repo, &comment)),
    ))
}

/// Body of `POST /issues/{n}/labels`: `{"labels": [...]}` or a bare array.
#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum AddLabels {
    Object { labels: Vec<String> },
    Array(Vec<String>),
}

/// `POST /repos/{o}/{r}/issues/{n}/labels` → 200 with all the issue's labels.
pub(crate) async fn add_labels(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name, number)): GhPath<(String, String, u64)>,
    GhJson(body): GhJson<AddLabels>,
) -> Result<Json<Value>, ApiError> {
    let repo = open_issue(&shared, &caller, &owner, &name, number, Access::Write).await?;
    let added = match body {
        AddLabels::Object { labels } | AddLabels::Array(labels) => labels,
    };
    let now = now_rfc3339();
    let may_create = may_create_labels(&caller, &repo);
    let labels = shared
        .store
        .update(|state| {
            issue_mut(state, &repo, number)?;
            let added = define_missing(repo_state(state, &repo), &added, may_create)?;
            let issue = issue_mut(state, &repo, number)?;
            add_missing(&mut issue.labels, added);
            issue.updated_at = now;
            Ok(issue.labels.clone())
        })
        .await?;
    Ok(Json(super::shapes::labels(
        &shared,
        &repo.full_name(),
        labels_json(&labels),
    )))
}

/// `DELETE /repos/{o}/{r}/issues/{n}/labels/{name}` → 200 with the labels left, or 404
/// "Label does not exist" when the issue does not carry it.
pub(crate) async fn remove_label(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name, number, label)): GhPath<(String, String, u64, String)>,
) -> Result<Json<Value>, ApiError> {
    let repo = open_issue(&shared, &caller, &owner, &name, number, Access::Write).await?;
    let now = now_rfc3339();
    let labels = shared
        .store
        .update(|state| {
            let issue = issue_mut(state, &repo, number)?;
            let before = issue.labels.len();
            issue.labels.retain(|existing| *existing != label);
            if issue.labels.len() == before {
                return Err(ApiError::new(StatusCode::NOT_FOUND, "Label does not exist"));
            }
            issue.updated_at = now;
            Ok(issue.labels.clone())
        })
        .await?;
    Ok(Json(super::shapes::labels(
        &shared,
        &repo.full_name(),
        labels_json(&labels),
    )))
}
