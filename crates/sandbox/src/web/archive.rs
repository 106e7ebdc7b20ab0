//! Source archives: `GET /{o}/{r}/archive/refs/tags/{tag}.tar.gz` redirects to the codeload
//! path, which serves `git archive`, cached so the digest is stable.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use sha2::{Digest, Sha256};

use super::conditional::{Content, Download};
use crate::api::SharedState;
use crate::error::ApiError;
use crate::repo::Repo;
use crate::shared::CachedArchive;

/// The path on the sandbox's codeload host (`codeload.github.com` on GitHub) that serves tag
/// archives.
const CODELOAD_PREFIX: &str = "/_codeload";

/// `GET /{o}/{r}/archive/refs/tags/{tag}.tar.gz`: as on github.com, `302 Found` to the codeload
/// host (`/_codeload/{o}/{r}/tar.gz/refs/tags/{tag}`), or 404 if there is no such tag.
pub(crate) async fn tag_archive(
    State(shared): SharedState,
    Path((owner, name, tag_file)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    let repo = shared.repos.open(&owner, &name)?;
    let tag = tag_file
        .strip_suffix(".tar.gz")
        .ok_or_else(ApiError::not_found)?;
    tag_target(&repo, tag).await?;
    let location = format!(
        "{}{CODELOAD_PREFIX}/{owner}/{name}/tar.gz/refs/tags/{tag}",
        shared.base_url
    );
    let location = HeaderValue::from_str(&location).map_err(ApiError::internal)?;
    Ok((StatusCode::FOUND, [(header::LOCATION, location)]).into_response())
}

/// The object tag `tag` of `repo` points to, or 404.
async fn tag_target(repo: &Repo, tag: &str) -> Result<String, ApiError> {
    let full = format!("refs/tags/{tag}");
    let valid = repo.git.is_valid_ref_name(&full).await?;
    if !valid {
        return Err(ApiError::not_found());
    }
    repo.git
        .ref_target(&full)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// `GET /_codeload/{o}/{r}/tar.gz/refs/tags/{tag}`: the source archive of a tag, prefixed
/// `<repo>-<tag>/` (a `/` in the tag becomes `-`), conditional on its ETag.
pub(crate) async fn codeload_archive(
    State(shared): SharedState,
    Path((owner, name, tag)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let repo = shared.repos.open(&owner, &name)?;
    let tag = tag.as_str();
    let target = tag_target(&repo, tag).await?;
    let full = format!("refs/tags/{tag}");
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
