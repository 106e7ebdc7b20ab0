//! The release request: what one run of the bot is asked to do, whatever event started it.
//!
//! GitHub delivers two shapes. A `repository_dispatch` webhook carries the event type in `action`
//! and the fields in `client_payload` (JSON types); a `workflow_dispatch` carries the fields in
//! `inputs`, every value a string (`"true"`/`"false"` for booleans). Both become a
//! [`ReleaseRequest`]. Anything unexpected is refused with an error naming the field, before any
//! work starts.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use crate::digest::Sha256Digest;
use crate::version::Version;

/// Largest event file accepted (GitHub's own webhook limit is 25 MB; ours is far smaller).
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;
/// Largest `client_payload` / `inputs` object accepted, serialized.
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024;
/// GitHub's limit on the number of top-level keys in `client_payload`.
pub const MAX_PAYLOAD_KEYS: usize = 10;
/// Most build digests one event may carry.
pub const MAX_DIGESTS: usize = 64;
/// Most task names one event may select.
pub const MAX_TASKS: usize = 32;

/// Where the bot's writes go: the real repositories, or nothing real.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    /// The real repositories.
    Prod,
    /// Rehearsal: dry run, or repositories overridden for `dev` in `tasks.toml`.
    Dev,
}

impl Environment {
    /// The name used in events and `tasks.toml`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Prod => "prod",
            Self::Dev => "dev",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the request reached the bot.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Origin {
    /// A `repository_dispatch` event of this type.
    RepositoryDispatch {
        /// The event type (`action` of the webhook).
        event_type: String,
    },
    /// A manual `workflow_dispatch` run.
    WorkflowDispatch,
    /// The command line (`valkey-bot run --version`).
    CommandLine,
}

/// One validated request to run the release tasks for a version.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ReleaseRequest {
    /// The released version.
    pub version: Version,
    /// Real repositories, or a rehearsal.
    pub environment: Environment,
    /// Only these tasks (and nothing they need that already ran is re-run); `None` runs every task.
    pub tasks: Option<Vec<String>>,
    /// Plan and print, write nothing.
    pub dry_run: bool,
    /// The operator explicitly asks to replace an existing, different digest for this version.
    pub replace: bool,
    /// Digests the release build computed, by file name, for two-party verification.
    pub build_digests: BTreeMap<String, Sha256Digest>,
    /// The event that asked for this run.
    pub origin: Origin,
}

impl ReleaseRequest {
    /// A request from the command line: everything explicit, no build digests.
    pub fn local(version: Version, environment: Environment) -> Self {
        Self {
            version,
            environment,
            tasks: None,
            dry_run: false,
            replace: false,
            build_digests: BTreeMap::new(),
            origin: Origin::CommandLine,
        }
    }
}

impl ReleaseRequest {
    /// Whether every downloaded release file must match a digest the release build sent
    /// (two-party verification): `prod` runs started by an event. A run from the command line
    /// is an operator holding the App's key on their own machine, and may go without.
    pub fn requires_build_digests(&self) -> bool {
        self.environment == Environment::Prod && !matches!(self.origin, Origin::CommandLine)
    }

    /// The digest the release build sent for `file`, to check the download against; `Ok(None)`
    /// when it sent none and none is required.
    pub fn build_digest(&self, file: &str) -> Result<Option<&Sha256Digest>, MissingBuildDigest> {
        match self.build_digests.get(file) {
            Some(digest) => Ok(Some(digest)),
            None if self.requires_build_digests() => Err(MissingBuildDigest {
                file: file.to_owned(),
            }),
            None => Ok(None),
        }
    }
}

/// A `prod` run needs the release build's digest of a file, and the event carries none.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the release build sent no digest for {file}: a `prod` run checks every download against the build's own digest (`digests` in the event; a manual rerun passes the same JSON object as its `digests` input), so nothing was written"
)]
pub struct MissingBuildDigest {
    /// The release file without a digest.
    pub file: String,
}

