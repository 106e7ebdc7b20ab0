//! What a dry run prints: every planned change as a unified diff per repository and file.

use std::fmt::Write as _;

use similar::TextDiff;
use valkey_bot_core::Plan;
use valkey_bot_core::plan::{Delivery, Effect, FileEdit};

/// Renders every change of `plan` as unified diffs, under a heading per repository and commit.
pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    for change in plan.changes.iter().filter(|c| !c.is_noop()) {
        let delivery = match &change.delivery {
            Delivery::Commit => format!("commit to `{}`", change.base_branch),
            Delivery::PullRequest(pr) => format!(
                "pull request `{}` from `{}` into `{}`",
                pr.title, pr.branch, change.base_branch
            ),
        };
        let _ = writeln!(
            out,
            "=== {} ({delivery}, based on {})",
            change.repo, change.base_commit
        );
        for commit in change
            .commits
            .iter()
            .filter(|c| c.edits.iter().any(|e| !e.is_noop()))
        {
            let _ = writeln!(
                out,
                "--- commit: {}",
                commit.message.lines().next().unwrap_or_default()
            );
            for edit in commit.edits.iter().filter(|e| !e.is_noop()) {
                out.push_str(&file_diff(edit));
            }
        }
    }
    for effect in &plan.effects {
        match effect {
            Effect::Dispatch {
                repo,
                event_type,
                payload,
            } => {
                let _ = writeln!(
                    out,
                    "=== {repo}: repository_dispatch `{event_type}` with {payload}"
                );
            }
            Effect::RunWorkflow(run) => {
                let inputs: Vec<String> = run
                    .inputs
                    .iter()
                    .map(|(name, value)| format!("{name}={value:?}"))
                    .collect();
                let _ = writeln!(
                    out,
                    "=== {}: workflow_dispatch `{}` on `{}` with {}, then wait for the run (none if a run titled {:?} already succeeded)",
                    run.repo,
                    run.workflow,
                    run.reference,
                    inputs.join(" "),
                    run.marker
                );
            }
        }
    }
    out
}

/// One file's change as a unified diff (`a/` before, `b/` after; `/dev/null` for none).
pub(crate) fn file_diff(edit: &FileEdit) -> String {
    let old_name = if edit.before.is_some() {
        format!("a/{}", edit.path)
    } else {
        "/dev/null".into()
    };
    let new_name = if edit.after.is_some() {
        format!("b/{}", edit.path)
    } else {
        "/dev/null".into()
    };
    let text = |bytes: &Option<bytes::Bytes>| {
        bytes
            .as_ref()
            .map(|b| std::str::from_utf8(b).map(str::to_owned))
    };
    match (text(&edit.before), text(&edit.after)) {
        (Some(Err(_)), _) | (_, Some(Err(_))) => format!("Binary file {} changed\n", edit.path),
        (before, after) => {
            let before = before.and_then(Result::ok).unwrap_or_default();
            let after = after.and_then(Result::ok).unwrap_or_default();
            let diff = TextDiff::from_lines(&before, &after);
            let mut unified = diff.unified_diff();
            unified.context_radius(3).header(&old_name, &new_name);
            let mut rendered = unified.to_string();
            // Keep the output line-terminated whatever the files' last lines are.
            if !rendered.ends_with('\n') {
                rendered.push('\n');
            }
            rendered
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use valkey_bot_core::RepoId;
    use valkey_bot_core::plan::{PlannedCommit, RepoChange};

    #[test]
    fn renders_a_unified_diff_per_file() {
        let mut plan = Plan::default();
        plan.changes.push(RepoChange {
            repo: RepoId::parse("valkey-io/valkey-hashes").unwrap(),
            base_branch: "main".into(),
            base_commit: "abc".into(),
            commits: vec![PlannedCommit {
                message: "Update hash for 9.1.1".into(),
                edits: vec![FileEdit {
                    path: "README".into(),
                    before: Some(Bytes::from_static(b"# header\n\nhash a\n")),
                    after: Some(Bytes::from_static(b"# header\n\nhash a\nhash b\n")),
                    executable: false,
                }],
            }],
            delivery: Delivery::Commit,
        });
        assert_eq!(
            render(&plan),
            "=== valkey-io/valkey-hashes (commit to `main`, based on abc)\n\
             --- commit: Update hash for 9.1.1\n\
             --- a/README\n+++ b/README\n@@ -1,3 +1,4 @@\n # header\n \n hash a\n+hash b\n"
        );
    }
}
