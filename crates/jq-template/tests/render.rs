//! Rendering converted templates: `env`, includes, join-output, and the errors for bad templates.
#![allow(clippy::unwrap_used)]

use valkey_bot_jq_template::{Input, Modules, TemplateError, convert, render};

const VERSIONS: &str = r#"{"9.1": {"version": "9.1.2", "debian": {"version": "trixie"}}, "unstable": {"version": "unstable"}}"#;

fn run(template: &str, modules: &Modules, version: &str) -> Result<String, TemplateError> {
    let program = convert("Dockerfile.template", template)?;
    let input = Input::parse("versions.json", VERSIONS.as_bytes()).unwrap();
    render(
        &program,
        modules,
        &input,
        &[("version", version), ("variant", "debian")],
    )
}

#[test]
fn renders_the_line_with_env_and_included_definitions() {
    let mut modules = Modules::new();
    modules.insert(
        "helpers",
        "helpers.jq",
        "def shout: ascii_upcase;".to_owned(),
    );
    let template = "{{ include \"helpers\" -}}\nFROM debian:{{ .debian.version }}-slim\n# {{ env.variant | shout }} {{ .version | @sh }}\n";
    assert_eq!(
        run(template, &modules, "9.1").unwrap(),
        "FROM debian:trixie-slim\n# DEBIAN '9.1.2'\n"
    );
    // A generator multiplies the text around it and the outputs are joined, as with jq.
    assert_eq!(
        run("<{{ (\"a\", \"b\") }}>", &modules, "9.1").unwrap(),
        "<a>\n<b>\n"
    );
    // `env` is what the caller gives, never the process environment.
    assert_eq!(
        run("{{ env.PATH // \"none\" }}", &modules, "9.1").unwrap(),
        "none\n"
    );
    // Without env.version the whole file is the input.
    let program = convert("t", "{{ keys | join(\",\") }}").unwrap();
    let input = Input::parse("versions.json", VERSIONS.as_bytes()).unwrap();
    assert_eq!(
        render(&program, &modules, &input, &[]).unwrap(),
        "9.1,unstable\n"
    );
}

#[test]
fn bad_templates_are_named_with_their_line() {
    let none = Modules::new();
    let error = run("a\n{{ include \"valkey-sbom\" -}}\n", &none, "9.1").unwrap_err();
    assert_eq!(
        error,
        TemplateError::MissingInclude {
            template: "Dockerfile.template".to_owned(),
            name: "valkey-sbom".to_owned()
        }
    );
    assert_eq!(
        error.to_string(),
        "Dockerfile.template: include \"valkey-sbom\": no module valkey-sbom.jq"
    );

    let error = run("ok\n\nFROM {{ .debian.version | }}\n", &none, "9.1").unwrap_err();
    assert!(
        matches!(&error, TemplateError::Syntax { line: Some(3), .. }),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .starts_with("Dockerfile.template:3: not a valid jq template"),
        "{error}"
    );

    let error = run(
        "{{ {trixie: \"debian13\"}[.debian.version] // error(\"no suite for \\(.version)\") }}",
        &none,
        "unstable",
    )
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "Dockerfile.template: jq error: no suite for unstable"
    );

    let error = run("{{ valkey_sbom }}", &none, "9.1").unwrap_err();
    assert!(
        matches!(&error, TemplateError::Undefined { message, .. } if message.contains("valkey_sbom")),
        "{error:?}"
    );
    let error = run("{{ 1 -}}\n", &none, "9.1").unwrap_err();
    assert!(matches!(error, TemplateError::NotText { .. }), "{error:?}");
    assert!(matches!(
        Input::parse("versions.json", b"{"),
        Err(TemplateError::Input { .. })
    ));
}
