//! Template text → one jq program, as bashbrew's `jq-template.awk` builds it.

use crate::TemplateError;

const OPEN: &str = "{{";
const CLOSE: &str = "}}";
/// A closing `-}}` that also eats the newline after it.
const CLOSE_EAT_EOL: &str = "-}}\n";

/// A converted template: the jq program and where its expressions came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// The template's name, for messages.
    pub template: String,
    /// The jq program text, byte for byte what `jq-template.awk` hands to `jq`.
    pub text: String,
    /// (byte offset in `text`, 1-based template line) for each expression, in program order.
    origins: Vec<(usize, usize)>,
}

impl Program {
    /// The template line of the expression around byte `offset` of [`Program::text`].
    pub fn template_line(&self, offset: usize) -> Option<usize> {
        self.origins
            .iter()
            .take_while(|(start, _)| *start <= offset)
            .last()
            .map(|(_, line)| *line)
    }
}

/// The conversion state: the awk script's variables.
#[derive(Default)]
struct Converter {
    /// Hoisted `def`/`include`/`import` expressions, each followed by `;\n`.
    defs: String,
    /// Hoisted expressions' template lines.
    def_origins: Vec<(usize, usize)>,
    /// The `+`-joined body.
    body: String,
    /// Body expressions' template lines (offsets within `body`).
    body_origins: Vec<(usize, usize)>,
    /// Text (and `{{ … }}`) of lines whose braces are not balanced yet.
    pending_jq: String,
    /// The template line where `pending_jq` started.
    pending_line: usize,
    /// Text not yet appended.
    pending_text: String,
}

/// awk's `[[:space:]]`.
fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{b}' | '\u{c}' | '\r')
}

/// A jq string literal for `text`, escaped as the awk script escapes it.
fn jq_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

impl Converter {
    fn append(&mut self, piece: &str) {
        if !self.body.is_empty() && !self.body.ends_with('(') && !piece.starts_with(')') {
            self.body.push_str("\n+ ");
        } else if !self.body.is_empty() {
            self.body.push('\n');
        }
        self.body.push_str(piece);
    }

    fn append_text(&mut self, text: &str) {
        if !text.is_empty() {
            self.append(&jq_string(text));
        }
    }

    fn append_jq(&mut self, expr: &str, line: usize) {
        let expr = expr.trim_matches(is_space);
        if expr.is_empty() || (expr.starts_with('#') && !expr.contains('\n')) {
            return;
        }
        let hoisted = ["def", "include", "import"].iter().any(|keyword| {
            expr.strip_prefix(keyword)
                .and_then(|rest| rest.chars().next())
                .is_some_and(is_space)
        });
        if hoisted {
            self.def_origins.push((self.defs.len(), line));
            self.defs.push_str(expr);
            self.defs.push_str(";\n");
            return;
        }
        let mut wrapped = String::with_capacity(expr.len() + 2);
        if !expr.starts_with(')') {
            wrapped.push('(');
        }
        wrapped.push_str(expr);
        if !expr.ends_with('(') {
            wrapped.push(')');
        }
        // The expression starts after the separator `append` is about to write.
        let separator = match (
            self.body.is_empty(),
            self.body.ends_with('(') || wrapped.starts_with(')'),
        ) {
            (true, _) => 0,
            (false, true) => 1,
            (false, false) => 3,
        };
        self.body_origins.push((self.body.len() + separator, line));
        self.append(&wrapped);
    }

    /// One template line (with its newline), 1-based `number`.
    fn line(&mut self, template: &str, mut line: &str, number: usize) -> Result<(), TemplateError> {
        let open = if self.pending_jq.is_empty() {
            line.find(OPEN)
        } else {
            None
        };
        if !self.pending_jq.is_empty() || open.is_some() {
            if let Some(i) = open {
                self.pending_text.push_str(&line[..i]);
                line = &line[i..];
                self.pending_line = number;
            }
            let text = std::mem::take(&mut self.pending_text);
            self.append_text(&text);
            self.pending_jq.push_str(line);
            if self.pending_jq.matches(OPEN).count() > self.pending_jq.matches(CLOSE).count() {
                return Ok(());
            }
            let mut rest = std::mem::take(&mut self.pending_jq);
            // Template line of the current position: counts the newlines consumed so far.
            let mut at_line = self.pending_line;
            while let Some(i) = rest.find(OPEN) {
                let before = rest[..i].to_owned();
                at_line += before.matches('\n').count();
                let after = &rest[i + OPEN.len()..];
                let (expr, remaining) = if let Some(j) = after.find(CLOSE_EAT_EOL) {
                    (&after[..j], &after[j + CLOSE_EAT_EOL.len()..])
                } else if let Some(j) = after.find(CLOSE) {
                    (&after[..j], &after[j + CLOSE.len()..])
                } else {
                    return Err(TemplateError::Unclosed {
                        template: template.to_owned(),
                        line: at_line,
                    });
                };
                let expr = expr.to_owned();
                let consumed = rest.len() - remaining.len() - i - OPEN.len();
                let remaining = remaining.to_owned();
                self.append_text(&before);
                self.append_jq(&expr, at_line);
                at_line += after[..consumed].matches('\n').count();
                rest = remaining;
            }
            self.pending_text.push_str(&rest);
            return Ok(());
        }
        self.pending_text.push_str(line);
        Ok(())
    }
}

