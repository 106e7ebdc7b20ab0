//! The fault matrix (issue 10; documented in docs/reliability.md): every GitHub endpoint the bot
//! uses × {500, 502, 503, 403 secondary rate limit with `retry-after`, dropped connection,
//! timeout, 409/422 conflict, and for the writes whose reads can lag, read-after-write lag},
//! each on its own fresh stage, then a rerun without the fault. One more row puts the hashes
//! repository's `main` under a ruleset that requires pull requests: the direct-commit task must
//! fail at once with the rule and what to change, the others complete.
//!
//! Three flows reach every endpoint: a first release, a release whose dispatch is refused (the
//! failure path: tracking comment, failed-run labels), and a rerun after a failed run and a
//! maintainer retitling the bot's pull requests (own-commit check, pull request edit, label
//! removal). Each endpoint gets its rows in the
//! first flow that uses it; every request a flow makes must belong to one entry of [`ENDPOINTS`],
//! so a new endpoint fails the matrix until it is listed.
//!
//! A scenario passes when the faulted run either
//! - completes: no task failed and the repositories (per ref: commits added and their diff; pull
//!   requests and their labels; tracking issue and its checklist) are exactly what a fault-free
//!   release leaves; the notifications (tracking issue, failed-run labels) may lag only when the
//!   fault hit an endpoint they use (they are best-effort and logged as errors), or
//! - fails cleanly: the run's status is a failure, the alert webhook received it naming every
//!   failed task, and every branch the run changed was delivered by a task that succeeded or is
//!   named, with its repository, in a failed task's error;
//!
//! and the rerun then succeeds and leaves exactly what a fault-free release leaves (after a run
//! that completed, the rerun changes nothing). A `403` from the API must be retried only after
//! its `retry-after`. This is a `harness = false` test: it prints one line `N passed, N failed`.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::pin::Pin;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Receiver, git, receiver};
use tokio::sync::Semaphore;
use valkey_bot::commands::{Status, with_notifications};
use valkey_bot::deliver::Delivered;
use valkey_bot::notify::alert::{self, Webhook};
use valkey_bot::notify::tracking::parse_state;
use valkey_bot::outcome::{Outcome, RunReport};
use valkey_bot::rehearse::{RunnerOptions, Stage};
use valkey_bot_core::config::{Access, Permission};
use valkey_bot_core::github::PullRequests;
use valkey_bot_core::{Environment, ReleaseRequest, RepoId, Version};
use valkey_bot_github::{Sleeper, TokenScope};
use valkey_bot_sandbox::{FaultAction, FaultRule, LoggedRequest};

/// The release every scenario runs: a new minor line, so every task writes something.
const VERSION: &str = "9.1.0";
/// How long the bot waits for response bytes before it calls a request timed out. Ten scenarios
/// at once on CI's two cores put dozens of the sandbox's `git` processes in flight (tasks read in
/// parallel), and an honest answer could take over 3 s there: a request that timed out for load
/// alone is one that "may have taken effect", and the rerun then fails for no fault of the bot.
/// The stall fault still times out, just later.
const READ_TIMEOUT: Duration = Duration::from_secs(6);
/// Scenarios running at once (each has its own sandbox and repositories).
const PARALLEL: usize = 10;

/// One endpoint the bot uses: a name for the report, the method and the sandbox path glob.
struct Endpoint {
    name: &'static str,
    method: &'static str,
    path: &'static str,
}

const fn endpoint(name: &'static str, method: &'static str, path: &'static str) -> Endpoint {
    Endpoint { name, method, path }
}

/// The routes of the matrix that are web downloads, not GitHub's REST API.
const SOURCE_ARCHIVE: &str = "/*/*/archive/**";
/// Where github.com's archive route redirects (codeload.github.com on GitHub).
const CODELOAD_ARCHIVE: &str = "/_codeload/**";
const BINARY_DOWNLOAD: &str = "/_downloads/**";

