//! End-to-end decisions against the fixture repository in `tests/fixtures/repo` (today's
//! valkey-container layout: three variants, both templates, `valkey-sbom.jq`, every line's
//! directories as `apply-templates.sh` renders them). Expected files live in
//! `tests/fixtures/expected/<scenario>/<commit>/`: they were rendered once from the fixture
//! templates (the renderer agrees with the real `jq`: tests/differential.rs) and reviewed by hand.
#![allow(clippy::unwrap_used)]

mod common;

use common::{
    SHA_8_0_7, SHA_9_0_2, SHA_9_0_3, SHA_9_1_0, SHA_9_1_0_RC1, SHA_10_0_0, Tree, expected_commits,
    external, repository, tags,
};

use valkey_bot_core::Version;
use valkey_bot_task_container::{
    BaseImageChange, ContainerError, ContainerUpdate, Drift, External, Planner, Release,
    RepoSnapshot, Variant,
};

/// Reads from `repo` exactly what the planner asks for, as the task will.
fn snapshot(repo: &Tree, planner: &Planner) -> RepoSnapshot {
    let list = planner.to_read();
    let mut snapshot = RepoSnapshot::new();
    // A file the repository lacks stays out of the snapshot (the planner names it).
    for path in &list.files {
        if let Some((bytes, executable)) = repo.get(path) {
            snapshot.insert(path.clone(), bytes.clone(), *executable);
        }
    }
    for dir in &list.directories {
        let prefix = format!("{dir}/");
        for (path, (bytes, executable)) in repo.iter().filter(|(p, _)| p.starts_with(&prefix)) {
            snapshot.insert(path.clone(), bytes.clone(), *executable);
        }
    }
    snapshot
}

fn release(version: &str, sha256: &str) -> Release {
    Release {
        version: Version::parse(version).unwrap(),
        url: format!("https://github.com/valkey-io/valkey/archive/refs/tags/{version}.tar.gz"),
        sha256: sha256.to_owned(),
    }
}

/// Plans `release` over `repo` with the default variants and the given external inputs.
fn try_plan_on(
    repo: &Tree,
    release: &Release,
    external: &External,
) -> Result<ContainerUpdate, ContainerError> {
    let planner = Planner::new(&repo["versions.json"].0, release, &Variant::defaults())?;
    let snapshot = snapshot(repo, &planner);
    planner.plan(&snapshot, external)
}

fn run(overlays: &[&str], release: &Release) -> ContainerUpdate {
    let repo = repository(overlays);
    let update = try_plan_on(&repo, release, &external("official-images")).unwrap();
    assert_befores(&update, &repo);
    update
}

/// Asserts the commits hold exactly the expected files' bytes and modes, under the two subjects.
fn assert_commits(update: &ContainerUpdate, scenario: &str, version: &str) {
    let expected = expected_commits(scenario, version);
    let got: Vec<&str> = update.commits.iter().map(|c| c.message.as_str()).collect();
    let want: Vec<&str> = expected.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(got, want, "commit subjects");
    for (commit, (subject, tree)) in update.commits.iter().zip(&expected) {
        let got_paths: Vec<&str> = commit.edits.iter().map(|e| e.path.as_str()).collect();
        let want_paths: Vec<&str> = tree.keys().map(String::as_str).collect();
        assert_eq!(got_paths, want_paths, "{subject}");
        for edit in &commit.edits {
            let (bytes, executable) = &tree[&edit.path];
            let after = edit.after.as_deref().unwrap();
            assert_eq!(
                String::from_utf8_lossy(after),
                String::from_utf8_lossy(bytes),
                "{}",
                edit.path
            );
            assert_eq!(after, bytes.as_slice(), "{}", edit.path);
            assert_eq!(edit.executable, *executable, "mode of {}", edit.path);
        }
    }
}

/// Asserts every edit's `before` is the file `repo` had (or `None` for a new file).
fn assert_befores(update: &ContainerUpdate, repo: &Tree) {
    for edit in update.commits.iter().flat_map(|c| &c.edits) {
        let had = repo.get(&edit.path).map(|(bytes, _)| bytes.as_slice());
        assert_eq!(edit.before.as_deref(), had, "before of {}", edit.path);
    }
}

#[test]
fn patch_release_renders_its_line_and_keeps_the_aliases() {
    let update = run(&[], &release("9.0.3", SHA_9_0_3));
    assert_commits(&update, "patch-9.0.3", "9.0.3");
    assert_eq!(update.drift, Drift::None);
    assert!(update.base_images.is_empty());
    assert_eq!(
        update.tags,
        tags(
            "9.0.3 9.0 9 latest 9.0.3-trixie 9.0-trixie 9-trixie trixie",
            "9.0.3-alpine 9.0-alpine 9-alpine alpine 9.0.3-alpine3.23 9.0-alpine3.23 9-alpine3.23 alpine3.23",
            "9.0.3-pkg 9.0-pkg 9-pkg pkg",
        )
    );
}

