//! The `valkey-bot` binary end to end: `sandbox` serves seeded repositories (first stdout line is
//! its base URL), and `run` takes real webhook payloads with a plain token, with the documented
//! exit codes: 0 done, 1 a task failed, 2 refused before anything ran.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::{file, subjects};
use valkey_bot::rehearse::{rehearsal_source, seed};
use valkey_bot_core::Version;

const BIN: &str = env!("CARGO_BIN_EXE_valkey-bot");

struct Server {
    child: Child,
    base_url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Serves `root` with `valkey-bot sandbox` on a port the sandbox picks, then seeds it for
/// `version` (the sandbox opens repositories per request, so seeding after start is fine and the
/// seeded links can name the real port).
fn serve(root: &Path, version: &str) -> Server {
    std::fs::create_dir_all(root).unwrap();
    let mut child = Command::new(BIN)
        .args([
            "sandbox",
            "--root",
            root.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let base_url = first.trim().to_owned();
    assert!(
        base_url.starts_with("http://127.0.0.1:") && !base_url.ends_with(":0"),
        "the first stdout line is the base URL: {base_url:?}"
    );
    seed::seed(root, &[Version::parse(version).unwrap()], &base_url).unwrap();
    Server { child, base_url }
}

fn write_config(dir: &Path, base_url: &str) -> std::path::PathBuf {
    let path = dir.join("tasks.toml");
    std::fs::write(&path, rehearsal_source(base_url)).unwrap();
    path
}

fn event(dir: &Path, client_payload: serde_json::Value) -> std::path::PathBuf {
    let path = dir.join("event.json");
    let body = serde_json::json!({
        "action": "valkey-release",
        "branch": "main",
        "client_payload": client_payload,
        "repository": {"full_name": "valkey-io/valkey-automation-bot"},
        "sender": {"login": "valkey-release-trigger[bot]"}
    });
    std::fs::write(&path, body.to_string()).unwrap();
    path
}

fn run(server: &Server, config: &Path, event: &Path, extra: &[&str]) -> (i32, String, String) {
    let output = Command::new(BIN)
        .args([
            "run",
            "--config",
            config.to_str().unwrap(),
            "--event",
            event.to_str().unwrap(),
        ])
        .args(["--event-name", "repository_dispatch"])
        .args(extra)
        .env("GITHUB_API_URL", format!("{}/api/v3", server.base_url))
        .env("GITHUB_SERVER_URL", &server.base_url)
        .env("GITHUB_TOKEN", "test-token-not-a-secret")
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("VALKEY_BOT_APP_ID")
        .env_remove("VALKEY_BOT_ALLOW_GITHUB_TOKEN")
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn the_binary_runs_a_release_and_exits_with_the_documented_codes() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("github");
    let server = serve(&root, "9.1.0");
    let config = write_config(dir.path(), &server.base_url);

    // 2: a refused event, nothing ran.
    let bad = event(
        dir.path(),
        serde_json::json!({"version": "9.1.0; rm -rf /", "environment": "prod"}),
    );
    let (code, _, stderr) = run(&server, &config, &bad, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("`client_payload.version`: invalid version"),
        "{stderr}"
    );
    assert_eq!(
        subjects(&root, "valkey-io/valkey-hashes", "main").len(),
        1,
        "nothing written"
    );

    // 2: `replace` from a repository_dispatch (only a manual run may replace a digest).
    let replace = event(
        dir.path(),
        serde_json::json!({"version": "9.1.0", "environment": "prod", "replace": true}),
    );
    let (code, _, stderr) = run(&server, &config, &replace, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("`replace` is accepted only from a manual workflow_dispatch run"),
        "{stderr}"
    );

    // A dry run prints diffs and writes nothing.
    // A `prod` event carries the release build's digests of every file (two-party verification).
    let digests = seed::build_digests(&root, &Version::parse("9.1.0").unwrap()).unwrap();
    let good = event(
        dir.path(),
        serde_json::json!({"version": "9.1.0", "environment": "prod", "digests": digests}),
    );
    let (code, stdout, stderr) = run(
        &server,
        &config,
        &good,
        &["--dry-run", "--only", "checksums"],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("# checksums (dry run)\n=== valkey-io/valkey-hashes (commit to `main`"),
        "{stdout}"
    );
    assert!(
        stdout.contains("+hash valkey-9.1.0.tar.gz sha256 "),
        "{stdout}"
    );
    assert_eq!(
        subjects(&root, "valkey-io/valkey-hashes", "main").len(),
        1,
        "nothing written"
    );

    // 2: the GITHUB_TOKEN fallback for a prod run that writes, unless explicitly allowed.
    let (code, _, stderr) = run(&server, &config, &good, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("refusing a `prod` run that writes with GITHUB_TOKEN"),
        "{stderr}"
    );
    assert_eq!(
        subjects(&root, "valkey-io/valkey-hashes", "main").len(),
        1,
        "nothing written"
    );

    // 0: the release.
    let report = dir.path().join("report.json");
    let (code, stdout, stderr) = run(
        &server,
        &config,
        &good,
        &["--report", report.to_str().unwrap(), "--allow-github-token"],
    );
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        file(&root, "valkey-io/valkey-hashes", "main", "README")
            .contains("hash valkey-9.1.0.tar.gz sha256 ")
    );
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let tasks: Vec<(&str, &str)> = json["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap(), t["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        tasks,
        [
            ("artifacts", "up_to_date"),
            ("checksums", "done"),
            ("bundle", "done"),
            ("container", "done"),
            ("docs", "done"),
            ("packages", "done"),
            ("try-valkey", "done"),
            ("website", "done")
        ]
    );

    // 1: a task failed (a missing artifact), the others still ran.
    std::fs::remove_file(root.join("_downloads/releases/valkey-9.1.0-noble-arm64.tar.gz")).unwrap();
    let (code, stdout, _) = run(
        &server,
        &config,
        &good,
        &["--only", "artifacts", "--allow-github-token"],
    );
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains("artifacts  failed"), "{stdout}");
}

#[test]
fn the_readmes_first_command_rehearses_a_whole_release() {
    let keep = tempfile::tempdir().unwrap();
    let output = Command::new(BIN)
        .args(["rehearse", "--keep", keep.path().to_str().unwrap()])
        .env_remove("GITHUB_ACTIONS")
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.starts_with(
            "Rehearsing the release of Valkey 9.1.0 against a local GitHub at http://127.0.0.1:"
        ),
        "{stdout}"
    );
    for line in [
        "artifacts   up to date ",
        "bundle      done ",
        "checksums   done ",
        "container   done ",
        "docs        done ",
        "packages    done ",
        "try-valkey  done ",
        "website     done ",
        "workflow `update-try-valkey.yml` ran and succeeded: http",
        "Workflow tasks that do not succeed (a demonstration beside the release; these failures are expected):",
        "ended `failure`; failing jobs: build-deb",
        "timed out after 3s; workflow run http",
        " Update hash for 9.1.0\n",
        " Update documentation for Valkey 9.1.0\n",
        " Update versions.json and Dockerfiles for version 9.1.0\n",
        " Update container aliases for version 9.1.0\n",
        " Updates downloads section for version 9.1.0\n",
    ] {
        assert!(stdout.contains(line), "{line:?} missing from {stdout}");
    }
    let root = keep.path().canonicalize().unwrap();
    assert!(subjects(&root, "valkey-io/valkey-hashes", "main")[0] == "Update hash for 9.1.0");
    assert!(
        stdout.contains(&format!("The repositories are kept in {}", root.display())),
        "{stdout}"
    );
}
