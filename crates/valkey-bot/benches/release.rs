//! End-to-end release benchmark against the in-process sandbox (issue 9).
//!
//! `cargo bench -p valkey-bot --bench release -- [--versions N] [--latency-ms L] [--artifact-mib M]
//! [--bandwidth-mib-s B]` runs a release of N versions at once with the bot, then the same work
//! "one chore after another", and prints wall times, requests by kind, downloads, peak memory and
//! a lower bound derived from the request log. Model: see docs/performance.md.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use sha2::{Digest, Sha256};
use valkey_bot::rehearse::Stage;
use valkey_bot_core::{Environment, ReleaseRequest, Version};
use valkey_bot_sandbox::{FaultAction, FaultRule, LoggedRequest};

const MIB: u64 = 1024 * 1024;
const DEFAULT_VERSIONS: [&str; 4] = ["9.1.0", "9.0.3", "8.1.5", "8.0.7"];
const TASK_ORDER: [&str; 4] = ["checksums", "artifacts", "container", "website"];

struct Args {
    versions: usize,
    latency_ms: u64,
    artifact_mib: u64,
    bandwidth_mib_s: u64,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        versions: 4,
        latency_ms: 50,
        artifact_mib: 5,
        bandwidth_mib_s: 100,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value =
            || -> anyhow::Result<u64> { Ok(it.next().context("flag needs a value")?.parse()?) };
        match flag.as_str() {
            "--versions" => args.versions = usize::try_from(value()?)?,
            "--latency-ms" => args.latency_ms = value()?,
            "--artifact-mib" => args.artifact_mib = value()?,
            "--bandwidth-mib-s" => args.bandwidth_mib_s = value()?,
            _ => {} // `cargo bench` passes `--bench`.
        }
    }
    Ok(args)
}

fn versions(n: usize) -> anyhow::Result<Vec<Version>> {
    (0..n)
        .map(|i| match DEFAULT_VERSIONS.get(i) {
            Some(v) => Version::parse(v),
            None => Version::parse(&format!("7.2.{}", i)),
        })
        .map(|r| r.map_err(anyhow::Error::from))
        .collect()
}

/// Overwrites the seeded artifacts with `mib` MiB of deterministic pseudo-random bytes each,
/// streamed in 1 MiB chunks, and rewrites their `.sha256` files in sha256sum format.
fn write_artifacts(root: &Path, mib: u64) -> anyhow::Result<()> {
    let dir = root.join("_downloads").join("releases");
    for entry in std::fs::read_dir(&dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
            continue;
        };
        if !name.ends_with(".tar.gz") {
            continue;
        }
        let mut state: u64 = name.bytes().fold(0x9E37_79B9_7F4A_7C15, |acc, b| {
            (acc ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
        });
        let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
        let mut hasher = Sha256::new();
        let mut chunk = vec![0u8; MIB as usize];
        for _ in 0..mib {
            for word in chunk.chunks_exact_mut(8) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                word.copy_from_slice(&state.to_le_bytes());
            }
            hasher.update(&chunk);
            file.write_all(&chunk)?;
        }
        file.flush()?;
        let hex: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        std::fs::write(
            dir.join(format!("{name}.sha256")),
            format!("{hex}  {name}\n"),
        )?;
    }
    Ok(())
}

async fn stage(versions: &[Version], args: &Args) -> anyhow::Result<Stage> {
    let stage = Stage::start(versions, None).await?;
    write_artifacts(&stage.root, args.artifact_mib)?;
    let faults = stage.sandbox.faults();
    faults.add(FaultRule::new(
        "*",
        "/**",
        FaultAction::Latency {
            ms: args.latency_ms,
        },
    ))?;
    faults.add(FaultRule::new(
        "GET",
        "/_downloads/**",
        FaultAction::Bandwidth {
            bytes_per_sec: args.bandwidth_mib_s * MIB,
        },
    ))?;
    Ok(stage)
}

