//! Templates in docker-library's `{{ jq }}` style, rendered the way the container repositories'
//! `apply-templates.sh` renders them, without gawk or a jq binary.
//!
//! Two steps, each its own module:
//!
//! - [`convert`]: the conversion bashbrew's `scripts/jq-template.awk` performs. The template is
//!   read line by line; text outside `{{ … }}` becomes jq string literals; each `{{ expr }}`
//!   becomes `(expr)`, and the pieces are joined with `+` (no `+` next to an expression that ends
//!   with `(` or starts with `)`, so `{{ if … then ( -}}` … `{{ ) end }}` brackets text). A closing
//!   `-}}` also eats the newline after it; an expression may span lines; a `{{ # … }}` on one line
//!   is a comment; expressions starting with `def`, `include` or `import` move to the program's
//!   head (each followed by `;`). The body is wrapped as
//!   `if env.version then .[env.version] else . end | ( … )`. The awk script's quirks are kept:
//!   a line is cut at the first `-}}` + newline after an opening `{{`, even past a `}}`.
//! - [`render`]: runs that program like `jq --join-output` over a `versions.json` value, with
//!   `env` holding exactly the variables given (`version`, `variant`), and modules for
//!   `include "name"` looked up by name in the given [`Modules`] (the files `name.jq` beside the
//!   template for `apply-templates.sh`). The evaluator is jaq (`jaq-core`, `jaq-std`,
//!   `jaq-json`).
//!
//! Errors name the template and, where there is one, the template line (a jq error raised while
//! rendering names the template line of the expression that raised it when it can be told).

mod convert;
mod render;

pub use convert::{Program, convert};
pub use render::{Input, Modules, render};

/// Why a template could not be converted or rendered. Every variant names the template.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// A `{{` with no `}}` after it.
    #[error("{template}:{line}: `{{{{` is never closed by `}}}}`")]
    Unclosed {
        /// The template's name (its repository path).
        template: String,
        /// 1-based line of the opening `{{`.
        line: usize,
    },
    /// The converted program is not valid jq (a syntax error inside `{{ … }}`).
    #[error("{template}{}: not a valid jq template: {message}", at(*line))]
    Syntax {
        /// The template, or the included module, with the error.
        template: String,
        /// 1-based template line, when known.
        line: Option<usize>,
        /// What the parser expected and found.
        message: String,
    },
    /// `include "name"` names a module that is not available.
    #[error("{template}: include {name:?}: no module {name}.jq")]
    MissingInclude {
        /// The template (or module) that includes it.
        template: String,
        /// The module name as written.
        name: String,
    },
    /// The program calls a filter or uses a variable that no module defines.
    #[error("{template}: {message}")]
    Undefined {
        /// The template.
        template: String,
        /// Which name, e.g. `undefined filter valkey_sbom/0`.
        message: String,
    },
    /// The template raised a jq error while rendering (`error(…)`, a type error, …).
    #[error("{template}{}: jq error: {message}", at(*line))]
    Runtime {
        /// The template.
        template: String,
        /// 1-based template line of the expression that raised it, when known.
        line: Option<usize>,
        /// The error's message.
        message: String,
    },
    /// The template produced a value that is not a string (`--join-output` prints strings).
    #[error("{template}: the template produced a {kind}, not text")]
    NotText {
        /// The template.
        template: String,
        /// The value's JSON kind.
        kind: String,
    },
    /// The input (`versions.json`) is not JSON.
    #[error("{path}: not JSON: {message}")]
    Input {
        /// The input file.
        path: String,
        /// The parser's message.
        message: String,
    },
}

fn at(line: Option<usize>) -> String {
    line.map(|line| format!(":{line}")).unwrap_or_default()
}
