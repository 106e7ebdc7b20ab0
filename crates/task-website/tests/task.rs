//! The `website` task end to end over an in-memory GitHub: final release, release candidate,
//! rerun, a dead binary link and a broken template.
#![allow(clippy::unwrap_used)]

use bytes::Bytes;
use valkey_bot_core::outputs::{ImageTags, Outputs, VerifiedArtifact, VerifiedArtifacts};
use valkey_bot_core::plan::{Delivery, FileEdit, PlannedCommit, PullRequestDelivery};
use valkey_bot_core::task::{DeliverySpec, Settings, Target};
use valkey_bot_core::template::Template;
use valkey_bot_core::{
    Environment, Plan, ReleaseRequest, RepoId, Sha256Digest, TaskContext, TaskError, TaskFactory,
    Version,
};
use valkey_bot_task_website::FACTORY;
use valkey_bot_testkit::{MemoryDownloads, MemoryGitHub};

const TEMPLATE: &[u8] = include_bytes!("fixtures/valkey-website-template.md");
const PAGE_9_1_1: &str = include_str!("fixtures/pages/v9-1-1.md");
const PAGE_9_1_0_RC2: &str = include_str!("fixtures/pages/v9-1-0-rc2.md");
const TEMPLATE_PATH: &str = "templates/valkey-website-template.md";
const PLATFORMS: [&str; 4] = ["jammy-arm64", "jammy-x86_64", "noble-arm64", "noble-x86_64"];

fn repo_id() -> RepoId {
    RepoId::parse("valkey-io/valkey-io.github.io").unwrap()
}

fn words(s: &str) -> Vec<String> {
    s.split_whitespace().map(str::to_owned).collect()
}

fn tags(version: &str) -> ImageTags {
    match version {
        "9.1.1" => ImageTags {
            debian: words("9.1.1 9.1 9 latest 9.1.1-trixie 9.1-trixie 9-trixie trixie"),
            alpine: words(
                "9.1.1-alpine 9.1-alpine 9-alpine alpine 9.1.1-alpine3.24 9.1-alpine3.24 9-alpine3.24 alpine3.24",
            ),
            pkg: Vec::new(),
        },
        _ => ImageTags {
            debian: words("9.1.0-rc2 9.1 9.1.0-rc2-trixie 9.1-trixie"),
            alpine: words("9.1.0-rc2-alpine 9.1-alpine 9.1.0-rc2-alpine3.23 9.1-alpine3.23"),
            pkg: Vec::new(),
        },
    }
}

fn verified(version: &str, platforms: &[&str]) -> VerifiedArtifacts {
    VerifiedArtifacts(
        platforms
            .iter()
            .map(|platform| {
                let name = format!("valkey-{version}-{platform}.tar.gz");
                VerifiedArtifact {
                    url: format!("https://download.valkey.io/releases/{name}"),
                    name,
                    sha256: Sha256Digest::from_bytes([9; 32]),
                }
            })
            .collect(),
    )
}

/// Plans `version` on `date` against a website holding `files`.
async fn run(
    files: &[(&str, &[u8])],
    version: &str,
    date: &str,
    artifacts: VerifiedArtifacts,
) -> (Result<Plan, TaskError>, String) {
    let github = MemoryGitHub::default();
    let head = github.seed(&repo_id(), "main", "someone", files);
    let request = ReleaseRequest::local(Version::parse(version).unwrap(), Environment::Prod);
    let mut inputs = Outputs::default();
    inputs.insert(tags(version));
    inputs.insert(artifacts);
    let target = Target::with_commits(
        repo_id(),
        "main",
        DeliverySpec::PullRequest {
            branch: Template::parse("website-{version}").unwrap(),
            title: Template::parse("Add Valkey {version} to the downloads").unwrap(),
        },
    );
    let downloads = MemoryDownloads::default();
    let ctx = TaskContext {
        request: &request,
        target: Some(&target),
        inputs: &inputs,
        repos: Some(&github),
        downloads: &downloads,
        server_url: "https://github.com",
        run_date: date,
    };
    let task = FACTORY.build(Settings::new(None)).unwrap();
    (task.plan(&ctx).await, head)
}

