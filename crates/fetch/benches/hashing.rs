//! Hashing throughput: our streaming SHA-256 against `sha256sum` and `openssl dgst -sha256`.
//!
//! Run: `cargo bench -p valkey-bot-fetch --bench hashing [-- BYTES]` (or `FETCH_BENCH_BYTES`),
//! default 1 GiB. The file is generated in `FETCH_BENCH_DIR` (default: the temp dir) and
//! removed afterwards. Each measurement is the best of 3 runs, after one warm-up read so the
//! file is in the page cache for every contender.

use std::error::Error;
use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use valkey_bot_fetch::{FetchPolicy, Fetcher, ProgressMode, StreamHasher, Url, digest_reader};

type Res<T> = Result<T, Box<dyn Error>>;

const RUNS: usize = 3;

fn main() -> Res<()> {
    let bytes: u64 = match std::env::args().skip(1).find(|a| !a.starts_with('-')) {
        Some(arg) => arg.parse()?,
        None => match std::env::var("FETCH_BENCH_BYTES") {
            Ok(v) => v.parse()?,
            Err(_) => 1 << 30,
        },
    };
    let dir = match std::env::var_os("FETCH_BENCH_DIR") {
        Some(d) => tempfile::tempdir_in(d)?,
        None => tempfile::tempdir()?,
    };
    let path = dir.path().join("bench.bin");
    generate(&path, bytes)?;
    let _ = std::fs::read(&path)?; // warm the page cache

    println!(
        "file: {} bytes ({:.0} MiB), best of {RUNS} runs",
        bytes,
        bytes as f64 / MIB
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;

    let mut rows: Vec<(&str, Duration, String)> = Vec::new();
    rows.push(best("openssl dgst -sha256", || {
        tool(&["openssl", "dgst", "-sha256", "-r"], &path)
    })?);
    rows.push(best("sha256sum", || tool(&["sha256sum"], &path))?);
    rows.push(best("StreamHasher, std::fs 256 KiB reads", || {
        sync_file(&path)
    })?);
    rows.push(best("digest_reader, tokio::fs", || {
        rt.block_on(async {
            let file = tokio::fs::File::open(&path).await?;
            Ok(digest_reader(file).await?.0.to_string())
        })
    })?);
    rows.push(best("Fetcher::digest over loopback HTTP", || {
        rt.block_on(over_http(&path, bytes))
    })?);

    let reference = rows[0].1;
    let expected = rows[0].2.clone();
    println!("| method | MB/s | MiB/s | vs openssl |");
    println!("|---|---:|---:|---:|");
    for (name, elapsed, hex) in &rows {
        if *hex != expected {
            return Err(format!("{name} gave {hex}, openssl gave {expected}").into());
        }
        let secs = elapsed.as_secs_f64();
        println!(
            "| {name} | {:.0} | {:.0} | {:.2} |",
            bytes as f64 / secs / 1e6,
            bytes as f64 / secs / MIB,
            reference.as_secs_f64() / secs
        );
    }
    println!("sha256: {expected}");
    Ok(())
}

const MIB: f64 = 1024.0 * 1024.0;

/// Runs `f` `RUNS` times and keeps the fastest, with the hex digest it returned.
fn best(name: &str, mut f: impl FnMut() -> Res<String>) -> Res<(&str, Duration, String)> {
    let mut fastest = Duration::MAX;
    let mut hex = String::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        hex = f()?;
        fastest = fastest.min(start.elapsed());
    }
    eprintln!("{name}: {fastest:?}");
    Ok((name, fastest, hex))
}

/// Pseudo-random (xorshift) content, so nothing compresses or dedupes.
fn generate(path: &Path, bytes: u64) -> Res<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut block = vec![0u8; 1 << 20];
    let mut left = bytes;
    while left > 0 {
        for word in block.chunks_exact_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            word.copy_from_slice(&x.to_le_bytes());
        }
        let n = left.min(block.len() as u64) as usize;
        out.write_all(&block[..n])?;
        left -= n as u64;
    }
    out.flush()?;
    Ok(())
}

/// Runs a coreutils-format hashing tool and returns the hex digest it printed.
fn tool(argv: &[&str], path: &Path) -> Res<String> {
    let out = Command::new(argv[0]).args(&argv[1..]).arg(path).output()?;
    if !out.status.success() {
        return Err(format!(
            "{} failed: {}",
            argv[0],
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let text = String::from_utf8(out.stdout)?;
    Ok(text
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned())
}

fn sync_file(path: &Path) -> Res<String> {
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 256 * 1024];
    let mut hasher = StreamHasher::new();
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(hasher.finish().0.to_string());
        }
        hasher.update(&buf[..n]);
    }
}

/// Serves the file once on 127.0.0.1 from a plain thread (`std::io::copy`, which uses
/// `sendfile` on Linux, so the server costs little) and digests it with a fresh `Fetcher`.
async fn over_http(path: &Path, bytes: u64) -> Res<String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let path = path.to_owned();
    let server = std::thread::spawn(move || -> std::io::Result<()> {
        let (mut socket, _) = listener.accept()?;
        let mut request = [0u8; 4096];
        let _ = socket.read(&mut request)?;
        let head =
            format!("HTTP/1.1 200 OK\r\nContent-Length: {bytes}\r\nConnection: close\r\n\r\n");
        socket.write_all(head.as_bytes())?;
        let mut file = std::fs::File::open(&path)?;
        std::io::copy(&mut file, &mut socket)?;
        Ok(())
    });
    let mut policy = FetchPolicy::new(["127.0.0.1"]);
    policy.max_bytes = bytes;
    policy.retries = 0;
    let fetcher = Fetcher::builder(policy)
        .progress(ProgressMode::Quiet)
        .build()?;
    let url = Url::parse(&format!("http://127.0.0.1:{port}/bench.bin"))?;
    let digested = fetcher.digest(&url).await?;
    server.join().map_err(|_| "server thread panicked")??;
    Ok(digested.sha256.to_string())
}
