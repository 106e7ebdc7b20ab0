//! The REST API under `/api/v3`: routing and the pieces every endpoint module shares.

mod actions;
mod app;
mod blobs;
mod compare;
mod contents;
mod dispatches;
pub(crate) mod extract;
mod issues;
mod labels;
mod objects;
pub(crate) mod paging;
mod pulls;
mod refs;
mod repos;
mod rules;
mod shapes;
mod users;

use std::sync::Arc;

use axum::Router;
use axum::routing::{delete, get, patch, post};

use crate::shared::Shared;

/// Handler state: the shared sandbox.
pub(crate) type SharedState = axum::extract::State<Arc<Shared>>;

/// Every `/api/v3` route (without the prefix).
pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/app", get(app::get_app))
        .route("/user", get(users::get_authenticated_user))
        .route("/users/{login}", get(users::get_user))
        .route(
            "/app/installations/{id}/access_tokens",
            post(app::create_access_token),
        )
        .route(
            "/installation/token",
            delete(app::revoke_installation_token),
        )
        .route("/repos/{owner}/{repo}", get(repos::get_repo))
        .route(
            "/repos/{owner}/{repo}/installation",
            get(app::get_installation),
        )
        .route("/repos/{owner}/{repo}/git/ref/{*name}", get(refs::get_ref))
        .route("/repos/{owner}/{repo}/git/refs", post(refs::create_ref))
        .route(
            "/repos/{owner}/{repo}/git/matching-refs/{*prefix}",
            get(refs::matching_refs),
        )
        .route(
            "/repos/{owner}/{repo}/git/refs/{*name}",
            patch(refs::update_ref).delete(refs::delete_ref),
        )
        .route(
            "/repos/{owner}/{repo}/git/blobs",
            post(objects::create_blob),
        )
        .route(
            "/repos/{owner}/{repo}/git/blobs/{sha}",
            get(blobs::get_blob),
        )
        .route(
            "/repos/{owner}/{repo}/git/trees",
            post(objects::create_tree),
        )
        .route(
            "/repos/{owner}/{repo}/git/trees/{sha}",
            get(objects::get_tree),
        )
        .route(
            "/repos/{owner}/{repo}/git/commits",
            post(objects::create_commit),
        )
        .route(
            "/repos/{owner}/{repo}/git/commits/{sha}",
            get(objects::get_commit),
        )
        .route("/repos/{owner}/{repo}/contents", get(contents::get_root))
        .route("/repos/{owner}/{repo}/contents/", get(contents::get_root))
        .route(
            "/repos/{owner}/{repo}/contents/{*path}",
            get(contents::get_path),
        )
        .route(
            "/repos/{owner}/{repo}/compare/{*spec}",
            get(compare::compare),
        )
        .route(
            "/repos/{owner}/{repo}/pulls",
            get(pulls::list_pulls).post(pulls::create_pull),
        )
        .route(
            "/repos/{owner}/{repo}/pulls/{number}",
            get(pulls::get_pull).patch(pulls::update_pull),
        )
        .route(
            "/repos/{owner}/{repo}/issues",
            get(issues::list_issues).post(issues::create_issue),
        )
        .route(
            "/repos/{owner}/{repo}/issues/{number}",
            get(issues::get_issue).patch(issues::update_issue),
        )
        .route(
            "/repos/{owner}/{repo}/issues/{number}/comments",
            get(issues::list_comments).post(issues::create_comment),
        )
        .route(
            "/repos/{owner}/{repo}/issues/{number}/labels",
            post(issues::add_labels),
        )
        .route(
            "/repos/{owner}/{repo}/issues/{number}/labels/{name}",
            delete(issues::remove_label),
        )
        .route(
            "/repos/{owner}/{repo}/labels",
            get(labels::list_labels).post(labels::create_label),
        )
        .route(
            "/repos/{owner}/{repo}/labels/{name}",
            get(labels::get_label),
        )
        .route(
            "/repos/{owner}/{repo}/rules/branches/{*branch}",
            get(rules::branch_rules),
        )
        .route(
            "/repos/{owner}/{repo}/rulesets/{id}",
            get(rules::get_ruleset),
        )
        .route(
            "/repos/{owner}/{repo}/dispatches",
            post(dispatches::create_dispatch),
        )
        .route(
            "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches",
            post(actions::create_workflow_dispatch),
        )
        .route(
            "/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs",
            get(actions::list_workflow_runs),
        )
        .route(
            "/repos/{owner}/{repo}/actions/runs/{run_id}",
            get(actions::get_workflow_run),
        )
        .route(
            "/repos/{owner}/{repo}/actions/runs/{run_id}/jobs",
            get(actions::list_workflow_run_jobs),
        )
}

pub(crate) use extract::GhJson;
