//! The checksums task's plans, read through the narrow interfaces from in-memory fakes.
#![allow(clippy::unwrap_used)]

use valkey_bot_core::outputs::{Outputs, SourceArchive};
use valkey_bot_core::plan::Delivery;
use valkey_bot_core::task::{DeliverySpec, Settings, Target};
use valkey_bot_core::{
    Environment, Plan, ReleaseRequest, RepoId, Sha256Digest, TaskContext, TaskError, TaskFactory,
    Version,
};
use valkey_bot_task_checksums::FACTORY;
use valkey_bot_testkit::{MemoryDownloads, MemoryGitHub};

const HEADER: &str = "# Release hashes of Valkey, one line per tarball:\n# hash <file> sha256 <digest> <url>\n\n\
hash valkey-unstable.tar.gz sha256 0000000000000000000000000000000000000000000000000000000000000000 https://github.com/valkey-io/valkey/archive/unstable.tar.gz\n";
const SERVER: &str = "https://github.com";

struct World {
    github: MemoryGitHub,
    downloads: MemoryDownloads,
    target: Target,
}

fn world(readme: &str) -> World {
    let repo = RepoId::parse("valkey-io/valkey-hashes").unwrap();
    let github = MemoryGitHub::default();
    github.seed(
        &repo,
        "main",
        "a-maintainer",
        &[("README", readme.as_bytes())],
    );
    World {
        github,
        downloads: MemoryDownloads::default(),
        target: Target::with_commits(repo, "main", DeliverySpec::Commit),
    }
}

fn url(version: &str) -> String {
    format!("{SERVER}/valkey-io/valkey/archive/refs/tags/{version}.tar.gz")
}

fn sha(bytes: &[u8]) -> Sha256Digest {
    valkey_bot_testkit::sha256(bytes)
}

async fn plan(world: &World, request: &ReleaseRequest) -> Result<Plan, TaskError> {
    let task = FACTORY.build(Settings::new(None)).unwrap();
    let inputs = Outputs::default();
    let ctx = TaskContext {
        request,
        target: Some(&world.target),
        inputs: &inputs,
        repos: Some(&world.github),
        downloads: &world.downloads,
        server_url: SERVER,
        run_date: "2026-11-23",
    };
    task.plan(&ctx).await
}

fn request(version: &str) -> ReleaseRequest {
    ReleaseRequest::local(Version::parse(version).unwrap(), Environment::Prod)
}

fn new_readme(plan: &Plan) -> String {
    let edit = &plan.changes[0].commits[0].edits[0];
    String::from_utf8(edit.after.clone().unwrap().to_vec()).unwrap()
}

#[tokio::test]
async fn first_release_appends_one_line_and_publishes_the_digest() {
    let w = world(HEADER);
    w.downloads.insert(&url("9.1.1"), &b"tarball 9.1.1"[..]);
    let plan = plan(&w, &request("9.1.1")).await.unwrap();
    let digest = sha(b"tarball 9.1.1");
    assert_eq!(
        new_readme(&plan),
        format!(
            "{HEADER}hash valkey-9.1.1.tar.gz sha256 {digest} {}\n",
            url("9.1.1")
        )
    );
    let change = &plan.changes[0];
    assert_eq!(change.commits[0].message, "Update hash for 9.1.1");
    assert_eq!(change.delivery, Delivery::Commit);
    assert_eq!(change.base_branch, "main");
    let archive = plan.outputs.get::<SourceArchive>().unwrap();
    assert_eq!(
        (
            archive.filename.as_str(),
            archive.url.as_str(),
            archive.sha256
        ),
        ("valkey-9.1.1.tar.gz", url("9.1.1").as_str(), digest)
    );
    assert_eq!(w.downloads.count(&url("9.1.1")), 1);
}

#[tokio::test]
async fn a_rerun_plans_nothing_but_still_publishes_the_digest() {
    let digest = sha(b"tarball 9.1.1");
    let w = world(&format!(
        "{HEADER}hash valkey-9.1.1.tar.gz sha256 {digest} {}\n",
        url("9.1.1")
    ));
    w.downloads.insert(&url("9.1.1"), &b"tarball 9.1.1"[..]);
    let plan = plan(&w, &request("9.1.1")).await.unwrap();
    assert!(plan.is_noop());
    assert!(plan.changes.is_empty());
    assert_eq!(
        plan.notes,
        ["valkey-9.1.1.tar.gz is already recorded with this digest"]
    );
    assert_eq!(plan.outputs.get::<SourceArchive>().unwrap().sha256, digest);
}

