//! `valkey-bot rehearse`: a whole release against a local GitHub, with no network and no account.
//!
//! It seeds realistic repositories in a temporary directory, starts the sandbox on loopback with
//! a freshly generated GitHub App key, and runs the shipped `tasks.toml` through the real GitHub
//! client and App authentication (every task with its own narrowed token), then prints what each
//! task did.

pub mod seed;
pub mod takeover;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use std::sync::Arc;
use std::time::Duration;
use valkey_bot_core::config;
use valkey_bot_core::{Environment, ReleaseRequest, RepoId, Version};

use secrecy::SecretString;
use valkey_bot_github::{Credentials, GitHub, GitHubConfig, Hooks, MaskSink, Sleeper};
use valkey_bot_sandbox::{AppConfig, RunningSandbox, Sandbox, SandboxConfig};

use crate::audit::{Auditor, reader, repositories};
use crate::commands::{
    Outputs, Status, fetch_policy, fetcher_with, finish, runner, with_notifications,
};
use crate::deliver::Delivered;
use crate::outcome::RunReport;
use crate::registry;
use crate::runner::Runner;

/// The version rehearsed when none is given: the first release of a new minor line, which
/// exercises every task (a new container directory and aliases, a new download page).
pub const DEMO_VERSION: &str = "9.1.0";

/// The shipped configuration, as rehearsals use it.
pub const SHIPPED_CONFIG: &str = include_str!("../../../../tasks.toml");

/// The id of the GitHub App the sandbox and the bot share during a rehearsal.
pub const APP_ID: u64 = 1;
/// The slug of the rehearsal's App (its bot user is `<slug>[bot]`).
pub const APP_SLUG: &str = "valkey-automation-bot";

/// What to rehearse.
#[derive(Debug, Clone, Default)]
pub struct RehearseArgs {
    /// The version (default [`DEMO_VERSION`]).
    pub version: Option<String>,
    /// Keep the repositories here instead of a temporary directory.
    pub keep: Option<PathBuf>,
}

/// The shipped `tasks.toml` with the binary download site pointed at the sandbox, bashbrew's
/// helper functions pinned at the seeded commit, and workflow runs polled every second (the
/// sandbox's runs take under a second).
pub fn rehearsal_source(base_url: &str) -> String {
    SHIPPED_CONFIG
        .replace(
            "https://download.valkey.io/",
            &format!("{base_url}/_downloads/"),
        )
        .replace(seed::SHIPPED_HELPER_COMMIT, seed::SEEDED_HELPER_COMMIT)
        .replace("poll_interval = \"30s\"", "poll_interval = \"1s\"")
}

/// The shipped `tasks.toml` as [`rehearsal_source`] rewrites it, loaded.
pub fn rehearsal_config(base_url: &str) -> anyhow::Result<config::Config> {
    let source = rehearsal_source(base_url);
    Ok(config::load(
        "tasks.toml (rehearsal)",
        &source,
        &registry::factories(),
    )?)
}

/// A fresh RSA key pair: the App's private key (PKCS#1 PEM) and its public key (SPKI PEM).
pub(crate) fn app_key() -> anyhow::Result<(String, String)> {
    let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
        .context("cannot generate the App key")?;
    let private_pem = private.to_pkcs1_pem(LineEnding::LF)?.to_string();
    let public_pem = private.to_public_key().to_public_key_pem(LineEnding::LF)?;
    Ok((private_pem, public_pem))
}

/// What a stage's runner may do differently from production, for tests; the default is production.
#[derive(Debug, Default)]
pub struct RunnerOptions {
    /// Inside GitHub Actions: every minted token goes here first.
    pub mask: Option<Arc<dyn MaskSink>>,
    /// Waits between GitHub retries (default: real sleeps).
    pub sleeper: Option<Arc<dyn Sleeper>>,
    /// How long GitHub calls and downloads wait for the next bytes (default: production's).
    pub read_timeout: Option<Duration>,
    /// Authenticate with this plain token, as with `GITHUB_TOKEN`, instead of as the App.
    pub token: Option<SecretString>,
}

/// Seeded repositories served by a running sandbox with App authentication: the stage a
/// rehearsal, the end-to-end tests and the benchmark run releases on.
pub struct Stage {
    /// Where the repositories are.
    pub root: PathBuf,
    /// The local GitHub serving them.
    pub sandbox: RunningSandbox,
    private_key: String,
    _temp: Option<tempfile::TempDir>,
}

impl Stage {
    /// Seeds the repositories for `versions` (in `keep`, a new or empty directory, or a temporary
    /// one) and starts the sandbox.
    pub async fn start(versions: &[Version], keep: Option<&Path>) -> anyhow::Result<Self> {
        Self::start_with(versions, keep, |config| config).await
    }

