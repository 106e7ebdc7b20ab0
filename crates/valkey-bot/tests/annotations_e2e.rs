//! GitHub Actions annotations for a failed task. Alone in its test binary: `tracing` caches
//! per-callsite interest process-wide, so a capturing subscriber must not share the process with
//! tests running without one.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use valkey_bot::notify::actions::ActionsFormat;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn a_failed_task_is_an_error_annotation_carrying_task_version_and_repository() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .event_format(ActionsFormat)
        .with_writer(move || writer.clone())
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();

    let stage = stage(&["9.1.0"]).await;
    let readme = file(&stage.root, "valkey-io/valkey-hashes", "main", "README");
    let forged = format!(
        "{readme}hash valkey-9.1.0.tar.gz sha256 {} {}/valkey-io/valkey/archive/refs/tags/9.1.0.tar.gz\n",
        "ab".repeat(32),
        stage.sandbox.base_url()
    );
    commit_file(
        &stage.root,
        "valkey-io/valkey-hashes",
        "main",
        "README",
        &forged,
        "Forge",
    );
    let report = run(&stage, &request("9.1.0", &["checksums"])).await;
    assert!(report.failed());
    stage.shutdown().await;

    let log = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    let error = log
        .lines()
        .find(|l| l.starts_with("::error "))
        .unwrap_or_else(|| panic!("{log}"));
    assert!(
        error.starts_with("::error title=valkey-bot%3A checksums::"),
        "{error}"
    );
    assert!(
        error.contains("[task=checksums version=9.1.0 repository=valkey-io/valkey-hashes]"),
        "{error}"
    );
    assert!(
        error.contains("security check failed: valkey-9.1.0.tar.gz is already recorded"),
        "{error}"
    );
}
