//! Log lines for GitHub Actions: errors and warnings become `::error`/`::warning` workflow
//! commands (annotations on the run page) titled with the task, other events plain lines. Every
//! line carries the task, version and repository of the span it belongs to.

use std::fmt;

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

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
            _ => writeln!(writer, "{}", line.replace('\n', " ")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
