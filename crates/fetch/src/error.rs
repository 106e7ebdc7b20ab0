//! `FetchError`: every way a fetch can fail, each naming the (redacted) URL.

use url::Url;

/// Why a fetch failed. Every variant that concerns a URL carries it redacted (see [`redact`]):
/// no user name, password, query or fragment ever appears in an error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The URL's host (or a redirect target's host) is not in `allowed_hosts`.
    #[error("{url}: host {host:?} is not in the allowed hosts")]
    NotAllowed {
        /// The refused URL.
        url: String,
        /// Its host, as compared against the allow list.
        host: String,
    },
    /// The scheme is not `https`, and not `http` to a loopback address either.
    #[error("{url}: scheme {scheme:?} refused: only https, or http to a loopback address")]
    InsecureScheme {
        /// The refused URL.
        url: String,
        /// Its scheme.
        scheme: String,
    },
    /// The URL has no host, or a redirect's `Location` is missing or not a URL.
    #[error("{url}: invalid URL: {reason}")]
    InvalidUrl {
        /// The URL at fault (for a bad redirect: the URL that answered with it).
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// More than `max_redirects` redirects were needed.
    #[error("{url}: more than {limit} redirects")]
    TooManyRedirects {
        /// The URL first asked for.
        url: String,
        /// The policy's `max_redirects`.
        limit: usize,
    },
    /// The body is (or declares itself) larger than the limit.
    #[error("{url}: body larger than the limit of {limit} bytes")]
    TooLarge {
        /// The URL whose body is too large.
        url: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The body ended before its declared `Content-Length`.
    #[error("{url}: body truncated: got {got} of {expected} bytes")]
    Truncated {
        /// The URL whose body was cut short.
        url: String,
        /// The declared `Content-Length`.
        expected: u64,
        /// Bytes received before the body ended.
        got: u64,
    },
    /// The server answered with a status that is neither 2xx, a followed redirect, nor an
    /// expected 304.
    #[error("{url}: HTTP status {code}")]
    Status {
        /// The URL that answered.
        url: String,
        /// The HTTP status code.
        code: u16,
    },
    /// Connecting, or waiting for the next bytes, took longer than the policy's timeout.
    #[error("{url}: timed out")]
    Timeout {
        /// The URL that stalled.
        url: String,
    },
    /// Any other transport failure (connection refused or reset, TLS, protocol error).
    #[error("{url}: network error: {message}")]
    Network {
        /// The URL being fetched.
        url: String,
        /// The transport's description, without the URL.
        message: String,
    },
    /// The body asked for as text is not UTF-8.
    #[error("{url}: body is not UTF-8")]
    NotUtf8 {
        /// The URL whose body is not text.
        url: String,
    },
    /// The HTTP client could not be built (for example, no TLS roots).
    #[error("could not set up the HTTP client: {message}")]
    Client {
        /// The builder's description of the failure.
        message: String,
    },
}

impl FetchError {
    /// Whether a fresh attempt may succeed: transport failures, timeouts, 5xx statuses and
    /// truncated bodies are transient; policy refusals, 4xx and oversize bodies are not.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Network { .. } | Self::Timeout { .. } | Self::Truncated { .. } => true,
            Self::Status { code, .. } => *code >= 500,
            Self::NotAllowed { .. }
            | Self::InsecureScheme { .. }
            | Self::InvalidUrl { .. }
            | Self::TooManyRedirects { .. }
            | Self::TooLarge { .. }
            | Self::NotUtf8 { .. }
            | Self::Client { .. } => false,
        }
    }

    /// Maps a `reqwest` error met while fetching `url` to a variant, keeping the URL redacted.
    pub(crate) fn from_reqwest(url: &Url, err: reqwest::Error) -> Self {
        let url = redact(url);
        if err.is_timeout() {
            return Self::Timeout { url };
        }
        let err = err.without_url();
        let mut message = String::new();
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        while let Some(e) = source {
            if !message.is_empty() {
                message.push_str(": ");
            }
            message.push_str(&e.to_string());
            source = e.source();
        }
        Self::Network { url, message }
    }
}

/// `url` as it may appear in logs and errors: without user name, password or fragment, and with
/// any query replaced by `?<redacted>` (queries can carry signatures or tokens).
pub fn redact(url: &Url) -> String {
    let mut clean = url.clone();
    // Both setters only fail for URLs that cannot have credentials, which then have none.
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    let had_query = clean.query().is_some();
    clean.set_query(None);
    clean.set_fragment(None);
    let mut text = clean.to_string();
    if had_query {
        text.push_str("?<redacted>");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_strips_credentials_query_and_fragment() {
        let url = Url::parse("https://user:secret@example.com:8443/a/b.tar.gz?sig=abc#frag")
            .expect("valid URL");
        assert_eq!(
            redact(&url),
            "https://example.com:8443/a/b.tar.gz?<redacted>"
        );
    }

    #[test]
    fn transient_classification() {
        let url = String::from("u");
        assert!(
            FetchError::Status {
                url: url.clone(),
                code: 503
            }
            .is_transient()
        );
        assert!(
            !FetchError::Status {
                url: url.clone(),
                code: 404
            }
            .is_transient()
        );
        assert!(
            FetchError::Truncated {
                url: url.clone(),
                expected: 2,
                got: 1
            }
            .is_transient()
        );
        assert!(!FetchError::TooLarge { url, limit: 1 }.is_transient());
    }
}
