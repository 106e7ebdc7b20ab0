//! `valkey-bot plan`: what a release would change, read from real GitHub with no credentials at
//! all (or any token, a read-only one is enough), written nowhere.
//!
//! Writes are impossible by construction: the run is a dry run, and [`PlanConnector`] hands
//! every task, every label and the tracking issue only [`ReadOnly`] clients, whose writes answer
//! an error without sending anything; anonymously GitHub itself would refuse them too.
//! Anonymous quota is 60 requests an hour, so every answer is kept on disk and revalidated
//! (`valkey_bot_github`'s conditional reads): a second plan costs a few requests. The quota used
//! and left is printed at the end; when it runs out the plan stops with what to do.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use valkey_bot_core::config::TaskConfig;
use valkey_bot_core::github::{GitHubError, Issues, PullRequests};
use valkey_bot_core::task::Target;
use valkey_bot_core::{Environment, RepoId};
use valkey_bot_github::{
    Credentials, GitHub, GitHubClient, GitHubConfig, Quota, ReadOnly, TokenScope,
};

use crate::commands::{self, Outputs, RunArgs, Status};
use crate::connect::scope_for;
use crate::forge::{Access, Connector, Forge};

/// The App whose bot user the plan's sign-offs name when no App credentials are given.
pub const DEFAULT_APP_SLUG: &str = "valkey-automation-bot";

/// What `valkey-bot plan` was asked.
#[derive(Debug, Clone, clap::Args)]
pub struct PlanArgs {
    /// The version to plan for.
    #[arg(long)]
    pub version: String,
    /// The environment to plan for.
    #[arg(long, default_value = "prod", value_parser = crate::commands::environment_parser())]
    pub environment: Environment,
    /// The configuration.
    #[arg(long, default_value = "tasks.toml")]
    pub config: PathBuf,
    /// Only these tasks (comma-separated), and what they need.
    #[arg(long, value_delimiter = ',')]
    pub only: Option<Vec<String>>,
    /// Keep GitHub's answers and download digests here (default: $XDG_CACHE_HOME/valkey-bot,
    /// else ~/.cache/valkey-bot); always revalidated with the server.
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Write the plan's report as JSON to this file.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Without App credentials: the App whose bot user sign-off trailers name.
    #[arg(long, default_value = DEFAULT_APP_SLUG)]
    pub app_slug: String,
}

/// Hands out only clients that cannot write, whatever the runner asks for.
pub struct PlanConnector {
    github: GitHub,
}

impl PlanConnector {
    /// Reads through `github`; writes nothing.
    pub fn new(github: GitHub) -> Self {
        Self { github }
    }

    async fn reader(&self, scope: TokenScope) -> Result<ReadOnly<GitHubClient>, GitHubError> {
        Ok(ReadOnly(self.github.client_for(scope).await?))
    }
}

#[async_trait]
impl Connector for PlanConnector {
    async fn connect(
        &self,
        task: &TaskConfig,
        target: &Target,
        _access: Access,
    ) -> Result<Forge, GitHubError> {
        let scope = scope_for(task, target.repo.clone(), Access::ReadOnly);
        Ok(Forge::single(Arc::new(self.reader(scope).await?)))
    }

    async fn pulls(
        &self,
        task: &TaskConfig,
        target: &Target,
    ) -> Result<Arc<dyn PullRequests>, GitHubError> {
        let scope = scope_for(task, target.repo.clone(), Access::ReadOnly);
        Ok(Arc::new(self.reader(scope).await?))
    }

    async fn issues(&self, repo: &RepoId) -> Result<Arc<dyn Issues>, GitHubError> {
        let scope = scope_for_reading(repo);
        Ok(Arc::new(self.reader(scope).await?))
    }
}

fn scope_for_reading(repo: &RepoId) -> TokenScope {
    use valkey_bot_core::config::{Access as Level, Permission};
    TokenScope::new(
        repo.clone(),
        std::collections::BTreeMap::from([(Permission::Contents, Level::Read)]),
    )
}

/// The credentials of a plan: the environment's (an App or any token) if it has some, else none.
pub fn credentials(
    lookup: impl Fn(&str) -> Option<String>,
    app_slug: &str,
) -> anyhow::Result<Credentials> {
    match Credentials::from_lookup(lookup) {
        Ok(credentials) => Ok(credentials),
        Err(valkey_bot_github::AuthError::Missing) => Ok(Credentials::Anonymous {
            app_slug: app_slug.to_owned(),
        }),
        Err(error) => Err(error.into()),
    }
}

