//! The `container` task end to end over an in-memory GitHub seeded with the fixture repository:
//! each scenario's plan holds exactly the expected files (bytes before and after, modes), the two
//! commit subjects, the pull request, and the image tags output.
#![allow(clippy::unwrap_used)]

mod common;

use common::{
    SHA_8_0_7, SHA_9_0_2, SHA_9_0_3, SHA_9_1_0, SHA_9_1_0_RC1, SHA_10_0_0, Tree, expected_commits,
    fixtures, repository, tags,
};

use valkey_bot_core::outputs::{ImageTags, Outputs, SourceArchive};
use valkey_bot_core::plan::{Delivery, PullRequestDelivery};
use valkey_bot_core::task::{DeliverySpec, Settings, Target};
use valkey_bot_core::template::Template;
use valkey_bot_core::{
    Environment, Plan, ReleaseRequest, RepoId, Sha256Digest, TaskContext, TaskError, TaskFactory,
    Version,
};
use valkey_bot_task_container::FACTORY;
use valkey_bot_testkit::{MemoryDownloads, MemoryGitHub};

fn repo_id() -> RepoId {
    RepoId::parse("valkey-io/valkey-container").unwrap()
}

fn target() -> Target {
    Target::with_commits(
        repo_id(),
        "mainline",
        DeliverySpec::PullRequest {
            branch: Template::parse("update-{version}").unwrap(),
            title: Template::parse("Update to version {version}").unwrap(),
        },
    )
}

fn archive(version: &str, sha256: &str) -> SourceArchive {
    SourceArchive {
        version: Version::parse(version).unwrap(),
        filename: format!("{version}.tar.gz"),
        url: format!("https://github.com/valkey-io/valkey/archive/refs/tags/{version}.tar.gz"),
        sha256: Sha256Digest::parse(sha256).unwrap(),
    }
}

/// Plans `version` against the fixture repository with `overlays` laid over it.
async fn run(overlays: &[&str], version: &str, sha256: &str) -> (Result<Plan, TaskError>, String) {
    run_on(&repository(overlays), version, sha256, "").await
}

/// The fixture's bashbrew and official-images files, seeded as those public repositories.
/// Returns the helper-functions commit to pin.
fn seed_public(github: &MemoryGitHub) -> String {
    let read = |path: &str| std::fs::read(fixtures().join(path)).unwrap();
    let helper = read("bashbrew/template-helper-functions.jq");
    let commit = github.seed(
        &RepoId::parse("docker-library/bashbrew").unwrap(),
        "master",
        "someone",
        &[("scripts/template-helper-functions.jq", &helper)],
    );
    let (debian, alpine) = (
        read("official-images/library/debian"),
        read("official-images/library/alpine"),
    );
    github.seed(
        &RepoId::parse("docker-library/official-images").unwrap(),
        "master",
        "someone",
        &[("library/debian", &debian), ("library/alpine", &alpine)],
    );
    commit
}

/// Plans `version` against a repository holding `tree`, with `settings` (TOML lines of
/// `[tasks.container.settings]`) besides the pinned helper-functions commit.
async fn run_on(
    tree: &Tree,
    version: &str,
    sha256: &str,
    settings: &str,
) -> (Result<Plan, TaskError>, String) {
    let github = MemoryGitHub::default();
    let files: Vec<(&str, &[u8], bool)> = tree
        .iter()
        .map(|(path, (bytes, executable))| (path.as_str(), bytes.as_slice(), *executable))
        .collect();
    let head = github.seed_with_modes(&repo_id(), "mainline", "someone", &files);
    let helper_commit = seed_public(&github);
    let request = ReleaseRequest::local(Version::parse(version).unwrap(), Environment::Prod);
    let mut inputs = Outputs::default();
    inputs.insert(archive(version, sha256));
    let target = target();
    let downloads = MemoryDownloads::default();
    let ctx = TaskContext {
        request: &request,
        target: Some(&target),
        inputs: &inputs,
        repos: Some(&github),
        downloads: &downloads,
        server_url: "https://github.com",
        run_date: "2026-11-23",
    };
    let settings = format!(
        "{{ helper-functions = {{ repository = \"docker-library/bashbrew\", commit = \"{helper_commit}\", path = \"scripts/template-helper-functions.jq\" }}{settings} }}"
    );
    let task = FACTORY
        .build(Settings::new(Some(
            toml::de::ValueDeserializer::parse(&settings).unwrap(),
        )))
        .unwrap();
    (task.plan(&ctx).await, head)
}

