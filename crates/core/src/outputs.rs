//! Typed results one task hands to the tasks that need it, so nothing is computed twice.
//!
//! The output types themselves live here, in core, so task crates never depend on each other.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use crate::digest::Sha256Digest;
use crate::version::Version;

/// A value a task can publish for its dependents and for the run report.
pub trait Output: Any + Send + Sync + fmt::Debug {
    /// A stable name for reports (`source-archive`).
    const NAME: &'static str;
    /// The value as JSON, for the run report.
    fn to_json(&self) -> serde_json::Value;
}

struct Entry {
    name: &'static str,
    value: Arc<dyn Any + Send + Sync>,
    json: serde_json::Value,
}

/// A set of outputs, at most one per type.
#[derive(Default, Clone)]
pub struct Outputs {
    entries: BTreeMap<&'static str, Arc<Entry>>,
}

impl Outputs {
    /// Publishes `value`, replacing an earlier one of the same type.
    pub fn insert<T: Output>(&mut self, value: T) {
        let json = value.to_json();
        self.entries.insert(
            T::NAME,
            Arc::new(Entry {
                name: T::NAME,
                value: Arc::new(value),
                json,
            }),
        );
    }

    /// The output of type `T`, if one was published.
    pub fn get<T: Output>(&self) -> Option<&T> {
        self.entries
            .get(T::NAME)
            .and_then(|entry| entry.value.downcast_ref::<T>())
    }

    /// Adds every output of `other` (later wins).
    pub fn extend(&mut self, other: &Outputs) {
        self.entries
            .extend(other.entries.iter().map(|(k, v)| (*k, Arc::clone(v))));
    }

    /// Whether there is no output.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// All outputs as a JSON object keyed by output name.
    pub fn to_json(&self) -> serde_json::Value {
        self.entries
            .values()
            .map(|entry| (entry.name.to_owned(), entry.json.clone()))
            .collect::<serde_json::Map<_, _>>()
            .into()
    }
}

impl fmt::Debug for Outputs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.entries.keys()).finish()
    }
}

macro_rules! json_output {
    ($type:ty, $name:literal) => {
        impl Output for $type {
            const NAME: &'static str = $name;
            fn to_json(&self) -> serde_json::Value {
                serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
            }
        }
    };
}

/// The release's source archive, hashed by the checksums task.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SourceArchive {
    /// The released version.
    pub version: Version,
    /// The file name recorded in the hashes file (`valkey-9.1.1.tar.gz`).
    pub filename: String,
    /// Where it was downloaded from.
    pub url: String,
    /// Its SHA-256.
    pub sha256: Sha256Digest,
}
json_output!(SourceArchive, "source-archive");

/// One binary artifact whose bytes and published `.sha256` file were checked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VerifiedArtifact {
    /// File name (`valkey-9.1.1-noble-x86_64.tar.gz`).
    pub name: String,
    /// Where it is served.
    pub url: String,
    /// Its SHA-256.
    pub sha256: Sha256Digest,
}

/// Every binary artifact the artifacts task verified.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct VerifiedArtifacts(pub Vec<VerifiedArtifact>);
json_output!(VerifiedArtifacts, "verified-artifacts");

/// The container image tags of a release, per variant, as users pull them.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct ImageTags {
    /// Tags of the Debian variant, most specific first.
    pub debian: Vec<String>,
    /// Tags of the Alpine variant, most specific first.
    pub alpine: Vec<String>,
    /// Tags of the `pkg` variant (built from Valkey's Debian packages), most specific first;
    /// none for `unstable`. Published after the Alpine tags.
    #[serde(default)]
    pub pkg: Vec<String>,
}
json_output!(ImageTags, "image-tags");

/// The source archives the hashes file records, for the audit: per version (the map's key),
/// the values of its LAST line, the one the container repository's `versions.sh` reads.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct RecordedArchives(pub BTreeMap<String, RecordedArchive>);
json_output!(RecordedArchives, "recorded-archives");

/// One version's source archive as the hashes file records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RecordedArchive {
    /// The URL on the line.
    pub url: String,
    /// The digest on the line, as written.
    pub sha256: String,
}

/// The image tags the container repository publishes today, per version (the map's key): one
/// entry per line of `versions.json`, for the version that line is at.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct PublishedImageTags(pub BTreeMap<String, ImageTags>);
json_output!(PublishedImageTags, "published-image-tags");
