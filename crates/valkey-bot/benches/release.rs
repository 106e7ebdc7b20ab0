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
/// The repository every version commits to, on one branch.
const SHARED_BRANCH_REPO: &str = "/repos/valkey-io/valkey-hashes/";
/// The tasks both ways run. The workflow tasks (`try-valkey`, `packages`) are left out: their
/// time is the workflow run's on GitHub Actions, which the bot only waits for.
const TASK_ORDER: [&str; 5] = ["checksums", "artifacts", "container", "website", "docs"];

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

/// `METHOD /path/with/*`: the API prefix `/api/v3` dropped, every segment holding a digit `*`.
fn kind(entry: &LoggedRequest) -> String {
    let path = entry
        .path
        .strip_prefix("/api/v3")
        .unwrap_or(entry.path.as_str());
    let pattern: Vec<&str> = path
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

/// The round trips on a critical path and their modelled time.
#[derive(Default, Clone, Copy)]
struct Cost {
    requests: usize,
    millis: f64,
}

/// How long `entry`'s body takes at the bandwidth limit: a download's size, nothing for the API.
fn transfer_ms(entry: &LoggedRequest, args: &Args) -> f64 {
    if is_download(entry) {
        entry.response_bytes as f64 / (args.bandwidth_mib_s * MIB) as f64 * 1000.0
    } else {
        0.0
    }
}

/// The critical path of the run that made `log`: the longest chain of requests that ran one
/// after another, each arriving after the previous one's answer (and, for a download, its
/// transfer). Each round trip counts only the injected latency, and a download its size at the
/// bandwidth limit; server and client work count nothing, so the run cannot beat it.
fn critical_path(log: &[LoggedRequest], args: &Args) -> Cost {
    let transfer_ms = |entry: &LoggedRequest| transfer_ms(entry, args);
    let mut requests: Vec<&LoggedRequest> = log.iter().collect();
    requests.sort_by_key(|entry| entry.started_ms);
    let ends: Vec<f64> = requests
        .iter()
        .map(|entry| (entry.started_ms + entry.duration_ms) as f64 + transfer_ms(entry))
        .collect();
    let mut best: Vec<Cost> = Vec::with_capacity(requests.len());
    for (i, entry) in requests.iter().enumerate() {
        let before = (0..i)
            .filter(|&j| ends[j] <= entry.started_ms as f64)
            .map(|j| best[j])
            .max_by(|a, b| a.millis.total_cmp(&b.millis))
            .unwrap_or_default();
        best.push(Cost {
            requests: before.requests + 1,
            millis: before.millis + args.latency_ms as f64 + transfer_ms(entry),
        });
    }
    best.into_iter()
        .max_by(|a, b| a.millis.total_cmp(&b.millis))
        .unwrap_or_default()
}

/// Where a run's wall time went: the chain of requests that ended last, walked back from the
/// last answer through, each time, the request whose answer came last before it arrived.
#[derive(Default)]
struct WallChain {
    requests: usize,
    /// The injected latency (and download transfers) along the chain.
    latency_ms: f64,
    /// The sandbox's own work along the chain: answer time beyond the injected latency.
    server_ms: f64,
    /// The gaps between one answer and the next request: the bot's work, and waiting for a core.
    between_ms: f64,
}

fn wall_chain(log: &[LoggedRequest], args: &Args) -> WallChain {
    let end = |entry: &LoggedRequest| entry.started_ms + entry.duration_ms;
    let mut chain = WallChain::default();
    let mut current = log.iter().max_by_key(|entry| end(entry));
    while let Some(entry) = current {
        let latency = args.latency_ms as f64 + transfer_ms(entry, args);
        chain.requests += 1;
        chain.latency_ms += latency;
        chain.server_ms += (entry.duration_ms as f64 - latency).max(0.0);
        current = log
            .iter()
            .filter(|before| end(before) <= entry.started_ms)
            .max_by_key(|before| end(before));
        if let Some(before) = current {
            chain.between_ms += (entry.started_ms - end(before)) as f64;
        }
    }
    chain
}

fn peak_memory_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// CPU seconds used so far by this process and by its children that have exited (the sandbox's
/// `git` processes), from `/proc/self/stat` (user + system, in Linux's 100 ticks a second).
fn cpu_seconds() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses: utime is the 14th field.
    let fields: Vec<u64> = stat
        .rsplit_once(')')?
        .1
        .split_whitespace()
        .skip(11)
        .take(4)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let [utime, stime, cutime, cstime] = fields[..] else {
        return None;
    };
    Some((
        (utime + stime) as f64 / 100.0,
        (cutime + cstime) as f64 / 100.0,
    ))
}

