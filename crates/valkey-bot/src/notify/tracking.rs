//! The release tracking issue, "Release status for Valkey <version>", in the automation
//! repository: a checklist of every task with its status and link, and when a run last looked.
//! Created once per version, edited as tasks finish; every failure adds a comment with the error
//! and the exact rerun to start. The issue body carries its own state (a hidden JSON comment), so
//! a rerun of some tasks keeps the lines of the others.
//!
//! The checklist shows the release, not the last run: a task that finds its work already done,
//! or is skipped, keeps the line of the run that did it, so a rerun that changes nothing changes
//! only the "last checked" time (durations are in each run's summary, not here).

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::Mutex;
use tracing::error;
use valkey_bot_core::ReleaseRequest;
use valkey_bot_core::config::TrackingSettings;
use valkey_bot_core::github::{GitHubError, Issues};

use crate::outcome::{Outcome, RunReport, TaskReport};
use crate::report::{detail, link, markdown_escape};
use crate::runner::RunObserver;

const STATE_MARKER: &str = "<!-- valkey-bot-state ";
/// Starts the one body line that changes on a rerun that changes nothing.
pub const CHECKED_PREFIX: &str = "Last checked by valkey-bot: ";

/// One task's line of the checklist.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Line {
    /// `done`, `up to date`, `failed`, ... or `pending`.
    pub status: String,
    /// Whether the task needs nothing more (done or up to date).
    pub complete: bool,
    /// What it changed, or why it failed.
    pub detail: String,
    /// A link to the commit or pull request.
    pub link: Option<String>,
}

/// The issue's title for `version`.
pub fn title(version: &str) -> String {
    format!("Release status for Valkey {version}")
}

/// Renders the issue body from the checklist; `checked` is when a run last looked (RFC 3339).
pub fn body(version: &str, lines: &BTreeMap<String, Line>, checked: &str) -> String {
    let mut out = format!(
        "Post-release tasks for Valkey {version}, kept up to date by valkey-bot. A failure adds a comment with the rerun to start.\n\n"
    );
    for (task, line) in lines {
        let check = if line.complete { "x" } else { " " };
        let mut entry = format!("- [{check}] **{task}**: {}", line.status);
        if !line.detail.is_empty() {
            entry.push_str(&format!(" — {}", markdown_escape(&line.detail)));
        }
        if let Some(link) = &line.link {
            entry.push_str(&format!(" ([link]({link}))"));
        }
        out.push_str(&entry);
        out.push('\n');
    }
    out.push_str(&format!("\n{CHECKED_PREFIX}{checked}\n"));
    let state = serde_json::to_string(lines)
        .unwrap_or_default()
        .replace("--", "\\u002d\\u002d");
    out.push_str(&format!("\n{STATE_MARKER}{state} -->\n"));
    out
}

/// The checklist stored in a body written by [`body`]; empty if there is none.
pub fn parse_state(body: &str) -> BTreeMap<String, Line> {
    body.rsplit_once(STATE_MARKER)
        .and_then(|(_, rest)| rest.split_once(" -->"))
        .and_then(|(json, _)| serde_json::from_str(json).ok())
        .unwrap_or_default()
}

/// The comment posted when a task fails: the error and the exact rerun.
pub fn failure_comment(
    request: &ReleaseRequest,
    task: &TaskReport,
    rerun_tasks: &[String],
    workflow: &str,
) -> String {
    let error = match &task.outcome {
        Outcome::Failed { error, .. } => error.as_str(),
        _ => "",
    };
    let security = matches!(task.outcome, Outcome::Failed { security: true, .. });
    let tasks = rerun_tasks.join(",");
    let version = &request.version;
    let environment = request.environment;
    let mut out = format!(
        "### `{}` failed\n\n```\n{}\n```\n\n",
        task.name,
        error.replace("```", "'''")
    );
    if security {
        out.push_str(
            "This is a **security check**: nothing was written. Find out why the digest differs before doing anything else. \
             If the new file is legitimate, rerun with `replace` set to `true`.\n\n",
        );
    }
    out.push_str(&format!(
        "To rerun once the cause is fixed, start the `{workflow}` workflow with:\n\n\
         | input | value |\n| --- | --- |\n| version | `{version}` |\n| environment | `{environment}` |\n\
         | tasks | `{tasks}` |\n| dry_run | `false` |\n| replace | `false` |\n\n\
         or: `gh workflow run {workflow} -f version={version} -f environment={environment} -f tasks={tasks} -f dry_run=false`\n"
    ));
    out
}

