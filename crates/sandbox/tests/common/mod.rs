//! Shared test fixture: a temp root with git repositories made by the git CLI, and a running sandbox.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use reqwest::header::HeaderName;
use serde_json::Value;
use valkey_bot_sandbox::{
    AppConfig, FaultAction, FaultRule, RunningSandbox, Sandbox, SandboxConfig,
};

/// The App id the App-auth fixtures use.
pub const APP_ID: u64 = 4242;
/// The App slug the App-auth fixtures use.
pub const APP_SLUG: &str = "valkey-bot";

/// Runs git in `dir` with a fixed identity and dates; panics on failure; returns trimmed stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Test Dev")
        .env("GIT_AUTHOR_EMAIL", "dev@example.com")
        .env("GIT_COMMITTER_NAME", "Test Dev")
        .env("GIT_COMMITTER_EMAIL", "dev@example.com")
        .env("GIT_AUTHOR_DATE", "2026-01-02T03:04:05Z")
        .env("GIT_COMMITTER_DATE", "2026-01-02T03:04:05Z")
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

/// Writes `path` (creating parents) under `dir`.
pub fn write(dir: &Path, path: &str, content: &str) {
    let full = dir.join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(full, content).unwrap();
}

/// Commits everything in work tree `work` with `message`; returns the commit id.
pub fn commit_all(work: &Path, message: &str) -> String {
    git(work, &["add", "-A"]);
    git(work, &["commit", "-q", "-m", message]);
    git(work, &["rev-parse", "HEAD"])
}

/// Ids of the commits the standard fixture repository `acme/widgets` holds.
pub struct Widgets {
    /// First commit on main: README, 9.1/debian/Dockerfile, 9.1/alpine/Dockerfile.
    pub first: String,
    /// Second commit on main (README changed); tagged `1.0.0`; main's head.
    pub main: String,
    /// The head of branch `feature` (adds feature.txt on top of main).
    pub feature: String,
    /// The head of branch `release/9.1` (same as `first`).
    pub release: String,
}

/// A temp root, its repositories, and a sandbox serving them.
pub struct Fixture {
    pub temp: tempfile::TempDir,
    pub sandbox: RunningSandbox,
    pub client: reqwest::Client,
    pub widgets: Widgets,
}

/// Makes `ROOT/acme/widgets.git` (bare, default branch main) and `ROOT/acme/gadgets` (with a work tree).
pub fn make_repositories(root: &Path) -> Widgets {
    let bare = root.join("acme/widgets.git");
    std::fs::create_dir_all(&bare).unwrap();
    git(&bare, &["init", "-q", "--bare", "-b", "main"]);
    let work = root.join("work-widgets");
    std::fs::create_dir_all(&work).unwrap();
    git(&work, &["init", "-q", "-b", "main"]);
    write(&work, "README", "hello\n");
    write(&work, "9.1/debian/Dockerfile", "FROM debian:bookworm\n");
    write(&work, "9.1/alpine/Dockerfile", "FROM alpine:3.22\n");
    let first = commit_all(&work, "First commit");
    git(&work, &["branch", "release/9.1"]);
    write(&work, "README", "hello\nworld\n");
    let main = commit_all(&work, "Second commit\n\nWith a body.");
    git(&work, &["tag", "1.0.0"]);
    git(&work, &["checkout", "-q", "-b", "feature"]);
    write(&work, "feature.txt", "feature\n");
    let feature = commit_all(&work, "Add feature");
    git(&work, &["checkout", "-q", "main"]);
    let bare_text = bare.to_string_lossy().into_owned();
    git(
        &work,
        &[
            "push",
            "-q",
            &bare_text,
            "main",
            "feature",
            "release/9.1",
            "1.0.0",
        ],
    );
    std::fs::remove_dir_all(&work).unwrap();

    let gadgets = root.join("acme/gadgets");
    std::fs::create_dir_all(&gadgets).unwrap();
    git(&gadgets, &["init", "-q", "-b", "trunk"]);
    write(&gadgets, "gadget.txt", "gadget\n");
    commit_all(&gadgets, "Gadgets");

    Widgets {
        release: first.clone(),
        first,
        main,
        feature,
    }
}