/// Every endpoint the bot may call, as GitHub's route templates.
const ENDPOINTS: &[Endpoint] = &[
    endpoint(
        "mint installation token",
        "POST",
        "/app/installations/*/access_tokens",
    ),
    endpoint("find installation", "GET", "/repos/*/*/installation"),
    endpoint("read the App", "GET", "/app"),
    endpoint("read the bot user", "GET", "/users/*"),
    endpoint("read ref", "GET", "/repos/*/*/git/ref/**"),
    endpoint("list tags", "GET", "/repos/*/*/git/matching-refs/**"),
    endpoint("create ref", "POST", "/repos/*/*/git/refs"),
    endpoint("move ref", "PATCH", "/repos/*/*/git/refs/**"),
    endpoint("create blob", "POST", "/repos/*/*/git/blobs"),
    endpoint("create tree", "POST", "/repos/*/*/git/trees"),
    endpoint("list tree", "GET", "/repos/*/*/git/trees/*"),
    endpoint("create commit", "POST", "/repos/*/*/git/commits"),
    endpoint("read commit", "GET", "/repos/*/*/git/commits/*"),
    endpoint("read contents", "GET", "/repos/*/*/contents/**"),
    endpoint("compare", "GET", "/repos/*/*/compare/**"),
    endpoint("list pull requests", "GET", "/repos/*/*/pulls"),
    endpoint("open pull request", "POST", "/repos/*/*/pulls"),
    endpoint("update pull request", "PATCH", "/repos/*/*/pulls/*"),
    endpoint("list issues", "GET", "/repos/*/*/issues"),
    endpoint("open issue", "POST", "/repos/*/*/issues"),
    endpoint("update issue", "PATCH", "/repos/*/*/issues/*"),
    endpoint("comment", "POST", "/repos/*/*/issues/*/comments"),
    endpoint("add labels", "POST", "/repos/*/*/issues/*/labels"),
    endpoint("remove label", "DELETE", "/repos/*/*/issues/*/labels/*"),
    endpoint("read label", "GET", "/repos/*/*/labels/*"),
    endpoint("create label", "POST", "/repos/*/*/labels"),
    endpoint("send dispatch", "POST", "/repos/*/*/dispatches"),
    endpoint(
        "start workflow",
        "POST",
        "/repos/*/*/actions/workflows/*/dispatches",
    ),
    endpoint(
        "list workflow runs",
        "GET",
        "/repos/*/*/actions/workflows/*/runs",
    ),
    endpoint("read workflow run", "GET", "/repos/*/*/actions/runs/*"),
    endpoint("list run jobs", "GET", "/repos/*/*/actions/runs/*/jobs"),
    endpoint("source archive", "GET", SOURCE_ARCHIVE),
    endpoint("codeload archive", "GET", CODELOAD_ARCHIVE),
    endpoint("binary download", "GET", BINARY_DOWNLOAD),
];

impl Endpoint {
    fn matches(&self, request: &LoggedRequest) -> bool {
        FaultRule::new(self.method, self.path, FaultAction::Drop)
            .matches(&request.method, &request.path)
    }

    /// Whether this is GitHub's REST API (not a web download).
    fn is_api(&self) -> bool {
        ![SOURCE_ARCHIVE, CODELOAD_ARCHIVE, BINARY_DOWNLOAD].contains(&self.path)
    }

    fn is_write(&self) -> bool {
        self.method != "GET"
    }

    /// Whether notifications use this endpoint (the tracking issue, the failed-run labels): a
    /// fault here may cost an update of those best-effort notices (logged as an error), never
    /// the release itself.
    fn is_notification(&self) -> bool {
        self.path.contains("/issues")
            || self.path.contains("/labels")
            || self.path.ends_with("/installation")
            || self.path.ends_with("/access_tokens")
    }
}

/// One column of the matrix.
#[derive(Clone, Copy, Debug)]
enum Fault {
    Status500,
    /// 502 after the request took effect for writes: the answer is lost, the write is not.
    Status502,
    Status503,
    RateLimited,
    Dropped,
    TimedOut,
    /// 409 for reads (GitHub's "Git Repository is empty"), 422 for writes (validation failed).
    Conflict,
    /// The write succeeds, then for [`LAG`] reads of what it changed see the state before it.
    Lagged,
}

const FAULTS: [Fault; 8] = [
    Fault::Status500,
    Fault::Status502,
    Fault::Status503,
    Fault::RateLimited,
    Fault::Dropped,
    Fault::TimedOut,
    Fault::Conflict,
    Fault::Lagged,
];

/// How long reads lag behind a write in the lag rows.
const LAG: Duration = Duration::from_millis(800);

/// The writes whose reads the sandbox makes lag (refs, git objects, the pull-request list).
const LAGGING_WRITES: &[&str] = &[
    "create ref",
    "move ref",
    "create blob",
    "create tree",
    "create commit",
    "open pull request",
];

