//! Seeing every API exchange as it came back: the smoke check (`valkey-bot smoke`) validates
//! real GitHub's answers against GitHub's own description through this.

use std::fmt;

/// One answered exchange with the API (any status; redirects that were followed are not
/// shown, only the answer they led to).
///
/// The bodies may hold secrets (a minted installation token): an observer must never print or
/// store their values.
pub struct Exchange<'a> {
    /// The HTTP method, `GET`.
    pub method: &'a str,
    /// The path relative to the API base, without its query (`/repos/o/r/git/blobs`).
    pub path: &'a str,
    /// The JSON body sent, if any.
    pub request_body: Option<&'a serde_json::Value>,
    /// The status answered.
    pub status: u16,
    /// The answer's `Content-Type`, if any.
    pub content_type: Option<&'a str>,
    /// The answer's body.
    pub body: &'a [u8],
}

impl fmt::Debug for Exchange<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never the bodies: they may hold a token.
        write!(
            f,
            "Exchange({} {} → {})",
            self.method, self.path, self.status
        )
    }
}

/// Receives every answered exchange of a [`crate::GitHub`] (see [`crate::Hooks::observer`]).
pub trait ExchangeObserver: Send + Sync + fmt::Debug {
    /// Called once per answer, before the client interprets it.
    fn observe(&self, exchange: &Exchange<'_>);
}
