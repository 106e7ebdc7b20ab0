//! Shared fixture for the contract tests: temp git repositories made with the git CLI, a
//! running sandbox over them, and a client talking to it.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use valkey_bot_core::RepoId;
use valkey_bot_core::config::{Access, Permission};
use valkey_bot_github::{
    Clock, Credentials, GitHub, GitHubClient, GitHubConfig, Hooks, MaskSink, RetryPolicy, Sleeper,
    TokenScope,
};
use valkey_bot_sandbox::{AppConfig, RunningSandbox, Sandbox, SandboxConfig};
use valkey_bot_sandbox::{FaultRule, LoggedRequest};

/// The plain token the no-App fixtures use (the sandbox accepts any token then).
pub const TOKEN: &str = "ghp_plainTokenValue0123456789";
/// The test App.
pub const APP_ID: u64 = 777;
/// A token the App fixture's sandbox treats as a workflow's `GITHUB_TOKEN` in `acme/images`
/// (it acts as `github-actions[bot]`: someone other than the App).
pub const WORKFLOW_TOKEN: &str = "ghs_workflowTokenOfAcmeImages0123";
/// Its slug.
pub const APP_SLUG: &str = "valkey-test-bot";

/// Runs git in `dir` with a fixed identity; panics on failure; returns trimmed stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Release Dev")
        .env("GIT_AUTHOR_EMAIL", "dev@example.com")
        .env("GIT_COMMITTER_NAME", "Release Dev")
        .env("GIT_COMMITTER_EMAIL", "dev@example.com")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_INDEX_FILE")
        .output()
        .expect("git runs");
    assert!(
        output.status.success(),
        "git {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn write(dir: &Path, path: &str, content: &str) {
    let full = dir.join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(full, content).unwrap();
}

fn commit_all(work: &Path, message: &str) -> String {
    git(work, &["add", "-A"]);
    git(work, &["commit", "-q", "-m", message]);
    git(work, &["rev-parse", "HEAD"])
}

/// Commit ids of `acme/images`.
#[derive(Debug, Clone)]
pub struct Images {
    /// First commit on main.
    pub first: String,
    /// main's head (second commit).
    pub main: String,
    /// Head of `update/9.1` (one commit on top of main).
    pub update: String,
}

/// Makes bare `ROOT/acme/images.git` (main, update/9.1) and `ROOT/acme/other.git`.
fn make_repositories(root: &Path) -> Images {
    let work = root.join("work");
    std::fs::create_dir_all(&work).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    write(&work, "README.md", "# images\n");
    write(
        &work,
        "9.1/debian/Dockerfile",
        "FROM debian:bookworm-slim\n",
    );
    write(&work, "9.1/alpine/Dockerfile", "FROM alpine:3.22\n");
    let first = commit_all(&work, "Add 9.1 images");
    write(&work, "versions.json", "{\"9.1\": \"9.1.0\"}\n");
    let main = commit_all(&work, "Record versions\n\nBody text.");
    git(&work, &["checkout", "-q", "-b", "update/9.1"]);
    write(&work, "versions.json", "{\"9.1\": \"9.1.1\"}\n");
    let update = commit_all(&work, "Update 9.1 to 9.1.1");
    git(&work, &["checkout", "-q", "main"]);
    for name in ["images", "other"] {
        let bare = root.join(format!("acme/{name}.git"));
        std::fs::create_dir_all(&bare).unwrap();
        git(&bare, &["init", "-q", "--bare", "-b", "main"]);
        let bare_text = bare.to_string_lossy().into_owned();
        git(&work, &["push", "-q", &bare_text, "main", "update/9.1"]);
    }
    std::fs::remove_dir_all(&work).unwrap();
    Images {
        first,
        main,
        update,
    }
}

/// Records every wait instead of sleeping.
#[derive(Debug, Default)]
pub struct RecordingSleeper(pub Mutex<Vec<Duration>>);

impl RecordingSleeper {
    /// The waits asked for so far.
    pub fn waits(&self) -> Vec<Duration> {
        self.0.lock().unwrap().clone()
    }
}

