//! The table printed at the end of a run: task, outcome, duration, and what it changed or why it failed.

use std::fmt::Write as _;

use crate::deliver::{Delivered, PullRequestState, WorkflowState};
use crate::outcome::{Outcome, RunReport, TaskReport, humanize};

/// Escapes outside text for one line of Markdown (a list item, a table cell): no line breaks, and
/// every character that starts HTML, a link or image, emphasis, code or a cell is
/// backslash-escaped, so it shows as written and links stay inert.
pub fn markdown_escape(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
        .chars()
        .flat_map(|c| match c {
            '<' | '>' | '[' | ']' | '*' | '_' | '`' | '|' | '\\' | '&' => vec!['\\', c],
            c => vec![c],
        })
        .collect()
}

/// `diff` as a fenced Markdown `diff` block, at most `max_bytes` of it (cut at a line, with a
/// note of what was left out). A fence inside it is shown as `'''`, so the diff cannot end the
/// block and its text is never rendered as Markdown or HTML.
pub fn diff_block(diff: &str, max_bytes: usize) -> String {
    let mut shown = diff;
    if shown.len() > max_bytes {
        let mut cut = max_bytes;
        while !shown.is_char_boundary(cut) {
            cut -= 1;
        }
        shown = &shown[..shown[..cut].rfind('\n').map_or(0, |at| at + 1)];
    }
    let mut out = format!("```diff\n{}", shown.replace("```", "'''"));
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str("```\n");
    if shown.len() < diff.len() {
        let _ = writeln!(
            out,
            "\n({} more bytes of the diff are in the run's log.)",
            diff.len() - shown.len()
        );
    }
    out
}

/// One line saying what a task changed, or why it failed or was skipped.
pub fn detail(task: &TaskReport) -> String {
    match &task.outcome {
        Outcome::Failed { error, .. } => error.clone(),
        Outcome::Skipped { reason } => reason.clone(),
        Outcome::Planned if task.diff.as_deref().is_some_and(|d| !d.is_empty()) => {
            "changes planned (see diff)".into()
        }
        Outcome::Planned => "no change needed".into(),
        Outcome::Shadow { detail, .. } => detail.clone(),
        _ if task.delivered.is_empty() => task
            .notes
            .first()
            .cloned()
            .unwrap_or_else(|| "nothing to write".into()),
        _ => task
            .delivered
            .iter()
            .map(describe)
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// Says what one delivery did.
pub fn describe(delivered: &Delivered) -> String {
    match delivered {
        Delivered::Committed {
            repo,
            branch,
            commit,
            commits,
        } => format!(
            "{commits} commit(s) to {repo}@{branch} ({})",
            commit.get(..12).unwrap_or(commit)
        ),
        Delivered::UpToDate { repo } => format!("{repo} already up to date"),
        Delivered::PullRequest { url, state, .. } => {
            let state = match state {
                PullRequestState::Created => "opened",
                PullRequestState::Updated => "updated",
                PullRequestState::Unchanged => "unchanged",
            };
            format!("pull request {state}: {url}")
        }
        Delivered::Dispatched { repo, event_type } => format!("sent `{event_type}` to {repo}"),
        Delivered::Workflow {
            workflow,
            url,
            state,
            ..
        } => match state {
            WorkflowState::Running { .. } => format!("workflow `{workflow}` still running: {url}"),
            WorkflowState::Succeeded { dispatched: true } => {
                format!("workflow `{workflow}` ran and succeeded: {url}")
            }
            WorkflowState::Succeeded { dispatched: false } => {
                format!("workflow `{workflow}` (a run started earlier) succeeded: {url}")
            }
            WorkflowState::AlreadySucceeded => {
                format!("workflow `{workflow}` already succeeded for this release: {url}")
            }
        },
    }
}

/// The web address of a delivery: the commit, or the pull request.
pub fn link(delivered: &Delivered, server_url: &str) -> Option<String> {
    match delivered {
        Delivered::Committed { repo, commit, .. } => {
            Some(format!("{server_url}/{repo}/commit/{commit}"))
        }
        Delivered::PullRequest { url, .. } | Delivered::Workflow { url, .. } => Some(url.clone()),
        Delivered::UpToDate { .. } | Delivered::Dispatched { .. } => None,
    }
}

/// The run as an aligned plain-text table.
pub fn table(report: &RunReport) -> String {
    let rows: Vec<[String; 4]> = report
        .tasks
        .iter()
        .map(|t| {
            [
                t.name.clone(),
                t.outcome.label().to_owned(),
                humanize_precise(t),
                crate::notify::actions::inert(&detail(t)),
            ]
        })
        .collect();
    let header = ["task", "outcome", "duration", "details"].map(str::to_owned);
    let widths: Vec<usize> = (0..3)
        .map(|i| {
            rows.iter()
                .chain([&header])
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in [&header].into_iter().chain(&rows) {
        let _ = writeln!(
            out,
            "{:w0$}  {:w1$}  {:>w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
    }
    out
}

fn humanize_precise(task: &TaskReport) -> String {
    if task.duration.as_secs() == 0 {
        format!("{:.1}s", task.duration.as_secs_f64())
    } else {
        humanize(task.duration)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_diff_is_cut_at_a_line_and_says_how_much_is_left_out() {
        let diff = "+one\n+two\n+three\n";
        assert_eq!(diff_block(diff, 100), "```diff\n+one\n+two\n+three\n```\n");
        assert_eq!(
            diff_block(diff, 7),
            "```diff\n+one\n```\n\n(12 more bytes of the diff are in the run's log.)\n"
        );
        // A cut inside a multi-byte character still lands on a line.
        assert_eq!(
            diff_block("+é\n+é\n", 6),
            "```diff\n+é\n```\n\n(4 more bytes of the diff are in the run's log.)\n"
        );
    }
}
