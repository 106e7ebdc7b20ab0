//! `valkey-bot smoke --repository OWNER/NAME`: the bot's GitHub client against a real GitHub.
//!
//! Runs one scenario through the client — every endpoint it uses, once — on a throwaway
//! repository: mint a token, read a branch, list files and tags, create a branch, a commit with
//! a small file and one over 1 MB (blobs, tree, commit), move the branch, read both files back
//! (the large one through the blobs API), compare, open, find, edit, label and close a pull
//! request, open, find, edit, comment on and close an issue with a label, send a dispatch, delete
//! the branch and revoke the token. Every answer is validated against GitHub's own description
//! (the sandbox's [`Contract`]) and its shape compared with what the sandbox answers to the same
//! scenario (run on a local sandbox seeded with a repository of the same name). Any difference
//! is a row of the printed table and exit 1. What the scenario creates it removes again; the
//! label it uses stays (the client has no label deletion).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use bytes::Bytes;
use valkey_bot_core::RepoId;
use valkey_bot_core::config::{Access, Permission};
use valkey_bot_core::github::{
    Dispatches, FileWrite, Issues, PullRequestSpec, PullRequests, RepoRead, RepoWrite,
};
use valkey_bot_github::{
    Credentials, Exchange, ExchangeObserver, GitHub, GitHubClient, GitHubConfig, Hooks, TokenScope,
};
use valkey_bot_sandbox::contract::Contract;
use valkey_bot_sandbox::{AppConfig, Sandbox, SandboxConfig};

use crate::commands::Status;
use crate::rehearse::{APP_ID, APP_SLUG, app_key, seed};

/// What to exercise.
#[derive(Debug, Clone, clap::Args)]
pub struct SmokeArgs {
    /// The throwaway repository (OWNER/NAME) the scenario writes to and cleans up again; the
    /// credentials (VALKEY_BOT_APP_ID and its key, or GITHUB_TOKEN) must cover it.
    #[arg(long, value_name = "OWNER/NAME")]
    pub repository: String,
    /// The branch the scenario starts from (it is read, never written).
    #[arg(long, default_value = "main")]
    pub base: String,
}

/// The label the scenario puts on its pull request and issue.
const LABEL: &str = "valkey-bot-smoke";
/// The small file the scenario commits.
const SMALL_PATH: &str = "valkey-bot-smoke/small.txt";
/// The file over GitHub's 1 MB contents cut-off the scenario commits and reads back.
const LARGE_PATH: &str = "valkey-bot-smoke/large.txt";
/// Its size.
const LARGE_BYTES: usize = 1_500_000;

/// `valkey-bot smoke`: runs the scenario on `args.repository` of the GitHub the environment
/// names (`GITHUB_API_URL`), prints the table, and answers exit 0 when nothing differs, 1 else.
pub async fn run(args: SmokeArgs) -> anyhow::Result<Status> {
    let repo = RepoId::parse(&args.repository)
        .with_context(|| format!("--repository {}", args.repository))?;
    let credentials = Credentials::from_env()?;
    let report = smoke(&repo, &args.base, GitHubConfig::from_env(), &credentials).await?;
    print!("{report}");
    Ok(if report.differences.is_empty() {
        Status::Success
    } else {
        Status::TaskFailed
    })
}

/// What a smoke run found.
#[derive(Debug, Clone)]
pub struct SmokeReport {
    /// How many answers of the GitHub under test were validated.
    pub checked: u64,
    /// Every difference: from GitHub's description, or from the sandbox's answer.
    pub differences: Vec<Difference>,
}

/// One way an answer of the GitHub under test differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The scenario step (`open pull request`).
    pub step: String,
    /// `METHOD /template` of the operation (empty for a step that failed).
    pub operation: String,
    /// `description` (not GitHub's documented shape), `sandbox` (not what the sandbox
    /// answers) or `failed` (the step itself failed).
    pub kind: &'static str,
    /// What differs (JSON pointers and types, never values).
    pub detail: String,
}

impl fmt::Display for SmokeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "| step | operation | differs from | what |")?;
        writeln!(f, "| --- | --- | --- | --- |")?;
        for difference in &self.differences {
            writeln!(
                f,
                "| {} | {} | {} | {} |",
                difference.step,
                difference.operation,
                difference.kind,
                difference.detail.replace('|', "\\|")
            )?;
        }
        writeln!(
            f,
            "{} answer(s) checked, {} difference(s)",
            self.checked,
            self.differences.len()
        )
    }
}

