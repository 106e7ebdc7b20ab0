//! The runner's scheduling, with small test tasks: concurrency, timeouts, skipped dependents,
//! contained panics, outputs handed to dependents, selection, and dry runs.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use serde::Deserialize;
use valkey_bot::forge::SharedGitHub;
use valkey_bot::outcome::Outcome;
use valkey_bot::runner::{RunError, Runner};
use valkey_bot_core::outputs::ImageTags;
use valkey_bot_core::plan::{FileEdit, PlannedCommit};
use valkey_bot_core::task::Settings;
use valkey_bot_core::{
    Environment, Plan, ReleaseRequest, RepoId, Task, TaskContext, TaskError, TaskFactory, Version,
};
use valkey_bot_testkit::{MEMORY_USER_ID, MemoryDownloads, MemoryGitHub, Write};

/// What a test task does, from its settings.
#[derive(Deserialize, Clone, Default)]
#[serde(deny_unknown_fields)]
struct Behaviour {
    #[serde(default)]
    sleep_ms: u64,
    #[serde(default)]
    fail: bool,
    #[serde(default)]
    panic: bool,
    #[serde(default)]
    publish_tags: bool,
    #[serde(default)]
    require_tags: bool,
    #[serde(default)]
    append_line: Option<String>,
    /// Whether the file `append_line` writes is executable.
    #[serde(default)]
    executable: bool,
}

/// Counts tasks running at once, and the most ever seen.
#[derive(Default)]
struct Gauge {
    now: AtomicUsize,
    max: AtomicUsize,
}

struct TestTask {
    behaviour: Behaviour,
    gauge: Arc<Gauge>,
}

#[async_trait]
impl Task for TestTask {
    async fn plan(&self, ctx: &TaskContext<'_>) -> Result<Plan, TaskError> {
        let now = self.gauge.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.gauge.max.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(self.behaviour.sleep_ms)).await;
        self.gauge.now.fetch_sub(1, Ordering::SeqCst);
        assert!(!self.behaviour.panic, "boom");
        if self.behaviour.fail {
            return Err(TaskError::Invalid("asked to fail".into()));
        }
        let mut plan = Plan::default();
        if self.behaviour.require_tags {
            let tags = ctx.input::<ImageTags>()?;
            plan.notes.push(format!("got {}", tags.debian.join(",")));
        }
        if self.behaviour.publish_tags {
            plan.outputs.insert(ImageTags {
                debian: vec!["9.1.1".into()],
                alpine: vec![],
                pkg: Vec::new(),
            });
        }
        if let Some(line) = &self.behaviour.append_line {
            let head = ctx.target_head().await?;
            let target = ctx.target()?;
            let before = ctx
                .repos()?
                .read_file(&target.repo, &head, "README")
                .await?
                .unwrap_or_default();
            let mut after = before.to_vec();
            if !before.ends_with(line.as_bytes()) {
                after.extend_from_slice(line.as_bytes());
            }
            let commit = PlannedCommit {
                message: format!("Add line for {}", ctx.request.version),
                edits: vec![FileEdit {
                    path: "README".into(),
                    before: Some(before),
                    after: Some(Bytes::from(after)),
                    executable: self.behaviour.executable,
                }],
            };
            plan.changes
                .push(ctx.change(head, vec![commit], "body".into())?);
        }
        Ok(plan)
    }
}

struct TestFactory {
    gauge: Arc<Gauge>,
}

impl TaskFactory for TestFactory {
    fn name(&self) -> &'static str {
        "test"
    }
    fn description(&self) -> &'static str {
        "a task whose behaviour comes from its settings"
    }
    fn build(&self, settings: Settings<'_>) -> Result<Arc<dyn Task>, toml::de::Error> {
        Ok(Arc::new(TestTask {
            behaviour: settings.parse()?,
            gauge: Arc::clone(&self.gauge),
        }))
    }
}

/// Each named task of the config is its own factory named like the task, all sharing one gauge.
struct Named {
    name: &'static str,
    inner: TestFactory,
}

impl TaskFactory for Named {
    fn name(&self) -> &'static str {
        self.name
    }
    fn description(&self) -> &'static str {
        self.inner.description()
    }
    fn build(&self, settings: Settings<'_>) -> Result<Arc<dyn Task>, toml::de::Error> {
        self.inner.build(settings)
    }
}

struct Harness {
    runner: Runner,
    gauge: Arc<Gauge>,
    github: Arc<MemoryGitHub>,
}