/// The most of a diff a tracking-issue comment holds (GitHub takes 65,536 characters a comment).
const COMMENT_DIFF_MAX: usize = 60_000;

/// The comment posted when a shadow task does not agree with the existing change: what was
/// compared and the exact difference.
pub fn shadow_comment(task: &TaskReport) -> String {
    let Outcome::Shadow { verdict, detail } = &task.outcome else {
        return String::new();
    };
    let mut out = format!(
        "### `{}` ({}): does not agree with the old automation\n\n{}\n\n",
        task.name,
        verdict.label(),
        crate::report::markdown_escape(detail)
    );
    if let Some(diff) = task.diff.as_deref().filter(|d| !d.is_empty()) {
        out.push_str(&crate::report::diff_block(diff, COMMENT_DIFF_MAX));
        out.push('\n');
    }
    out.push_str(
        "Nothing was written (shadow mode). Keep this task in `mode = \"shadow\"` until its \
         comparisons agree (see docs/migration.md).\n",
    );
    out
}

/// Keeps the tracking issue of a run.
pub struct TrackingIssue {
    issues: Arc<dyn Issues>,
    settings: TrackingSettings,
    server_url: String,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    number: Option<u64>,
    lines: BTreeMap<String, Line>,
    /// Who needs whom, to name the dependents a rerun must include.
    needs: BTreeMap<String, Vec<String>>,
    /// Whether this run has opened the issue or written its body (and so its "last checked"
    /// time).
    written: bool,
    /// Whether the last edit of the body failed, so the issue lags this run's checklist; the end
    /// of the run tries once more.
    behind: bool,
    /// Whether looking the issue up at the start failed; the end of the run tries once more.
    lookup_failed: bool,
}

impl TrackingIssue {
    /// A tracker writing through `issues`, linking to `server_url`; `needs` maps each task to
    /// the tasks it needs.
    pub fn new(
        issues: Arc<dyn Issues>,
        settings: TrackingSettings,
        server_url: &str,
        needs: BTreeMap<String, Vec<String>>,
    ) -> Self {
        Self {
            issues,
            settings,
            server_url: server_url.trim_end_matches('/').to_owned(),
            state: Mutex::new(State {
                needs,
                ..State::default()
            }),
        }
    }

    async fn write_body(&self, version: &str, state: &mut State) {
        let Some(number) = state.number else { return };
        let repo = &self.settings.repository;
        match self
            .issues
            .edit_issue(repo, number, &body(version, &state.lines, &now()))
            .await
        {
            Ok(_) => {
                state.written = true;
                state.behind = false;
            }
            Err(e) => {
                state.behind = true;
                error!(%repo, number, "cannot update the release tracking issue: {e}");
            }
        }
    }

    /// Opens the tracking issue and returns its number. Opening is not safe to repeat blindly,
    /// so after a failure it looks first: a lost answer may hide an issue that was opened, and
    /// only when there is none does it try once more.
    async fn open_issue(
        &self,
        version: &str,
        title: &str,
        lines: &BTreeMap<String, Line>,
    ) -> Result<u64, GitHubError> {
        let repo = &self.settings.repository;
        let label = &self.settings.label;
        let open = || async {
            let text = body(version, lines, &now());
            self.issues.create_issue(repo, title, &text, label).await
        };
        match open().await {
            Ok(issue) => Ok(issue.number),
            Err(first) => match self.issues.find_issue(repo, title, label).await {
                Ok(Some(issue)) => Ok(issue.number),
                Ok(None) => open().await.map(|issue| issue.number),
                Err(_) => Err(first),
            },
        }
    }

