//! GitHub's whole answer shapes. Handlers build what the sandbox models (numbers, states,
//! commits, labels); the functions here complete it with every other field GitHub's description
//! marks required, with plausible values (the URLs GitHub would give, zero counts, `null` where
//! GitHub allows it), so a reader of the sandbox meets what GitHub sends. A value a handler set
//! is never replaced. The contract test (`contract` feature) proves the result against GitHub's
//! own description.

use serde_json::{Map, Value, json};

use crate::auth::stable_id;
use crate::shared::Shared;

/// A fixed timestamp for the dates the sandbox does not model (an account's or a
/// repository's creation).
const EPOCH: &str = "2024-01-01T00:00:00Z";

/// Inserts every field of `defaults` that `value` lacks (a non-object `value` is left alone).
fn fill(value: &mut Value, defaults: Value) {
    if let (Some(map), Value::Object(defaults)) = (value.as_object_mut(), defaults) {
        for (key, default) in defaults {
            map.entry(key).or_insert(default);
        }
    }
}

/// Replaces `value[key]` by `make(login)` when it is an object holding a `login` (a user the
/// handler named by login only); `null` stays `null`.
fn complete_user(shared: &Shared, value: &mut Value, key: &str) {
    let login = value
        .get(key)
        .and_then(|user| user.get("login"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let (Some(login), Some(map)) = (login, value.as_object_mut()) {
        let mut full = user(shared, &login);
        if let Some(Value::Object(given)) = map.get(key) {
            for (field, given) in given {
                full[field] = given.clone();
            }
        }
        map.insert(key.to_owned(), full);
    }
}

fn object(value: &mut Value) -> Option<&mut Map<String, Value>> {
    value.as_object_mut()
}

/// A user as GitHub's `simple-user` (bots are `type: Bot`).
pub(crate) fn user(shared: &Shared, login: &str) -> Value {
    let id = stable_id(login);
    // `name[bot]` is written `name%5Bbot%5D` in GitHub's URLs.
    let path = percent_encode(login);
    let api = format!("{}/users/{path}", shared.api_url());
    let kind = if login.ends_with("[bot]") {
        "Bot"
    } else {
        "User"
    };
    json!({
        "login": login,
        "id": id,
        "node_id": format!("U_{id}"),
        "avatar_url": format!("{}/avatars/{path}", shared.base_url),
        "gravatar_id": "",
        "url": api,
        "html_url": format!("{}/{path}", shared.base_url),
        "followers_url": format!("{api}/followers"),
        "following_url": format!("{api}/following{{/other_user}}"),
        "gists_url": format!("{api}/gists{{/gist_id}}"),
        "starred_url": format!("{api}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{api}/subscriptions"),
        "organizations_url": format!("{api}/orgs"),
        "repos_url": format!("{api}/repos"),
        "events_url": format!("{api}/events{{/privacy}}"),
        "received_events_url": format!("{api}/received_events"),
        "type": kind,
        "site_admin": false,
        "user_view_type": "public",
    })
}

/// An account as `GET /users/{login}` gives it (`public-user`: exactly its fields), completing
/// `value` (login, id, type, name as the handler knows them).
pub(crate) fn public_user(shared: &Shared, mut value: Value) -> Value {
    let login = value["login"].as_str().unwrap_or_default().to_owned();
    fill(&mut value, user(shared, &login));
    fill(
        &mut value,
        json!({
            "name": null, "company": null, "blog": null, "location": null, "email": null,
            "hireable": null, "bio": null, "public_repos": 0, "public_gists": 0,
            "followers": 0, "following": 0, "created_at": EPOCH, "updated_at": EPOCH,
        }),
    );
    value
}

/// The caller's own account as `GET /user` gives it (`private-user`).
pub(crate) fn private_user(shared: &Shared, value: Value) -> Value {
    let mut value = public_user(shared, value);
    fill(
        &mut value,
        json!({
            "private_gists": 0, "total_private_repos": 0, "owned_private_repos": 0,
            "disk_usage": 0, "collaborators": 0, "two_factor_authentication": true,
        }),
    );
    value
}

/// The repository's API URLs GitHub lists, as (field, suffix after the repository's API URL).
const REPOSITORY_URLS: [(&str, &str); 35] = [
    ("archive_url", "/{archive_format}{/ref}"),
    ("assignees_url", "/assignees{/user}"),
    ("blobs_url", "/git/blobs{/sha}"),
    ("branches_url", "/branches{/branch}"),
    ("collaborators_url", "/collaborators{/collaborator}"),
    ("comments_url", "/comments{/number}"),
    ("commits_url", "/commits{/sha}"),
    ("compare_url", "/compare/{base}...{head}"),
    ("contents_url", "/contents/{+path}"),
    ("contributors_url", "/contributors"),
    ("deployments_url", "/deployments"),
    ("downloads_url", "/downloads"),
    ("events_url", "/events"),
    ("forks_url", "/forks"),
    ("git_commits_url", "/git/commits{/sha}"),
    ("git_refs_url", "/git/refs{/sha}"),
    ("git_tags_url", "/git/tags{/sha}"),
    ("issue_comment_url", "/issues/comments{/number}"),
    ("issue_events_url", "/issues/events{/number}"),
    ("issues_url", "/issues{/number}"),
    ("keys_url", "/keys{/key_id}"),
    ("labels_url", "/labels{/name}"),
    ("languages_url", "/languages"),
    ("merges_url", "/merges"),
    ("milestones_url", "/milestones{/number}"),
    (
        "notifications_url",
        "/notifications{?since,all,participating}",
    ),
    ("pulls_url", "/pulls{/number}"),
    ("releases_url", "/releases{/id}"),
    ("stargazers_url", "/stargazers"),
    ("statuses_url", "/statuses/{sha}"),
    ("subscribers_url", "/subscribers"),
    ("subscription_url", "/subscription"),
    ("tags_url", "/tags"),
    ("teams_url", "/teams"),
    ("trees_url", "/git/trees{/sha}"),
];

/// `owner/name` as GitHub's `full-repository` (also every smaller repository shape).
pub(crate) fn repository(shared: &Shared, owner: &str, name: &str) -> Value {
    let full_name = format!("{owner}/{name}");
    let id = stable_id(&full_name);
    let api = format!("{}/repos/{full_name}", shared.api_url());
    let html = format!("{}/{full_name}", shared.base_url);
    let mut owner_json = user(shared, owner);
    owner_json["type"] = "Organization".into();
    let mut value = json!({
        "id": id,
        "node_id": format!("R_{id}"),
        "name": name,
        "full_name": full_name,
        "owner": owner_json,
        "private": false,
        "visibility": "public",
        "html_url": html,
        "description": null,
        "fork": false,
        "url": api,
        "git_url": format!("{html}.git"),
        "ssh_url": format!("git@sandbox:{full_name}.git"),
    });
    for (field, suffix) in REPOSITORY_URLS {
        value[field] = format!("{api}{suffix}").into();
    }
    fill(
        &mut value,
        json!({
            "clone_url": format!("{html}.git"),
            "mirror_url": null,
            "hooks_url": format!("{api}/hooks"),
            "svn_url": html,
            "homepage": null,
            "language": null,
            "forks": 0,
            "forks_count": 0,
            "stargazers_count": 0,
            "watchers": 0,
            "watchers_count": 0,
            "size": 0,
            "default_branch": "main",
            "open_issues": 0,
            "open_issues_count": 0,
            "is_template": false,
            "topics": [],
            "has_issues": true,
            "has_projects": false,
            "has_wiki": false,
            "has_pages": false,
            "has_downloads": false,
            "has_discussions": false,
            "archived": false,
            "disabled": false,
            "license": null,
            "pushed_at": EPOCH,
            "created_at": EPOCH,
            "updated_at": EPOCH,
            "network_count": 0,
            "subscribers_count": 0,
        }),
    );
    value
}

/// Completes a repository answer the handler built (`id`, `name`, `default_branch`, ...).
pub(crate) fn complete_repository(shared: &Shared, mut value: Value, owner: &str) -> Value {
    let name = value["name"].as_str().unwrap_or_default().to_owned();
    complete_user(shared, &mut value, "owner");
    fill(&mut value, repository(shared, owner, &name));
    value
}

/// A label as GitHub's `label`, completing the handler's `{id, name, color, default}`.
pub(crate) fn label(shared: &Shared, full_name: &str, mut value: Value) -> Value {
    let name = value["name"].as_str().unwrap_or_default().to_owned();
    let id = value["id"].as_u64().unwrap_or_else(|| stable_id(&name));
    let encoded: String = percent_encode(&name);
    fill(
        &mut value,
        json!({
            "id": id,
            "node_id": format!("LA_{id}"),
            "url": format!("{}/repos/{full_name}/labels/{encoded}", shared.api_url()),
            // GitHub's pull request answers type a label's description as a string.
            "description": "",
            "color": "ededed",
            "default": false,
        }),
    );
    value
}

/// Every label of a list completed (see [`label`]).
pub(crate) fn labels(shared: &Shared, full_name: &str, value: Value) -> Value {
    match value {
        Value::Array(items) => items
            .into_iter()
            .map(|item| label(shared, full_name, item))
            .collect(),
        other => other,
    }
}

/// `text` with everything but unreserved URL characters percent-encoded (a label in a URL).
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(byte).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// An issue (or a pull request's issue) as GitHub's `issue`.
pub(crate) fn issue(shared: &Shared, full_name: &str, mut value: Value) -> Value {
    let api = format!("{}/repos/{full_name}", shared.api_url());
    let number = value["number"].as_u64().unwrap_or_default();
    complete_user(shared, &mut value, "user");
    if let Some(map) = object(&mut value) {
        if let Some(labels_value) = map.remove("labels") {
            map.insert("labels".to_owned(), labels(shared, full_name, labels_value));
        }
    }
    let issue_url = format!("{api}/issues/{number}");
    fill(
        &mut value,
        json!({
            "repository_url": api,
            "labels_url": format!("{issue_url}/labels{{/name}}"),
            "comments_url": format!("{issue_url}/comments"),
            "events_url": format!("{issue_url}/events"),
            "locked": false,
            "assignee": null,
            "assignees": [],
            "milestone": null,
            "comments": 0,
            "author_association": "NONE",
            "active_lock_reason": null,
            "state_reason": null,
        }),
    );
    value
}

/// An issue comment as GitHub's `issue-comment`.
pub(crate) fn comment(shared: &Shared, mut value: Value) -> Value {
    complete_user(shared, &mut value, "user");
    fill(&mut value, json!({ "author_association": "NONE" }));
    value
}

/// A pull request as GitHub's `pull-request` (also a valid `pull-request-simple` in lists).
pub(crate) fn pull(shared: &Shared, owner: &str, name: &str, mut value: Value) -> Value {
    let full_name = format!("{owner}/{name}");
    let value_url = value["url"].as_str().unwrap_or_default().to_owned();
    let html_url = value["html_url"].as_str().unwrap_or_default().to_owned();
    let issue_url = value["issue_url"].as_str().unwrap_or_default().to_owned();
    let api = format!("{}/repos/{full_name}", shared.api_url());
    complete_user(shared, &mut value, "user");
    for side in ["head", "base"] {
        let Some(end) = value.get_mut(side) else {
            continue;
        };
        let label = end["label"].as_str().unwrap_or_default().to_owned();
        let end_owner = label.split_once(':').map_or(owner, |(login, _)| login);
        let end_owner = end_owner.to_owned();
        let repo_name = end["repo"]["name"].as_str().unwrap_or(name).to_owned();
        if let Some(map) = end.as_object_mut() {
            let mut repo = map.remove("repo").unwrap_or(Value::Null);
            if repo.is_object() {
                fill(&mut repo, repository(shared, &end_owner, &repo_name));
            }
            map.insert("repo".to_owned(), repo);
            map.entry("user")
                .or_insert_with(|| user(shared, &end_owner));
        }
    }
    if let Some(map) = object(&mut value) {
        if let Some(labels_value) = map.remove("labels") {
            map.insert(
                "labels".to_owned(),
                labels(shared, &full_name, labels_value),
            );
        }
    }
    let head_sha = value["head"]["sha"].as_str().unwrap_or_default().to_owned();
    fill(
        &mut value,
        json!({
            "_links": {
                "self": { "href": value_url },
                "html": { "href": html_url },
                "issue": { "href": issue_url },
                "comments": { "href": format!("{issue_url}/comments") },
                "review_comments": { "href": format!("{value_url}/comments") },
                "review_comment": { "href": format!("{api}/pulls/comments{{/number}}") },
                "commits": { "href": format!("{value_url}/commits") },
                "statuses": { "href": format!("{api}/statuses/{head_sha}") },
            },
            "diff_url": format!("{html_url}.diff"),
            "patch_url": format!("{html_url}.patch"),
            "commits_url": format!("{value_url}/commits"),
            "comments_url": format!("{issue_url}/comments"),
            "review_comments_url": format!("{value_url}/comments"),
            "review_comment_url": format!("{api}/pulls/comments{{/number}}"),
            "statuses_url": format!("{api}/statuses/{head_sha}"),
            "locked": false,
            "assignee": null,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "milestone": null,
            "merge_commit_sha": null,
            "author_association": "NONE",
            "auto_merge": null,
            "active_lock_reason": null,
            "additions": 0,
            "deletions": 0,
            "changed_files": 0,
            "commits": 0,
            "comments": 0,
            "review_comments": 0,
            "mergeable": null,
            "mergeable_state": "unknown",
            "maintainer_can_modify": false,
            "merged_by": null,
        }),
    );
    value
}

/// A commit of a compare or commits list as GitHub's `commit`: `sha`, `tree` and `parents` as
/// git has them; `author`/`committer` a user, `{}` or `null` as the handler decided.
pub(crate) fn commit(
    shared: &Shared,
    full_name: &str,
    mut value: Value,
    tree: &str,
    parents: &[&str],
) -> Value {
    let api = format!("{}/repos/{full_name}", shared.api_url());
    let html = format!("{}/{full_name}", shared.base_url);
    let sha = value["sha"].as_str().unwrap_or_default().to_owned();
    for who in ["author", "committer"] {
        let has_login = value[who].get("login").is_some();
        if has_login {
            complete_user(shared, &mut value, who);
        }
    }
    if let Some(inner) = value.get_mut("commit") {
        fill(
            inner,
            json!({
                "url": format!("{api}/git/commits/{sha}"),
                "tree": { "sha": tree, "url": format!("{api}/git/trees/{tree}") },
                "comment_count": 0,
                "verification": super::objects::verification_json(false),
            }),
        );
    }
    let parents: Vec<Value> = parents
        .iter()
        .map(|parent| {
            json!({
                "sha": parent,
                "url": format!("{api}/commits/{parent}"),
                "html_url": format!("{html}/commit/{parent}"),
            })
        })
        .collect();
    fill(
        &mut value,
        json!({
            "url": format!("{api}/commits/{sha}"),
            "node_id": format!("C_{sha}"),
            "html_url": format!("{html}/commit/{sha}"),
            "comments_url": format!("{api}/commits/{sha}/comments"),
            "author": null,
            "committer": null,
            "parents": parents,
        }),
    );
    value
}

/// A compare answer as GitHub's `commit-comparison`, completing the handler's.
pub(crate) fn comparison(shared: &Shared, full_name: &str, spec: &str, mut value: Value) -> Value {
    let html = format!("{}/{full_name}", shared.base_url);
    fill(
        &mut value,
        json!({
            "permalink_url": format!("{html}/compare/{spec}"),
            "diff_url": format!("{html}/compare/{spec}.diff"),
            "patch_url": format!("{html}/compare/{spec}.patch"),
            "files": [],
        }),
    );
    value
}

/// A contents entry (file, directory listing item) with GitHub's `_links`.
pub(crate) fn content_entry(mut value: Value) -> Value {
    let links = json!({
        "self": value["url"].clone(),
        "git": value["git_url"].clone(),
        "html": value["html_url"].clone(),
    });
    fill(&mut value, json!({ "_links": links }));
    value
}

/// The App as `GET /app` gives it (`integration`).
pub(crate) fn app(shared: &Shared, mut value: Value, slug: &str) -> Value {
    let mut owner = user(shared, "sandbox-owner");
    owner["type"] = "Organization".into();
    fill(
        &mut value,
        json!({
            "client_id": format!("Iv1.{}", stable_id(slug)),
            "owner": owner,
            "description": null,
            "external_url": format!("{}/apps/{slug}", shared.base_url),
            "html_url": format!("{}/apps/{slug}", shared.base_url),
            "created_at": EPOCH,
            "updated_at": EPOCH,
        }),
    );
    value
}

/// An installation as GitHub's `installation`, completing the handler's.
pub(crate) fn installation(shared: &Shared, mut value: Value, owner: &str) -> Value {
    let id = value["id"].as_u64().unwrap_or_default();
    if let Some(map) = object(&mut value) {
        let mut account = user(shared, owner);
        account["type"] = "Organization".into();
        map.insert("account".to_owned(), account);
    }
    fill(
        &mut value,
        json!({
            "target_id": stable_id(owner),
            "target_type": "Organization",
            "single_file_name": null,
            "html_url": format!("{}/organizations/{owner}/settings/installations/{id}", shared.base_url),
            "repositories_url": format!("{}/installation/repositories", shared.api_url()),
            "events": [],
            "created_at": EPOCH,
            "updated_at": EPOCH,
            "suspended_by": null,
            "suspended_at": null,
        }),
    );
    value
}

/// An installation token answer: each repository in GitHub's `repository` shape.
pub(crate) fn installation_token(shared: &Shared, mut value: Value, owner: &str) -> Value {
    if let Some(Value::Array(repositories)) = value.get_mut("repositories") {
        for repository_value in repositories.iter_mut() {
            let name = repository_value["name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            fill(repository_value, repository(shared, owner, &name));
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fill_keeps_what_the_handler_set() {
        let mut value = json!({ "a": 1, "b": null });
        fill(&mut value, json!({ "a": 2, "b": 3, "c": 4 }));
        assert_eq!(value, json!({ "a": 1, "b": null, "c": 4 }));
    }

    #[test]
    fn labels_in_urls_are_percent_encoded() {
        assert_eq!(percent_encode("release bot"), "release%20bot");
        assert_eq!(percent_encode("a/b"), "a%2Fb");
    }
}
