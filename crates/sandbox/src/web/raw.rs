//! `GET /{o}/{r}/raw/{ref}/{path}`: a file's bytes at a branch, tag or commit.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;

use super::conditional::{Content, Download};
use crate::api::SharedState;
use crate::error::ApiError;

/// The blob at `path` in `ref`; the ref may itself contain `/` (the shortest prefix that resolves wins).
pub(crate) async fn raw_file(
    State(shared): SharedState,
    Path((owner, name, rest)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let repo = shared.repos.open(&owner, &name)?;
    let rest = rest
        .strip_prefix("refs/heads/")
        .or_else(|| rest.strip_prefix("refs/tags/"))
        .unwrap_or(&rest);
    if rest
        .split('/')
        .any(|segment| segment == ".." || segment == ".")
    {
        return Err(ApiError::not_found());
    }
    let splits = rest.match_indices('/').map(|(at, _)| at);
    for at in splits {
        let (reference, path) = (&rest[..at], &rest[at + 1..]);
        let Some(commit) = repo.resolve_commit(reference).await? else {
            continue;
        };
        let spec = format!("{commit}:{path}");
        let info = repo.git.object_info(&spec).await?;
        let Some(info) = info.filter(|info| info.kind == "blob") else {
            return Err(ApiError::not_found());
        };
        let bytes = repo
            .git
            .read(&info.sha, "blob")
            .await?
            .ok_or_else(ApiError::not_found)?;
        let download = Download {
            content: Content::Bytes(bytes.into()),
            etag: format!("\"{}\"", info.sha),
            last_modified: None,
            content_type: "text/plain; charset=utf-8",
            filename: None,
        };
        return Ok(download.respond(&headers));
    }
    Err(ApiError::not_found())
}
