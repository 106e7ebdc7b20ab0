//! The layer every request passes: caller, faults, rate-limit headers and the request log.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::faults::{FaultAction, FaultPlan};
use crate::lag::LagAfter;
use crate::log::LoggedRequest;
use crate::shared::Shared;

/// The primary rate limit the sandbox advertises.
const RATE_LIMIT: u64 = 5000;

/// Marks a response whose connection must be closed without sending it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DropConnection;

/// Runs one request through the fault plan and the handler, and logs it.
pub(crate) async fn pipeline(
    State(shared): State<Arc<Shared>>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if path == "/_sandbox" || path.starts_with("/_sandbox/") {
        return next.run(request).await;
    }
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let query = request.uri().query().map(str::to_owned);
    let is_api = path == "/api/v3" || path.starts_with("/api/v3/");
    let (scope, caller) = match shared.auth.caller(request.headers()) {
        Ok(caller) => (caller.scope(), Ok(caller)),
        Err((scope, error)) => (scope, Err(error)),
    };
    let public = matches!(caller, Ok(Caller::Public));
    // A GET's conditional headers, for the ETag answer after the handler.
    let conditional =
        (is_api && method == "GET").then(|| crate::etag::conditional_headers(request.headers()));
    let log = |status: Option<u16>, response_bytes: u64| {
        shared.log.push(LoggedRequest {
            method: method.clone(),
            path: path.clone(),
            query: query.clone(),
            status,
            scope: scope.clone(),
            started_ms: shared.log.offset_ms(started),
            duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            response_bytes,
        });
    };

    // A renamed repository's old name answers GitHub's redirect, faults aside.
    let moved = is_api
        .then(|| {
            shared
                .renames
                .redirect(&shared.api_url(), &method, &path, query.as_deref())
        })
        .flatten();
    let plan = if moved.is_some() {
        FaultPlan::default()
    } else {
        shared.faults.take(&method, &path)
    };
    if plan.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(plan.latency_ms)).await;
    }
    let mut after_effect = None;
    let early = match plan.terminal {
        Some(FaultAction::Status {
            status,
            retry_after_secs,
            after_effect: true,
        }) => {
            after_effect = Some((status, retry_after_secs));
            None
        }
        Some(FaultAction::Status {
            status,
            retry_after_secs,
            ..
        }) => Some(fault_response(status, retry_after_secs)),
        Some(FaultAction::Drop) => {
            log(None, 0);
            let mut response = Response::default();
            response.extensions_mut().insert(DropConnection);
            return response;
        }
        Some(FaultAction::Redirect { location }) => Some(redirect_response(&location, is_api)),
        Some(FaultAction::Stall) => {
            log(None, 0);
            return std::future::pending::<Response>().await;
        }
        _ => None,
    };
    #[cfg(feature = "contract")]
    let faulted = early.is_some() || after_effect.is_some();
    let early = moved.or(early).or_else(|| {
        (is_api && public)
            .then(|| public_limit_reached(&shared))
            .flatten()
    });
    #[cfg(feature = "contract")]
    let sent = {
        let (read, sent) = crate::contract::read_request(&shared.contract, is_api, request).await;
        request = read;
        sent
    };
    let response = match (early, caller) {
        (Some(response), _) => response,
        (None, Err(error)) if is_api => error.into_response(),
        (None, caller) => {
            request
                .extensions_mut()
                .insert(caller.unwrap_or(Caller::Anonymous));
            if plan.lag_ms > 0 {
                request
                    .extensions_mut()
                    .insert(LagAfter(Some(Duration::from_millis(plan.lag_ms))));
            }
            let response = next.run(request).await;
            let response = match &conditional {
                Some(headers) => crate::etag::tag(headers, response).await,
                None => response,
            };
            match after_effect {
                Some((status, retry_after)) => fault_response(status, retry_after),
                None => response,
            }
        }
    };
    let response = match &plan.drop_field {
        Some(field) => drop_field(response, field).await,
        None => response,
    };
    #[cfg(feature = "contract")]
    let response =
        crate::contract::check_response(&shared.contract, sent, &method, &path, response, faulted)
            .await;
    let mut response = shape_body(response, plan.truncate, plan.bandwidth).await;
    if is_api {
        add_rate_limit_headers(&shared, public, &mut response);
    }
    let declared = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse().ok())
        .or_else(|| http_body::Body::size_hint(response.body()).exact())
        .unwrap_or(0);
    log(Some(response.status().as_u16()), declared);
    response
}

/// The largest answer a `drop_field` fault rewrites (API answers are far smaller).
const RESHAPE_LIMIT: usize = 64 * 1024 * 1024;

/// A successful JSON object answer without its top-level `field`; other answers unchanged.
async fn drop_field(response: Response, field: &str) -> Response {
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.contains("json"));
    if !response.status().is_success() || !is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, RESHAPE_LIMIT).await else {
        return ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error")
            .into_response();
    };
    let reshaped = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(serde_json::Value::Object(mut object)) => {
            object.remove(field);
            Bytes::from(serde_json::Value::Object(object).to_string())
        }
        _ => bytes,
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(reshaped))
}

/// `302 Found` to `location`; from the API, with the body GitHub's API gives a redirect.
fn redirect_response(location: &str, is_api: bool) -> Response {
    let body = serde_json::json!({
        "message": "Found",
        "url": location,
        "documentation_url": "https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api#follow-redirects",
    });
    match HeaderValue::from_str(location) {
        Ok(value) if is_api => (
            StatusCode::FOUND,
            [(header::LOCATION, value)],
            axum::Json(body),
        )
            .into_response(),
        Ok(value) => (StatusCode::FOUND, [(header::LOCATION, value)]).into_response(),
        Err(_) => ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Invalid redirect location",
        )
        .into_response(),
    }
}

