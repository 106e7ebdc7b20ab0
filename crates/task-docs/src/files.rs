//! The three small files of valkey-doc the task edits by hand-made rules: the supported-versions
//! table of `topics/releases.md`, the `VERSION ?=` and `DATE ?=` lines of the `Makefile`, and the
//! list of `valkey.conf` links of `topics/valkey.conf.md`. Each edit keeps every other byte.

use crate::DocsError;

/// The path of the supported-versions table.
pub const RELEASES: &str = "topics/releases.md";
/// The path of the Makefile.
pub const MAKEFILE: &str = "Makefile";
/// The path of the `valkey.conf` page.
pub const VALKEY_CONF: &str = "topics/valkey.conf.md";

/// The table's separator line, after which the newest line's row goes.
const SEPARATOR: &str = "| -- | -- | -- | -- |";
/// The start every `valkey.conf` link line shares.
const CONF_LINE_START: &str = "* The self documented [valkey.conf for Valkey ";

/// One row of the supported-versions table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseRow {
    /// `X.Y`.
    pub line: String,
    /// The first release day, `YYYY-MM-DD`.
    pub released: String,
    /// The end of maintenance support.
    pub maintenance_end: String,
    /// The end of extended security support.
    pub security_end: String,
}

impl ReleaseRow {
    /// The row as the table writes it.
    pub fn render(&self) -> String {
        format!(
            "| {} | {} | {} | {} |",
            self.line, self.released, self.maintenance_end, self.security_end
        )
    }
}

/// Splits `text` into lines that keep their line ends.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.split_inclusive('\n')
}

/// A line without its line end (`\n` or `\r\n`).
fn content(line: &str) -> &str {
    line.strip_suffix('\n')
        .map_or(line, |l| l.strip_suffix('\r').unwrap_or(l))
}

/// The line end of the first line of `text` that has one (`\n` if none has).
fn line_end(text: &str) -> &'static str {
    match lines(text).find(|l| l.ends_with('\n')) {
        Some(l) if l.ends_with("\r\n") => "\r\n",
        _ => "\n",
    }
}

/// `releases.md` with `row` right after the separator line, or `None` when a row for its line
/// is already in the table (the first cell is `X.Y`).
pub fn add_release_row(text: &str, row: &ReleaseRow) -> Result<Option<String>, DocsError> {
    let mut table_started = false;
    let mut out = String::with_capacity(text.len() + 64);
    let mut inserted = false;
    for line in lines(text) {
        let cells: Vec<&str> = content(line).split('|').map(str::trim).collect();
        if table_started && cells.get(1) == Some(&row.line.as_str()) && cells.len() > 2 {
            return Ok(None);
        }
        out.push_str(line);
        if !inserted && content(line).trim_end() == SEPARATOR {
            if !line.ends_with('\n') {
                out.push_str(line_end(text));
            }
            out.push_str(&row.render());
            out.push_str(line_end(text));
            inserted = true;
            table_started = true;
        }
    }
    if !inserted {
        return Err(DocsError::Missing {
            file: RELEASES,
            what: format!("table separator line `{SEPARATOR}`"),
        });
    }
    Ok(Some(out))
}

/// The `Makefile` with every `VERSION ?= …` line set to `version` and every `DATE ?= …` line to
/// `date`, or `None` when its `VERSION ?=` already is `version` (a rerun keeps that run's date).
pub fn set_makefile(text: &str, version: &str, date: &str) -> Result<Option<String>, DocsError> {
    let value = |line: &str, key: &str| content(line).strip_prefix(key).map(str::to_owned);
    let versions: Vec<String> = lines(text).filter_map(|l| value(l, "VERSION ?=")).collect();
    if versions.is_empty() {
        return Err(DocsError::Missing {
            file: MAKEFILE,
            what: "line starting with `VERSION ?=`".into(),
        });
    }
    if !lines(text).any(|l| value(l, "DATE ?=").is_some()) {
        return Err(DocsError::Missing {
            file: MAKEFILE,
            what: "line starting with `DATE ?=`".into(),
        });
    }
    if versions.iter().all(|v| v.trim() == version) {
        return Ok(None);
    }
    let mut out = String::with_capacity(text.len());
    for line in lines(text) {
        let end = &line[content(line).len()..];
        if value(line, "VERSION ?=").is_some() {
            out.push_str(&format!("VERSION ?= {version}{end}"));
        } else if value(line, "DATE ?=").is_some() {
            out.push_str(&format!("DATE ?= {date}{end}"));
        } else {
            out.push_str(line);
        }
    }
    Ok(Some(out))
}

/// The link line of `valkey.conf.md` for minor line `line` (`9.1`).
pub fn conf_line(line: &str) -> String {
    format!(
        "{CONF_LINE_START}{line}](https://raw.githubusercontent.com/valkey-io/valkey/{line}/valkey.conf)."
    )
}

/// `valkey.conf.md` with the link of `line` before the first link line, or `None` when that
/// link is already there.
pub fn add_conf_link(text: &str, line: &str) -> Result<Option<String>, DocsError> {
    let new = conf_line(line);
    if lines(text).any(|l| content(l) == new) {
        return Ok(None);
    }
    let mut out = String::with_capacity(text.len() + new.len() + 2);
    let mut inserted = false;
    for existing in lines(text) {
        if !inserted && content(existing).starts_with(CONF_LINE_START) {
            out.push_str(&new);
            out.push_str(line_end(text));
            inserted = true;
        }
        out.push_str(existing);
    }
    if !inserted {
        return Err(DocsError::Missing {
            file: VALKEY_CONF,
            what: format!("line starting with `{CONF_LINE_START}`"),
        });
    }
    Ok(Some(out))
}
