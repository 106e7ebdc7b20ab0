//! Downloads with `Content-Length`, `ETag`, `Last-Modified` and 304 answers; bodies are sent
//! as they are read, so a file of any size costs the sandbox one buffer.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use tokio_util::io::ReaderStream;

/// A body about to be sent, with its validators.
pub(crate) struct Download {
    pub(crate) content: Content,
    /// The quoted strong ETag.
    pub(crate) etag: String,
    pub(crate) last_modified: Option<SystemTime>,
    pub(crate) content_type: &'static str,
    pub(crate) filename: Option<String>,
}

/// How much of a file is read per body chunk.
const FILE_CHUNK: usize = 256 * 1024;

/// What a download sends.
pub(crate) enum Content {
    /// Bytes already in memory.
    Bytes(Bytes),
    /// An open file of `len` bytes, read as it is sent.
    File {
        /// The file, positioned at its start.
        file: tokio::fs::File,
        /// Its length.
        len: u64,
    },
}

impl Content {
    fn len(&self) -> u64 {
        match self {
            Content::Bytes(bytes) => bytes.len() as u64,
            Content::File { len, .. } => *len,
        }
    }

    fn into_body(self) -> Body {
        match self {
            Content::Bytes(bytes) => Body::from(bytes),
            Content::File { file, .. } => {
                Body::from_stream(ReaderStream::with_capacity(file, FILE_CHUNK))
            }
        }
    }
}

/// Whether the request's `If-None-Match` / `If-Modified-Since` say the client's copy is current.
/// `If-None-Match` wins when present, as RFC 9110 says.
pub(crate) fn not_modified(
    request: &HeaderMap,
    etag: &str,
    last_modified: Option<SystemTime>,
) -> bool {
    if let Some(candidates) = request
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
    {
        return candidates
            .split(',')
            .map(|candidate| candidate.trim().trim_start_matches("W/"))
            .any(|candidate| candidate == "*" || candidate == etag);
    }
    let since = request
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|text| httpdate::parse_http_date(text).ok());
    match (since, last_modified) {
        (Some(since), Some(modified)) => whole_seconds(modified) <= since,
        _ => false,
    }
}

/// `time` truncated to whole seconds (HTTP dates have no fractions).
fn whole_seconds(time: SystemTime) -> SystemTime {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0);
    UNIX_EPOCH + Duration::from_secs(seconds)
}

impl Download {
    /// 304 with the validators if the client's copy is current, else 200 with the body.
    pub(crate) fn respond(self, request: &HeaderMap) -> Response {
        let mut headers = HeaderMap::new();
        if let Ok(value) = HeaderValue::from_str(&self.etag) {
            headers.insert(header::ETAG, value);
        }
        if let Some(modified) = self.last_modified {
            let text = httpdate::fmt_http_date(whole_seconds(modified));
            if let Ok(value) = HeaderValue::from_str(&text) {
                headers.insert(header::LAST_MODIFIED, value);
            }
        }
        if not_modified(request, &self.etag, self.last_modified) {
            return (StatusCode::NOT_MODIFIED, headers).into_response();
        }
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(self.content_type),
        );
        headers.insert(
            header::CONTENT_LENGTH,
            HeaderValue::from(self.content.len()),
        );
        if let Some(filename) = &self.filename {
            if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename={filename}")) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
        }
        (StatusCode::OK, headers, self.content.into_body()).into_response()
    }
}
