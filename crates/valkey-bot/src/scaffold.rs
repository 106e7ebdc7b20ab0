//! `valkey-bot new-task NAME`: writes a new task crate, `crates/task-NAME`, from templates that
//! follow the worked example of `docs/adding-a-task.md` (a compiling task with its settings,
//! factory, plan and a test), and says which lines to add by hand to register it.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use valkey_bot_core::request::is_task_name;

/// Why a task crate was not written.
#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    /// The name is not lowercase letters, digits and `-`.
    #[error(
        "`{0}` is not a task name: use lowercase letters, digits and `-`, starting with a letter, not ending with `-`"
    )]
    BadName(String),
    /// `crates/task-NAME` is already there.
    #[error("{0} already exists: refusing to overwrite it")]
    Exists(PathBuf),
    /// Writing a file failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

/// What [`new_task`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scaffold {
    /// The new crate's directory.
    pub dir: PathBuf,
    /// The files written, relative to `dir`.
    pub files: Vec<&'static str>,
    /// Lines to add by hand to register the task, one per file to edit.
    pub hand_edits: Vec<String>,
}

const CARGO_TOML: &str = r#"[package]
name = "valkey-bot-task-{name}"
description = "The {name} task."
version.workspace = true
edition.workspace = true
rust-version.workspace = true
license.workspace = true
repository.workspace = true
publish = false

[dependencies]
async-trait.workspace = true
serde.workspace = true
toml.workspace = true
valkey-bot-core.workspace = true

[dev-dependencies]
tokio.workspace = true
valkey-bot-testkit.workspace = true

[lints]
workspace = true
"#;

const LIB_RS: &str = r#"//! The `{name}` task. Describe here what it does after a release, and for which versions.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use valkey_bot_core::task::FactoryOf;
use valkey_bot_core::{Plan, Task, TaskContext, TaskError};

/// The task's `settings` in `tasks.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct {Type}Settings {}

/// Registers the task.
pub static FACTORY: FactoryOf<{Type}Settings> =
    FactoryOf::new("{name}", "the {name} task", |settings| {
        Ok(Arc::new({Type} { settings }))
    });

/// The task itself.
pub struct {Type} {
    #[allow(dead_code, reason = "the skeleton reads no setting yet")]
    settings: {Type}Settings,
}

#[async_trait]
impl Task for {Type} {
    async fn plan(&self, ctx: &TaskContext<'_>) -> Result<Plan, TaskError> {
        Ok(Plan {
            notes: vec![format!("nothing to do yet for {}", ctx.request.version)],
            ..Plan::default()
        })
    }
}
"#;

const PLAN_RS: &str = r#"//! The {name} task's plans.
#![allow(clippy::unwrap_used)]

use valkey_bot_core::outputs::Outputs;
use valkey_bot_core::task::Settings;
use valkey_bot_core::{Environment, ReleaseRequest, TaskContext, TaskFactory, Version};
use valkey_bot_task_{ident}::FACTORY;
use valkey_bot_testkit::{MemoryDownloads, MemoryGitHub};

#[tokio::test]
async fn the_skeleton_plans_nothing_and_says_so() {
    let task = FACTORY.build(Settings::new(None)).unwrap();
    let request = ReleaseRequest::local(Version::parse("9.1.1").unwrap(), Environment::Prod);
    let (inputs, github, downloads) = (
        Outputs::default(),
        MemoryGitHub::default(),
        MemoryDownloads::default(),
    );
    let ctx = TaskContext {
        request: &request,
        target: None,
        inputs: &inputs,
        repos: Some(&github),
        downloads: &downloads,
        server_url: "https://github.com",
        run_date: "2026-11-23",
    };
    let plan = task.plan(&ctx).await.unwrap();
    assert!(plan.is_noop());
    assert_eq!(plan.notes, ["nothing to do yet for 9.1.1"]);
}
"#;

/// The files of a new crate, relative to its directory, with their templates.
const FILES: [(&str, &str); 3] = [
    ("Cargo.toml", CARGO_TOML),
    ("src/lib.rs", LIB_RS),
    ("tests/plan.rs", PLAN_RS),
];

/// Writes `crates_dir/task-NAME` for task `name`, refusing a bad name or an existing directory.
pub fn new_task(name: &str, crates_dir: &Path) -> Result<Scaffold, ScaffoldError> {
    if !is_task_name(name)
        || !name.starts_with(|c: char| c.is_ascii_lowercase())
        || name.ends_with('-')
    {
        return Err(ScaffoldError::BadName(name.escape_default().to_string()));
    }
    let dir = crates_dir.join(format!("task-{name}"));
    if dir.exists() {
        return Err(ScaffoldError::Exists(dir));
    }
    let ident = name.replace('-', "_");
    for (file, template) in FILES {
        let path = dir.join(file);
        let io = |source| ScaffoldError::Io {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io)?;
        }
        let text = template
            .replace("{name}", name)
            .replace("{ident}", &ident)
            .replace("{Type}", &type_name(name));
        std::fs::write(&path, text).map_err(io)?;
    }
    Ok(Scaffold {
        dir,
        files: FILES.iter().map(|(file, _)| *file).collect(),
        hand_edits: vec![
            format!(
                "Cargo.toml [workspace.dependencies]: valkey-bot-task-{name} = {{ path = \"crates/task-{name}\" }}"
            ),
            format!(
                "crates/valkey-bot/Cargo.toml [dependencies]: valkey-bot-task-{name}.workspace = true"
            ),
            format!(
                "crates/valkey-bot/src/registry.rs, in factories(): &valkey_bot_task_{ident}::FACTORY,"
            ),
            format!("tasks.toml: [tasks.{name}]"),
        ],
    })
}

