//! Whole-history audit benchmark against the in-process sandbox (issue 20).
//!
//! `cargo bench -p valkey-bot --bench audit -- [--versions N] [--latency-ms L]` seeds a release
//! history of N versions (tags of the source repository, a hashes line and a website page each,
//! binaries on the download site), injects L ms of latency into every request, then audits it
//! twice and prints the wall time and the requests per repository of each audit. See
//! docs/performance.md.

use std::time::Instant;

use anyhow::Context;
use sha2::{Digest, Sha256};
use valkey_bot::rehearse::Stage;
use valkey_bot::rehearse::seed::git_output as git;
use valkey_bot_core::Version;
use valkey_bot_sandbox::{FaultAction, FaultRule};

/// The minor lines the generated history cycles through.
const LINES: [&str; 5] = ["7.2", "8.0", "8.1", "9.0", "9.1"];

struct Args {
    versions: usize,
    latency_ms: u64,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        versions: 150,
        latency_ms: 50,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value =
            || -> anyhow::Result<u64> { Ok(it.next().context("flag needs a value")?.parse()?) };
        match flag.as_str() {
            "--versions" => args.versions = usize::try_from(value()?)?,
            "--latency-ms" => args.latency_ms = value()?,
            _ => {} // `cargo bench` passes `--bench`.
        }
    }
    Ok(args)
}

/// `7.2.0`, `8.0.0`, … `9.1.0`, `7.2.1`, …: N versions over five minor lines.
fn history(n: usize) -> anyhow::Result<Vec<Version>> {
    (0..n)
        .map(|i| {
            Version::parse(&format!(
                "{}.{}",
                LINES[i % LINES.len()],
                10 + i / LINES.len()
            ))
        })
        .map(|r| r.map_err(anyhow::Error::from))
        .collect()
}

/// A hashes line for every version, and a download page for every version, committed.
fn record_history(stage: &Stage, versions: &[Version]) -> anyhow::Result<()> {
    let root = &stage.root;
    let base = stage.sandbox.base_url();
    let source = root.join("valkey-io/valkey");
    let hashes = root.join("valkey-io/valkey-hashes");
    let mut readme = std::fs::read_to_string(hashes.join("README"))?;
    for version in versions {
        if readme.contains(&format!("valkey-{version}.tar.gz ")) {
            continue;
        }
        let prefix = format!("--prefix=valkey-{version}/");
        let archive = git(
            &source,
            &["archive", "--format=tar.gz", &prefix, version.as_str()],
        )?;
        let hex: String = Sha256::digest(&archive)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        readme.push_str(&format!(
            "hash valkey-{version}.tar.gz sha256 {hex} {base}/valkey-io/valkey/archive/refs/tags/{version}.tar.gz\n"
        ));
    }
    std::fs::write(hashes.join("README"), readme)?;
    git(&hashes, &["commit", "--quiet", "-am", "The whole history"])?;
    let website = root.join("valkey-io/valkey-io.github.io");
    let template = valkey_bot_task_website::Template::parse(&std::fs::read(
        website.join("templates/valkey-website-template.md"),
    )?)?;
    let date = valkey_bot_task_website::ReleaseDate::new(2026, 1, 1)?;
    for version in versions {
        let page = template.render(version, date, &[version.to_string()])?;
        let path = website.join(valkey_bot_task_website::page_path(version));
        std::fs::write(path, page)?;
    }
    git(&website, &["add", "--all"])?;
    git(&website, &["commit", "--quiet", "-m", "Every page"])?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let versions = history(args.versions)?;
    let stage = Stage::start(&versions, None).await?;
    record_history(&stage, &versions)?;
    stage.sandbox.faults().add(FaultRule::new(
        "*",
        "/**",
        FaultAction::Latency {
            ms: args.latency_ms,
        },
    ))?;
    println!(
        "audit benchmark: {} versions, {} ms latency per request",
        versions.len(),
        args.latency_ms
    );
    // Both audits keep GitHub's answers and the download digests in one cache directory, as two
    // `valkey-bot audit --cache-dir DIR` runs would: the second revalidates instead of reading.
    let cache = tempfile::tempdir()?;
    for round in ["first audit", "second audit"] {
        let (auditor, github) = stage
            .auditor_cached(stage.config()?, false, Some(cache.path()))
            .await?;
        let started = Instant::now();
        let report = auditor.audit().await;
        let wall = started.elapsed();
        let requests: u64 = report.requests.values().sum();
        let findings = report.findings().count();
        let quota = github.quota();
        println!(
            "{round}: {:.2} s, {} releases, {findings} findings, consistent: {}, {requests} reads; \
             HTTP: {} sent, {} answered 304, {} from the cache alone",
            wall.as_secs_f64(),
            report.releases.len(),
            report.consistent,
            quota.sent,
            quota.not_modified,
            quota.from_cache
        );
        for (repo, count) in &report.requests {
            println!("  {repo:40} {count}");
        }
    }
    stage.shutdown().await;
    Ok(())
}
