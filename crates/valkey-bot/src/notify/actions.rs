//! Log lines for GitHub Actions: errors and warnings become `::error`/`::warning` workflow
//! commands (annotations on the run page) titled with the task, other events plain lines. Every
//! line carries the task, version and repository of the span it belongs to.

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

/// Makes text from outside (file names, notes, error details, anything a repository or an event
/// can choose) inert on one line of GitHub Actions output. The runner reads a line break at
/// either `\r` or `\n`, runs `::name::data` when a line starts with it (after spaces), and runs
/// `##[name]data` anywhere in a line: line breaks become a space (`\r` a visible `\r`), a `##[`
/// loses its bracket to a backslash, and a leading `::` gets a backslash in front.
pub fn inert(text: &str) -> String {
    let flat: String = text
        .chars()
        .flat_map(|c| match c {
            '\r' => vec!['\\', 'r'],
            '\n' => vec![' '],
            c => vec![c],
        })
        .collect();
    let flat = flat.replace("##[", "##\\[");
    let indent = flat.len() - flat.trim_start().len();
    if flat[indent..].starts_with("::") {
        format!("{}\\{}", &flat[..indent], &flat[indent..])
    } else {
        flat
    }
}

/// A fresh, unguessable token for `::stop-commands::` (128 random bits, hexadecimal).
pub fn stop_token() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// `text` between `::stop-commands::<token>` and `::<token>::`: the runner runs no workflow
/// command inside, whatever the text holds (a diff of a repository's files), and the text cannot
/// end the fence because it cannot know the token.
pub fn fenced(text: &str) -> String {
    let token = stop_token();
    let newline = if text.ends_with('\n') { "" } else { "\n" };
    format!("::stop-commands::{token}\n{text}{newline}::{token}::\n")
}

/// Escapes the message part of a workflow command.
pub fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property (`title=...`) of a workflow command.
pub fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// A workflow command line: `::error title=...::message`.
pub fn command(name: &str, title: &str, message: &str) -> String {
    format!(
        "::{name} title={}::{}",
        escape_property(title),
        escape_data(message)
    )
}

/// Formats events as GitHub Actions expects them.
pub struct ActionsFormat;

impl<S, N> FormatEvent<S, N> for ActionsFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut context = String::new();
        let mut task = None;
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                if let Some(fields) = extensions
                    .get::<FormattedFields<N>>()
                    .filter(|f| !f.is_empty())
                {
                    task = task.or_else(|| {
                        fields
                            .split_whitespace()
                            .find_map(|f| f.strip_prefix("task="))
                            .map(str::to_owned)
                    });
                    context.push_str(&format!("[{fields}] "));
                }
            }
        }
        let mut message = String::new();
        ctx.format_fields(Writer::new(&mut message), event)?;
        let line = format!("{context}{message}");
        let title = task.map_or_else(|| "valkey-bot".to_owned(), |t| format!("valkey-bot: {t}"));
        match *event.metadata().level() {
            Level::ERROR => writeln!(writer, "{}", command("error", &title, &line)),
            Level::WARN => writeln!(writer, "{}", command("warning", &title, &line)),
            _ => writeln!(writer, "{}", inert(&line)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the GitHub Actions runner would run in `output`: lines end at `\r` or `\n`; while
    /// commands are stopped only the resume token counts; `::name` at a line's start (after
    /// spaces) and `##[name` anywhere are commands.
    pub(crate) fn commands_run(output: &str) -> Vec<String> {
        let mut run = Vec::new();
        let mut stopped: Option<String> = None;
        for line in output.split(['\r', '\n']) {
            let trimmed = line.trim_start();
            if let Some(token) = &stopped {
                if trimmed == format!("::{token}::") {
                    stopped = None;
                }
                continue;
            }
            if let Some(token) = trimmed.strip_prefix("::stop-commands::") {
                stopped = Some(token.to_owned());
                run.push("stop-commands".to_owned());
            } else if let Some(rest) = trimmed.strip_prefix("::")
                && let Some((name, _)) = rest.split_once("::")
            {
                run.push(name.split(' ').next().unwrap_or_default().to_owned());
            } else if let Some((_, rest)) = line.split_once("##[") {
                run.push(format!("##[{}", rest.split(']').next().unwrap_or_default()));
            }
        }
        run
    }

    #[test]
    fn outside_text_is_inert_on_its_line() {
        for hostile in [
            "::warning::pwned",
            "   ::add-mask::x",
            "file.txt\r::error::forged",
            "note\n::set-output name=x::1",
            "a ##[warning]old style",
            "\r\r::endgroup::",
        ] {
            let shown = inert(hostile);
            assert_eq!(
                commands_run(&shown),
                Vec::<String>::new(),
                "{hostile:?} → {shown:?}"
            );
            assert!(!shown.contains(['\r', '\n']), "{shown:?}");
        }
        assert_eq!(inert("a\r::x"), "a\\r::x");
        assert_eq!(inert("::x::y"), "\\::x::y");
        assert_eq!(inert("plain text: 50% done"), "plain text: 50% done");
    }

    #[test]
    fn a_fence_keeps_every_command_of_a_diff_inert() {
        let diff = "+::error::forged\n-##[warning]old\r::add-mask::x\n::endgroup::\n";
        let output = fenced(diff);
        assert_eq!(commands_run(&output), ["stop-commands"]);
        assert!(output.contains(diff), "the diff itself is shown unchanged");
        assert_ne!(stop_token(), stop_token());
        assert_eq!(stop_token().len(), 32);
    }

    #[test]
    fn a_runs_output_prints_injected_commands_inert() {
        use crate::outcome::{Outcome, RunReport, TaskReport};
        use valkey_bot_core::{Environment, ReleaseRequest, Version};
        let task = |name: &str, outcome: Outcome, diff: Option<&str>| TaskReport {
            name: name.into(),
            outcome,
            duration: std::time::Duration::ZERO,
            delivered: Vec::new(),
            notes: vec!["saw file evil\r::add-mask::secret".into()],
            alerts: Vec::new(),
            diff: diff.map(str::to_owned),
            outputs: serde_json::Value::Null,
            attempts: 1,
        };
        let report = RunReport {
            request: ReleaseRequest::local(Version::parse("9.1.1").unwrap(), Environment::Prod),
            dry_run: true,
            tasks: vec![
                task(
                    "container",
                    Outcome::Planned,
                    Some("+::error file=x::forged\n+##[set-output name=a]b\n::endgroup::\n"),
                ),
                task(
                    "website",
                    Outcome::Failed {
                        error: "the template says\n::warning::pwned\r##[error]x".into(),
                        security: false,
                        next_step: String::new(),
                    },
                    None,
                ),
            ],
        };
        let inside = crate::commands::stdout_text(&report, true);
        assert_eq!(
            commands_run(&inside),
            [
                "group",
                "stop-commands",
                "endgroup",
                "group",
                "stop-commands",
                "endgroup"
            ],
            "{inside}"
        );
        assert!(
            inside.contains("+::error file=x::forged\n"),
            "diffs are shown as they are"
        );
        let outside = crate::commands::stdout_text(&report, false);
        let table = outside.rsplit("task ").next().unwrap_or_default();
        assert_eq!(commands_run(table), Vec::<String>::new(), "{table}");
    }

    #[test]
    fn commands_escape_their_data_and_properties() {
        assert_eq!(
            command(
                "error",
                "valkey-bot: checksums, again",
                "50% done\nline two"
            ),
            "::error title=valkey-bot%3A checksums%2C again::50%25 done%0Aline two"
        );
    }
}