    /// The failed task and every task that (transitively) needs it, for the rerun.
    fn rerun_tasks(state: &State, failed: &str) -> Vec<String> {
        let mut tasks = vec![failed.to_owned()];
        let mut index = 0;
        while index < tasks.len() {
            let current = tasks[index].clone();
            for (task, needs) in &state.needs {
                if needs.contains(&current) && !tasks.contains(task) {
                    tasks.push(task.clone());
                }
            }
            index += 1;
        }
        tasks
    }
}

#[async_trait]
impl RunObserver for TrackingIssue {
    async fn started(&self, request: &ReleaseRequest, dry_run: bool, tasks: &[String]) {
        if dry_run {
            return;
        }
        let version = request.version.as_str();
        let repo = &self.settings.repository;
        let title = title(version);
        let mut state = self.state.lock().await;
        let existing = match self
            .issues
            .find_issue(repo, &title, &self.settings.label)
            .await
        {
            Ok(found) => found,
            Err(e) => {
                error!(%repo, "cannot look up the release tracking issue: {e}");
                state.lookup_failed = true;
                return;
            }
        };
        if let Some(issue) = &existing {
            state.lines = parse_state(&issue.body);
        }
        let mut changed = false;
        for task in tasks {
            if state.lines.get(task).is_some_and(|line| line.complete) {
                continue;
            }
            let pending = Line {
                status: "pending".into(),
                complete: false,
                detail: String::new(),
                link: None,
            };
            changed |= state.lines.insert(task.clone(), pending.clone()) != Some(pending);
        }
        match existing {
            Some(issue) => {
                state.number = Some(issue.number);
                if changed {
                    self.write_body(version, &mut state).await;
                }
            }
            None => match self.open_issue(version, &title, &state.lines).await {
                Ok(number) => {
                    state.number = Some(number);
                    state.written = true;
                }
                Err(e) => error!(%repo, "cannot open the release tracking issue: {e}"),
            },
        }
    }

    async fn task_finished(&self, request: &ReleaseRequest, dry_run: bool, task: &TaskReport) {
        if dry_run {
            return;
        }
        let mut state = self.state.lock().await;
        let already_complete = state
            .lines
            .get(&task.name)
            .is_some_and(|line| line.complete);
        // The checklist shows the release: work an earlier run did still stands when this run
        // finds it in place or does not get to it.
        if already_complete && matches!(task.outcome, Outcome::UpToDate | Outcome::Skipped { .. }) {
            return;
        }
        let line = Line {
            status: task.outcome.label().to_owned(),
            complete: matches!(task.outcome, Outcome::Done | Outcome::UpToDate),
            detail: detail(task),
            link: task
                .delivered
                .iter()
                .find_map(|d| link(d, &self.server_url)),
        };
        if state.lines.insert(task.name.clone(), line.clone()) != Some(line) {
            self.write_body(request.version.as_str(), &mut state).await;
        }
        if let (Outcome::Shadow { verdict, .. }, Some(number)) = (&task.outcome, state.number)
            && !verdict.agrees()
        {
            let repo = &self.settings.repository;
            if let Err(e) = self
                .issues
                .comment(repo, number, &shadow_comment(task))
                .await
            {
                error!(%repo, number, "cannot comment on the release tracking issue: {e}");
            }
        }
        if let (Outcome::Failed { .. }, Some(number)) = (&task.outcome, state.number) {
            let rerun = Self::rerun_tasks(&state, &task.name);
            let comment = failure_comment(request, task, &rerun, &self.settings.workflow);
            let repo = &self.settings.repository;
            if let Err(e) = self.issues.comment(repo, number, &comment).await {
                error!(%repo, number, "cannot comment on the release tracking issue: {e}");
            }
        }
    }

