//! Rehearsing the take-over from the old automation (docs/migration.md) on the sandbox: the old
//! automation's changes are staged with git and the sandbox's state (the bot cannot make them:
//! they carry another account), then shadow runs compare the bot's plans with them.

use std::path::Path;

use anyhow::Context as _;
use valkey_bot_core::config::{Config, Mode};
use valkey_bot_core::{Environment, ReleaseRequest, Version};

use super::seed::git_output_with;
use super::{Stage, rehearsal_source};
use crate::commands::{Outputs, Status, finish};
use crate::deliver::Delivered;
use crate::outcome::{Outcome, RunReport};
use crate::registry;

/// The shipped configuration pointed at `stage`, with every task in `mode = "shadow"` (as
/// `[run] mode = "shadow"` does).
pub fn shadow_config(stage: &Stage) -> anyhow::Result<Config> {
    let source = rehearsal_source(stage.sandbox.base_url()).replacen(
        "\n[run]\n",
        "\n[run]\nmode = \"shadow\"\n",
        1,
    );
    let config = valkey_bot_core::config::load(
        "tasks.toml (rehearsal, shadow)",
        &source,
        &registry::factories(),
    )?;
    anyhow::ensure!(
        config.tasks.iter().all(|t| t.mode == Mode::Shadow),
        "the shipped tasks.toml has no `[run]` table to set the shadow mode in"
    );
    Ok(config)
}

