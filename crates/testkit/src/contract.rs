//! The contract of the narrow GitHub traits, written once and run against every implementation:
//! the real client over the sandbox, the read-only wrapper and [`crate::MemoryGitHub`]
//! (`crates/github/tests/contract_suite.rs`). Each check panics with what differs, naming the
//! operation, so a disagreement between production and the fakes fails a test instead of
//! letting the runner's fast tests check other behaviour than production's.
//!
//! Every check starts from the same repository, [`SEED`] on branch `main`: seed it with
//! [`seed_memory`] for the fake, or with git for the sandbox, and pass its head as [`World::main`].

use bytes::Bytes;
use std::collections::BTreeMap;
use std::time::Duration;
use valkey_bot_core::RepoId;

use valkey_bot_core::github::{
    Dispatches, FileWrite, GitHubError, Issues, PullRequestSpec, PullRequestStatus, PullRequests,
    RepoRead, RepoWrite, Workflows,
};

use crate::{MemoryGitHub, MemoryWorkflow};

/// The workflow file [`check_workflows`] works on, under `.github/workflows/`.
pub const WORKFLOW: &str = "contract.yml";

/// Its text, for a repository of the sandbox: input `version` required, the marker optional and
/// shown as the run's title, one job `build`.
pub const WORKFLOW_YAML: &str = "name: Contract\nrun-name: ${{ inputs.valkey_bot_marker || github.workflow }}\non:\n  workflow_dispatch:\n    inputs:\n      version:\n        required: true\n      valkey_bot_marker:\n        required: false\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ inputs.version }}\n";

/// Declares [`WORKFLOW`] in `repo` of the fake, as [`WORKFLOW_YAML`] declares it.
pub fn seed_memory_workflow(github: &MemoryGitHub, repo: &RepoId) {
    github.seed_workflow(
        repo,
        WORKFLOW,
        MemoryWorkflow {
            inputs: vec![
                ("version".into(), true),
                ("valkey_bot_marker".into(), false),
            ],
            title_input: Some("valkey_bot_marker".into()),
            conclusion: "success".into(),
            jobs: vec![("build".into(), "success".into())],
        },
    );
}

/// The files on `main` every contract run starts from: path and bytes, none executable.
pub const SEED: &[(&str, &[u8])] = &[
    ("9.1/alpine/Dockerfile", b"FROM alpine:3.22\n"),
    ("9.1/debian/Dockerfile", b"FROM debian:bookworm-slim\n"),
    ("README.md", b"# images\n"),
    ("versions.json", b"{\"9.1\": \"9.1.0\"}\n"),
];

/// The seeded repository a contract run works on.
#[derive(Debug, Clone)]
pub struct World {
    /// The repository holding [`SEED`] on `main`.
    pub repo: RepoId,
    /// The head of `main`.
    pub main: String,
}

/// Seeds `repo`'s `main` with [`SEED`] in `github`.
pub fn seed_memory(github: &MemoryGitHub, repo: &RepoId) -> World {
    let main = github.seed(repo, "main", "someone", SEED);
    World {
        repo: repo.clone(),
        main,
    }
}

fn ok<T>(what: &str, result: Result<T, GitHubError>) -> T {
    match result {
        Ok(value) => value,
        Err(error) => panic!("contract: {what} failed: {error}"),
    }
}

fn conflict<T: std::fmt::Debug>(what: &str, result: Result<T, GitHubError>) {
    match result {
        Err(GitHubError::Conflict(_)) => {}
        other => panic!("contract: {what} must answer Conflict, got {other:?}"),
    }
}

fn text(path: &str, content: &str) -> FileWrite {
    FileWrite {
        path: path.to_owned(),
        content: Some(Bytes::from(content.to_owned())),
        executable: false,
    }
}

