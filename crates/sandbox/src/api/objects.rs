//! Git data: blobs, trees (with nested paths and deletions) and commits.

use std::collections::BTreeMap;

use super::extract::GhPath;
use axum::Extension;
use axum::Json;
use axum::extract::Query;
use axum::http::StatusCode;
use base64::Engine;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::SharedState;
use super::extract::GhJson;
use crate::auth::{CONTENTS_READ, CONTENTS_WRITE, Caller, unix_seconds};
use crate::error::ApiError;
use crate::git::{Depth, Identity, is_hex_id};
use crate::lag::LagAfter;
use crate::repo::Repo;
use crate::shared::Shared;

/// Body of `POST /git/blobs`.
#[derive(Deserialize)]
pub(crate) struct CreateBlob {
    content: String,
    #[serde(default)]
    encoding: Option<String>,
}

/// `POST /repos/{o}/{r}/git/blobs` → 201 `{sha, url}`.
pub(crate) async fn create_blob(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name)): GhPath<(String, String)>,
    lag: LagAfter,
    GhJson(body): GhJson<CreateBlob>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let repo = shared.open(&owner, &name, &caller, CONTENTS_WRITE)?;
    repo.refuse_git_data_if_empty().await?;
    let bytes = match body.encoding.as_deref().unwrap_or("utf-8") {
        "utf-8" | "utf8" => body.content.into_bytes(),
        "base64" => decode_base64(&body.content).ok_or_else(|| {
            ApiError::unprocessable("Invalid request.\n\ncontent is not valid Base64.")
        })?,
        other => {
            return Err(ApiError::unprocessable(format!(
                "encoding must be one of: utf-8, base64 (got {other:?})"
            )));
        }
    };
    let sha = repo.git.write_blob(&bytes).await?;
    repo.lag.hide_object(lag, &sha);
    Ok((
        StatusCode::CREATED,
        Json(
            json!({ "sha": sha, "url": format!("{}/git/blobs/{sha}", shared.repo_api_url(&repo)) }),
        ),
    ))
}

/// Decodes base64 the way GitHub accepts it: whitespace (line breaks) ignored.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

/// Body of `POST /git/trees`; entries are parsed by hand to tell `"sha": null` from no `sha`.
#[derive(Deserialize)]
pub(crate) struct CreateTree {
    #[serde(default)]
    base_tree: Option<String>,
    tree: Vec<Map<String, Value>>,
}

/// One requested tree change.
enum Change {
    /// Put `mode sha` at `path` (`sha` may be a tree id for mode 040000).
    Put {
        path: String,
        mode: String,
        sha: String,
    },
    /// Put a new blob with `content` at `path`.
    Content {
        path: String,
        mode: String,
        content: String,
    },
    /// Remove `path` (a file or a whole directory).
    Delete { path: String },
}

fn parse_change(entry: &Map<String, Value>) -> Result<Change, ApiError> {
    let invalid = |why: &str| ApiError::unprocessable(format!("Invalid tree info: {why}"));
    let path = entry
        .get("path")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("path is required"))?;
    if !valid_tree_path(path) {
        return Err(invalid(&format!("path {path:?} is not a valid path")));
    }
    let mode = entry
        .get("mode")
        .and_then(Value::as_str)
        .unwrap_or("100644");
    let kind = entry.get("type").and_then(Value::as_str).unwrap_or("blob");
    let expected_kind = match mode {
        "100644" | "100755" | "120000" => "blob",
        "040000" => "tree",
        "160000" => "commit",
        _ => return Err(invalid(&format!("mode {mode:?} is not valid"))),
    };
    if kind != expected_kind {
        return Err(invalid(&format!("type {kind:?} does not fit mode {mode}")));
    }
    let path = path.to_owned();
    let mode = mode.to_owned();
    match (entry.get("sha"), entry.get("content")) {
        (Some(Value::Null), None) => Ok(Change::Delete { path }),
        (Some(Value::String(sha)), None) if is_hex_id(sha) => Ok(Change::Put {
            path,
            mode,
            sha: sha.clone(),
        }),
        (None, Some(Value::String(content))) if kind == "blob" => Ok(Change::Content {
            path,
            mode,
            content: content.clone(),
        }),
        _ => Err(invalid(
            "each entry needs exactly one of sha (string or null) and content",
        )),
    }
}

