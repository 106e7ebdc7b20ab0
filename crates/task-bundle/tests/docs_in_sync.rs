//! `docs/adding-a-task.md` quotes this crate's files; each fenced block preceded by a line
//! `<!-- file: PATH -->` must equal the file at PATH (relative to the repository root), byte for byte.
#![allow(clippy::unwrap_used)]

use std::path::Path;

/// `(path, block)` for every fenced block directly after a `<!-- file: PATH -->` line.
fn quoted_files(doc: &str) -> Vec<(String, String)> {
    let mut quotes = Vec::new();
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        let Some(path) = line
            .strip_prefix("<!-- file: ")
            .and_then(|rest| rest.strip_suffix(" -->"))
        else {
            continue;
        };
        let fence = lines.next().unwrap_or_default();
        assert!(
            fence.starts_with("```"),
            "no fenced block after the marker for {path}"
        );
        let mut block = String::new();
        for line in lines.by_ref() {
            if line == "```" {
                break;
            }
            block.push_str(line);
            block.push('\n');
        }
        quotes.push((path.to_owned(), block));
    }
    quotes
}

#[test]
fn every_quoted_file_in_adding_a_task_is_the_file_itself() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let doc = std::fs::read_to_string(root.join("docs/adding-a-task.md")).unwrap();
    let quotes = quoted_files(&doc);
    let paths: Vec<&str> = quotes.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "crates/task-bundle/Cargo.toml",
            "crates/task-bundle/src/lib.rs",
            "crates/task-bundle/tests/plan.rs",
        ]
    );
    for (path, block) in quotes {
        let file = std::fs::read_to_string(root.join(&path)).unwrap();
        assert!(
            block == file,
            "docs/adding-a-task.md quotes {path} differently from the file: copy the file into the doc"
        );
    }
}

#[test]
fn a_changed_quote_is_detected() {
    let doc = "text\n<!-- file: a.rs -->\n```rust\nfn a() {}\n```\n";
    assert_eq!(
        quoted_files(doc),
        [("a.rs".to_owned(), "fn a() {}\n".to_owned())]
    );
    assert_ne!(quoted_files(doc)[0].1, "fn b() {}\n");
}
