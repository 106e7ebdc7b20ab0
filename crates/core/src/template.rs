//! Tiny string templates for branch names, titles and messages: `{version}` and `{minor}`.

use std::fmt;

use crate::version::Version;

/// A validated template. Placeholders: `{version}` (`9.1.0-rc1`) and `{minor}` (`9.1`).
#[derive(Clone, PartialEq, Eq)]
pub struct Template(String);

/// Why a template is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template has an unknown placeholder `{{{0}}}` (known: {{version}}, {{minor}})")]
pub struct TemplateError(String);

const PLACEHOLDERS: [&str; 2] = ["version", "minor"];

impl Template {
    /// Checks that every `{...}` in `text` is a known placeholder.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let mut rest = text;
        while let Some(start) = rest.find('{') {
            let after = &rest[start + 1..];
            let end = after
                .find('}')
                .ok_or_else(|| TemplateError(after.chars().take(20).collect()))?;
            let name = &after[..end];
            if !PLACEHOLDERS.contains(&name) {
                return Err(TemplateError(name.chars().take(40).collect()));
            }
            rest = &after[end + 1..];
        }
        Ok(Self(text.to_owned()))
    }

    /// Fills in the placeholders.
    pub fn render(&self, version: &Version) -> String {
        self.0
            .replace("{version}", version.as_str())
            .replace("{minor}", &version.minor_line())
    }
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Template({:?})", self.0)
    }
}

impl<'de> serde::Deserialize<'de> for Template {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_version_and_minor() {
        let version = Version::parse("9.1.0-rc1").expect("valid");
        let template = Template::parse("update-{version} ({minor})").expect("valid");
        assert_eq!(template.render(&version), "update-9.1.0-rc1 (9.1)");
    }

    #[test]
    fn refuses_unknown_and_unclosed_placeholders() {
        assert_eq!(
            Template::parse("x-{tag}").unwrap_err().to_string(),
            "template has an unknown placeholder `{tag}` (known: {version}, {minor})"
        );
        assert!(Template::parse("x-{version").is_err());
    }
}