/// Relative, no empty, `.`, `..` or `.git` segments.
fn valid_tree_path(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\0')
        && path.split('/').all(|segment| {
            !segment.is_empty() && segment != "." && segment != ".." && segment != ".git"
        })
}

/// The flattened tree being built: path → (mode, sha).
type Flat = BTreeMap<String, (String, String)>;

/// Removes `path` and everything below it; whether there was anything to remove.
fn remove_path(flat: &mut Flat, path: &str) -> bool {
    let below = format!("{path}/");
    let before = flat.len();
    flat.retain(|existing, _| existing != path && !existing.starts_with(&below));
    flat.len() != before
}

/// Puts one entry at `path`, replacing a directory there or a file at any of its parents.
fn put_path(flat: &mut Flat, path: &str, mode: String, sha: String) {
    let _replaced = remove_path(flat, path);
    let mut parent = path;
    while let Some((up, _)) = parent.rsplit_once('/') {
        flat.remove(up);
        parent = up;
    }
    flat.insert(path.to_owned(), (mode, sha));
}

/// `POST /repos/{o}/{r}/git/trees` → 201 `{sha, url, tree: [...], truncated}`.
pub(crate) async fn create_tree(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name)): GhPath<(String, String)>,
    lag: LagAfter,
    GhJson(body): GhJson<CreateTree>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let repo = shared.open(&owner, &name, &caller, CONTENTS_WRITE)?;
    repo.refuse_git_data_if_empty().await?;
    let changes = body
        .tree
        .iter()
        .map(parse_change)
        .collect::<Result<Vec<_>, _>>()?;
    let mut flat = Flat::new();
    if let Some(base) = &body.base_tree {
        let base = object_of_kind(&repo, base, "tree")
            .await?
            .ok_or_else(|| ApiError::unprocessable("base_tree is not a valid tree oid"))?;
        for entry in repo.git.tree_entries(&base, Depth::Files).await? {
            flat.insert(entry.path, (entry.mode, entry.sha));
        }
    }
    for change in changes {
        match change {
            // GitHub refuses to delete a path the tree does not have.
            Change::Delete { path } if !remove_path(&mut flat, &path) => {
                return Err(ApiError::unprocessable("GitRPC::BadObjectState"));
            }
            Change::Delete { .. } => {}
            Change::Content {
                path,
                mode,
                content,
            } => {
                let sha = repo.git.write_blob(content.as_bytes()).await?;
                put_path(&mut flat, &path, mode, sha);
            }
            Change::Put { path, mode, sha } if mode == "040000" => {
                let tree = object_of_kind(&repo, &sha, "tree").await?.ok_or_else(|| {
                    ApiError::unprocessable(format!(
                        "Invalid tree info: tree.sha {sha} is not a valid tree"
                    ))
                })?;
                put_path(&mut flat, &path, mode, tree.clone());
                flat.remove(&path);
                for entry in repo.git.tree_entries(&tree, Depth::Files).await? {
                    flat.insert(format!("{path}/{}", entry.path), (entry.mode, entry.sha));
                }
            }
            Change::Put { path, mode, sha } => {
                let kind = if mode == "160000" { "commit" } else { "blob" };
                let resolved = if kind == "commit" {
                    Some(sha.clone()).filter(|sha| sha.len() == 40)
                } else {
                    object_of_kind(&repo, &sha, kind).await?
                };
                let resolved = resolved.ok_or_else(|| {
                    ApiError::unprocessable(format!(
                        "Invalid tree info: tree.sha {sha} is not a valid {kind}"
                    ))
                })?;
                put_path(&mut flat, &path, mode, resolved);
            }
        }
    }
    let sha = write_tree(&repo, &flat).await?;
    repo.lag.hide_object(lag, &sha);
    Ok((
        StatusCode::CREATED,
        Json(tree_json(&shared, &repo, &sha, Depth::Top).await?),
    ))
}

