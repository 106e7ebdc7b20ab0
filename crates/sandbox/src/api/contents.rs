//! `GET /repos/{o}/{r}/contents/{path}?ref=R`: a file (base64) or a directory listing.

use super::extract::GhPath;
use axum::Extension;
use axum::Json;
use axum::extract::Query;
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};

use super::SharedState;
use super::blobs::CONTENTS_INLINE_MAX;
use crate::auth::{CONTENTS_READ, Caller};
use crate::error::ApiError;
use crate::git::Depth;
use crate::repo::Repo;
use crate::shared::Shared;

/// The `ref` query parameter.
#[derive(Deserialize)]
pub(crate) struct RefQuery {
    #[serde(rename = "ref")]
    reference: Option<String>,
}

/// The root directory of the repository.
pub(crate) async fn get_root(
    state: SharedState,
    caller: Extension<Caller>,
    GhPath((owner, name)): GhPath<(String, String)>,
    query: Query<RefQuery>,
) -> Result<Json<Value>, ApiError> {
    contents(state, caller, owner, name, String::new(), query).await
}

/// A file or directory below the root.
pub(crate) async fn get_path(
    state: SharedState,
    caller: Extension<Caller>,
    GhPath((owner, name, path)): GhPath<(String, String, String)>,
    query: Query<RefQuery>,
) -> Result<Json<Value>, ApiError> {
    contents(state, caller, owner, name, path, query).await
}

async fn contents(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    owner: String,
    name: String,
    path: String,
    Query(query): Query<RefQuery>,
) -> Result<Json<Value>, ApiError> {
    let repo = shared.open(&owner, &name, &caller, CONTENTS_READ)?;
    let path = path.trim_matches('/').to_owned();
    if path
        .split('/')
        .any(|segment| segment == ".." || segment == ".")
    {
        return Err(ApiError::not_found());
    }
    let reference = match query.reference {
        Some(reference) => reference,
        None => repo.default_branch().await?,
    };
    let commit = repo.resolve_commit(&reference).await?.ok_or_else(|| {
        ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            format!("No commit found for the ref {reference}"),
        )
    })?;
    let spec = format!("{commit}:{path}");
    let info = repo
        .git
        .object_info(&spec)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let links = Links {
        shared: &shared,
        repo: &repo,
        reference: &reference,
    };
    match info.kind.as_str() {
        "blob" => {
            let mut value = links.entry("file", &path, &info.sha, info.size);
            // Over 1 MB GitHub leaves the bytes out: they are read from `git/blobs/{sha}`.
            let (encoding, content) = if info.size > CONTENTS_INLINE_MAX {
                ("none", String::new())
            } else {
                let bytes = repo
                    .git
                    .read(&info.sha, "blob")
                    .await?
                    .ok_or_else(ApiError::not_found)?;
                ("base64", github_base64(&bytes))
            };
            if let Some(map) = value.as_object_mut() {
                map.insert("encoding".to_owned(), encoding.into());
                map.insert("content".to_owned(), content.into());
            }
            Ok(Json(value))
        }
        "tree" => {
            let entries = repo.git.tree_entries(&info.sha, Depth::Top).await?;
            let listing: Vec<Value> = entries
                .into_iter()
                .map(|entry| {
                    let kind = match (entry.kind.as_str(), entry.mode.as_str()) {
                        ("tree", _) => "dir",
                        ("commit", _) => "submodule",
                        (_, "120000") => "symlink",
                        _ => "file",
                    };
                    let child = if path.is_empty() {
                        entry.path.clone()
                    } else {
                        format!("{path}/{}", entry.path)
                    };
                    links.entry(kind, &child, &entry.sha, entry.size.unwrap_or(0))
                })
                .collect();
            Ok(Json(Value::Array(listing)))
        }
        _ => Err(ApiError::not_found()),
    }
}

/// Builds the URLs of one contents entry.
struct Links<'a> {
    shared: &'a Shared,
    repo: &'a Repo,
    reference: &'a str,
}

impl Links<'_> {
    fn entry(&self, kind: &str, path: &str, sha: &str, size: u64) -> Value {
        let api = self.shared.repo_api_url(self.repo);
        let html = self.shared.html_url(self.repo);
        let name = path.rsplit('/').next().unwrap_or(path);
        let git_kind = if kind == "dir" { "trees" } else { "blobs" };
        let download_url =
            (kind == "file").then(|| format!("{html}/raw/{}/{path}", self.reference));
        super::shapes::content_entry(json!({
            "type": kind,
            "name": name,
            "path": path,
            "sha": sha,
            "size": size,
            "url": format!("{api}/contents/{path}?ref={}", self.reference),
            "html_url": format!("{html}/blob/{}/{path}", self.reference),
            "git_url": format!("{api}/git/{git_kind}/{sha}"),
            "download_url": download_url,
        }))
    }
}

/// Base64 as GitHub writes file contents: a newline after every 60 characters and at the end.
pub(crate) fn github_base64(bytes: &[u8]) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = String::with_capacity(encoded.len() + encoded.len() / 60 + 1);
    for chunk in encoded.as_bytes().chunks(60) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::github_base64;

    #[test]
    fn base64_wraps_at_60_with_trailing_newline() {
        let encoded = github_base64(&[b'a'; 50]);
        let lines: Vec<&str> = encoded.split_terminator('\n').collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].len(), 60);
        assert!(encoded.ends_with('\n'));
        assert_eq!(github_base64(b"hi\n"), "aGkK\n");
        assert_eq!(github_base64(b""), "");
    }
}