impl Fault {
    fn label(self, endpoint: &Endpoint) -> &'static str {
        match self {
            Fault::Status500 => "500",
            Fault::Status502 if endpoint.is_write() => "502 after effect",
            Fault::Status502 => "502",
            Fault::Status503 => "503",
            Fault::RateLimited => "403 retry-after",
            Fault::Dropped => "dropped connection",
            Fault::TimedOut => "timeout",
            Fault::Conflict if endpoint.is_write() => "422",
            Fault::Conflict => "409",
            Fault::Lagged => "read-after-write lag",
        }
    }

    /// Whether the matrix has this fault's row for `endpoint` (lag only follows a write whose
    /// reads can lag).
    fn applies_to(self, endpoint: &Endpoint) -> bool {
        !matches!(self, Fault::Lagged) || LAGGING_WRITES.contains(&endpoint.name)
    }

    fn action(self, endpoint: &Endpoint) -> FaultAction {
        let status = |status, after_effect| FaultAction::Status {
            status,
            retry_after_secs: None,
            after_effect,
        };
        match self {
            Fault::Status500 => status(500, false),
            Fault::Status502 => status(502, endpoint.is_write()),
            Fault::Status503 => status(503, false),
            Fault::RateLimited => FaultAction::Status {
                status: 403,
                retry_after_secs: Some(7),
                after_effect: false,
            },
            Fault::Dropped => FaultAction::Drop,
            Fault::TimedOut => FaultAction::Stall,
            Fault::Conflict if endpoint.is_write() => status(422, false),
            Fault::Conflict => status(409, false),
            Fault::Lagged => FaultAction::Lag {
                ms: u64::try_from(LAG.as_millis()).unwrap(),
            },
        }
    }
}

/// Records every wait between GitHub retries instead of sleeping through it.
#[derive(Debug, Default)]
struct RecordingSleeper(Mutex<Vec<Duration>>);

impl Sleeper for RecordingSleeper {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        self.0.lock().unwrap().push(duration);
        Box::pin(async {})
    }
}

/// Every repository's refs and default branch head, taken before a run: what changes are
/// measured from.
struct Baseline {
    /// `owner/name` → refname → commit.
    refs: BTreeMap<String, BTreeMap<String, String>>,
    /// `owner/name` → the commit `HEAD` points at.
    heads: BTreeMap<String, String>,
}

impl Baseline {
    fn of(root: &Path) -> Self {
        let mut refs = BTreeMap::new();
        let mut heads = BTreeMap::new();
        for name in repositories(root) {
            heads.insert(
                name.clone(),
                git(root, &name, &["rev-parse", "HEAD"]).trim().to_owned(),
            );
            refs.insert(name.clone(), ref_commits(root, &name));
        }
        Self { refs, heads }
    }
}

/// What a run changed in the repositories, comparable between stages: per ref, the commits
/// added since the baseline and their diff, with the stage's own address normalised away.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fingerprint {
    /// Per repository: every changed or new ref, its new commit count and its diff.
    refs: BTreeMap<String, Vec<String>>,
    /// Per repository: every pull request's title, state, head and base.
    pulls: BTreeMap<String, Vec<String>>,
    /// Per repository: every pull request's labels.
    labels: BTreeMap<String, Vec<String>>,
    /// Per repository: every issue's title, state, labels and checklist (each box and task).
    issues: BTreeMap<String, Vec<String>>,
    /// Repository dispatches sent.
    dispatches: usize,
}

impl Fingerprint {
    async fn of(stage: &Stage, baseline: &Arc<Baseline>) -> Self {
        let root = stage.root.clone();
        let base_url = stage.sandbox.base_url().to_owned();
        let baseline = Arc::clone(baseline);
        let refs = tokio::task::spawn_blocking(move || changes(&root, &baseline, &base_url))
            .await
            .unwrap();
        let state = stage.sandbox.state().await;
        let mut pulls = BTreeMap::new();
        let mut labels = BTreeMap::new();
        let mut issues = BTreeMap::new();
        let mut dispatches = 0;
        for (name, repo) in &state.repos {
            dispatches += repo.dispatches.len();
            for issue in &repo.issues {
                match &issue.pull {
                    Some(pull) => {
                        pulls
                            .entry(name.clone())
                            .or_insert_with(Vec::new)
                            .push(format!(
                                "{} [{}] {} -> {}",
                                issue.title, issue.state, pull.head_ref, pull.base_ref
                            ));
                        labels
                            .entry(name.clone())
                            .or_insert_with(Vec::new)
                            .push(format!("#{} {:?}", issue.number, issue.labels));
                    }
                    None => issues
                        .entry(name.clone())
                        .or_insert_with(Vec::new)
                        .push(format!(
                            "{} [{}] {:?} {:?}",
                            issue.title,
                            issue.state,
                            issue.labels,
                            checklist(issue.body.as_deref().unwrap_or_default())
                        )),
                }
            }
        }
        Self {
            refs,
            pulls,
            labels,
            issues,
            dispatches,
        }
    }

