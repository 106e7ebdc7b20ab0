//! GitHub App auth: JWTs, installation tokens, their scoping and the 401/403/404 answers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{APP_ID, APP_SLUG, Fixture, app_config, fixture_path};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

fn now() -> i64 {
    common::unix_now()
}

/// A JWT as an App signs it: RS256, iat 60 s back, exp `exp_in` seconds ahead, iss = `iss`.
fn jwt_with(key_file: &str, iss: Value, exp_in: i64) -> String {
    let pem = std::fs::read(fixture_path(key_file)).unwrap();
    let key = EncodingKey::from_rsa_pem(&pem).unwrap();
    let claims = json!({ "iat": now() - 60, "exp": now() + exp_in, "iss": iss });
    jsonwebtoken::encode(&Header::new(Algorithm::RS256), &claims, &key).unwrap()
}

fn jwt() -> String {
    jwt_with("app-private-key.pem", json!(APP_ID), 540)
}

async fn installation_token(fx: &Fixture, body: Value) -> (u16, Value) {
    let (status, installation) = fx.get_as("/repos/acme/widgets/installation", &jwt()).await;
    assert_eq!(status, 200, "{installation}");
    let id = installation["id"].as_u64().unwrap();
    fx.post_as(
        &format!("/app/installations/{id}/access_tokens"),
        &jwt(),
        body,
    )
    .await
}

#[tokio::test]
async fn jwt_reaches_app_endpoints_only() {
    let fx = Fixture::with_app(Some(app_config())).await;
    let (status, app) = fx.get_as("/app", &jwt()).await;
    assert_eq!(status, 200);
    assert_eq!(app["id"], APP_ID);
    assert_eq!(app["slug"], APP_SLUG);
    // The iss claim may also be a string.
    let string_iss = jwt_with("app-private-key.pem", json!(APP_ID.to_string()), 540);
    let (status, _) = fx.get_as("/app", &string_iss).await;
    assert_eq!(status, 200);

    let (status, installation) = fx.get_as("/repos/acme/widgets/installation", &jwt()).await;
    assert_eq!(status, 200);
    assert_eq!(installation["app_id"], APP_ID);
    assert!(installation["id"].as_u64().is_some());
    let (status, _) = fx.get_as("/repos/acme/none/installation", &jwt()).await;
    assert_eq!(status, 404);

    // A JWT is not a repository credential.
    let (status, error) = fx
        .get_as("/repos/acme/widgets/contents/README", &jwt())
        .await;
    assert_eq!(status, 403);
    assert_eq!(error["message"], "Resource not accessible by integration");

    for bad in [
        jwt_with("app-private-key.pem", json!(APP_ID), -120),
        jwt_with("other-private-key.pem", json!(APP_ID), 540),
        jwt_with("app-private-key.pem", json!(APP_ID + 1), 540),
    ] {
        let (status, _) = fx.get_as("/app", &bad).await;
        assert_eq!(status, 401);
    }
    let (status, _) = fx
        .post_as("/app/installations/1/access_tokens", &jwt(), json!({}))
        .await;
    assert_eq!(status, 404, "unknown installation");
}

