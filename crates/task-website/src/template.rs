//! The release page template (`templates/valkey-website-template.md`) and its rendering.
//!
//! The template is a Zola page with YAML front matter. The bot fills three placeholders and
//! copies every other byte as is, including the absence of a trailing newline:
//!
//! - `{version}`: the release version, e.g. `9.1.0-rc2`;
//! - `{date}`: the UTC release day, `YYYY-MM-DD`;
//! - `{tags}`: one line per image tag, `                - "<tag>"` (16 spaces), joined with `\n`.
//!   It must stand alone on its line, so that every tag line gets exactly that indentation.
//!
//! What counts as a placeholder: `{`, a name matching `[A-Za-z_][A-Za-z0-9_]*`, `}` — where the
//! `{` is not preceded by another `{` and the `}` is not followed by another `}`. So Tera's
//! `{{ x }}`, `{{x}}`, `{% ... %}` and `{# ... #}`, and YAML/TOML flow mappings such as
//! `{ a: 1 }`, `{a: 1}` or `{}`, are plain text. A placeholder with a name other than the three
//! above is an error naming it and its line; so is a template missing one of the three.

use std::fmt;

use valkey_bot_core::Version;

use crate::date::ReleaseDate;

/// The indentation of each `{tags}` line, as the page's YAML front matter expects it.
pub const TAG_INDENT: &str = "                ";

/// Longest image tag accepted (Docker's limit).
const MAX_TAG_LEN: usize = 128;

/// One of the three values the bot fills in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placeholder {
    /// `{version}`.
    Version,
    /// `{date}`.
    Date,
    /// `{tags}`.
    Tags,
}

impl Placeholder {
    /// Every placeholder a template must contain.
    pub const ALL: [Placeholder; 3] = [Placeholder::Version, Placeholder::Date, Placeholder::Tags];

    /// The name between the braces, e.g. `version`.
    pub fn name(self) -> &'static str {
        match self {
            Placeholder::Version => "version",
            Placeholder::Date => "date",
            Placeholder::Tags => "tags",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

impl fmt::Display for Placeholder {
    /// `{name}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}}}", self.name())
    }
}

/// Why a template was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// The template is not UTF-8 text.
    #[error("template is not UTF-8 (first bad byte on line {line})")]
    NotUtf8 {
        /// The 1-based line of the first invalid byte.
        line: usize,
    },
    /// A `{name}` placeholder the bot does not know.
    #[error(
        "template line {line}, column {column}: unknown placeholder {{{name}}} (known: {{version}}, {{date}}, {{tags}})"
    )]
    UnknownPlaceholder {
        /// The name between the braces.
        name: String,
        /// Its 1-based line.
        line: usize,
        /// Its 1-based column, in characters.
        column: usize,
    },
    /// One of the three placeholders does not occur.
    #[error("template lacks the {placeholder} placeholder")]
    MissingPlaceholder {
        /// The missing placeholder.
        placeholder: Placeholder,
    },
    /// `{tags}` shares its line with other text.
    #[error("template line {line}: {{tags}} must stand alone on its line")]
    TagsNotAlone {
        /// Its 1-based line.
        line: usize,
    },
}

/// Why a page could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// The tag list is empty: the page would list no image.
    #[error("no image tags to list on the page")]
    NoTags,
    /// A tag outside Docker's tag grammar `[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}}`; it would be
    /// pasted inside a quoted YAML string.
    #[error("invalid image tag {0:?}")]
    InvalidTag(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    Text(String),
    Field(Placeholder),
}

/// A checked template, split into literal text and placeholders.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    segments: Vec<Segment>,
}