    async fn finished(&self, report: &RunReport) {
        if report.dry_run {
            return;
        }
        let mut state = self.state.lock().await;
        let version = report.request.version.as_str();
        if state.lookup_failed && state.number.is_none() {
            // One more try: find the bot's issue (keeping the lines of tasks this run did not
            // touch) or open it with this run's checklist.
            let repo = &self.settings.repository;
            let title = title(version);
            match self
                .issues
                .find_issue(repo, &title, &self.settings.label)
                .await
            {
                Ok(Some(issue)) => {
                    for (task, line) in parse_state(&issue.body) {
                        state.lines.entry(task).or_insert(line);
                    }
                    state.number = Some(issue.number);
                    state.behind = true;
                }
                Ok(None) => match self.open_issue(version, &title, &state.lines).await {
                    Ok(number) => {
                        state.number = Some(number);
                        state.written = true;
                    }
                    Err(e) => error!(%repo, "cannot open the release tracking issue: {e}"),
                },
                Err(e) => error!(%repo, "cannot look up the release tracking issue: {e}"),
            }
        }
        if !state.written || state.behind {
            self.write_body(version, &mut state).await;
        }
    }
}

/// Now, UTC, to the second.
fn now() -> String {
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(status: &str, complete: bool) -> Line {
        Line {
            status: status.into(),
            complete,
            detail: "pull request opened: <b>[x](y)</b>".into(),
            link: Some("https://github.com/valkey-io/valkey-container/pull/7".into()),
        }
    }

    #[tokio::test]
    async fn a_decoy_tracking_issue_someone_else_opened_is_ignored() {
        use valkey_bot_core::{Environment, RepoId, Version};
        use valkey_bot_testkit::MemoryGitHub;
        let github = Arc::new(MemoryGitHub::new("valkey-bot[bot]"));
        let repo: RepoId = "valkey-io/valkey-automation-bot".parse().unwrap();
        // Same title, same label, a hidden state claiming everything is done: opened by someone
        // with triage access.
        let claims = BTreeMap::from([("checksums".to_owned(), line("done", true))]);
        let decoy = body("9.1.1", &claims, "2026-11-23T10:00:00Z");
        github.plant_issue(
            &repo,
            &title("9.1.1"),
            &decoy,
            "release-tracking",
            "mallory",
        );
        let settings = TrackingSettings {
            repository: repo.clone(),
            label: "release-tracking".into(),
            workflow: "release.yml".into(),
        };
        let tracker = TrackingIssue::new(
            github.clone(),
            settings,
            "https://github.com",
            BTreeMap::new(),
        );
        let request = ReleaseRequest::local(Version::parse("9.1.1").unwrap(), Environment::Prod);
        tracker
            .started(&request, false, &["checksums".to_owned()])
            .await;
        let issues = github.issues(&repo);
        assert_eq!(issues.len(), 2, "the bot opened its own: {issues:?}");
        assert_eq!(issues[0].body, decoy, "the decoy is left alone");
        assert!(
            issues[1].body.contains("- [ ] **checksums**: pending"),
            "the decoy's state is not taken over: {}",
            issues[1].body
        );
        // The next run finds the bot's own issue, not the decoy.
        let again = TrackingIssue::new(
            github.clone(),
            TrackingSettings {
                repository: repo.clone(),
                label: "release-tracking".into(),
                workflow: "release.yml".into(),
            },
            "https://github.com",
            BTreeMap::new(),
        );
        again
            .started(&request, false, &["checksums".to_owned()])
            .await;
        assert_eq!(github.issues(&repo).len(), 2);
    }

    #[test]
    fn the_body_is_a_checklist_that_carries_its_own_state() {
        let lines = BTreeMap::from([
            ("checksums".to_owned(), line("done", true)),
            ("website".to_owned(), line("failed", false)),
        ]);
        let rendered = body("9.1.1", &lines, "2026-11-23T10:00:00Z");
        assert!(rendered.contains(
            "- [x] **checksums**: done — pull request opened: \\<b\\>\\[x\\](y)\\</b\\> ([link](https://github.com/valkey-io/valkey-container/pull/7))\n"
        ), "{rendered}");
        assert!(rendered.contains("- [ ] **website**: failed"), "{rendered}");
        assert!(
            rendered.contains("\nLast checked by valkey-bot: 2026-11-23T10:00:00Z\n"),
            "{rendered}"
        );
        assert_eq!(parse_state(&rendered), lines);
        assert!(parse_state("a body someone wrote").is_empty());
    }
}
