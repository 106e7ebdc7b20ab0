//! Request body parsing with GitHub's error answers (400 for bad JSON, 422 for a bad shape).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON request body; malformed JSON is 400 `Problems parsing JSON`, a wrong shape 422.
pub(crate) struct GhJson<T>(pub(crate) T);

impl<S, T> FromRequest<S> for GhJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|_| ApiError::bad_json())?;
        parse(&bytes).map(GhJson)
    }
}

fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|_| ApiError::bad_json())?;
    serde_json::from_value(value)
        .map_err(|error| ApiError::unprocessable(format!("Invalid request.\n\n{error}")))
}

/// A body that may be empty (then `T::default()`), else JSON as for [`GhJson`].
pub(crate) fn parse_optional<T: DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        parse(bytes)
    }
}

/// Path parameters; a segment that does not parse (`/issues/abc`) is 404 `Not Found`, as on GitHub.
pub(crate) struct GhPath<T>(pub(crate) T);

impl<S, T> axum::extract::FromRequestParts<S> for GhPath<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| GhPath(value))
            .map_err(|_| ApiError::not_found())
    }
}