/// Runs the scenario on `repo` (from branch `base`) of the GitHub `config` points at with
/// `credentials`, and the same scenario on a local sandbox, and compares.
pub async fn smoke(
    repo: &RepoId,
    base: &str,
    config: GitHubConfig,
    credentials: &Credentials,
) -> anyhow::Result<SmokeReport> {
    let tested = Arc::new(Recorder::default());
    let outcome = scenario(config, credentials, tested.clone(), repo, base).await;
    let reference = Arc::new(Recorder::default());
    reference_run(reference.clone(), repo, base)
        .await
        .context("the reference scenario on the local sandbox failed")?;
    let mut differences: Vec<Difference> = tested
        .contract
        .violations()
        .into_iter()
        .map(|violation| Difference {
            step: tested.step_of(&violation.request),
            operation: violation.operation.clone(),
            kind: "description",
            detail: format!(
                "{} {} at {:?}: {}",
                violation.status.map(|s| s.to_string()).unwrap_or_default(),
                match violation.side {
                    valkey_bot_sandbox::contract::Side::Request => "request body",
                    valkey_bot_sandbox::contract::Side::Response => "response",
                },
                violation.pointer,
                violation.message
            ),
        })
        .collect();
    differences.extend(compare(&tested.answers(), &reference.answers()));
    if let Err((step, error)) = outcome {
        differences.push(Difference {
            step,
            operation: String::new(),
            kind: "failed",
            detail: format!("{error:#}"),
        });
    }
    Ok(SmokeReport {
        checked: tested.contract.checked(),
        differences,
    })
}

/// The scenario on a fresh local sandbox playing an App, with `repo` seeded on `base`.
async fn reference_run(recorder: Arc<Recorder>, repo: &RepoId, base: &str) -> anyhow::Result<()> {
    let temp = tempfile::tempdir()?;
    seed::seed_repository(temp.path(), &repo.to_string(), base)?;
    let (private_key, public_key_pem) = app_key()?;
    let mut config = SandboxConfig::new(temp.path());
    config.app = Some(AppConfig {
        app_id: APP_ID,
        slug: APP_SLUG.to_owned(),
        public_key_pem,
    });
    let sandbox = Sandbox::start(config).await?;
    let credentials = Credentials::App {
        app_id: APP_ID,
        private_key: private_key.into(),
    };
    let config = GitHubConfig::for_api(sandbox.api_url());
    let outcome = scenario(config, &credentials, recorder, repo, base).await;
    sandbox.shutdown().await;
    outcome.map_err(|(step, error)| error.context(format!("step `{step}`")))
}

/// Runs every step, then the clean-up whatever happened; the first failure with its step.
async fn scenario(
    config: GitHubConfig,
    credentials: &Credentials,
    recorder: Arc<Recorder>,
    repo: &RepoId,
    base: &str,
) -> Result<(), (String, anyhow::Error)> {
    let hooks = Hooks {
        observer: Some(recorder.clone()),
        ..Hooks::default()
    };
    let failed = |step: &str| {
        let step = step.to_owned();
        move |error: anyhow::Error| (step, error)
    };
    let github = GitHub::with_hooks(config, credentials, hooks)
        .map_err(anyhow::Error::from)
        .map_err(failed("connect"))?;
    recorder.step("mint token");
    let permissions = BTreeMap::from([
        (Permission::Contents, Access::Write),
        (Permission::PullRequests, Access::Write),
        (Permission::Issues, Access::Write),
    ]);
    let client = github
        .client_for(TokenScope::new(repo.clone(), permissions))
        .await
        .map_err(anyhow::Error::from)
        .map_err(failed("mint token"))?;
    let mut created = Created::default();
    let outcome = steps(&client, &recorder, repo, base, &mut created).await;
    let cleaned = clean_up(&client, &recorder, repo, &created).await;
    recorder.step("revoke token");
    github.revoke_tokens().await;
    outcome.and(cleaned)
}

/// What the scenario created and the clean-up removes.
#[derive(Debug, Default)]
struct Created {
    branch: Option<String>,
    pull_request: Option<u64>,
    issue: Option<u64>,
}

