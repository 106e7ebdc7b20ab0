//! The contract check: every API answer the sandbox gives, and every request body it receives,
//! validated against GitHub's own REST API description (`openapi/github-subset.json`, extracted
//! by `scripts/extract-github-openapi.mjs` from a pinned `@octokit/openapi`).
//!
//! Off unless the crate's `contract` feature is on and a test calls
//! [`crate::RunningSandbox::check_contract`]; then the pipeline hands each exchange here and
//! [`crate::RunningSandbox::contract_violations`] lists what did not match. The operation is found
//! by method and path template, so a route added later is checked without registering it.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::Value;

/// The vendored subset of GitHub's description (GitHub's data, MIT; see its `x-vendored` header).
const DESCRIPTION: &str = include_str!("../openapi/github-subset.json");

/// Statuses GitHub can give on any operation whether or not its description lists them (bad
/// credentials, no permission or no such repository, rate limits, outages): when undocumented for
/// the operation their body is checked against `basic-error`. Every other status must be listed.
const ANY_OPERATION: [u16; 7] = [401, 403, 404, 429, 500, 502, 503];

/// At most this many schema errors are kept per body (the first ones name the problem).
const ERRORS_PER_BODY: usize = 8;

/// Which side of an exchange broke the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The request body the client sent.
    Request,
    /// The answer the sandbox gave.
    Response,
}

/// One way an exchange differs from GitHub's description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// `METHOD /template` of the operation, or of the request when no operation matched.
    pub operation: String,
    /// The concrete request, `METHOD /api/v3/...`.
    pub request: String,
    /// The status answered (for a request-body violation too, when known).
    pub status: Option<u16>,
    /// Request body or response.
    pub side: Side,
    /// JSON pointer of the offending value inside the body (`""` for the whole body).
    pub pointer: String,
    /// What is wrong, without the value itself (bodies may hold tokens).
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let side = match self.side {
            Side::Request => "request body",
            Side::Response => "response",
        };
        let status = self
            .status
            .map_or_else(String::new, |status| format!(" {status}"));
        write!(
            f,
            "{}{status} {side} at {:?} ({}): {}",
            self.operation, self.pointer, self.request, self.message
        )
    }
}

/// The parsed description: operations by method, with their path templates split.
struct Description {
    document: Value,
    /// (method in upper case, template, template segments).
    operations: Vec<(String, String, Vec<String>)>,
}