fn is_download(entry: &LoggedRequest) -> bool {
    entry.path.starts_with("/_downloads/")
}

/// `METHOD /path/with/*` where every segment holding a digit became `*`.
fn kind(entry: &LoggedRequest) -> String {
    let pattern: Vec<&str> = entry
        .path
        .split('/')
        .map(|s| {
            if s.bytes().any(|b| b.is_ascii_digit()) {
                "*"
            } else {
                s
            }
        })
        .collect();
    format!("{} {}", entry.method, pattern.join("/"))
}

/// Cost of one task run alone: request count, round-trip time and transfer time.
#[derive(Default, Clone, Copy)]
struct Cost {
    requests: usize,
    millis: f64,
}

fn task_cost(log: &[LoggedRequest], args: &Args) -> Cost {
    let largest = log
        .iter()
        .filter(|e| is_download(e))
        .map(|e| e.response_bytes)
        .max()
        .unwrap_or(0);
    let transfer = largest as f64 / (args.bandwidth_mib_s * MIB) as f64 * 1000.0;
    Cost {
        requests: log.len(),
        millis: log.len() as f64 * args.latency_ms as f64 + transfer,
    }
}

/// The longest chain by `needs`, each task weighted by its cost.
fn longest_chain(
    needs: &BTreeMap<String, Vec<String>>,
    costs: &BTreeMap<String, Cost>,
) -> (Vec<String>, Cost) {
    fn walk(
        task: &str,
        needs: &BTreeMap<String, Vec<String>>,
        costs: &BTreeMap<String, Cost>,
    ) -> (Vec<String>, Cost) {
        let own = costs.get(task).copied().unwrap_or_default();
        let best = needs
            .get(task)
            .into_iter()
            .flatten()
            .map(|n| walk(n, needs, costs))
            .max_by(|a, b| a.1.millis.total_cmp(&b.1.millis))
            .unwrap_or_default();
        let mut chain = best.0;
        chain.push(task.to_owned());
        (
            chain,
            Cost {
                requests: best.1.requests + own.requests,
                millis: best.1.millis + own.millis,
            },
        )
    }
    needs
        .keys()
        .map(|t| walk(t, needs, costs))
        .max_by(|a, b| a.1.millis.total_cmp(&b.1.millis))
        .unwrap_or_default()
}

fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The bot's way: one runner, every version at once.
async fn bot_run(
    versions: &[Version],
    args: &Args,
) -> anyhow::Result<(Duration, Vec<LoggedRequest>, BTreeMap<String, Vec<String>>)> {
    let stage = stage(versions, args).await?;
    let config = stage.config()?;
    let needs = config
        .tasks
        .iter()
        .map(|t| (t.name.clone(), t.needs.clone()))
        .collect();
    let runner = stage.runner(config)?;
    let start = Instant::now();
    let reports = futures::future::join_all(
        versions
            .iter()
            .map(|v| ReleaseRequest::local(v.clone(), Environment::Prod))
            .map(|r| async {
                let r = r;
                runner.run(&r, false).await
            }),
    )
    .await;
    let wall = start.elapsed();
    for report in reports {
        let report = report?;
        for task in &report.tasks {
            if task.outcome.is_failure() {
                println!(
                    "  warning: {} {} {}",
                    report.request.version,
                    task.name,
                    task.outcome.label()
                );
            }
        }
    }
    let log = stage.sandbox.request_log();
    stage.shutdown().await;
    Ok((wall, log, needs))
}

