//! The docs task's plans, on fixtures of valkey-doc and of the Valkey source kept in memory:
//! exact bytes of every file, which versions apply, reruns and each bad input.
#![allow(clippy::unwrap_used)]

use valkey_bot_core::outputs::Outputs;
use valkey_bot_core::plan::{Delivery, RepoChange};
use valkey_bot_core::task::{DeliverySpec, Settings, Target};
use valkey_bot_core::template::Template;
use valkey_bot_core::{
    Environment, Plan, ReleaseRequest, RepoId, TaskContext, TaskError, TaskFactory, Version,
};
use valkey_bot_task_docs::FACTORY;
use valkey_bot_testkit::{MemoryDownloads, MemoryGitHub};

const RELEASES: &str = include_str!("fixtures/releases.md");
const MAKEFILE: &str = include_str!("fixtures/Makefile");
const CONF: &str = include_str!("fixtures/valkey.conf.md");
const MODULE_C: &str = include_str!("fixtures/module.c");
const REFERENCE_BEFORE: &str = include_str!("fixtures/modules-api-ref.before.md");
const REFERENCE_AFTER: &str = include_str!("fixtures/modules-api-ref.expected.md");

const SEPARATOR: &str = "| -- | -- | -- | -- |\n";

fn doc_repo() -> RepoId {
    RepoId::parse("valkey-io/valkey-doc").unwrap()
}

fn source_repo() -> RepoId {
    RepoId::parse("valkey-io/valkey").unwrap()
}

/// The target of the shipped `tasks.toml`.
fn target() -> Target {
    Target::with_commits(
        doc_repo(),
        "main",
        DeliverySpec::PullRequest {
            branch: Template::parse("update-docs-{version}").unwrap(),
            title: Template::parse("Update documentation for Valkey {version}").unwrap(),
        },
    )
}

/// A GitHub with valkey-doc's `main` holding `files`, and the Valkey source with release tags:
/// `module.c` of 9.0.1 defines `VM_Count`, 9.0.2 adds `VM_Describe`, and every X.Y.0 line
/// from 9.1.0 on (and 9.1.1) has the fixture.
fn github(files: &[(&str, &str)]) -> MemoryGitHub {
    let github = MemoryGitHub::default();
    let files: Vec<(&str, &[u8])> = files.iter().map(|(p, c)| (*p, c.as_bytes())).collect();
    github.seed(&doc_repo(), "main", "someone", &files);
    let count = "int VM_Count(ValkeyModuleCtx *ctx) {\n";
    let describe = "int VM_Count(ValkeyModuleCtx *ctx) {\nValkeyModuleString *VM_Describe(ValkeyModuleCtx *ctx, int verbose) {\n";
    for (tag, module_c) in [
        ("8.1.0", "void *VM_Grab(size_t bytes) {\n"),
        ("9.0.0", "void *VM_Grab(size_t bytes) {\n"),
        ("9.0.1", count),
        ("9.0.2", describe),
        ("9.1.0-rc1", MODULE_C),
        ("9.1.0", MODULE_C),
        ("9.1.1", MODULE_C),
        ("9.2.0", MODULE_C),
        ("10.0.0", MODULE_C),
    ] {
        github.seed_tag(
            &source_repo(),
            tag,
            &[("src/module.c", module_c.as_bytes())],
        );
    }
    github
}

/// The four files as valkey-doc has them before 9.1.
fn before() -> Vec<(&'static str, &'static str)> {
    vec![
        ("topics/releases.md", RELEASES),
        ("Makefile", MAKEFILE),
        ("topics/valkey.conf.md", CONF),
        ("topics/modules-api-ref.md", REFERENCE_BEFORE),
    ]
}

async fn plan_on(github: &MemoryGitHub, version: &str, day: &str) -> Result<Plan, TaskError> {
    let task = FACTORY.build(Settings::new(None)).unwrap();
    let request = ReleaseRequest::local(Version::parse(version).unwrap(), Environment::Prod);
    let (inputs, downloads, target) = (Outputs::default(), MemoryDownloads::default(), target());
    let ctx = TaskContext {
        request: &request,
        target: Some(&target),
        inputs: &inputs,
        repos: Some(github),
        downloads: &downloads,
        server_url: "https://github.com",
        run_date: day,
    };
    task.plan(&ctx).await
}

/// The one change of `plan`, and its files after, by path.
fn change(plan: &Plan) -> (&RepoChange, Vec<(String, String)>) {
    assert!(plan.effects.is_empty());
    let [change] = plan.changes.as_slice() else {
        panic!("expected one change, got {:?}", plan.changes);
    };
    let [commit] = change.commits.as_slice() else {
        panic!("expected one commit");
    };
    let files = commit
        .edits
        .iter()
        .map(|e| {
            let after = e.after.as_ref().unwrap();
            (e.path.clone(), String::from_utf8(after.to_vec()).unwrap())
        })
        .collect();
    (change, files)
}