/// Which events may start a run (the `[trigger]` table of `tasks.toml`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Triggers {
    /// Accepted `repository_dispatch` event types.
    pub repository_dispatch: Vec<String>,
    /// Whether manual `workflow_dispatch` runs are accepted.
    pub workflow_dispatch: bool,
}

/// Why an event was refused. Nothing runs after one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventError {
    /// The event file is not JSON, or not an object.
    #[error("event payload is not a JSON object: {0}")]
    NotJson(String),
    /// Over a size limit.
    #[error("`{field}` is too large: {size} bytes, the limit is {limit}")]
    TooLarge {
        /// The field (or `event` for the whole file).
        field: String,
        /// Its size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// The event name is not one the bot handles.
    #[error("unsupported event {name}: expected `repository_dispatch` or `workflow_dispatch`")]
    UnsupportedEvent {
        /// The event name, escaped and quoted.
        name: String,
    },
    /// The event kind is disabled, or its type is not listed, in `tasks.toml`'s `[trigger]`.
    #[error("event {what} does not trigger a run (see [trigger] in tasks.toml)")]
    NotTriggered {
        /// The event, described.
        what: String,
    },
    /// A required field is absent.
    #[error("`{0}` is missing")]
    Missing(String),
    /// A field the bot does not know.
    #[error("unknown field `{0}`")]
    UnknownField(String),
    /// More top-level keys than GitHub allows.
    #[error("`{field}` has {count} keys, at most {limit} are allowed")]
    TooManyKeys {
        /// The object.
        field: String,
        /// How many keys it has.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// `replace` asked by an event that may not ask it: only a person starting the workflow by
    /// hand (`workflow_dispatch`) may replace a published digest, never the trigger's credential.
    #[error(
        "`{field}` is true, but `replace` is accepted only from a manual workflow_dispatch run, never from a repository_dispatch"
    )]
    ReplaceNotAllowed {
        /// The field (`client_payload.replace`).
        field: String,
    },
    /// A field of the wrong type or value.
    #[error("`{field}`: {problem}")]
    Invalid {
        /// The field, as a path (`client_payload.version`).
        field: String,
        /// What is wrong with it.
        problem: String,
    },
}

fn invalid(field: impl Into<String>, problem: impl Into<String>) -> EventError {
    EventError::Invalid {
        field: field.into(),
        problem: problem.into(),
    }
}

/// Turns a webhook payload and its event name into a request, or refuses it.
pub fn parse_event(
    event_name: &str,
    payload: &[u8],
    triggers: &Triggers,
) -> Result<ReleaseRequest, EventError> {
    if payload.len() > MAX_EVENT_BYTES {
        return Err(EventError::TooLarge {
            field: "event".into(),
            size: payload.len(),
            limit: MAX_EVENT_BYTES,
        });
    }
    let event: Map<String, Value> =
        serde_json::from_slice(payload).map_err(|e| EventError::NotJson(e.to_string()))?;
    match event_name {
        "repository_dispatch" => {
            let event_type = match event.get("action") {
                Some(Value::String(action)) => action.clone(),
                Some(_) => return Err(invalid("action", "must be a string")),
                None => return Err(EventError::Missing("action".into())),
            };
            if !triggers.repository_dispatch.contains(&event_type) {
                return Err(EventError::NotTriggered {
                    what: format!("repository_dispatch of type {}", quote(&event_type)),
                });
            }
            let payload = object(&event, "client_payload")?;
            let mut fields = Fields::new("client_payload", payload, FieldStyle::Json)?;
            fields.take_request(Origin::RepositoryDispatch { event_type })
        }
        "workflow_dispatch" => {
            if !triggers.workflow_dispatch {
                return Err(EventError::NotTriggered {
                    what: "workflow_dispatch".into(),
                });
            }
            let inputs = object(&event, "inputs")?;
            let mut fields = Fields::new("inputs", inputs, FieldStyle::Strings)?;
            fields.take_request(Origin::WorkflowDispatch)
        }
        other => Err(EventError::UnsupportedEvent { name: quote(other) }),
    }
}