/// The current automation's way: per version, each task alone, fresh runner, fresh stage.
async fn one_after_another(
    versions: &[Version],
    args: &Args,
) -> anyhow::Result<(Duration, BTreeMap<String, Vec<LoggedRequest>>)> {
    let mut wall = Duration::ZERO;
    let mut per_task = BTreeMap::new();
    for (i, version) in versions.iter().enumerate() {
        let stage = stage(std::slice::from_ref(version), args).await?;
        for task in TASK_ORDER {
            let before = stage.sandbox.request_log().len();
            let runner = stage.runner(stage.config()?)?;
            let mut request = ReleaseRequest::local(version.clone(), Environment::Prod);
            request.tasks = Some(vec![task.to_owned()]);
            let start = Instant::now();
            runner.run(&request, false).await?;
            wall += start.elapsed();
            if i == 0 {
                per_task.insert(
                    task.to_owned(),
                    stage.sandbox.request_log().split_off(before),
                );
            }
        }
        stage.shutdown().await;
    }
    Ok((wall, per_task))
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let versions = versions(args.versions)?;
    println!(
        "release benchmark: {} versions, {} ms latency per request, {} MiB artifacts, {} MiB/s per download",
        versions.len(),
        args.latency_ms,
        args.artifact_mib,
        args.bandwidth_mib_s
    );
    let (wall, log, needs) = bot_run(&versions, &args).await?;
    let bot_peak = peak_memory_kib();
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for entry in &log {
        *kinds.entry(kind(entry)).or_default() += 1;
    }
    let mut downloads: BTreeMap<&str, usize> = BTreeMap::new();
    let mut bytes = 0;
    for entry in log.iter().filter(|e| is_download(e)) {
        *downloads.entry(&entry.path).or_default() += 1;
        bytes += entry.response_bytes;
    }
    let (seq_wall, per_task) = one_after_another(&versions, &args).await?;
    let costs: BTreeMap<String, Cost> = per_task
        .iter()
        .map(|(t, l)| (t.clone(), task_cost(l, &args)))
        .collect();
    let (chain, bound) = longest_chain(&needs, &costs);

    println!("\nAPI requests by kind (bot run, {} total):", log.len());
    for (k, n) in &kinds {
        println!("  {n:>5}  {k}");
    }
    let repeated: Vec<_> = downloads.iter().filter(|(_, n)| **n != 1).collect();
    println!(
        "\ndownloads: {} files, {:.1} MiB; each exactly once: {}",
        downloads.len(),
        bytes as f64 / MIB as f64,
        if repeated.is_empty() {
            "yes".to_owned()
        } else {
            format!("NO {repeated:?}")
        }
    );
    println!(
        "critical path (by needs): {} — {} requests, bound {:.2} s",
        chain.join(" → "),
        bound.requests,
        bound.millis / 1000.0
    );
    println!(
        "peak memory (VmHWM, bench process; the sandbox runs in-process): {} MiB after the bot run",
        bot_peak.map_or("unknown".to_owned(), |k| format!(
            "{:.1}",
            k as f64 / 1024.0
        ))
    );
    let ratio_bound = secs(wall) / (bound.millis / 1000.0);
    let speedup = secs(seq_wall) / secs(wall);
    println!("\n  {:<34} {:>8}", "way", "wall");
    println!(
        "  {:<34} {:>7.2}s",
        "bot (all versions at once)",
        secs(wall)
    );
    println!("  {:<34} {:>7.2}s", "one after another", secs(seq_wall));
    println!(
        "  {:<34} {:>7.2}s",
        "lower bound (critical path)",
        bound.millis / 1000.0
    );
    println!(
        "  wall / bound = {ratio_bound:.2} (target ≤ 1.5); speed-up = {speedup:.2}× (target ≥ 3×)"
    );
    if ratio_bound > 1.5 || speedup < 3.0 {
        println!("\nwhere the time goes (each task alone, first version):");
        for (task, l) in &per_task {
            let c = costs.get(task).copied().unwrap_or_default();
            let server: u64 = l.iter().map(|e| e.duration_ms).sum();
            println!(
                "  {task:<10} {:>4} requests, modelled {:.2} s, server time {:.2} s",
                c.requests,
                c.millis / 1000.0,
                server as f64 / 1000.0
            );
        }
    }
    Ok(())
}