fn file<'f>(files: &'f [(String, String)], path: &str) -> &'f str {
    files
        .iter()
        .find(|(p, _)| p == path)
        .map(|(_, c)| c.as_str())
        .unwrap_or_else(|| panic!("{path} is not changed"))
}

/// The releases page with `row` right after the separator.
fn releases_with(row: &str) -> String {
    RELEASES.replace(SEPARATOR, &format!("{SEPARATOR}{row}\n"))
}

/// The Makefile with `VERSION ?= version` and `DATE ?= date`.
fn makefile_with(version: &str, date: &str) -> String {
    MAKEFILE
        .replace("VERSION ?= 9.0.0\n", &format!("VERSION ?= {version}\n"))
        .replace("DATE ?= 2025-10-21\n", &format!("DATE ?= {date}\n"))
}

const CONF_91: &str = "* The self documented [valkey.conf for Valkey 9.1](https://raw.githubusercontent.com/valkey-io/valkey/9.1/valkey.conf).\n";

#[tokio::test]
async fn a_new_minor_line_changes_the_four_files_in_one_signed_pull_request() {
    let github = github(&before());
    let plan = plan_on(&github, "9.1.0", "2026-05-19").await.unwrap();
    let (change, files) = change(&plan);
    assert_eq!(change.repo, doc_repo());
    assert_eq!(change.base_branch, "main");
    let Delivery::PullRequest(pr) = &change.delivery else {
        panic!("expected a pull request");
    };
    assert_eq!(pr.branch, "update-docs-9.1.0");
    assert_eq!(pr.title, "Update documentation for Valkey 9.1.0");
    assert_eq!(
        change.commits[0].message,
        "Update documentation for Valkey 9.1.0"
    );
    let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "topics/releases.md",
            "Makefile",
            "topics/valkey.conf.md",
            "topics/modules-api-ref.md"
        ]
    );
    assert_eq!(
        file(&files, "topics/releases.md"),
        releases_with("| 9.1 | 2026-05-19 | 2029-05-19 | 2031-05-19 |")
    );
    assert_eq!(
        file(&files, "Makefile"),
        makefile_with("9.1.0", "2026-05-19")
    );
    assert_eq!(
        file(&files, "topics/valkey.conf.md"),
        CONF.replace(
            "* The self documented [valkey.conf for Valkey 9.0]",
            &format!("{CONF_91}* The self documented [valkey.conf for Valkey 9.0]")
        )
    );
    assert_eq!(file(&files, "topics/modules-api-ref.md"), REFERENCE_AFTER);
    assert_eq!(
        pr.body,
        "Updates the documentation for Valkey 9.1.0.\n\n## Changes\n\n\
         - `topics/releases.md`: added `| 9.1 | 2026-05-19 | 2029-05-19 | 2031-05-19 |`\n\
         - `Makefile`: `VERSION ?= 9.1.0` and `DATE ?= 2026-05-19`\n\
         - `topics/valkey.conf.md`: added the valkey.conf link for Valkey 9.1\n\
         - `topics/modules-api-ref.md`: regenerated from `src/module.c` of valkey-io/valkey at 9.1.0 (tags read for \"Available since\": 9.0.1, 9.0.2)\n\
         \nOpened by valkey-bot; a rerun updates this pull request.\n"
    );
    // Only the tags after the newest release the old reference mentions (9.0.0) are read.
    let source_reads: Vec<String> = github
        .reads()
        .into_iter()
        .filter(|r| r.starts_with("valkey-io/valkey@"))
        .collect();
    assert_eq!(
        source_reads,
        [
            "valkey-io/valkey@9.1.0:src/module.c",
            "valkey-io/valkey@9.0.1:src/module.c",
            "valkey-io/valkey@9.0.2:src/module.c",
        ]
    );
}

#[tokio::test]
async fn a_new_major_line_gets_three_years_of_security_support() {
    let github = github(&before());
    let plan = plan_on(&github, "10.0.0", "2027-04-02").await.unwrap();
    let (change, files) = change(&plan);
    assert_eq!(
        file(&files, "topics/releases.md"),
        releases_with("| 10.0 | 2027-04-02 | 2030-04-02 | 2030-04-02 |")
    );
    assert!(file(&files, "topics/valkey.conf.md").contains(
        "* The self documented [valkey.conf for Valkey 10.0](https://raw.githubusercontent.com/valkey-io/valkey/10.0/valkey.conf).\n* The self documented [valkey.conf for Valkey 9.0]"
    ));
    let Delivery::PullRequest(pr) = &change.delivery else {
        panic!("expected a pull request");
    };
    assert_eq!(pr.branch, "update-docs-10.0.0");
}

#[tokio::test]
async fn a_run_on_29_february_ends_support_on_1_march_as_gnu_date_does() {
    let github = github(&before());
    let plan = plan_on(&github, "9.2.0", "2028-02-29").await.unwrap();
    let (_, files) = change(&plan);
    assert_eq!(
        file(&files, "topics/releases.md"),
        releases_with("| 9.2 | 2028-02-29 | 2031-03-01 | 2033-03-01 |")
    );
    assert_eq!(
        file(&files, "Makefile"),
        makefile_with("9.2.0", "2028-02-29")
    );
}