fn description() -> Result<&'static Description, String> {
    static PARSED: OnceLock<Result<Description, String>> = OnceLock::new();
    PARSED
        .get_or_init(|| {
            let document: Value = serde_json::from_str(DESCRIPTION)
                .map_err(|error| format!("openapi/github-subset.json: {error}"))?;
            let mut operations = Vec::new();
            for (template, methods) in document["paths"].as_object().into_iter().flatten() {
                for method in methods.as_object().into_iter().flatten().map(|(m, _)| m) {
                    let segments = template
                        .trim_start_matches('/')
                        .split('/')
                        .map(str::to_owned)
                        .collect();
                    operations.push((method.to_ascii_uppercase(), template.clone(), segments));
                }
            }
            Ok(Description {
                document,
                operations,
            })
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Parameters whose value may hold slashes (a ref, a file path, `base...head`, a branch): as a
/// template's last segment they take the rest of the path; `{path}` may also be empty (the root).
const MULTI_SEGMENT: [&str; 4] = ["{ref}", "{path}", "{basehead}", "{branch}"];

/// The template of the operation `method path` (path without `/api/v3`): the one with the most
/// literal segments, a segment-for-segment match winning over one through a multi-segment
/// parameter.
fn operation_for(description: &Description, method: &str, path: &str) -> Option<String> {
    let asked: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut best: Option<(usize, bool, &str)> = None;
    for (op_method, template, segments) in &description.operations {
        if op_method != method {
            continue;
        }
        let Some(exact) = matches(segments, &asked) else {
            continue;
        };
        let literals = segments.iter().filter(|s| !s.starts_with('{')).count();
        let better = best.is_none_or(|(l, e, _)| (literals, exact) > (l, e));
        if better {
            best = Some((literals, exact, template));
        }
    }
    best.map(|(_, _, template)| template.to_owned())
}

/// `Some(true)` when `asked` matches `template` segment for segment, `Some(false)` when it
/// matches through a multi-segment last parameter, `None` when it does not match.
fn matches(template: &[String], asked: &[&str]) -> Option<bool> {
    let (last, fixed) = template.split_last()?;
    let segment_ok = |t: &String, a: &str| t.starts_with('{') && !a.is_empty() || t == a;
    if asked.len() < fixed.len() || !fixed.iter().zip(asked).all(|(t, a)| segment_ok(t, a)) {
        return None;
    }
    let rest = &asked[fixed.len()..];
    if rest.len() == 1 && segment_ok(last, rest[0]) {
        return Some(true);
    }
    let multi = MULTI_SEGMENT.contains(&last.as_str());
    let empty = rest.iter().all(|segment| segment.is_empty());
    let fits = match rest.len() {
        0 => last == "{path}",
        _ if empty => last == "{path}",
        _ => rest.iter().all(|segment| !segment.is_empty()),
    };
    (multi && fits).then_some(false)
}

/// A JSON pointer into the description, escaped.
fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// The live check: on/off, compiled validators and what was found.
#[derive(Default)]
pub(crate) struct Contract {
    enabled: AtomicBool,
    /// Exchanges checked so far.
    checked: AtomicU64,
    validators: Mutex<HashMap<String, Arc<jsonschema::Validator>>>,
    violations: Mutex<Vec<Violation>>,
}

impl Contract {
    /// Turns the check on from now.
    pub(crate) fn enable(&self) {
        self.enabled.store(true, Ordering::Relaxed);
    }

    /// Whether exchanges are checked.
    pub(crate) fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// How many exchanges were checked so far.
    pub(crate) fn checked(&self) -> u64 {
        self.checked.load(Ordering::Relaxed)
    }

    /// Every violation so far.
    pub(crate) fn violations(&self) -> Vec<Violation> {
        lock(&self.violations).clone()
    }

    /// Checks one exchange: `body` sent to `method path` (path with `/api/v3`), answered
    /// `status` with `content_type` and `answer`. `faulted`: the answer came from the fault plan,
    /// so only its shape is checked (as a generic error), not whether the status is documented.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn check(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        status: u16,
        content_type: Option<&str>,
        answer: &[u8],
        faulted: bool,
    ) {
        self.checked.fetch_add(1, Ordering::Relaxed);
        let found = self.check_exchange(method, path, body, status, content_type, answer, faulted);
        if !found.is_empty() {
            lock(&self.violations).extend(found);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn check_exchange(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        status: u16,
        content_type: Option<&str>,
        answer: &[u8],
        faulted: bool,
    ) -> Vec<Violation> {
        let request = format!("{method} {path}");
        let violation = |operation: &str, side, pointer: String, message: String| Violation {
            operation: operation.to_owned(),
            request: request.clone(),
            status: Some(status),
            side,
            pointer,
            message,
        };
        let description = match description() {
            Ok(description) => description,
            Err(error) => return vec![violation(&request, Side::Response, String::new(), error)],
        };
        let api_path = path.strip_prefix("/api/v3").unwrap_or(path);
        let Some(template) = operation_for(description, method, api_path) else {
            let message = "no such operation in GitHub's description".to_owned();
            return vec![violation(&request, Side::Response, String::new(), message)];
        };
        let operation = format!("{method} {template}");
        let base = format!(
            "/paths/{}/{}",
            escape(&template),
            method.to_ascii_lowercase()
        );
        let mut found = Vec::new();
        if !body.is_empty() {
            let schema = format!("{base}/requestBody/content/application~1json/schema");
            let mut errors = self.validate(description, &schema, body);
            if description.document.pointer(&schema).is_none() {
                errors = vec![(
                    String::new(),
                    "the operation takes no request body".to_owned(),
                )];
            }
            found.extend(
                errors.into_iter().map(|(pointer, message)| {
                    violation(&operation, Side::Request, pointer, message)
                }),
            );
        }
        let documented = format!("{base}/responses/{status}");
        let response = description.document.pointer(&documented);
        let schema = match response {
            Some(response) => match response.get("content").and_then(Value::as_object) {
                Some(content) => {
                    let media = content_type
                        .and_then(|value| value.split(';').next())
                        .map(str::trim)
                        .filter(|media| content.contains_key(*media))
                        .or_else(|| {
                            content
                                .contains_key("application/json")
                                .then_some("application/json")
                        })
                        .or_else(|| content.keys().next().map(String::as_str));
                    media.map(|media| format!("{documented}/content/{}/schema", escape(media)))
                }
                None => None,
            },
            // GitHub answers a conditional GET 304 on every operation (its REST guide), though
            // its description lists 304 for a few only; a 304 has no body.
            None if status == 304 && method == "GET" => None,
            None if faulted || ANY_OPERATION.contains(&status) => {
                Some("/components/schemas/basic-error".to_owned())
            }
            None => {
                let message = format!("status {status} is not documented for the operation");
                found.push(violation(
                    &operation,
                    Side::Response,
                    String::new(),
                    message,
                ));
                return found;
            }
        };
        let errors = match schema {
            Some(schema) if answer.is_empty() => vec![(
                String::new(),
                format!("the description documents a body ({schema}); the answer has none"),
            )],
            Some(schema) => self.validate(description, &schema, answer),
            None if answer.is_empty() => Vec::new(),
            None => vec![(
                String::new(),
                "the description documents no body for this status; the answer has one".to_owned(),
            )],
        };
        found.extend(
            errors
                .into_iter()
                .map(|(pointer, message)| violation(&operation, Side::Response, pointer, message)),
        );
        found
    }

    /// Validates `bytes` as JSON against the schema at `pointer` in the description:
    /// (instance pointer, message) per error.
    fn validate(
        &self,
        description: &Description,
        pointer: &str,
        bytes: &[u8],
    ) -> Vec<(String, String)> {
        let instance: Value = match serde_json::from_slice(bytes) {
            Ok(instance) => instance,
            Err(error) => return vec![(String::new(), format!("not JSON: {error}"))],
        };
        let validator = match self.validator(description, pointer) {
            Ok(Some(validator)) => validator,
            Ok(None) => return Vec::new(),
            Err(message) => return vec![(String::new(), message)],
        };
        validator
            .iter_errors(&instance)
            .take(ERRORS_PER_BODY)
            .map(|error| {
                (
                    error.instance_path().to_string(),
                    error.masked().to_string(),
                )
            })
            .collect()
    }

    /// The compiled schema at `pointer` (`None` when the description has none there).
    fn validator(
        &self,
        description: &Description,
        pointer: &str,
    ) -> Result<Option<Arc<jsonschema::Validator>>, String> {
        if let Some(validator) = lock(&self.validators).get(pointer) {
            return Ok(Some(validator.clone()));
        }
        let Some(schema) = description.document.pointer(pointer) else {
            return Ok(None);
        };
        // The schema's `$ref`s point at `#/components/schemas/...`: give it the components as
        // its root document.
        let root = serde_json::json!({
            "allOf": [schema],
            "components": description.document["components"],
        });
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft7)
            .should_validate_formats(true)
            .build(&root)
            .map_err(|error| format!("the schema at {pointer} does not compile: {error}"))?;
        let validator = Arc::new(validator);
        lock(&self.validators).insert(pointer.to_owned(), validator.clone());
        Ok(Some(validator))
    }
}

/// The largest body buffered for the check (the sandbox's answers and the client's requests in
/// tests are far smaller).
const BUFFER_LIMIT: usize = 256 * 1024 * 1024;

/// When the check is on and `request` is an API call: its body, read whole (the request is
/// rebuilt around it); otherwise the request unchanged and no body.
pub(crate) async fn read_request(
    contract: &Contract,
    is_api: bool,
    request: axum::extract::Request,
) -> (axum::extract::Request, Option<bytes::Bytes>) {
    if !is_api || !contract.enabled() {
        return (request, None);
    }
    let (parts, body) = request.into_parts();
    // A body that cannot be read whole reaches the handler empty, which refuses it.
    let bytes = axum::body::to_bytes(body, BUFFER_LIMIT)
        .await
        .unwrap_or_default();
    let request = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes.clone()));
    (request, Some(bytes))
}

