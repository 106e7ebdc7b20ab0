//! The website task's audit of the release pages at the head of the website's branch:
//!
//! - `page` (per release): every final release since the first final with a page has one, and
//!   every release candidate since the first candidate with a page (the site had none before
//!   9.0.0-rc1); earlier releases are not applicable;
//! - `tags` (per page): the page lists exactly the tags [`select_tags`] picks from the tags the
//!   container repository publishes for that version (the container audit's
//!   [`PublishedImageTags`]); a version no line is at any more publishes no tags: not applicable;
//! - `binaries` (per page): every binary the page links to has its `.sha256` on the download
//!   site, in `sha256sum` format for that file; with `--deep` the binary itself is downloaded and
//!   must hash to it. Without `--deep` only a sample is checked: the page of the newest release
//!   of each minor line.

use std::collections::BTreeMap;

use futures::{StreamExt, TryStreamExt};

use valkey_bot_core::audit::{Audit, AuditContext, FileLine, Finding, Fix, Subject};
use valkey_bot_core::outputs::PublishedImageTags;
use valkey_bot_core::{TaskError, Version};
use valkey_bot_release_artifacts::checksum::{MAX_SHA256_FILE_LEN, parse_sha256_file};

use crate::links::page_links;
use crate::path::{RELEASES_DIR, page_path};
use crate::tags::select_tags;
use crate::task::Website;
use crate::template::TAG_INDENT;

/// How many pages are read at once.
const CONCURRENT_READS: usize = 8;

/// The tags a page lists: its lines `<TAG_INDENT>- "<tag>"`, in order.
fn listed_tags(page: &str) -> Vec<String> {
    page.lines()
        .filter_map(|line| line.strip_prefix(TAG_INDENT)?.strip_prefix("- \""))
        .filter_map(|rest| rest.strip_suffix('"'))
        .map(str::to_owned)
        .collect()
}

/// What checking one binary link found: `None` when it is fine.
async fn check_binary(
    ctx: &AuditContext<'_>,
    tarball: &url::Url,
    checksum: &url::Url,
) -> Result<Option<String>, String> {
    let name = tarball
        .path_segments()
        .and_then(|mut segments| segments.next_back())
        .unwrap_or_default()
        .to_owned();
    let limit = u64::try_from(MAX_SHA256_FILE_LEN).unwrap_or(u64::MAX);
    let file = match ctx.downloads.small_file(checksum.as_str(), limit).await {
        Ok(file) => file,
        Err(e) if e.not_found => return Ok(Some(format!("{checksum} does not exist"))),
        Err(e) => return Err(e.to_string()),
    };
    let published = match parse_sha256_file(&file, &name) {
        Ok(digest) => digest,
        Err(e) => return Ok(Some(format!("{checksum}: {e}"))),
    };
    if !ctx.deep {
        return Ok(None);
    }
    match ctx.downloads.digest(tarball.as_str()).await {
        Ok(digested) if digested.sha256 == published => Ok(None),
        Ok(digested) => Ok(Some(format!(
            "{tarball} hashes to {}, but its .sha256 says {published}",
            digested.sha256
        ))),
        Err(e) if e.not_found => Ok(Some(format!("{tarball} does not exist"))),
        Err(e) => Err(e.to_string()),
    }
}

