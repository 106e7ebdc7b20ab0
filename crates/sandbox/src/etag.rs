//! GitHub's conditional API reads: every successful GET answer carries a weak `ETag` (a hash of
//! its body), and a GET whose `If-None-Match` names it is answered `304 Not Modified` with no
//! body. GitHub does this for every GET, though its description lists 304 for only a few
//! operations (`contract.rs` allows it on any GET).

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::web::conditional::not_modified;

/// The most of an API answer that is hashed; larger answers (none the API gives) pass untagged.
const MAX_TAGGED: usize = 256 * 1024 * 1024;

/// The headers of a request [`tag`] reads (`If-None-Match`, `If-Modified-Since`), kept while the
/// handler runs instead of the whole map.
pub(crate) fn conditional_headers(request: &HeaderMap) -> HeaderMap {
    let mut kept = HeaderMap::new();
    for name in [header::IF_NONE_MATCH, header::IF_MODIFIED_SINCE] {
        for value in request.get_all(&name) {
            kept.append(name.clone(), value.clone());
        }
    }
    kept
}

/// Adds the `ETag` to a 200 answer to a GET, or turns it into a 304 when `request` already
/// holds that ETag. Other answers pass unchanged.
pub(crate) async fn tag(request: &HeaderMap, response: Response) -> Response {
    if response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_TAGGED).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "answer too large to tag").into_response();
    };
    let strong = format!("\"{:x}\"", Sha256::digest(&bytes));
    if let Ok(value) = HeaderValue::from_str(&format!("W/{strong}")) {
        parts.headers.insert(header::ETAG, value);
    }
    if not_modified(request, &strong, None) {
        let mut headers = HeaderMap::new();
        for name in [header::ETAG, header::LINK, header::VARY] {
            if let Some(value) = parts.headers.get(&name) {
                headers.insert(name, value.clone());
            }
        }
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    Response::from_parts(parts, Body::from(bytes))
}
