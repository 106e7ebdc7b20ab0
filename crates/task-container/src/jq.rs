//! JSON text exactly as `jq .` prints it: two-space indent, `"key": value`, `[]` and `{}` for
//! empty containers, one trailing newline.
//!
//! Strings escape `"` and `\`, use `\b \f \n \r \t` for those controls, `\u00xx` (lowercase hex)
//! for the other control characters and for DEL (0x7f), and keep every other character as UTF-8,
//! as jq does without `-a`. Numbers: jq 1.6 reprints every number as a double and jq 1.7 keeps the
//! literal, so only integers (which both print the same way) are accepted; a fraction or an
//! exponent is refused rather than printed in a way jq might not.

use serde_json::Value;
use std::fmt::Write as _;

/// A value this printer cannot render byte-identically to `jq .`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedNumber(pub String);

/// Renders `value` as `jq .` would, including the trailing newline.
pub fn to_jq_string(value: &Value) -> Result<String, UnsupportedNumber> {
    let mut out = String::new();
    write_value(&mut out, value, 0)?;
    out.push('\n');
    Ok(out)
}

fn write_value(out: &mut String, value: &Value, depth: usize) -> Result<(), UnsupportedNumber> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if n.is_f64() {
                return Err(UnsupportedNumber(n.to_string()));
            }
            out.push_str(&n.to_string());
        }
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            if items.is_empty() {
                out.push_str("[]");
                return Ok(());
            }
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_value(out, item, depth + 1)?;
            }
            newline(out, depth);
            out.push(']');
        }
        Value::Object(map) => {
            if map.is_empty() {
                out.push_str("{}");
                return Ok(());
            }
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_string(out, key);
                out.push_str(": ");
                write_value(out, item, depth + 1)?;
            }
            newline(out, depth);
            out.push('}');
        }
    }
    Ok(())
}

fn newline(out: &mut String, depth: usize) {
    out.push('\n');
    for _ in 0..depth {
        out.push_str("  ");
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                // Writing to a String cannot fail.
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn prints_nested_objects_and_arrays_like_jq() {
        let value = json!({"a": {"b": [1, "x", true, null], "c": {}, "d": []}, "e": -3});
        assert_eq!(
            to_jq_string(&value).unwrap(),
            "{\n  \"a\": {\n    \"b\": [\n      1,\n      \"x\",\n      true,\n      null\n    ],\n    \"c\": {},\n    \"d\": []\n  },\n  \"e\": -3\n}\n"
        );
        assert_eq!(to_jq_string(&json!({})).unwrap(), "{}\n");
        assert_eq!(to_jq_string(&json!([])).unwrap(), "[]\n");
        assert_eq!(to_jq_string(&json!("s")).unwrap(), "\"s\"\n");
    }

    #[test]
    fn escapes_strings_like_jq() {
        // Expected bytes as printed by `jq .` (1.6) for the same input.
        let value = json!({"k\"ey": "q\" b\\ /\u{8}\u{c}\n\r\t\u{1}\u{1f}\u{7f} é ✓ 😀"});
        assert_eq!(
            to_jq_string(&value).unwrap(),
            "{\n  \"k\\\"ey\": \"q\\\" b\\\\ /\\b\\f\\n\\r\\t\\u0001\\u001f\\u007f é ✓ 😀\"\n}\n"
        );
    }

    #[test]
    fn refuses_fractional_numbers() {
        assert_eq!(
            to_jq_string(&json!({"n": 1.5})),
            Err(UnsupportedNumber("1.5".to_owned()))
        );
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            "\\PC{0,8}|[\\x00-\\x7f]{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec(("[a-z\"\\\\\\n]{0,4}", inner), 0..4)
                    .prop_map(|pairs| Value::Object(pairs.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn output_parses_back_to_the_same_value(value in arb_json()) {
            let text = to_jq_string(&value).unwrap();
            let back: Value = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(back, value);
            prop_assert!(text.ends_with('\n') && !text.ends_with("\n\n"));
        }

        #[test]
        fn layout_matches_serde_pretty_apart_from_escapes(value in arb_json()) {
            // serde_json's pretty printer uses the same layout as jq (2 spaces, ": ", "[]"/"{}");
            // the two only differ in escaping DEL, so compare on values without it.
            let text = to_jq_string(&value).unwrap();
            prop_assume!(!text.contains("\\u007f"));
            prop_assert_eq!(text, serde_json::to_string_pretty(&value).unwrap() + "\n");
        }

        #[test]
        fn never_emits_raw_control_characters(value in arb_json()) {
            let text = to_jq_string(&value).unwrap();
            let body = text.trim_end_matches('\n');
            prop_assert!(body.chars().all(|c| c == '\n' || (c >= ' ' && c != '\x7f')), "raw control character");
        }
    }
}