/// What one bot run took: its wall time, the CPU it used (this process, git processes) and the
/// sandbox's request log.
struct BotRun {
    wall: Duration,
    cpu: Option<(f64, f64)>,
    log: Vec<LoggedRequest>,
}

/// The bot's way: one runner, every version at once.
async fn bot_run(versions: &[Version], args: &Args) -> anyhow::Result<BotRun> {
    let stage = stage(versions, args).await?;
    let runner = stage.runner(stage.config()?)?;
    let cpu_before = cpu_seconds();
    let start = Instant::now();
    let reports = futures::future::join_all(
        versions
            .iter()
            .map(|v| {
                let mut request = ReleaseRequest::local(v.clone(), Environment::Prod);
                request.tasks = Some(TASK_ORDER.map(str::to_owned).to_vec());
                request
            })
            .map(|r| async {
                let r = r;
                runner.run(&runner.order(&r, false)).await
            }),
    )
    .await;
    let wall = start.elapsed();
    let cpu = cpu_before
        .zip(cpu_seconds())
        .map(|((own, git), (own_after, git_after))| (own_after - own, git_after - git));
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
    Ok(BotRun { wall, cpu, log })
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
            runner.run(&runner.order(&request, false)).await?;
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
    anyhow::ensure!(args.versions >= 1, "--versions must be at least 1");
    let versions = versions(args.versions)?;
    println!(
        "release benchmark: {} versions, {} ms latency per request, {} MiB artifacts, {} MiB/s per download",
        versions.len(),
        args.latency_ms,
        args.artifact_mib,
        args.bandwidth_mib_s
    );
    let BotRun { wall, cpu, log } = bot_run(&versions, &args).await?;
    let bot_peak = peak_memory_kib();
    // Versions are independent but for the one branch their hash lines go to: all of them at
    // once take at least one version's critical path, plus, for every other version, its writes
    // to that branch (blob, tree, commit, ref move), which must follow each other.
    let BotRun {
        wall: one_version_wall,
        log: one_version_log,
        ..
    } = bot_run(&versions[..1], &args).await?;
    let one_version = critical_path(&one_version_log, &args);
    let shared_writes = one_version_log
        .iter()
        .filter(|e| e.method != "GET" && e.path.contains(SHARED_BRANCH_REPO))
        .count();
    let queued = (versions.len() - 1) * shared_writes;
    let bound = Cost {
        requests: one_version.requests + queued,
        millis: one_version.millis + (queued as u64 * args.latency_ms) as f64,
    };
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
        "critical path of one version's release ({} requests): {} round trips one after another, {:.2} s",
        one_version_log.len(),
        one_version.requests,
        one_version.millis / 1000.0
    );
    println!(
        "lower bound for {} versions: that path + {} × {shared_writes} queued writes to {SHARED_BRANCH_REPO} = {} round trips, {:.2} s",
        versions.len(),
        versions.len() - 1,
        bound.requests,
        bound.millis / 1000.0
    );
    let observed = critical_path(&log, &args);
    println!(
        "critical path of the {}-version run itself: {} round trips one after another, {:.2} s of latency and transfer",
        versions.len(),
        observed.requests,
        observed.millis / 1000.0
    );
    println!(
        "peak memory (VmHWM, bench process; the sandbox runs in-process): {} MiB after the bot run",
        bot_peak.map_or("unknown".to_owned(), |k| format!(
            "{:.1}",
            k as f64 / 1024.0
        ))
    );
    let chain = wall_chain(&log, &args);
    println!(
        "the chain of requests that ended last ({} round trips): {:.2} s latency and transfer, {:.2} s sandbox work, {:.2} s between answer and next request",
        chain.requests,
        chain.latency_ms / 1000.0,
        chain.server_ms / 1000.0,
        chain.between_ms / 1000.0
    );
    if let Some((own, git)) = cpu {
        println!(
            "CPU during the bot run: {own:.2} s in the bench process (bot and sandbox), {git:.2} s in git processes"
        );
    }
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
        "bot, first version alone",
        secs(one_version_wall)
    );
    println!(
        "  {:<34} {:>7.2}s",
        "lower bound (critical path)",
        bound.millis / 1000.0
    );
    println!(
        "  wall / bound = {ratio_bound:.2} (target ≤ 1.3); speed-up = {speedup:.2}× (target ≥ 6×)"
    );
    println!("\nwhere the time goes (each task alone, first version; its needs rerun as no-ops):");
    for (task, l) in &per_task {
        let c = critical_path(l, &args);
        let server: u64 = l.iter().map(|e| e.duration_ms).sum();
        println!(
            "  {task:<10} {:>4} requests, {:>3} on its critical path ({:.2} s), server time {:.2} s",
            l.len(),
            c.requests,
            c.millis / 1000.0,
            server as f64 / 1000.0
        );
    }
    Ok(())
}