    /// Like [`Stage::start`], with the sandbox's configuration adjusted by `configure` (a
    /// declared workflow token, for example).
    pub async fn start_with(
        versions: &[Version],
        keep: Option<&Path>,
        configure: impl FnOnce(SandboxConfig) -> SandboxConfig,
    ) -> anyhow::Result<Self> {
        let (root, temp) = match keep {
            Some(dir) => {
                if dir.exists() && std::fs::read_dir(dir)?.next().is_some() {
                    anyhow::bail!("{}: the directory is not empty", dir.display());
                }
                std::fs::create_dir_all(dir)?;
                (dir.canonicalize()?, None)
            }
            None => {
                let temp = tempfile::tempdir()?;
                (temp.path().to_owned(), Some(temp))
            }
        };
        let (private_key, public_key_pem) = app_key()?;
        let mut config = SandboxConfig::new(&root);
        config.app = Some(AppConfig {
            app_id: APP_ID,
            slug: APP_SLUG.to_owned(),
            public_key_pem,
        });
        // The sandbox reads the repositories on demand, so it can start before they exist.
        let sandbox = Sandbox::start(configure(config)).await?;
        seed::seed(&root, versions, sandbox.base_url())?;
        for demo in seed::demo_workflow_outcomes() {
            sandbox
                .workflow_outcomes()
                .set(&demo.repository, &demo.workflow, demo.outcome);
        }
        Ok(Self {
            root,
            sandbox,
            private_key,
            _temp: temp,
        })
    }

    /// The shipped configuration, pointed at this stage.
    pub fn config(&self) -> anyhow::Result<config::Config> {
        rehearsal_config(self.sandbox.base_url())
    }

    /// A runner over `config` that authenticates as the App, exactly as in production.
    pub fn runner(&self, config: config::Config) -> anyhow::Result<Runner> {
        self.runner_with(config, RunnerOptions::default())
    }

    /// Like [`Stage::runner`], with the replaceable parts of `options`.
    pub fn runner_with(
        &self,
        config: config::Config,
        options: RunnerOptions,
    ) -> anyhow::Result<Runner> {
        let mut github_config = GitHubConfig::for_api(self.sandbox.api_url());
        github_config.in_actions = options.mask.is_some();
        let mut policy = fetch_policy(&config, self.sandbox.base_url())?;
        if let Some(timeout) = options.read_timeout {
            github_config.read_timeout = timeout;
            policy.read_timeout = timeout;
        }
        let hooks = Hooks {
            mask: options.mask,
            sleeper: options.sleeper,
            ..Hooks::default()
        };
        let credentials = match options.token {
            Some(token) => Credentials::Token(token),
            None => self.app_credentials(),
        };
        let github = GitHub::with_hooks(github_config, &credentials, hooks)?;
        Ok(runner(config, github, fetcher_with(policy, None)?))
    }

    /// The App's own connection to the sandbox, for tests that act on GitHub as someone
    /// other than a run would (editing a pull request by hand, for example).
    pub fn app(&self) -> anyhow::Result<GitHub> {
        Ok(GitHub::with_hooks(
            GitHubConfig::for_api(self.sandbox.api_url()),
            &self.app_credentials(),
            Hooks::default(),
        )?)
    }

    /// The App's credentials, as `VALKEY_BOT_APP_ID` and its key give them in production.
    pub fn app_credentials(&self) -> Credentials {
        Credentials::App {
            app_id: APP_ID,
            private_key: self.private_key.clone().into(),
        }
    }

    /// An auditor of this stage's repositories with `config`, reading as the App does in
    /// production (a read-only client).
    pub async fn auditor(&self, config: config::Config, deep: bool) -> anyhow::Result<Auditor> {
        self.auditor_cached(config, deep, None)
            .await
            .map(|(auditor, _)| auditor)
    }

    /// Like [`Stage::auditor`], keeping GitHub's answers and the download digests in
    /// `cache_dir` (as `valkey-bot audit --cache-dir` does); also returns the connection, whose
    /// [`GitHub::quota`] says what the audit cost.
    pub async fn auditor_cached(
        &self,
        config: config::Config,
        deep: bool,
        cache_dir: Option<&Path>,
    ) -> anyhow::Result<(Auditor, GitHub)> {
        let source = RepoId::parse(crate::audit::DEFAULT_SOURCE)?;
        let mut github_config = GitHubConfig::for_api(self.sandbox.api_url());
        github_config.cache_dir = cache_dir.map(Path::to_path_buf);
        let github = GitHub::with_hooks(github_config, &self.app_credentials(), Hooks::default())?;
        let repos = reader(&github, repositories(&config, &source)).await?;
        let policy = fetch_policy(&config, self.sandbox.base_url())?;
        let auditor = Auditor {
            config: Arc::new(config),
            repos,
            downloads: Arc::new(fetcher_with(policy, cache_dir)?),
            server_url: self.sandbox.base_url().to_owned(),
            deep,
            source,
        };
        Ok((auditor, github))
    }

