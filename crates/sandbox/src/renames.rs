//! Renamed repositories: after [`crate::RunningSandbox::rename_repository`], API requests on the
//! old name answer as GitHub's do, `301 Moved Permanently` (`307` for writes, so the method and
//! body are kept) with a `Location` on the new name and GitHub's body
//! `{"message": "Moved Permanently", "url": ..., "documentation_url": ...}`. (GitHub's `Location`
//! names the repository by id, `/repositories/{id}/...`, which the sandbox does not serve; it
//! points at `/repos/{owner}/{new name}/...` instead.)

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Old `owner/name` → new `owner/name`; cheap to clone (shared).
#[derive(Debug, Clone, Default)]
pub(crate) struct Renames {
    moved: Arc<Mutex<HashMap<String, String>>>,
}

impl Renames {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        self.moved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records that `old` (`owner/name`) is now `new`; a name renamed back stops redirecting.
    pub(crate) fn add(&self, old: &str, new: &str) {
        let mut moved = self.lock();
        moved.remove(new);
        for target in moved.values_mut() {
            if target == old {
                new.clone_into(target);
            }
        }
        moved.insert(old.to_owned(), new.to_owned());
    }

    /// GitHub's redirect for an API request `method path?query` (`path` under `/api/v3`) on a
    /// renamed repository, or `None`.
    pub(crate) fn redirect(
        &self,
        api_url: &str,
        method: &str,
        path: &str,
        query: Option<&str>,
    ) -> Option<Response> {
        let rest = path.strip_prefix("/api/v3/repos/")?;
        let mut parts = rest.splitn(3, '/');
        let (owner, name) = (parts.next()?, parts.next()?);
        let tail = parts
            .next()
            .map(|tail| format!("/{tail}"))
            .unwrap_or_default();
        let new = self.lock().get(&format!("{owner}/{name}"))?.clone();
        let query = query.map(|q| format!("?{q}")).unwrap_or_default();
        let location = format!("{api_url}/repos/{new}{tail}{query}");
        let status = if method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD") {
            StatusCode::MOVED_PERMANENTLY
        } else {
            StatusCode::TEMPORARY_REDIRECT
        };
        let body = json!({
            "message": "Moved Permanently",
            "url": location,
            "documentation_url": "https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api#follow-redirects",
        });
        let value = HeaderValue::from_str(&location).ok()?;
        Some((status, [(header::LOCATION, value)], axum::Json(body)).into_response())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_names_redirect_to_the_newest_name_with_path_and_query() {
        let renames = Renames::default();
        renames.add("o/a", "o/b");
        renames.add("o/b", "o/c");
        let answer = renames
            .redirect(
                "http://s/api/v3",
                "GET",
                "/api/v3/repos/o/a/issues",
                Some("page=2"),
            )
            .expect("a redirect");
        assert_eq!(answer.status(), StatusCode::MOVED_PERMANENTLY);
        assert_eq!(
            answer.headers()[header::LOCATION],
            "http://s/api/v3/repos/o/c/issues?page=2"
        );
        let write = renames
            .redirect("http://s/api/v3", "POST", "/api/v3/repos/o/b/issues", None)
            .expect("a redirect");
        assert_eq!(write.status(), StatusCode::TEMPORARY_REDIRECT);
        assert!(
            renames
                .redirect("http://s/api/v3", "GET", "/api/v3/repos/o/c", None)
                .is_none()
        );
        renames.add("o/c", "o/a");
        assert!(
            renames
                .redirect("http://s/api/v3", "GET", "/api/v3/repos/o/a", None)
                .is_none()
        );
    }
}