/// `RepoRead`: branch heads, files, directory listings with modes and blob ids, tags.
pub async fn check_reads<G: RepoRead + ?Sized>(github: &G, world: &World) {
    let repo = &world.repo;
    assert_eq!(
        ok("branch_head(main)", github.branch_head(repo, "main").await),
        Some(world.main.clone()),
        "contract: branch_head(main)"
    );
    assert_eq!(
        ok("branch_head(nope)", github.branch_head(repo, "nope").await),
        None,
        "contract: a missing branch is None"
    );
    for (path, bytes) in SEED {
        for reference in ["main", world.main.as_str()] {
            assert_eq!(
                ok("read_file", github.read_file(repo, reference, path).await).as_deref(),
                Some(*bytes),
                "contract: read_file({reference}, {path})"
            );
        }
    }
    assert_eq!(
        ok(
            "read_file(missing)",
            github.read_file(repo, "main", "nope.txt").await
        ),
        None,
        "contract: a missing file is None"
    );
    assert_eq!(
        ok(
            "read_file(directory)",
            github.read_file(repo, "main", "9.1").await
        ),
        None,
        "contract: a directory is not a file"
    );
    let listing = |dir: &'static str| async move {
        ok(
            "list_files",
            github.list_files(repo, &world.main, dir).await,
        )
        .map(|files| {
            files
                .into_iter()
                .map(|f| (f.path, f.executable))
                .collect::<Vec<_>>()
        })
    };
    let all: Vec<(String, bool)> = SEED.iter().map(|(p, _)| ((*p).to_owned(), false)).collect();
    assert_eq!(
        listing("").await,
        Some(all),
        "contract: list_files of the root, sorted"
    );
    assert_eq!(
        listing("9.1/").await,
        listing("/9.1").await,
        "contract: slashes around a directory are ignored"
    );
    assert_eq!(
        listing("9.1").await,
        Some(vec![
            ("9.1/alpine/Dockerfile".to_owned(), false),
            ("9.1/debian/Dockerfile".to_owned(), false)
        ]),
        "contract: list_files of a directory, recursively"
    );
    assert_eq!(listing("9.2").await, None, "contract: no such directory");
    assert_eq!(
        listing("README.md").await,
        None,
        "contract: a file is not a directory"
    );
    assert_eq!(
        ok("list_tags", github.list_tags(repo).await),
        Vec::<String>::new(),
        "contract: the seed has no tags"
    );
}

/// The write traits: commits, compare-and-swap branch moves, branch creation, comparisons, pull
/// requests with labels, issues, dispatches. Changes `world`'s repository.
pub async fn check_writes<G>(github: &G, world: &World)
where
    G: RepoRead + RepoWrite + PullRequests + Issues + Dispatches + ?Sized,
{
    let repo = &world.repo;
    let identity = ok("own_identity", github.own_identity().await);

    // A commit moves no branch; it holds its parent's files with the writes applied.
    let files = vec![
        text("versions.json", "{\"9.1\": \"9.1.1\"}\n"),
        text("copy.md", "# images\n"),
        FileWrite {
            path: "9.1/alpine/Dockerfile".into(),
            content: None,
            executable: false,
        },
        FileWrite {
            path: "run.sh".into(),
            content: Some(Bytes::from_static(b"#!/bin/sh\n")),
            executable: true,
        },
    ];
    let commit = ok(
        "create_commit",
        github
            .create_commit(repo, &world.main, &files, "Update\n\nBody.")
            .await,
    );
    assert_eq!(
        ok("branch_head", github.branch_head(repo, "main").await),
        Some(world.main.clone()),
        "contract: create_commit moves no branch"
    );
    let listed = ok("list_files", github.list_files(repo, &commit, "").await)
        .unwrap_or_else(|| panic!("contract: the new commit lists no files"));
    let modes: Vec<(&str, bool)> = listed
        .iter()
        .map(|f| (f.path.as_str(), f.executable))
        .collect();
    assert_eq!(
        modes,
        vec![
            ("9.1/debian/Dockerfile", false),
            ("README.md", false),
            ("copy.md", false),
            ("run.sh", true),
            ("versions.json", false),
        ],
        "contract: the commit's files and modes"
    );
    let blob = |path: &str| {
        listed
            .iter()
            .find(|f| f.path == path)
            .map(|f| f.blob.clone())
    };
    assert_eq!(
        blob("copy.md"),
        blob("README.md"),
        "contract: equal bytes, equal blob"
    );
    assert_ne!(
        blob("copy.md"),
        blob("run.sh"),
        "contract: other bytes, other blob"
    );
    assert_eq!(
        ok(
            "read_file",
            github.read_file(repo, &commit, "versions.json").await
        )
        .as_deref(),
        Some(&b"{\"9.1\": \"9.1.1\"}\n"[..]),
        "contract: read_file at the new commit"
    );

    // Compare-and-swap: a fast-forward moves, a repeat is no error, a non-fast-forward conflicts.
    ok(
        "move_branch",
        github.move_branch(repo, "main", &commit, false).await,
    );
    ok(
        "move_branch to where the branch already is",
        github.move_branch(repo, "main", &commit, false).await,
    );
    let sibling = ok(
        "create_commit",
        github
            .create_commit(repo, &world.main, &[text("other.md", "x\n")], "Sibling")
            .await,
    );
    conflict(
        "move_branch without force to a commit that is not a fast-forward",
        github.move_branch(repo, "main", &sibling, false).await,
    );
    assert_eq!(
        ok("branch_head", github.branch_head(repo, "main").await),
        Some(commit.clone()),
        "contract: a refused move leaves the branch"
    );

    // Creating a branch: a new name succeeds, the same name at the same commit is no error (the
    // state asked for holds), the same name at another commit conflicts.
    ok(
        "create_branch",
        github.create_branch(repo, "topic", &sibling).await,
    );
    ok(
        "create_branch where the branch already points at the commit",
        github.create_branch(repo, "topic", &sibling).await,
    );
    conflict(
        "create_branch of an existing branch at another commit",
        github.create_branch(repo, "topic", &commit).await,
    );
    assert_eq!(
        ok("branch_head", github.branch_head(repo, "topic").await),
        Some(sibling.clone())
    );
    ok(
        "move_branch with force",
        github.move_branch(repo, "topic", &commit, true).await,
    );
    assert_eq!(
        ok("branch_head", github.branch_head(repo, "topic").await),
        Some(commit.clone()),
        "contract: a forced move"
    );

    // Comparisons: the commits on head not on base, oldest first, made by this client.
    let on_top = ok(
        "create_commit",
        github
            .create_commit(repo, &commit, &[text("later.md", "y\n")], "Later")
            .await,
    );
    ok(
        "move_branch",
        github.move_branch(repo, "topic", &on_top, false).await,
    );
    let between = ok(
        "commits_between",
        github.commits_between(repo, &world.main, "topic").await,
    );
    let ids: Vec<&str> = between.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![commit.as_str(), on_top.as_str()],
        "contract: commits_between"
    );
    assert_eq!(between[0].subject, "Update", "contract: a commit's subject");
    for summary in &between {
        assert!(
            summary.is_made_by(&identity),
            "contract: a commit made through the API is the client's own: {summary:?}"
        );
    }
    assert!(
        ok(
            "commits_between",
            github.commits_between(repo, "topic", "main").await
        )
        .is_empty(),
        "contract: nothing on main that topic lacks"
    );

    check_pull_requests(github, world, &on_top).await;
    check_issues(github, world).await;
    ok(
        "dispatch",
        github
            .dispatch(repo, "contract", &serde_json::json!({"version": "9.1.1"}))
            .await,
    );
}