/// The full id of `sha` if it exists and is a `kind` object.
async fn object_of_kind(repo: &Repo, sha: &str, kind: &str) -> Result<Option<String>, ApiError> {
    if !is_hex_id(sha) {
        return Ok(None);
    }
    Ok(repo
        .git
        .object_info(sha)
        .await?
        .filter(|info| info.kind == kind)
        .map(|info| info.sha))
}

/// Writes `flat` as a tree through a temporary index file; returns the tree id.
async fn write_tree(repo: &Repo, flat: &Flat) -> Result<String, ApiError> {
    let index = tempfile_path(repo);
    let index_text = index.to_string_lossy().into_owned();
    let env = [("GIT_INDEX_FILE", index_text.as_str())];
    let mut info = Vec::new();
    for (path, (mode, sha)) in flat {
        info.extend_from_slice(format!("{mode} {sha}\t{path}").as_bytes());
        info.push(0);
    }
    let result = async {
        repo.git.ok(&["read-tree", "--empty"], None, &env).await?;
        repo.git
            .ok(&["update-index", "-z", "--index-info"], Some(&info), &env)
            .await?;
        repo.git.ok(&["write-tree"], None, &env).await
    }
    .await;
    // The index is scratch: a failure to remove it only leaves a stray file behind.
    let _ = tokio::fs::remove_file(&index).await;
    Ok(String::from_utf8_lossy(&result?).trim().to_owned())
}

/// A fresh scratch index path inside the repository's git directory.
fn tempfile_path(repo: &Repo) -> std::path::PathBuf {
    let suffix: u64 = rand::random();
    repo.git.dir().join(format!("sandbox-index-{suffix:016x}"))
}

/// GitHub's tree JSON: the entries of `sha`, every one below it for `Depth::All`.
async fn tree_json(
    shared: &Shared,
    repo: &Repo,
    sha: &str,
    depth: Depth,
) -> Result<Value, ApiError> {
    let api = shared.repo_api_url(repo);
    let entries: Vec<Value> = repo
        .git
        .tree_entries(sha, depth)
        .await?
        .into_iter()
        .map(|entry| {
            let object_path = if entry.kind == "tree" {
                "trees"
            } else {
                "blobs"
            };
            let mut value = json!({
                "path": entry.path,
                "mode": entry.mode,
                "type": entry.kind,
                "sha": entry.sha,
                "url": format!("{api}/git/{object_path}/{}", entry.sha),
            });
            if let (Some(size), Some(map)) = (entry.size, value.as_object_mut()) {
                map.insert("size".to_owned(), size.into());
            }
            value
        })
        .collect();
    Ok(json!({
        "sha": sha,
        "url": format!("{api}/git/trees/{sha}"),
        "tree": entries,
        "truncated": false,
    }))
}

/// Author or committer as given in a request.
#[derive(Deserialize, Clone)]
pub(crate) struct GivenIdentity {
    name: String,
    email: String,
    #[serde(default)]
    date: Option<String>,
}

/// Body of `POST /git/commits`.
#[derive(Deserialize)]
pub(crate) struct CreateCommit {
    message: String,
    tree: String,
    #[serde(default)]
    parents: Vec<String>,
    #[serde(default)]
    author: Option<GivenIdentity>,
    #[serde(default)]
    committer: Option<GivenIdentity>,
}

impl GivenIdentity {
    fn into_identity(self, now: &str) -> Identity {
        Identity {
            name: self.name,
            email: self.email,
            date: self.date.unwrap_or_else(|| now.to_owned()),
        }
    }
}