fn object<'a>(
    event: &'a Map<String, Value>,
    key: &str,
) -> Result<&'a Map<String, Value>, EventError> {
    match event.get(key) {
        Some(Value::Object(map)) => Ok(map),
        Some(_) => Err(invalid(key, "must be an object")),
        None => Err(EventError::Missing(key.into())),
    }
}

/// Quotes untrusted text for an error message: escaped, and cut at 64 characters.
fn quote(text: &str) -> String {
    let shown: String = text.chars().take(64).collect();
    let more = if shown.len() < text.len() { "…" } else { "" };
    format!("\"{}\"{more}", shown.escape_default())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum FieldStyle {
    /// `client_payload`: JSON booleans, arrays and objects.
    Json,
    /// `inputs`: every value a string.
    Strings,
}

/// The known fields of a payload, consumed one by one; what is left over is unknown.
struct Fields<'a> {
    parent: &'static str,
    style: FieldStyle,
    rest: BTreeMap<&'a str, &'a Value>,
}

const KNOWN_FIELDS: [&str; 6] = [
    "version",
    "environment",
    "tasks",
    "dry_run",
    "replace",
    "digests",
];

impl<'a> Fields<'a> {
    fn new(
        parent: &'static str,
        map: &'a Map<String, Value>,
        style: FieldStyle,
    ) -> Result<Self, EventError> {
        let size = serde_json::to_string(map).map_or(usize::MAX, |s| s.len());
        if size > MAX_PAYLOAD_BYTES {
            return Err(EventError::TooLarge {
                field: parent.into(),
                size,
                limit: MAX_PAYLOAD_BYTES,
            });
        }
        if map.len() > MAX_PAYLOAD_KEYS {
            return Err(EventError::TooManyKeys {
                field: parent.into(),
                count: map.len(),
                limit: MAX_PAYLOAD_KEYS,
            });
        }
        if let Some(unknown) = map.keys().find(|k| !KNOWN_FIELDS.contains(&k.as_str())) {
            return Err(EventError::UnknownField(format!(
                "{parent}.{}",
                unknown.escape_default()
            )));
        }
        Ok(Self {
            parent,
            style,
            rest: map.iter().map(|(k, v)| (k.as_str(), v)).collect(),
        })
    }

    fn path(&self, key: &str) -> String {
        format!("{}.{key}", self.parent)
    }