/// `release-notes` → `ReleaseNotes`.
fn type_name(name: &str) -> String {
    let mut out = String::new();
    for part in name.split('-') {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            let _ = write!(out, "{}{}", first.to_ascii_uppercase(), chars.as_str());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    #[test]
    fn type_names_are_camel_case() {
        assert_eq!(type_name("bundle"), "Bundle");
        assert_eq!(type_name("release-notes-2"), "ReleaseNotes2");
    }

    #[test]
    fn writes_the_three_files_with_the_name_filled_in() {
        let temp = tempfile::tempdir().unwrap();
        let scaffold = new_task("release-notes", temp.path()).unwrap();
        assert_eq!(scaffold.dir, temp.path().join("task-release-notes"));
        assert_eq!(
            scaffold.files,
            ["Cargo.toml", "src/lib.rs", "tests/plan.rs"]
        );
        let read = |file: &str| std::fs::read_to_string(scaffold.dir.join(file)).unwrap();
        assert!(
            read("Cargo.toml").starts_with("[package]\nname = \"valkey-bot-task-release-notes\"\n")
        );
        let lib = read("src/lib.rs");
        assert!(lib.contains("FactoryOf::new(\"release-notes\", "), "{lib}");
        assert!(lib.contains("pub struct ReleaseNotes {"), "{lib}");
        assert!(!lib.contains("{Type}") && !lib.contains("{name}"), "{lib}");
        assert!(read("tests/plan.rs").contains("use valkey_bot_task_release_notes::FACTORY;"));
        assert_eq!(
            scaffold.hand_edits[2],
            "crates/valkey-bot/src/registry.rs, in factories(): &valkey_bot_task_release_notes::FACTORY,"
        );
        assert_eq!(scaffold.hand_edits[3], "tasks.toml: [tasks.release-notes]");
    }

    #[test]
    fn refuses_bad_names_and_writes_nothing() {
        let temp = tempfile::tempdir().unwrap();
        for bad in [
            "", "Bundle", "my_task", "1st", "-x", "x-", "a/b", "../x", "naïve",
        ] {
            let error = new_task(bad, temp.path()).unwrap_err();
            assert!(matches!(error, ScaffoldError::BadName(_)), "{bad}: {error}");
        }
        assert_eq!(std::fs::read_dir(temp.path()).unwrap().count(), 0);
    }

    #[test]
    fn refuses_an_existing_crate_and_leaves_it_alone() {
        let temp = tempfile::tempdir().unwrap();
        let existing = temp.path().join("task-bundle");
        std::fs::create_dir(&existing).unwrap();
        std::fs::write(existing.join("keep"), "mine").unwrap();
        let error = new_task("bundle", temp.path()).unwrap_err();
        assert!(
            matches!(error, ScaffoldError::Exists(ref dir) if *dir == existing),
            "{error}"
        );
        assert_eq!(
            std::fs::read_to_string(existing.join("keep")).unwrap(),
            "mine"
        );
        assert_eq!(std::fs::read_dir(&existing).unwrap().count(), 1);
    }

    /// Generates a crate into a throw-away workspace that path-depends on this repository's core
    /// and testkit, and checks that it and its test compile (`cargo check --offline`, with the
    /// lock file and the target directory of this build, so only the new crate is compiled).
    #[test]
    fn the_generated_crate_compiles() {
        let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let repo = repo.canonicalize().unwrap();
        let temp = tempfile::tempdir().unwrap();
        new_task("demo", &temp.path().join("crates")).unwrap();
        let manifest = format!(
            r#"[workspace]
resolver = "3"
members = ["crates/task-demo"]

[workspace.package]
version = "0.1.0"
edition = "2024"
rust-version = "1.85"
license = "BSD-3-Clause"
repository = "https://github.com/valkey-io/valkey-automation-bot"

[workspace.dependencies]
valkey-bot-core = {{ path = "{repo}/crates/core" }}
valkey-bot-testkit = {{ path = "{repo}/crates/testkit" }}
async-trait = "0.1"
serde = {{ version = "1", features = ["derive"] }}
serde_json = {{ version = "1", features = ["preserve_order"] }}
tokio = {{ version = "1", features = ["macros", "rt-multi-thread", "time", "sync", "fs", "process", "io-util", "net", "signal"] }}
toml = "0.9"

[workspace.lints.rust]
missing_docs = "deny"
unused = {{ level = "deny", priority = -1 }}

[profile.dev]
debug = "line-tables-only"

[profile.dev.package."*"]
opt-level = 1
"#,
            repo = repo.display()
        );
        std::fs::write(temp.path().join("Cargo.toml"), manifest).unwrap();
        std::fs::copy(repo.join("Cargo.lock"), temp.path().join("Cargo.lock")).unwrap();
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo.join("target"));
        let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["check", "--offline", "--all-targets", "--quiet"])
            .current_dir(temp.path())
            .env("CARGO_TARGET_DIR", target)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "the generated crate does not compile:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