/// `POST /repos/{o}/{r}/git/commits` → 201; signed (verified) when an App installation token
/// (or a workflow token) gives no author/committer.
pub(crate) async fn create_commit(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name)): GhPath<(String, String)>,
    lag: LagAfter,
    GhJson(body): GhJson<CreateCommit>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let repo = shared.open(&owner, &name, &caller, CONTENTS_WRITE)?;
    repo.refuse_git_data_if_empty().await?;
    let tree = object_of_kind(&repo, &body.tree, "tree")
        .await?
        .ok_or_else(|| ApiError::unprocessable("Tree SHA does not exist"))?;
    let mut parents = Vec::new();
    for parent in &body.parents {
        let sha = object_of_kind(&repo, parent, "commit")
            .await?
            .ok_or_else(|| {
                ApiError::unprocessable("Parent SHA does not exist or is not a commit object")
            })?;
        parents.push(sha);
    }
    let now = format!("@{} +0000", unix_seconds(std::time::SystemTime::now()));
    // GitHub signs (and commits as `GitHub <noreply@github.com>`, the `web-flow` user) what an
    // App installation token (a workflow token is one) creates without an author or committer;
    // a plain token's commits are the token user's own, unsigned.
    let signed = body.author.is_none() && body.committer.is_none() && caller.commits_signed();
    let (author, committer) = match (body.author, body.committer) {
        (None, None) => {
            let actor = shared.auth.actor(&caller);
            let author = Identity {
                name: actor.name,
                email: actor.email,
                date: now.clone(),
            };
            let committer = if signed {
                Identity {
                    name: "GitHub".to_owned(),
                    email: "noreply@github.com".to_owned(),
                    date: now.clone(),
                }
            } else {
                author.clone()
            };
            (author, committer)
        }
        (Some(author), committer) => {
            let committer = committer.unwrap_or_else(|| author.clone());
            (author.into_identity(&now), committer.into_identity(&now))
        }
        (None, Some(committer)) => (
            committer.clone().into_identity(&now),
            committer.into_identity(&now),
        ),
    };
    let sha = repo
        .git
        .commit_tree(&tree, &parents, &body.message, &author, &committer)
        .await?;
    repo.lag.hide_object(lag, &sha);
    if signed {
        let verified = sha.clone();
        shared
            .store
            .update(move |state| {
                state.verified_commits.insert(verified);
                Ok(())
            })
            .await?;
    }
    let commit = commit_json(&shared, &repo, &sha)
        .await?
        .ok_or_else(|| ApiError::internal("the new commit cannot be read back"))?;
    Ok((StatusCode::CREATED, Json(commit)))
}

/// Query of `GET /git/trees/{sha}`: any `recursive` value lists the whole tree, as on GitHub.
#[derive(Deserialize)]
pub(crate) struct TreeQuery {
    #[serde(default)]
    recursive: Option<String>,
}

/// `GET /repos/{o}/{r}/git/trees/{sha}`: `sha` a tree, a commit (its tree) or a branch or tag name.
pub(crate) async fn get_tree(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name, sha)): GhPath<(String, String, String)>,
    Query(query): Query<TreeQuery>,
) -> Result<Json<Value>, ApiError> {
    let repo = shared.open(&owner, &name, &caller, CONTENTS_READ)?;
    let tree = match repo.resolve_commit(&sha).await? {
        Some(commit) => repo.git.resolve(&commit, "tree").await?,
        None if repo.lag.is_hidden(&sha) => None,
        None => object_of_kind(&repo, &sha, "tree").await?,
    }
    .filter(|tree| !repo.lag.is_hidden(tree))
    .ok_or_else(ApiError::not_found)?;
    let depth = if query.recursive.is_some() {
        Depth::All
    } else {
        Depth::Top
    };
    Ok(Json(tree_json(&shared, &repo, &tree, depth).await?))
}

/// `GET /repos/{o}/{r}/git/commits/{sha}`.
pub(crate) async fn get_commit(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name, sha)): GhPath<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    let repo = shared.open(&owner, &name, &caller, CONTENTS_READ)?;
    let full = object_of_kind(&repo, &sha, "commit")
        .await?
        .filter(|full| !repo.lag.is_hidden(full))
        .ok_or_else(ApiError::not_found)?;
    commit_json(&shared, &repo, &full)
        .await?
        .map(Json)
        .ok_or_else(ApiError::not_found)
}