fn harness(tasks_toml: &str) -> Harness {
    let gauge = Arc::new(Gauge::default());
    let names: &'static [&'static str] = &["a", "b", "c", "d", "e"];
    let factories: Vec<Named> = names
        .iter()
        .map(|name| Named {
            name,
            inner: TestFactory {
                gauge: Arc::clone(&gauge),
            },
        })
        .collect();
    let refs: Vec<&dyn TaskFactory> = factories.iter().map(|f| f as &dyn TaskFactory).collect();
    let source = format!(
        "[trigger]\nrepository_dispatch = [\"valkey-release\"]\nworkflow_dispatch = true\n\
         [downloads]\nallowed_hosts = []\nmax_bytes = 1000\n{tasks_toml}"
    );
    let config = valkey_bot_core::config::load("tasks.toml", &source, &refs).unwrap();
    let github = Arc::new(MemoryGitHub::default());
    let runner = Runner {
        config: Arc::new(config),
        connector: Arc::new(SharedGitHub(Arc::clone(&github))),
        downloads: Arc::new(MemoryDownloads::default()),
        server_url: "https://github.com".into(),
        run_date: "2026-11-23".into(),
        observers: Vec::new(),
    };
    Harness {
        runner,
        gauge,
        github,
    }
}

fn request() -> ReleaseRequest {
    ReleaseRequest::local(Version::parse("9.1.1").unwrap(), Environment::Prod)
}

fn outcome<'a>(report: &'a valkey_bot::outcome::RunReport, name: &str) -> &'a Outcome {
    &report
        .tasks
        .iter()
        .find(|t| t.name == name)
        .unwrap()
        .outcome
}

#[tokio::test]
async fn independent_tasks_overlap() {
    let h = harness(
        "[tasks.a.settings]\nsleep_ms = 200\n[tasks.b.settings]\nsleep_ms = 200\n[tasks.c.settings]\nsleep_ms = 200\n",
    );
    let report = h
        .runner
        .run(&h.runner.order(&request(), false))
        .await
        .unwrap();
    assert!(!report.failed());
    assert_eq!(
        h.gauge.max.load(Ordering::SeqCst),
        3,
        "all three planned at the same time"
    );
}

