//! A tiny loopback HTTP/1.1 server whose every answer is scripted byte for byte, so tests can
//! send truncated bodies, stall, redirect, or fail on purpose. Each connection serves one
//! request and is closed.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use valkey_bot_fetch::{FetchPolicy, Url};

/// A request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    /// Header names lowercased.
    pub headers: HashMap<String, String>,
}

/// One step of an answer.
#[derive(Debug, Clone)]
pub enum Step {
    Write(Vec<u8>),
    Sleep(Duration),
}

/// `handler(request, nth request for this path, counting from 0) -> steps`.
type Handler = dyn Fn(&Seen, usize) -> Vec<Step> + Send + Sync;

pub struct Server {
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    pub async fn start(
        handler: impl Fn(&Seen, usize) -> Vec<Step> + Send + Sync + 'static,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let port = listener.local_addr().expect("local addr").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let log = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let handler = Arc::clone(&handler);
                let log = Arc::clone(&log);
                tokio::spawn(serve(socket, handler, log));
            }
        });
        Self { port, seen }
    }

    pub fn url(&self, path: &str) -> Url {
        Url::parse(&format!("http://127.0.0.1:{}{path}", self.port)).expect("valid URL")
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().expect("log lock").clone()
    }

    pub fn hits(&self, path: &str) -> usize {
        self.requests().iter().filter(|s| s.path == path).count()
    }
}

async fn serve(mut socket: TcpStream, handler: Arc<Handler>, log: Arc<Mutex<Vec<Seen>>>) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = text.split("\r\n");
    let path = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("")
        .to_owned();
    let headers = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let seen = Seen { path, headers };
    let nth = {
        let mut log = log.lock().expect("log lock");
        let nth = log.iter().filter(|s| s.path == seen.path).count();
        log.push(seen.clone());
        nth
    };
    for step in handler(&seen, nth) {
        match step {
            Step::Write(bytes) => {
                if socket.write_all(&bytes).await.is_err() {
                    return;
                }
                let _ = socket.flush().await;
            }
            Step::Sleep(d) => tokio::time::sleep(d).await,
        }
    }
    let _ = socket.shutdown().await;
}

/// Status line and headers, `Connection: close` added.
pub fn head(status: &str, headers: &[(&str, String)]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\nConnection: close\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// 200 with a correct `Content-Length` and extra headers.
pub fn ok_with(body: &[u8], extra: &[(&str, String)]) -> Vec<Step> {
    let mut headers = vec![("Content-Length", body.len().to_string())];
    headers.extend(extra.iter().cloned());
    vec![
        Step::Write(head("200 OK", &headers)),
        Step::Write(body.to_vec()),
    ]
}

/// 200 with a correct `Content-Length`.
pub fn ok(body: &[u8]) -> Vec<Step> {
    ok_with(body, &[])
}

/// A bodiless answer with `status`.
pub fn status(status: &str) -> Vec<Step> {
    vec![Step::Write(head(status, &[("Content-Length", "0".into())]))]
}

/// 302 to `location`.
pub fn redirect(location: &str) -> Vec<Step> {
    vec![Step::Write(head(
        "302 Found",
        &[
            ("Location", location.into()),
            ("Content-Length", "0".into()),
        ],
    ))]
}

/// Declares `body.len()` but sends only the first `sent` bytes, then closes.
pub fn truncated(body: &[u8], sent: usize) -> Vec<Step> {
    vec![
        Step::Write(head(
            "200 OK",
            &[("Content-Length", body.len().to_string())],
        )),
        Step::Write(body[..sent].to_vec()),
    ]
}

/// Deterministic pseudo-random bytes.
pub fn body(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// The SHA-256 of `bytes`, in lowercase hex, computed directly with `sha2`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A test policy: loopback only, small limits, quick timeouts, no backoff to speak of.
pub fn policy() -> FetchPolicy {
    let mut p = FetchPolicy::new(["127.0.0.1", "localhost", "example.com"]);
    p.max_bytes = 1 << 20;
    p.max_redirects = 3;
    p.connect_timeout = Duration::from_secs(5);
    p.read_timeout = Duration::from_secs(10);
    p.retries = 2;
    p.backoff = Duration::from_millis(1);
    p
}
