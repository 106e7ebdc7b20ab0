//! The artifacts task's plans over in-memory downloads: present, missing, mismatching.
#![allow(clippy::unwrap_used)]

use valkey_bot_core::outputs::{Outputs, VerifiedArtifacts};
use valkey_bot_core::task::Settings;
use valkey_bot_core::{
    Environment, Plan, ReleaseRequest, TaskContext, TaskError, TaskFactory, Version,
};
use valkey_bot_task_artifacts::FACTORY;
use valkey_bot_testkit::{MemoryDownloads, MemoryGitHub, sha256};

const BASE: &str = "https://download.valkey.io/releases/";
const PLATFORMS: [&str; 4] = ["jammy-x86_64", "jammy-arm64", "noble-x86_64", "noble-arm64"];

fn publish(downloads: &MemoryDownloads, version: &str) {
    for platform in PLATFORMS {
        let name = format!("valkey-{version}-{platform}.tar.gz");
        let body = format!("binary for {platform}");
        downloads.insert(&format!("{BASE}{name}"), body.clone().into_bytes());
        downloads.insert(
            &format!("{BASE}{name}.sha256"),
            format!("{}  {name}\n", sha256(body.as_bytes())).into_bytes(),
        );
    }
}

async fn plan(downloads: &MemoryDownloads, request: &ReleaseRequest) -> Result<Plan, TaskError> {
    let task = FACTORY.build(Settings::new(None)).unwrap();
    let github = MemoryGitHub::default();
    let inputs = Outputs::default();
    let ctx = TaskContext {
        request,
        target: None,
        inputs: &inputs,
        repos: Some(&github),
        downloads,
        server_url: "https://github.com",
        run_date: "2026-11-23",
    };
    task.plan(&ctx).await
}

fn request(version: &str) -> ReleaseRequest {
    ReleaseRequest::local(Version::parse(version).unwrap(), Environment::Prod)
}

#[tokio::test]
async fn every_published_artifact_is_verified_once() {
    let downloads = MemoryDownloads::default();
    publish(&downloads, "9.1.1");
    let plan = plan(&downloads, &request("9.1.1")).await.unwrap();
    assert!(
        plan.changes.is_empty() && plan.effects.is_empty(),
        "it writes nothing"
    );
    let verified = &plan.outputs.get::<VerifiedArtifacts>().unwrap().0;
    let names: Vec<&str> = verified.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "valkey-9.1.1-jammy-x86_64.tar.gz",
            "valkey-9.1.1-jammy-arm64.tar.gz",
            "valkey-9.1.1-noble-x86_64.tar.gz",
            "valkey-9.1.1-noble-arm64.tar.gz"
        ]
    );
    assert_eq!(
        verified[2].url,
        format!("{BASE}valkey-9.1.1-noble-x86_64.tar.gz")
    );
    assert_eq!(verified[2].sha256, sha256(b"binary for noble-x86_64"));
    for artifact in verified {
        assert_eq!(downloads.count(&artifact.url), 1);
    }
}

#[tokio::test]
async fn a_missing_artifact_fails_naming_its_url() {
    let other = MemoryDownloads::default();
    for platform in PLATFORMS.iter().filter(|p| **p != "noble-arm64") {
        let name = format!("valkey-9.1.1-{platform}.tar.gz");
        let body = format!("binary for {platform}");
        other.insert(&format!("{BASE}{name}"), body.clone().into_bytes());
        other.insert(
            &format!("{BASE}{name}.sha256"),
            format!("{}  {name}\n", sha256(body.as_bytes())).into_bytes(),
        );
    }
    let error = plan(&other, &request("9.1.1")).await.unwrap_err();
    assert!(!error.is_security());
    assert_eq!(
        error.to_string(),
        format!("artifact is missing: {BASE}valkey-9.1.1-noble-arm64.tar.gz")
    );
}

#[tokio::test]
async fn a_mismatching_checksum_file_is_a_security_failure() {
    let downloads = MemoryDownloads::default();
    publish(&downloads, "9.1.1");
    let name = "valkey-9.1.1-jammy-arm64.tar.gz";
    downloads.insert(&format!("{BASE}{name}"), b"tampered bytes".to_vec());
    let error = plan(&downloads, &request("9.1.1")).await.unwrap_err();
    assert!(error.is_security(), "{error}");
    let message = error.to_string();
    assert!(
        message.contains(&format!("{BASE}{name}: SHA-256 mismatch")),
        "{message}"
    );
    assert!(
        message.contains(&sha256(b"tampered bytes").to_string()),
        "{message}"
    );
}

#[tokio::test]
async fn a_build_digest_mismatch_is_a_security_failure() {
    let downloads = MemoryDownloads::default();
    publish(&downloads, "9.1.1");
    let mut req = request("9.1.1");
    req.build_digests.insert(
        "valkey-9.1.1-noble-x86_64.tar.gz".into(),
        sha256(b"what the build made"),
    );
    let error = plan(&downloads, &req).await.unwrap_err();
    assert!(error.is_security());
    assert!(
        error.to_string().contains("the release build reported"),
        "{error}"
    );
    req.build_digests.insert(
        "valkey-9.1.1-noble-x86_64.tar.gz".into(),
        sha256(b"binary for noble-x86_64"),
    );
    assert!(plan(&downloads, &req).await.is_ok());
}

#[tokio::test]
async fn a_prod_event_without_every_build_digest_is_a_security_failure() {
    let downloads = MemoryDownloads::default();
    publish(&downloads, "9.1.1");
    let mut req = request("9.1.1");
    req.origin = valkey_bot_core::request::Origin::WorkflowDispatch;
    for (distro, arch) in [("jammy", "x86_64"), ("jammy", "arm64"), ("noble", "x86_64")] {
        req.build_digests.insert(
            format!("valkey-9.1.1-{distro}-{arch}.tar.gz"),
            sha256(format!("binary for {distro}-{arch}").as_bytes()),
        );
    }
    let error = plan(&downloads, &req).await.unwrap_err();
    assert!(error.is_security(), "{error}");
    assert!(
        error
            .to_string()
            .contains("the release build sent no digest for valkey-9.1.1-noble-arm64.tar.gz"),
        "{error}"
    );
    req.build_digests.insert(
        "valkey-9.1.1-noble-arm64.tar.gz".into(),
        sha256(b"binary for noble-arm64"),
    );
    assert!(plan(&downloads, &req).await.is_ok(), "all four given");
    req.environment = Environment::Dev;
    req.build_digests.clear();
    assert!(plan(&downloads, &req).await.is_ok(), "dev needs none");
}

#[tokio::test]
async fn unstable_has_no_artifacts() {
    let error = plan(&MemoryDownloads::default(), &request("unstable"))
        .await
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "`unstable` has no published binary artifacts"
    );
}