/// The test App config (public key from the fixtures).
pub fn app_config() -> AppConfig {
    AppConfig {
        app_id: APP_ID,
        slug: APP_SLUG.to_owned(),
        public_key_pem: std::fs::read_to_string(fixture_path("app-public-key.pem")).unwrap(),
    }
}

/// A file under tests/fixtures.
pub fn fixture_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

impl Fixture {
    /// The standard repositories and a sandbox without App auth.
    pub async fn new() -> Self {
        Self::with_app(None).await
    }

    /// The standard repositories and a sandbox with `app` configured.
    pub async fn with_app(app: Option<AppConfig>) -> Self {
        Self::with_config(|mut config| {
            config.app = app;
            config
        })
        .await
    }

    /// The standard repositories and a sandbox configured by `configure`.
    pub async fn with_config(configure: impl FnOnce(SandboxConfig) -> SandboxConfig) -> Self {
        let temp = tempfile::tempdir().unwrap();
        let widgets = make_repositories(temp.path());
        let config = configure(SandboxConfig::new(temp.path()));
        let sandbox = Sandbox::start(config).await.unwrap();
        Self {
            temp,
            sandbox,
            client: reqwest::Client::new(),
            widgets,
        }
    }

    /// The root folder.
    pub fn root(&self) -> &Path {
        self.temp.path()
    }

    /// The bare git directory of acme/widgets.
    pub fn widgets_dir(&self) -> PathBuf {
        self.root().join("acme/widgets.git")
    }

    /// `<api>/<path>`.
    pub fn api(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.api_url())
    }

    /// `<base>/<path>`.
    pub fn web(&self, path: &str) -> String {
        format!("{}{path}", self.sandbox.base_url())
    }

    /// GET an API path; returns (status, JSON body).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self.client.get(self.api(path)).send().await.unwrap();
        decode(response).await
    }

    /// Sends `method` with a JSON body to an API path; returns (status, JSON body or Null).
    pub async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        let response = self
            .client
            .request(method, self.api(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        decode(response).await
    }

    /// POST JSON.
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, body).await
    }

    /// PATCH JSON.
    pub async fn patch(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::PATCH, path, body).await
    }

    /// POST JSON to `/repos/acme/widgets/git/<kind>` (`blobs`, `trees`, `commits`, `refs`).
    pub async fn post_git(&self, kind: &str, body: Value) -> (u16, Value) {
        self.post(&format!("/repos/acme/widgets/git/{kind}"), body)
            .await
    }

    /// PATCH JSON to `/repos/acme/widgets/git/refs/heads/<branch>` (moves the branch).
    pub async fn patch_head(&self, branch: &str, body: Value) -> (u16, Value) {
        self.patch(
            &format!("/repos/acme/widgets/git/refs/heads/{branch}"),
            body,
        )
        .await
    }

    /// Sends `method` to an API path with an optional bearer `token` and an optional JSON body;
    /// returns (status, JSON body or Null).
    pub async fn call_as(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self.client.request(method, self.api(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        decode(request.send().await.unwrap()).await
    }

    /// GET an API path with bearer `token`; returns (status, JSON body).
    pub async fn get_as(&self, path: &str, token: &str) -> (u16, Value) {
        self.call_as(reqwest::Method::GET, path, Some(token), None)
            .await
    }

    /// POST JSON to an API path with bearer `token`; returns (status, JSON body).
    pub async fn post_as(&self, path: &str, token: &str, body: Value) -> (u16, Value) {
        self.call_as(reqwest::Method::POST, path, Some(token), Some(body))
            .await
    }

    /// GET a full URL (from [`Fixture::web`] or [`Fixture::api`]) with `headers`; the response as it came.
    pub async fn fetch_with(&self, url: &str, headers: &[(HeaderName, &str)]) -> reqwest::Response {
        let mut request = self.client.get(url);
        for (name, value) in headers {
            request = request.header(name, *value);
        }
        request.send().await.unwrap()
    }

    /// GET a full URL without extra headers; the response as it came.
    pub async fn fetch(&self, url: &str) -> reqwest::Response {
        self.fetch_with(url, &[]).await
    }

    /// GET a full URL; the whole body.
    pub async fn fetch_bytes(&self, url: &str) -> bytes::Bytes {
        self.fetch(url).await.bytes().await.unwrap()
    }

    /// GET a web path (`<base>/<path>`); the response as it came.
    pub async fn get_web(&self, path: &str) -> reqwest::Response {
        self.fetch(&self.web(path)).await
    }

    /// POST `body` as JSON to a web path (`<base>/<path>`); the response as it came.
    pub async fn post_web(&self, path: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.web(path))
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Sends `GET target` to this sandbox over plain TCP, exactly as written (see [`raw_get`]).
    pub async fn raw_get(&self, target: &str) -> (String, Vec<u8>) {
        raw_get(self.sandbox.base_url(), target).await
    }

    /// Runs git in the bare acme/widgets repository; returns trimmed stdout.
    pub fn widgets_git(&self, args: &[&str]) -> String {
        git(&self.widgets_dir(), args)
    }

    /// Writes `content` to `_downloads/<name>` under the root, creating the folders.
    pub fn put_download(&self, name: &str, content: impl AsRef<[u8]>) {
        let file = self.root().join("_downloads").join(name);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, content).unwrap();
    }

    /// Adds `rule` to the fault plan; panics when the plan refuses it.
    pub fn add_fault(&self, rule: FaultRule) {
        self.sandbox.faults().add(rule).unwrap();
    }

    /// Applies `action` to the next `times` requests that match `method` and the path glob `path`.
    pub fn fault_times(&self, method: &str, path: &str, action: FaultAction, times: u32) {
        self.add_fault(FaultRule::new(method, path, action).times(times));
    }
}

