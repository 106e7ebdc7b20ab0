//! The Modules API reference, `topics/modules-api-ref.md`: a port of the Valkey source's own
//! `utils/generate-module-api-doc.rb`, which turns the comments above each `VM_` function of
//! `src/module.c` into Markdown. The port keeps the Ruby script's rules one by one, in its order,
//! so its output is byte-identical:
//!
//! - A *function* is a line that contains `VM_`, does not start with a space, `#` or `/`, and
//!   follows a line containing `*/`; its comment is every line back to the one containing `/*`.
//!   Its prototype is the line without its first `{`, stripped, `VM_` renamed `ValkeyModule_`, with
//!   `;` added; a prototype over 80 bytes is broken after the commas that are outside
//!   parentheses (so function pointers in arguments stay whole), each argument aligned under the
//!   first.
//! - A *section* is a comment whose first or second line is a Markdown heading (`/* # ...` or
//!   ` * ## ...`); it is printed whole, without its `-----` dividers, and listed in the table of
//!   sections with the id `section-<heading in lower case, runs of other characters as ->`.
//! - In comment text: `VM_X` becomes `ValkeyModule_X` (not after a capital or `_`, only before a
//!   capital); outside code blocks (lines indented by four spaces), `ValkeyModule...` names, C
//!   calls like `malloc()` and names with underscores get backquotes where they have none, bare
//!   `http(s)://` addresses become links, ` -- ` becomes ` – `; everywhere, a quoted
//!   `` `ValkeyModule_X` `` that is a function of the page links to it.
//! - `**Available since:**` is the first release whose `module.c` defines the function, or
//!   `unreleased` (see [`SinceMap`]).
//!
//! The Ruby regular expressions use look-behinds and look-aheads, so the port uses `fancy-regex`
//! with the same patterns (`\w`, `\d` and `\s` spelled out as the ASCII classes Ruby gives them).
//!
//! Checked against the real script (2026-12-02, Ruby 3.1 from Debian's `ruby` package; the
//! script and the Valkey sources were kept in /tmp only, never committed):
//!
//! 1. In a scratch tree laid out like the Valkey source (`utils/generate-module-api-doc.rb`,
//!    `utils/module-api-since.rb`, `src/module.c`, no `.git`), `ruby <tree>/utils/generate-module-api-doc.rb` (by its
//!    absolute path: the script `require`s its neighbour relative to itself) on this crate's fixture `tests/fixtures/module.c`, with a `module-api-since.rb` holding the
//!    "since" values of `tests/modref.rs`, printed exactly `tests/fixtures/modules-api-ref.expected.md`
//!    (compared with `cmp`; that file was then reviewed by hand and committed as the expectation).
//! 2. The same on the real `src/module.c` of a Valkey snapshot (590 kB): `cmp` found no
//!    difference with this port's output for the same "since" map.
//! 3. With that snapshot's `.git` beside it (so the script read `module.c` at each of its
//!    release tags, 7.2.5 to 8.0.1), the output equals this port's with [`SinceMap::add_release`] called for the
//!    same tags in order; and [`SinceMap::from_reference`] of that output, with no tag read,
//!    generates it again unchanged (the carried-over values).

use std::collections::{BTreeMap, BTreeSet};

use fancy_regex::{Captures, Regex};

use crate::DocsError;

/// The path of the reference in valkey-doc.
pub const REFERENCE: &str = "topics/modules-api-ref.md";
/// The path of the source it is generated from, in the Valkey repository.
pub const MODULE_C: &str = "src/module.c";

/// A compiled pattern; the patterns are literals of this file, tested below.
fn re(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|e| unreachable!("pattern {pattern:?}: {e}"))
}

/// Whether `pattern` matches `text` (a failed match, e.g. a backtrack limit, counts as none).
fn is_match(pattern: &Regex, text: &str) -> bool {
    pattern.is_match(text).unwrap_or(false)
}

/// Ruby's `String#strip`: ASCII whitespace at both ends and NULs at the end.
fn ruby_strip(text: &str) -> &str {
    text.trim_start_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r'])
        .trim_end_matches([' ', '\t', '\n', '\x0b', '\x0c', '\r', '\0'])
}

/// Ruby's `String#split` with a separator: empty trailing fields are dropped.
fn ruby_split<'a>(parts: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut parts: Vec<&str> = parts.collect();
    while parts.last() == Some(&"") {
        parts.pop();
    }
    parts
}

/// "Since" values: function short name (`Alloc`) to the first release that defined it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SinceMap(pub BTreeMap<String, String>);