/// The git identity of GitHub login `login`, as the sandbox maps e-mails to logins.
fn identity_env(login: &str) -> [(&'static str, String); 4] {
    let email = format!("{login}@users.noreply.github.com");
    [
        ("GIT_AUTHOR_NAME", login.to_owned()),
        ("GIT_AUTHOR_EMAIL", email.clone()),
        ("GIT_COMMITTER_NAME", login.to_owned()),
        ("GIT_COMMITTER_EMAIL", email),
    ]
}

fn git_as(
    dir: &Path,
    login: &str,
    args: &[&str],
    extra: &[(&str, &str)],
) -> anyhow::Result<String> {
    let identity = identity_env(login);
    let mut env: Vec<(&str, &str)> = identity.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.extend_from_slice(extra);
    let out = git_output_with(dir, args, &env)?;
    Ok(String::from_utf8_lossy(&out).trim().to_owned())
}

/// Makes every pull request `report` opened or updated the old automation's, as if it had made
/// them: each branch's commits are made again (same trees and messages) with the task's
/// `shadow.author` in `config` as author and committer, and the pull request is recorded as
/// opened by that account.
pub async fn hand_to_old_automation(
    stage: &Stage,
    config: &Config,
    report: &RunReport,
) -> anyhow::Result<()> {
    for task in &report.tasks {
        let author = config
            .tasks
            .iter()
            .find(|t| t.name == task.name)
            .map(|t| t.shadow.author.clone())
            .with_context(|| format!("task `{}` is not in the configuration", task.name))?;
        for delivered in &task.delivered {
            let Delivered::PullRequest {
                repo,
                number,
                branch,
                base,
                ..
            } = delivered
            else {
                continue;
            };
            let dir = stage.root.join(repo);
            let commits = git_as(
                &dir,
                &author,
                &["rev-list", "--reverse", &format!("{base}..{branch}")],
                &[],
            )?;
            let mut parent = git_as(&dir, &author, &["rev-parse", base], &[])?;
            for commit in commits.lines() {
                let tree = git_as(
                    &dir,
                    &author,
                    &["rev-parse", &format!("{commit}^{{tree}}")],
                    &[],
                )?;
                let message = git_as(&dir, &author, &["log", "-1", "--format=%B", commit], &[])?;
                parent = git_as(
                    &dir,
                    &author,
                    &["commit-tree", &tree, "-p", &parent, "-m", &message],
                    &[],
                )?;
            }
            git_as(
                &dir,
                &author,
                &["update-ref", &format!("refs/heads/{branch}"), &parent],
                &[],
            )?;
            let (repo, number, head, author) =
                (repo.clone(), *number, parent.clone(), author.clone());
            stage
                .sandbox
                .edit_state(move |state| {
                    if let Some(pull) = state
                        .repos
                        .get_mut(&repo)
                        .and_then(|r| r.issues.iter_mut().find(|i| i.number == number))
                    {
                        pull.user = author;
                        if let Some(details) = pull.pull.as_mut() {
                            details.head_sha = head;
                        }
                    }
                })
                .await?;
        }
    }
    Ok(())
}

/// Commits `content` as `path` on `branch` of `repo` (`owner/name`) as GitHub user `login`,
/// without a work tree; returns the new commit.
pub fn commit_as(
    stage: &Stage,
    repo: &str,
    branch: &str,
    login: &str,
    path: &str,
    content: &str,
    message: &str,
) -> anyhow::Result<String> {
    let dir = stage.root.join(repo);
    let index = stage.root.join(format!("index-{}", repo.replace('/', "-")));
    let index_env = [("GIT_INDEX_FILE", index.to_str().context("index path")?)];
    git_as(&dir, login, &["read-tree", branch], &index_env)?;
    let blob_file = stage.root.join("old-automation-blob.tmp");
    std::fs::write(&blob_file, content)?;
    let blob = git_as(
        &dir,
        login,
        &[
            "hash-object",
            "-w",
            blob_file.to_str().context("blob path")?,
        ],
        &[],
    )?;
    git_as(
        &dir,
        login,
        &[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("100644,{blob},{path}"),
        ],
        &index_env,
    )?;
    let tree = git_as(&dir, login, &["write-tree"], &index_env)?;
    let parent = git_as(&dir, login, &["rev-parse", branch], &[])?;
    let commit = git_as(
        &dir,
        login,
        &["commit-tree", &tree, "-p", &parent, "-m", message],
        &[],
    )?;
    git_as(
        &dir,
        login,
        &[
            "update-ref",
            &format!("refs/heads/{branch}"),
            &commit,
            &parent,
        ],
        &[],
    )?;
    std::fs::remove_file(index).ok();
    std::fs::remove_file(blob_file).ok();
    Ok(commit)
}

/// Merges pull request `number` of `repo` as a maintainer would on the web: its base branch is
/// fast-forwarded to its head and the pull request is recorded as merged (closed, with that
/// merge commit). Returns the commit.
pub async fn merge(stage: &Stage, repo: &str, number: u64) -> anyhow::Result<String> {
    let state = stage.sandbox.state().await;
    let pull = state
        .repo(repo)
        .and_then(|r| r.issue(number))
        .and_then(|i| i.pull.clone())
        .with_context(|| format!("no pull request #{number} in {repo}"))?;
    let dir = stage.root.join(repo);
    let head = git_as(
        &dir,
        "sandbox-user",
        &["rev-parse", &format!("refs/heads/{}", pull.head_ref)],
        &[],
    )?;
    git_as(
        &dir,
        "sandbox-user",
        &[
            "update-ref",
            &format!("refs/heads/{}", pull.base_ref),
            &head,
        ],
        &[],
    )?;
    let (repo, merged) = (repo.to_owned(), head.clone());
    let now = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    stage
        .sandbox
        .edit_state(move |state| {
            if let Some(issue) = state
                .repos
                .get_mut(&repo)
                .and_then(|r| r.issues.iter_mut().find(|i| i.number == number))
            {
                issue.state = "closed".to_owned();
                issue.closed_at = Some(now.clone());
                issue.updated_at = now;
                if let Some(details) = issue.pull.as_mut() {
                    details.head_sha = merged.clone();
                    details.merge_commit = Some(merged);
                }
            }
        })
        .await?;
    Ok(head)
}

/// The rehearsal's take-over part, on a stage of its own: a release written by "the old
/// automation" (the bot's own changes, handed over), a shadow run that agrees with it (exit 0),
/// then the old automation changes its website pull request and a shadow run shows the
/// difference (exit 1); last, `doctor` on the sandbox's App with `issues` taken away. An error
/// when any of them does not come out so.
pub async fn demonstrate(version: &Version) -> anyhow::Result<()> {
    let stage = Stage::start(std::slice::from_ref(version), None).await?;
    let request = ReleaseRequest::local(version.clone(), Environment::Prod);
    let runner = stage.runner(stage.config()?)?;
    let written = runner.run(&runner.order(&request, false)).await?;
    anyhow::ensure!(
        !written.failed(),
        "the release the old automation stands in for failed"
    );
    let config = stage.config()?;
    hand_to_old_automation(&stage, &config, &written).await?;
    println!(
        "\nTake-over: the old automation did the release of {version} (its commit and pull requests are in place).\n\
         A shadow run (`[run] mode = \"shadow\"`) plans every task, writes nothing and compares:\n"
    );
    let shadow = stage.runner(shadow_config(&stage)?)?;
    let agreeing = shadow.run(&shadow.order(&request, false)).await?;
    let agreed = finish(&agreeing, &shadow.server_url, &Outputs::default()).await?;
    anyhow::ensure!(
        agreed == Status::Success,
        "the shadow run did not agree with the old automation's identical changes"
    );

    let website = written
        .tasks
        .iter()
        .find(|t| t.name == "website")
        .and_then(|t| {
            t.delivered.iter().find_map(|d| match d {
                Delivered::PullRequest {
                    repo, branch, base, ..
                } => Some((repo.clone(), branch.clone(), base.clone())),
                _ => None,
            })
        })
        .context("the website task opened no pull request")?;
    let author = config
        .tasks
        .iter()
        .find(|t| t.name == "website")
        .map(|t| t.shadow.author.clone())
        .context("no website task")?;
    let page = changed_file(&stage, &website.0, &website.2, &website.1)?;
    commit_as(
        &stage,
        &website.0,
        &website.1,
        &author,
        &page.0,
        &format!("{}\nEdited by the old automation.\n", page.1),
        "Edit the download page",
    )?;
    println!(
        "\nThe old automation then pushes an edit to its website pull request; the next shadow run shows it:\n"
    );
    let mut only_website = request.clone();
    only_website.tasks = Some(vec!["website".to_owned()]);
    let disagreeing = shadow.run(&shadow.order(&only_website, false)).await?;
    let status = finish(&disagreeing, &shadow.server_url, &Outputs::default()).await?;
    let differs = disagreeing
        .tasks
        .iter()
        .any(|t| matches!(&t.outcome, Outcome::Shadow { verdict, .. } if !verdict.agrees()));
    anyhow::ensure!(
        differs && status == Status::TaskFailed,
        "the shadow run did not see the old automation's edit"
    );
    println!(
        "(exit code {}: the maintainer's workflow notices)",
        status as u8
    );

    // The failed-run label valkey-doc's token may not create, defined once by a maintainer.
    stage
        .sandbox
        .edit_state(|state| {
            state
                .repos
                .entry("valkey-io/valkey-doc".to_owned())
                .or_default()
                .labels
                .push(valkey_bot_sandbox::Label {
                    name: crate::notify::labels::FAILED_RUN_LABEL.to_owned(),
                    color: "ededed".to_owned(),
                    description: None,
                })
        })
        .await?;
    stage.sandbox.set_app_permissions(&[
        ("actions", "write"),
        ("contents", "write"),
        ("pull_requests", "write"),
    ])?;
    println!(
        "
`valkey-bot doctor` with the App's `issues` permission taken away:
"
    );
    let diagnosis = crate::doctor::examine(
        &stage.config()?,
        &stage.app()?,
        crate::doctor::webhook_set(),
    )
    .await;
    print!("{}", diagnosis.table());
    anyhow::ensure!(
        diagnosis
            .problems()
            .iter()
            .any(|p| p.contains("missing issues: write")),
        "doctor did not name the missing permission"
    );
    stage.shutdown().await;
    Ok(())
}

/// The first file `branch` changes against `base`, and its content at the branch.
fn changed_file(
    stage: &Stage,
    repo: &str,
    base: &str,
    branch: &str,
) -> anyhow::Result<(String, String)> {
    let dir = stage.root.join(repo);
    let changed = git_as(
        &dir,
        "sandbox-user",
        &["diff", "--name-only", &format!("{base}...{branch}")],
        &[],
    )?;
    let path = changed
        .lines()
        .next()
        .context("the website pull request changes no file")?
        .to_owned();
    let content = git_as(
        &dir,
        "sandbox-user",
        &["show", &format!("{branch}:{path}")],
        &[],
    )?;
    Ok((path, content))
}
