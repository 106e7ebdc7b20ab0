//! Branch rules, as the sandbox's rulesets ([`crate::Rulesets`]) hold them: `GET
//! /repos/{o}/{r}/rules/branches/{branch}` (the rules in force on a branch, each naming its
//! ruleset) and `GET /repos/{o}/{r}/rulesets/{id}` (one ruleset, with whether the caller may
//! bypass it). Every rule of the sandbox is a `pull_request` rule in a ruleset of its own.

use axum::Extension;
use axum::Json;
use serde_json::{Value, json};

use super::SharedState;
use super::extract::GhPath;
use crate::auth::{Access, Caller, Permission, stable_id};
use crate::error::ApiError;
use crate::rules::BranchRule;

/// Reading rules takes read access to the repository.
const READ: &[(Permission, Access)] = &[(Permission::Metadata, Access::Read)];

/// A pull request rule's parameters, as GitHub describes a rule that only requires pull requests.
fn pull_request_parameters() -> Value {
    json!({
        "dismiss_stale_reviews_on_push": false,
        "require_code_owner_review": false,
        "require_last_push_approval": false,
        "required_approving_review_count": 0,
        "required_review_thread_resolution": false,
    })
}

/// The id of the ruleset holding `rule` (stable across restarts).
fn ruleset_id(rule: &BranchRule) -> u64 {
    stable_id(&format!("ruleset:{}:{}", rule.repository, rule.branch)) % 1_000_000
}

/// `GET /repos/{o}/{r}/rules/branches/{branch}` → every rule in force on the branch.
pub(crate) async fn branch_rules(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name, branch)): GhPath<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let repo = shared.open(&owner, &name, &caller, READ)?;
    let full_name = repo.full_name();
    let rules: Vec<Value> = shared
        .rulesets
        .rules()
        .iter()
        .filter(|rule| rule.repository == full_name && rule.branch == branch)
        .map(|rule| {
            json!({
                "type": "pull_request",
                "parameters": pull_request_parameters(),
                "ruleset_source_type": "Repository",
                "ruleset_source": full_name,
                "ruleset_id": ruleset_id(rule),
            })
        })
        .collect();
    Ok(Json(Value::Array(rules)))
}

/// `GET /repos/{o}/{r}/rulesets/{id}` → the ruleset; `current_user_can_bypass` says whether the
/// caller (the App's installation, when on the bypass list) may push past it.
pub(crate) async fn get_ruleset(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name, id)): GhPath<(String, String, u64)>,
) -> Result<Json<Value>, ApiError> {
    let repo = shared.open(&owner, &name, &caller, READ)?;
    let full_name = repo.full_name();
    let rule = shared
        .rulesets
        .rules()
        .into_iter()
        .find(|rule| rule.repository == full_name && ruleset_id(rule) == id)
        .ok_or_else(ApiError::not_found)?;
    let bypass = if rule.app_may_bypass && matches!(caller, Caller::Installation(_)) {
        "always"
    } else {
        "never"
    };
    let api = format!("{}/repos/{full_name}/rulesets/{id}", shared.api_url());
    Ok(Json(json!({
        "id": id,
        "name": format!("Require pull requests on {}", rule.branch),
        "target": "branch",
        "source_type": "Repository",
        "source": full_name,
        "enforcement": "active",
        "current_user_can_bypass": bypass,
        "node_id": format!("RRS_{id}"),
        "_links": {
            "self": { "href": api },
            "html": { "href": format!("{}/settings/rules/{id}", shared.html_url(&repo)) },
        },
        "conditions": {
            "ref_name": { "include": [format!("refs/heads/{}", rule.branch)], "exclude": [] }
        },
        "rules": [{ "type": "pull_request", "parameters": pull_request_parameters() }],
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    })))
}