    /// Merges every pull request of `report` into its base branch, as a maintainer pressing
    /// "merge" would (a fast-forward, made with git on the stage's repositories).
    pub fn merge_pull_requests(&self, report: &RunReport) -> anyhow::Result<()> {
        for delivered in report.tasks.iter().flat_map(|t| &t.delivered) {
            if let Delivered::PullRequest {
                repo, branch, base, ..
            } = delivered
            {
                let output = Command::new("git")
                    .args([
                        "update-ref",
                        &format!("refs/heads/{base}"),
                        &format!("refs/heads/{branch}"),
                    ])
                    .current_dir(self.root.join(repo))
                    .output()?;
                anyhow::ensure!(
                    output.status.success(),
                    "cannot merge {branch} into {base} of {repo}: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
            }
        }
        Ok(())
    }

    /// The App's private key (PEM), for tests that prove it never leaks.
    pub fn private_key_pem(&self) -> &str {
        &self.private_key
    }

    /// Stops the sandbox (the repositories stay if they were kept).
    pub async fn shutdown(self) {
        self.sandbox.shutdown().await;
    }
}

/// Runs the rehearsal and prints what happened.
pub async fn rehearse(args: RehearseArgs) -> anyhow::Result<Status> {
    let version = Version::parse(args.version.as_deref().unwrap_or(DEMO_VERSION))?;
    let stage = Stage::start(std::slice::from_ref(&version), args.keep.as_deref()).await?;
    println!(
        "Rehearsing the release of Valkey {version} against a local GitHub at {}",
        stage.sandbox.base_url()
    );
    println!("Repositories: {}\n", stage.root.display());
    let runner = stage.runner(stage.config()?)?;
    let order = runner.order(
        &ReleaseRequest::local(version.clone(), Environment::Prod),
        false,
    );
    let runner = with_notifications(runner, order.dry_run()).await;
    let report = runner.run(&order).await?;
    print!("{}", changes(&stage.root, &report));
    let mut status = finish(&report, &runner.server_url, &Outputs::default()).await?;
    if status == Status::Success {
        println!(
            "\nThe maintainers merge the pull requests; then `valkey-bot audit` checks every release:\n"
        );
        stage.merge_pull_requests(&report)?;
        let audit = stage.auditor(stage.config()?, true).await?.audit().await;
        status = crate::audit::finish(&audit, None)?;
    }
    if status == Status::Success {
        demonstrate_workflows(&stage, &version).await?;
        takeover::demonstrate(&version).await?;
    }
    let root = stage.root.clone();
    stage.shutdown().await;
    if args.keep.is_some() {
        println!(
            "\nThe repositories are kept in {}; inspect them with git.",
            root.display()
        );
    }
    Ok(status)
}

/// Two workflow tasks beside the release, to show how their failures read: one whose run fails
/// (a job named), one whose run outlasts its timeout (still going, with its address). The
/// main run above showed `try-valkey` and `packages` succeeding. Not part of the exit status.
async fn demonstrate_workflows(stage: &Stage, version: &Version) -> anyhow::Result<()> {
    let task = |name: &str, workflow: &str, timeout: &str| {
        format!(
            "[tasks.{name}]\nkind = \"workflow\"\nrepository = \"{}\"\ntimeout = \"{timeout}\"\npermissions = {{ actions = \"write\" }}\n\n[tasks.{name}.settings]\nworkflow = \"{workflow}\"\nref = \"main\"\ninputs = {{ version = \"{{version}}\" }}\npoll_interval = \"1s\"\n\n",
            seed::RELEASE_AUTOMATION
        )
    };
    let source = format!(
        "[trigger]\nrepository_dispatch = [\"valkey-release\"]\nworkflow_dispatch = true\n\n[downloads]\nallowed_hosts = []\nmax_bytes = 1\n\n{}{}",
        task("failing-workflow", seed::DEMO_FAILING_WORKFLOW, "30s"),
        task("slow-workflow", seed::DEMO_SLOW_WORKFLOW, "3s"),
    );
    let config = config::load("workflow demonstrations", &source, &registry::factories())?;
    println!(
        "\nWorkflow tasks that do not succeed (a demonstration beside the release; these failures are expected):\n"
    );
    let runner = stage.runner(config)?;
    let order = runner.order(
        &ReleaseRequest::local(version.clone(), Environment::Prod),
        false,
    );
    let report = runner.run(&order).await?;
    print!("{}", crate::report::table(&report));
    Ok(())
}

/// For every commit and pull request of the run, its subjects and a diff summary, read with git.
pub fn changes(root: &Path, report: &RunReport) -> String {
    let mut out = String::new();
    for task in &report.tasks {
        for delivered in &task.delivered {
            let (repo, range, title) = match delivered {
                Delivered::Committed {
                    repo,
                    commit,
                    commits,
                    ..
                } => (
                    repo,
                    format!("{commit}~{commits}..{commit}"),
                    crate::report::describe(delivered),
                ),
                Delivered::PullRequest {
                    repo, branch, base, ..
                } => (
                    repo,
                    format!("{base}..{branch}"),
                    crate::report::describe(delivered),
                ),
                _ => continue,
            };
            out.push_str(&format!("{}: {title}\n", task.name));
            let log = Command::new("git")
                .args(["log", "--reverse", "--format=  %h %s", "--stat=100", &range])
                .current_dir(root.join(repo))
                .output();
            match log {
                Ok(output) if output.status.success() => {
                    out.push_str(&String::from_utf8_lossy(&output.stdout))
                }
                _ => out.push_str("  (could not read the commits with git)\n"),
            }
            out.push('\n');
        }
    }
    out
}