impl Template {
    /// Checks the template's bytes by the rules in this module's documentation.
    pub fn parse(bytes: &[u8]) -> Result<Self, TemplateError> {
        let text = std::str::from_utf8(bytes).map_err(|error| TemplateError::NotUtf8 {
            line: line_of(&bytes[..error.valid_up_to()]),
        })?;
        let mut segments = Vec::new();
        let mut copied = 0;
        let mut search_from = 0;
        while let Some((start, end, name)) = next_placeholder(text, search_from) {
            search_from = end;
            let line = line_of(&text.as_bytes()[..start]);
            let Some(placeholder) = Placeholder::from_name(name) else {
                let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
                return Err(TemplateError::UnknownPlaceholder {
                    name: name.to_owned(),
                    line,
                    column: text[line_start..start].chars().count() + 1,
                });
            };
            if placeholder == Placeholder::Tags && !alone_on_line(text, start, end) {
                return Err(TemplateError::TagsNotAlone { line });
            }
            if copied < start {
                segments.push(Segment::Text(text[copied..start].to_owned()));
            }
            segments.push(Segment::Field(placeholder));
            copied = end;
        }
        if copied < text.len() {
            segments.push(Segment::Text(text[copied..].to_owned()));
        }
        if let Some(placeholder) = Placeholder::ALL
            .into_iter()
            .find(|p| !segments.contains(&Segment::Field(*p)))
        {
            return Err(TemplateError::MissingPlaceholder { placeholder });
        }
        Ok(Self { segments })
    }

    /// The page of `version`, released on `date`, listing the image `tags` in that order.
    pub fn render(
        &self,
        version: &Version,
        date: ReleaseDate,
        tags: &[String],
    ) -> Result<String, RenderError> {
        if tags.is_empty() {
            return Err(RenderError::NoTags);
        }
        if let Some(bad) = tags.iter().find(|tag| !is_image_tag(tag)) {
            return Err(RenderError::InvalidTag(bad.chars().take(200).collect()));
        }
        let tag_lines = tags
            .iter()
            .map(|tag| format!("{TAG_INDENT}- \"{tag}\""))
            .collect::<Vec<_>>()
            .join("\n");
        let date = date.to_string();
        let mut page = String::new();
        for segment in &self.segments {
            page.push_str(match segment {
                Segment::Text(text) => text,
                Segment::Field(Placeholder::Version) => version.as_str(),
                Segment::Field(Placeholder::Date) => &date,
                Segment::Field(Placeholder::Tags) => &tag_lines,
            });
        }
        Ok(page)
    }
}

/// The next placeholder at or after byte `from`: its byte range and name.
fn next_placeholder(text: &str, from: usize) -> Option<(usize, usize, &str)> {
    let bytes = text.as_bytes();
    let mut i = from;
    while let Some(offset) = bytes.get(i..)?.iter().position(|&b| b == b'{') {
        let start = i + offset;
        i = start + 1;
        if start > 0 && bytes[start - 1] == b'{' {
            continue;
        }
        let name_len = bytes[start + 1..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
            .count();
        let name_end = start + 1 + name_len;
        let starts_well = bytes
            .get(start + 1)
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_');
        let closes = bytes.get(name_end) == Some(&b'}');
        let doubled_close = bytes.get(name_end + 1) == Some(&b'}');
        if starts_well && closes && !doubled_close {
            return Some((start, name_end + 1, &text[start + 1..name_end]));
        }
    }
    None
}

/// Whether `text[start..end]` is the whole of its line (ignoring a `\r` before the `\n`).
fn alone_on_line(text: &str, start: usize, end: usize) -> bool {
    let before_ok = start == 0 || text.as_bytes()[start - 1] == b'\n';
    let rest = &text[end..];
    let after_ok = rest.is_empty() || rest.starts_with('\n') || rest.starts_with("\r\n");
    before_ok && after_ok
}

/// The 1-based line number of the position just after `before`.
fn line_of(before: &[u8]) -> usize {
    before.iter().filter(|&&b| b == b'\n').count() + 1
}

/// Docker's tag grammar: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn is_image_tag(tag: &str) -> bool {
    let word = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_';
    let bytes = tag.as_bytes();
    bytes.first().is_some_and(word)
        && bytes.len() <= MAX_TAG_LEN
        && bytes.iter().all(|b| word(b) || *b == b'.' || *b == b'-')
}
