//! Fixture helpers shared by the container tests: the fixture repository as a file tree, each
//! scenario's expected commits, and the digests of the releases the scenarios use.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use valkey_bot_core::outputs::ImageTags;
use valkey_bot_task_container::{External, NamedText};

/// Files by path, with their executable bit.
pub type Tree = BTreeMap<String, (Vec<u8>, bool)>;

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every file under `root`, by path relative to it, with its executable bit.
pub fn read_tree(root: &Path) -> Tree {
    fn walk(root: &Path, dir: &Path, tree: &mut Tree) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, tree);
            } else {
                let relative = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .to_owned();
                let executable =
                    std::fs::metadata(&path).unwrap().permissions().mode() & 0o111 != 0;
                tree.insert(relative, (std::fs::read(&path).unwrap(), executable));
            }
        }
    }
    let mut tree = Tree::new();
    walk(root, root, &mut tree);
    tree
}

/// The fixture repository with the files of earlier expected commits laid over it.
pub fn repository(overlays: &[&str]) -> Tree {
    let mut tree = read_tree(&fixtures().join("repo"));
    for overlay in overlays {
        tree.extend(read_tree(&fixtures().join("expected").join(overlay)));
    }
    tree
}

/// The commits `scenario` expects for `version`: each subject, with the files of
/// `expected/<scenario>/<n>/` (a commit without a directory is not expected).
pub fn expected_commits(scenario: &str, version: &str) -> Vec<(String, Tree)> {
    let subjects = [
        format!("Update versions.json and Dockerfiles for version {version}"),
        format!("Update container aliases for version {version}"),
    ];
    let mut expected = Vec::new();
    for (index, subject) in subjects.into_iter().enumerate() {
        let dir = fixtures()
            .join("expected")
            .join(scenario)
            .join((index + 1).to_string());
        if dir.is_dir() {
            expected.push((subject, read_tree(&dir)));
        }
    }
    expected
}

/// The inputs from outside the container repository: the fixture helper functions and the
/// official-images manifests of `official` (`official-images` or `official-images-refresh`).
pub fn external(official: &str) -> External {
    let read = |path: &Path| String::from_utf8(std::fs::read(path).unwrap()).unwrap();
    let manifest = |name: &str| NamedText {
        name: format!("{official}/library/{name}"),
        text: read(&fixtures().join(official).join("library").join(name)),
    };
    External {
        helper_functions: read(&fixtures().join("bashbrew/template-helper-functions.jq")),
        debian_manifest: manifest("debian"),
        alpine_manifest: manifest("alpine"),
    }
}

/// Image tags from three space-separated lists.
pub fn tags(debian: &str, alpine: &str, pkg: &str) -> ImageTags {
    let words = |s: &str| s.split_whitespace().map(str::to_owned).collect();
    ImageTags {
        debian: words(debian),
        alpine: words(alpine),
        pkg: words(pkg),
    }
}

pub const SHA_9_0_2: &str = "4ad4cf6839d60581e8f99e926dbab64f6275851487f6503e65de991df625a0b3";
pub const SHA_9_0_3: &str = "682b0ab6272dddfb89770b50bd0b732afcc9f31dc48b1521688d39b1e9f45ab4";
pub const SHA_9_1_0_RC1: &str = "d960e7bfb0bfc70c191d7a45a29a56564edaddddac7bb799df9903281f32e8ee";
pub const SHA_9_1_0: &str = "b1a6317173f64f74e6cf0ed817a556b6b67fbf178c1ef6dd3d2783ff280ed890";
pub const SHA_10_0_0: &str = "d735b721e2fd5ffc8ac1faac38daab5629d7839a72fb68a46595a8b4d00af30f";
pub const SHA_8_0_7: &str = "669c333fc4e639fae1589eb3b3fa40fbb273b578c8244e15231c05ff1017c156";