/// A status fault: answers `status`, with `retry-after` when given, after the write when `after_effect`.
pub fn status_fault(status: u16, retry_after_secs: Option<u64>, after_effect: bool) -> FaultAction {
    FaultAction::Status {
        status,
        retry_after_secs,
        after_effect,
    }
}

/// Asserts that a raw response head carries `line` (the head is compared in lower case).
pub fn assert_head_has(head: &str, line: &str) {
    assert!(head.to_ascii_lowercase().contains(line), "{head}");
}

/// (status, JSON body, Null when empty).
pub async fn decode(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or_else(|_| {
            panic!(
                "status {status}: body is not JSON: {}",
                String::from_utf8_lossy(&bytes)
            )
        })
    };
    (status, body)
}

/// Sends `GET target` over a plain TCP connection, exactly as written (no client-side path
/// normalization); returns the response head and whatever body bytes arrived before the close.
pub async fn raw_get(base_url: &str, target: &str) -> (String, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = base_url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let request = format!("GET {target} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    // The server may reset the connection after a cut body; keep what arrived.
    let _ = stream.read_to_end(&mut answer).await;
    let split = answer
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .unwrap_or(answer.len());
    let body = answer.get(split + 4..).unwrap_or_default().to_vec();
    (String::from_utf8_lossy(&answer[..split]).into_owned(), body)
}

/// Now, in Unix seconds.
pub fn unix_now() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap()
}

/// A JWT for the test App (RS256, iss = its id) with `iat` and `exp` these seconds from now.
pub fn app_jwt_at(iat: i64, exp: i64) -> String {
    let pem = std::fs::read(fixture_path("app-private-key.pem")).unwrap();
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(&pem).unwrap();
    let now = unix_now();
    let claims = serde_json::json!({ "iat": now + iat, "exp": now + exp, "iss": APP_ID });
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &key,
    )
    .unwrap()
}