/// Converts `source` (the template named `template`) into the jq program `jq-template.awk`
/// writes for it.
pub fn convert(template: &str, source: &str) -> Result<Program, TemplateError> {
    let mut converter = Converter::default();
    let mut number = 0;
    for raw in source.split_inclusive('\n') {
        number += 1;
        if raw.ends_with('\n') {
            converter.line(template, raw, number)?;
        } else {
            // awk ends every record with ORS, the last one too.
            converter.line(template, &format!("{raw}\n"), number)?;
        }
    }
    if !converter.pending_jq.is_empty() {
        return Err(TemplateError::Unclosed {
            template: template.to_owned(),
            line: converter.pending_line,
        });
    }
    let text = std::mem::take(&mut converter.pending_text);
    converter.append_text(&text);

    const HEAD: &str = "if env.version then .[env.version] else . end | (\n";
    let mut program = converter.defs;
    let body_start = program.len() + HEAD.len();
    program.push_str(HEAD);
    program.push_str(&converter.body);
    program.push_str("\n)");
    let mut origins = converter.def_origins;
    origins.extend(
        converter
            .body_origins
            .into_iter()
            .map(|(offset, line)| (body_start + offset, line)),
    );
    Ok(Program {
        template: template.to_owned(),
        text: program,
        origins,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn program(source: &str) -> String {
        convert("t", source)
            .map(|p| p.text)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn text_and_expressions_are_joined_with_plus() {
        assert_eq!(
            program("FROM debian:{{ .debian.version }}-slim\n"),
            "if env.version then .[env.version] else . end | (\n\"FROM debian:\"\n+ (.debian.version)\n+ \"-slim\\n\"\n)"
        );
    }

    #[test]
    fn eat_eol_brackets_and_hoisting() {
        let source = "{{ include \"x\" -}}\n{{ # a note -}}\n{{ if env.variant == \"a\" then ( -}}\nA\t\"q\"\\\n{{ ) else ( -}}\nB\n{{ ) end -}}\nend";
        assert_eq!(
            program(source),
            "include \"x\";\nif env.version then .[env.version] else . end | (\n(if env.variant == \"a\" then (\n\"A\\t\\\"q\\\"\\\\\\n\"\n) else (\n\"B\\n\"\n) end)\n+ \"end\\n\"\n)"
        );
    }

    #[test]
    fn expressions_may_span_lines_and_keep_their_line() {
        let source = "a\nb {{\n  1 +\n  2\n}} c\n{{ error(\"x\") }}\n";
        let converted = convert("t", source).unwrap();
        assert_eq!(
            converted.text,
            "if env.version then .[env.version] else . end | (\n\"a\\nb \"\n+ (1 +\n  2)\n+ \" c\\n\"\n+ (error(\"x\"))\n+ \"\\n\"\n)"
        );
        let error_at = converted.text.find("error").unwrap();
        assert_eq!(converted.template_line(error_at), Some(6));
        let sum_at = converted.text.find("1 +").unwrap();
        assert_eq!(converted.template_line(sum_at), Some(2));
    }

    #[test]
    fn the_first_eat_eol_close_wins_as_in_awk() {
        // awk looks for `-}}` + newline first, past an earlier `}}`: the two expressions merge.
        assert_eq!(
            program("{{ 1 }}{{ 2 -}}\n"),
            "if env.version then .[env.version] else . end | (\n(1 }}{{ 2)\n)"
        );
    }

    #[test]
    fn an_unclosed_expression_names_its_line() {
        assert_eq!(
            convert("Dockerfile.template", "a\nb {{ .x\nc\n"),
            Err(TemplateError::Unclosed {
                template: "Dockerfile.template".to_owned(),
                line: 2
            })
        );
        assert!(matches!(
            convert("t", "}} x {{ y\n"),
            Err(TemplateError::Unclosed { line: 1, .. })
        ));
    }
}