    fn string(&mut self, key: &str) -> Result<Option<&'a str>, EventError> {
        match self.rest.remove(key) {
            None => Ok(None),
            Some(Value::String(text)) => Ok(Some(text)),
            Some(_) => Err(invalid(self.path(key), "must be a string")),
        }
    }

    fn required_string(&mut self, key: &str) -> Result<&'a str, EventError> {
        self.string(key)?
            .ok_or_else(|| EventError::Missing(self.path(key)))
    }

    fn boolean(&mut self, key: &str) -> Result<bool, EventError> {
        let path = self.path(key);
        match (self.style, self.rest.remove(key)) {
            (_, None) => Ok(false),
            (FieldStyle::Json, Some(Value::Bool(b))) => Ok(*b),
            (FieldStyle::Strings, Some(Value::String(s))) if s == "true" => Ok(true),
            (FieldStyle::Strings, Some(Value::String(s))) if s == "false" || s.is_empty() => {
                Ok(false)
            }
            (FieldStyle::Json, Some(_)) => Err(invalid(path, "must be a boolean")),
            (FieldStyle::Strings, Some(_)) => {
                Err(invalid(path, "must be the string \"true\" or \"false\""))
            }
        }
    }

    fn tasks(&mut self) -> Result<Option<Vec<String>>, EventError> {
        let path = self.path("tasks");
        let names: Vec<String> = match (self.style, self.rest.remove("tasks")) {
            (_, None) => return Ok(None),
            (FieldStyle::Json, Some(Value::Array(items))) => items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    item.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| invalid(format!("{path}[{i}]"), "must be a string"))
                })
                .collect::<Result<_, _>>()?,
            (FieldStyle::Strings, Some(Value::String(list))) => list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            (FieldStyle::Json, Some(_)) => {
                return Err(invalid(path, "must be an array of task names"));
            }
            (FieldStyle::Strings, Some(_)) => {
                return Err(invalid(path, "must be a comma-separated string"));
            }
        };
        if names.len() > MAX_TASKS {
            return Err(invalid(path, format!("at most {MAX_TASKS} tasks")));
        }
        if let Some(bad) = names.iter().find(|n| !is_task_name(n)) {
            return Err(invalid(path, format!("{} is not a task name", quote(bad))));
        }
        // An empty selection from a manual run means "all tasks".
        Ok((!names.is_empty()).then_some(names))
    }

    fn digests(&mut self) -> Result<BTreeMap<String, Sha256Digest>, EventError> {
        let path = self.path("digests");
        let parsed;
        let map = match (self.style, self.rest.remove("digests")) {
            (_, None) => return Ok(BTreeMap::new()),
            (FieldStyle::Json, Some(Value::Object(map))) => map,
            (FieldStyle::Strings, Some(Value::String(text))) if text.trim().is_empty() => {
                return Ok(BTreeMap::new());
            }
            (FieldStyle::Strings, Some(Value::String(text))) => {
                parsed = match serde_json::from_str::<Value>(text) {
                    Ok(Value::Object(map)) => map,
                    _ => {
                        return Err(invalid(
                            path,
                            "must be a JSON object of file name to digest",
                        ));
                    }
                };
                &parsed
            }
            (_, Some(_)) => return Err(invalid(path, "must be an object of file name to digest")),
        };
        if map.len() > MAX_DIGESTS {
            return Err(invalid(path, format!("at most {MAX_DIGESTS} digests")));
        }
        map.iter()
            .map(|(name, digest)| {
                if !is_file_name(name) {
                    return Err(invalid(
                        &path,
                        format!("{} is not a release file name", quote(name)),
                    ));
                }
                let field = format!("{path}.{name}");
                let text = digest
                    .as_str()
                    .ok_or_else(|| invalid(&field, "must be a string"))?;
                let digest =
                    Sha256Digest::parse(text).map_err(|e| invalid(&field, e.to_string()))?;
                Ok((name.clone(), digest))
            })
            .collect()
    }

    fn take_request(&mut self, origin: Origin) -> Result<ReleaseRequest, EventError> {
        let version_text = self.required_string("version")?;
        let version = Version::parse(version_text)
            .map_err(|e| invalid(self.path("version"), e.to_string()))?;
        let environment = match self.required_string("environment")? {
            "prod" => Environment::Prod,
            "dev" => Environment::Dev,
            other => {
                return Err(invalid(
                    self.path("environment"),
                    format!("{} is not `prod` or `dev`", quote(other)),
                ));
            }
        };
        let replace = self.boolean("replace")?;
        if replace && matches!(origin, Origin::RepositoryDispatch { .. }) {
            return Err(EventError::ReplaceNotAllowed {
                field: self.path("replace"),
            });
        }
        let request = ReleaseRequest {
            version,
            environment,
            tasks: self.tasks()?,
            dry_run: self.boolean("dry_run")?,
            replace,
            build_digests: self.digests()?,
            origin,
        };
        debug_assert!(self.rest.is_empty(), "every known field is consumed");
        Ok(request)
    }
}

/// Task names: lowercase letters, digits and `-`, 1 to 64 characters.
pub fn is_task_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Release file names: letters, digits, `.`, `-`, `_`, not starting with `.`, 1 to 128 characters.
fn is_file_name(name: &str) -> bool {
    (1..=128).contains(&name.len())
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'))
}
