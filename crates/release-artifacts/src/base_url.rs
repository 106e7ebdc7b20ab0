//! The directory URL artifacts are published under, e.g. `https://download.valkey.io/releases/`.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use url::{Host, Url};

/// Where the release pipeline publishes binaries today.
pub const DEFAULT_BASE_URL: &str = "https://download.valkey.io/releases/";

/// A validated directory URL that artifact names are appended to.
///
/// Rules: an absolute `https` URL (plain `http` only to a loopback host — `localhost`,
/// `127.0.0.0/8`, `::1` — for local test servers), with a host, no user name or password, no
/// query, no fragment, and a path ending in `/` so that joining a file name appends to it
/// instead of replacing its last segment.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BaseUrl(Url);

/// Why a base URL was refused; each variant quotes the input (at most 200 characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BaseUrlError {
    /// The text is not an absolute URL.
    #[error("base URL {input:?} is not an absolute URL: {reason}")]
    NotAUrl {
        /// The refused input.
        input: String,
        /// The URL parser's complaint.
        reason: String,
    },
    /// The scheme is neither `https` nor `http` to a loopback host.
    #[error("base URL {input:?} must use https (plain http only to a loopback host)")]
    Scheme {
        /// The refused input.
        input: String,
    },
    /// The URL carries a user name or password.
    #[error("base URL {input:?} must not carry credentials")]
    Credentials {
        /// The refused input.
        input: String,
    },
    /// The URL has a query or a fragment.
    #[error("base URL {input:?} must not have a query or fragment")]
    QueryOrFragment {
        /// The refused input.
        input: String,
    },
    /// The path does not end with `/`.
    #[error("base URL {input:?} must end with '/'")]
    NoTrailingSlash {
        /// The refused input.
        input: String,
    },
}

impl BaseUrl {
    /// Parses and checks `input`, e.g. `BaseUrl::parse("https://download.valkey.io/releases/")`.
    pub fn parse(input: &str) -> Result<Self, BaseUrlError> {
        let quoted = || input.chars().take(200).collect::<String>();
        let url = Url::parse(input).map_err(|error| BaseUrlError::NotAUrl {
            input: quoted(),
            reason: error.to_string(),
        })?;
        let scheme_ok = match url.scheme() {
            "https" => url.host().is_some(),
            "http" => url.host().is_some_and(is_loopback),
            _ => false,
        };
        if !scheme_ok {
            return Err(BaseUrlError::Scheme { input: quoted() });
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(BaseUrlError::Credentials { input: quoted() });
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(BaseUrlError::QueryOrFragment { input: quoted() });
        }
        if !url.path().ends_with('/') || !input.ends_with('/') {
            return Err(BaseUrlError::NoTrailingSlash { input: quoted() });
        }
        Ok(Self(url))
    }

    /// The URL of `file_name` in this directory. `file_name` must be a single path segment
    /// (the artifact names built by this crate are); it is appended as is.
    pub fn join(&self, file_name: &str) -> Url {
        let mut url = self.0.clone();
        url.set_path(&format!("{}{file_name}", self.0.path()));
        url
    }

    /// The base URL itself.
    pub fn as_url(&self) -> &Url {
        &self.0
    }
}

fn is_loopback(host: Host<&str>) -> bool {
    match host {
        Host::Domain(domain) => domain.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => IpAddr::V4(ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(ip).is_loopback(),
    }
}

impl FromStr for BaseUrl {
    type Err = BaseUrlError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for BaseUrl {
    type Error = BaseUrlError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<BaseUrl> for String {
    fn from(base: BaseUrl) -> Self {
        base.0.into()
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}
