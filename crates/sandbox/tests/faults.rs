//! Every fault kind, the fault plan over HTTP, the request log and the rate-limit headers.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Fixture, assert_head_has, status_fault};
use serde_json::{Value, json};
use valkey_bot_sandbox::{FaultAction, FaultRule};

#[tokio::test]
async fn status_faults_fire_n_times_before_the_request_takes_effect() {
    let fx = Fixture::new().await;
    fx.fault_times(
        "PATCH",
        "/repos/*/*/git/refs/heads/**",
        FaultAction::status(503),
        2,
    );
    let body = json!({ "sha": fx.widgets.feature });
    for _ in 0..2 {
        let (code, error) = fx.patch_head("main", body.clone()).await;
        assert_eq!(code, 503);
        assert_eq!(error["message"], "Service Unavailable");
        assert!(error["documentation_url"].is_string());
        assert_eq!(
            fx.widgets_git(&["rev-parse", "main"]),
            fx.widgets.main,
            "no effect"
        );
    }
    let (code, _) = fx.patch_head("main", body).await;
    assert_eq!(code, 200);
    assert_eq!(fx.widgets_git(&["rev-parse", "main"]), fx.widgets.feature);
    assert!(
        fx.sandbox.faults().rules().is_empty(),
        "spent rules are removed"
    );

    for (code, message) in [
        (500, "Internal Server Error"),
        (502, "Server Error"),
        (409, "Conflict"),
        (422, "Validation Failed"),
    ] {
        fx.fault_times("GET", "/repos/acme/widgets", FaultAction::status(code), 1);
        let (got, error) = fx.get("/repos/acme/widgets").await;
        assert_eq!(got, code);
        assert_eq!(error["message"], message);
    }
    let (got, _) = fx.get("/repos/acme/widgets").await;
    assert_eq!(got, 200);
}

