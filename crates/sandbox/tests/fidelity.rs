//! Where the sandbox answers as real GitHub does rather than as a kind fake would: rulesets,
//! label creation rules, pagination, the contents API's size cut-off and the documented limits.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Fixture, app_config, app_jwt_at as jwt_at};
use serde_json::{Value, json};

/// An installation token for acme's installation with `body` (repositories, permissions).
async fn token(fx: &Fixture, body: Value) -> String {
    let jwt = jwt_at(-60, 540);
    let (_, installation) = fx.get_as("/repos/acme/widgets/installation", &jwt).await;
    let id = installation["id"].as_u64().unwrap();
    let (status, grant) = fx
        .post_as(
            &format!("/app/installations/{id}/access_tokens"),
            &jwt,
            body,
        )
        .await;
    assert_eq!(status, 201, "{grant}");
    grant["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_branch_that_requires_pull_requests_refuses_direct_updates() {
    let fx = Fixture::with_app(Some(app_config())).await;
    let full = token(&fx, json!({})).await;
    let move_main = || {
        fx.call_as(
            reqwest::Method::PATCH,
            "/repos/acme/widgets/git/refs/heads/main",
            Some(&full),
            Some(json!({ "sha": fx.widgets.feature })),
        )
    };
    fx.sandbox
        .rulesets()
        .require_pull_requests("acme/widgets", "main", false);
    let (status, error) = move_main().await;
    assert_eq!(status, 422);
    let message = error["message"].as_str().unwrap();
    assert!(
        message.starts_with("Repository rule violations found"),
        "{message}"
    );
    assert!(
        message.contains("Changes must be made through a pull request."),
        "{message}"
    );
    assert_eq!(fx.widgets_git(&["rev-parse", "main"]), fx.widgets.main);
    // Other branches, and creating branches, are not affected.
    let (status, _) = fx
        .call_as(
            reqwest::Method::POST,
            "/repos/acme/widgets/git/refs",
            Some(&full),
            Some(json!({ "ref": "refs/heads/new", "sha": fx.widgets.main })),
        )
        .await;
    assert_eq!(status, 201);

    // A ruleset with the App on its bypass list lets the App's tokens through.
    fx.sandbox.rulesets().clear();
    fx.sandbox
        .rulesets()
        .require_pull_requests("acme/widgets", "main", true);
    let (status, body) = move_main().await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn rulesets_are_read_from_the_documented_file() {
    let temp = tempfile::tempdir().unwrap();
    common::make_repositories(temp.path());
    std::fs::create_dir_all(temp.path().join("_sandbox")).unwrap();
    std::fs::write(
        temp.path().join("_sandbox/rulesets.json"),
        r#"[{ "repository": "acme/widgets", "branch": "main" }]"#,
    )
    .unwrap();
    let sandbox =
        valkey_bot_sandbox::Sandbox::start(valkey_bot_sandbox::SandboxConfig::new(temp.path()))
            .await
            .unwrap();
    assert_eq!(sandbox.rulesets().rules().len(), 1);
    let feature = common::git(
        &temp.path().join("acme/widgets.git"),
        &["rev-parse", "feature"],
    );
    let response = reqwest::Client::new()
        .patch(format!(
            "{}/repos/acme/widgets/git/refs/heads/main",
            sandbox.api_url()
        ))
        .json(&json!({ "sha": feature }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);

    // A malformed file stops the start with its place named.
    std::fs::write(
        temp.path().join("_sandbox/rulesets.json"),
        "[{\"repo\": 1}]",
    )
    .unwrap();
    let error =
        valkey_bot_sandbox::Sandbox::start(valkey_bot_sandbox::SandboxConfig::new(temp.path()))
            .await
            .err()
            .unwrap()
            .to_string();
    assert!(error.contains("rulesets.json:1:"), "{error}");
}

#[tokio::test]
async fn a_missing_label_is_created_only_for_a_token_that_may_create_labels() {
    let fx = Fixture::with_app(Some(app_config())).await;
    let full = token(&fx, json!({})).await;
    let pulls_only = token(&fx, json!({ "permissions": { "pull_requests": "write" } })).await;
    let (status, pull) = fx
        .post_as(
            "/repos/acme/widgets/pulls",
            &full,
            json!({ "title": "t", "head": "feature", "base": "main" }),
        )
        .await;
    assert_eq!(status, 201);
    let path = format!("/repos/acme/widgets/issues/{}/labels", pull["number"]);
    let (status, error) = fx
        .post_as(&path, &pulls_only, json!({ "labels": ["release"] }))
        .await;
    assert_eq!(status, 403);
    assert_eq!(
        error["message"],
        "You do not have permission to create labels on this repository."
    );
    // Once the label exists, the same token may attach it.
    let (status, label) = fx
        .post_as(
            "/repos/acme/widgets/labels",
            &full,
            json!({ "name": "release", "color": "0e8a16" }),
        )
        .await;
    assert_eq!(status, 201, "{label}");
    assert_eq!(label["color"], "0e8a16");
    let (status, labels) = fx
        .post_as(&path, &pulls_only, json!({ "labels": ["Release"] }))
        .await;
    assert_eq!(status, 200);
    assert_eq!(labels[0]["name"], "release");
    let (status, error) = fx
        .post_as(
            "/repos/acme/widgets/labels",
            &full,
            json!({ "name": "RELEASE" }),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(error["errors"][0]["code"], "already_exists");
    let (status, found) = fx.get_as("/repos/acme/widgets/labels/release", &full).await;
    assert_eq!((status, found["name"].clone()), (200, json!("release")));
    let (status, _) = fx.get_as("/repos/acme/widgets/labels/nope", &full).await;
    assert_eq!(status, 404);
    // A token that may create labels creates a missing one by adding it.
    let (status, _) = fx
        .post_as(&path, &full, json!({ "labels": ["fresh"] }))
        .await;
    assert_eq!(status, 200);
    let (_, all) = fx.get_as("/repos/acme/widgets/labels", &full).await;
    let names: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["release", "fresh"]);
}

#[tokio::test]
async fn labels_on_a_new_issue_need_push_or_issue_write_access() {
    let fx = Fixture::with_app(Some(app_config())).await;
    // An App token with `issues: write` (no contents) may label what it opens.
    let issues_only = token(&fx, json!({ "permissions": { "issues": "write" } })).await;
    let (status, issue) = fx
        .post_as(
            "/repos/acme/widgets/issues",
            &issues_only,
            json!({ "title": "Release 9.1.0", "labels": ["tracking"] }),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(issue["labels"][0]["name"], "tracking");
    let full = token(&fx, json!({})).await;
    let (status, issue) = fx
        .post_as(
            "/repos/acme/widgets/issues",
            &full,
            json!({ "title": "Release 9.1.0", "labels": ["release"] }),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(issue["labels"][0]["name"], "release");
}

/// The `rel` → URL pairs of a `Link` header.
fn links(response: &reqwest::Response) -> Vec<(String, String)> {
    let Some(header) = response.headers().get("link") else {
        return Vec::new();
    };
    header
        .to_str()
        .unwrap()
        .split(", ")
        .map(|part| {
            let (url, rel) = part.split_once("; ").unwrap();
            (
                rel.trim_start_matches("rel=\"")
                    .trim_end_matches('"')
                    .to_owned(),
                url.trim_matches(|c| c == '<' || c == '>').to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn lists_are_paged_with_link_headers() {
    let fx = Fixture::new().await;
    for n in 0..105 {
        let (status, _) = fx
            .post(
                "/repos/acme/widgets/issues",
                json!({ "title": format!("issue {n}") }),
            )
            .await;
        assert_eq!(status, 201);
    }
    // Default page size 30, newest first.
    let response = fx.fetch(&fx.api("/repos/acme/widgets/issues")).await;
    let rels = links(&response);
    let page: Value = response.json().await.unwrap();
    assert_eq!(page.as_array().unwrap().len(), 30);
    assert_eq!(page[0]["title"], "issue 104");
    assert!(rels.iter().any(|(rel, _)| rel == "next"), "{rels:?}");
    // per_page is capped at 100; following `next` reaches the rest.
    let response = fx
        .fetch(&fx.api("/repos/acme/widgets/issues?state=open&per_page=500"))
        .await;
    let rels = links(&response);
    let page: Value = response.json().await.unwrap();
    assert_eq!(page.as_array().unwrap().len(), 100);
    let next = rels
        .iter()
        .find(|(rel, _)| rel == "next")
        .unwrap()
        .1
        .clone();
    assert!(next.contains("state=open"), "{next}");
    let response = fx.fetch(&next).await;
    let rels = links(&response);
    let page: Value = response.json().await.unwrap();
    assert_eq!(page.as_array().unwrap().len(), 5);
    assert_eq!(page[4]["title"], "issue 0");
    assert!(!rels.iter().any(|(rel, _)| rel == "next"), "{rels:?}");
    assert!(rels.iter().any(|(rel, _)| rel == "prev"), "{rels:?}");
    // The pull request list is paged the same way.
    for branch in ["a", "b", "c"] {
        fx.post_git(
            "refs",
            json!({ "ref": format!("refs/heads/{branch}"), "sha": fx.widgets.feature }),
        )
        .await;
        let (status, _) = fx
            .post(
                "/repos/acme/widgets/pulls",
                json!({ "title": branch, "head": branch, "base": "main" }),
            )
            .await;
        assert_eq!(status, 201);
    }
    let response = fx
        .fetch(&fx.api("/repos/acme/widgets/pulls?per_page=2&page=2"))
        .await;
    let rels = links(&response);
    let page: Value = response.json().await.unwrap();
    assert_eq!(page.as_array().unwrap().len(), 1);
    assert_eq!(page[0]["title"], "a");
    assert!(rels.iter().any(|(rel, _)| rel == "first"), "{rels:?}");
}

#[tokio::test]
async fn a_compare_lists_at_most_250_commits_unless_paged() {
    let fx = Fixture::new().await;
    let dir = fx.widgets_dir();
    let tree = fx.widgets_git(&["rev-parse", "main^{tree}"]);
    let mut head = fx.widgets.main.clone();
    for n in 0..260 {
        head = common::git(
            &dir,
            &["commit-tree", &tree, "-p", &head, "-m", &format!("c{n}")],
        );
    }
    common::git(&dir, &["update-ref", "refs/heads/long", &head]);
    let (status, body) = fx.get("/repos/acme/widgets/compare/main...long").await;
    assert_eq!(status, 200);
    assert_eq!(body["total_commits"], 260);
    assert_eq!(body["commits"].as_array().unwrap().len(), 250);
    let response = fx
        .fetch(&fx.api("/repos/acme/widgets/compare/main...long?per_page=100&page=3"))
        .await;
    let rels = links(&response);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["commits"].as_array().unwrap().len(), 60);
    assert_eq!(body["commits"][59]["commit"]["message"], "c259");
    assert!(rels.iter().any(|(rel, _)| rel == "prev"), "{rels:?}");
}

#[tokio::test]
async fn a_jwt_living_over_ten_minutes_or_issued_in_the_future_is_refused() {
    let fx = Fixture::with_app(Some(app_config())).await;
    let (status, _) = fx.get_as("/app", &jwt_at(-60, 540)).await;
    assert_eq!(status, 200, "iat 60 s back, 10 minutes in all");
    let (status, error) = fx.get_as("/app", &jwt_at(-60, 600)).await;
    assert_eq!(status, 401, "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("'exp'"),
        "{error}"
    );
    let (status, error) = fx.get_as("/app", &jwt_at(120, 300)).await;
    assert_eq!(status, 401, "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("'iat'"),
        "{error}"
    );
}

#[tokio::test]
async fn deleting_a_path_the_tree_lacks_is_an_error() {
    let fx = Fixture::new().await;
    let base = fx.widgets_git(&["rev-parse", "main^{tree}"]);
    let (status, _) = fx
        .post_git(
            "trees",
            json!({ "base_tree": base, "tree": [{ "path": "README", "mode": "100644", "type": "blob", "sha": null }] }),
        )
        .await;
    assert_eq!(status, 201);
    let (status, error) = fx
        .post_git(
            "trees",
            json!({ "base_tree": base, "tree": [{ "path": "nope.txt", "mode": "100644", "type": "blob", "sha": null }] }),
        )
        .await;
    assert_eq!(status, 422, "{error}");
}

#[tokio::test]
async fn a_dispatch_payload_over_64_kb_is_refused() {
    let fx = Fixture::new().await;
    let (status, _) = fx
        .post(
            "/repos/acme/widgets/dispatches",
            json!({ "event_type": "release", "client_payload": { "notes": "x".repeat(60_000) } }),
        )
        .await;
    assert_eq!(status, 204);
    let (status, error) = fx
        .post(
            "/repos/acme/widgets/dispatches",
            json!({ "event_type": "release", "client_payload": { "notes": "x".repeat(70_000) } }),
        )
        .await;
    assert_eq!(status, 422, "{error}");
    assert!(
        error["message"].as_str().unwrap().contains("64 KB"),
        "{error}"
    );
}

/// What a token may do in the standard fixture: (read acme/widgets, write a blob to
/// acme/widgets, write a blob to acme/gadgets), as statuses.
async fn reach(fx: &Fixture, token: &str) -> (u16, u16, u16) {
    let blob = json!({"content": "x", "encoding": "utf-8"});
    let (read, _) = fx.get_as("/repos/acme/widgets", token).await;
    let (elsewhere, _) = fx
        .post_as("/repos/acme/widgets/git/blobs", token, blob.clone())
        .await;
    let (own, _) = fx
        .post_as("/repos/acme/gadgets/git/blobs", token, blob)
        .await;
    (read, elsewhere, own)
}

#[tokio::test]
async fn a_workflow_token_is_confined_to_its_repository_and_a_plain_one_is_not() {
    let fx =
        Fixture::with_config(|config| config.with_workflow_token("wf-token", "acme/gadgets")).await;
    // Public elsewhere: read 200, write 403 with GitHub's message; its own repository: written.
    assert_eq!(reach(&fx, "wf-token").await, (200, 403, 201));
    let (_, refused) = fx
        .post_as(
            "/repos/acme/widgets/issues",
            "wf-token",
            json!({"title": "t"}),
        )
        .await;
    assert_eq!(refused["message"], "Resource not accessible by integration");
    // It acts as github-actions[bot] where it may write, and is no user.
    let (status, issue) = fx
        .post_as(
            "/repos/acme/gadgets/issues",
            "wf-token",
            json!({"title": "t"}),
        )
        .await;
    assert_eq!(status, 201, "{issue}");
    assert_eq!(issue["user"]["login"], "github-actions[bot]");
    assert_eq!(fx.get_as("/user", "wf-token").await.0, 403);
    // A private repository elsewhere does not exist for it; for a plain token it does.
    valkey_bot_sandbox::set_private(fx.root(), "acme", "widgets", true).unwrap();
    assert_eq!(reach(&fx, "wf-token").await, (404, 404, 201));
    // Any other token is a classic personal token: everything.
    assert_eq!(reach(&fx, "plain-token").await, (200, 201, 201));
    let logged = fx.sandbox.request_log();
    assert!(
        logged
            .iter()
            .any(|entry| entry.scope == "workflow:acme/gadgets"),
        "{logged:?}"
    );
}

#[tokio::test]
async fn a_workflow_token_works_beside_an_app_and_is_not_the_app() {
    let fx = Fixture::with_config(|mut config| {
        config.app = Some(app_config());
        config.with_workflow_token("wf-token", "acme/gadgets")
    })
    .await;
    assert_eq!(reach(&fx, "wf-token").await, (200, 403, 201));
    // Only the declared token: another plain token is refused when an App is played.
    assert_eq!(fx.get_as("/repos/acme/widgets", "plain-token").await.0, 401);
}

#[tokio::test]
async fn a_workflow_token_for_a_malformed_repository_or_empty_is_refused_at_start() {
    for (token, repository, expected) in [
        ("t", "gadgets", "`gadgets` is not OWNER/NAME"),
        ("t", "acme/a/b", "`acme/a/b` is not OWNER/NAME"),
        (" ", "acme/gadgets", "declared for `acme/gadgets` is empty"),
    ] {
        let temp = tempfile::tempdir().unwrap();
        let config = valkey_bot_sandbox::SandboxConfig::new(temp.path())
            .with_workflow_token(token, repository);
        let shown = format!("{config:?}");
        let error = valkey_bot_sandbox::Sandbox::start(config)
            .await
            .err()
            .expect("refused");
        assert!(error.to_string().contains(expected), "{error}");
        assert!(!shown.contains("token: \"t\""), "{shown}");
    }
}