#[tokio::test]
async fn unknown_tokens_are_bad_credentials() {
    let fx = Fixture::with_app(Some(app_config())).await;
    let token = Some("ghs_notatokenthesandboxissued0000000000");
    let (status, error) = fx
        .call_as(reqwest::Method::GET, "/repos/acme/widgets", token, None)
        .await;
    assert_eq!(status, 401);
    assert_eq!(error["message"], "Bad credentials");
    // Web routes (archives, raw files) need no token.
    let response = fx
        .client
        .get(fx.web("/acme/widgets/raw/main/README"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn narrowed_token_writes_contents_of_one_repository_only() {
    let fx = Fixture::with_app(Some(app_config())).await;
    let (status, grant) = installation_token(
        &fx,
        json!({ "repositories": ["widgets"], "permissions": { "contents": "write" } }),
    )
    .await;
    assert_eq!(status, 201, "{grant}");
    let token = grant["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("ghs_"));
    assert_eq!(
        grant["permissions"],
        json!({ "contents": "write", "metadata": "read" })
    );
    assert_eq!(grant["repositories"][0]["name"], "widgets");
    assert_eq!(grant["repositories"][0]["full_name"], "acme/widgets");
    assert_eq!(grant["repositories"].as_array().unwrap().len(), 1);
    assert!(grant["expires_at"].as_str().unwrap().ends_with('Z'));

    // Allowed: git data and refs on widgets; the commit is the App's bot and verified.
    let tree = fx.widgets_git(&["rev-parse", "main^{tree}"]);
    let (status, commit) = fx
        .post_as(
            "/repos/acme/widgets/git/commits",
            &token,
            json!({ "message": "Update hash for 9.1.1", "tree": tree, "parents": [fx.widgets.main] }),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(commit["author"]["name"], "valkey-bot[bot]");
    // The email carries the bot user's id (as on GitHub, not the App's), which GET /users gives.
    let (status, bot) = fx.get_as("/users/valkey-bot%5Bbot%5D", &token).await;
    assert_eq!(status, 200);
    assert_eq!(bot["type"], "Bot");
    assert_ne!(bot["id"], APP_ID);
    assert_eq!(
        commit["author"]["email"],
        format!("{}+valkey-bot[bot]@users.noreply.github.com", bot["id"])
    );
    let (status, _) = fx.get_as("/users/someone-else", &token).await;
    assert_eq!(status, 404);
    // An installation is not a user: GET /user refuses its token, as GitHub does.
    let (status, body) = fx.get_as("/user", &token).await;
    assert_eq!(status, 403);
    assert_eq!(body["message"], "Resource not accessible by integration");
    assert_eq!(commit["verification"]["verified"], true);
    assert_eq!(commit["verification"]["reason"], "valid");
    assert_eq!(
        commit["committer"]["email"], "noreply@github.com",
        "GitHub (web-flow) commits what an App token creates"
    );
    assert_eq!(commit["committer"]["name"], "GitHub");
    let (status, _) = fx
        .call_as(
            reqwest::Method::PATCH,
            "/repos/acme/widgets/git/refs/heads/main",
            Some(&token),
            Some(json!({ "sha": commit["sha"] })),
        )
        .await;
    assert_eq!(status, 200);
    // A comparison shows each commit's verification and its committer, web-flow for this one;
    // the git-pushed commit before it is unsigned.
    let (status, compare) = fx
        .get_as(
            &format!(
                "/repos/acme/widgets/compare/{}...{}",
                fx.widgets.first,
                commit["sha"].as_str().unwrap()
            ),
            &token,
        )
        .await;
    assert_eq!(status, 200, "{compare}");
    let listed = compare["commits"].as_array().unwrap();
    let last = listed.last().unwrap();
    assert_eq!(last["sha"], commit["sha"]);
    assert_eq!(last["commit"]["verification"]["verified"], true);
    assert_eq!(last["commit"]["verification"]["reason"], "valid");
    assert_eq!(last["committer"]["login"], "web-flow");
    assert_eq!(last["author"]["login"], "valkey-bot[bot]");
    let pushed = &listed[0];
    assert_eq!(pushed["sha"], fx.widgets.main.as_str());
    assert_eq!(pushed["commit"]["verification"]["verified"], false);
    assert_eq!(pushed["commit"]["verification"]["reason"], "unsigned");
    // Giving an author, even the bot's own, is not signed.
    let (status, forged) = fx
        .post_as(
            "/repos/acme/widgets/git/commits",
            &token,
            json!({ "message": "forged", "tree": tree, "parents": [fx.widgets.main],
                    "author": commit["author"] }),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(forged["verification"]["verified"], false);
    let (status, _) = fx.get_as("/repos/acme/widgets", &token).await;
    assert_eq!(status, 200, "metadata is always readable");

    // Another repository: a public one reads with any token, as on GitHub; writing it is
    // refused; once private, it does not exist for this token (404, never 403).
    let (status, _) = fx
        .get_as("/repos/acme/gadgets/contents/gadget.txt", &token)
        .await;
    assert_eq!(status, 200, "a public repository reads with any token");
    let (status, error) = fx
        .post_as(
            "/repos/acme/gadgets/git/blobs",
            &token,
            json!({ "content": "x" }),
        )
        .await;
    assert_eq!(status, 403, "writes outside the scope stay refused");
    assert_eq!(error["message"], "Resource not accessible by integration");
    valkey_bot_sandbox::set_private(fx.root(), "acme", "gadgets", true).unwrap();
    for path in [
        "/repos/acme/gadgets",
        "/repos/acme/gadgets/contents/gadget.txt",
    ] {
        let (status, error) = fx.get_as(path, &token).await;
        assert_eq!(
            status, 404,
            "{path}: a private repository outside the scope"
        );
        assert_eq!(error["message"], "Not Found");
    }
    let (status, _) = fx
        .post_as(
            "/repos/acme/gadgets/git/blobs",
            &token,
            json!({ "content": "x" }),
        )
        .await;
    assert_eq!(status, 404, "nor can it be written");
    // Marked private, the repository says so to a token that covers it.
    let (_, all) = installation_token(&fx, json!({})).await;
    let all_token = all["token"].as_str().unwrap().to_owned();
    let (status, summary) = fx.get_as("/repos/acme/gadgets", &all_token).await;
    assert_eq!(status, 200);
    assert_eq!(summary["private"], true);
    assert_eq!(summary["visibility"], "private");

    // Refused: issues/pulls on this one.
    let (status, error) = fx
        .post_as(
            "/repos/acme/widgets/issues",
            &token,
            json!({ "title": "nope" }),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(error["message"], "Resource not accessible by integration");
    let (status, _) = fx
        .post_as(
            "/repos/acme/widgets/pulls",
            &token,
            json!({ "title": "t", "head": "feature", "base": "main" }),
        )
        .await;
    assert_eq!(status, 403);
    assert!(
        fx.sandbox
            .state()
            .await
            .repos
            .get("acme/widgets")
            .is_none_or(|repo| repo.issues.is_empty())
    );

    // The log names the scopes and never the token.
    let log = fx.sandbox.request_log();
    let id = grant_installation(&fx).await;
    assert!(log.iter().any(|entry| entry.scope == "app-jwt"));
    assert!(
        log.iter()
            .any(|entry| entry.scope == format!("installation:{id}"))
    );
    let text = serde_json::to_string(&log).unwrap();
    assert!(!text.contains(&token));
}

async fn grant_installation(fx: &Fixture) -> u64 {
    let (_, installation) = fx.get_as("/repos/acme/widgets/installation", &jwt()).await;
    installation["id"].as_u64().unwrap()
}

#[tokio::test]
async fn read_only_and_issue_scopes() {
    let fx = Fixture::with_app(Some(app_config())).await;
    let (_, grant) = installation_token(
        &fx,
        json!({ "permissions": { "contents": "read", "issues": "write" } }),
    )
    .await;
    let token = grant["token"].as_str().unwrap().to_owned();
    assert_eq!(
        grant["repositories"].as_array().unwrap().len(),
        2,
        "all of the owner's repositories"
    );
    let (status, _) = fx
        .get_as("/repos/acme/gadgets/contents/gadget.txt", &token)
        .await;
    assert_eq!(status, 200);
    let (status, _) = fx
        .post_as(
            "/repos/acme/widgets/git/blobs",
            &token,
            json!({ "content": "x" }),
        )
        .await;
    assert_eq!(status, 403, "contents: read cannot write");
    let (status, issue) = fx
        .post_as(
            "/repos/acme/widgets/issues",
            &token,
            json!({ "title": "Release failed" }),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(issue["user"]["login"], "valkey-bot[bot]");
    let (status, _) = fx
        .post_as(
            "/repos/acme/widgets/dispatches",
            &token,
            json!({ "event_type": "x" }),
        )
        .await;
    assert_eq!(status, 403, "dispatches need contents: write");

    // A token with all the App's permissions may label a PR; one with only issues may too.
    let (_, full) = installation_token(&fx, json!({})).await;
    let full_token = full["token"].as_str().unwrap().to_owned();
    let (status, pull) = fx
        .post_as(
            "/repos/acme/widgets/pulls",
            &full_token,
            json!({ "title": "t", "head": "feature", "base": "main" }),
        )
        .await;
    assert_eq!(status, 201);
    let labels_path = format!("/repos/acme/widgets/issues/{}/labels", pull["number"]);
    let (status, _) = fx
        .post_as(&labels_path, &token, json!({ "labels": ["bot"] }))
        .await;
    assert_eq!(status, 200);
    let (_, pulls_only) =
        installation_token(&fx, json!({ "permissions": { "pull_requests": "write" } })).await;
    let pulls_token = pulls_only["token"].as_str().unwrap().to_owned();
    let (status, _) = fx
        .post_as(&labels_path, &pulls_token, json!({ "labels": ["bot"] }))
        .await;
    assert_eq!(status, 200, "labels on a PR accept pull_requests");
    let issue_labels = format!("/repos/acme/widgets/issues/{}/labels", issue["number"]);
    let (status, _) = fx
        .post_as(&issue_labels, &pulls_token, json!({ "labels": ["x"] }))
        .await;
    assert_eq!(status, 403, "labels on an issue need issues");
}

#[tokio::test]
async fn token_requests_beyond_the_installation_are_refused() {
    let fx = Fixture::with_app(Some(app_config())).await;
    let (status, _) = installation_token(&fx, json!({ "repositories": ["unknown"] })).await;
    assert_eq!(status, 422);
    let (status, _) =
        installation_token(&fx, json!({ "permissions": { "administration": "write" } })).await;
    assert_eq!(status, 422);
    let (status, _) =
        installation_token(&fx, json!({ "permissions": { "metadata": "write" } })).await;
    assert_eq!(status, 422);
    // An installation token cannot mint tokens.
    let (_, grant) = installation_token(&fx, json!({})).await;
    let token = grant["token"].as_str().unwrap().to_owned();
    let (status, _) = fx.get_as("/app", &token).await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn an_installation_token_revokes_itself_and_then_answers_401() {
    let fx = Fixture::with_app(Some(app_config())).await;
    let (_, grant) = installation_token(
        &fx,
        json!({ "repositories": ["widgets"], "permissions": { "contents": "read" } }),
    )
    .await;
    let token = grant["token"].as_str().unwrap().to_owned();
    let (_, other) = installation_token(
        &fx,
        json!({ "repositories": ["widgets"], "permissions": { "contents": "read" } }),
    )
    .await;
    let other = other["token"].as_str().unwrap().to_owned();
    let (status, _) = fx.get_as("/repos/acme/widgets", &token).await;
    assert_eq!(status, 200);
    let (status, _) = fx
        .call_as(
            reqwest::Method::DELETE,
            "/installation/token",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let (status, error) = fx.get_as("/repos/acme/widgets", &token).await;
    assert_eq!(status, 401, "{error}");
    assert_eq!(error["message"], "Bad credentials");
    let (status, _) = fx
        .call_as(
            reqwest::Method::DELETE,
            "/installation/token",
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 401, "a revoked token cannot revoke again");
    let (status, _) = fx.get_as("/repos/acme/widgets", &other).await;
    assert_eq!(status, 200, "only the token used is revoked");
    let (status, _) = fx
        .call_as(
            reqwest::Method::DELETE,
            "/installation/token",
            Some(&jwt()),
            None,
        )
        .await;
    assert_eq!(status, 401, "a JWT is not an installation token");
}

#[tokio::test]
async fn the_apps_permissions_and_repositories_can_be_narrowed_by_a_test() {
    let fx = Fixture::with_app(Some(app_config())).await;
    fx.sandbox
        .set_app_permissions(&[("contents", "write"), ("pull_requests", "read")])
        .unwrap();
    let (status, installation) = fx.get_as("/repos/acme/widgets/installation", &jwt()).await;
    assert_eq!(status, 200);
    assert_eq!(
        installation["permissions"],
        json!({ "contents": "write", "metadata": "read", "pull_requests": "read" })
    );
    let (_, app) = fx.get_as("/app", &jwt()).await;
    assert_eq!(app["permissions"], installation["permissions"]);
    let (status, _) =
        installation_token(&fx, json!({ "permissions": { "issues": "write" } })).await;
    assert_eq!(status, 422, "issues is no longer granted");
    let (status, _) =
        installation_token(&fx, json!({ "permissions": { "pull_requests": "write" } })).await;
    assert_eq!(status, 422, "pull_requests only for reading");
    let error = fx
        .sandbox
        .set_app_permissions(&[("everything", "write")])
        .unwrap_err();
    assert!(error.to_string().contains("everything: write"), "{error}");

    // A repository left out of the installation: 404 there, and no token covers it.
    fx.sandbox.uninstall_app("acme/gadgets");
    let (status, _) = fx.get_as("/repos/acme/gadgets/installation", &jwt()).await;
    assert_eq!(status, 404);
    let (status, installation) = fx.get_as("/repos/acme/widgets/installation", &jwt()).await;
    assert_eq!(status, 200);
    assert_eq!(installation["repository_selection"], "selected");
    let (status, _) = installation_token(&fx, json!({ "repositories": ["gadgets"] })).await;
    assert_eq!(status, 422);
    let (_, grant) = installation_token(&fx, json!({})).await;
    let names: Vec<&str> = grant["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["widgets"]);
}
