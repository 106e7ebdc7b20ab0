//! `FetchPolicy`: where downloads may come from, how large they may be, how long they may take.

use std::time::Duration;

use url::{Host, Url};

use crate::error::{FetchError, redact};

/// The rules every request (and every redirect hop) must pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchPolicy {
    /// Hosts that may be contacted, matched exactly (case-insensitive), e.g. `"github.com"`,
    /// `"codeload.github.com"`, `"download.valkey.io"`, `"127.0.0.1"`, `"::1"`. A URL on a port
    /// other than its scheme's default must match an entry naming that port (`"ghe.example:8443"`,
    /// `"[::1]:8443"`), unless its host is loopback.
    pub allowed_hosts: Vec<String>,
    /// Largest body accepted by [`Fetcher::digest`](crate::Fetcher::digest), in bytes.
    pub max_bytes: u64,
    /// Most redirects followed for one request.
    pub max_redirects: usize,
    /// Longest wait for a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Longest wait for the next bytes of a response (headers or body).
    pub read_timeout: Duration,
    /// Extra attempts after a transient failure (0 = try once).
    pub retries: u32,
    /// Delay before the first retry; doubled each retry, with ±50% jitter.
    pub backoff: Duration,
}

impl FetchPolicy {
    /// A policy allowing `allowed_hosts` with the defaults: 512 MiB, 5 redirects, 10 s connect,
    /// 30 s read, 3 retries from a 500 ms backoff.
    pub fn new<I, S>(allowed_hosts: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            allowed_hosts: allowed_hosts.into_iter().map(Into::into).collect(),
            max_bytes: 512 * 1024 * 1024,
            max_redirects: 5,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            retries: 3,
            backoff: Duration::from_millis(500),
        }
    }

    /// Checks `url` before it is requested: `https` to an allowed host, or `http` to an allowed
    /// loopback host (127.0.0.0/8, `::1`, `localhost`); no user name or password in it, and no
    /// port other than the scheme's default unless an entry names it (or the host is loopback).
    pub fn check(&self, url: &Url) -> Result<(), FetchError> {
        let host = url.host().ok_or_else(|| FetchError::InvalidUrl {
            url: redact(url),
            reason: "no host".into(),
        })?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err(FetchError::InvalidUrl {
                url: redact(url),
                reason: "a user name or password in a download URL is refused".into(),
            });
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback(&host) => {}
            scheme => {
                return Err(FetchError::InsecureScheme {
                    url: redact(url),
                    scheme: scheme.into(),
                });
            }
        }
        let name = host_name(&host);
        // `Url::port` is `None` for the scheme's default port.
        let port = url.port().filter(|_| !is_loopback(&host));
        if self.allowed_hosts.iter().any(|allowed| {
            let (allowed_name, allowed_port) = split_entry(allowed);
            allowed_name.eq_ignore_ascii_case(&name) && (port.is_none() || allowed_port == port)
        }) {
            Ok(())
        } else {
            Err(FetchError::NotAllowed {
                url: redact(url),
                host: port.map_or_else(|| name.clone(), |port| format!("{name}:{port}")),
            })
        }
    }
}

/// An allow-list entry as host and optional port: `"a.example"`, `"a.example:8443"`, `"::1"`,
/// `"[::1]"`, `"[::1]:8443"`.
fn split_entry(entry: &str) -> (&str, Option<u16>) {
    if let Some(rest) = entry.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((name, tail)) => (name, tail.strip_prefix(':').and_then(|p| p.parse().ok())),
            None => (rest, None),
        };
    }
    match entry.rsplit_once(':') {
        // One colon: host and port. More (a bare IPv6 address): no port.
        Some((name, port)) if !name.contains(':') => (name, port.parse().ok()),
        _ => (entry, None),
    }
}

/// The host as written in an allow list: a domain, a dotted IPv4, or an IPv6 without brackets.
fn host_name(host: &Host<&str>) -> String {
    match host {
        Host::Domain(domain) => domain.to_ascii_lowercase(),
        Host::Ipv4(ip) => ip.to_string(),
        Host::Ipv6(ip) => ip.to_string(),
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(domain) => domain.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> FetchPolicy {
        FetchPolicy::new([
            "download.valkey.io",
            "127.0.0.1",
            "[::1]",
            "localhost",
            "example.com",
        ])
    }

    fn check(url: &str) -> Result<(), FetchError> {
        policy().check(&Url::parse(url).expect("valid URL"))
    }

    #[test]
    fn https_to_allowed_host_on_its_default_port() {
        assert_eq!(
            check("https://download.valkey.io/releases/x.tar.gz"),
            Ok(())
        );
        assert_eq!(check("https://DOWNLOAD.valkey.io:443/x"), Ok(()));
    }

    #[test]
    fn another_port_only_where_an_entry_names_it_or_on_loopback() {
        assert_eq!(
            check("https://download.valkey.io:8443/x"),
            Err(FetchError::NotAllowed {
                url: "https://download.valkey.io:8443/x".into(),
                host: "download.valkey.io:8443".into()
            })
        );
        let ghe = FetchPolicy::new(["ghe.example:8443", "[::2]:8443"]);
        let allowed = |url: &str| ghe.check(&Url::parse(url).expect("valid URL"));
        assert_eq!(allowed("https://ghe.example:8443/x"), Ok(()));
        assert_eq!(allowed("https://ghe.example/x"), Ok(()));
        assert_eq!(allowed("https://[::2]:8443/x"), Ok(()));
        assert!(allowed("https://ghe.example:9443/x").is_err());
        assert_eq!(check("http://127.0.0.1:45678/x"), Ok(()));
    }

    #[test]
    fn user_information_is_refused_and_not_repeated() {
        for url in [
            "https://user:secret@download.valkey.io/x",
            "https://user@download.valkey.io/x",
            "https://:secret@download.valkey.io/x",
        ] {
            let refused = check(url);
            assert_eq!(
                refused,
                Err(FetchError::InvalidUrl {
                    url: "https://download.valkey.io/x".into(),
                    reason: "a user name or password in a download URL is refused".into()
                }),
                "{url}"
            );
        }
    }

    #[test]
    fn http_only_to_loopback() {
        assert_eq!(check("http://127.0.0.1:8080/x"), Ok(()));
        assert_eq!(check("http://[::1]:8080/x"), Ok(()));
        assert_eq!(check("http://localhost/x"), Ok(()));
        assert_eq!(
            check("http://example.com/x"),
            Err(FetchError::InsecureScheme {
                url: "http://example.com/x".into(),
                scheme: "http".into()
            })
        );
        assert!(matches!(
            check("ftp://127.0.0.1/x"),
            Err(FetchError::InsecureScheme { .. })
        ));
    }

    #[test]
    fn host_must_match_exactly() {
        assert_eq!(
            check("https://evil.download.valkey.io/x"),
            Err(FetchError::NotAllowed {
                url: "https://evil.download.valkey.io/x".into(),
                host: "evil.download.valkey.io".into()
            })
        );
        assert!(matches!(
            check("http://127.0.0.2/x"),
            Err(FetchError::NotAllowed { host, .. }) if host == "127.0.0.2"
        ));
    }
}