/// The scenario's steps, in order; each names itself to the recorder first.
async fn steps(
    client: &GitHubClient,
    recorder: &Recorder,
    repo: &RepoId,
    base: &str,
    created: &mut Created,
) -> Result<(), (String, anyhow::Error)> {
    let mut step = "";
    let mut begin = |name: &'static str| {
        recorder.step(name);
        step = name;
    };
    let result: anyhow::Result<()> = async {
        begin("identity");
        client.own_identity().await?;
        begin("read branch");
        let parent = client
            .branch_head(repo, base)
            .await?
            .with_context(|| format!("{repo} has no branch `{base}`"))?;
        begin("list files");
        client.list_files(repo, &parent, "").await?;
        begin("list tags");
        client.list_tags(repo).await?;
        let branch = format!("valkey-bot-smoke/{}", &parent[..parent.len().min(12)]);
        begin("create branch");
        client.create_branch(repo, &branch, &parent).await?;
        created.branch = Some(branch.clone());
        begin("create commit");
        let small = Bytes::from_static(b"valkey-bot smoke\n");
        let large: Bytes = (0..LARGE_BYTES)
            .map(|i| b"0123456789abcdef\n"[i % 17])
            .collect::<Vec<u8>>()
            .into();
        let files = [
            FileWrite {
                path: SMALL_PATH.to_owned(),
                content: Some(small.clone()),
                executable: false,
            },
            FileWrite {
                path: LARGE_PATH.to_owned(),
                content: Some(large.clone()),
                executable: false,
            },
        ];
        let message = "valkey-bot smoke: a small file and one over 1 MB";
        let commit = client.create_commit(repo, &parent, &files, message).await?;
        begin("move branch");
        client.move_branch(repo, &branch, &commit, false).await?;
        begin("read a small file");
        read_back(client, repo, &branch, SMALL_PATH, &small).await?;
        begin("read a file over 1 MB");
        read_back(client, repo, &branch, LARGE_PATH, &large).await?;
        begin("compare");
        let commits = client.commits_between(repo, base, &branch).await?;
        anyhow::ensure!(
            commits.len() == 1,
            "{base}...{branch} lists {} commits, not 1",
            commits.len()
        );
        begin("open pull request");
        let spec = PullRequestSpec {
            head_branch: branch.clone(),
            base_branch: base.to_owned(),
            title: "valkey-bot smoke".to_owned(),
            body: "Opened and closed by `valkey-bot smoke`.".to_owned(),
        };
        let pull = client.open(repo, &spec).await?;
        created.pull_request = Some(pull.number);
        begin("find pull request");
        let found = client.find_open(repo, &branch).await?;
        anyhow::ensure!(
            found.is_some_and(|found| found.number == pull.number),
            "the open pull request #{} is not found by its branch",
            pull.number
        );
        begin("edit pull request");
        client
            .edit(
                repo,
                pull.number,
                &spec.title,
                "Edited by `valkey-bot smoke`.",
            )
            .await?;
        begin("label pull request");
        client
            .add_labels(repo, pull.number, &[LABEL.to_owned()])
            .await?;
        begin("unlabel pull request");
        client.remove_label(repo, pull.number, LABEL).await?;
        begin("open issue");
        let title = format!("valkey-bot smoke {branch}");
        let issue = client
            .create_issue(repo, &title, "Opened by `valkey-bot smoke`.", LABEL)
            .await?;
        created.issue = Some(issue.number);
        begin("find issue");
        let found = client.find_issue(repo, &title, LABEL).await?;
        anyhow::ensure!(
            found.is_some_and(|found| found.number == issue.number),
            "the issue #{} is not found by its title and label",
            issue.number
        );
        begin("edit issue");
        client
            .edit_issue(repo, issue.number, "Edited by `valkey-bot smoke`.")
            .await?;
        begin("comment on issue");
        client
            .comment(repo, issue.number, "A comment by `valkey-bot smoke`.")
            .await?;
        begin("dispatch");
        let payload = serde_json::json!({ "branch": branch });
        client.dispatch(repo, LABEL, &payload).await?;
        Ok(())
    }
    .await;
    result.map_err(|error| (step.to_owned(), error))
}

/// Reads `path` at `reference` and checks it holds `expected`.
async fn read_back(
    client: &GitHubClient,
    repo: &RepoId,
    reference: &str,
    path: &str,
    expected: &[u8],
) -> anyhow::Result<()> {
    let read = client
        .read_file(repo, reference, path)
        .await?
        .with_context(|| format!("{path} is missing from `{reference}` after the commit"))?;
    anyhow::ensure!(
        read.as_ref() == expected,
        "{path} reads back {} bytes that differ from the {} committed",
        read.len(),
        expected.len()
    );
    Ok(())
}

