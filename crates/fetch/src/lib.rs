//! Verified release downloads for valkey-bot.
//!
//! A [`Fetcher`] downloads each URL at most once per run, hashing SHA-256 while the bytes
//! arrive, and only from where its [`FetchPolicy`] allows: `https` to an allowed host (plain
//! `http` only to loopback, for the local sandbox), every redirect hop re-checked, bodies
//! capped in size, truncation and stalls detected, transient failures retried from byte 0.
//!
//! ```no_run
//! # async fn run() -> Result<(), valkey_bot_fetch::FetchError> {
//! use valkey_bot_fetch::{FetchPolicy, Fetcher};
//! let fetcher = Fetcher::new(FetchPolicy::new(["github.com", "codeload.github.com"]))?;
//! let url = url::Url::parse("https://github.com/valkey-io/valkey/archive/refs/tags/9.1.1.tar.gz")
//!     .expect("a valid URL");
//! let digested = fetcher.digest(&url).await?;
//! println!("{} {}", digested.sha256, digested.bytes);
//! # Ok(()) }
//! ```

mod cache;
mod downloads;
mod error;
mod fetcher;
mod hash;
mod memo;
mod policy;
mod progress;
mod retry;

pub use error::{FetchError, redact};
pub use fetcher::{Digested, FetchStats, Fetcher, FetcherBuilder, Origin};
pub use hash::{StreamHasher, digest_reader};
pub use policy::FetchPolicy;
pub use progress::ProgressMode;
pub use url::Url;
pub use valkey_bot_core::Sha256Digest;