impl Website {
    /// The audit described in this module's documentation.
    pub(crate) async fn audit_pages(&self, ctx: &AuditContext<'_>) -> Result<Audit, TaskError> {
        let (target, _) = ctx.branch()?;
        let repo = &target.repo;
        let head = ctx.head().await?;
        let listing = ctx
            .repos
            .list_files(repo, &head, RELEASES_DIR)
            .await?
            .unwrap_or_default();
        let has_page = |version: &Version| {
            let path = page_path(version);
            listing.iter().any(|f| f.path == path)
        };
        let first_final = ctx.releases.finals().find(|v| has_page(v)).cloned();
        let first_rc = ctx
            .releases
            .all()
            .iter()
            .find(|v| v.is_release_candidate() && has_page(v))
            .cloned();
        let mut sample: BTreeMap<String, &Version> = BTreeMap::new();
        for version in ctx.releases.all() {
            sample.insert(version.minor_line(), version);
        }
        let published = ctx.input::<PublishedImageTags>();
        // Every page is read once, several at a time (a whole history is ~150 pages).
        let paths: Vec<String> = ctx
            .releases
            .all()
            .iter()
            .map(page_path)
            .filter(|path| listing.iter().any(|f| f.path == *path))
            .collect();
        let (repos, head_ref) = (ctx.repos, head.as_str());
        let pages: BTreeMap<String, String> = futures::stream::iter(paths)
            .map(|path| async move {
                let bytes = repos.read_file(repo, head_ref, &path).await?;
                let text =
                    String::from_utf8_lossy(bytes.as_deref().unwrap_or_default()).into_owned();
                Ok::<_, TaskError>((path, text))
            })
            .buffered(CONCURRENT_READS)
            .try_collect()
            .await?;
        let mut audit = Audit::default();
        for version in ctx.releases.all() {
            let subject = || Subject::Version(version.clone());
            let first = if version.is_release_candidate() {
                &first_rc
            } else {
                &first_final
            };
            let path = page_path(version);
            if first.as_ref().is_none_or(|first| version < first) {
                audit.findings.push(Finding::not_applicable(
                    subject(),
                    "page",
                    "older than the first page of its kind",
                ));
                continue;
            }
            if !has_page(version) {
                audit.findings.push(Finding::drift(
                    subject(),
                    "page",
                    format!("the website has no page for {version}"),
                    Some(FileLine {
                        path: path.clone(),
                        line: None,
                    }),
                    Fix::Rerun {
                        version: version.clone(),
                    },
                ));
                continue;
            }
            audit.findings.push(Finding::ok(subject(), "page"));
            let page = pages.get(&path).cloned().unwrap_or_default();
            let at = Some(FileLine {
                path: path.clone(),
                line: None,
            });

            audit.findings.push(match &published {
                Err(e) => Finding::unknown(subject(), "tags", e.to_string()),
                Ok(published) => match published.0.get(version.as_str()) {
                    None => Finding::not_applicable(
                        subject(),
                        "tags",
                        "the container repository publishes no tags for it any more",
                    ),
                    Some(tags) => {
                        let listed = listed_tags(&page);
                        match select_tags(version, tags) {
                            Ok(wanted) if wanted == listed => Finding::ok(subject(), "tags"),
                            Ok(wanted) => Finding::drift(
                                subject(),
                                "tags",
                                format!(
                                    "the page lists [{}], the container repository publishes [{}]",
                                    listed.join(", "),
                                    wanted.join(", ")
                                ),
                                at.clone(),
                                Fix::Rerun {
                                    version: version.clone(),
                                },
                            ),
                            Err(e) => Finding::unknown(subject(), "tags", e.to_string()),
                        }
                    }
                },
            });

            let sampled = ctx.deep || sample.get(&version.minor_line()) == Some(&version);
            if !sampled {
                audit.findings.push(Finding::not_applicable(
                    subject(),
                    "binaries",
                    "not in the sample (use --deep)",
                ));
                continue;
            }
            let links = match page_links(&page) {
                Ok(links) => links,
                Err(e) => {
                    audit.findings.push(Finding::drift(
                        subject(),
                        "binaries",
                        e.to_string(),
                        at.clone(),
                        Fix::Rerun {
                            version: version.clone(),
                        },
                    ));
                    continue;
                }
            };
            let mut problems = Vec::new();
            let mut unknown = None;
            for link in &links {
                match check_binary(ctx, &link.tarball, &link.checksum).await {
                    Ok(None) => {}
                    Ok(Some(problem)) => problems.push(problem),
                    Err(why) => unknown = Some(why),
                }
            }
            audit.findings.push(match (problems.is_empty(), unknown) {
                (true, None) => Finding::ok(subject(), "binaries"),
                (true, Some(why)) => Finding::unknown(subject(), "binaries", why),
                (false, _) => Finding::drift(
                    subject(),
                    "binaries",
                    problems.join("; "),
                    at.clone(),
                    Fix::ByHand {
                        how: format!(
                            "publish the binaries of {version} and their .sha256 files again from the release build (the bot does not upload binaries)"
                        ),
                    },
                ),
            });
        }
        Ok(audit)
    }
}