/// Closes the pull request and the issue and deletes the branch the scenario created; the first
/// failure with its step (the others are still tried).
async fn clean_up(
    client: &GitHubClient,
    recorder: &Recorder,
    repo: &RepoId,
    created: &Created,
) -> Result<(), (String, anyhow::Error)> {
    let mut first = None;
    let mut keep = |step: &str, result: Result<(), valkey_bot_core::github::GitHubError>| {
        if let Err(error) = result {
            first.get_or_insert((step.to_owned(), anyhow::Error::from(error)));
        }
    };
    if let Some(number) = created.issue {
        recorder.step("close issue");
        keep("close issue", client.close_issue(repo, number).await);
    }
    if let Some(number) = created.pull_request {
        recorder.step("close pull request");
        keep("close pull request", client.close_issue(repo, number).await);
    }
    if let Some(branch) = &created.branch {
        recorder.step("delete branch");
        keep("delete branch", client.delete_branch(repo, branch).await);
    }
    first.map_or(Ok(()), Err)
}

/// Every answer a scenario got, by (step, operation), and the contract check of each.
#[derive(Default)]
struct Recorder {
    step: Mutex<&'static str>,
    contract: Contract,
    answers: Mutex<BTreeMap<(String, String), Answer>>,
    /// The step each concrete request (`METHOD /path`) was first made in.
    requests: Mutex<BTreeMap<String, String>>,
}

impl fmt::Debug for Recorder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Recorder")
    }
}

impl Recorder {
    /// The requests from now on belong to step `name`.
    fn step(&self, name: &'static str) {
        *lock(&self.step) = name;
    }

    /// The step `request` (`METHOD /path`) was made in.
    fn step_of(&self, request: &str) -> String {
        lock(&self.requests)
            .get(request)
            .cloned()
            .unwrap_or_default()
    }

    fn answers(&self) -> BTreeMap<(String, String), Answer> {
        lock(&self.answers).clone()
    }
}

impl ExchangeObserver for Recorder {
    fn observe(&self, exchange: &Exchange<'_>) {
        let step = (*lock(&self.step)).to_owned();
        let request = format!("{} {}", exchange.method, exchange.path);
        lock(&self.requests)
            .entry(request.clone())
            .or_insert_with(|| step.clone());
        let sent = exchange
            .request_body
            .map(|body| body.to_string().into_bytes())
            .unwrap_or_default();
        self.contract.check(
            exchange.method,
            exchange.path,
            &sent,
            exchange.status,
            exchange.content_type,
            exchange.body,
            false,
        );
        let operation = Contract::operation(exchange.method, exchange.path).unwrap_or(request);
        let mut answers = lock(&self.answers);
        let answer = answers.entry((step, operation)).or_default();
        answer.statuses.insert(exchange.status);
        if let Ok(value) = serde_json::from_slice::<serde_json::Value>(exchange.body) {
            answer.shape.add("", &value);
        }
    }
}

/// The statuses and the merged shape of every answer to one operation in one step.
#[derive(Debug, Clone, Default)]
struct Answer {
    statuses: BTreeSet<u16>,
    shape: Shape,
}

/// A JSON answer's shape: the types seen at each JSON pointer (array items as `[]`), and the
/// containers that held something (only there is a missing field a difference).
#[derive(Debug, Clone, Default)]
struct Shape {
    types: BTreeMap<String, BTreeSet<&'static str>>,
    populated: BTreeSet<String>,
}

impl Shape {
    fn add(&mut self, pointer: &str, value: &serde_json::Value) {
        use serde_json::Value;
        let kind = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        };
        self.types
            .entry(pointer.to_owned())
            .or_default()
            .insert(kind);
        match value {
            Value::Object(fields) if !fields.is_empty() => {
                self.populated.insert(pointer.to_owned());
                for (name, field) in fields {
                    let escaped = name.replace('~', "~0").replace('/', "~1");
                    self.add(&format!("{pointer}/{escaped}"), field);
                }
            }
            Value::Array(items) if !items.is_empty() => {
                self.populated.insert(pointer.to_owned());
                for item in items {
                    self.add(&format!("{pointer}/[]"), item);
                }
            }
            _ => {}
        }
    }
}

/// The pointer of the container holding `pointer`.
fn parent(pointer: &str) -> &str {
    pointer.rsplit_once('/').map_or("", |(parent, _)| parent)
}

