//! Running a converted template like `jq --join-output --from-file PROGRAM versions.json`.

use std::collections::BTreeMap;

use jaq_core::load::{self, Arena, File, Import, Loader};
use jaq_core::{Compiler, Ctx, ValT, Vars, data};
use jaq_json::Val;

use crate::TemplateError;
use crate::convert::Program;

/// The modules `include "name"` can load, by name (`valkey-sbom` for `valkey-sbom.jq`).
#[derive(Debug, Clone, Default)]
pub struct Modules {
    by_name: BTreeMap<String, (String, String)>,
}

impl Modules {
    /// No modules.
    pub fn new() -> Self {
        Self::default()
    }

    /// Makes `code` (read from `path`, named in messages) the module `include name` loads.
    pub fn insert(&mut self, name: impl Into<String>, path: impl Into<String>, code: String) {
        self.by_name.insert(name.into(), (path.into(), code));
    }
}

/// A parsed JSON input (`versions.json`), parsed once for many renderings.
#[derive(Debug, Clone)]
pub struct Input(Val);

impl Input {
    /// Parses `bytes`, the JSON file at `path`.
    pub fn parse(path: &str, bytes: &[u8]) -> Result<Self, TemplateError> {
        jaq_json::read::parse_single(bytes)
            .map(Self)
            .map_err(|error| TemplateError::Input {
                path: path.to_owned(),
                message: error.to_string(),
            })
    }
}

/// `env` reads the variables the caller gives, never the process environment.
const ENV_DEF: &str = "def env: $ENV;";

/// Renders `program` over `input` with `env` = the given variables: the concatenated string
/// outputs, as `jq --join-output` prints them.
pub fn render(
    program: &Program,
    modules: &Modules,
    input: &Input,
    env: &[(&str, &str)],
) -> Result<String, TemplateError> {
    let template = program.template.as_str();
    let prelude = jaq_core::defs()
        .chain(jaq_std::defs())
        .chain(jaq_json::defs())
        .chain(load::parse(ENV_DEF, |p| p.defs()).unwrap_or_default());
    let arena = Arena::default();
    let loader = Loader::new(prelude).with_read(|import: Import<'_, &str, String>| {
        let name: &str = import.path;
        modules
            .by_name
            .get(name)
            .map(|(path, code)| File {
                code: code.clone(),
                path: path.clone(),
            })
            .ok_or_else(|| format!("no module {name}.jq"))
    });
    let main = File {
        code: program.text.as_str(),
        path: template.to_owned(),
    };
    let loaded = loader
        .load(&arena, main)
        .map_err(|errors| load_error(program, errors))?;
    let funs = jaq_core::funs::<data::JustLut<Val>>()
        .chain(jaq_std::funs().filter(|(name, _, _)| *name != "env"))
        .chain(jaq_json::funs());
    let filter = Compiler::default()
        .with_funs(funs)
        .with_global_vars(["$ENV"])
        .compile(loaded)
        .map_err(|errors| {
            let (file, undefined) = errors.into_iter().next().map_or_else(
                || (template.to_owned(), String::from("cannot compile")),
                |(file, errs)| {
                    let names: Vec<String> = errs
                        .iter()
                        .map(|(name, kind)| format!("undefined {} {name}", kind.as_str()))
                        .collect();
                    (file.path, names.join(", "))
                },
            );
            TemplateError::Undefined {
                template: file,
                message: undefined,
            }
        })?;
    let env_value = Val::from_map(
        env.iter()
            .map(|(key, value)| (Val::from((*key).to_owned()), Val::from((*value).to_owned()))),
    )
    .map_err(|error| runtime(template, &error.to_string()))?;
    let ctx = Ctx::<data::JustLut<Val>>::new(&filter.lut, Vars::new([env_value]));
    let mut out: Vec<u8> = Vec::new();
    for result in filter.id.run((ctx, input.0.clone())) {
        match jaq_core::unwrap_valr(result) {
            Ok(Val::TStr(bytes)) => out.extend_from_slice(&bytes),
            Ok(other) => {
                return Err(TemplateError::NotText {
                    template: template.to_owned(),
                    kind: kind(&other).to_owned(),
                });
            }
            Err(error) => {
                let message = match error.into_val() {
                    Val::TStr(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                    other => other.to_string(),
                };
                return Err(runtime(template, &message));
            }
        }
    }
    Ok(String::from_utf8(out)
        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()))
}

fn runtime(template: &str, message: &str) -> TemplateError {
    TemplateError::Runtime {
        template: template.to_owned(),
        line: None,
        message: message.to_owned(),
    }
}

fn kind(value: &Val) -> &'static str {
    match value {
        Val::Null => "null",
        Val::Bool(_) => "boolean",
        Val::Num(_) => "number",
        Val::BStr(_) | Val::TStr(_) => "string",
        Val::Arr(_) => "array",
        Val::Obj(_) => "object",
    }
}

/// The first loading error, named by file and (template) line.
fn load_error(program: &Program, errors: load::Errors<&str, String>) -> TemplateError {
    let Some((file, error)) = errors.into_iter().next() else {
        return TemplateError::Syntax {
            template: program.template.clone(),
            line: None,
            message: "cannot load".to_owned(),
        };
    };
    let is_main = file.path == program.template && std::ptr::eq(file.code, program.text.as_str());
    let line_of = |found: &str| -> Option<usize> {
        let offset = load::span(file.code, found).start;
        if is_main {
            program.template_line(offset)
        } else {
            Some(file.code[..offset].matches('\n').count() + 1)
        }
    };
    match error {
        load::Error::Io(missing) => TemplateError::MissingInclude {
            template: file.path,
            name: missing
                .into_iter()
                .next()
                .map(|(name, _)| name.to_owned())
                .unwrap_or_default(),
        },
        load::Error::Lex(errors) => {
            let (line, message) = errors
                .first()
                .map_or((None, String::new()), |(expect, found)| {
                    (line_of(found), format!("expected {}", expect.as_str()))
                });
            TemplateError::Syntax {
                template: file.path,
                line,
                message,
            }
        }
        load::Error::Parse(errors) => {
            let (line, message) =
                errors
                    .first()
                    .map_or((None, String::new()), |(expect, found)| {
                        let found_text = if found.is_empty() {
                            "the end".to_owned()
                        } else {
                            format!("{found:?}")
                        };
                        (
                            line_of(found),
                            format!("expected {}, found {found_text}", expect.as_str()),
                        )
                    });
            TemplateError::Syntax {
                template: file.path,
                line,
                message,
            }
        }
    }
}