#[test]
fn the_planner_asks_for_the_templates_the_includes_and_the_lines_directories() {
    let repo = repository(&[]);
    let rc = release("9.1.0-rc1", SHA_9_1_0_RC1);
    let planner = Planner::new(&repo["versions.json"].0, &rc, &Variant::defaults()).unwrap();
    let list = planner.to_read();
    assert_eq!(
        list.files,
        [
            "versions.json",
            "generate-stackbrew-library.sh",
            "valkey-sbom.jq",
            "docker-entrypoint.sh",
            "Dockerfile.template",
            "Dockerfile-pkg.template"
        ]
    );
    // The new line (empty) and the newest line (checked for variants nobody renders).
    assert_eq!(list.directories, ["9.1", "9.0"]);
}

#[test]
fn first_release_candidate_renders_a_new_line() {
    let update = run(&[], &release("9.1.0-rc1", SHA_9_1_0_RC1));
    assert_commits(&update, "rc-9.1.0-rc1", "9.1.0-rc1");
    assert_eq!(update.drift, Drift::NewLine);
    let alpine = &update.commits[0]
        .edits
        .iter()
        .find(|e| e.path == "9.1/alpine/Dockerfile")
        .unwrap()
        .after;
    let alpine = String::from_utf8(alpine.as_deref().unwrap().to_vec()).unwrap();
    for want in [
        "cpe:2.3:a:lfprojects:valkey:9.1.0:rc1:*:*:*:*:*:*",
        "\"documentNamespace\":\"https://valkey.io/spdxdocs/valkey-server-sbom-9.1.0-rc1-alpine-3.23-@SPDX_UUID@\"",
        "\"downloadLocation\":\"https://github.com/valkey-io/valkey/archive/refs/tags/9.1.0-rc1.tar.gz\"",
    ] {
        assert!(alpine.contains(want), "{want} in {alpine}");
    }
    assert_eq!(
        update.tags,
        tags(
            "9.1.0-rc1 9.1 9.1.0-rc1-trixie 9.1-trixie",
            "9.1.0-rc1-alpine 9.1-alpine 9.1.0-rc1-alpine3.23 9.1-alpine3.23",
            "9.1.0-rc1-pkg 9.1-pkg",
        )
    );
}

#[test]
fn final_release_after_its_candidate_takes_the_major_and_latest() {
    let update = run(&["rc-9.1.0-rc1/1"], &release("9.1.0", SHA_9_1_0));
    assert_commits(&update, "final-9.1.0", "9.1.0");
    assert_eq!(update.drift, Drift::None);
    assert_eq!(
        update.tags,
        tags(
            "9.1.0 9.1 9 latest 9.1.0-trixie 9.1-trixie 9-trixie trixie",
            "9.1.0-alpine 9.1-alpine 9-alpine alpine 9.1.0-alpine3.23 9.1-alpine3.23 9-alpine3.23 alpine3.23",
            "9.1.0-pkg 9.1-pkg 9-pkg pkg",
        )
    );
}

#[test]
fn new_major_gets_a_line_and_takes_latest() {
    let overlays = ["rc-9.1.0-rc1/1", "final-9.1.0/1", "final-9.1.0/2"];
    let update = run(&overlays, &release("10.0.0", SHA_10_0_0));
    assert_commits(&update, "major-10.0.0", "10.0.0");
    assert_eq!(
        update.tags,
        tags(
            "10.0.0 10.0 10 latest 10.0.0-trixie 10.0-trixie 10-trixie trixie",
            "10.0.0-alpine 10.0-alpine 10-alpine alpine 10.0.0-alpine3.23 10.0-alpine3.23 10-alpine3.23 alpine3.23",
            "10.0.0-pkg 10.0-pkg 10-pkg pkg",
        )
    );
}

#[test]
fn backport_renders_the_old_line_only_on_fresh_base_images() {
    let update = run(&[], &release("8.0.7", SHA_8_0_7));
    assert_commits(&update, "backport-8.0.7", "8.0.7");
    assert_eq!(update.drift, Drift::None);
    let change = |image, old: &str, new: &str| BaseImageChange {
        image,
        old: old.into(),
        new: new.into(),
    };
    assert_eq!(
        update.base_images,
        [
            change("debian", "bookworm", "trixie"),
            change("alpine", "3.21", "3.23")
        ]
    );
    assert_eq!(
        update.tags,
        tags(
            "8.0.7 8.0 8.0.7-trixie 8.0-trixie",
            "8.0.7-alpine 8.0-alpine 8.0.7-alpine3.23 8.0-alpine3.23",
            "8.0.7-pkg 8.0-pkg",
        )
    );
}