/// The answer a status fault gives, with GitHub's wording.
fn fault_response(status: u16, retry_after_secs: Option<u64>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut error = match status {
        403 | 429 => {
            let mut error = ApiError::new(
                code,
                "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
            );
            error.retry_after = Some(retry_after_secs.unwrap_or(1));
            error
        }
        409 => ApiError::new(code, "Conflict"),
        422 => ApiError::new(code, "Validation Failed"),
        502 => ApiError::new(code, "Server Error"),
        503 => ApiError::new(code, "Service Unavailable"),
        _ => ApiError::new(code, "Internal Server Error"),
    };
    if let (None, Some(secs)) = (error.retry_after, retry_after_secs) {
        error.retry_after = Some(secs);
    }
    error.into_response()
}

/// GitHub's refusal once the requests without a token have used up their hourly limit.
fn public_limit_reached(shared: &Shared) -> Option<Response> {
    if shared.public_requests.load(Ordering::Relaxed) < shared.public_rate_limit {
        return None;
    }
    Some(
        ApiError::new(
            StatusCode::FORBIDDEN,
            "API rate limit exceeded for 127.0.0.1. (But here's the good news: Authenticated requests get a higher rate limit. Check out the documentation for more details.)",
        )
        .into_response(),
    )
}

/// GitHub's `x-ratelimit-*` headers. Requests without a token share their own (small) limit and
/// every answer counts, 304s included; with a token a 304 costs nothing, as GitHub documents.
fn add_rate_limit_headers(shared: &Shared, public: bool, response: &mut Response) {
    let not_modified = response.status() == StatusCode::NOT_MODIFIED;
    let (limit, used) = if public {
        let limit = shared.public_rate_limit;
        let before = shared.public_requests.load(Ordering::Relaxed);
        let used = if before < limit {
            shared.public_requests.fetch_add(1, Ordering::Relaxed) + 1
        } else {
            before
        };
        (limit, used.min(limit))
    } else if not_modified {
        let used = shared.api_requests.load(Ordering::Relaxed) % RATE_LIMIT;
        (RATE_LIMIT, used)
    } else {
        let used = shared.api_requests.fetch_add(1, Ordering::Relaxed) % RATE_LIMIT + 1;
        (RATE_LIMIT, used)
    };
    let headers = response.headers_mut();
    headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(limit - used));
    headers.insert("x-ratelimit-reset", HeaderValue::from(shared.rate_reset));
    headers.insert("x-ratelimit-used", HeaderValue::from(used));
    headers.insert("x-ratelimit-resource", HeaderValue::from_static("core"));
}

/// Applies a truncate or bandwidth fault to a successful body as it streams (a body of any size
/// is never held whole); other answers pass unchanged. The declared `Content-Length` is kept, so
/// a truncated body announces more than it sends.
async fn shape_body(response: Response, truncate: Option<u64>, bandwidth: Option<u64>) -> Response {
    if (truncate.is_none() && bandwidth.is_none()) || response.status() != StatusCode::OK {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<u64>().ok())
        .or_else(|| http_body::Body::size_hint(&body).exact());
    if let Some(length) = declared {
        parts
            .headers
            .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    let truncated = truncate.is_some_and(|limit| declared.is_none_or(|length| limit < length));
    let kept = body
        .into_data_stream()
        .map(|chunk| chunk.map_err(std::io::Error::other))
        .scan(truncate, |left, chunk| {
            let chunk = match (left.as_mut(), chunk) {
                (Some(0), _) => return std::future::ready(None),
                (Some(left), Ok(mut bytes)) => {
                    let keep = usize::try_from(*left)
                        .unwrap_or(usize::MAX)
                        .min(bytes.len());
                    bytes.truncate(keep);
                    *left -= keep as u64;
                    Ok(bytes)
                }
                (None, chunk) | (Some(_), chunk) => chunk,
            };
            std::future::ready(Some(chunk))
        });
    let piece = bandwidth.map_or(usize::MAX, |rate| {
        usize::try_from((rate / 10).max(1)).unwrap_or(usize::MAX)
    });
    let paced = kept
        .flat_map(move |chunk| futures::stream::iter(pieces(chunk, piece)))
        .then(move |piece| async move {
            if let (Some(rate), Ok(bytes)) = (bandwidth, &piece) {
                let micros = (bytes.len() as u64).saturating_mul(1_000_000) / rate.max(1);
                tokio::time::sleep(Duration::from_micros(micros)).await;
            }
            piece
        });
    // Before failing the body, pause once: hyper flushes what it holds while the body is pending,
    // so the client really receives the bytes before the connection is cut.
    let cut = futures::stream::iter(truncated.then_some(())).then(|()| async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        Err(std::io::Error::other("body truncated by a sandbox fault"))
    });
    Response::from_parts(parts, Body::from_stream(paced.chain(cut)))
}

/// `chunk` split into pieces of at most `size` bytes (an error passes as it is).
fn pieces(chunk: Result<Bytes, std::io::Error>, size: usize) -> Vec<Result<Bytes, std::io::Error>> {
    match chunk {
        Ok(bytes) if bytes.len() > size => (0..bytes.len())
            .step_by(size)
            .map(|start| Ok(bytes.slice(start..(start + size).min(bytes.len()))))
            .collect(),
        other => vec![other],
    }
}