    /// Each part of the fingerprint that is kept per repository.
    fn parts(&self) -> [&BTreeMap<String, Vec<String>>; 4] {
        [&self.refs, &self.pulls, &self.labels, &self.issues]
    }

    /// The repositories whose refs, pull requests, labels or issues differ.
    fn changed_repos(&self, other: &Self) -> Vec<String> {
        let mut names: Vec<&String> = self
            .parts()
            .into_iter()
            .chain(other.parts())
            .flat_map(|part| part.keys())
            .collect();
        names.sort();
        names.dedup();
        names
            .into_iter()
            .filter(|name| {
                self.parts()
                    .iter()
                    .zip(other.parts())
                    .any(|(mine, theirs)| mine.get(*name) != theirs.get(*name))
            })
            .cloned()
            .collect()
    }

    /// `(repository, branch)` of every ref that changed since the baseline.
    fn changed_refs(&self) -> Vec<(String, String)> {
        self.refs
            .iter()
            .flat_map(|(repo, lines)| {
                lines.iter().filter_map(move |line| {
                    let refname = line.split(' ').next()?;
                    let branch = refname.strip_prefix("refs/heads/").unwrap_or(refname);
                    Some((repo.clone(), branch.to_owned()))
                })
            })
            .collect()
    }

    /// Where `self` first departs from `other`, for the failure message.
    fn explain(&self, other: &Self) -> String {
        let lines = |f: &Self| -> Vec<String> {
            f.parts()
                .into_iter()
                .flatten()
                .flat_map(|(repo, lines)| {
                    lines
                        .iter()
                        .flat_map(|l| l.lines())
                        .map(move |line| format!("{repo}: {line}"))
                })
                .collect()
        };
        let (mine, theirs) = (lines(self), lines(other));
        let at = mine.iter().zip(&theirs).take_while(|(a, b)| a == b).count();
        format!(
            "{:?} where a fault-free release has {:?}",
            mine.get(at).map(String::as_str).unwrap_or("(nothing)"),
            theirs.get(at).map(String::as_str).unwrap_or("(nothing)")
        )
    }

    /// The commits and pull requests: everything but notifications and the dispatch count.
    fn same_work(&self, other: &Self) -> bool {
        self.refs == other.refs && self.pulls == other.pulls
    }

    /// The notifications: tracking issues and pull request labels.
    fn same_notices(&self, other: &Self) -> bool {
        self.issues == other.issues && self.labels == other.labels
    }
}

/// The checklist of a tracking issue body: each task and whether its box is ticked, without the
/// status and details, which tell how the release got there.
fn checklist(body: &str) -> Vec<(String, bool)> {
    parse_state(body)
        .into_iter()
        .map(|(task, line)| (task, line.complete))
        .collect()
}

/// `owner/name` of every git repository under `root`.
fn repositories(root: &Path) -> Vec<String> {
    let mut names = Vec::new();
    for owner in std::fs::read_dir(root).unwrap().flatten() {
        if !owner.path().is_dir() {
            continue;
        }
        for repo in std::fs::read_dir(owner.path()).unwrap().flatten() {
            if repo.path().join("HEAD").exists() || repo.path().join(".git").exists() {
                names.push(format!(
                    "{}/{}",
                    owner.file_name().to_string_lossy(),
                    repo.file_name().to_string_lossy()
                ));
            }
        }
    }
    names.sort();
    names
}

/// Refname → commit of every ref of `repo`.
fn ref_commits(root: &Path, repo: &str) -> BTreeMap<String, String> {
    git(
        root,
        repo,
        &["for-each-ref", "--format=%(refname) %(objectname)"],
    )
    .lines()
    .filter_map(|line| line.split_once(' '))
    .map(|(name, commit)| (name.to_owned(), commit.to_owned()))
    .collect()
}

/// Per repository, every ref that differs from `baseline`: `refname +N` and the diff from its
/// baseline commit (or the repository's baseline `HEAD` for a new ref), `base_url` → `SANDBOX`.
fn changes(root: &Path, baseline: &Baseline, base_url: &str) -> BTreeMap<String, Vec<String>> {
    let mut all = BTreeMap::new();
    for name in repositories(root) {
        let before = baseline.refs.get(&name).cloned().unwrap_or_default();
        let mut lines = Vec::new();
        for (refname, commit) in ref_commits(root, &name) {
            let from = before
                .get(&refname)
                .or_else(|| baseline.heads.get(&name))
                .cloned()
                .unwrap_or_default();
            if from == commit && before.contains_key(&refname) {
                continue;
            }
            let range = format!("{from}..{commit}");
            let count = git(root, &name, &["rev-list", "--count", &range]);
            // Blob ids hash the stage's own address, so `index` lines are left out.
            let diff: String = git(root, &name, &["diff", &from, &commit])
                .lines()
                .filter(|line| !line.starts_with("index "))
                .map(|line| line.replace(base_url, "SANDBOX") + "\n")
                .collect();
            lines.push(format!("{refname} +{}\n{diff}", count.trim()));
        }
        if !lines.is_empty() {
            all.insert(name, lines);
        }
    }
    all
}