/// A parsed commit object.
pub(crate) struct ParsedCommit {
    pub(crate) tree: String,
    pub(crate) parents: Vec<String>,
    pub(crate) author: Person,
    pub(crate) committer: Person,
    pub(crate) message: String,
}

/// A commit's author or committer line.
pub(crate) struct Person {
    pub(crate) name: String,
    pub(crate) email: String,
    /// RFC 3339 UTC.
    pub(crate) date: String,
}

impl Person {
    /// Parses `Name <email> 1700000000 +0100`.
    fn parse(line: &str) -> Option<Self> {
        let open = line.find('<')?;
        let close = line.rfind('>')?;
        let mut tail = line.get(close + 1..)?.split_whitespace();
        let seconds: u64 = tail.next()?.parse().ok()?;
        let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds);
        Some(Self {
            name: line.get(..open)?.trim().to_owned(),
            email: line.get(open + 1..close)?.to_owned(),
            date: humantime::format_rfc3339_seconds(time).to_string(),
        })
    }

    /// `{name, email, date}`.
    pub(crate) fn json(&self) -> Value {
        json!({ "name": self.name, "email": self.email, "date": self.date })
    }
}

/// Reads and parses commit `sha`; `None` if it is not a commit.
pub(crate) async fn read_commit(repo: &Repo, sha: &str) -> Result<Option<ParsedCommit>, ApiError> {
    let Some(bytes) = repo.git.read(sha, "commit").await? else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&bytes);
    let (headers, message) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut tree = String::new();
    let mut parents = Vec::new();
    let mut author = None;
    let mut committer = None;
    for line in headers.lines() {
        if let Some(value) = line.strip_prefix("tree ") {
            tree = value.to_owned();
        } else if let Some(value) = line.strip_prefix("parent ") {
            parents.push(value.to_owned());
        } else if let Some(value) = line.strip_prefix("author ") {
            author = Person::parse(value);
        } else if let Some(value) = line.strip_prefix("committer ") {
            committer = Person::parse(value);
        }
    }
    let (Some(author), Some(committer)) = (author, committer) else {
        return Err(ApiError::internal(format!(
            "commit {sha} has no author or committer"
        )));
    };
    Ok(Some(ParsedCommit {
        tree,
        parents,
        author,
        committer,
        message: message.strip_suffix('\n').unwrap_or(message).to_owned(),
    }))
}

/// GitHub's git-commit JSON for `sha`, with `verification`.
pub(crate) async fn commit_json(
    shared: &Shared,
    repo: &Repo,
    sha: &str,
) -> Result<Option<Value>, ApiError> {
    let Some(commit) = read_commit(repo, sha).await? else {
        return Ok(None);
    };
    let verified = shared.store.snapshot().await.verified_commits.contains(sha);
    let api = shared.repo_api_url(repo);
    let html = shared.html_url(repo);
    let parents: Vec<Value> = commit
        .parents
        .iter()
        .map(|parent| {
            json!({
                "sha": parent,
                "url": format!("{api}/git/commits/{parent}"),
                "html_url": format!("{html}/commit/{parent}"),
            })
        })
        .collect();
    Ok(Some(json!({
        "sha": sha,
        "node_id": format!("C_{sha}"),
        "url": format!("{api}/git/commits/{sha}"),
        "html_url": format!("{html}/commit/{sha}"),
        "author": commit.author.json(),
        "committer": commit.committer.json(),
        "tree": { "sha": commit.tree, "url": format!("{api}/git/trees/{}", commit.tree) },
        "message": commit.message,
        "parents": parents,
        "verification": verification_json(verified),
    })))
}

/// A commit's `verification` object: GitHub's own signature (`valid`), or none (`unsigned`).
pub(crate) fn verification_json(verified: bool) -> Value {
    json!({
        "verified": verified,
        "reason": if verified { "valid" } else { "unsigned" },
        "signature": null,
        "payload": null,
        "verified_at": null,
    })
}
