//! `GET /repos/{o}/{r}/compare/{base}...{head}`.

use super::extract::GhPath;
use axum::Extension;
use axum::Json;
use serde_json::{Value, json};

use super::SharedState;
use super::paging::Pager;
use crate::auth::{CONTENTS_READ, Caller};
use crate::error::ApiError;
use crate::repo::Repo;
use crate::shared::Shared;

use super::objects::verification_json;

/// Status, ahead/behind counts, merge base and the commits on head since the merge base.
pub(crate) async fn compare(
    axum::extract::State(shared): SharedState,
    Extension(caller): Extension<Caller>,
    GhPath((owner, name, spec)): GhPath<(String, String, String)>,
    pager: Pager,
) -> Result<axum::response::Response, ApiError> {
    let repo = shared.open(&owner, &name, &caller, CONTENTS_READ)?;
    let (base, head) = spec.split_once("...").ok_or_else(ApiError::not_found)?;
    let base_sha = repo
        .resolve_commit(base)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let head_sha = repo
        .resolve_commit(head)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let merge_base = repo
        .git
        .run(&["merge-base", &base_sha, &head_sha], None, &[])
        .await?;
    if !merge_base.success {
        return Err(ApiError::new(
            axum::http::StatusCode::NOT_FOUND,
            format!("No common ancestor between {base} and {head}."),
        ));
    }
    let merge_base = String::from_utf8_lossy(&merge_base.stdout)
        .trim()
        .to_owned();
    let ahead_by = count(&repo, &merge_base, &head_sha).await?;
    let behind_by = count(&repo, &merge_base, &base_sha).await?;
    let status = match (ahead_by, behind_by) {
        (0, 0) => "identical",
        (_, 0) => "ahead",
        (0, _) => "behind",
        _ => "diverged",
    };
    let full_name = repo.full_name();
    let shaped = |(value, tree, parents): (Value, String, String)| {
        let parents: Vec<&str> = parents.split_whitespace().collect();
        super::shapes::commit(&shared, &full_name, value, &tree, &parents)
    };
    let all_commits: Vec<Value> = log(&shared, &repo, &format!("{merge_base}..{head_sha}"))
        .await?
        .into_iter()
        .map(shaped)
        .collect();
    let (commits, link) = commits_page(&pager, &shared.api_url(), all_commits);
    let merge_base_commit = log(&shared, &repo, &format!("{merge_base}^!"))
        .await?
        .into_iter()
        .map(shaped)
        .next()
        .unwrap_or_else(|| json!({ "sha": merge_base }));
    let base_commit = log(&shared, &repo, &format!("{base_sha}^!"))
        .await?
        .into_iter()
        .map(shaped)
        .next()
        .unwrap_or_else(|| json!({ "sha": base_sha }));
    let html = shared.html_url(&repo);
    let value = json!({
        "url": format!("{}/compare/{spec}", shared.repo_api_url(&repo)),
        "html_url": format!("{html}/compare/{spec}"),
        "status": status,
        "ahead_by": ahead_by,
        "behind_by": behind_by,
        "total_commits": ahead_by,
        "base_commit": base_commit,
        "merge_base_commit": merge_base_commit,
        "commits": commits,
    });
    let body = Json(super::shapes::comparison(&shared, &full_name, &spec, value));
    let mut response = axum::response::IntoResponse::into_response(body);
    if let Some(value) = link.and_then(|link| axum::http::HeaderValue::from_str(&link).ok()) {
        response
            .headers_mut()
            .insert(axum::http::header::LINK, value);
    }
    Ok(response)
}

/// The most commits a compare lists when not paged.
const UNPAGED_COMMITS: usize = 250;

/// The commits one compare answer lists, and its `Link` header: the first 250 when no paging
/// was asked for, else the page asked for.
fn commits_page(pager: &Pager, api_url: &str, commits: Vec<Value>) -> (Vec<Value>, Option<String>) {
    if !pager.asked {
        return (commits.into_iter().take(UNPAGED_COMMITS).collect(), None);
    }
    let link = pager.link(api_url, commits.len());
    let range = pager.range(commits.len());
    let page = commits
        .into_iter()
        .skip(range.start)
        .take(range.len())
        .collect();
    (page, link)
}

async fn count(repo: &Repo, from: &str, to: &str) -> Result<u64, ApiError> {
    let text = repo
        .git
        .text(&["rev-list", "--count", &format!("{from}..{to}")])
        .await?;
    text.parse()
        .map_err(|_| ApiError::internal(format!("rev-list --count printed {text:?}")))
}

/// The commits of `range`, oldest first, in the compare API's shape (with each commit's
/// `verification`), each with its tree and (space-separated) parents.
async fn log(
    shared: &Shared,
    repo: &Repo,
    range: &str,
) -> Result<Vec<(Value, String, String)>, ApiError> {
    let verified = shared.store.snapshot().await.verified_commits;
    let out = repo
        .git
        .ok(
            &[
                "log",
                "--reverse",
                "-z",
                "--format=%H%x1f%T%x1f%P%x1f%an%x1f%ae%x1f%at%x1f%cn%x1f%ce%x1f%ct%x1f%B",
                range,
            ],
            None,
            &[],
        )
        .await?;
    let text = String::from_utf8_lossy(&out);
    Ok(text
        .split('\0')
        .filter(|record| !record.trim().is_empty())
        .filter_map(|record| {
            let fields: Vec<&str> = record.splitn(10, '\u{1f}').collect();
            let [sha, tree, parents, an, ae, at, cn, ce, ct, message] = fields.as_slice() else {
                return None;
            };
            let message = message.strip_suffix('\n').unwrap_or(message);
            let sha = sha.trim_start_matches('\n');
            let value = json!({
                "sha": sha,
                "commit": {
                    "message": message,
                    "author": { "name": an, "email": ae, "date": rfc3339(at) },
                    "committer": { "name": cn, "email": ce, "date": rfc3339(ct) },
                    "verification": verification_json(verified.contains(sha)),
                },
                "author": login_json(ae),
                "committer": login_json(ce),
            });
            Some((value, (*tree).to_owned(), (*parents).to_owned()))
        })
        .collect())
}

fn rfc3339(seconds: &str) -> String {
    let seconds: u64 = seconds.parse().unwrap_or(0);
    humantime::format_rfc3339_seconds(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(seconds),
    )
    .to_string()
}

/// `{login}` for an email GitHub can attribute (noreply addresses), else `null`.
fn login_json(email: &str) -> Value {
    login_for_email(email).map_or(Value::Null, |login| json!({ "login": login }))
}

/// `123+app[bot]@users.noreply.github.com` → `app[bot]`; `noreply@github.com` → `web-flow`.
pub(crate) fn login_for_email(email: &str) -> Option<String> {
    if email == "noreply@github.com" {
        return Some("web-flow".to_owned());
    }
    let local = email.strip_suffix("@users.noreply.github.com")?;
    let login = match local.split_once('+') {
        Some((id, login)) if id.bytes().all(|byte| byte.is_ascii_digit()) => login,
        _ => local,
    };
    (!login.is_empty()).then(|| login.to_owned())
}

#[cfg(test)]
mod tests {
    use super::login_for_email;

    #[test]
    fn noreply_emails_map_to_logins() {
        assert_eq!(
            login_for_email("42+valkey-bot[bot]@users.noreply.github.com").as_deref(),
            Some("valkey-bot[bot]")
        );
        assert_eq!(
            login_for_email("sandbox-user@users.noreply.github.com").as_deref(),
            Some("sandbox-user")
        );
        assert_eq!(login_for_email("dev@example.com"), None);
    }
}
