//! Pull requests, issues, comments, labels, dispatches, and their persistence across restarts.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Fixture;
use serde_json::{Value, json};
use valkey_bot_sandbox::{Sandbox, SandboxConfig};

async fn open_feature_pull(fx: &Fixture) -> Value {
    let (status, pull) = fx
        .post(
            "/repos/acme/widgets/pulls",
            json!({ "title": "Add feature", "head": "acme:feature", "base": "main", "body": "Please merge." }),
        )
        .await;
    assert_eq!(status, 201, "{pull}");
    pull
}

#[tokio::test]
async fn pull_request_lifecycle_and_errors() {
    let fx = Fixture::new().await;
    let pull = open_feature_pull(&fx).await;
    assert_eq!(pull["number"], 1);
    assert_eq!(pull["state"], "open");
    assert_eq!(pull["title"], "Add feature");
    assert_eq!(pull["body"], "Please merge.");
    assert_eq!(pull["head"]["ref"], "feature");
    assert_eq!(pull["head"]["sha"], fx.widgets.feature.as_str());
    assert_eq!(pull["head"]["label"], "acme:feature");
    assert_eq!(pull["base"]["ref"], "main");
    assert_eq!(pull["user"]["login"], "sandbox-user");
    assert_eq!(pull["labels"], json!([]));
    assert_eq!(pull["html_url"], fx.web("/acme/widgets/pull/1"));

    let (status, error) = fx
        .post(
            "/repos/acme/widgets/pulls",
            json!({ "title": "again", "head": "feature", "base": "main" }),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        error["message"],
        "A pull request already exists for acme:feature."
    );

    let (status, error) = fx
        .post(
            "/repos/acme/widgets/pulls",
            json!({ "title": "empty", "head": "release/9.1", "base": "main" }),
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("No commits between "),
        "{error}"
    );
    let (status, _) = fx
        .post(
            "/repos/acme/widgets/pulls",
            json!({ "title": "x", "head": "nope", "base": "main" }),
        )
        .await;
    assert_eq!(status, 422);

    // head.sha follows the branch.
    let tree = fx.widgets_git(&["rev-parse", "feature^{tree}"]);
    let (_, commit) = fx
        .post_git(
            "commits",
            json!({ "message": "more", "tree": tree, "parents": [fx.widgets.feature] }),
        )
        .await;
    fx.patch_head("feature", json!({ "sha": commit["sha"] }))
        .await;
    let (status, fetched) = fx.get("/repos/acme/widgets/pulls/1").await;
    assert_eq!(status, 200);
    assert_eq!(fetched["head"]["sha"], commit["sha"]);

    let (status, updated) = fx
        .patch(
            "/repos/acme/widgets/pulls/1",
            json!({ "title": "Feature v2", "body": "Updated.", "state": "closed" }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(updated["title"], "Feature v2");
    assert_eq!(updated["body"], "Updated.");
    assert_eq!(updated["state"], "closed");
    assert!(updated["closed_at"].is_string());

    let (status, _) = fx.get("/repos/acme/widgets/pulls/99").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn pull_list_filters_by_state_head_and_base() {
    let fx = Fixture::new().await;
    open_feature_pull(&fx).await;
    let (_, second) = fx
        .post(
            "/repos/acme/widgets/pulls",
            json!({ "title": "To release", "head": "feature", "base": "release/9.1" }),
        )
        .await;
    fx.patch(
        &format!("/repos/acme/widgets/pulls/{}", second["number"]),
        json!({ "state": "closed" }),
    )
    .await;

    let numbers = |list: Value| -> Vec<u64> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|p| p["number"].as_u64().unwrap())
            .collect()
    };
    let (_, open) = fx.get("/repos/acme/widgets/pulls").await;
    assert_eq!(numbers(open), [1]);
    let (_, all) = fx.get("/repos/acme/widgets/pulls?state=all").await;
    assert_eq!(numbers(all), [2, 1]);
    let (_, closed) = fx.get("/repos/acme/widgets/pulls?state=closed").await;
    assert_eq!(numbers(closed), [2]);
    let (_, by_head) = fx
        .get("/repos/acme/widgets/pulls?state=all&head=acme:feature&base=release/9.1")
        .await;
    assert_eq!(numbers(by_head), [2]);
    let (_, other_owner) = fx
        .get("/repos/acme/widgets/pulls?head=someone:feature")
        .await;
    assert_eq!(numbers(other_owner), Vec::<u64>::new());
}

#[tokio::test]
async fn issues_comments_and_labels_share_numbers_with_pulls() {
    let fx = Fixture::new().await;
    open_feature_pull(&fx).await;
    let (status, issue) = fx
        .post("/repos/acme/widgets/issues", json!({ "title": "Release 9.1.1 failed", "body": "details", "labels": ["release", "bot"] }))
        .await;
    assert_eq!(status, 201);
    assert_eq!(issue["number"], 2);
    assert_eq!(issue["state"], "open");
    assert_eq!(issue["labels"][0]["name"], "release");
    assert_eq!(issue["user"]["login"], "sandbox-user");
    assert!(issue.get("pull_request").is_none());

    let (status, _) = fx
        .post("/repos/acme/widgets/issues", json!({ "title": "" }))
        .await;
    assert_eq!(status, 422);
    let (status, _) = fx
        .post("/repos/acme/widgets/issues", json!({ "body": "no title" }))
        .await;
    assert_eq!(status, 422);

    let (status, comment) = fx
        .post(
            "/repos/acme/widgets/issues/2/comments",
            json!({ "body": "Retrying." }),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(comment["body"], "Retrying.");
    assert_eq!(comment["user"]["login"], "sandbox-user");
    fx.post(
        "/repos/acme/widgets/issues/2/comments",
        json!({ "body": "Done." }),
    )
    .await;
    let (status, comments) = fx.get("/repos/acme/widgets/issues/2/comments").await;
    assert_eq!(status, 200);
    let bodies: Vec<&str> = comments
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, ["Retrying.", "Done."]);
    let (status, _) = fx
        .post(
            "/repos/acme/widgets/issues/77/comments",
            json!({ "body": "x" }),
        )
        .await;
    assert_eq!(status, 404);

    // Labels on a PR number, through the issues API.
    let (status, labels) = fx
        .post(
            "/repos/acme/widgets/issues/1/labels",
            json!({ "labels": ["automated", "release"] }),
        )
        .await;
    assert_eq!(status, 200);
    let names: Vec<&str> = labels
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["automated", "release"]);
    let (_, labels) = fx
        .post(
            "/repos/acme/widgets/issues/1/labels",
            json!(["release", "extra"]),
        )
        .await;
    assert_eq!(labels.as_array().unwrap().len(), 3);
    let (_, pull) = fx.get("/repos/acme/widgets/pulls/1").await;
    assert_eq!(pull["labels"][2]["name"], "extra");

    let (status, fetched) = fx.get("/repos/acme/widgets/issues/2").await;
    assert_eq!(status, 200);
    assert_eq!(fetched["comments"], 2);
    let (status, patched) = fx
        .patch(
            "/repos/acme/widgets/issues/2",
            json!({ "state": "closed", "title": "Release 9.1.1 failed (fixed)" }),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(patched["state"], "closed");
    assert_eq!(patched["title"], "Release 9.1.1 failed (fixed)");
    let (status, _) = fx
        .patch("/repos/acme/widgets/issues/2", json!({ "state": "merged" }))
        .await;
    assert_eq!(status, 422);

    // The issues list holds PRs too (with pull_request), filtered by state, labels and creator.
    let (_, open) = fx.get("/repos/acme/widgets/issues").await;
    assert_eq!(open.as_array().unwrap().len(), 1);
    assert!(open[0]["pull_request"].is_object());
    let (_, labelled) = fx
        .get("/repos/acme/widgets/issues?state=all&labels=release,bot")
        .await;
    assert_eq!(labelled.as_array().unwrap().len(), 1);
    assert_eq!(labelled[0]["number"], 2);
    let (_, by_creator) = fx
        .get("/repos/acme/widgets/issues?state=all&creator=someone-else")
        .await;
    assert_eq!(by_creator, json!([]));
    let (_, mine) = fx
        .get("/repos/acme/widgets/issues?state=all&creator=sandbox-user")
        .await;
    assert_eq!(mine.as_array().unwrap().len(), 2);
    let (status, _) = fx.get("/repos/acme/widgets/issues/55").await;
    assert_eq!(status, 404);
    let (status, error) = fx.get("/repos/acme/widgets/issues/abc").await;
    assert_eq!(status, 404);
    assert_eq!(error["message"], "Not Found");
}

#[tokio::test]
async fn dispatches_are_recorded_and_validated() {
    let fx = Fixture::new().await;
    let payload = json!({ "version": "9.1.1", "environment": "prod" });
    let (status, body) = fx
        .post(
            "/repos/acme/widgets/dispatches",
            json!({ "event_type": "build-release", "client_payload": payload }),
        )
        .await;
    assert_eq!(status, 204);
    assert_eq!(body, Value::Null);
    let state = fx.sandbox.state().await;
    let dispatches = &state.repo("acme/widgets").unwrap().dispatches;
    assert_eq!(dispatches.len(), 1);
    assert_eq!(dispatches[0].event_type, "build-release");
    assert_eq!(dispatches[0].client_payload, payload);

    let too_many: serde_json::Map<String, Value> =
        (0..11).map(|i| (format!("k{i}"), json!(i))).collect();
    let (status, _) = fx
        .post(
            "/repos/acme/widgets/dispatches",
            json!({ "event_type": "x", "client_payload": too_many }),
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = fx
        .post(
            "/repos/acme/widgets/dispatches",
            json!({ "client_payload": {} }),
        )
        .await;
    assert_eq!(status, 422);
    let (status, _) = fx
        .post(
            "/repos/acme/nothing/dispatches",
            json!({ "event_type": "x" }),
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn state_survives_a_restart() {
    let fx = Fixture::new().await;
    open_feature_pull(&fx).await;
    fx.post(
        "/repos/acme/widgets/issues",
        json!({ "title": "Tracked", "labels": ["release"] }),
    )
    .await;
    fx.post(
        "/repos/acme/widgets/issues/2/comments",
        json!({ "body": "note" }),
    )
    .await;
    fx.post(
        "/repos/acme/widgets/dispatches",
        json!({ "event_type": "build-release" }),
    )
    .await;
    let tree = fx.widgets_git(&["rev-parse", "main^{tree}"]);
    let (_, made) = fx
        .post_git(
            "commits",
            json!({ "message": "made through the API", "tree": tree, "parents": [] }),
        )
        .await;
    let before = fx.sandbox.state().await;
    let Fixture {
        temp,
        sandbox,
        client,
        ..
    } = fx;
    sandbox.shutdown().await;
    assert!(temp.path().join("_sandbox/state.json").is_file());

    let restarted = Sandbox::start(SandboxConfig::new(temp.path()))
        .await
        .unwrap();
    assert_eq!(restarted.state().await, before);
    let api = restarted.api_url();
    let get = |path: String| {
        let request = client.get(format!("{api}{path}"));
        async move { common::decode(request.send().await.unwrap()).await }
    };
    let (status, pull) = get("/repos/acme/widgets/pulls/1".to_owned()).await;
    assert_eq!(status, 200);
    assert_eq!(pull["title"], "Add feature");
    let (_, comments) = get("/repos/acme/widgets/issues/2/comments".to_owned()).await;
    assert_eq!(comments[0]["body"], "note");
    let (_, commit) = get(format!(
        "/repos/acme/widgets/git/commits/{}",
        made["sha"].as_str().unwrap()
    ))
    .await;
    assert_eq!(
        commit["sha"], made["sha"],
        "the commit reads back after the restart"
    );
    assert_eq!(commit["verification"], made["verification"]);
    assert_eq!(commit["committer"], made["committer"]);
    // Numbering continues after the restart.
    let response = client
        .post(format!("{api}/repos/acme/widgets/issues"))
        .json(&json!({ "title": "after restart" }))
        .send()
        .await
        .unwrap();
    let (status, issue) = common::decode(response).await;
    assert_eq!(status, 201);
    assert_eq!(issue["number"], 3);
    restarted.shutdown().await;
}
