//! The non-API routes: source archives, raw files and static downloads.

mod archive;
pub(crate) mod conditional;
mod downloads;
mod raw;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;

use crate::shared::Shared;

/// `/{o}/{r}/archive/refs/tags/{tag}.tar.gz` (a redirect, as on github.com, to
/// `/_codeload/{o}/{r}/tar.gz/refs/tags/{tag}`, the sandbox's codeload.github.com),
/// `/{o}/{r}/raw/{ref}/{path}`, `/_downloads/{path}`.
pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/{owner}/{repo}/archive/refs/tags/{*tag}",
            get(archive::tag_archive),
        )
        .route(
            "/_codeload/{owner}/{repo}/tar.gz/refs/tags/{*tag}",
            get(archive::codeload_archive),
        )
        .route("/{owner}/{repo}/raw/{*rest}", get(raw::raw_file))
        .route("/_downloads/{*path}", get(downloads::download))
}
