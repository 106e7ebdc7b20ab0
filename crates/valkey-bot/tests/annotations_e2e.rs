//! GitHub Actions annotations for a failed task. Alone in its test binary: `tracing` caches
//! per-callsite interest process-wide, so a capturing subscriber must not share the process with
//! tests running without one.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use valkey_bot::notify::actions::ActionsFormat;

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
    forge_retag(&stage, "9.1.0");
    let report = run(&stage, &request("9.1.0", &["checksums"])).await;
    assert!(report.failed());
    stage.shutdown().await;

    let log = logs.text();
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
