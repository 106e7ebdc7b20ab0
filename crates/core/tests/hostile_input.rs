//! Hostile input never panics the parsers: arbitrary bytes and structurally plausible payloads for
//! event intake, arbitrary and mutated text for `tasks.toml`.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use valkey_bot_core::config::load;
use valkey_bot_core::request::{Triggers, parse_event};

fn triggers() -> Triggers {
    Triggers {
        repository_dispatch: vec!["valkey-release".into()],
        workflow_dispatch: true,
    }
}

/// JSON values of any shape, a few levels deep.
fn json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        ".{0,40}".prop_map(serde_json::Value::from),
        prop_oneof![
            Just("9.1.1"),
            Just("unstable"),
            Just("true"),
            Just("prod"),
            Just("dev"),
            Just("checksums")
        ]
        .prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 32, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("version".to_owned()),
                    Just("environment".to_owned()),
                    Just("tasks".to_owned()),
                    Just("dry_run".to_owned()),
                    Just("replace".to_owned()),
                    Just("digests".to_owned()),
                    "[a-z_]{1,10}"
                ],
                inner,
                0..8
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

const CONFIG: &str = include_str!("../../../tasks.toml");

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic_event_intake(bytes in prop::collection::vec(any::<u8>(), 0..512), manual in any::<bool>()) {
        let name = if manual { "workflow_dispatch" } else { "repository_dispatch" };
        let _ = parse_event(name, &bytes, &triggers());
    }

    #[test]
    fn plausible_payloads_never_panic_and_accepted_ones_are_clean(payload in json(), manual in any::<bool>()) {
        let (name, event) = if manual {
            ("workflow_dispatch", serde_json::json!({"inputs": payload}))
        } else {
            ("repository_dispatch", serde_json::json!({"action": "valkey-release", "client_payload": payload}))
        };
        if let Ok(request) = parse_event(name, &serde_json::to_vec(&event).unwrap(), &triggers()) {
            let version = request.version.as_str();
            prop_assert!(version == "unstable" || version.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b"-rc".contains(&b)));
        }
    }

    #[test]
    fn arbitrary_text_never_panics_the_config_loader(text in ".{0,400}") {
        let _ = load("tasks.toml", &text, &[]);
    }

    #[test]
    fn mutated_configs_never_panic_and_errors_are_located(cut in 0usize..CONFIG.len(), insert in "[\\[\\]{}=\"a-z0-9 .\n#,]{0,12}") {
        let mut text = CONFIG.to_owned();
        let at = (0..=cut).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        text.insert_str(at, &insert);
        if let Err(error) = load("tasks.toml", &text, &[]) {
            prop_assert!(error.to_string().starts_with("tasks.toml:"), "{error}");
            prop_assert!(error.line >= 1 && error.column >= 1);
        }
    }
}