impl SinceMap {
    /// The values a reference already states (`**Available since:** 4.0.0` under
    /// `` ### `ValkeyModule_Alloc` ``); `unreleased` states nothing.
    pub fn from_reference(text: &str) -> Self {
        let mut map = BTreeMap::new();
        let mut current: Option<&str> = None;
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("### `ValkeyModule_") {
                current = rest.strip_suffix('`');
            } else if let Some(since) = line.strip_prefix("**Available since:** ")
                && let Some(name) = current.take()
                && since != "unreleased"
            {
                map.insert(name.to_owned(), since.to_owned());
            }
        }
        Self(map)
    }

    /// The newest release the map mentions (`X.Y.Z` compared as numbers).
    pub fn newest(&self) -> Option<(u64, u64, u64)> {
        self.0.values().filter_map(|v| release_numbers(v)).max()
    }

    /// Adds, for every function `module_c` (the source at release `tag`) defines that has no
    /// value yet, `tag`: call it for each release in order, oldest first.
    pub fn add_release(&mut self, tag: &str, module_c: &str) {
        let defined = re(r"^[A-Za-z0-9_].*[ \*]VM_([A-z0-9]+)");
        for line in module_c.split_inclusive('\n') {
            if let Ok(Some(caps)) = defined.captures(line)
                && let Some(name) = caps.get(1)
            {
                self.0
                    .entry(name.as_str().to_owned())
                    .or_insert_with(|| tag.to_owned());
            }
        }
    }
}

/// `(X, Y, Z)` of a release tag the generator reads (`X.Y.Z`, `X` at least 4), else `None`.
pub fn release_numbers(tag: &str) -> Option<(u64, u64, u64)> {
    let mut parts = tag.split('.');
    let mut number = || -> Option<u64> {
        let part = parts.next()?;
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let numbers = (number()?, number()?, number()?);
    (parts.next().is_none() && numbers.0 >= 4).then_some(numbers)
}

/// The patterns of the Ruby script, compiled once per generation.
struct Patterns {
    close_at_eol: Regex,
    star_prefix: Regex,
    open_prefix: Regex,
    vm_prefix: Regex,
    module_name: Regex,
    c_call: Regex,
    underscore_name: Regex,
    url: Regex,
    quoted_function: Regex,
    divider: Regex,
    heading_first: Regex,
    heading_second: Regex,
    section_first: Regex,
    section_second: Regex,
    opens: Regex,
    opens_at_start: Regex,
    vm_name: Regex,
}

impl Patterns {
    fn new() -> Self {
        Self {
            close_at_eol: re(r"(?m)\*/$"),
            star_prefix: re(r"(?m)^ ?\* ?"),
            open_prefix: re(r"(?m)^/\*\*? ?"),
            vm_prefix: re(r"(?<![A-Z_])VM_(?=[A-Z])"),
            module_name: re(r"(?<!`)ValkeyModule[A-z]+(?:\*?\(\))?"),
            c_call: re(r"(?<![`A-z.])[a-z_]+\(\)"),
            underscore_name: re(r"(?<![`A-z\*])[A-Za-z]+_[A-Za-z0-9_]+"),
            url: re(r"(^| )(https?://[A-Za-z0-9_/\.\-]+[A-Za-z0-9/])"),
            quoted_function: re(r"`(ValkeyModule_[A-z0-9]+)[()]*`"),
            divider: re(r"^[/ ]?\*{1,2} ?-{50,}"),
            heading_first: re(r"^/\*\*? #+ *(.*)"),
            heading_second: re(r"^ ?\* #+ *(.*)"),
            section_first: re(r"^/\*\*? #"),
            section_second: re(r"^ ?\* #"),
            opens: re(r"/\*"),
            opens_at_start: re(r"^/\*"),
            vm_name: re(r"VM_([A-z0-9]+)"),
        }
    }
}

/// `pattern` replaced in `text` by what `with` makes of each match.
fn replace(pattern: &Regex, text: &str, with: impl Fn(&Captures<'_>) -> String) -> String {
    pattern
        .replace_all(text, |caps: &Captures<'_>| with(caps))
        .into_owned()
}

/// The whole match.
fn whole<'t>(caps: &Captures<'t>) -> &'t str {
    caps.get(0).map_or("", |m| m.as_str())
}

/// A group, or `""`.
fn group<'t>(caps: &Captures<'t>, i: usize) -> &'t str {
    caps.get(i).map_or("", |m| m.as_str())
}

/// The generator over one `module.c`.
struct Generator<'a> {
    src: Vec<&'a str>,
    index: BTreeSet<String>,
    since: &'a SinceMap,
    p: Patterns,
    out: String,
}