/// A production request for the whole release of [`VERSION`].
fn release() -> ReleaseRequest {
    ReleaseRequest::local(Version::parse(VERSION).unwrap(), Environment::Prod)
}

/// One run with notifications and alerts, as `valkey-bot run` does it.
async fn run(
    stage: &Stage,
    hook: &Receiver,
    sleeper: Arc<RecordingSleeper>,
) -> (RunReport, Status) {
    let options = RunnerOptions {
        sleeper: Some(sleeper),
        read_timeout: Some(READ_TIMEOUT),
        ..RunnerOptions::default()
    };
    let runner = stage.runner_with(stage.config().unwrap(), options).unwrap();
    let runner = with_notifications(runner, false).await;
    let report = runner.run(&runner.order(&release(), false)).await.unwrap();
    // What `finish` does with alerts, without printing the table of every scenario.
    if let Some(payload) = alert::payload(&report) {
        let webhook = Webhook::new(hook.url.clone().into());
        if let Err(e) = webhook.send(&payload).await {
            println!("  the alert could not be sent: {e}");
        }
    }
    let status = if report.failed() {
        Status::TaskFailed
    } else {
        Status::Success
    };
    (report, status)
}

/// Where a scenario's faulted run starts from. Each flow exercises endpoints the others do not;
/// an endpoint gets its rows in the first flow that uses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
    /// The first run of a release on freshly seeded repositories.
    FirstRelease,
    /// The first run of a release whose bundle dispatch is refused: the failure path (the
    /// tracking issue comment, the failed-run labels on the pull requests).
    FailingRelease,
    /// A rerun after a failed run (its pull requests labelled) and a maintainer retitling the
    /// bot's pull requests: the bot checks the branches are its own, puts the titles back and
    /// takes the failed-run label off.
    EditedPullRequests,
}

const FLOWS: [Flow; 3] = [
    Flow::FirstRelease,
    Flow::FailingRelease,
    Flow::EditedPullRequests,
];

/// Pull requests the bot opens in a release, by repository.
const PULL_REQUEST_REPOS: [&str; 2] = [
    "valkey-io/valkey-container",
    "valkey-io/valkey-io.github.io",
];

impl Flow {
    /// Brings `stage` to the flow's starting point (before the baseline is taken).
    async fn prepare(self, stage: &Stage, hook: &Receiver) {
        match self {
            Flow::FirstRelease | Flow::FailingRelease => {}
            Flow::EditedPullRequests => {
                let faults = stage.sandbox.faults();
                faults.add(common::dispatches_refused()).unwrap();
                let (report, status) = run(stage, hook, Arc::default()).await;
                faults.clear();
                let failed: Vec<&str> = failed_tasks(&report).iter().map(|(t, _)| *t).collect();
                assert_eq!(failed, ["bundle"], "only the refused dispatch fails");
                assert_ne!(status, Status::Success);
                // The faulted run must raise its own alert if it fails.
                hook.bodies.lock().unwrap().clear();
                let app = stage.app().unwrap();
                for repo in PULL_REQUEST_REPOS {
                    let repo: RepoId = repo.parse().unwrap();
                    let permissions = BTreeMap::from([(Permission::PullRequests, Access::Write)]);
                    let pulls = app
                        .client_for(TokenScope::new(repo.clone(), permissions))
                        .await
                        .unwrap();
                    let number = common::pulls(stage, &repo.to_string()).await[0].number;
                    pulls
                        .edit(&repo, number, "Retitled by a maintainer", "")
                        .await
                        .unwrap();
                }
            }
        }
    }

    /// Faults that are part of the flow itself, present during the faulted run.
    fn standing_faults(self) -> Vec<FaultRule> {
        match self {
            Flow::FailingRelease => vec![common::dispatches_refused()],
            Flow::FirstRelease | Flow::EditedPullRequests => Vec::new(),
        }
    }

    /// Whether the faulted run fails even without the scenario's fault.
    fn fails_anyway(self) -> bool {
        self == Flow::FailingRelease
    }
}

