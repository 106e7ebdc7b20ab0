//! A release's page: path, bytes, tags and links, decided in one call.

use valkey_bot_core::Version;

use crate::date::ReleaseDate;
use crate::links::{BinaryLink, LinkError, page_links};
use crate::path::page_path;
use crate::tags::{ImageTags, TagError, select_tags};
use crate::template::{RenderError, Template};

/// Everything the website task writes and checks for one release.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleasePage {
    /// The page's path in the repository, e.g. `content/download/releases/v9-1-1.md`.
    pub path: String,
    /// The page's exact content.
    pub content: String,
    /// The image tags it lists, in order.
    pub tags: Vec<String>,
    /// The binary links it shows, read back from `content`.
    pub links: Vec<BinaryLink>,
}

/// Why the page of a release could not be decided.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebsiteError {
    /// No tags to list.
    #[error(transparent)]
    Tags(#[from] TagError),
    /// The tags could not be rendered.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The rendered page's binary links could not be read.
    #[error(transparent)]
    Links(#[from] LinkError),
}

impl ReleasePage {
    /// Selects the tags of `version` from `container_tags`, renders `template` with them and
    /// `date`, and reads back the binary links the page will show.
    pub fn build(
        template: &Template,
        version: &Version,
        date: ReleaseDate,
        container_tags: &ImageTags,
    ) -> Result<Self, WebsiteError> {
        let tags = select_tags(version, container_tags)?;
        let content = template.render(version, date, &tags)?;
        let links = page_links(&content)?;
        Ok(Self {
            path: page_path(version),
            content,
            tags,
            links,
        })
    }
}
