//! The binary links a rendered release page shows, and the check that each is verified.
//!
//! The website's `templates/includes/release.html` shows, for every `arch` of every entry of
//! `extra.artifacts` in the page's YAML front matter, a link to
//! `<artifact_source><artifact_fname>-<tag>-<distro>-<arch>.tar.gz` and one to the same URL with
//! `.sha256` appended (`artifact_source`, `artifact_fname` and `tag` are keys of `extra`). The
//! template today writes `artifact_source: https://download.valkey.io/releases/`,
//! `artifact_fname: "valkey"`, `tag: "{version}"` and jammy and noble, each with arm64 and x86_64.
//!
//! [`page_links`] reads those keys with a YAML parser, as Zola does, so quoting, indentation and
//! flow or block lists do not matter; a page whose front matter lacks them or has them in another
//! shape is an error naming the key.

use url::Url;
use valkey_bot_core::outputs::VerifiedArtifact;
use valkey_bot_release_artifacts::{
    BaseUrl, BaseUrlError, CHECKSUM_SUFFIX, Platform, PlatformError,
};
use yaml_rust2::{Yaml, YamlLoader};

/// One binary the page links to, and its checksum file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BinaryLink {
    /// The platform named by the link.
    pub platform: Platform,
    /// The tarball's URL.
    pub tarball: Url,
    /// The checksum file's URL: the tarball's with `.sha256` appended.
    pub checksum: Url,
}

/// Why the binary links of a page could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// The page does not start with a `---` line, or that front matter is never closed.
    #[error("page has no YAML front matter between two `---` lines")]
    NoFrontMatter,
    /// The front matter is not valid YAML.
    #[error("page front matter is not valid YAML: {0}")]
    Yaml(String),
    /// A key the links are built from is missing or has the wrong type.
    #[error("page front matter: `{key}` {problem}")]
    Shape {
        /// The key's path, e.g. `extra.artifacts[1].arch`.
        key: String,
        /// What is wrong, e.g. `is missing` or `is not a string`.
        problem: &'static str,
    },
    /// `extra.artifact_source` is not a usable base URL.
    #[error("page front matter: `extra.artifact_source`: {0}")]
    Source(#[from] BaseUrlError),
    /// A distro or arch is not a valid platform name.
    #[error("page front matter: {0}")]
    Platform(#[from] PlatformError),
    /// `artifact_fname` or `tag` would not make a plain file name.
    #[error(
        "page front matter: `extra.{key}` value {value:?} is not a plain file-name part ([A-Za-z0-9._-], not starting with '.')"
    )]
    FileNamePart {
        /// `artifact_fname` or `tag`.
        key: &'static str,
        /// The refused value (at most 200 characters).
        value: String,
    },
}

/// The binary links `page` shows, in the page's order (artifact entries, then their arches).
pub fn page_links(page: &str) -> Result<Vec<BinaryLink>, LinkError> {
    let front_matter = front_matter(page).ok_or(LinkError::NoFrontMatter)?;
    let documents =
        YamlLoader::load_from_str(front_matter).map_err(|e| LinkError::Yaml(e.to_string()))?;
    let root = match documents.as_slice() {
        [root] => root,
        _ => {
            return Err(LinkError::Yaml(
                "expected exactly one YAML document".to_owned(),
            ));
        }
    };
    let extra = field(root, "extra", "extra")?;
    let source = BaseUrl::parse(string(
        field(extra, "artifact_source", "extra.artifact_source")?,
        "extra.artifact_source",
    )?)?;
    let fname = file_name_part(extra, "artifact_fname")?;
    let tag = file_name_part(extra, "tag")?;
    let artifacts = match &extra["artifacts"] {
        // Like the website's `{% if release.artifacts %}`: no list, no links.
        Yaml::BadValue | Yaml::Null => return Ok(Vec::new()),
        Yaml::Array(artifacts) => artifacts,
        _ => return Err(shape("extra.artifacts", "is not a list")),
    };
    let mut links = Vec::new();
    for (i, artifact) in artifacts.iter().enumerate() {
        let distro_key = format!("extra.artifacts[{i}].distro");
        let distro = string(field(artifact, "distro", &distro_key)?, &distro_key)?;
        let arch_key = format!("extra.artifacts[{i}].arch");
        let Yaml::Array(arches) = field(artifact, "arch", &arch_key)? else {
            return Err(shape(&arch_key, "is not a list"));
        };
        for (j, arch) in arches.iter().enumerate() {
            let arch = string(arch, &format!("{arch_key}[{j}]"))?;
            let platform = Platform::new(distro, arch)?;
            let name = format!("{fname}-{tag}-{distro}-{arch}.tar.gz");
            links.push(BinaryLink {
                platform,
                tarball: source.join(&name),
                checksum: source.join(&format!("{name}{CHECKSUM_SUFFIX}")),
            });
        }
    }
    Ok(links)
}

/// The page links not backed by a verified artifact, in the links' order.
///
/// A tarball link is backed when a verified artifact has exactly its URL; a checksum link when a
/// verified artifact's URL plus `.sha256` is exactly its URL (verifying an artifact reads the
/// `.sha256` file beside it).
pub fn missing_links(links: &[BinaryLink], verified: &[VerifiedArtifact]) -> Vec<Url> {
    let checksum_of = |artifact: &VerifiedArtifact| format!("{}{CHECKSUM_SUFFIX}", artifact.url);
    let mut missing = Vec::new();
    for link in links {
        if !verified
            .iter()
            .any(|artifact| artifact.url == link.tarball.as_str())
        {
            missing.push(link.tarball.clone());
        }
        if !verified
            .iter()
            .any(|artifact| checksum_of(artifact) == link.checksum.as_str())
        {
            missing.push(link.checksum.clone());
        }
    }
    missing
}

/// The text between a first line `---` and the next line `---`.
fn front_matter(page: &str) -> Option<&str> {
    let mut lines = page.split_inclusive('\n');
    let first = lines.next()?;
    if first.trim_end_matches(['\r', '\n']) != "---" || !first.ends_with('\n') {
        return None;
    }
    let start = first.len();
    let mut end = start;
    for line in lines {
        if line.trim_end_matches(['\r', '\n']) == "---" {
            return page.get(start..end);
        }
        end += line.len();
    }
    None
}

fn shape(key: &str, problem: &'static str) -> LinkError {
    LinkError::Shape {
        key: key.to_owned(),
        problem,
    }
}

/// `node[name]`, which must exist and not be null.
fn field<'a>(node: &'a Yaml, name: &str, key: &str) -> Result<&'a Yaml, LinkError> {
    if !matches!(node, Yaml::Hash(_)) {
        let parent = key.rsplit_once('.').map_or("(front matter)", |(p, _)| p);
        return Err(shape(parent, "is not a mapping"));
    }
    match &node[name] {
        Yaml::BadValue | Yaml::Null => Err(shape(key, "is missing")),
        value => Ok(value),
    }
}

fn string<'a>(node: &'a Yaml, key: &str) -> Result<&'a str, LinkError> {
    node.as_str().ok_or_else(|| shape(key, "is not a string"))
}

/// `extra[key]` as a string that can be pasted into a file name.
fn file_name_part<'a>(extra: &'a Yaml, key: &'static str) -> Result<&'a str, LinkError> {
    let path = format!("extra.{key}");
    let value = string(field(extra, key, &path)?, &path)?;
    let plain = !value.is_empty()
        && !value.starts_with('.')
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if plain {
        Ok(value)
    } else {
        Err(LinkError::FileNamePart {
            key,
            value: value.chars().take(200).collect(),
        })
    }
}
