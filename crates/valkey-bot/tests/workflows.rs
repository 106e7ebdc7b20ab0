//! The repository's workflows (`.github/workflows/*.yml`) and the documented examples
//! (`docs/examples/*.yml`) never interpolate event data into a `run:` script (script injection),
//! and pin every action to a full commit SHA.

use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

/// Expression contents that carry data an outsider can choose.
const UNTRUSTED: [&str; 4] = [
    "github.event",
    "inputs.",
    "github.head_ref",
    "client_payload",
];

/// Every problem in one workflow's source, as `key: problem` lines.
fn check_workflow(source: &str) -> Result<Vec<String>, String> {
    let documents = YamlLoader::load_from_str(source).map_err(|e| e.to_string())?;
    let mut problems = Vec::new();
    for document in &documents {
        walk(document, &mut problems);
    }
    Ok(problems)
}

fn walk(node: &Yaml, problems: &mut Vec<String>) {
    match node {
        Yaml::Hash(map) => {
            for (key, value) in map {
                match (key.as_str(), value.as_str()) {
                    (Some("run"), Some(script)) => problems.extend(
                        untrusted_expressions(script)
                            .into_iter()
                            .map(|e| format!("run: interpolates `{e}`")),
                    ),
                    (Some("uses"), Some(action)) if !is_pinned(action) => {
                        problems.push(format!("uses: `{action}` is not pinned to a commit SHA"));
                    }
                    _ => walk(value, problems),
                }
            }
        }
        Yaml::Array(items) => items.iter().for_each(|item| walk(item, problems)),
        _ => {}
    }
}

/// The `${{ … }}` expressions of `script` that mention untrusted data.
fn untrusted_expressions(script: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = script;
    while let Some(start) = rest.find("${{") {
        let after = &rest[start + 3..];
        let end = after.find("}}").unwrap_or(after.len());
        let expression = after[..end].trim();
        if UNTRUSTED.iter().any(|u| expression.contains(u)) {
            found.push(expression.to_owned());
        }
        rest = &after[end..];
    }
    found
}

/// Local actions (`./…`) or `owner/repo[/path]@<40 hex digits>`.
fn is_pinned(action: &str) -> bool {
    if action.starts_with("./") {
        return true;
    }
    let Some((_, reference)) = action.rsplit_once('@') else {
        return false;
    };
    reference.len() == 40 && reference.bytes().all(|b| b.is_ascii_hexdigit())
}

fn workflow_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in [".github/workflows", "docs/examples"] {
        let entries =
            std::fs::read_dir(root.join(dir)).unwrap_or_else(|e| panic!("cannot list {dir}: {e}"));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn no_workflow_interpolates_event_data_into_run_or_uses_an_unpinned_action() {
    let files = workflow_files();
    let names: Vec<String> = files
        .iter()
        .filter_map(|f| f.file_name()?.to_str().map(str::to_owned))
        .collect();
    for expected in ["ci.yml", "release.yml", "trigger-release-automation.yml"] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} not found in {names:?}"
        );
    }
    for file in &files {
        let source = std::fs::read_to_string(file).expect("a readable workflow");
        let problems = check_workflow(&source).expect("valid YAML");
        assert!(problems.is_empty(), "{}: {problems:#?}", file.display());
    }
}

#[test]
fn the_checker_flags_injection_and_unpinned_actions() {
    let bad = r#"
on: repository_dispatch
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/cache@27d5ce7f107fe9357f9df03efb73ab90386fccae
      - uses: ./local-action
      - run: echo "${{ github.event.client_payload.version }}"
      - run: |
          echo ok
          deploy ${{inputs.version}} ${{ github.head_ref }} ${{ runner.os }}
      - env:
          VERSION: ${{ github.event.client_payload.version }}
        run: echo "$VERSION"
"#;
    assert_eq!(
        check_workflow(bad).unwrap(),
        [
            "uses: `actions/checkout@v4` is not pinned to a commit SHA",
            "run: interpolates `github.event.client_payload.version`",
            "run: interpolates `inputs.version`",
            "run: interpolates `github.head_ref`",
        ]
    );
}

#[test]
fn a_short_or_tag_reference_is_not_a_pin() {
    assert!(!is_pinned("actions/checkout@3d3c42e"));
    assert!(!is_pinned("actions/checkout"));
    assert!(!is_pinned("docker://alpine:3"));
    assert!(is_pinned(
        "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1"
    ));
}
