//! The renderer against the real `jq`: for every template of the fixture repository, the jq
//! program the converter writes, run by `jq --join-output` (as `apply-templates.sh` runs it: the
//! program on standard input, modules beside it, `version`/`variant` in the environment) and by
//! this project's evaluator, gives the same bytes, for every line and variant and for inputs that
//! reach each branch (a release candidate, an old Debian release, an unknown one that errors).
//!
//! `jq` is the Debian package (`.ci/run` installs it); without it this test fails, never skips.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use valkey_bot_jq_template::{Input, Modules, convert, render};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The fixture's versions.json, plus lines that reach the templates' other branches.
fn inputs() -> String {
    let mut versions: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&read(&fixtures().join("repo/versions.json"))).unwrap();
    let extra = serde_json::json!({
        "9.2": { "version": "9.2.0-rc1", "url": "https://example.invalid/9.2.0-rc1.tar.gz",
                 "sha256": "ab", "debian": { "version": "trixie" }, "alpine": { "version": "3.23" } },
        "7.2": { "version": "7.2.9", "url": "https://example.invalid/7.2.9.tar.gz",
                 "debian": { "version": "bookworm" }, "alpine": { "version": "3.21" } },
        "6.9": { "version": "6.9.1", "url": "https://example.invalid/it's \"quoted\".tar.gz",
                 "sha256": "cd", "debian": { "version": "forky" }, "alpine": { "version": "3.24" } },
    });
    for (key, value) in extra.as_object().unwrap() {
        versions.insert(key.clone(), value.clone());
    }
    serde_json::to_string_pretty(&versions).unwrap()
}

