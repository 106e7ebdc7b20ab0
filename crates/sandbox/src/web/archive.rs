//! `GET /{o}/{r}/archive/refs/tags/{tag}.tar.gz`: `git archive`, cached so the digest is stable.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::conditional::{Content, Download};
use crate::api::SharedState;
use crate::error::ApiError;
use crate::shared::CachedArchive;

/// The source archive of a tag, prefixed `<repo>-<tag>/` (a `/` in the tag becomes `-`).
pub(crate) async fn tag_archive(
    State(shared): SharedState,
    Path((owner, name, tag_file)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let repo = shared.repos.open(&owner, &name)?;
    let tag = tag_file
        .strip_suffix(".tar.gz")
        .ok_or_else(ApiError::not_found)?;
    let full = format!("refs/tags/{tag}");
    let valid = repo
        .git
        .run(&["check-ref-format", &full], None, &[])
        .await?
        .success;
    if !valid {
        return Err(ApiError::not_found());
    }
    let target = repo
        .git
        .ref_target(&full)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let key = (repo.full_name(), tag.to_owned(), target);
    let cached = shared
        .archives
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get(&key)
        .cloned();
    let archive = match cached {
        Some(archive) => archive,
        None => {
            let prefix = format!("--prefix={}-{}/", repo.name, tag.replace('/', "-"));
            let bytes = repo
                .git
                .ok(&["archive", "--format=tar.gz", &prefix, &full], None, &[])
                .await?;
            let etag = format!("\"{:x}\"", Sha256::digest(&bytes));
            let archive = CachedArchive {
                bytes: Bytes::from(bytes),
                etag,
            };
            shared
                .archives
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .entry(key)
                .or_insert(archive)
                .clone()
        }
    };
    let download = Download {
        content: Content::Bytes(archive.bytes),
        etag: archive.etag,
        last_modified: None,
        content_type: "application/x-gzip",
        filename: Some(format!("{}-{}.tar.gz", repo.name, tag.replace('/', "-"))),
    };
    Ok(download.respond(&headers).into_response())
}