#[tokio::test]
async fn dependents_wait_and_receive_outputs() {
    let h = harness(
        "[tasks.a.settings]\nsleep_ms = 50\npublish_tags = true\n\
         [tasks.b]\nneeds = [\"a\"]\n[tasks.b.settings]\nrequire_tags = true\n",
    );
    let report = h
        .runner
        .run(&h.runner.order(&request(), false))
        .await
        .unwrap();
    assert_eq!(
        h.gauge.max.load(Ordering::SeqCst),
        1,
        "b never ran alongside a"
    );
    let b = report.tasks.iter().find(|t| t.name == "b").unwrap();
    assert_eq!(b.outcome, Outcome::UpToDate);
    assert_eq!(b.notes, ["got 9.1.1"]);
    assert_eq!(
        report
            .tasks
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
}

#[tokio::test]
async fn a_timeout_fires_and_says_nothing_was_written() {
    let h = harness(
        "[tasks.a]\ntimeout = \"100ms\"\n[tasks.a.settings]\nsleep_ms = 5000\n[tasks.b.settings]\n",
    );
    let report = h
        .runner
        .run(&h.runner.order(&request(), false))
        .await
        .unwrap();
    match outcome(&report, "a") {
        Outcome::Failed {
            error,
            security,
            next_step,
        } => {
            assert_eq!(error, "timed out after 100ms; nothing was written");
            assert!(!security);
            assert!(next_step.starts_with("Rerun"), "{next_step}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        outcome(&report, "b"),
        &Outcome::UpToDate,
        "the other task is unaffected"
    );
    assert!(report.failed());
}

#[tokio::test]
async fn dependents_of_a_failure_are_skipped_with_the_reason() {
    let h = harness(
        "[tasks.a.settings]\nfail = true\n[tasks.b]\nneeds = [\"a\"]\n[tasks.c]\nneeds = [\"b\"]\n[tasks.d.settings]\n",
    );
    let report = h
        .runner
        .run(&h.runner.order(&request(), false))
        .await
        .unwrap();
    assert!(
        matches!(outcome(&report, "a"), Outcome::Failed { error, .. } if error == "asked to fail")
    );
    assert_eq!(
        outcome(&report, "b"),
        &Outcome::Skipped {
            reason: "needs `a`, which did not succeed".into()
        }
    );
    assert_eq!(
        outcome(&report, "c"),
        &Outcome::Skipped {
            reason: "needs `b`, which did not succeed".into()
        }
    );
    assert_eq!(outcome(&report, "d"), &Outcome::UpToDate);
}

#[tokio::test]
async fn a_panic_is_contained() {
    let h = harness(
        "[tasks.a.settings]\npanic = true\n[tasks.b.settings]\nsleep_ms = 50\n[tasks.c]\nneeds = [\"a\"]\n",
    );
    let report = h
        .runner
        .run(&h.runner.order(&request(), false))
        .await
        .unwrap();
    assert!(
        matches!(outcome(&report, "a"), Outcome::Failed { error, .. } if error == "the task panicked: boom")
    );
    assert_eq!(outcome(&report, "b"), &Outcome::UpToDate);
    assert!(matches!(outcome(&report, "c"), Outcome::Skipped { .. }));
}

#[tokio::test]
async fn a_subset_brings_its_dependencies_and_unknown_names_are_refused() {
    let h = harness("[tasks.a]\n[tasks.b]\nneeds = [\"a\"]\n[tasks.c]\n");
    let mut req = request();
    req.tasks = Some(vec!["b".into()]);
    let names: Vec<String> = h
        .runner
        .select(&req)
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(names, ["a", "b"]);
    req.tasks = Some(vec!["zzz".into()]);
    assert_eq!(
        h.runner
            .run(&h.runner.order(&req, false))
            .await
            .unwrap_err(),
        RunError::UnknownTask("zzz".into())
    );
    assert_eq!(h.gauge.max.load(Ordering::SeqCst), 0, "nothing ran");
}

const WRITER: &str = "[tasks.a]\nrepository = \"valkey-io/valkey-hashes\"\nbranch = \"main\"\ndelivery = \"commit\"\n\
                      [tasks.a.settings]\nappend_line = \"hash b\\n\"\n";

fn seed(h: &Harness) -> RepoId {
    let repo = RepoId::parse("valkey-io/valkey-hashes").unwrap();
    h.github
        .seed(&repo, "main", "someone", &[("README", b"hash a\n")]);
    repo
}

#[tokio::test]
async fn a_dry_run_prints_the_diff_and_writes_nothing() {
    let h = harness(WRITER);
    let repo = seed(&h);
    let report = h
        .runner
        .run(&h.runner.order(&request(), true))
        .await
        .unwrap();
    let a = &report.tasks[0];
    assert_eq!(a.outcome, Outcome::Planned);
    assert!(report.dry_run);
    let diff = a.diff.as_deref().unwrap();
    assert!(
        diff.contains("--- a/README\n+++ b/README\n@@ -1 +1,2 @@\n hash a\n+hash b\n"),
        "{diff}"
    );
    assert!(h.github.writes().is_empty());
    assert_eq!(h.github.file(&repo, "main", "README").unwrap(), "hash a\n");
}

#[tokio::test]
async fn a_write_then_a_rerun_that_changes_nothing() {
    let h = harness(WRITER);
    let repo = seed(&h);
    let first = h
        .runner
        .run(&h.runner.order(&request(), false))
        .await
        .unwrap();
    assert_eq!(first.tasks[0].outcome, Outcome::Done);
    assert_eq!(
        h.github.file(&repo, "main", "README").unwrap(),
        "hash a\nhash b\n"
    );
    let writes = h.github.writes().len();
    let second = h
        .runner
        .run(&h.runner.order(&request(), false))
        .await
        .unwrap();
    assert_eq!(second.tasks[0].outcome, Outcome::UpToDate);
    assert_eq!(h.github.writes().len(), writes, "the rerun wrote nothing");
}

/// The message of the one commit the run created.
fn written_message(h: &Harness) -> String {
    let messages: Vec<String> = h
        .github
        .writes()
        .into_iter()
        .filter_map(|write| match write {
            Write::Commit { message, .. } => Some(message),
            _ => None,
        })
        .collect();
    assert_eq!(messages.len(), 1, "{messages:?}");
    messages[0].clone()
}

#[tokio::test]
async fn signed_off_commits_name_the_bots_own_identity_unless_run_sets_one() {
    let signed = WRITER.replace(
        "delivery = \"commit\"\n",
        "delivery = \"commit\"\nsignoff = true\n",
    );
    let h = harness(&signed);
    seed(&h);
    h.runner
        .run(&h.runner.order(&request(), false))
        .await
        .unwrap();
    assert_eq!(
        written_message(&h),
        format!(
            "Add line for 9.1.1\n\nSigned-off-by: valkey-bot[bot] <{MEMORY_USER_ID}+valkey-bot[bot]@users.noreply.github.com>"
        )
    );

    let h = harness(&format!(
        "[run]\nsignoff = \"Release Team <release@valkey.io>\"\n{signed}"
    ));
    seed(&h);
    h.runner
        .run(&h.runner.order(&request(), false))
        .await
        .unwrap();
    assert_eq!(
        written_message(&h),
        "Add line for 9.1.1\n\nSigned-off-by: Release Team <release@valkey.io>"
    );
}

#[tokio::test]
async fn a_write_whose_file_modes_differ_from_the_plan_fails_verification_and_is_rolled_back() {
    let h = harness(&format!("{WRITER}executable = true\n"));
    let repo = seed(&h);
    h.github.lose_modes();
    let report = h
        .runner
        .run(&h.runner.order(&request(), false))
        .await
        .unwrap();
    match &report.tasks[0].outcome {
        Outcome::Failed { error, .. } => {
            assert!(
                error.contains("`README` does not have the planned mode"),
                "{error}"
            );
            assert!(error.contains("rolled back"), "{error}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        h.github.log(&repo, "main"),
        ["seed"],
        "the branch is restored"
    );
}

#[tokio::test]
async fn a_moved_branch_is_replanned() {
    let h = harness(WRITER);
    let repo = seed(&h);
    h.github
        .fail_next_move(valkey_bot_core::github::GitHubError::Conflict(
            "Update is not a fast forward".into(),
        ));
    let report = h
        .runner
        .run(&h.runner.order(&request(), false))
        .await
        .unwrap();
    assert_eq!(report.tasks[0].outcome, Outcome::Done);
    assert_eq!(report.tasks[0].attempts, 2);
    assert_eq!(
        h.github.file(&repo, "main", "README").unwrap(),
        "hash a\nhash b\n"
    );
    assert_eq!(h.github.log(&repo, "main"), ["Add line for 9.1.1", "seed"]);
}

#[tokio::test]
async fn dev_runs_that_would_write_to_production_are_refused() {
    let h = harness(WRITER);
    seed(&h);
    let req = ReleaseRequest::local(Version::parse("9.1.1").unwrap(), Environment::Dev);
    let error = h
        .runner
        .run(&h.runner.order(&req, false))
        .await
        .unwrap_err();
    assert!(matches!(error, RunError::DevWritesProd { .. }), "{error}");
    assert!(h.github.writes().is_empty());
    // A dry run in dev is fine.
    assert!(
        !h.runner
            .run(&h.runner.order(&req, true))
            .await
            .unwrap()
            .failed()
    );
}

/// `a` writes and publishes image tags; `b` needs them (`b`'s extra keys after `[tasks.b]`).
fn publishing_writer(b_keys: &str) -> String {
    format!(
        "{WRITER}publish_tags = true\n[tasks.b]\nneeds = [\"a\"]\n{b_keys}[tasks.b.settings]\nrequire_tags = true\n"
    )
}

#[tokio::test]
async fn a_dependent_starts_on_outputs_and_completes_though_its_need_then_fails_to_deliver() {
    let h = harness(&publishing_writer(""));
    seed(&h);
    h.github
        .fail_next_move(valkey_bot_core::github::GitHubError::Unavailable(
            "502 Bad Gateway".into(),
        ));
    let report = h
        .runner
        .run(&h.runner.order(&request(), false))
        .await
        .unwrap();
    assert!(
        matches!(outcome(&report, "a"), Outcome::Failed { error, .. } if error.contains("502")),
        "{:?}",
        outcome(&report, "a")
    );
    let b = report.tasks.iter().find(|t| t.name == "b").unwrap();
    assert_eq!(b.outcome, Outcome::UpToDate, "its data was right");
    assert_eq!(b.notes, ["got 9.1.1"]);
    assert!(report.failed(), "the run still reports a's failure");
}

#[tokio::test]
async fn a_dependent_that_waits_for_delivery_is_skipped_when_its_need_fails_to_deliver() {
    let h = harness(&publishing_writer("start = \"delivered\"\n"));
    seed(&h);
    h.github
        .fail_next_move(valkey_bot_core::github::GitHubError::Unavailable(
            "502 Bad Gateway".into(),
        ));
    let report = h
        .runner
        .run(&h.runner.order(&request(), false))
        .await
        .unwrap();
    assert!(matches!(outcome(&report, "a"), Outcome::Failed { .. }));
    assert_eq!(
        outcome(&report, "b"),
        &Outcome::Skipped {
            reason: "needs `a`, which did not succeed".into()
        }
    );
}

#[tokio::test]
async fn a_dependent_that_waits_for_delivery_gets_the_outputs_after_it() {
    let h = harness(&publishing_writer("start = \"delivered\"\n"));
    seed(&h);
    let report = h
        .runner
        .run(&h.runner.order(&request(), false))
        .await
        .unwrap();
    assert_eq!(outcome(&report, "a"), &Outcome::Done);
    let b = report.tasks.iter().find(|t| t.name == "b").unwrap();
    assert_eq!(b.notes, ["got 9.1.1"]);
}