/// jq's answer: Ok(stdout) or Err(stderr) when it exits non-zero.
fn run_jq(dir: &Path, program: &str, version: &str, variant: &str) -> Result<Vec<u8>, String> {
    let mut child = Command::new("jq")
        .args([
            "--join-output",
            "--from-file",
            "/dev/stdin",
            "versions.json",
        ])
        .current_dir(dir)
        .env_clear()
        .env("version", version)
        .env("variant", variant)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect(
            "the `jq` binary is required for this test (Debian package `jq`; .ci/run installs it)",
        );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(program.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    if output.status.success() {
        Ok(output.stdout)
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

#[test]
fn every_fixture_template_renders_as_jq_renders_it() {
    let dir = tempfile::tempdir().unwrap();
    let helper = read(&fixtures().join("bashbrew/template-helper-functions.jq"));
    let sbom = read(&fixtures().join("repo/valkey-sbom.jq"));
    std::fs::write(dir.path().join(".template-helper-functions.jq"), &helper).unwrap();
    std::fs::write(dir.path().join("valkey-sbom.jq"), &sbom).unwrap();
    let versions = inputs();
    std::fs::write(dir.path().join("versions.json"), &versions).unwrap();
    let mut modules = Modules::new();
    modules.insert(
        ".template-helper-functions",
        ".template-helper-functions.jq",
        helper,
    );
    modules.insert("valkey-sbom", "valkey-sbom.jq", sbom);
    let input = Input::parse("versions.json", versions.as_bytes()).unwrap();
    let lines: Vec<String> =
        serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&versions)
            .unwrap()
            .keys()
            .cloned()
            .collect();

    let mut templates: Vec<PathBuf> = std::fs::read_dir(fixtures().join("repo"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "template"))
        .collect();
    templates.sort();
    assert_eq!(
        templates.len(),
        2,
        "Dockerfile.template and Dockerfile-pkg.template"
    );

    let (mut same, mut both_failed) = (0, 0);
    for path in &templates {
        let name = path.file_name().unwrap().to_str().unwrap();
        let program = convert(name, &read(path)).unwrap();
        let variants: &[&str] = if name == "Dockerfile-pkg.template" {
            &["pkg"]
        } else {
            &["debian", "alpine"]
        };
        for line in &lines {
            for variant in variants {
                let ours = render(
                    &program,
                    &modules,
                    &input,
                    &[("version", line), ("variant", variant)],
                );
                let theirs = run_jq(dir.path(), &program.text, line, variant);
                match (ours, theirs) {
                    (Ok(ours), Ok(theirs)) => {
                        assert_eq!(
                            ours,
                            String::from_utf8(theirs).unwrap(),
                            "{name} for {line}/{variant}"
                        );
                        same += 1;
                    }
                    (Err(ours), Err(theirs)) => {
                        // Both refuse; the message is the template's own.
                        let message = ours.to_string();
                        assert!(message.contains(name), "{message}");
                        assert!(theirs.contains("error"), "{theirs}");
                        both_failed += 1;
                    }
                    (ours, theirs) => {
                        panic!("{name} for {line}/{variant}: ours {ours:?}, jq {theirs:?}")
                    }
                }
            }
        }
    }
    // Every line renders with both templates, except the made-up ones that must fail: 7.2 has
    // no sha256 (debian, alpine), 6.9's Debian release has no package suite (pkg).
    assert_eq!(both_failed, 3, "the error cases");
    assert_eq!(same, lines.len() * 3 - both_failed);
}

/// `render_line` = the warning block + what jq prints, per variant, and the entrypoint with its
/// mode; no pkg for unstable.
#[test]
fn a_rendered_line_is_the_warning_and_jqs_output_per_variant() {
    use valkey_bot_task_container::render::{
        GENERATED_WARNING, RenderInputs, Variant, render_line,
    };
    let repo = fixtures().join("repo");
    let template = read(&repo.join("Dockerfile.template"));
    let pkg_template = read(&repo.join("Dockerfile-pkg.template"));
    let sbom = read(&repo.join("valkey-sbom.jq"));
    let helper = read(&fixtures().join("bashbrew/template-helper-functions.jq"));
    let versions = read(&repo.join("versions.json"));
    let entrypoint = b"#!/bin/sh\nexec \"$@\"\n";
    let inputs = RenderInputs {
        templates: [
            ("Dockerfile.template", template.as_str()),
            ("Dockerfile-pkg.template", pkg_template.as_str()),
        ]
        .into_iter()
        .collect(),
        valkey_sbom: &sbom,
        helper_functions: &helper,
        entrypoint: (entrypoint, true),
        versions_json: versions.as_bytes(),
    };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".template-helper-functions.jq"), &helper).unwrap();
    std::fs::write(dir.path().join("valkey-sbom.jq"), &sbom).unwrap();
    std::fs::write(dir.path().join("versions.json"), &versions).unwrap();

    let files = render_line(&inputs, &Variant::defaults(), "9.0").unwrap();
    let paths: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        paths,
        [
            "9.0/alpine/Dockerfile",
            "9.0/alpine/docker-entrypoint.sh",
            "9.0/debian/Dockerfile",
            "9.0/debian/docker-entrypoint.sh",
            "9.0/pkg/Dockerfile",
            "9.0/pkg/docker-entrypoint.sh"
        ]
    );
    for (variant, name, source) in [
        ("debian", "Dockerfile.template", &template),
        ("alpine", "Dockerfile.template", &template),
        ("pkg", "Dockerfile-pkg.template", &pkg_template),
    ] {
        let program = convert(name, source).unwrap();
        let jq = run_jq(dir.path(), &program.text, "9.0", variant).unwrap();
        let mut want = GENERATED_WARNING.as_bytes().to_vec();
        want.extend(jq);
        let (bytes, executable) = &files[&format!("9.0/{variant}/Dockerfile")];
        assert_eq!(
            String::from_utf8_lossy(bytes),
            String::from_utf8_lossy(&want),
            "{variant}"
        );
        assert!(!executable);
        let (copied, executable) = &files[&format!("9.0/{variant}/docker-entrypoint.sh")];
        assert_eq!(copied.as_slice(), entrypoint);
        assert!(*executable, "cp -a keeps the mode");
    }
    let pkg = String::from_utf8(files["9.0/pkg/Dockerfile"].0.clone()).unwrap();
    assert!(
        pkg.contains("ENV VALKEY_DEB_REPO https://download.valkey.io/packaging/valkey-9.0\n"),
        "{pkg}"
    );
    assert!(
        pkg.contains("cpe:2.3:a:lfprojects:valkey:9.0.2:*:"),
        "{pkg}"
    );

    let unstable = render_line(&inputs, &Variant::defaults(), "unstable").unwrap();
    assert!(
        unstable
            .keys()
            .all(|path| !path.starts_with("unstable/pkg/"))
    );
    assert_eq!(unstable.len(), 4);
}