/// Checks the answer to a request [`read_request`] read (`sent`), and passes it on unchanged.
pub(crate) async fn check_response(
    contract: &Contract,
    sent: Option<bytes::Bytes>,
    method: &str,
    path: &str,
    response: axum::response::Response,
    faulted: bool,
) -> axum::response::Response {
    let Some(sent) = sent else {
        return response;
    };
    let (parts, body) = response.into_parts();
    let Ok(answer) = axum::body::to_bytes(body, BUFFER_LIMIT).await else {
        let message = "the answer's body could not be read".to_owned();
        lock(&contract.violations).push(Violation {
            operation: format!("{method} {path}"),
            request: format!("{method} {path}"),
            status: Some(parts.status.as_u16()),
            side: Side::Response,
            pointer: String::new(),
            message,
        });
        return axum::response::Response::from_parts(parts, axum::body::Body::empty());
    };
    let content_type = parts
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    contract.check(
        method,
        path,
        &sent,
        parts.status.as_u16(),
        content_type,
        &answer,
        faulted,
    );
    axum::response::Response::from_parts(parts, axum::body::Body::from(answer))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One of GitHub's own examples from the description.
#[derive(Debug, Clone)]
pub struct Example {
    /// `METHOD /template`.
    pub operation: String,
    /// The status it is an example answer for.
    pub status: u16,
    /// The example's name in the description.
    pub name: String,
    /// The example body.
    pub value: Value,
}

/// Every JSON response example of the operation `method template` (template exactly as GitHub's
/// description spells it), for tests that decode GitHub's own answers.
pub fn examples(method: &str, template: &str) -> Result<Vec<Example>, String> {
    let description = description()?;
    let pointer = format!(
        "/paths/{}/{}/responses",
        escape(template),
        method.to_ascii_lowercase()
    );
    let responses = description
        .document
        .pointer(&pointer)
        .and_then(Value::as_object)
        .ok_or_else(|| format!("{method} {template} is not in the vendored description"))?;
    let mut examples = Vec::new();
    for (status, response) in responses {
        let Ok(code) = status.parse::<u16>() else {
            continue;
        };
        for (media, content) in response["content"].as_object().into_iter().flatten() {
            // The JSON answers only (not `.diff` or `.patch` media types).
            if !(media.contains("json") || media == "application/vnd.github.object") {
                continue;
            }
            for (name, value) in content["examples"].as_object().into_iter().flatten() {
                examples.push(Example {
                    operation: format!("{method} {template}"),
                    status: code,
                    name: name.clone(),
                    value: value.clone(),
                });
            }
        }
    }
    Ok(examples)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn template(method: &str, path: &str) -> Option<String> {
        operation_for(description().unwrap(), method, path)
    }

    #[test]
    fn finds_the_operation_by_method_and_template() {
        assert_eq!(
            template("GET", "/repos/acme/images/git/ref/heads/update/9.1").as_deref(),
            Some("/repos/{owner}/{repo}/git/ref/{ref}")
        );
        assert_eq!(
            template("GET", "/repos/acme/images").as_deref(),
            Some("/repos/{owner}/{repo}")
        );
        assert_eq!(
            template("GET", "/repos/acme/images/installation").as_deref(),
            Some("/repos/{owner}/{repo}/installation")
        );
        assert_eq!(
            template("GET", "/repos/acme/images/contents/").as_deref(),
            Some("/repos/{owner}/{repo}/contents/{path}")
        );
        assert_eq!(
            template("GET", "/repos/acme/images/contents/9.1/debian/Dockerfile").as_deref(),
            Some("/repos/{owner}/{repo}/contents/{path}")
        );
        assert_eq!(template("PUT", "/repos/acme/images"), None);
        assert_eq!(template("GET", "/repos/acme/images/nonsense/x"), None);
    }

    fn check(method: &str, path: &str, body: &str, status: u16, answer: &str) -> Vec<Violation> {
        let contract = Contract::default();
        contract.check(
            method,
            path,
            body.as_bytes(),
            status,
            Some("application/json; charset=utf-8"),
            answer.as_bytes(),
            false,
        );
        contract.violations()
    }

    #[test]
    fn a_missing_required_field_is_named_with_its_operation_status_and_pointer() {
        let answer = r#"{"ref":"refs/heads/main","node_id":"x","url":"http://127.0.0.1/r","object":{"type":"commit","url":"http://127.0.0.1/c"}}"#;
        let found = check(
            "GET",
            "/api/v3/repos/a/b/git/ref/heads/main",
            "",
            200,
            answer,
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].operation,
            "GET /repos/{owner}/{repo}/git/ref/{ref}"
        );
        assert_eq!(found[0].status, Some(200));
        assert_eq!(found[0].pointer, "/object");
        assert!(found[0].message.contains("sha"), "{}", found[0].message);
        let shown = found[0].to_string();
        assert!(
            shown.contains("GET /repos/{owner}/{repo}/git/ref/{ref} 200 response at \"/object\""),
            "{shown}"
        );
    }

    #[test]
    fn an_undocumented_status_or_operation_is_a_violation() {
        let found = check("GET", "/api/v3/repos/a/b/git/ref/heads/main", "", 418, "{}");
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("418"), "{found:?}");
        let found = check("GET", "/api/v3/repos/a/b/teleport", "", 200, "{}");
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("no such operation"), "{found:?}");
        // A generic error status is checked as GitHub's basic error.
        assert_eq!(
            check(
                "GET",
                "/api/v3/repos/a/b/pulls",
                "",
                404,
                r#"{"message":"Not Found"}"#
            ),
            []
        );
        let found = check(
            "GET",
            "/api/v3/repos/a/b/pulls",
            "",
            404,
            r#"{"message":7}"#,
        );
        assert_eq!(found[0].pointer, "/message");
    }

    #[test]
    fn a_request_body_is_checked_against_the_request_schema() {
        let found = check(
            "POST",
            "/api/v3/repos/a/b/git/refs",
            r#"{"ref":"refs/heads/x"}"#,
            422,
            r#"{"message":"Validation Failed","documentation_url":"https://docs.github.com/rest"}"#,
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].side, Side::Request);
        assert_eq!(found[0].operation, "POST /repos/{owner}/{repo}/git/refs");
        assert!(found[0].message.contains("sha"), "{}", found[0].message);
    }

    #[test]
    fn values_are_never_shown() {
        let answer = r#"{"token":12345678,"expires_at":"2026-01-01T00:00:00Z"}"#;
        let found = check(
            "POST",
            "/api/v3/app/installations/1/access_tokens",
            "{}",
            201,
            answer,
        );
        assert!(!found.is_empty());
        assert!(
            found.iter().all(|v| !v.message.contains("12345678")),
            "{found:?}"
        );
    }

    #[test]
    fn examples_come_from_the_description() {
        let found = examples("GET", "/repos/{owner}/{repo}/git/ref/{ref}").unwrap();
        assert!(
            found
                .iter()
                .any(|e| e.status == 200 && e.value["ref"].is_string())
        );
        assert!(examples("GET", "/nope").is_err());
    }
}