impl Sleeper for RecordingSleeper {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        self.0.lock().unwrap().push(duration);
        Box::pin(async {})
    }
}

/// Records every masked secret.
#[derive(Debug, Default)]
pub struct RecordingMask(pub Mutex<Vec<String>>);

impl RecordingMask {
    /// The secrets masked so far.
    pub fn masked(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

impl MaskSink for RecordingMask {
    fn mask(&self, secret: &str) {
        self.0.lock().unwrap().push(secret.to_owned());
    }
}

/// The real time plus an adjustable offset.
#[derive(Debug, Default)]
pub struct ShiftedClock(pub Mutex<Duration>);

impl ShiftedClock {
    /// From now on, the clock is `offset` ahead.
    pub fn shift(&self, offset: Duration) {
        *self.0.lock().unwrap() = offset;
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> SystemTime {
        SystemTime::now() + *self.0.lock().unwrap()
    }
}

/// The test App's key pair (PKCS#1 private PEM, SPKI public PEM), generated once per test binary.
pub fn app_keys() -> &'static (String, String) {
    static KEYS: OnceLock<(String, String)> = OnceLock::new();
    KEYS.get_or_init(|| {
        use rsa::pkcs1::{EncodeRsaPrivateKey, LineEnding};
        use rsa::pkcs8::EncodePublicKey;
        let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
        let private_pem = private.to_pkcs1_pem(LineEnding::LF).unwrap().to_string();
        let public_pem = private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .unwrap();
        (private_pem, public_pem)
    })
}

/// `owner/name`.
pub fn repo(text: &str) -> RepoId {
    RepoId::parse(text).unwrap()
}

/// A scope of one repository.
pub fn scope(repository: &str, permissions: &[(Permission, Access)]) -> TokenScope {
    TokenScope::new(
        repo(repository),
        permissions.iter().copied().collect::<BTreeMap<_, _>>(),
    )
}

/// Every permission, write.
pub fn all_write() -> Vec<(Permission, Access)> {
    vec![
        (Permission::Contents, Access::Write),
        (Permission::PullRequests, Access::Write),
        (Permission::Issues, Access::Write),
    ]
}

/// Repositories, a sandbox and a way to make clients.
pub struct Fixture {
    pub temp: tempfile::TempDir,
    pub sandbox: RunningSandbox,
    pub images: Images,
    pub sleeper: Arc<RecordingSleeper>,
    pub mask: Arc<RecordingMask>,
    pub clock: Arc<ShiftedClock>,
    pub github: GitHub,
}

impl Fixture {
    /// A sandbox without App auth and a plain-token connection.
    pub async fn new() -> Self {
        Self::start(None, Credentials::Token(TOKEN.to_owned().into())).await
    }

    /// A sandbox with the test App and an App connection (inside "Actions", masks recorded).
    pub async fn with_app() -> Self {
        let (private_pem, public_pem) = app_keys().clone();
        let app = AppConfig {
            app_id: APP_ID,
            slug: APP_SLUG.to_owned(),
            public_key_pem: public_pem,
        };
        let credentials = Credentials::App {
            app_id: APP_ID,
            private_key: private_pem.into(),
        };
        Self::start(Some(app), credentials).await
    }

    async fn start(app: Option<AppConfig>, credentials: Credentials) -> Self {
        let temp = tempfile::tempdir().unwrap();
        let images = make_repositories(temp.path());
        let mut config = SandboxConfig::new(temp.path());
        if app.is_some() {
            config = config.with_workflow_token(WORKFLOW_TOKEN, "acme/images");
        }
        config.app = app;
        let sandbox = Sandbox::start(config).await.unwrap();
        sandbox.check_contract();
        let sleeper = Arc::new(RecordingSleeper::default());
        let mask = Arc::new(RecordingMask::default());
        let clock = Arc::new(ShiftedClock::default());
        let parts = Parts {
            sleeper: sleeper.clone(),
            mask: mask.clone(),
            clock: clock.clone(),
        };
        let github = connect(&sandbox.api_url(), &credentials, &parts, |_| {});
        Self {
            temp,
            sandbox,
            images,
            sleeper,
            mask,
            clock,
            github,
        }
    }

    /// A connection to this sandbox with a changed configuration.
    pub fn github_with(
        &self,
        credentials: &Credentials,
        change: impl FnOnce(&mut GitHubConfig),
    ) -> GitHub {
        let parts = Parts {
            sleeper: self.sleeper.clone(),
            mask: self.mask.clone(),
            clock: self.clock.clone(),
        };
        connect(&self.sandbox.api_url(), credentials, &parts, change)
    }

    /// A client for `acme/images` with every permission.
    pub async fn client(&self) -> GitHubClient {
        self.github
            .client_for(scope("acme/images", &all_write()))
            .await
            .unwrap()
    }

    /// The bare git directory of `acme/images`.
    pub fn images_dir(&self) -> PathBuf {
        self.temp.path().join("acme/images.git")
    }

    /// git in the bare `acme/images`.
    pub fn git(&self, args: &[&str]) -> String {
        git(&self.images_dir(), args)
    }

    /// Commits `path` with `content` on `main` of bare `ROOT/acme/{name}.git`.
    pub fn commit_file(&self, name: &str, path: &str, content: &str) {
        let work = self.temp.path().join(format!("work-{name}"));
        let bare = self.temp.path().join(format!("acme/{name}.git"));
        let bare_text = bare.to_string_lossy().into_owned();
        let work_text = work.to_string_lossy().into_owned();
        git(self.temp.path(), &["clone", "-q", &bare_text, &work_text]);
        write(&work, path, content);
        commit_all(&work, "Add a file");
        git(&work, &["push", "-q", "origin", "main"]);
        std::fs::remove_dir_all(&work).unwrap();
    }

    /// A client for `repository` whose token carries `permissions`.
    pub async fn client_scoped(
        &self,
        repository: &str,
        permissions: &[(Permission, Access)],
    ) -> GitHubClient {
        self.github
            .client_for(scope(repository, permissions))
            .await
            .unwrap()
    }

    /// Adds a fault `rule` to the sandbox.
    pub fn fault(&self, rule: FaultRule) {
        self.sandbox.faults().add(rule).unwrap();
    }

    /// How many logged requests had `method` and `path`.
    pub fn count(&self, method: &str, path: &str) -> usize {
        self.count_where(|entry| entry.method == method && entry.path == path)
    }

    /// How many logged requests `matches` accepts.
    pub fn count_where(&self, matches: impl Fn(&LoggedRequest) -> bool) -> usize {
        self.sandbox
            .request_log()
            .iter()
            .filter(|entry| matches(entry))
            .count()
    }

    /// How many installation tokens were minted.
    pub fn mints(&self) -> usize {
        self.count_where(|entry| entry.path.ends_with("/access_tokens"))
    }
}

/// Every test ends by proving the sandbox answered (and the client asked) as GitHub's own
/// description says: a violation fails the test that met it, naming operation, status and pointer.
impl Drop for Fixture {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        // A test that never reached the sandbox has nothing to prove here.
        if self.sandbox.request_log().is_empty() {
            return;
        }
        if let Some(report) = self.sandbox.contract_report() {
            panic!("{report}");
        }
    }
}

/// The replaceable parts a fixture's connections share.
struct Parts {
    sleeper: Arc<RecordingSleeper>,
    mask: Arc<RecordingMask>,
    clock: Arc<ShiftedClock>,
}

fn connect(
    api_url: &str,
    credentials: &Credentials,
    parts: &Parts,
    change: impl FnOnce(&mut GitHubConfig),
) -> GitHub {
    let mut config = GitHubConfig::for_api(api_url);
    config.in_actions = true;
    config.retry = RetryPolicy {
        base_delay: Duration::from_millis(1),
        ..RetryPolicy::default()
    };
    change(&mut config);
    let hooks = Hooks {
        sleeper: Some(parts.sleeper.clone()),
        mask: Some(parts.mask.clone()),
        clock: Some(parts.clock.clone()),
        ..Hooks::default()
    };
    GitHub::with_hooks(config, credentials, hooks).unwrap()
}