#[tokio::test]
async fn secondary_rate_limit_carries_retry_after() {
    let fx = Fixture::new().await;
    fx.fault_times(
        "POST",
        "/repos/*/*/pulls",
        status_fault(403, Some(7), false),
        1,
    );
    let response = fx
        .client
        .post(fx.api("/repos/acme/widgets/pulls"))
        .json(&json!({ "title": "t", "head": "feature", "base": "main" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(response.headers()["retry-after"], "7");
    assert!(response.headers().contains_key("x-ratelimit-remaining"));
    let (_, error) = common::decode(response).await;
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("You have exceeded a secondary rate limit")
    );
    assert!(
        fx.sandbox.state().await.repos.is_empty(),
        "the PR was not created"
    );
}

#[tokio::test]
async fn after_effect_500_applies_the_write_then_fails() {
    let fx = Fixture::new().await;
    fx.fault_times(
        "PATCH",
        "/repos/*/*/git/refs/heads/*",
        status_fault(500, None, true),
        1,
    );
    let (code, _) = fx
        .patch_head("main", json!({ "sha": fx.widgets.feature }))
        .await;
    assert_eq!(code, 500);
    assert_eq!(
        fx.widgets_git(&["rev-parse", "main"]),
        fx.widgets.feature,
        "the write happened"
    );

    let bad = FaultRule::new("GET", "/x", status_fault(422, None, true));
    assert!(fx.sandbox.faults().add(bad).is_err());
    assert!(
        fx.sandbox
            .faults()
            .add(FaultRule::new("GET", "/x", FaultAction::status(404)))
            .is_err()
    );
}

#[tokio::test]
async fn latency_delays_matching_requests() {
    let fx = Fixture::new().await;
    fx.fault_times("GET", "/repos/*/*", FaultAction::Latency { ms: 300 }, 1);
    let started = Instant::now();
    let (code, _) = fx.get("/repos/acme/widgets").await;
    assert_eq!(code, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    let (code, _) = fx.get("/repos/acme/widgets").await;
    assert_eq!(code, 200);
    let log = fx.sandbox.request_log();
    assert!(log[0].duration_ms >= 300, "{:?}", log[0]);
    assert!(
        log[1].started_ms >= log[0].started_ms + log[0].duration_ms,
        "the log places the second request after the first one's answer: {log:?}"
    );
}

#[tokio::test]
async fn drop_closes_the_connection_without_an_answer() {
    let fx = Fixture::new().await;
    fx.fault_times("GET", "/repos/**", FaultAction::Drop, 1);
    let error = fx
        .client
        .get(fx.api("/repos/acme/widgets"))
        .send()
        .await
        .unwrap_err();
    assert!(error.status().is_none(), "{error:?}");
    assert_eq!(fx.sandbox.request_log()[0].status, None);
    let (code, _) = fx.get("/repos/acme/widgets").await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn stall_never_answers_until_the_client_gives_up() {
    let fx = Fixture::new().await;
    fx.fault_times("*", "/repos/*/*/contents/**", FaultAction::Stall, 1);
    let error = fx
        .client
        .get(fx.api("/repos/acme/widgets/contents/README"))
        .timeout(Duration::from_millis(300))
        .send()
        .await
        .unwrap_err();
    assert!(error.is_timeout(), "{error:?}");
    let (code, _) = fx.get("/repos/acme/widgets/contents/README").await;
    assert_eq!(code, 200);
}

#[tokio::test]
async fn truncate_sends_fewer_bytes_than_content_length() {
    let fx = Fixture::new().await;
    let path = "/_codeload/acme/widgets/tar.gz/refs/tags/1.0.0";
    let full = fx.fetch_bytes(&fx.web(path)).await;
    fx.fault_times(
        "GET",
        "/_codeload/*/*/tar.gz/refs/tags/*",
        FaultAction::Truncate { bytes: 100 },
        1,
    );
    let (headers, body) = fx.raw_get(path).await;
    assert!(headers.starts_with("HTTP/1.1 200"), "{headers}");
    assert_head_has(&headers, &format!("content-length: {}", full.len()));
    assert_eq!(body, full[..100].to_vec());
    // reqwest sees an incomplete body as an error.
    fx.fault_times(
        "GET",
        "/_codeload/**",
        FaultAction::Truncate { bytes: 10 },
        1,
    );
    let response = fx.get_web(path).await;
    assert!(response.bytes().await.is_err());
    // Next time the archive is whole again, byte for byte.
    let again = fx.fetch_bytes(&fx.web(path)).await;
    assert_eq!(again, full);
}

#[tokio::test]
async fn bandwidth_limit_slows_downloads_but_keeps_bytes() {
    let fx = Fixture::new().await;
    fx.put_download("file.bin", vec![7u8; 200]);
    fx.add_fault(FaultRule::new(
        "GET",
        "/_downloads/**",
        FaultAction::Bandwidth { bytes_per_sec: 400 },
    ));
    let started = Instant::now();
    let response = fx.get_web("/_downloads/file.bin").await;
    assert_eq!(response.headers()["content-length"], "200");
    let body = response.bytes().await.unwrap();
    assert_eq!(body.as_ref(), vec![7u8; 200].as_slice());
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "200 bytes at 400 B/s take at least 0.5 s"
    );
}

#[tokio::test]
async fn fault_plan_and_log_over_http() {
    let fx = Fixture::new().await;
    let rule = json!({
        "method": "GET",
        "path": "/repos/*/*",
        "times": 1,
        "action": { "kind": "status", "status": 502 }
    });
    let response = fx.post_web("/_sandbox/faults", &rule).await;
    assert_eq!(response.status(), 201);
    let listed: serde_json::Value = fx.get_web("/_sandbox/faults").await.json().await.unwrap();
    assert_eq!(listed[0]["action"]["kind"], "status");
    let (code, _) = fx.get("/repos/acme/widgets").await;
    assert_eq!(code, 502);

    let bad =
        json!({ "method": "GET", "path": "/x", "action": { "kind": "status", "status": 418 } });
    let response = fx.post_web("/_sandbox/faults", &bad).await;
    assert_eq!(response.status(), 422);

    fx.post_web(
        "/_sandbox/faults",
        &json!([{ "method": "*", "path": "/**", "action": { "kind": "drop" } }]),
    )
    .await;
    let response = fx
        .client
        .delete(fx.web("/_sandbox/faults"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let (code, _) = fx.get("/repos/acme/widgets").await;
    assert_eq!(code, 200, "cleared");

    let response = fx
        .client
        .get(fx.api("/repos/acme/widgets/contents/README?ref=main"))
        .bearer_auth("secret-token-value")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let log_text = fx.get_web("/_sandbox/log").await.text().await.unwrap();
    assert!(
        !log_text.contains("secret-token-value"),
        "token values are never logged"
    );
    let log: serde_json::Value = serde_json::from_str(&log_text).unwrap();
    let entries = log.as_array().unwrap();
    assert_eq!(entries.len(), 3, "control routes are not logged: {log}");
    assert_eq!(entries[0]["status"], 502);
    assert_eq!(entries[0]["scope"], "anonymous");
    let last = &entries[2];
    assert_eq!(last["method"], "GET");
    assert_eq!(last["path"], "/api/v3/repos/acme/widgets/contents/README");
    assert_eq!(last["query"], "ref=main");
    assert_eq!(last["status"], 200);
    assert_eq!(last["scope"], "bearer");
    assert!(last["response_bytes"].as_u64().unwrap() > 0);
    assert_eq!(fx.sandbox.request_log().len(), 3);
}

#[tokio::test]
async fn api_answers_carry_rate_limit_headers() {
    let fx = Fixture::new().await;
    for path in [
        "/repos/acme/widgets",
        "/repos/acme/missing",
        "/no/such/route",
    ] {
        let response = fx.fetch(&fx.api(path)).await;
        for name in [
            "x-ratelimit-limit",
            "x-ratelimit-remaining",
            "x-ratelimit-reset",
        ] {
            assert!(response.headers().contains_key(name), "{path} lacks {name}");
        }
        assert_eq!(response.headers()["x-ratelimit-limit"], "5000");
    }
    let first: u64 = remaining(&fx).await;
    let second: u64 = remaining(&fx).await;
    assert_eq!(second, first - 1);
}

async fn remaining(fx: &Fixture) -> u64 {
    let response = fx.fetch(&fx.api("/repos/acme/widgets")).await;
    response.headers()["x-ratelimit-remaining"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Applies `action` to the next `GET /_downloads/**`.
fn once_on_downloads(fx: &Fixture, action: FaultAction) {
    fx.fault_times("GET", "/_downloads/**", action, 1);
}

#[tokio::test]
async fn a_large_file_is_truncated_across_its_chunks_with_its_full_length_announced() {
    let fx = Fixture::new().await;
    let content: Vec<u8> = (0..3 * 1024 * 1024 + 5).map(|i| (i % 251) as u8).collect();
    fx.put_download("big.bin", &content);
    let (headers, whole) = fx.raw_get("/_downloads/big.bin").await;
    assert!(headers.starts_with("HTTP/1.1 200"), "{headers}");
    assert_eq!(whole, content, "served byte for byte without a fault");

    let keep = 1024 * 1024 + 3;
    once_on_downloads(&fx, FaultAction::Truncate { bytes: keep });
    let (headers, cut) = fx.raw_get("/_downloads/big.bin").await;
    assert_head_has(&headers, &format!("content-length: {}", content.len()));
    assert_eq!(cut.len() as u64, keep, "exactly the first {keep} bytes");
    assert_eq!(cut, content[..cut.len()]);
}

#[tokio::test]
async fn redirect_sends_the_client_elsewhere_without_handling_the_request() {
    let fx = Fixture::new().await;
    fx.put_download("file.bin", b"content");
    let elsewhere = "https://elsewhere.example/file.bin";
    once_on_downloads(
        &fx,
        FaultAction::Redirect {
            location: elsewhere.to_owned(),
        },
    );
    let (headers, body) = fx.raw_get("/_downloads/file.bin").await;
    assert!(headers.starts_with("HTTP/1.1 302"), "{headers}");
    assert_head_has(&headers, &format!("location: {elsewhere}"));
    assert!(body.is_empty(), "{body:?}");
    let (headers, body) = fx.raw_get("/_downloads/file.bin").await;
    assert!(headers.starts_with("HTTP/1.1 200"), "{headers}");
    assert_eq!(body, b"content", "the fault fired once");
    let bad = FaultRule::new(
        "GET",
        "/_downloads/**",
        FaultAction::Redirect {
            location: "https://x/\n".to_owned(),
        },
    );
    assert!(fx.sandbox.faults().add(bad).is_err());
}

/// Polls `path` until it answers `code`, failing after a few seconds.
async fn eventually(fx: &Fixture, path: &str, code: u16) -> Value {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (got, body) = fx.get(path).await;
        if got == code {
            return body;
        }
        assert!(Instant::now() < deadline, "{path} still answers {got}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn lag_shows_the_state_before_a_write_for_a_while() {
    let fx = Fixture::new().await;
    let lag = FaultAction::Lag { ms: 700 };
    fx.fault_times("POST", "/repos/*/*/git/commits", lag.clone(), 1);
    fx.fault_times("PATCH", "/repos/*/*/git/refs/**", lag.clone(), 1);
    fx.fault_times("POST", "/repos/*/*/git/refs", lag.clone(), 1);
    fx.fault_times("POST", "/repos/*/*/pulls", lag, 1);

    let (_, main_tree) = fx
        .get(&format!(
            "/repos/acme/widgets/git/commits/{}",
            fx.widgets.main
        ))
        .await;
    let (code, commit) = fx
        .post_git(
            "commits",
            json!({ "message": "lagged", "tree": main_tree["tree"]["sha"], "parents": [fx.widgets.main] }),
        )
        .await;
    assert_eq!(code, 201);
    let sha = commit["sha"].as_str().unwrap().to_owned();
    let commit_path = format!("/repos/acme/widgets/git/commits/{sha}");
    assert_eq!(
        fx.get(&commit_path).await.0,
        404,
        "the new commit is not seen yet"
    );
    let (code, _) = fx.patch_head("main", json!({ "sha": sha })).await;
    assert_eq!(code, 200, "writes see the true state");
    let (code, created) = fx
        .post_git(
            "refs",
            json!({ "ref": "refs/heads/lagged", "sha": fx.widgets.feature }),
        )
        .await;
    assert_eq!(code, 201, "{created}");
    let (code, _) = fx
        .post(
            "/repos/acme/widgets/pulls",
            json!({ "title": "t", "head": "lagged", "base": "main" }),
        )
        .await;
    assert_eq!(code, 201);

    let main_ref = "/repos/acme/widgets/git/ref/heads/main";
    let (_, old) = fx.get(main_ref).await;
    assert_eq!(
        old["object"]["sha"],
        fx.widgets.main.as_str(),
        "the ref answers its old target"
    );
    let (code, contents) = fx.get("/repos/acme/widgets/contents/README?ref=main").await;
    assert_eq!(code, 200, "{contents}");
    assert_eq!(
        fx.get("/repos/acme/widgets/git/ref/heads/lagged").await.0,
        404
    );
    let (_, listed) = fx.get("/repos/acme/widgets/pulls?head=acme:lagged").await;
    assert_eq!(
        listed,
        json!([]),
        "the list answers the state before the write"
    );

    eventually(&fx, &commit_path, 200).await;
    let now = eventually(&fx, "/repos/acme/widgets/git/ref/heads/lagged", 200).await;
    assert_eq!(now["object"]["sha"], fx.widgets.feature.as_str());
    let (_, main_now) = fx.get(main_ref).await;
    assert_eq!(main_now["object"]["sha"], sha.as_str());
    let (_, listed) = fx.get("/repos/acme/widgets/pulls?head=acme:lagged").await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1));
}

#[tokio::test]
async fn a_drop_field_fault_takes_a_field_out_of_a_successful_answer_only() {
    let fx = Fixture::new().await;
    let field = FaultAction::DropField {
        field: "sha".to_owned(),
    };
    fx.fault_times("POST", "/repos/*/*/git/blobs", field.clone(), 1);
    let blob = json!({"content": "x", "encoding": "utf-8"});
    let (code, answer) = fx.post_git("blobs", blob.clone()).await;
    assert_eq!(code, 201);
    assert!(answer.get("sha").is_none(), "{answer}");
    assert!(answer["url"].is_string(), "the rest is kept: {answer}");
    let (_, again) = fx.post_git("blobs", blob).await;
    assert!(again["sha"].is_string(), "spent after one use: {again}");
    // An error answer keeps its shape.
    fx.fault_times("GET", "/repos/*/*", field, 1);
    let (code, error) = fx.get("/repos/acme/nothing").await;
    assert_eq!(code, 404);
    assert_eq!(error["message"], "Not Found");
    // An empty field name is refused.
    let refused = fx.sandbox.faults().add(FaultRule::new(
        "GET",
        "/x",
        FaultAction::DropField {
            field: String::new(),
        },
    ));
    assert!(refused.unwrap_err().to_string().contains("drop_field"));
}