#[test]
fn a_new_alpine_latest_is_picked_up_with_the_patch() {
    let repo = repository(&[]);
    let patch = release("9.0.3", SHA_9_0_3);
    let update = try_plan_on(&repo, &patch, &external("official-images-refresh")).unwrap();
    assert_befores(&update, &repo);
    assert_commits(&update, "refresh-9.0.3", "9.0.3");
    assert_eq!(
        update.base_images,
        [BaseImageChange {
            image: "alpine",
            old: "3.23".into(),
            new: "3.24".into()
        }]
    );
    assert_eq!(update.tags.alpine[4], "9.0.3-alpine3.24");
}

#[test]
fn rerun_plans_no_commits() {
    let update = run(&[], &release("9.0.2", SHA_9_0_2));
    assert!(update.commits.is_empty(), "{:?}", update.commits);
    assert_eq!(update.tags.debian[..4], ["9.0.2", "9.0", "9", "latest"]);

    // An unchanged versions.json is never rewritten, even when it is not in jq's layout.
    let mut compact = repository(&[]);
    let value: serde_json::Value = serde_json::from_slice(&compact["versions.json"].0).unwrap();
    compact.insert(
        "versions.json".into(),
        (serde_json::to_vec(&value).unwrap(), false),
    );
    let rerun = release("9.0.2", SHA_9_0_2);
    let update = try_plan_on(&compact, &rerun, &external("official-images")).unwrap();
    assert!(update.commits.is_empty(), "{:?}", update.commits);

    let update = run(&["patch-9.0.3/1"], &release("9.0.3", SHA_9_0_3));
    assert!(update.commits.is_empty(), "{:?}", update.commits);

    let overlays = ["rc-9.1.0-rc1/1", "final-9.1.0/1", "final-9.1.0/2"];
    let update = run(&overlays, &release("9.1.0", SHA_9_1_0));
    assert!(update.commits.is_empty(), "{:?}", update.commits);
    assert_eq!(update.tags.debian[..4], ["9.1.0", "9.1", "9", "latest"]);

    let update = run(&["rc-9.1.0-rc1/1"], &release("9.1.0-rc1", SHA_9_1_0_RC1));
    assert!(update.commits.is_empty(), "{:?}", update.commits);
}

#[test]
fn a_hand_edited_line_is_reported_as_drift_and_stale_files_are_removed() {
    let mut repo = repository(&[]);
    let (dockerfile, _) = repo["9.0/debian/Dockerfile"].clone();
    let edited = String::from_utf8(dockerfile).unwrap().replace(
        "FROM base AS build\n",
        "FROM base AS build\n# a local edit\n",
    );
    repo.insert("9.0/debian/Dockerfile".into(), (edited.into_bytes(), false));
    repo.insert("9.0/pkg/leftover.txt".into(), (b"old\n".to_vec(), false));
    let update = try_plan_on(
        &repo,
        &release("9.0.3", SHA_9_0_3),
        &external("official-images"),
    )
    .unwrap();
    assert_befores(&update, &repo);
    assert_eq!(update.drift, Drift::Differs { files: 2, lines: 2 });
    let removed: Vec<&str> = update.commits[0]
        .edits
        .iter()
        .filter(|e| e.after.is_none())
        .map(|e| e.path.as_str())
        .collect();
    assert_eq!(removed, ["9.0/pkg/leftover.txt"]);
}

#[test]
fn refuses_a_moved_tag_a_downgrade_and_unstable() {
    let repo = repository(&[]);
    let official = external("official-images");
    let moved = release("9.0.2", SHA_9_0_3);
    assert!(matches!(
        try_plan_on(&repo, &moved, &official),
        Err(ContainerError::ConflictingEntry {
            field: "sha256",
            ..
        })
    ));
    let older = release("9.0.1", SHA_9_0_3);
    let err = try_plan_on(&repo, &older, &official).unwrap_err();
    assert_eq!(
        err.to_string(),
        "versions.json: minor line 9.0 is already at 9.0.2, newer than the release 9.0.1; refusing to go back"
    );
    let candidate_after_final = release("9.1.0-rc1", SHA_9_1_0_RC1);
    let after = repository(&["rc-9.1.0-rc1/1", "final-9.1.0/1"]);
    assert!(matches!(
        try_plan_on(&after, &candidate_after_final, &official),
        Err(ContainerError::Downgrade { .. })
    ));
    let unstable = Release {
        version: Version::parse("unstable").unwrap(),
        url: "https://github.com/valkey-io/valkey/archive/unstable.tar.gz".into(),
        sha256: "0".repeat(64),
    };
    assert_eq!(
        Planner::new(&repo["versions.json"].0, &unstable, &Variant::defaults()).unwrap_err(),
        ContainerError::Unstable
    );
}

