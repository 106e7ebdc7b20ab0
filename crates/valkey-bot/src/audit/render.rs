//! The audit as people read it: a table of subject (version or `all`) × check, then every drift
//! with what is wrong and the command or hand edit that repairs it, then what could not be
//! checked, then the request counts.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use valkey_bot_core::Version;
use valkey_bot_core::audit::{Fix, Subject, Verdict};

use super::AuditReport;
use crate::notify::actions::inert;

/// How `fix` is carried out for `task`: the rerun command, or the hand edit.
pub fn fix_text(task: &str, fix: &Fix) -> String {
    match fix {
        Fix::Rerun { version } => format!("valkey-bot run --version {version} --only {task}"),
        Fix::ByHand { how } => format!("by hand: {how}"),
    }
}

/// The subjects in table order: `all` first, then versions in release order.
fn subjects(report: &AuditReport) -> Vec<Subject> {
    let set: BTreeSet<Subject> = report.findings().map(|(_, f)| f.subject.clone()).collect();
    set.into_iter().collect()
}

/// The columns, `task/check`, in the order the audits made them.
fn columns(report: &AuditReport) -> Vec<(String, &'static str)> {
    let mut columns: Vec<(String, &'static str)> = Vec::new();
    for (task, finding) in report.findings() {
        if !columns
            .iter()
            .any(|(t, c)| t == task && *c == finding.check)
        {
            columns.push((task.to_owned(), finding.check));
        }
    }
    columns
}

/// The plain-text report: the table, the drifts with their fixes, the unknowns, the counts.
pub fn table(report: &AuditReport) -> String {
    let columns = columns(report);
    let headers: Vec<String> = columns.iter().map(|(t, c)| format!("{t}/{c}")).collect();
    let subjects = subjects(report);
    let first = subjects
        .iter()
        .map(|s| s.to_string().len())
        .chain([7])
        .max()
        .unwrap_or(7);
    let mut out = String::new();
    let _ = write!(out, "| {:first$} |", "version");
    for header in &headers {
        let _ = write!(out, " {header} |");
    }
    out.push('\n');
    let _ = write!(out, "| {} |", "-".repeat(first));
    for header in &headers {
        let _ = write!(out, " {} |", "-".repeat(header.len()));
    }
    out.push('\n');
    for subject in &subjects {
        let _ = write!(out, "| {:first$} |", subject.to_string());
        for ((task, check), header) in columns.iter().zip(&headers) {
            let cell = report
                .findings()
                .filter(|(t, f)| t == task && f.check == *check && f.subject == *subject)
                .map(|(_, f)| &f.verdict)
                .max_by_key(|v| v.severity())
                .map_or("", Verdict::label);
            let _ = write!(out, " {cell:width$} |", width = header.len());
        }
        out.push('\n');
    }
    out.push('\n');
    let mut drifts = 0;
    for (task, finding) in report.findings() {
        if let Verdict::Drift { what, at, fix } = &finding.verdict {
            drifts += 1;
            let at = at.as_ref().map(|a| format!(" ({a})")).unwrap_or_default();
            let _ = writeln!(
                out,
                "drift: {} {task}/{}{at}: {}\n  fix: {}",
                finding.subject,
                finding.check,
                inert(what),
                inert(&fix_text(task, fix))
            );
        }
    }
    for (task, finding) in report.findings() {
        if let Verdict::Unknown { why } = &finding.verdict {
            let _ = writeln!(
                out,
                "unknown: {} {task}/{}: {}",
                finding.subject,
                finding.check,
                inert(why)
            );
        }
    }
    let requests: Vec<String> = report
        .requests
        .iter()
        .map(|(repo, n)| format!("{repo} {n}"))
        .collect();
    let _ = writeln!(
        out,
        "\n{} release(s) audited in {} ms; requests: {}",
        report.releases.len(),
        report.duration_ms,
        requests.join(", ")
    );
    let _ = writeln!(
        out,
        "{}",
        if report.consistent {
            "everything is consistent".to_owned()
        } else {
            format!("NOT consistent: {drifts} drift(s)")
        }
    );
    out
}

/// The issue body: what drifted and how to repair it, as Markdown (outside text escaped).
pub fn markdown(report: &AuditReport) -> String {
    use crate::report::markdown_escape;
    let mut out = String::from(
        "The scheduled `valkey-bot audit` found releases whose repositories disagree with what the tasks write. \
         It updates this issue on every run and closes it when everything is consistent again.\n\n",
    );
    let mut by_version: Vec<(&Subject, &str, &str, String, String)> = Vec::new();
    for (task, finding) in report.findings() {
        match &finding.verdict {
            Verdict::Drift { what, at, fix } => {
                let at = at.as_ref().map(|a| format!(" (`{a}`)")).unwrap_or_default();
                by_version.push((
                    &finding.subject,
                    task,
                    finding.check,
                    format!("{}{at}", markdown_escape(what)),
                    match fix {
                        Fix::Rerun { .. } => format!("`{}`", fix_text(task, fix)),
                        Fix::ByHand { .. } => markdown_escape(&fix_text(task, fix)),
                    },
                ));
            }
            Verdict::Unknown { why } => by_version.push((
                &finding.subject,
                task,
                finding.check,
                format!("could not be checked: {}", markdown_escape(why)),
                "rerun the audit once the repository or host answers".to_owned(),
            )),
            _ => {}
        }
    }
    out.push_str("| version | check | what | fix |\n| --- | --- | --- | --- |\n");
    for (subject, task, check, what, fix) in by_version {
        let _ = writeln!(out, "| {subject} | {task}/{check} | {what} | {fix} |");
    }
    let _ = writeln!(
        out,
        "\n{} release(s) audited (newest: {}).",
        report.releases.len(),
        report
            .releases
            .iter()
            .filter_map(|v| Version::parse(v).ok())
            .max()
            .map_or_else(|| "none".to_owned(), |v| v.to_string())
    );
    out
}