/// Every way the tested answers differ from the reference (sandbox) answers, step by step.
fn compare(
    tested: &BTreeMap<(String, String), Answer>,
    reference: &BTreeMap<(String, String), Answer>,
) -> Vec<Difference> {
    let keys: BTreeSet<&(String, String)> = tested.keys().chain(reference.keys()).collect();
    let mut differences = Vec::new();
    for key in keys {
        let (step, operation) = key;
        let mut differ = |detail: String| {
            differences.push(Difference {
                step: step.clone(),
                operation: operation.clone(),
                kind: "sandbox",
                detail,
            });
        };
        let (answer, sandbox) = match (tested.get(key), reference.get(key)) {
            (Some(answer), Some(sandbox)) => (answer, sandbox),
            (Some(_), None) => {
                differ("asked of GitHub, never of the sandbox in this step".to_owned());
                continue;
            }
            (None, _) => {
                differ("asked of the sandbox, never of GitHub in this step".to_owned());
                continue;
            }
        };
        if answer.statuses != sandbox.statuses {
            differ(format!(
                "status {:?}, the sandbox {:?}",
                answer.statuses, sandbox.statuses
            ));
            continue;
        }
        let pointers: BTreeSet<&String> = answer
            .shape
            .types
            .keys()
            .chain(sandbox.shape.types.keys())
            .collect();
        for pointer in pointers {
            let container = parent(pointer);
            let comparable = answer.shape.populated.contains(container)
                && sandbox.shape.populated.contains(container);
            let shown = if pointer.is_empty() { "/" } else { pointer };
            match (
                answer.shape.types.get(pointer),
                sandbox.shape.types.get(pointer),
            ) {
                (Some(_), None) if comparable => {
                    differ(format!("{shown}: in GitHub's answer, not the sandbox's"));
                }
                (None, Some(_)) if comparable => {
                    differ(format!("{shown}: in the sandbox's answer, not GitHub's"));
                }
                (Some(ours), Some(theirs)) => {
                    let ours: BTreeSet<_> = ours.iter().filter(|t| **t != "null").collect();
                    let theirs: BTreeSet<_> = theirs.iter().filter(|t| **t != "null").collect();
                    if !ours.is_empty() && !theirs.is_empty() && ours != theirs {
                        differ(format!(
                            "{shown}: GitHub sends {ours:?}, the sandbox {theirs:?}"
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    differences
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: serde_json::Value) -> Answer {
        let mut answer = Answer::default();
        answer.statuses.insert(status);
        answer.shape.add("", &body);
        answer
    }

    fn differences(tested: Answer, reference: Answer) -> Vec<String> {
        let key = ("step".to_owned(), "GET /x".to_owned());
        compare(
            &BTreeMap::from([(key.clone(), tested)]),
            &BTreeMap::from([(key, reference)]),
        )
        .into_iter()
        .map(|difference| difference.detail)
        .collect()
    }

    #[test]
    fn missing_fields_and_other_types_differ_but_values_and_nulls_do_not() {
        let github =
            serde_json::json!({"sha": "a", "n": 1, "body": null, "labels": [{"name": "x"}]});
        let same =
            serde_json::json!({"sha": "b", "n": 2, "body": "text", "labels": [{"name": "y"}]});
        assert!(differences(answer(200, github.clone()), answer(200, same)).is_empty());
        let other = serde_json::json!({"n": "2", "body": null, "labels": [], "extra": true});
        assert_eq!(
            differences(answer(200, github.clone()), answer(200, other)),
            [
                "/extra: in the sandbox's answer, not GitHub's",
                "/n: GitHub sends {\"number\"}, the sandbox {\"string\"}",
                "/sha: in GitHub's answer, not the sandbox's",
            ]
        );
        assert_eq!(
            differences(answer(201, github.clone()), answer(200, github)),
            ["status {201}, the sandbox {200}"]
        );
    }

    #[test]
    fn the_table_escapes_pipes_and_counts() {
        let report = SmokeReport {
            checked: 3,
            differences: vec![Difference {
                step: "compare".to_owned(),
                operation: "GET /repos/{owner}/{repo}/compare/{basehead}".to_owned(),
                kind: "sandbox",
                detail: "a|b".to_owned(),
            }],
        };
        let shown = report.to_string();
        assert!(
            shown.contains(
                "| compare | GET /repos/{owner}/{repo}/compare/{basehead} | sandbox | a\\|b |"
            ),
            "{shown}"
        );
        assert!(
            shown.ends_with("3 answer(s) checked, 1 difference(s)\n"),
            "{shown}"
        );
    }
}
