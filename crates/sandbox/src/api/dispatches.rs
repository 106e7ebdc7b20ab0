//! `POST /repos/{o}/{r}/dispatches`: recorded in the state, answered 204.

use super::extract::GhPath;
use axum::Extension;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;

use super::SharedState;
use super::extract::GhJson;
use super::issues::repo_state;
use crate::auth::{CONTENTS_WRITE, Caller};
use crate::error::ApiError;
use crate::state::{Dispatch, now_rfc3339};

/// GitHub's limit on `client_payload`'s top-level keys.
const MAX_PAYLOAD_KEYS: usize = 10;
/// The largest `client_payload` GitHub accepts, serialized.
const MAX_PAYLOAD_BYTES: usize = 64 * 1024;

/// Body of `POST /dispatches`.
#[derive(Deserialize)]
pub(crate) struct CreateDispatch {
    event_type: String,
    #[serde(default)]
    client_payload: Option<Value>,
}

/// Records a `repository_dispatch` event.
pub(crate) async fn create_dispatch(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name)): GhPath<(String, String)>,
    GhJson(body): GhJson<CreateDispatch>,
) -> Result<StatusCode, ApiError> {
    let repo = shared.open(&owner, &name, &caller, CONTENTS_WRITE)?;
    if body.event_type.is_empty() || body.event_type.len() > 100 {
        return Err(ApiError::unprocessable(
            "Invalid request.\n\nevent_type must be 1 to 100 characters.",
        ));
    }
    let payload = body.client_payload.unwrap_or(Value::Null);
    if payload.to_string().len() > MAX_PAYLOAD_BYTES {
        return Err(ApiError::unprocessable(
            "Invalid request.\n\nclient_payload is too large: at most 64 KB.",
        ));
    }
    match &payload {
        Value::Null => {}
        Value::Object(map) if map.len() <= MAX_PAYLOAD_KEYS => {}
        Value::Object(_) => {
            return Err(ApiError::unprocessable(
                "Invalid request.\n\nNo more than 10 properties are allowed; too many were supplied.",
            ));
        }
        _ => {
            return Err(ApiError::unprocessable(
                "Invalid request.\n\nclient_payload must be an object.",
            ));
        }
    }
    let sender = shared.auth.actor(&caller).login;
    shared
        .store
        .update(|state| {
            repo_state(state, &repo).dispatches.push(Dispatch {
                event_type: body.event_type,
                client_payload: payload,
                sender,
                received_at: now_rfc3339(),
            });
            Ok(())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