impl<'a> Generator<'a> {
    /// Line `i`, counting from the end when negative (Ruby's `src[i]`), `None` past the end.
    fn line(&self, i: isize) -> Option<&'a str> {
        let len = isize::try_from(self.src.len()).ok()?;
        let at = if i < 0 { len + i } else { i };
        usize::try_from(at)
            .ok()
            .and_then(|at| self.src.get(at).copied())
    }

    fn matches(&self, pattern: &Regex, i: isize) -> bool {
        self.line(i).is_some_and(|l| is_match(pattern, l))
    }

    fn is_func_line(&self, i: usize) -> bool {
        let line = self.src[i];
        let first = line.bytes().next();
        line.contains("VM_")
            && !matches!(first, Some(b' ' | b'#' | b'/'))
            && self.line(i as isize - 1).is_some_and(|l| l.contains("*/"))
    }

    fn is_section_doc(&self, i: usize) -> bool {
        let i = i as isize;
        self.matches(&self.p.section_first, i)
            || (self.matches(&self.p.opens_at_start, i)
                && self.matches(&self.p.section_second, i + 1))
    }

    fn section_heading(&self, i: usize) -> String {
        let i = i as isize;
        let captured = |pattern: &Regex, at: isize| {
            self.line(at)
                .and_then(|l| pattern.captures(l).ok().flatten())
                .map(|caps| group(&caps, 1).to_owned())
        };
        let heading = captured(&self.p.heading_first, i)
            .or_else(|| captured(&self.p.heading_second, i + 1))
            .unwrap_or_default();
        heading.replace(" -- ", " – ")
    }

    /// The comment text as Markdown (Ruby's `markdown`).
    fn markdown(&self, comment: &str) -> String {
        let p = &self.p;
        let mut s = replace(&p.close_at_eol, comment, |_| String::new());
        s = replace(&p.star_prefix, &s, |_| String::new());
        s = replace(&p.open_prefix, &s, |_| String::new());
        // Ruby's `chop!`: a trailing "\r\n" goes as one.
        while s.ends_with('\n') || s.ends_with(' ') {
            if s.ends_with("\r\n") {
                s.truncate(s.len() - 2);
            } else {
                s.pop();
            }
        }
        let mut lines = Vec::new();
        for line in ruby_split(s.split('\n')) {
            let mut l = replace(&p.vm_prefix, line, |_| "ValkeyModule_".into());
            if !l.starts_with("    ") {
                l = replace(&p.module_name, &l, |c| format!("`{}`", whole(c)));
                l = replace(&p.c_call, &l, |c| format!("`{}`", whole(c)));
                l = replace(&p.underscore_name, &l, |c| format!("`{}`", whole(c)));
                l = replace(&p.url, &l, |c| {
                    let url = group(c, 2);
                    format!("{}[{url}]({url})", group(c, 1))
                });
                l = l.replace(" -- ", " – ");
            }
            l = replace(&p.quoted_function, &l, |c| {
                let name = group(c, 1);
                if self.index.contains(name) {
                    format!("[{}](#{name})", whole(c))
                } else {
                    whole(c).to_owned()
                }
            });
            lines.push(l);
        }
        lines.join("\n")
    }

    /// A function's entry (Ruby's `docufy`).
    fn docufy(&mut self, i: usize) -> Result<(), DocsError> {
        let line = self.src[i];
        let short = self
            .p
            .vm_name
            .captures(line)
            .ok()
            .flatten()
            .map(|c| group(&c, 1).to_owned())
            .unwrap_or_default();
        let name = format!("ValkeyModule_{short}");
        let proto = format!("{};\n", ruby_strip(&line.replacen('{', "", 1)));
        let proto = linebreak_proto(&proto.replacen("VM_", "ValkeyModule_", 1), "    ");
        let since = self
            .since
            .0
            .get(&short)
            .map_or("unreleased", String::as_str);
        let mut comment = String::new();
        let mut at = i;
        loop {
            if at == 0 {
                return Err(DocsError::ModuleSource(format!(
                    "line {}: the comment above `VM_{short}` has no `/*` that opens it",
                    i + 1
                )));
            }
            at -= 1;
            comment.insert_str(0, self.src[at]);
            if is_match(&self.p.opens, self.src[at]) {
                break;
            }
        }
        let comment = self.markdown(&comment);
        self.out.push_str(&format!(
            "<span id=\"{name}\"></span>\n\n### `{name}`\n\n    {proto}\n**Available since:** {since}\n\n{comment}\n\n"
        ));
        Ok(())
    }

    /// A section's text (Ruby's `section_doc`).
    fn section_doc(&mut self, i: usize) -> Result<(), DocsError> {
        let name = self.section_heading(i);
        let mut comment = format!("<span id=\"{}\"></span>\n\n", section_id(&name));
        let mut at = i;
        loop {
            let Some(line) = self.src.get(at) else {
                return Err(DocsError::ModuleSource(format!(
                    "line {}: the section comment \"{name}\" is never closed with `*/`",
                    i + 1
                )));
            };
            if !is_match(&self.p.divider, line) {
                comment.push_str(line);
            }
            if line.contains("*/") {
                break;
            }
            at += 1;
        }
        let comment = self.markdown(&comment);
        self.out.push_str(&comment);
        self.out.push_str("\n\n");
        Ok(())
    }
}

