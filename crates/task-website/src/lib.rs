//! The pure decisions of the website task: which page a release gets on
//! valkey-io/valkey-io.github.io, its exact bytes, and the binary links it will show.
//!
//! The page is `content/download/releases/v<version, '.' → '-'>.md` ([`page_path`]), rendered
//! from the repository's `templates/valkey-website-template.md` ([`Template`]) with the release
//! date ([`ReleaseDate`]) and the container image tags chosen by [`select_tags`]. The binary links
//! the page will show are read back from its front matter ([`page_links`]) and checked against the
//! artifacts task's verified list ([`missing_links`]). [`ReleasePage::build`] does all of it.

mod audit;
pub mod date;
pub mod links;
pub mod page;
pub mod path;
pub mod tags;
mod task;
pub mod template;

pub use date::{DateError, ReleaseDate};
pub use links::{BinaryLink, LinkError, missing_links, page_links};
pub use page::{ReleasePage, WebsiteError};
pub use path::page_path;
pub use tags::{ImageTags, TagError, select_tags};
pub use task::{FACTORY, Website, WebsiteSettings};
pub use template::{Placeholder, RenderError, Template, TemplateError};
