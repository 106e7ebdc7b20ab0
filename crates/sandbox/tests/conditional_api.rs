//! GitHub's conditional API reads and requests without a token, as the sandbox answers them:
//! every GET 200 has a weak ETag, `If-None-Match` with it answers 304 without a body (free with a
//! token, counted without one), and with an App configured a request without a token reads public
//! repositories only, within the anonymous hourly limit.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Fixture, app_config};
use reqwest::header::{ETAG, IF_NONE_MATCH};
use valkey_bot_sandbox::{Sandbox, SandboxConfig, set_private};

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_get_carries_a_weak_etag_and_if_none_match_answers_304_without_a_body() {
    let fx = Fixture::new().await;
    let url = fx.api("/repos/acme/widgets/git/ref/heads/main");
    let first = fx.fetch_with(&url, &[]).await;
    assert_eq!(first.status(), 200);
    let etag = header(&first, "etag");
    assert!(etag.starts_with("W/\"") && etag.ends_with('"'), "{etag}");

    let again = fx.fetch_with(&url, &[(IF_NONE_MATCH, &etag)]).await;
    assert_eq!(again.status(), 304);
    assert_eq!(header(&again, "etag"), etag);
    assert!(again.bytes().await.unwrap().is_empty());

    // Another state of the resource has another tag: the old one gets the full answer.
    fx.widgets_git(&["update-ref", "refs/heads/main", &fx.widgets.first]);
    let changed = fx.fetch_with(&url, &[(IF_NONE_MATCH, &etag)]).await;
    assert_eq!(changed.status(), 200);
    assert_ne!(header(&changed, ETAG.as_str()), etag);
}

#[tokio::test]
async fn a_304_costs_no_quota_with_a_token_and_counts_without_one() {
    let fx = Fixture::with_app(Some(app_config())).await;
    let url = fx.api("/repos/acme/widgets/contents/README?ref=main");
    // Without a token: the anonymous limit, and every answer counts.
    let first = fx.fetch_with(&url, &[]).await;
    assert_eq!(first.status(), 200);
    assert_eq!(header(&first, "x-ratelimit-limit"), "60");
    assert_eq!(header(&first, "x-ratelimit-remaining"), "59");
    let etag = header(&first, "etag");
    let again = fx.fetch_with(&url, &[(IF_NONE_MATCH, &etag)]).await;
    assert_eq!(again.status(), 304);
    assert_eq!(header(&again, "x-ratelimit-remaining"), "58");

    // With a token (no App: any token), a 304 leaves the remaining count as it was.
    let fx = Fixture::new().await;
    let url = fx.api("/repos/acme/widgets/contents/README?ref=main");
    let token = ("authorization".parse().unwrap(), "Bearer ghp_any");
    let first = fx.fetch_with(&url, std::slice::from_ref(&token)).await;
    let remaining = header(&first, "x-ratelimit-remaining");
    let etag = header(&first, "etag");
    let again = fx.fetch_with(&url, &[token, (IF_NONE_MATCH, &etag)]).await;
    assert_eq!(again.status(), 304);
    assert_eq!(header(&again, "x-ratelimit-remaining"), remaining);
}

#[tokio::test]
async fn without_a_token_public_repositories_are_readable_private_ones_hidden_and_writes_refused() {
    let fx = Fixture::with_app(Some(app_config())).await;
    let (status, repo) = fx.get("/repos/acme/widgets").await;
    assert_eq!(status, 200, "{repo}");
    let (status, error) = fx
        .post(
            "/repos/acme/widgets/git/blobs",
            serde_json::json!({"content": "x"}),
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(error["message"], "Requires authentication");
    set_private(fx.root(), "acme", "widgets", true).unwrap();
    let (status, _) = fx.get("/repos/acme/widgets").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_anonymous_limit_runs_out_with_githubs_refusal() {
    let fx = Fixture::new().await;
    let mut config = SandboxConfig::new(fx.root());
    config.app = Some(app_config());
    config.public_rate_limit = 2;
    let sandbox = Sandbox::start(config).await.unwrap();
    let url = format!("{}/repos/acme/widgets", sandbox.api_url());
    for _ in 0..2 {
        assert_eq!(fx.fetch(&url).await.status(), 200);
    }
    let refused = fx.fetch(&url).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(header(&refused, "x-ratelimit-remaining"), "0");
    assert!(!header(&refused, "x-ratelimit-reset").is_empty());
    let body: serde_json::Value = refused.json().await.unwrap();
    let message = body["message"].as_str().unwrap();
    assert!(message.starts_with("API rate limit exceeded"), "{message}");
}