/// What a fault-free release leaves, and for each flow the endpoints that get rows there.
struct Reference {
    fingerprint: Fingerprint,
    rows: Vec<(Flow, Vec<&'static Endpoint>)>,
}

/// The endpoint `request` belongs to; exactly one must match.
fn endpoint_of(request: &LoggedRequest) -> Result<&'static Endpoint, String> {
    let owners: Vec<&'static Endpoint> = ENDPOINTS.iter().filter(|e| e.matches(request)).collect();
    match owners.as_slice() {
        [one] => Ok(one),
        [] => Err(format!(
            "{} {} belongs to no endpoint of the matrix: add it to ENDPOINTS",
            request.method, request.path
        )),
        many => Err(format!(
            "{} {} belongs to {} endpoints: make their globs disjoint",
            request.method,
            request.path,
            many.len()
        )),
    }
}

/// Runs every flow without a scenario fault: the final state a release must end in (the same
/// for every flow, once rerun) and the endpoints each flow's measured run uses.
async fn reference() -> Result<Reference, String> {
    let mut fingerprint: Option<Fingerprint> = None;
    let mut covered: Vec<&'static str> = Vec::new();
    let mut rows = Vec::new();
    for flow in FLOWS {
        let stage = common::stage(&[VERSION]).await;
        let hook = receiver(200).await;
        let baseline = Arc::new(Baseline::of(&stage.root));
        flow.prepare(&stage, &hook).await;
        let before = stage.sandbox.request_log().len();
        for rule in flow.standing_faults() {
            stage
                .sandbox
                .faults()
                .add(rule)
                .map_err(|e| e.to_string())?;
        }
        let (report, status) = run(&stage, &hook, Arc::default()).await;
        if (status == Status::Success) == flow.fails_anyway() {
            return Err(format!(
                "{flow:?} without a fault ended {status:?}: {:?}",
                failed_tasks(&report)
            ));
        }
        let mut used = Vec::new();
        for request in &stage.sandbox.request_log()[before..] {
            let endpoint = endpoint_of(request)?;
            if !covered.contains(&endpoint.name) {
                covered.push(endpoint.name);
                used.push(endpoint);
            }
        }
        rows.push((flow, used));
        if flow == Flow::FirstRelease {
            fingerprint = Some(Fingerprint::of(&stage, &baseline).await);
        }
        stage.shutdown().await;
    }
    let fingerprint = fingerprint.ok_or("no first release")?;
    Ok(Reference { fingerprint, rows })
}

/// How a scenario ended, for the tally.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    /// The release completed in the faulted run.
    Completed,
    /// The release completed; only a notification (the tracking issue, a failed-run label)
    /// missed an update, which the rerun made.
    CompletedNotificationLagged,
    /// A task failed cleanly and the rerun completed the release.
    FailedCleanly,
}

fn failed_tasks(report: &RunReport) -> Vec<(&str, &str)> {
    report
        .tasks
        .iter()
        .filter_map(|task| match &task.outcome {
            Outcome::Failed { error, .. } => Some((task.name.as_str(), error.as_str())),
            _ => None,
        })
        .collect()
}

/// Checks a faulted run that failed: the run says so, the alert names every failed task, and
/// every ref that changed was delivered by a task that succeeded or is named in an error.
fn check_clean_failure(
    report: &RunReport,
    status: Status,
    alerts: &[serde_json::Value],
    changed: &[(String, String)],
) -> Result<(), String> {
    let failed = failed_tasks(report);
    if status == Status::Success {
        return Err(format!("{failed:?} failed but the run ended successfully"));
    }
    for (task, _) in &failed {
        if !alerts.iter().any(|body| body.to_string().contains(task)) {
            return Err(format!("{task} failed but no alert named it: {alerts:?}"));
        }
    }
    for (repo, branch) in changed {
        let named = failed
            .iter()
            .any(|(_, error)| error.contains(repo.as_str()) && error.contains(branch.as_str()));
        let delivered = report
            .tasks
            .iter()
            .filter(|task| !task.outcome.is_failure())
            .flat_map(|task| &task.delivered)
            .any(|d| {
                let text = format!("{d:?}");
                text.contains(repo.as_str()) && text.contains(branch.as_str())
            });
        if !named && !delivered {
            return Err(format!(
                "{repo} `{branch}` changed, but no successful task delivered it and no error names it: {failed:?}"
            ));
        }
    }
    Ok(())
}