/// The id of a section: `section-` and the heading in lower case, every run of other characters
/// than `a-z0-9` one `-`, no `-` at either end.
fn section_id(name: &str) -> String {
    let lower = ruby_strip(name).to_lowercase();
    let mut id = String::with_capacity(lower.len());
    let mut dash = false;
    for c in lower.chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            id.push(c);
            dash = false;
        } else if !dash {
            id.push('-');
            dash = true;
        }
    }
    format!("section-{}", id.trim_matches('-'))
}

/// A prototype over 80 bytes broken after the commas outside parentheses, each argument aligned
/// under the first (Ruby's `linebreak_proto`).
fn linebreak_proto(proto: &str, indent: &str) -> String {
    if proto.len() <= 80 {
        return proto.to_owned();
    }
    let separator = re(r",[ \t\r\n\x0c\x0b]*");
    let parts = ruby_split(separator.split(proto).filter_map(Result::ok));
    let Some((first, rest)) = parts.split_first() else {
        return proto.to_owned();
    };
    if rest.is_empty() {
        return proto.to_owned();
    }
    let align_pos = proto
        .find('(')
        .map_or(0, |byte| proto[..byte].chars().count())
        + 1;
    let align = " ".repeat(align_pos);
    let mut result = (*first).to_owned();
    let mut balance: i64 = 0;
    for part in rest {
        if balance == 0 {
            result.push_str(",\n");
            result.push_str(indent);
            result.push_str(&align);
        } else {
            result.push_str(", ");
        }
        result.push_str(part);
        balance += part.matches('(').count() as i64 - part.matches(')').count() as i64;
    }
    result
}

/// The reference generated from `module_c` with the "since" values `since`.
pub fn generate(module_c: &str, since: &SinceMap) -> Result<String, DocsError> {
    let text = module_c;
    let mut generator = Generator {
        src: text.split_inclusive('\n').collect(),
        index: BTreeSet::new(),
        since,
        p: Patterns::new(),
        out: String::new(),
    };
    generator.out.push_str(concat!(
        "---\n",
        "title: \"Modules API reference\"\n",
        "linkTitle: \"API reference\"\n",
        "weight: 1\n",
        "description: >\n",
        "    Reference for the Valkey Modules API\n",
        "---\n",
        "\n",
        "<!-- This file is generated from module.c using\n",
        "     utils/generate-module-api-doc.rb -->\n\n",
    ));
    for i in 0..generator.src.len() {
        if generator.is_func_line(i)
            && let Ok(Some(caps)) = generator.p.vm_name.captures(generator.src[i])
        {
            let name = format!("ValkeyModule_{}", group(&caps, 1));
            generator.index.insert(name);
        }
    }
    if generator.index.is_empty() {
        return Err(DocsError::ModuleSource(
            "no documented `VM_` function (a `*/` line followed by its definition)".into(),
        ));
    }
    generator.out.push_str("## Sections\n\n");
    for i in 0..generator.src.len() {
        if generator.is_section_doc(i) {
            let name = generator.section_heading(i);
            let line = format!("* [{name}](#{})\n", section_id(&name));
            generator.out.push_str(&line);
        }
    }
    generator
        .out
        .push_str("* [Function index](#section-function-index)\n\n");
    for i in 0..generator.src.len() {
        if generator.is_func_line(i) {
            generator.docufy(i)?;
        } else if generator.is_section_doc(i) {
            generator.section_doc(i)?;
        }
    }
    generator
        .out
        .push_str("<span id=\"section-function-index\"></span>\n\n## Function index\n\n");
    let index: Vec<String> = generator.index.iter().cloned().collect();
    for name in index {
        generator.out.push_str(&format!("* [`{name}`](#{name})\n"));
    }
    generator.out.push('\n');
    Ok(generator.out)
}
