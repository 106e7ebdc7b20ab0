//! GitHub's pagination of lists: `per_page` (default 30, at most 100), `page` (from 1), and a
//! `Link` header with `rel="next"`, `"last"`, `"first"` and `"prev"` where they apply.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::error::ApiError;

/// The default page size.
const DEFAULT_PER_PAGE: usize = 30;
/// The largest page size GitHub serves; larger requests get this many.
pub(crate) const MAX_PER_PAGE: usize = 100;

/// The paging asked for by a request, and where it was asked (for the `Link` header).
#[derive(Debug, Clone)]
pub(crate) struct Pager {
    /// Items per page.
    pub(crate) per_page: usize,
    /// The page, from 1.
    pub(crate) page: usize,
    /// Whether `per_page` or `page` was given at all.
    pub(crate) asked: bool,
    /// The request's path below `/api/v3`.
    path: String,
    /// The query's other parameters, in order.
    rest: Vec<(String, String)>,
}

impl<S: Send + Sync> FromRequestParts<S> for Pager {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let mut pager = Pager {
            per_page: DEFAULT_PER_PAGE,
            page: 1,
            asked: false,
            path: parts.uri.path().to_owned(),
            rest: Vec::new(),
        };
        let query = parts.uri.query().unwrap_or_default();
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                // GitHub ignores a value that is not a number, and serves at most 100.
                "per_page" => {
                    pager.asked = true;
                    if let Ok(n) = value.parse::<usize>() {
                        pager.per_page = n.clamp(1, MAX_PER_PAGE);
                    }
                }
                "page" => {
                    pager.asked = true;
                    if let Ok(n) = value.parse::<usize>() {
                        pager.page = n.max(1);
                    }
                }
                _ => pager.rest.push((key.to_owned(), value.to_owned())),
            }
        }
        Ok(pager)
    }
}

impl Pager {
    /// The range of `total` items this page holds.
    pub(crate) fn range(&self, total: usize) -> std::ops::Range<usize> {
        let start = self.per_page.saturating_mul(self.page - 1).min(total);
        start..start.saturating_add(self.per_page).min(total)
    }

    /// The number of the last page for `total` items (1 for an empty list).
    fn last(&self, total: usize) -> usize {
        total.div_ceil(self.per_page).max(1)
    }

    /// `<api_url><path>?<rest>&per_page=N&page=P`.
    fn url(&self, api_url: &str, page: usize) -> String {
        let mut query: Vec<String> = self.rest.iter().map(|(k, v)| format!("{k}={v}")).collect();
        query.push(format!("per_page={}", self.per_page));
        query.push(format!("page={page}"));
        format!("{api_url}{}?{}", self.path, query.join("&"))
    }

    /// The `Link` header for a list of `total` items, or `None` when it fits on one page.
    pub(crate) fn link(&self, api_url: &str, total: usize) -> Option<String> {
        let last = self.last(total);
        if last == 1 && self.page == 1 {
            return None;
        }
        let mut links = Vec::new();
        if self.page > 1 {
            links.push(format!(
                "<{}>; rel=\"prev\"",
                self.url(api_url, (self.page - 1).min(last))
            ));
        }
        if self.page < last {
            links.push(format!(
                "<{}>; rel=\"next\"",
                self.url(api_url, self.page + 1)
            ));
            links.push(format!("<{}>; rel=\"last\"", self.url(api_url, last)));
        }
        if self.page > 1 {
            links.push(format!("<{}>; rel=\"first\"", self.url(api_url, 1)));
        }
        Some(links.join(", "))
    }

    /// This page of `items`, answered with its `Link` header.
    pub(crate) fn respond(&self, api_url: &str, items: Vec<Value>) -> Paged {
        let total = items.len();
        let link = self.link(api_url, total);
        let page = items
            .into_iter()
            .skip(self.range(total).start)
            .take(self.per_page)
            .collect();
        Paged {
            items: page,
            link,
            counted: None,
        }
    }

    /// This page of `items`, as the object GitHub wraps some lists in:
    /// `{"total_count": N, "<key>": [...]}`, with its `Link` header.
    pub(crate) fn respond_counted(&self, api_url: &str, key: &str, items: Vec<Value>) -> Paged {
        let total = items.len();
        let Paged { items, link, .. } = self.respond(api_url, items);
        Paged {
            items,
            link,
            counted: Some((key.to_owned(), total)),
        }
    }
}

/// One page of a list, with its `Link` header.
#[derive(Debug)]
pub(crate) struct Paged {
    items: Vec<Value>,
    link: Option<String>,
    /// The wrapping object's key and the whole list's length, for counted lists.
    counted: Option<(String, usize)>,
}

impl IntoResponse for Paged {
    fn into_response(self) -> Response {
        let body = match self.counted {
            None => Value::Array(self.items),
            Some((key, total)) => {
                serde_json::json!({ "total_count": total, key: Value::Array(self.items) })
            }
        };
        let mut response = axum::Json(body).into_response();
        if let Some(value) = self.link.and_then(|link| HeaderValue::from_str(&link).ok()) {
            response.headers_mut().insert(header::LINK, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pager(per_page: usize, page: usize) -> Pager {
        Pager {
            per_page,
            page,
            asked: true,
            path: "/repos/o/r/issues".into(),
            rest: vec![("state".into(), "open".into())],
        }
    }

    #[test]
    fn link_names_next_and_last_then_prev_and_first() {
        let first = pager(2, 1).link("http://h/api/v3", 5).unwrap();
        assert_eq!(
            first,
            "<http://h/api/v3/repos/o/r/issues?state=open&per_page=2&page=2>; rel=\"next\", \
             <http://h/api/v3/repos/o/r/issues?state=open&per_page=2&page=3>; rel=\"last\""
        );
        let last = pager(2, 3).link("http://h/api/v3", 5).unwrap();
        assert!(last.contains("page=2>; rel=\"prev\""), "{last}");
        assert!(last.contains("page=1>; rel=\"first\""), "{last}");
        assert!(!last.contains("next"), "{last}");
        assert_eq!(pager(2, 1).link("http://h", 2), None);
        assert_eq!(pager(2, 3).range(5), 4..5);
        assert_eq!(pager(2, 9).range(5), 5..5);
    }
}