async fn scenario(
    flow: Flow,
    endpoint: &'static Endpoint,
    fault: Fault,
    expected: &Fingerprint,
) -> Result<Verdict, String> {
    let stage = common::stage(&[VERSION]).await;
    let hook = receiver(200).await;
    let fresh = Arc::new(Baseline::of(&stage.root));
    flow.prepare(&stage, &hook).await;
    let baseline = Arc::new(Baseline::of(&stage.root));
    let faults = stage.sandbox.faults();
    let rule = FaultRule::new(endpoint.method, endpoint.path, fault.action(endpoint)).times(1);
    faults.add(rule).map_err(|e| e.to_string())?;
    for standing in flow.standing_faults() {
        faults.add(standing).map_err(|e| e.to_string())?;
    }
    let sleeper = Arc::new(RecordingSleeper::default());
    let (report, status) = run(&stage, &hook, Arc::clone(&sleeper)).await;
    if faults.rules().iter().any(|rule| rule.times.is_some()) {
        return Err("the fault never fired".to_owned());
    }
    faults.clear();
    let after = Fingerprint::of(&stage, &fresh).await;
    let verdict = if failed_tasks(&report).is_empty() {
        if status != Status::Success {
            return Err(format!("no task failed but the run ended {status:?}"));
        }
        if after.same_work(expected) && after.same_notices(expected) {
            Verdict::Completed
        } else if endpoint.is_notification() && after.same_work(expected) {
            Verdict::CompletedNotificationLagged
        } else {
            return Err(format!(
                "the run succeeded but left {:?} different: {}",
                after.changed_repos(expected),
                after.explain(expected)
            ));
        }
    } else {
        let alerts = hook.bodies.lock().unwrap().clone();
        let changed = Fingerprint::of(&stage, &baseline).await.changed_refs();
        check_clean_failure(&report, status, &alerts, &changed)?;
        Verdict::FailedCleanly
    };
    // GitHub's API answers a secondary rate limit with 403 + retry-after; the download hosts
    // are not the API, and a 403 there is an answer, not a pause.
    if matches!(fault, Fault::RateLimited) && endpoint.is_api() {
        let waits = sleeper.0.lock().unwrap().clone();
        if !waits.iter().any(|wait| *wait >= Duration::from_secs(7)) {
            return Err(format!("retry-after: 7 was not honoured; waits {waits:?}"));
        }
    }

    let (rerun, end) = rerun_to_the_end(stage, &hook, &fresh, expected).await?;
    if end.dispatches == 0 {
        return Err("no dispatch was ever sent".to_owned());
    }
    if verdict == Verdict::Completed {
        // A dispatch is an event, not state: GitHub keeps no record to compare with, so a rerun
        // sends it again (docs/reliability.md).
        let changed: Vec<&str> = rerun
            .tasks
            .iter()
            .filter(|task| task.outcome != Outcome::UpToDate)
            .filter(|task| {
                !task
                    .delivered
                    .iter()
                    .all(|d| matches!(d, Delivered::Dispatched { .. }))
            })
            .map(|task| task.name.as_str())
            .collect();
        if !changed.is_empty() || !end.same_work(&after) || end.labels != after.labels {
            return Err(format!(
                "the rerun after a completed run changed {changed:?}"
            ));
        }
    }
    Ok(verdict)
}

/// The repository the ruleset row protects, the row's label, and the task that commits there directly.
const RULESET_REPO: &str = "valkey-io/valkey-hashes";
const RULESET_LABEL: &str = "valkey-io/valkey-hashes main";
const RULESET_TASK: &str = "checksums";

/// The ruleset row: `main` of the hashes repository requires pull requests and the App may not
/// bypass it. The direct-commit task fails at once (one refused update, no re-plan) with the
/// rule's text and both ways out; every other task completes; once the rule is lifted, the rerun
/// completes the release.
async fn ruleset_refusal(expected: &Fingerprint) -> Result<Verdict, String> {
    let stage = common::stage(&[VERSION]).await;
    let hook = receiver(200).await;
    let fresh = Arc::new(Baseline::of(&stage.root));
    let rulesets = stage.sandbox.rulesets();
    rulesets.require_pull_requests(RULESET_REPO, "main", false);
    let before = stage.sandbox.request_log().len();
    let (report, status) = run(&stage, &hook, Arc::default()).await;
    let failed = failed_tasks(&report);
    let verdict = match failed.as_slice() {
        [(RULESET_TASK, error)] => {
            for needed in [
                "Changes must be made through a pull request.",
                "bypass list",
                "delivery.pull-request",
            ] {
                if !error.contains(needed) {
                    return Err(format!("the error does not say {needed:?}: {error}"));
                }
            }
            let alerts = hook.bodies.lock().unwrap().clone();
            let changed = Fingerprint::of(&stage, &fresh).await.changed_refs();
            check_clean_failure(&report, status, &alerts, &changed)?;
            Verdict::FailedCleanly
        }
        other => {
            return Err(format!(
                "expected only {RULESET_TASK} to fail, got {other:?}"
            ));
        }
    };
    let attempts = report
        .tasks
        .iter()
        .find(|task| task.name == RULESET_TASK)
        .map(|task| task.attempts);
    let refused_updates = stage.sandbox.request_log()[before..]
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.ends_with("/valkey-hashes/git/refs/heads/main"))
        .count();
    if attempts != Some(1) || refused_updates != 1 {
        return Err(format!(
            "re-planned or retried: {attempts:?} attempts, {refused_updates} updates of main"
        ));
    }
    rulesets.clear();
    rerun_to_the_end(stage, &hook, &fresh, expected).await?;
    Ok(verdict)
}

