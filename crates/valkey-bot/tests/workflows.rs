//! The repository's workflows (`.github/workflows/*.yml`) and the documented examples
//! (`docs/examples/*.yml`) never interpolate event data into a `run:` script (script injection),
//! and pin every action to a full commit SHA.

use std::path::{Path, PathBuf};

use yaml_rust2::{Yaml, YamlLoader};

/// Expression contents that carry data an outsider can choose.
const UNTRUSTED: [&str; 4] = [
    "github.event",
    "inputs.",
    "github.head_ref",
    "client_payload",
];

/// Every problem in one workflow's source, as `key: problem` lines.
fn check_workflow(source: &str) -> Result<Vec<String>, String> {
    let documents = YamlLoader::load_from_str(source).map_err(|e| e.to_string())?;
    let mut problems = Vec::new();
    for document in &documents {
        walk(document, &mut problems);
    }
    Ok(problems)
}

fn walk(node: &Yaml, problems: &mut Vec<String>) {
    match node {
        Yaml::Hash(map) => {
            for (key, value) in map {
                match (key.as_str(), value.as_str()) {
                    (Some("run"), Some(script)) => problems.extend(
                        untrusted_expressions(script)
                            .into_iter()
                            .map(|e| format!("run: interpolates `{e}`")),
                    ),
                    (Some("uses"), Some(action)) if !is_pinned(action) => {
                        problems.push(format!("uses: `{action}` is not pinned to a commit SHA"));
                    }
                    _ => walk(value, problems),
                }
            }
        }
        Yaml::Array(items) => items.iter().for_each(|item| walk(item, problems)),
        _ => {}
    }
}

/// The `${{ … }}` expressions of `script` that mention untrusted data.
fn untrusted_expressions(script: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = script;
    while let Some(start) = rest.find("${{") {
        let after = &rest[start + 3..];
        let end = after.find("}}").unwrap_or(after.len());
        let expression = after[..end].trim();
        if UNTRUSTED.iter().any(|u| expression.contains(u)) {
            found.push(expression.to_owned());
        }
        rest = &after[end..];
    }
    found
}

/// Local actions (`./…`) or `owner/repo[/path]@<40 hex digits>`.
fn is_pinned(action: &str) -> bool {
    if action.starts_with("./") {
        return true;
    }
    let Some((_, reference)) = action.rsplit_once('@') else {
        return false;
    };
    reference.len() == 40 && reference.bytes().all(|b| b.is_ascii_hexdigit())
}

fn workflow_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut files = Vec::new();
    for dir in [".github/workflows", "docs/examples"] {
        let entries =
            std::fs::read_dir(root.join(dir)).unwrap_or_else(|e| panic!("cannot list {dir}: {e}"));
        for entry in entries {
            let path = entry.expect("a directory entry").path();
            if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

#[test]
fn no_workflow_interpolates_event_data_into_run_or_uses_an_unpinned_action() {
    let files = workflow_files();
    let names: Vec<String> = files
        .iter()
        .filter_map(|f| f.file_name()?.to_str().map(str::to_owned))
        .collect();
    for expected in [
        "audit.yml",
        "ci.yml",
        "release.yml",
        "smoke.yml",
        "trigger-release-automation.yml",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} not found in {names:?}"
        );
    }
    for file in &files {
        let source = std::fs::read_to_string(file).expect("a readable workflow");
        let problems = check_workflow(&source).expect("valid YAML");
        assert!(problems.is_empty(), "{}: {problems:#?}", file.display());
    }
}

#[test]
fn the_checker_flags_injection_and_unpinned_actions() {
    let bad = r#"
on: repository_dispatch
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - uses: actions/cache@27d5ce7f107fe9357f9df03efb73ab90386fccae
      - uses: ./local-action
      - run: echo "${{ github.event.client_payload.version }}"
      - run: |
          echo ok
          deploy ${{inputs.version}} ${{ github.head_ref }} ${{ runner.os }}
      - env:
          VERSION: ${{ github.event.client_payload.version }}
        run: echo "$VERSION"
"#;
    assert_eq!(
        check_workflow(bad).unwrap(),
        [
            "uses: `actions/checkout@v4` is not pinned to a commit SHA",
            "run: interpolates `github.event.client_payload.version`",
            "run: interpolates `inputs.version`",
            "run: interpolates `github.head_ref`",
        ]
    );
}

#[test]
fn a_short_or_tag_reference_is_not_a_pin() {
    assert!(!is_pinned("actions/checkout@3d3c42e"));
    assert!(!is_pinned("actions/checkout"));
    assert!(!is_pinned("docker://alpine:3"));
    assert!(is_pinned(
        "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1"
    ));
}