#[test]
fn refuses_bad_release_values_before_reading_anything() {
    for (url, sha) in [
        ("https://x/9.0.3.tar.gz", "ABCD"),
        ("https://x/9.0.3.tar.gz", &*"G".repeat(64)),
        ("http://x/9.0.3.tar.gz", SHA_9_0_3),
        ("https://x/9.0.3.tar.gz\nENV X 1", SHA_9_0_3),
        ("https://x/\"$(id)\"", SHA_9_0_3),
    ] {
        let bad = Release {
            version: Version::parse("9.0.3").unwrap(),
            url: url.into(),
            sha256: sha.into(),
        };
        assert!(
            matches!(
                Planner::new(b"{}", &bad, &Variant::defaults()),
                Err(ContainerError::InvalidRelease { .. })
            ),
            "{url:?} {sha:?}"
        );
    }
}

/// Plans the patch release over the fixture with `edit` applied, returning the error's text.
fn bad_input(edit: impl FnOnce(&mut Tree, &mut External)) -> String {
    let mut repo = repository(&[]);
    let mut official = external("official-images");
    edit(&mut repo, &mut official);
    let err = try_plan_on(&repo, &release("9.0.3", SHA_9_0_3), &official).unwrap_err();
    err.to_string()
}

#[test]
fn bad_input_is_named_with_its_file_and_line() {
    let put = |repo: &mut Tree, path: &str, text: String| {
        repo.insert(path.into(), (text.into_bytes(), false));
    };
    let text = |repo: &Tree, path: &str| String::from_utf8(repo[path].0.clone()).unwrap();

    let err = bad_input(|repo, _| {
        let template = text(repo, "Dockerfile.template")
            .replace("FROM base AS build", "FROM base AS build {{ .version");
        put(repo, "Dockerfile.template", template);
    });
    assert!(
        err.starts_with("Dockerfile.template:10: `{{` is never closed"),
        "{err}"
    );

    let err = bad_input(|repo, _| {
        let template = text(repo, "Dockerfile.template")
            .replace("FROM base AS build", "FROM base AS build{{ .version | ) }}");
        put(repo, "Dockerfile.template", template);
    });
    assert!(
        err.starts_with("Dockerfile.template") && err.contains("not a valid jq template"),
        "{err}"
    );

    // The pkg template's own error(...) for a Debian release it has no packages for.
    let err = bad_input(|_, official| {
        official.debian_manifest.text = official.debian_manifest.text.replace(
            "Tags: trixie, trixie-20261110, 13.2, 13, latest",
            "Tags: forky, 14, latest",
        );
    });
    assert!(
        err.starts_with("Dockerfile-pkg.template:")
            && err.contains("jq error: no upstream deb suite known for Debian forky (9.0)"),
        "{err}"
    );

    let err = bad_input(|repo, _| {
        let template = text(repo, "Dockerfile.template");
        put(
            repo,
            "Dockerfile.template",
            format!("{{{{ include \"valkey-extras\" -}}}}\n{template}"),
        );
    });
    assert_eq!(
        err,
        "Dockerfile.template: include \"valkey-extras\": no module valkey-extras.jq"
    );

    let err = bad_input(|repo, _| {
        repo.remove("valkey-sbom.jq");
    });
    assert_eq!(
        err,
        "valkey-sbom.jq: not in the repository snapshot, but the update needs it"
    );

    let err = bad_input(|_, official| {
        official.alpine_manifest.text = "Maintainers: x\n\nTags: 3.23.2, 3.23\n".into();
    });
    assert_eq!(
        err,
        "official-images/library/alpine: no entry tagged `latest`"
    );

    let err = bad_input(|repo, _| {
        put(repo, "9.0/wolfi/Dockerfile", "FROM scratch\n".into());
    });
    assert!(
        err.starts_with("9.0/wolfi/: a variant directory the task does not render"),
        "{err}"
    );

    let script = text(&repository(&[]), "generate-stackbrew-library.sh");
    let err = bad_input(|repo, _| {
        put(
            repo,
            "generate-stackbrew-library.sh",
            script.replace("declare -A aliases=(", "aliases=("),
        );
    });
    assert_eq!(
        err,
        "generate-stackbrew-library.sh: no `declare -A aliases=(` block closed by a `)` line"
    );

    let patch = release("9.0.3", SHA_9_0_3);
    for (bad, reason) in [
        (&b"{\"9.0\": [}"[..], "not JSON"),
        (b"[]", "the top level is not an object"),
        (
            b"{\"9.0\": {\"version\": \"9.0.2\"}}",
            "entry \"9.0\" has no string \"url\"",
        ),
    ] {
        let mut repo = repository(&[]);
        repo.insert("versions.json".into(), (bad.to_vec(), false));
        let err = try_plan_on(&repo, &patch, &external("official-images"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!("versions.json: malformed versions.json: {reason}")),
            "{err}"
        );
    }
}