/// Asserts the plan's change is exactly the scenario's expected commits.
fn assert_change(plan: &Plan, head: &str, overlays: &[&str], scenario: &str, version: &str) {
    let before = repository(overlays);
    assert_eq!(plan.changes.len(), 1);
    let change = &plan.changes[0];
    assert_eq!(change.base_commit, head);
    assert_eq!(change.base_branch, "mainline");
    let want = expected_commits(scenario, version);
    let got: Vec<&str> = change.commits.iter().map(|c| c.message.as_str()).collect();
    let expected: Vec<&str> = want.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(got, expected);
    for (commit, (_, tree)) in change.commits.iter().zip(&want) {
        let paths: Vec<&str> = commit.edits.iter().map(|e| e.path.as_str()).collect();
        let want_paths: Vec<&str> = tree.keys().map(String::as_str).collect();
        assert_eq!(paths, want_paths, "{}", commit.message);
        for edit in &commit.edits {
            let (bytes, executable) = &tree[&edit.path];
            assert_eq!(
                edit.after.as_deref(),
                Some(bytes.as_slice()),
                "{}",
                edit.path
            );
            assert_eq!(
                edit.before.as_deref(),
                before.get(&edit.path).map(|(b, _)| b.as_slice()),
                "{}",
                edit.path
            );
            // Rendered files take the mode apply-templates.sh gives them.
            assert_eq!(edit.executable, *executable, "{}", edit.path);
        }
    }
}

#[tokio::test]
async fn patch_release() {
    let (plan, head) = run(&[], "9.0.3", SHA_9_0_3).await;
    let plan = plan.unwrap();
    assert_change(&plan, &head, &[], "patch-9.0.3", "9.0.3");
    let want = tags(
        "9.0.3 9.0 9 latest 9.0.3-trixie 9.0-trixie 9-trixie trixie",
        "9.0.3-alpine 9.0-alpine 9-alpine alpine 9.0.3-alpine3.23 9.0-alpine3.23 9-alpine3.23 alpine3.23",
        "9.0.3-pkg 9.0-pkg 9-pkg pkg",
    );
    assert_eq!(plan.outputs.get::<ImageTags>(), Some(&want));
    let Delivery::PullRequest(PullRequestDelivery {
        branch,
        title,
        body,
    }) = &plan.changes[0].delivery
    else {
        panic!("a pull request")
    };
    assert_eq!(
        (branch.as_str(), title.as_str()),
        ("update-9.0.3", "Update to version 9.0.3")
    );
    assert!(
        body.starts_with(
            "Updates the container images to Valkey 9.0.3, as `update.sh 9.0` would.\n"
        ),
        "{body}"
    );
    for item in [
        "- version: `9.0.3`\n",
        "- debian.version: `trixie`\n- alpine.version: `3.23`\n",
        "Base images: unchanged.\n",
        "Drift check: re-rendering the line before the change reproduces the committed files.\n",
        "- pkg: `9.0.3-pkg`, `9.0-pkg`, `9-pkg`, `pkg`\n",
        "- `9.0/pkg/Dockerfile`\n",
        "https://github.com/valkey-io/valkey/archive/refs/tags/9.0.3.tar.gz",
        SHA_9_0_3,
        "- debian: `9.0.3`, `9.0`, `9`, `latest`, `9.0.3-trixie`, `9.0-trixie`, `9-trixie`, `trixie`\n",
        "- alpine: `9.0.3-alpine`, `9.0-alpine`, `9-alpine`, `alpine`, `9.0.3-alpine3.23`, `9.0-alpine3.23`, `9-alpine3.23`, `alpine3.23`\n",
        "- `9.0/debian/Dockerfile`\n",
    ] {
        assert!(body.contains(item), "{item} missing from {body}");
    }
}

#[tokio::test]
async fn first_release_candidate_of_a_new_line() {
    let (plan, head) = run(&[], "9.1.0-rc1", SHA_9_1_0_RC1).await;
    let plan = plan.unwrap();
    assert_change(&plan, &head, &[], "rc-9.1.0-rc1", "9.1.0-rc1");
    let want = tags(
        "9.1.0-rc1 9.1 9.1.0-rc1-trixie 9.1-trixie",
        "9.1.0-rc1-alpine 9.1-alpine 9.1.0-rc1-alpine3.23 9.1-alpine3.23",
        "9.1.0-rc1-pkg 9.1-pkg",
    );
    assert_eq!(plan.outputs.get::<ImageTags>(), Some(&want));
}

#[tokio::test]
async fn final_release_of_that_line() {
    let overlays = ["rc-9.1.0-rc1/1"];
    let (plan, head) = run(&overlays, "9.1.0", SHA_9_1_0).await;
    let plan = plan.unwrap();
    assert_change(&plan, &head, &overlays, "final-9.1.0", "9.1.0");
    assert_eq!(
        plan.outputs.get::<ImageTags>().unwrap().debian[..4],
        ["9.1.0", "9.1", "9", "latest"]
    );
}

#[tokio::test]
async fn new_major() {
    let overlays = ["rc-9.1.0-rc1/1", "final-9.1.0/1", "final-9.1.0/2"];
    let (plan, head) = run(&overlays, "10.0.0", SHA_10_0_0).await;
    let plan = plan.unwrap();
    assert_change(&plan, &head, &overlays, "major-10.0.0", "10.0.0");
    assert_eq!(
        plan.outputs.get::<ImageTags>().unwrap().debian[..4],
        ["10.0.0", "10.0", "10", "latest"]
    );
}