async fn check_pull_requests<G: PullRequests + ?Sized>(github: &G, world: &World, head: &str) {
    let repo = &world.repo;
    assert_eq!(
        ok("find_open", github.find_open(repo, "topic").await),
        None,
        "contract: no pull request yet"
    );
    assert_eq!(
        ok("find_latest", github.find_latest(repo, "topic").await),
        None,
        "contract: no pull request in any state yet"
    );
    let spec = PullRequestSpec {
        head_branch: "topic".into(),
        base_branch: "main".into(),
        title: "Title".into(),
        body: "Body".into(),
    };
    let opened = ok("open", github.open(repo, &spec).await);
    assert_eq!(
        (
            opened.title.as_str(),
            opened.body.as_str(),
            opened.head_branch.as_str()
        ),
        ("Title", "Body", "topic"),
        "contract: the opened pull request"
    );
    assert_eq!(opened.head_commit, head, "contract: its head commit");
    conflict(
        "open of a second pull request for the same head branch",
        github.open(repo, &spec).await,
    );
    let edited = ok(
        "edit",
        github
            .edit(repo, opened.number, "New title", "New body")
            .await,
    );
    assert_eq!(
        (edited.number, edited.title.as_str(), edited.body.as_str()),
        (opened.number, "New title", "New body"),
        "contract: the edited pull request"
    );
    ok(
        "add_labels",
        github
            .add_labels(repo, opened.number, &["release".to_owned()])
            .await,
    );
    let found = ok("find_open", github.find_open(repo, "topic").await)
        .unwrap_or_else(|| panic!("contract: find_open finds the opened pull request"));
    assert_eq!(
        (
            found.number,
            found.title.as_str(),
            found.head_commit.as_str()
        ),
        (opened.number, "New title", head),
        "contract: find_open"
    );
    assert_eq!(
        found.labels,
        vec!["release".to_owned()],
        "contract: its labels"
    );
    let latest = ok("find_latest", github.find_latest(repo, "topic").await)
        .unwrap_or_else(|| panic!("contract: find_latest finds the open pull request"));
    assert_eq!(
        (
            latest.pull.number,
            latest.pull.head_commit.as_str(),
            latest.base_branch.as_str(),
            &latest.status
        ),
        (opened.number, head, "main", &PullRequestStatus::Open),
        "contract: find_latest"
    );
    assert!(
        !latest.author.is_empty(),
        "contract: find_latest names who opened it"
    );
    ok(
        "remove_label",
        github.remove_label(repo, opened.number, "release").await,
    );
    ok(
        "remove_label of a label it does not carry",
        github.remove_label(repo, opened.number, "release").await,
    );
    let found = ok("find_open", github.find_open(repo, "topic").await);
    assert_eq!(
        found.map(|pr| pr.labels),
        Some(Vec::new()),
        "contract: the label is gone"
    );
}

