//! Where GitHub is and how patiently to talk to it: explicit values, read from the environment
//! only by [`GitHubConfig::from_env`].

use std::time::Duration;

use crate::retry::RetryPolicy;

/// The public GitHub API address, used when `GITHUB_API_URL` is not set.
pub const DEFAULT_API_URL: &str = "https://api.github.com";
/// The public GitHub web address, used when `GITHUB_SERVER_URL` is not set.
pub const DEFAULT_SERVER_URL: &str = "https://github.com";

/// Connection settings of a [`crate::GitHub`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHubConfig {
    /// The REST API base, e.g. `https://api.github.com` or `https://ghe.example.com/api/v3`.
    pub api_url: String,
    /// The web server, e.g. `https://github.com` (used for links, never for API calls).
    pub server_url: String,
    /// Whether we run inside GitHub Actions: every minted token is then masked with `::add-mask::`.
    pub in_actions: bool,
    /// How long to wait for a TCP/TLS connection (default 10 s).
    pub connect_timeout: Duration,
    /// How long to wait for response bytes once connected (default 30 s).
    pub read_timeout: Duration,
    /// When and how often to repeat a failed request.
    pub retry: RetryPolicy,
    /// Where GET answers are kept between runs for conditional requests (`cache.rs`); in memory
    /// only when `None`.
    pub cache_dir: Option<std::path::PathBuf>,
}

impl Default for GitHubConfig {
    fn default() -> Self {
        Self {
            api_url: DEFAULT_API_URL.to_owned(),
            server_url: DEFAULT_SERVER_URL.to_owned(),
            in_actions: false,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            cache_dir: None,
        }
    }
}

impl GitHubConfig {
    /// A configuration for the API at `api_url` (its server URL is derived: `<api>` minus a
    /// trailing `/api/v3`, or `https://github.com` for `api.github.com`), with default timeouts.
    pub fn for_api(api_url: impl Into<String>) -> Self {
        let api_url = api_url.into().trim_end_matches('/').to_owned();
        let server_url = if api_url == DEFAULT_API_URL {
            DEFAULT_SERVER_URL.to_owned()
        } else {
            api_url.trim_end_matches("/api/v3").to_owned()
        };
        Self {
            api_url,
            server_url,
            ..Self::default()
        }
    }

    /// Reads `GITHUB_API_URL`, `GITHUB_SERVER_URL` and `GITHUB_ACTIONS` (all optional).
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`GitHubConfig::from_env`], with the variables given by `lookup` (for tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let non_empty = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let mut config = match non_empty("GITHUB_API_URL") {
            Some(api) => Self::for_api(api),
            None => Self::default(),
        };
        if let Some(server) = non_empty("GITHUB_SERVER_URL") {
            config.server_url = server.trim_end_matches('/').to_owned();
        }
        config.in_actions = lookup("GITHUB_ACTIONS").as_deref() == Some("true");
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_public_github() {
        let config = GitHubConfig::from_lookup(|_| None);
        assert_eq!(config.api_url, "https://api.github.com");
        assert_eq!(config.server_url, "https://github.com");
        assert!(!config.in_actions);
        assert_eq!(config.connect_timeout, Duration::from_secs(10));
        assert_eq!(config.read_timeout, Duration::from_secs(30));
    }

    #[test]
    fn reads_enterprise_server_variables() {
        let config = GitHubConfig::from_lookup(|name| match name {
            "GITHUB_API_URL" => Some("https://ghe.example.com/api/v3/".into()),
            "GITHUB_SERVER_URL" => Some("https://ghe.example.com".into()),
            "GITHUB_ACTIONS" => Some("true".into()),
            _ => None,
        });
        assert_eq!(config.api_url, "https://ghe.example.com/api/v3");
        assert_eq!(config.server_url, "https://ghe.example.com");
        assert!(config.in_actions);
    }

    #[test]
    fn derives_the_server_from_an_enterprise_api() {
        let config = GitHubConfig::for_api("http://127.0.0.1:8080/api/v3");
        assert_eq!(config.server_url, "http://127.0.0.1:8080");
    }
}