/// The workflow (or example) at `relative` under the repository root, parsed.
fn load(relative: &str) -> Yaml {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(relative);
    let source =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {relative}: {e}"));
    let mut documents = YamlLoader::load_from_str(&source)
        .unwrap_or_else(|e| panic!("{relative}: invalid YAML: {e}"));
    assert_eq!(documents.len(), 1, "{relative}: one YAML document");
    documents.remove(0)
}

/// Every string value under `node`.
fn strings(node: &Yaml) -> Vec<&str> {
    match node {
        Yaml::String(s) => vec![s.as_str()],
        Yaml::Hash(map) => map.values().flat_map(strings).collect(),
        Yaml::Array(items) => items.iter().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

/// The `uses:` of every step of `job`.
fn actions_used(job: &Yaml) -> Vec<&str> {
    job["steps"]
        .as_vec()
        .map(|steps| steps.iter().filter_map(|s| s["uses"].as_str()).collect())
        .unwrap_or_default()
}

/// The `run:` scripts of every step of `job`, joined.
fn scripts(job: &Yaml) -> String {
    job["steps"]
        .as_vec()
        .map(|steps| {
            steps
                .iter()
                .filter_map(|s| s["run"].as_str())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

#[test]
fn secrets_are_read_only_by_jobs_of_a_protected_environment() {
    for file in workflow_files() {
        let relative = file
            .strip_prefix(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
            .expect("under the root")
            .to_string_lossy()
            .into_owned();
        let workflow = load(&relative);
        let jobs = workflow["jobs"].as_hash().expect("jobs");
        for (name, job) in jobs {
            let reads_secrets = strings(job).iter().any(|s| s.contains("secrets."));
            if reads_secrets {
                assert!(
                    job["environment"].as_str().is_some(),
                    "{relative}: job {name:?} reads secrets outside an environment"
                );
            }
        }
    }
    let release = load(".github/workflows/release.yml");
    let job = &release["jobs"]["release"];
    assert_eq!(job["environment"].as_str(), Some("release"));
    let secrets: Vec<&str> = strings(job)
        .into_iter()
        .filter(|s| s.contains("secrets."))
        .collect();
    for name in [
        "VALKEY_BOT_APP_ID",
        "VALKEY_BOT_APP_PRIVATE_KEY",
        "VALKEY_BOT_ALERT_WEBHOOK",
    ] {
        assert!(
            secrets.contains(&format!("${{{{ secrets.{name} }}}}").as_str()),
            "release.yml does not pass {name} from a secret: {secrets:?}"
        );
    }
}

#[test]
fn a_manual_prod_run_that_writes_needs_an_approval_and_others_do_not() {
    let release = load(".github/workflows/release.yml");
    let approve = &release["jobs"]["approve"];
    assert_eq!(approve["environment"].as_str(), Some("release-approval"));
    assert_eq!(
        approve["if"].as_str(),
        Some(
            "github.event_name == 'workflow_dispatch' && inputs.environment == 'prod' && !inputs.dry_run"
        )
    );
    assert!(
        strings(approve).iter().all(|s| !s.contains("secrets.")),
        "the approval job holds no secret"
    );
    let job = &release["jobs"]["release"];
    assert_eq!(job["needs"].as_str(), Some("approve"));
    let condition = job["if"].as_str().expect("release.if");
    for part in [
        "!cancelled()",
        "needs.approve.result == 'success'",
        "needs.approve.result == 'skipped'",
    ] {
        assert!(
            condition.contains(part),
            "release.if lacks {part}: {condition}"
        );
    }
    assert!(!condition.contains("always()"), "{condition}");
}

#[test]
fn the_release_runs_an_attested_binary_built_without_a_cache() {
    let release = load(".github/workflows/release.yml");
    let job = &release["jobs"]["release"];
    assert!(
        actions_used(job)
            .iter()
            .all(|a| !a.starts_with("actions/cache@")),
        "release.yml restores a cache"
    );
    let script = scripts(job);
    let verify = script
        .find("gh attestation verify bin/valkey-bot")
        .expect("release.yml verifies the binary's attestation");
    let run = script
        .find("./bin/valkey-bot run")
        .expect("release.yml runs bin/valkey-bot");
    assert!(
        verify < run,
        "the attestation is verified before the binary runs"
    );
    for flag in [
        "--signer-workflow \"$REPO/.github/workflows/ci.yml\"",
        "--source-ref refs/heads/main",
        "--source-digest \"$SHA\"",
        "--deny-self-hosted-runners",
    ] {
        assert!(script.contains(flag), "gh attestation verify lacks {flag}");
    }

    let ci = load(".github/workflows/ci.yml");
    let binary = &ci["jobs"]["binary"];
    let used = actions_used(binary);
    assert!(
        used.iter().all(|a| !a.starts_with("actions/cache@")),
        "{used:?}"
    );
    assert!(
        used.iter()
            .any(|a| a.starts_with("actions/attest-build-provenance@")),
        "{used:?}"
    );
    assert!(
        scripts(binary).contains("cargo build --release --locked -p valkey-bot"),
        "the binary job builds with --locked"
    );
    assert_eq!(
        binary["permissions"]["id-token"].as_str(),
        Some("write"),
        "attestation needs an OIDC token"
    );
    assert_eq!(
        binary["if"].as_str(),
        Some("github.ref == 'refs/heads/main' && github.event_name != 'pull_request'"),
        "only main's commits get a release binary"
    );
}

#[test]
fn the_trigger_example_sends_a_build_digest_for_every_published_file() {
    let trigger = load("docs/examples/trigger-release-automation.yml");
    let platforms: Vec<(String, String)> =
        trigger["jobs"]["build"]["strategy"]["matrix"]["include"]
            .as_vec()
            .expect("build.strategy.matrix.include")
            .iter()
            .map(|entry| {
                let field = |key: &str| entry[key].as_str().expect("distro and arch").to_owned();
                (field("distro"), field("arch"))
            })
            .collect();
    let mut expected = Vec::new();
    for distro in ["jammy", "noble"] {
        for arch in ["x86_64", "arm64"] {
            expected.push((distro.to_owned(), arch.to_owned()));
            assert!(
                platforms.contains(&(distro.to_owned(), arch.to_owned())),
                "no build of {distro}-{arch}: {platforms:?}"
            );
        }
    }
    assert_eq!(platforms.len(), expected.len(), "{platforms:?}");
    let job = &trigger["jobs"]["trigger"];
    let script = scripts(job);
    for file in [
        "\"valkey-$TAG.tar.gz\"",
        "\"valkey-$TAG-jammy-x86_64.tar.gz\"",
        "\"valkey-$TAG-jammy-arm64.tar.gz\"",
        "\"valkey-$TAG-noble-x86_64.tar.gz\"",
        "\"valkey-$TAG-noble-arm64.tar.gz\"",
    ] {
        assert!(script.contains(file), "the trigger does not require {file}");
    }
    assert!(script.contains("--argjson digests \"$DIGESTS\""));
}

#[test]
fn the_audit_runs_weekly_and_after_every_release_with_a_read_only_token_and_no_secret() {
    let audit = load(".github/workflows/audit.yml");
    assert!(
        audit["on"]["schedule"]
            .as_vec()
            .is_some_and(|s| !s.is_empty())
    );
    assert_eq!(
        audit["on"]["workflow_run"]["workflows"][0].as_str(),
        Some("release")
    );
    assert_eq!(
        audit["on"]["workflow_run"]["types"][0].as_str(),
        Some("completed")
    );
    assert!(audit["permissions"].as_hash().is_some_and(|p| p.is_empty()));
    let job = &audit["jobs"]["audit"];
    let permissions = job["permissions"].as_hash().expect("job permissions");
    assert_eq!(permissions.len(), 2, "{permissions:?}");
    assert_eq!(job["permissions"]["contents"].as_str(), Some("read"));
    assert_eq!(job["permissions"]["issues"].as_str(), Some("write"));
    let texts = strings(job);
    assert!(!texts.iter().any(|s| s.contains("secrets.")), "{texts:?}");
    assert!(
        texts
            .iter()
            .any(|s| s.contains("args=(audit --report audit.json --issue)")),
        "{texts:?}"
    );
}

#[test]
fn the_smoke_test_runs_by_hand_only_with_a_read_only_token_outside_the_release_environment() {
    let smoke = load(".github/workflows/smoke.yml");
    let triggers = smoke["on"].as_hash().expect("triggers");
    assert_eq!(triggers.len(), 1, "{triggers:?}");
    assert!(!smoke["on"]["workflow_dispatch"].is_badvalue());
    assert!(smoke["permissions"].as_hash().is_some_and(|p| p.is_empty()));
    let job = &smoke["jobs"]["smoke"];
    assert_eq!(job["environment"].as_str(), Some("smoke"));
    let permissions = job["permissions"].as_hash().expect("job permissions");
    assert_eq!(permissions.len(), 1, "{permissions:?}");
    assert_eq!(job["permissions"]["contents"].as_str(), Some("read"));
    let texts = strings(job);
    assert!(
        texts
            .iter()
            .any(|s| s.contains("valkey-bot smoke --repository \"$REPOSITORY\"")),
        "{texts:?}"
    );
    // The App's secrets reach the smoke step only, after the build.
    let steps = job["steps"].as_vec().expect("steps");
    let with_secrets: Vec<&str> = steps
        .iter()
        .filter(|step| strings(step).iter().any(|s| s.contains("secrets.")))
        .filter_map(|step| step["name"].as_str())
        .collect();
    assert_eq!(with_secrets, ["Smoke test"]);
}
