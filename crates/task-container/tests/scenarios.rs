//! End-to-end decisions against the fixture repository in `tests/fixtures/repo` (the real
//! valkey-container layout). Expected files live in `tests/fixtures/expected/<scenario>/<commit>/`
//! and were produced independently of this crate, with `jq` and `sed` on the fixture files.
#![allow(clippy::unwrap_used)]

mod common;

use common::{
    SHA_8_0_7, SHA_9_0_2, SHA_9_0_3, SHA_9_1_0, SHA_9_1_0_RC1, SHA_10_0_0, Tree, expected_commits,
    repository, tags,
};

use std::collections::BTreeSet;

use valkey_bot_core::Version;
use valkey_bot_task_container::{
    ContainerError, ContainerUpdate, Release, RepoSnapshot, paths_to_read, plan,
};

/// Reads from `repo` exactly what `paths_to_read` asks for, as the integrator will.
fn snapshot(repo: &Tree, release: &Release) -> RepoSnapshot {
    let list = paths_to_read(&repo["versions.json"].0, release).unwrap();
    let mut snapshot = RepoSnapshot::new();
    for path in &list.files {
        let (bytes, executable) = repo
            .get(path)
            .unwrap_or_else(|| panic!("{path} not in the fixture"));
        snapshot.insert(path.clone(), bytes.clone(), *executable);
    }
    for dir in &list.directories {
        let prefix = format!("{dir}/");
        let mut found = false;
        for (path, (bytes, executable)) in repo.iter().filter(|(p, _)| p.starts_with(&prefix)) {
            snapshot.insert(path.clone(), bytes.clone(), *executable);
            found = true;
        }
        assert!(found, "{dir} is empty in the fixture");
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

fn run(overlays: &[&str], release: &Release) -> ContainerUpdate {
    plan(&snapshot(&repository(overlays), release), release).unwrap()
}

/// Asserts the commits hold exactly the expected files' bytes and modes, under the two subjects.
fn assert_commits(update: &ContainerUpdate, scenario: &str, version: &str) {
    let expected = expected_commits(scenario, version);
    let got: Vec<&str> = update.commits.iter().map(|c| c.subject.as_str()).collect();
    let want: Vec<&str> = expected.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(got, want, "commit subjects");
    for (commit, (_, tree)) in update.commits.iter().zip(&expected) {
        let got_paths: Vec<&String> = commit.files.keys().collect();
        let want_paths: Vec<&String> = tree.keys().collect();
        assert_eq!(got_paths, want_paths, "{}", commit.subject);
        for (path, (bytes, _)) in tree {
            assert_eq!(
                String::from_utf8_lossy(&commit.files[path]),
                String::from_utf8_lossy(bytes),
                "{path}"
            );
            assert_eq!(&commit.files[path], bytes, "{path}");
        }
        let want_executable: BTreeSet<String> = tree
            .iter()
            .filter(|(_, (_, x))| *x)
            .map(|(p, _)| p.clone())
            .collect();
        assert_eq!(commit.executable, want_executable, "{}", commit.subject);
    }
}

#[test]
fn patch_release_updates_its_line_and_keeps_the_aliases() {
    let update = run(&[], &release("9.0.3", SHA_9_0_3));
    assert_commits(&update, "patch-9.0.3", "9.0.3");
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
fn first_release_candidate_starts_a_new_line_copied_from_the_newest() {
    let rc = release("9.1.0-rc1", SHA_9_1_0_RC1);
    let list = paths_to_read(&repository(&[])["versions.json"].0, &rc).unwrap();
    assert_eq!(
        list.files,
        ["versions.json", "generate-stackbrew-library.sh"]
    );
    assert_eq!(list.directories, ["9.0/debian", "9.0/alpine"]);

    let update = run(&[], &rc);
    assert_commits(&update, "rc-9.1.0-rc1", "9.1.0-rc1");
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
    let final_release = release("9.1.0", SHA_9_1_0);
    let list = paths_to_read(
        &repository(&["rc-9.1.0-rc1/1"])["versions.json"].0,
        &final_release,
    )
    .unwrap();
    assert_eq!(
        list.files,
        [
            "versions.json",
            "generate-stackbrew-library.sh",
            "9.1/debian/Dockerfile",
            "9.1/alpine/Dockerfile"
        ]
    );
    assert!(list.directories.is_empty());

    let update = run(&["rc-9.1.0-rc1/1"], &final_release);
    assert_commits(&update, "final-9.1.0", "9.1.0");
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
    let update = run(&[], &release("10.0.0", SHA_10_0_0));
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
fn backport_patch_updates_the_old_line_only() {
    let update = run(&[], &release("8.0.7", SHA_8_0_7));
    assert_commits(&update, "backport-8.0.7", "8.0.7");
    assert_eq!(
        update.tags,
        tags(
            "8.0.7 8.0 8.0.7-bookworm 8.0-bookworm",
            "8.0.7-alpine 8.0-alpine 8.0.7-alpine3.21 8.0-alpine3.21",
            "8.0.7-pkg 8.0-pkg",
        )
    );
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
    let update = plan(&snapshot(&compact, &rerun), &rerun).unwrap();
    assert!(update.commits.is_empty(), "{:?}", update.commits);

    let overlays = ["rc-9.1.0-rc1/1", "final-9.1.0/1", "final-9.1.0/2"];
    let update = run(&overlays, &release("9.1.0", SHA_9_1_0));
    assert!(update.commits.is_empty(), "{:?}", update.commits);
    assert_eq!(update.tags.debian[..4], ["9.1.0", "9.1", "9", "latest"]);

    let update = run(&["rc-9.1.0-rc1/1"], &release("9.1.0-rc1", SHA_9_1_0_RC1));
    assert!(update.commits.is_empty(), "{:?}", update.commits);
}

#[test]
fn refuses_a_moved_tag_a_downgrade_and_unstable() {
    let repo = repository(&[]);
    let moved = release("9.0.2", SHA_9_0_3);
    assert!(matches!(
        plan(&snapshot(&repo, &moved), &moved),
        Err(ContainerError::ConflictingEntry {
            field: "sha256",
            ..
        })
    ));
    let older = release("9.0.1", SHA_9_0_3);
    let err = plan(&snapshot(&repo, &older), &older).unwrap_err();
    assert_eq!(
        err.to_string(),
        "versions.json: minor line 9.0 is already at 9.0.2, newer than the release 9.0.1; refusing to go back"
    );
    let candidate_after_final = release("9.1.0-rc1", SHA_9_1_0_RC1);
    let after = repository(&["rc-9.1.0-rc1/1", "final-9.1.0/1"]);
    assert!(matches!(
        plan(
            &snapshot(&after, &candidate_after_final),
            &candidate_after_final
        ),
        Err(ContainerError::Downgrade { .. })
    ));
    let unstable = Release {
        version: Version::parse("unstable").unwrap(),
        url: "https://github.com/valkey-io/valkey/archive/unstable.tar.gz".into(),
        sha256: "0".repeat(64),
    };
    assert_eq!(
        paths_to_read(&repo["versions.json"].0, &unstable),
        Err(ContainerError::Unstable)
    );
    assert_eq!(
        plan(&RepoSnapshot::new(), &unstable).unwrap_err(),
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
                paths_to_read(b"{}", &bad),
                Err(ContainerError::InvalidRelease { .. })
            ),
            "{url:?} {sha:?}"
        );
    }
}

#[test]
fn errors_name_the_file_that_is_wrong() {
    let patch = release("9.0.3", SHA_9_0_3);
    let mut repo = repository(&[]);
    let mut snap = snapshot(&repo, &patch);

    let mut without = RepoSnapshot::new();
    without.insert("versions.json", repo["versions.json"].0.clone(), false);
    without.insert(
        "generate-stackbrew-library.sh",
        repo["generate-stackbrew-library.sh"].0.clone(),
        true,
    );
    assert_eq!(
        plan(&without, &patch).unwrap_err().to_string(),
        "9.0/debian/Dockerfile: not in the repository snapshot, but the update needs it"
    );

    let dockerfile = String::from_utf8(repo["9.0/alpine/Dockerfile"].0.clone()).unwrap();
    let broken: String = dockerfile
        .lines()
        .filter(|l| !l.starts_with("ENV VALKEY_DOWNLOAD_SHA"))
        .map(|l| format!("{l}\n"))
        .collect();
    snap.insert("9.0/alpine/Dockerfile", broken.into_bytes(), false);
    assert_eq!(
        plan(&snap, &patch).unwrap_err().to_string(),
        "9.0/alpine/Dockerfile: expected exactly one `ENV VALKEY_DOWNLOAD_SHA` line, found 0"
    );

    let script = String::from_utf8(repo["generate-stackbrew-library.sh"].0.clone()).unwrap();
    let mut snap = snapshot(&repo, &patch);
    snap.insert(
        "generate-stackbrew-library.sh",
        script
            .replace("declare -A aliases=(", "aliases=(")
            .into_bytes(),
        true,
    );
    assert_eq!(
        plan(&snap, &patch).unwrap_err(),
        ContainerError::MissingAliasesBlock {
            path: "generate-stackbrew-library.sh".into()
        }
    );

    repo.insert("versions.json".into(), (b"{\"9.0\": [}".to_vec(), false));
    let err = paths_to_read(&repo["versions.json"].0, &patch)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("versions.json: malformed versions.json: not JSON"),
        "{err}"
    );
    let err = paths_to_read(b"{\"9.0\": {\"version\": \"9.0.2\"}}", &patch)
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "versions.json: malformed versions.json: entry \"9.0\" has no string \"url\""
    );
}