#[tokio::test]
async fn backport_patch() {
    let (plan, head) = run(&[], "8.0.7", SHA_8_0_7).await;
    let plan = plan.unwrap();
    assert_change(&plan, &head, &[], "backport-8.0.7", "8.0.7");
    let want = tags(
        "8.0.7 8.0 8.0.7-trixie 8.0-trixie",
        "8.0.7-alpine 8.0-alpine 8.0.7-alpine3.23 8.0-alpine3.23",
        "8.0.7-pkg 8.0-pkg",
    );
    assert_eq!(plan.outputs.get::<ImageTags>(), Some(&want));
    let Delivery::PullRequest(PullRequestDelivery { body, .. }) = &plan.changes[0].delivery else {
        panic!("a pull request")
    };
    assert!(
        body.contains(
            "Base images changed (official-images `latest`):\n\n- debian: `bookworm` → `trixie`\n- alpine: `3.21` → `3.23`\n"
        ),
        "{body}"
    );
}

#[tokio::test]
async fn a_variant_directory_left_out_of_the_configuration_stops_the_task() {
    let settings = ", variants = [{ name = \"debian\", template = \"Dockerfile.template\" }, { name = \"alpine\", template = \"Dockerfile.template\" }]";
    let (plan, _) = run_on(&repository(&[]), "9.0.3", SHA_9_0_3, settings).await;
    let error = plan.unwrap_err().to_string();
    assert!(
        error.starts_with(
            "9.0/pkg/: a variant directory the task does not render (configured variants: debian, alpine)"
        ),
        "{error}"
    );
}

#[test]
fn settings_are_validated() {
    for (settings, want) in [
        ("{ variants = [] }", "`variants` is empty"),
        (
            "{ variants = [{ name = \"Deb ian\", template = \"Dockerfile.template\" }] }",
            "variant name \"Deb ian\"",
        ),
        (
            "{ variants = [{ name = \"pkg\", template = \"../Dockerfile\" }] }",
            "template \"../Dockerfile\" is not a relative path",
        ),
        (
            "{ helper-functions = { repository = \"docker-library/bashbrew\", commit = \"master\", path = \"x.jq\" } }",
            "helper-functions.commit \"master\" is not a 40-digit commit id",
        ),
        (
            "{ official-images = { repository = \"nope\", reference = \"master\", debian = \"library/debian\", alpine = \"library/alpine\" } }",
            "official-images.repository",
        ),
        ("{ variant = [] }", "unknown field `variant`"),
    ] {
        let result = FACTORY.build(Settings::new(Some(
            toml::de::ValueDeserializer::parse(settings).unwrap(),
        )));
        let Err(error) = result else {
            panic!("{settings} accepted")
        };
        assert!(error.to_string().contains(want), "{settings}: {error}");
    }
    assert!(FACTORY.build(Settings::new(None)).is_ok());
}

#[tokio::test]
async fn rerun_plans_no_change() {
    let (plan, _) = run(&[], "9.0.2", SHA_9_0_2).await;
    let plan = plan.unwrap();
    assert!(plan.changes.is_empty(), "{:?}", plan.changes);
    assert!(plan.is_noop());
    assert_eq!(
        plan.outputs.get::<ImageTags>().unwrap().debian[..4],
        ["9.0.2", "9.0", "9", "latest"]
    );
    let overlays = ["rc-9.1.0-rc1/1", "final-9.1.0/1", "final-9.1.0/2"];
    let (plan, _) = run(&overlays, "9.1.0", SHA_9_1_0).await;
    assert!(plan.unwrap().changes.is_empty());
}

#[tokio::test]
async fn a_missing_source_archive_input_is_named() {
    let github = MemoryGitHub::default();
    let request = ReleaseRequest::local(Version::parse("9.0.3").unwrap(), Environment::Prod);
    let inputs = Outputs::default();
    let target = target();
    let downloads = MemoryDownloads::default();
    let ctx = TaskContext {
        request: &request,
        target: Some(&target),
        inputs: &inputs,
        repos: Some(&github),
        downloads: &downloads,
        server_url: "https://github.com",
        run_date: "2026-11-23",
    };
    let error = FACTORY
        .build(Settings::new(None))
        .unwrap()
        .plan(&ctx)
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("missing input `source-archive`"),
        "{error}"
    );
}

#[tokio::test]
async fn a_recorded_version_with_another_digest_is_a_security_error() {
    let (plan, _) = run(&[], "9.0.2", SHA_9_0_3).await;
    let error = plan.unwrap_err();
    assert!(error.is_security(), "{error:?}");
    assert!(error.to_string().contains(SHA_9_0_3), "{error}");
}
