//! The Modules API reference generator on a `module.c` fixture that exercises each of its rules;
//! the expected bytes were checked against the Valkey source's own Ruby generator (see the
//! `modref` module's documentation).
#![allow(clippy::unwrap_used)]

use valkey_bot_task_docs::DocsError;
use valkey_bot_task_docs::modref::{SinceMap, generate, release_numbers};

const MODULE_C: &str = include_str!("fixtures/module.c");
const BEFORE: &str = include_str!("fixtures/modules-api-ref.before.md");
const EXPECTED: &str = include_str!("fixtures/modules-api-ref.expected.md");

/// The "since" values of the fixture: carried over from the older reference, then computed from
/// tag 9.0.1, tag 9.0.2 and the release 9.1.0 itself.
fn since() -> SinceMap {
    let mut since = SinceMap::from_reference(BEFORE);
    since.add_release("9.0.1", "int VM_Count(ValkeyModuleCtx *ctx) {\n");
    since.add_release(
        "9.0.2",
        "int VM_Count(ValkeyModuleCtx *ctx) {\nValkeyModuleString *VM_Describe(ValkeyModuleCtx *ctx, int verbose) {\n",
    );
    since.add_release("9.1.0", MODULE_C);
    since
}

#[test]
fn the_reference_of_the_fixture_is_exactly_the_expected_bytes() {
    let generated = generate(MODULE_C, &since()).unwrap();
    assert_eq!(generated, EXPECTED);
}

#[test]
fn since_values_are_read_from_the_reference_and_unreleased_states_none() {
    let since = SinceMap::from_reference(BEFORE);
    let stated: Vec<(&str, &str)> = since
        .0
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        stated,
        [
            ("ForEachKey", "9.0.0"),
            ("Grab", "4.0.0"),
            ("Register", "7.2.0"),
            ("Release", "4.0.0"),
        ]
    );
    assert_eq!(since.newest(), Some((9, 0, 0)));
    assert_eq!(SinceMap::from_reference("").newest(), None);
}

#[test]
fn a_value_already_known_is_never_replaced_by_a_later_release() {
    let mut since = SinceMap::default();
    since.add_release("9.0.1", "int VM_Count(void) {\nstatic int helper(void) {\n");
    since.add_release("9.1.0", "int VM_Count(void) {\nvoid *VM_Grab(size_t n) {\n");
    assert_eq!(since.0.get("Count").map(String::as_str), Some("9.0.1"));
    assert_eq!(since.0.get("Grab").map(String::as_str), Some("9.1.0"));
    assert_eq!(since.0.len(), 2);
}

#[test]
fn only_final_release_tags_from_4_on_are_releases() {
    assert_eq!(release_numbers("9.1.0"), Some((9, 1, 0)));
    assert_eq!(release_numbers("10.0.12"), Some((10, 0, 12)));
    for tag in [
        "9.1.0-rc1",
        "3.2.13",
        "unstable",
        "9.1",
        "9.1.0.1",
        "v9.1.0",
        "base-8.0.0-rc1",
    ] {
        assert_eq!(release_numbers(tag), None, "{tag}");
    }
}

#[test]
fn a_function_comment_that_is_never_opened_is_refused_with_its_line() {
    let source = "  ends a comment that never began */\nint VM_Orphan(void) {\n}\n";
    let error = generate(source, &SinceMap::default()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "`src/module.c` cannot be documented: line 2: the comment above `VM_Orphan` has no `/*` that opens it"
    );
}

#[test]
fn a_section_comment_that_is_never_closed_is_refused() {
    let source = "/* Doc. */\nint VM_One(void) {\n}\n/* ## Unfinished\n * text\n";
    let error = generate(source, &SinceMap::default()).unwrap_err();
    assert_eq!(
        error,
        DocsError::ModuleSource(
            "line 4: the section comment \"Unfinished\" is never closed with `*/`".into()
        )
    );
}

#[test]
fn a_source_without_a_documented_function_is_refused() {
    let error = generate("int main(void) { return 0; }\n", &SinceMap::default()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "`src/module.c` cannot be documented: no documented `VM_` function (a `*/` line followed by its definition)"
    );
}
