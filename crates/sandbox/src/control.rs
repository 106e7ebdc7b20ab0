//! `/_sandbox/*`: the fault plan and the request log over HTTP (never faulted, never logged).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::faults::FaultRule;
use crate::shared::Shared;

/// `POST|GET|DELETE /_sandbox/faults`, `GET /_sandbox/log`.
pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/_sandbox/faults",
            get(list_faults).post(add_faults).delete(clear_faults),
        )
        .route("/_sandbox/log", get(request_log))
}

/// One rule or a list of rules.
#[derive(Deserialize)]
#[serde(untagged)]
enum NewFaults {
    One(FaultRule),
    Many(Vec<FaultRule>),
}

async fn add_faults(
    State(shared): State<Arc<Shared>>,
    crate::api::GhJson(body): crate::api::GhJson<NewFaults>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let rules = match body {
        NewFaults::One(rule) => vec![rule],
        NewFaults::Many(rules) => rules,
    };
    for rule in rules {
        shared
            .faults
            .add(rule)
            .map_err(|error| ApiError::unprocessable(error.to_string()))?;
    }
    Ok((StatusCode::CREATED, Json(json!(shared.faults.rules()))))
}

async fn list_faults(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!(shared.faults.rules()))
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.faults.clear();
    StatusCode::NO_CONTENT
}

async fn request_log(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!(shared.log.entries()))
}
