//! The `artifacts` task: downloads every binary artifact of the release and its `.sha256` file,
//! and checks that the bytes hash to what is published (and to what the build reported, when the
//! event carries build digests). It writes nothing; its output, the verified list, lets the
//! website task link only to files that were checked.

use std::sync::Arc;

use async_trait::async_trait;
use futures::future::join_all;
use serde::Deserialize;
use valkey_bot_core::outputs::{VerifiedArtifact, VerifiedArtifacts};
use valkey_bot_core::task::FactoryOf;
use valkey_bot_core::{Plan, Task, TaskContext, TaskError};

use crate::verified::{VerifyError, verify};
use valkey_bot_release_artifacts::checksum::MAX_SHA256_FILE_LEN;
use valkey_bot_release_artifacts::{Artifact, BaseUrl, DEFAULT_BASE_URL, Platform};

/// The task's `settings` in `tasks.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArtifactsSettings {
    /// Where the artifacts are published (ends with `/`).
    #[serde(default = "default_base_url")]
    pub base_url: BaseUrl,
    /// The platforms built for every release.
    #[serde(default = "default_platforms")]
    pub platforms: Vec<Platform>,
}

fn default_base_url() -> BaseUrl {
    BaseUrl::parse(DEFAULT_BASE_URL)
        .unwrap_or_else(|_| unreachable!("the default is a valid base URL"))
}

fn default_platforms() -> Vec<Platform> {
    [
        ("jammy", "x86_64"),
        ("jammy", "arm64"),
        ("noble", "x86_64"),
        ("noble", "arm64"),
    ]
    .into_iter()
    .filter_map(|(distro, arch)| Platform::new(distro, arch).ok())
    .collect()
}

/// Registers the task.
pub static FACTORY: FactoryOf<ArtifactsSettings> = FactoryOf::new(
    "artifacts",
    "downloads every binary artifact and checks it against its published .sha256",
    |settings| Ok(Arc::new(Artifacts { settings })),
);

/// The task itself.
pub struct Artifacts {
    settings: ArtifactsSettings,
}

impl Artifacts {
    async fn check(
        &self,
        ctx: &TaskContext<'_>,
        artifact: &Artifact,
    ) -> Result<VerifiedArtifact, TaskError> {
        let url = artifact.url.to_string();
        let checksum_url = artifact.checksum_url.to_string();
        let expected = ctx.request.build_digest(&artifact.name)?;
        let missing =
            |what: &str, url: &str| TaskError::Invalid(format!("{what} is missing: {url}"));
        let (digested, checksum) = futures::join!(
            ctx.downloads.digest(&url),
            ctx.downloads
                .small_file(&checksum_url, MAX_SHA256_FILE_LEN as u64)
        );
        let digested = digested.map_err(|e| {
            if e.not_found {
                missing("artifact", &url)
            } else {
                e.into()
            }
        })?;
        let checksum = checksum.map_err(|e| {
            if e.not_found {
                missing("checksum file", &checksum_url)
            } else {
                e.into()
            }
        })?;
        let verified = verify(artifact, &checksum, &digested.sha256).map_err(|e| match e {
            VerifyError::Mismatch { .. } => TaskError::Security(e.to_string()),
            VerifyError::ChecksumFile { .. } => TaskError::Invalid(e.to_string()),
        })?;
        if let Some(expected) = expected
            && *expected != verified.sha256
        {
            return Err(TaskError::Security(format!(
                "{url}: the release build reported {expected}, but the published file hashes to {}",
                verified.sha256
            )));
        }
        Ok(verified)
    }
}

#[async_trait]
impl Task for Artifacts {
    async fn plan(&self, ctx: &TaskContext<'_>) -> Result<Plan, TaskError> {
        let version = &ctx.request.version;
        if version.is_unstable() {
            return Err(TaskError::Invalid(
                "`unstable` has no published binary artifacts".into(),
            ));
        }
        let artifacts = Artifact::all(&self.settings.base_url, version, &self.settings.platforms);
        let results = join_all(artifacts.iter().map(|a| self.check(ctx, a))).await;
        let mut verified = Vec::with_capacity(results.len());
        let mut errors = Vec::new();
        for result in results {
            match result {
                Ok(artifact) => verified.push(artifact),
                Err(e) => errors.push(e),
            }
        }
        if let Some(first) = errors.iter().find(|e| e.is_security()).or(errors.first()) {
            let others = errors.len() - 1;
            return Err(match (first, others) {
                (_, 0) => first.clone(),
                (TaskError::Security(m), n) => {
                    TaskError::Security(format!("{m} (and {n} more problem(s))"))
                }
                (other, n) => TaskError::Invalid(format!("{other} (and {n} more problem(s))")),
            });
        }
        let mut plan = Plan::default();
        plan.notes
            .push(format!("verified {} artifact(s)", verified.len()));
        plan.outputs.insert(VerifiedArtifacts(verified));
        Ok(plan)
    }
}