async fn check_issues<G: Issues + ?Sized>(github: &G, world: &World) {
    let repo = &world.repo;
    let title = "Release status for Valkey 9.1.1";
    assert_eq!(
        ok(
            "find_issue",
            github.find_issue(repo, title, "tracking").await
        ),
        None,
        "contract: no issue yet"
    );
    let issue = ok(
        "create_issue",
        github.create_issue(repo, title, "Body", "tracking").await,
    );
    assert_eq!(
        (issue.title.as_str(), issue.body.as_str()),
        (title, "Body"),
        "contract: the new issue"
    );
    assert_eq!(
        ok(
            "find_issue",
            github.find_issue(repo, title, "tracking").await
        )
        .map(|i| i.number),
        Some(issue.number),
        "contract: find_issue finds the client's own issue"
    );
    assert_eq!(
        ok(
            "find_issue",
            github.find_issue(repo, title, "other-label").await
        ),
        None,
        "contract: find_issue needs the label"
    );
    let edited = ok(
        "edit_issue",
        github.edit_issue(repo, issue.number, "New body").await,
    );
    assert_eq!(
        (edited.number, edited.body.as_str()),
        (issue.number, "New body"),
        "contract: the edited issue"
    );
    ok(
        "comment",
        github.comment(repo, issue.number, "A comment").await,
    );
    ok("close_issue", github.close_issue(repo, issue.number).await);
    assert_eq!(
        ok(
            "find_issue",
            github.find_issue(repo, title, "tracking").await
        ),
        None,
        "contract: a closed issue is no longer found"
    );
    ok("close_issue", github.close_issue(repo, issue.number).await);
}

/// The read-only wrapper: reads pass through ([`check_reads`]); every write answers
/// [`GitHubError::ReadOnly`] and changes nothing; the reads among the write traits pass through.
pub async fn check_refuses_writes<G>(github: &G, world: &World)
where
    G: RepoRead + RepoWrite + PullRequests + Issues + Dispatches + Workflows + ?Sized,
{
    check_reads(github, world).await;
    let repo = &world.repo;
    fn refused<T: std::fmt::Debug>(what: &str, result: Result<T, GitHubError>) {
        match result {
            Err(GitHubError::ReadOnly(_)) => {}
            other => panic!("contract: a read-only {what} must answer ReadOnly, got {other:?}"),
        }
    }
    ok("own_identity", github.own_identity().await);
    refused(
        "create_commit",
        github
            .create_commit(repo, &world.main, &[text("x", "x")], "x")
            .await,
    );
    refused(
        "move_branch",
        github.move_branch(repo, "main", &world.main, true).await,
    );
    refused(
        "create_branch",
        github.create_branch(repo, "topic", &world.main).await,
    );
    assert!(
        ok(
            "commits_between",
            github.commits_between(repo, "main", "main").await
        )
        .is_empty(),
        "contract: commits_between passes through"
    );
    let spec = PullRequestSpec {
        head_branch: "main".into(),
        base_branch: "main".into(),
        title: "x".into(),
        body: "x".into(),
    };
    refused("open", github.open(repo, &spec).await);
    refused("edit", github.edit(repo, 1, "x", "x").await);
    refused(
        "add_labels",
        github.add_labels(repo, 1, &["x".to_owned()]).await,
    );
    refused("remove_label", github.remove_label(repo, 1, "x").await);
    assert_eq!(
        ok("find_open", github.find_open(repo, "main").await),
        None,
        "contract: find_open passes through"
    );
    assert_eq!(
        ok("find_issue", github.find_issue(repo, "x", "x").await),
        None
    );
    refused(
        "create_issue",
        github.create_issue(repo, "x", "x", "x").await,
    );
    refused("edit_issue", github.edit_issue(repo, 1, "x").await);
    refused("comment", github.comment(repo, 1, "x").await);
    refused("close_issue", github.close_issue(repo, 1).await);
    refused(
        "dispatch",
        github.dispatch(repo, "x", &serde_json::Value::Null).await,
    );
    refused(
        "dispatch_workflow",
        github
            .dispatch_workflow(repo, WORKFLOW, "main", &BTreeMap::new())
            .await,
    );
    assert_eq!(
        ok("get_run", github.get_run(repo, 999_999).await),
        None,
        "contract: get_run passes through"
    );
    assert_eq!(
        ok("branch_head", github.branch_head(repo, "main").await),
        Some(world.main.clone()),
        "contract: nothing moved"
    );
    assert_eq!(
        ok("branch_head", github.branch_head(repo, "topic").await),
        None,
        "contract: nothing created"
    );
}

