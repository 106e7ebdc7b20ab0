//! One line's directories regenerated the way `apply-templates.sh <line>` makes them: for each
//! variant, `<line>/<variant>/Dockerfile` = the generated-file warning + the variant's template
//! rendered for the line ([`valkey_bot_jq_template`]), and the root `docker-entrypoint.sh`
//! copied beside it with its mode. `pkg` is skipped for `unstable` (no packages are published
//! for it).
//!
//! Inputs, all read by the caller: the templates, `valkey-sbom.jq` and `docker-entrypoint.sh`
//! from the repository at the base commit, `versions.json` as it will be committed, and
//! bashbrew's `template-helper-functions.jq` (included as `.template-helper-functions`).

use std::collections::BTreeMap;

use valkey_bot_jq_template::{Input, Modules, TemplateError, convert, render};

/// What `apply-templates.sh` writes before every rendered Dockerfile.
pub const GENERATED_WARNING: &str = "#\n# NOTE: THIS DOCKERFILE IS GENERATED VIA \"apply-templates.sh\"\n#\n# PLEASE DO NOT EDIT IT DIRECTLY.\n#\n\n";

/// One image variant: a directory under each line, rendered from a template of the repository.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Variant {
    /// The directory name, e.g. `pkg`.
    pub name: String,
    /// The template's repository path, e.g. `Dockerfile-pkg.template`.
    pub template: String,
    /// Lines the variant is not rendered for (`unstable` for `pkg`: no packages exist for it).
    #[serde(default)]
    pub skip_lines: Vec<String>,
}

impl Variant {
    /// A variant rendered for every line but `skip_lines`.
    pub fn new(name: &str, template: &str, skip_lines: &[&str]) -> Self {
        Self {
            name: name.to_owned(),
            template: template.to_owned(),
            skip_lines: skip_lines.iter().map(|line| (*line).to_owned()).collect(),
        }
    }

    /// Today's variants of valkey-container, in `apply-templates.sh`'s order.
    pub fn defaults() -> Vec<Self> {
        vec![
            Self::new("debian", "Dockerfile.template", &[]),
            Self::new("alpine", "Dockerfile.template", &[]),
            Self::new("pkg", "Dockerfile-pkg.template", &["unstable"]),
        ]
    }
}

/// The repository files rendering reads (paths relative to its root) and bashbrew's helper file.
#[derive(Debug, Clone)]
pub struct RenderInputs<'a> {
    /// Template text by repository path (`Dockerfile.template`, `Dockerfile-pkg.template`).
    pub templates: BTreeMap<&'a str, &'a str>,
    /// `valkey-sbom.jq`.
    pub valkey_sbom: &'a str,
    /// bashbrew's `scripts/template-helper-functions.jq`.
    pub helper_functions: &'a str,
    /// The root `docker-entrypoint.sh` and whether it is executable.
    pub entrypoint: (&'a [u8], bool),
    /// `versions.json` as it will be committed.
    pub versions_json: &'a [u8],
}

/// The variants of `variants` rendered for `line`.
pub fn variants_of<'v>(
    variants: &'v [Variant],
    line: &'v str,
) -> impl Iterator<Item = &'v Variant> {
    variants
        .iter()
        .filter(move |variant| !variant.skip_lines.iter().any(|skip| skip == line))
}

/// Every file of `<line>/` after `apply-templates.sh <line>`: path → (bytes, executable).
pub fn render_line(
    inputs: &RenderInputs<'_>,
    variants: &[Variant],
    line: &str,
) -> Result<BTreeMap<String, (Vec<u8>, bool)>, TemplateError> {
    let mut modules = Modules::new();
    modules.insert(
        ".template-helper-functions",
        ".template-helper-functions.jq",
        inputs.helper_functions.to_owned(),
    );
    modules.insert(
        "valkey-sbom",
        "valkey-sbom.jq",
        inputs.valkey_sbom.to_owned(),
    );
    let input = Input::parse("versions.json", inputs.versions_json)?;
    let mut programs = BTreeMap::new();
    let mut files = BTreeMap::new();
    for variant in variants_of(variants, line) {
        let template = variant.template.as_str();
        if !programs.contains_key(template) {
            let source =
                inputs
                    .templates
                    .get(template)
                    .ok_or_else(|| TemplateError::MissingInclude {
                        template: "apply-templates.sh".to_owned(),
                        name: template.to_owned(),
                    })?;
            programs.insert(template, convert(template, source)?);
        }
        let program = &programs[template];
        let text = render(
            program,
            &modules,
            &input,
            &[("version", line), ("variant", &variant.name)],
        )?;
        let mut dockerfile = GENERATED_WARNING.as_bytes().to_vec();
        dockerfile.extend_from_slice(text.as_bytes());
        let dir = format!("{line}/{}", variant.name);
        files.insert(format!("{dir}/Dockerfile"), (dockerfile, false));
        files.insert(
            format!("{dir}/docker-entrypoint.sh"),
            (inputs.entrypoint.0.to_vec(), inputs.entrypoint.1),
        );
    }
    Ok(files)
}

/// The variant directories under `line/` in `paths` (a listing of the repository) that
/// [`render_line`] would not write: each would be left stale.
pub fn unrendered_variants<'p>(
    paths: impl IntoIterator<Item = &'p str>,
    variants: &[Variant],
    line: &str,
) -> Vec<String> {
    let rendered: Vec<&str> = variants_of(variants, line)
        .map(|variant| variant.name.as_str())
        .collect();
    let prefix = format!("{line}/");
    let mut unknown: Vec<String> = paths
        .into_iter()
        .filter_map(|path| path.strip_prefix(&prefix)?.split_once('/'))
        .map(|(dir, _)| dir)
        .filter(|dir| !rendered.contains(dir))
        .map(str::to_owned)
        .collect();
    unknown.sort();
    unknown.dedup();
    unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkg_is_not_rendered_for_unstable_and_unknown_directories_are_found() {
        let variants = Variant::defaults();
        let names = |line| -> Vec<&str> {
            variants_of(&variants, line)
                .map(|v| v.name.as_str())
                .collect()
        };
        assert_eq!(names("unstable"), ["debian", "alpine"]);
        let rendered = names("9.1");
        assert_eq!(rendered, ["debian", "alpine", "pkg"]);
        let listing = [
            "9.1/debian/Dockerfile",
            "9.1/pkg/Dockerfile",
            "9.1/wolfi/Dockerfile",
            "9.1/wolfi/docker-entrypoint.sh",
            "9.10/other/Dockerfile",
            "versions.json",
        ];
        assert_eq!(unrendered_variants(listing, &variants, "9.1"), ["wolfi"]);
        assert!(
            unrendered_variants(["unstable/debian/Dockerfile"], &variants, "unstable").is_empty()
        );
        assert_eq!(
            unrendered_variants(["unstable/pkg/Dockerfile"], &variants, "unstable"),
            ["pkg"]
        );
    }
}