/// Reruns on `stage` without faults, then stops it: the rerun must succeed and leave exactly
/// what a fault-free release leaves. Returns its report and what the repositories hold.
async fn rerun_to_the_end(
    stage: Stage,
    hook: &Receiver,
    fresh: &Arc<Baseline>,
    expected: &Fingerprint,
) -> Result<(RunReport, Fingerprint), String> {
    let (rerun, status) = run(&stage, hook, Arc::default()).await;
    let end = Fingerprint::of(&stage, fresh).await;
    stage.shutdown().await;
    if status != Status::Success {
        return Err(format!("the rerun failed: {:?}", failed_tasks(&rerun)));
    }
    if !end.same_work(expected) || !end.same_notices(expected) {
        return Err(format!(
            "after the rerun, {:?} differ: {}",
            end.changed_repos(expected),
            end.explain(expected)
        ));
    }
    Ok((rerun, end))
}

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(matrix())
}

async fn matrix() -> ExitCode {
    let reference = match reference().await {
        Ok(reference) => Arc::new(reference),
        Err(error) => {
            println!("fault matrix: {error}\n0 passed, 1 failed");
            return ExitCode::FAILURE;
        }
    };
    let in_rows: Vec<&str> = reference
        .rows
        .iter()
        .flat_map(|(_, endpoints)| endpoints.iter().map(|e| e.name))
        .collect();
    let unused: Vec<&str> = ENDPOINTS
        .iter()
        .map(|e| e.name)
        .filter(|name| !in_rows.contains(name))
        .collect();
    println!(
        "fault matrix: {} endpoints × {} faults (lag on {} writes) and a ruleset refusal (release {VERSION}); listed but used by no flow: {unused:?}",
        in_rows.len(),
        FAULTS.len() - 1,
        LAGGING_WRITES.len()
    );
    let permits = Arc::new(Semaphore::new(PARALLEL));
    let mut scenarios = Vec::new();
    for (flow, endpoints) in &reference.rows {
        for endpoint in endpoints.iter().copied() {
            for fault in FAULTS.into_iter().filter(|f| f.applies_to(endpoint)) {
                let permits = Arc::clone(&permits);
                let reference = Arc::clone(&reference);
                let flow = *flow;
                scenarios.push(tokio::spawn(async move {
                    let _permit = permits.acquire_owned().await.unwrap();
                    let row = format!(
                        "{flow:?}: {} {} × {}",
                        endpoint.method,
                        endpoint.path,
                        fault.label(endpoint)
                    );
                    (
                        row,
                        scenario(flow, endpoint, fault, &reference.fingerprint).await,
                    )
                }));
            }
        }
    }
    let refusal = {
        let permits = Arc::clone(&permits);
        let reference = Arc::clone(&reference);
        tokio::spawn(async move {
            let _permit = permits.acquire_owned().await.unwrap();
            let row = format!(
                "{:?}: PATCH {RULESET_LABEL} under a ruleset",
                Flow::FirstRelease
            );
            (row, ruleset_refusal(&reference.fingerprint).await)
        })
    };
    scenarios.insert(0, refusal);
    let mut tally: BTreeMap<Verdict, usize> = BTreeMap::new();
    let (mut passed, mut failed) = (0, 0);
    for scenario in scenarios {
        let (row, result) = scenario.await.unwrap();
        match result {
            Ok(verdict) => {
                passed += 1;
                *tally.entry(verdict).or_default() += 1;
                println!("  ok    {row:<80} {verdict:?}");
            }
            Err(error) => {
                failed += 1;
                println!("  FAIL  {row:<80} {error}");
            }
        }
    }
    println!("outcomes: {tally:?}");
    println!("{passed} passed, {failed} failed");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