#[tokio::test]
async fn patches_release_candidates_and_unstable_are_not_applicable_and_read_nothing() {
    for version in ["9.1.1", "9.1.0-rc1", "10.0.0-rc2", "unstable"] {
        let github = github(&before());
        let plan = plan_on(&github, version, "2026-05-19").await.unwrap();
        assert!(
            plan.changes.is_empty() && plan.effects.is_empty(),
            "{version}"
        );
        assert_eq!(
            plan.notes,
            [format!(
                "not applicable: {version} is not a final X.Y.0 release, and valkey-doc changes only for a new minor line"
            )]
        );
        assert!(github.reads().is_empty(), "{version}");
    }
}

#[tokio::test]
async fn a_rerun_on_a_later_day_changes_nothing_and_opens_no_pull_request() {
    let first = github(&before());
    let plan = plan_on(&first, "9.1.0", "2026-05-19").await.unwrap();
    let (_, files) = change(&plan);
    let after: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let github = github(&after);
    let plan = plan_on(&github, "9.1.0", "2026-05-20").await.unwrap();
    assert!(plan.changes.is_empty());
    assert_eq!(
        plan.notes,
        ["valkey-io/valkey-doc is already up to date for Valkey 9.1.0"]
    );
    // The reference now mentions 9.1.0: no earlier tag is read again.
    let source_reads: Vec<String> = github
        .reads()
        .into_iter()
        .filter(|r| r.starts_with("valkey-io/valkey@"))
        .collect();
    assert_eq!(source_reads, ["valkey-io/valkey@9.1.0:src/module.c"]);
}

/// The error of planning 9.1.0 with one file of `before()` replaced.
async fn error_with(path: &str, content: &str) -> String {
    let mut files = before();
    for (p, c) in &mut files {
        if *p == path {
            *c = Box::leak(content.to_owned().into_boxed_str());
        }
    }
    let github = github(&files);
    plan_on(&github, "9.1.0", "2026-05-19")
        .await
        .err()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn a_releases_page_without_the_separator_is_refused_by_name() {
    let error = error_with("topics/releases.md", &RELEASES.replace(SEPARATOR, "")).await;
    assert_eq!(
        error,
        "valkey-io/valkey-doc: `topics/releases.md` has no table separator line `| -- | -- | -- | -- |`"
    );
}

#[tokio::test]
async fn a_makefile_without_version_is_refused_by_name() {
    let error = error_with("Makefile", &MAKEFILE.replace("VERSION ?= 9.0.0\n", "")).await;
    assert_eq!(
        error,
        "valkey-io/valkey-doc: `Makefile` has no line starting with `VERSION ?=`"
    );
    let error = error_with("Makefile", &MAKEFILE.replace("DATE ?= 2025-10-21\n", "")).await;
    assert_eq!(
        error,
        "valkey-io/valkey-doc: `Makefile` has no line starting with `DATE ?=`"
    );
}

#[tokio::test]
async fn a_configuration_page_without_a_link_line_is_refused_by_name() {
    let without: String = CONF
        .lines()
        .filter(|l| !l.starts_with("* The self documented"))
        .map(|l| format!("{l}\n"))
        .collect();
    let error = error_with("topics/valkey.conf.md", &without).await;
    assert_eq!(
        error,
        "valkey-io/valkey-doc: `topics/valkey.conf.md` has no line starting with `* The self documented [valkey.conf for Valkey `"
    );
}

#[tokio::test]
async fn a_module_source_the_generator_cannot_read_is_refused_and_nothing_is_planned() {
    let github = github(&before());
    github.seed_tag(
        &source_repo(),
        "9.3.0",
        &[(
            "src/module.c",
            b"no comment start */\nint VM_Broken(void) {\n",
        )],
    );
    let error = plan_on(&github, "9.3.0", "2026-05-19")
        .await
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        error,
        "valkey-io/valkey at 9.3.0: `src/module.c` cannot be documented: line 2: the comment above `VM_Broken` has no `/*` that opens it"
    );
}

#[tokio::test]
async fn a_release_tag_without_a_module_source_is_refused() {
    let github = github(&before());
    github.seed_tag(
        &source_repo(),
        "11.0.0",
        &[("README.md", b"no source here\n")],
    );
    let error = plan_on(&github, "11.0.0", "2026-05-19")
        .await
        .err()
        .unwrap()
        .to_string();
    assert_eq!(
        error,
        "valkey-io/valkey: `src/module.c` does not exist at tag 11.0.0"
    );
}

#[test]
fn unknown_settings_are_refused() {
    let settings = toml::de::ValueDeserializer::parse("{ source = \"a/b\" }").unwrap();
    let error = FACTORY.build(Settings::new(Some(settings))).err().unwrap();
    assert!(
        error.to_string().contains("unknown field `source`"),
        "{error}"
    );
}