/// The default cache directory: `$XDG_CACHE_HOME/valkey-bot`, else `$HOME/.cache/valkey-bot`.
pub fn default_cache_dir(lookup: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let non_empty = |name: &str| lookup(name).filter(|value| !value.is_empty());
    non_empty("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| non_empty("HOME").map(|home| PathBuf::from(home).join(".cache")))
        .map(|dir| dir.join("valkey-bot"))
}

/// `valkey-bot plan`.
pub async fn run(args: PlanArgs) -> anyhow::Result<Status> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let config = commands::load_config(&args.config)?;
    let run_args = RunArgs {
        version: Some(args.version.clone()),
        environment: Some(args.environment),
        only: args.only.clone(),
        dry_run: true,
        config: args.config.clone(),
        ..RunArgs::default()
    };
    let request = commands::request_for(&run_args, &config, &env)?;
    let cache_dir = args.cache_dir.clone().or_else(|| default_cache_dir(env));
    let mut github_config = GitHubConfig::from_env();
    github_config.cache_dir = cache_dir.clone();
    let credentials = credentials(env, &args.app_slug)?;
    let anonymous = matches!(credentials, Credentials::Anonymous { .. });
    let fetcher = commands::fetcher(&config, &github_config.server_url, cache_dir.as_deref())?;
    let github = GitHub::new(github_config, &credentials)?;
    let mut runner = commands::runner(config, github.clone(), fetcher);
    runner.connector = Arc::new(PlanConnector::new(github.clone()));
    let order = runner.order(&request, true);
    let report = runner.run(&order).await?;
    let outputs = Outputs {
        report: args.report.as_deref(),
        ..Outputs::default()
    };
    let status = commands::finish(&report, &runner.server_url, &outputs).await?;
    let quota = github.quota();
    println!("{}", quota_line(&quota, anonymous));
    if quota.remaining == Some(0) {
        eprintln!("{}", exhausted_advice(&quota, anonymous));
        return Ok(Status::TaskFailed);
    }
    Ok(status)
}

/// `GitHub: 12 requests (8 answered 304 Not Modified), 30 answers from the cache; 48 of 60 left
/// this hour (anonymous), resets 11:42 UTC`.
pub fn quota_line(quota: &Quota, anonymous: bool) -> String {
    let who = if anonymous { " (anonymous)" } else { "" };
    let left = match (quota.remaining, quota.limit) {
        (Some(remaining), Some(limit)) => format!("; {remaining} of {limit} left this hour{who}"),
        (Some(remaining), None) => format!("; {remaining} left this hour{who}"),
        _ => String::new(),
    };
    let reset = quota
        .reset
        .map(|reset| format!(", resets {}", clock_time(reset)))
        .unwrap_or_default();
    format!(
        "GitHub: {} requests ({} answered 304 Not Modified), {} answers from the cache{left}{reset}",
        quota.sent, quota.not_modified, quota.from_cache
    )
}

/// What to do when the quota ran out during the plan.
pub fn exhausted_advice(quota: &Quota, anonymous: bool) -> String {
    let when = quota
        .reset
        .map(|reset| format!(" at {}", clock_time(reset)))
        .unwrap_or_default();
    let token = if anonymous {
        " or give any token (GITHUB_TOKEN; a read-only one is enough) for 5000 requests an hour"
    } else {
        ""
    };
    format!(
        "error: GitHub's rate limit ran out during the plan, so the plan is incomplete (tasks that failed say where). \
         It resets{when}: run the plan again then — every answer read so far is kept, so it costs only what changed —{token}."
    )
}

/// `HH:MM UTC` of a Unix time.
fn clock_time(unix: u64) -> String {
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix);
    let text = humantime::format_rfc3339_seconds(time).to_string();
    format!("{} UTC", &text[11..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_credentials_mean_anonymous_and_bad_ones_are_an_error() {
        let none = credentials(|_| None, "bot").unwrap();
        assert!(matches!(none, Credentials::Anonymous { app_slug } if app_slug == "bot"));
        let token = credentials(|name| (name == "GITHUB_TOKEN").then(|| "t".into()), "bot");
        assert!(matches!(token.unwrap(), Credentials::Token(_)));
        let bad = credentials(
            |name| (name == "VALKEY_BOT_APP_ID").then(|| "x".into()),
            "bot",
        );
        assert!(bad.is_err());
    }

    #[test]
    fn the_cache_defaults_to_the_xdg_directory_then_home() {
        let xdg = default_cache_dir(|name| match name {
            "XDG_CACHE_HOME" => Some("/x".into()),
            "HOME" => Some("/h".into()),
            _ => None,
        });
        assert_eq!(xdg, Some(PathBuf::from("/x/valkey-bot")));
        let home = default_cache_dir(|name| (name == "HOME").then(|| "/h".into()));
        assert_eq!(home, Some(PathBuf::from("/h/.cache/valkey-bot")));
        assert_eq!(default_cache_dir(|_| None), None);
    }

    #[test]
    fn the_quota_line_says_what_was_spent_and_what_is_left() {
        let quota = Quota {
            limit: Some(60),
            remaining: Some(48),
            reset: Some(1_800_000_000),
            sent: 12,
            not_modified: 8,
            from_cache: 30,
        };
        assert_eq!(
            quota_line(&quota, true),
            "GitHub: 12 requests (8 answered 304 Not Modified), 30 answers from the cache; 48 of 60 left this hour (anonymous), resets 08:00 UTC"
        );
        let advice = exhausted_advice(&quota, true);
        assert!(advice.contains("at 08:00 UTC"), "{advice}");
        assert!(advice.contains("GITHUB_TOKEN"), "{advice}");
        assert!(!exhausted_advice(&quota, false).contains("GITHUB_TOKEN"));
    }
}
