//! `GET /_downloads/{path}`: static files under `ROOT/_downloads`, never outside it.

use std::path::PathBuf;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use super::conditional::{Content, Download};
use crate::api::SharedState;
use crate::error::ApiError;

/// Serves one file; `..`, `.`, empty segments, backslashes and symlinks out of the folder are refused.
pub(crate) async fn download(
    State(shared): SharedState,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let segments: Vec<&str> = path.split('/').collect();
    let safe = segments.iter().all(|segment| {
        !segment.is_empty()
            && *segment != "."
            && *segment != ".."
            && !segment.contains('\\')
            && !segment.contains('\0')
    });
    if !safe {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "Invalid path"));
    }
    let root = tokio::fs::canonicalize(&shared.downloads_dir)
        .await
        .map_err(|_| ApiError::not_found())?;
    let candidate: PathBuf = segments
        .iter()
        .fold(root.clone(), |dir, segment| dir.join(segment));
    let resolved = tokio::fs::canonicalize(&candidate)
        .await
        .map_err(|_| ApiError::not_found())?;
    if !resolved.starts_with(&root) {
        return Err(ApiError::new(StatusCode::BAD_REQUEST, "Invalid path"));
    }
    let metadata = tokio::fs::metadata(&resolved)
        .await
        .map_err(|_| ApiError::not_found())?;
    if !metadata.is_file() {
        return Err(ApiError::not_found());
    }
    let file = tokio::fs::File::open(&resolved)
        .await
        .map_err(|_| ApiError::not_found())?;
    let len = metadata.len();
    let modified = metadata.modified().ok();
    let stamp = modified
        .and_then(|time| time.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |elapsed| elapsed.as_nanos());
    let download = Download {
        etag: format!("\"{len:x}-{stamp:x}\""),
        content: Content::File { file, len },
        last_modified: modified,
        content_type: "application/octet-stream",
        filename: None,
    };
    Ok(download.respond(&headers))
}
