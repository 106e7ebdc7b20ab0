//! Fixture helpers shared by the container tests: the fixture repository as a file tree.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

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