#[tokio::test]
async fn final_release_creates_its_page() {
    let (plan, head) = run(
        &[(TEMPLATE_PATH, TEMPLATE)],
        "9.1.1",
        "2026-07-21",
        verified("9.1.1", &PLATFORMS),
    )
    .await;
    let plan = plan.unwrap();
    assert_eq!(plan.changes.len(), 1);
    let change = &plan.changes[0];
    assert_eq!(change.base_commit, head);
    assert_eq!(
        change.commits,
        [PlannedCommit {
            message: "Updates downloads section for version 9.1.1".into(),
            edits: vec![FileEdit {
                path: "content/download/releases/v9-1-1.md".into(),
                before: None,
                after: Some(Bytes::from_static(PAGE_9_1_1.as_bytes())),
                executable: false,
            }],
        }]
    );
    assert_eq!(
        change.delivery,
        Delivery::PullRequest(PullRequestDelivery {
            branch: "website-9.1.1".into(),
            title: "Add Valkey 9.1.1 to the downloads".into(),
            body: "Adds the download page of Valkey 9.1.1: `content/download/releases/v9-1-1.md`.\n\n\
                   Image tags listed:\n\n- `9.1.1`\n- `9.1.1-trixie`\n- `9.1.1-alpine`\n- `9.1.1-alpine3.24`\n\n\
                   Every binary link on the page (8 files) was downloaded and checked against its `.sha256` by the artifacts task.\n\n\
                   Opened by valkey-bot; a rerun updates this pull request.\n"
                .into(),
        })
    );
}

#[tokio::test]
async fn release_candidate_updates_an_existing_page() {
    let old = b"---\ntitle: \"9.1.0-rc2\"\n---\n\nan older draft";
    let (plan, _) = run(
        &[
            (TEMPLATE_PATH, TEMPLATE),
            ("content/download/releases/v9-1-0-rc2.md", old),
        ],
        "9.1.0-rc2",
        "2026-04-28",
        verified("9.1.0-rc2", &PLATFORMS),
    )
    .await;
    let plan = plan.unwrap();
    let commit = &plan.changes[0].commits[0];
    assert_eq!(
        commit.message,
        "Updates downloads section for version 9.1.0-rc2"
    );
    assert_eq!(
        commit.edits,
        [FileEdit {
            path: "content/download/releases/v9-1-0-rc2.md".into(),
            before: Some(Bytes::from_static(old)),
            after: Some(Bytes::from_static(PAGE_9_1_0_RC2.as_bytes())),
            executable: false,
        }]
    );
}

#[tokio::test]
async fn rerun_with_the_page_in_place_changes_nothing() {
    let (plan, _) = run(
        &[
            (TEMPLATE_PATH, TEMPLATE),
            ("content/download/releases/v9-1-1.md", PAGE_9_1_1.as_bytes()),
        ],
        "9.1.1",
        "2026-07-21",
        verified("9.1.1", &PLATFORMS),
    )
    .await;
    let plan = plan.unwrap();
    assert!(plan.changes.is_empty(), "{:?}", plan.changes);
    assert!(plan.is_noop());
}

#[tokio::test]
async fn a_dead_binary_link_is_an_error_naming_it() {
    let (plan, _) = run(
        &[(TEMPLATE_PATH, TEMPLATE)],
        "9.1.1",
        "2026-07-21",
        verified("9.1.1", &["jammy-arm64", "jammy-x86_64", "noble-x86_64"]),
    )
    .await;
    let error = plan.unwrap_err();
    let dead = "https://download.valkey.io/releases/valkey-9.1.1-noble-arm64.tar.gz";
    assert_eq!(
        error,
        TaskError::Invalid(format!(
            "the page would link to files the artifacts task did not verify: {dead}, {dead}.sha256"
        ))
    );
}

#[tokio::test]
async fn a_broken_template_is_an_error_and_no_plan() {
    let broken = String::from_utf8(TEMPLATE.to_vec())
        .unwrap()
        .replace("{tags}", "{tag_list}");
    let (plan, _) = run(
        &[(TEMPLATE_PATH, broken.as_bytes())],
        "9.1.1",
        "2026-07-21",
        verified("9.1.1", &PLATFORMS),
    )
    .await;
    let error = plan.unwrap_err().to_string();
    assert!(
        error.starts_with(&format!("`{TEMPLATE_PATH}`: ")),
        "{error}"
    );
    assert!(error.contains("unknown placeholder {tag_list}"), "{error}");
}