#[tokio::test]
async fn a_moved_tag_is_a_security_failure() {
    let old = sha(b"the original tarball");
    let w = world(&format!(
        "{HEADER}hash valkey-8.1.3.tar.gz sha256 {old} {}\n",
        url("8.1.3")
    ));
    w.downloads
        .insert(&url("8.1.3"), &b"a different tarball"[..]);
    let error = plan(&w, &request("8.1.3")).await.unwrap_err();
    assert!(error.is_security());
    let message = error.to_string();
    assert!(
        message.contains(&format!("already recorded with digest {old}")),
        "{message}"
    );
    assert!(
        message.contains(&sha(b"a different tarball").to_string()),
        "{message}"
    );
    assert!(message.contains("nothing was written"), "{message}");
}

#[tokio::test]
async fn an_explicit_replace_rewrites_the_line_and_records_both_digests() {
    let old = sha(b"the original tarball");
    let next = format!(
        "hash valkey-8.1.4.tar.gz sha256 {} {}\n",
        sha(b"x"),
        url("8.1.4")
    );
    let w = world(&format!(
        "{HEADER}hash valkey-8.1.3.tar.gz sha256 {old} {}\n{next}",
        url("8.1.3")
    ));
    w.downloads
        .insert(&url("8.1.3"), &b"a different tarball"[..]);
    let mut req = request("8.1.3");
    req.replace = true;
    let plan = plan(&w, &req).await.unwrap();
    let new = sha(b"a different tarball");
    assert_eq!(
        new_readme(&plan),
        format!(
            "{HEADER}hash valkey-8.1.3.tar.gz sha256 {new} {}\n{next}",
            url("8.1.3")
        )
    );
    let message = &plan.changes[0].commits[0].message;
    assert!(
        message.starts_with("Update hash for 8.1.3\n\n"),
        "{message}"
    );
    assert!(
        message.contains(&format!("Old: {old}\nNew: {new}")),
        "{message}"
    );
    assert_eq!(plan.alerts.len(), 1, "a replacement is always announced");
}

#[tokio::test]
async fn a_file_without_its_final_newline_gets_one_first() {
    let previous = format!(
        "hash valkey-9.1.0.tar.gz sha256 {} {}",
        sha(b"9.1.0"),
        url("9.1.0")
    );
    let w = world(&format!("{HEADER}{previous}"));
    w.downloads.insert(&url("9.1.1"), &b"9.1.1"[..]);
    let plan = plan(&w, &request("9.1.1")).await.unwrap();
    assert_eq!(
        new_readme(&plan),
        format!(
            "{HEADER}{previous}\nhash valkey-9.1.1.tar.gz sha256 {} {}\n",
            sha(b"9.1.1"),
            url("9.1.1")
        )
    );
}

#[tokio::test]
async fn the_build_digest_must_match_before_anything_is_planned() {
    let w = world(HEADER);
    w.downloads.insert(&url("9.1.1"), &b"what we download"[..]);
    let mut req = request("9.1.1");
    req.build_digests
        .insert("valkey-9.1.1.tar.gz".into(), sha(b"what the build hashed"));
    let error = plan(&w, &req).await.unwrap_err();
    assert!(error.is_security());
    assert!(
        error.to_string().contains("the release build reported"),
        "{error}"
    );

    req.build_digests
        .insert("valkey-9.1.1.tar.gz".into(), sha(b"what we download"));
    assert_eq!(
        plan(&w, &req).await.unwrap().changes.len(),
        1,
        "a matching build digest passes"
    );
}

#[tokio::test]
async fn a_prod_event_without_the_build_digest_plans_nothing() {
    let w = world(HEADER);
    w.downloads.insert(&url("9.1.1"), &b"what we download"[..]);
    let mut req = request("9.1.1");
    req.origin = valkey_bot_core::request::Origin::RepositoryDispatch {
        event_type: "valkey-release".into(),
    };
    let error = plan(&w, &req).await.unwrap_err();
    assert!(error.is_security(), "{error}");
    assert!(
        error
            .to_string()
            .contains("the release build sent no digest for valkey-9.1.1.tar.gz"),
        "{error}"
    );
    req.build_digests
        .insert("valkey-9.1.1.tar.gz".into(), sha(b"what we download"));
    assert_eq!(plan(&w, &req).await.unwrap().changes.len(), 1);
    req.build_digests.clear();
    req.origin = valkey_bot_core::request::Origin::CommandLine;
    assert!(
        plan(&w, &req).await.is_ok(),
        "an operator's command line run may go without"
    );
}

#[tokio::test]
async fn unstable_and_missing_archives_are_refused() {
    let w = world(HEADER);
    let error = plan(&w, &request("unstable")).await.unwrap_err();
    assert!(error.to_string().contains("placeholder"), "{error}");
    let error = plan(&w, &request("9.9.9")).await.unwrap_err();
    assert!(
        matches!(error, TaskError::Download(ref e) if e.not_found),
        "{error}"
    );
}