/// `Workflows` on a repository holding [`WORKFLOW`] (and no other run of it): unknown workflows
/// are `NotFound`, unknown or missing inputs `Rejected`; a dispatch answers its run, which
/// completes (within 10 s), titled by the marker input, with its job listed, and is listed among
/// the workflow's runs; an unknown run is `None`.
pub async fn check_workflows<G: Workflows + ?Sized>(github: &G, repo: &RepoId) {
    let inputs = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    let good = inputs(&[
        ("version", "9.1.1"),
        ("valkey_bot_marker", "contract 9.1.1"),
    ]);
    match github
        .dispatch_workflow(repo, "nope.yml", "main", &good)
        .await
    {
        Err(GitHubError::NotFound(_)) => {}
        other => {
            panic!("contract: dispatching an unknown workflow must be NotFound, got {other:?}")
        }
    }
    match github.list_runs(repo, "nope.yml").await {
        Err(GitHubError::NotFound(_)) => {}
        other => {
            panic!("contract: the runs of an unknown workflow must be NotFound, got {other:?}")
        }
    }
    let unexpected = inputs(&[("version", "9.1.1"), ("colour", "red")]);
    match github
        .dispatch_workflow(repo, WORKFLOW, "main", &unexpected)
        .await
    {
        Err(GitHubError::Rejected(text)) => assert!(
            text.contains("Unexpected inputs provided") && text.contains("colour"),
            "contract: an unexpected input is named: {text}"
        ),
        other => panic!("contract: an unexpected input must be Rejected, got {other:?}"),
    }
    match github
        .dispatch_workflow(repo, WORKFLOW, "main", &inputs(&[]))
        .await
    {
        Err(GitHubError::Rejected(text)) => assert!(
            text.contains("Required input 'version' not provided"),
            "contract: a missing input is named: {text}"
        ),
        other => panic!("contract: a missing required input must be Rejected, got {other:?}"),
    }
    let started = ok(
        "dispatch_workflow",
        github
            .dispatch_workflow(repo, WORKFLOW, "main", &good)
            .await,
    );
    assert!(
        started
            .html_url
            .ends_with(&format!("/actions/runs/{}", started.id)),
        "contract: the run's address: {}",
        started.html_url
    );
    let mut run = None;
    for _ in 0..100 {
        run = ok("get_run", github.get_run(repo, started.id).await);
        if run.as_ref().is_some_and(|r| r.is_completed()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let run = run.unwrap_or_else(|| panic!("contract: run {} never appeared", started.id));
    assert!(run.succeeded(), "contract: the run succeeds: {run:?}");
    assert_eq!(
        run.display_title, "contract 9.1.1",
        "contract: titled by the marker"
    );
    assert_eq!(run.html_url, started.html_url, "contract: the same address");
    let jobs = ok("list_jobs", github.list_jobs(repo, run.id).await);
    let names: Vec<(&str, Option<&str>)> = jobs
        .iter()
        .map(|job| (job.name.as_str(), job.conclusion.as_deref()))
        .collect();
    assert_eq!(
        names,
        [("build", Some("success"))],
        "contract: the run's jobs"
    );
    let runs = ok("list_runs", github.list_runs(repo, WORKFLOW).await);
    assert_eq!(
        runs.iter().map(|r| r.id).collect::<Vec<_>>(),
        [run.id],
        "contract: the workflow's runs"
    );
    assert_eq!(ok("get_run", github.get_run(repo, 999_999).await), None);
}
