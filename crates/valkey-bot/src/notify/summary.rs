//! The run summary in Markdown, for the GitHub Actions run page (`GITHUB_STEP_SUMMARY`).

use std::io::Write as _;
use std::path::Path;

use crate::outcome::{Outcome, RunReport};
use crate::report::{detail, link};

/// The summary: one row per task with outcome, duration, link, and for a failure what to do next.
pub fn markdown(report: &RunReport, server_url: &str) -> String {
    let request = &report.request;
    let mode = if report.dry_run {
        ", dry run: nothing was written"
    } else {
        ""
    };
    let mut out = format!(
        "## valkey-bot: Valkey {} ({}{mode})\n\n| task | outcome | duration | link | details |\n| --- | --- | --- | --- | --- |\n",
        request.version, request.environment
    );
    for task in &report.tasks {
        let icon = match &task.outcome {
            Outcome::Done | Outcome::UpToDate => "✅",
            Outcome::Planned => "📝",
            Outcome::Shadow { verdict, .. } if verdict.agrees() => "👥",
            Outcome::Shadow { .. } => "⚠️",
            Outcome::Skipped { .. } => "⏭️",
            Outcome::Failed { security: true, .. } => "🚨",
            Outcome::Failed { .. } => "❌",
        };
        let links: Vec<String> = task
            .delivered
            .iter()
            .filter_map(|d| link(d, server_url))
            .map(|url| format!("[{}]({url})", url.rsplit('/').next().unwrap_or("link")))
            .collect();
        let mut details = cell(&detail(task));
        if let Outcome::Failed { next_step, .. } = &task.outcome {
            details.push_str(&format!("<br>**Next:** {}", cell(next_step)));
        }
        out.push_str(&format!(
            "| {} | {icon} {} | {:.1}s | {} | {details} |\n",
            task.name,
            task.outcome.label(),
            task.duration.as_secs_f64(),
            links.join(" ")
        ));
    }
    for task in &report.tasks {
        if let Some(diff) = task.diff.as_deref().filter(|d| !d.is_empty()) {
            let what = match task.outcome {
                Outcome::Shadow { .. } => "how the existing change differs (existing → planned)",
                _ => "the planned changes",
            };
            out.push_str(&format!(
                "\n<details><summary>{}: {what}</summary>\n\n{}\n</details>\n",
                task.name,
                crate::report::diff_block(diff, SUMMARY_DIFF_MAX)
            ));
        }
    }
    out
}

/// The most of one task's diff the summary holds (GitHub takes 1 MiB of summary a step).
const SUMMARY_DIFF_MAX: usize = 100_000;

/// The loud warning a `prod` run's summary starts with when no alert can be sent.
pub fn no_alerts_warning() -> String {
    format!(
        "> [!CAUTION]\n> **No alerts are sent for this `prod` run**: `{}` is not set, so a failure or a failed security check reaches nobody but this page. Pass the secret to the run step.\n\n",
        crate::notify::alert::WEBHOOK_VARIABLE
    )
}

/// Makes text safe inside a table cell: no pipes, no line breaks, no HTML, no Markdown (links,
/// images and emphasis are shown as written, never live).
fn cell(text: &str) -> String {
    crate::report::markdown_escape(text)
}

/// Appends the summary to the file GitHub Actions shows on the run page.
pub fn append(path: &Path, markdown: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(markdown.as_bytes())
}
