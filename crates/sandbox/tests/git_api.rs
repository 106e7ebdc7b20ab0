//! Repository, refs, git data (blobs, trees, commits), contents and compare endpoints.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine;
use common::Fixture;
use reqwest::Method;
use serde_json::{Value, json};

#[tokio::test]
async fn repository_summary_has_default_branch_from_head() {
    let fx = Fixture::new().await;
    let (status, body) = fx.get("/repos/acme/widgets").await;
    assert_eq!(status, 200);
    assert_eq!(body["name"], "widgets");
    assert_eq!(body["full_name"], "acme/widgets");
    assert_eq!(body["default_branch"], "main");
    assert_eq!(body["owner"]["login"], "acme");
    assert_eq!(body["private"], false);
    assert_eq!(body["html_url"], fx.web("/acme/widgets"));
    assert!(body["id"].as_u64().is_some());

    // A repository with a work tree is found through its .git, with its own HEAD branch.
    let (status, body) = fx.get("/repos/acme/gadgets").await;
    assert_eq!(status, 200);
    assert_eq!(body["default_branch"], "trunk");

    let (status, body) = fx.get("/repos/acme/nothing").await;
    assert_eq!(status, 404);
    assert_eq!(body["message"], "Not Found");
    assert!(body["documentation_url"].is_string());
    // Unknown routes and methods answer GitHub's JSON 404 too.
    for (method, path) in [
        (Method::GET, "/nothing/here"),
        (Method::PUT, "/repos/acme/widgets"),
    ] {
        let (status, body) = fx.send(method, path, Value::Null).await;
        assert_eq!(status, 404);
        assert_eq!(body["message"], "Not Found");
    }
}

#[tokio::test]
async fn get_ref_resolves_branches_with_slashes_and_404s_missing() {
    let fx = Fixture::new().await;
    let (status, body) = fx.get("/repos/acme/widgets/git/ref/heads/main").await;
    assert_eq!(status, 200);
    assert_eq!(body["ref"], "refs/heads/main");
    assert_eq!(body["object"]["sha"], fx.widgets.main.as_str());
    assert_eq!(body["object"]["type"], "commit");
    assert!(body["node_id"].is_string());
    assert_eq!(
        body["url"],
        fx.api("/repos/acme/widgets/git/refs/heads/main")
    );

    let (status, body) = fx
        .get("/repos/acme/widgets/git/ref/heads/release/9.1")
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["object"]["sha"], fx.widgets.release.as_str());

    let (status, body) = fx.get("/repos/acme/widgets/git/ref/heads/nope").await;
    assert_eq!(status, 404);
    assert_eq!(body["message"], "Not Found");
}

#[tokio::test]
async fn matching_refs_lists_refs_by_name_prefix_as_an_array() {
    let fx = Fixture::new().await;
    let (status, body) = fx.get("/repos/acme/widgets/git/matching-refs/tags").await;
    assert_eq!(status, 200);
    let refs = body.as_array().unwrap();
    assert_eq!(refs.len(), 1);
    assert_eq!(refs[0]["ref"], "refs/tags/1.0.0");
    assert_eq!(refs[0]["object"]["sha"], fx.widgets.main.as_str());
    assert_eq!(refs[0]["object"]["type"], "commit");
    assert_eq!(
        refs[0]["url"],
        fx.api("/repos/acme/widgets/git/refs/tags/1.0.0")
    );

    // A prefix is a string prefix, not a path: `heads/fe` finds `feature`.
    let (status, body) = fx
        .get("/repos/acme/widgets/git/matching-refs/heads/fe")
        .await;
    assert_eq!(status, 200);
    let names: Vec<&str> = body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["ref"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["refs/heads/feature"]);

    // No match is an empty array, not a 404.
    let (status, body) = fx
        .get("/repos/acme/widgets/git/matching-refs/tags/9.")
        .await;
    assert_eq!((status, body), (200, json!([])));
}

#[tokio::test]
async fn create_ref_then_refuses_duplicate() {
    let fx = Fixture::new().await;
    let body = json!({ "ref": "refs/heads/bot/update-9.1.1", "sha": fx.widgets.main });
    let (status, created) = fx.post_git("refs", body.clone()).await;
    assert_eq!(status, 201);
    assert_eq!(created["ref"], "refs/heads/bot/update-9.1.1");
    assert_eq!(created["object"]["sha"], fx.widgets.main.as_str());
    assert_eq!(
        fx.widgets_git(&["rev-parse", "refs/heads/bot/update-9.1.1"]),
        fx.widgets.main
    );

    let (status, error) = fx.post_git("refs", body).await;
    assert_eq!(status, 422);
    assert_eq!(error["message"], "Reference already exists");

    let (status, error) = fx
        .post_git(
            "refs",
            json!({ "ref": "refs/heads/x", "sha": "1234567890123456789012345678901234567890" }),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(error["message"], "Object does not exist");

    let (status, _) = fx
        .post_git("refs", json!({ "ref": "heads/x", "sha": fx.widgets.main }))
        .await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn update_ref_fast_forwards_refuses_non_ff_and_forces() {
    let fx = Fixture::new().await;
    // main -> feature is a fast forward.
    let (status, body) = fx
        .patch_head("main", json!({ "sha": fx.widgets.feature }))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["object"]["sha"], fx.widgets.feature.as_str());

    // feature -> first is not.
    let (status, error) = fx
        .patch_head("main", json!({ "sha": fx.widgets.first, "force": false }))
        .await;
    assert_eq!(status, 422);
    assert_eq!(error["message"], "Update is not a fast forward");
    assert_eq!(fx.widgets_git(&["rev-parse", "main"]), fx.widgets.feature);

    let (status, _) = fx
        .patch_head("main", json!({ "sha": fx.widgets.first, "force": true }))
        .await;
    assert_eq!(status, 200);
    assert_eq!(fx.widgets_git(&["rev-parse", "main"]), fx.widgets.first);

    let (status, error) = fx
        .patch_head("missing", json!({ "sha": fx.widgets.first }))
        .await;
    assert_eq!(status, 422);
    assert_eq!(error["message"], "Reference does not exist");
}

#[tokio::test]
async fn delete_ref_removes_branch_then_422() {
    let fx = Fixture::new().await;
    let url = fx.api("/repos/acme/widgets/git/refs/heads/feature");
    let response = fx.client.delete(&url).send().await.unwrap();
    assert_eq!(response.status(), 204);
    let (status, _) = fx.get("/repos/acme/widgets/git/ref/heads/feature").await;
    assert_eq!(status, 404);
    let (status, error) = common::decode(fx.client.delete(&url).send().await.unwrap()).await;
    assert_eq!(status, 422);
    assert_eq!(error["message"], "Reference does not exist");
}

/// Makes a commit on top of main through the API, changing README to `text`.
async fn commit_on_main(fx: &Fixture, text: &str) -> String {
    let (_, tree) = fx
        .post_git("trees", json!({ "base_tree": fx.widgets_git(&["rev-parse", "main^{tree}"]),
                    "tree": [{ "path": "README", "mode": "100644", "type": "blob", "content": text }] }))
        .await;
    let (status, commit) = fx
        .post_git(
            "commits",
            json!({ "message": text, "tree": tree["sha"], "parents": [fx.widgets.main] }),
        )
        .await;
    assert_eq!(status, 201);
    commit["sha"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn concurrent_ref_updates_exactly_one_wins() {
    let fx = Fixture::new().await;
    let mut candidates = Vec::new();
    for index in 0..6 {
        candidates.push(commit_on_main(&fx, &format!("candidate {index}\n")).await);
    }
    let url = fx.api("/repos/acme/widgets/git/refs/heads/main");
    let requests = candidates.iter().map(|sha| {
        let request = fx
            .client
            .patch(&url)
            .json(&json!({ "sha": sha, "force": false }));
        async move { request.send().await.unwrap().status().as_u16() }
    });
    let statuses = futures::future::join_all(requests).await;
    assert_eq!(
        statuses.iter().filter(|status| **status == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|status| **status == 422).count(),
        5,
        "{statuses:?}"
    );
    let winner = candidates[statuses.iter().position(|status| *status == 200).unwrap()].clone();
    assert_eq!(fx.widgets_git(&["rev-parse", "main"]), winner);
}

#[tokio::test]
async fn blobs_are_real_git_objects_in_both_encodings() {
    let fx = Fixture::new().await;
    let (status, body) = fx
        .post_git(
            "blobs",
            json!({ "content": "hello\n", "encoding": "utf-8" }),
        )
        .await;
    assert_eq!(status, 201);
    // `printf 'hello\n' | git hash-object --stdin`
    assert_eq!(body["sha"], "ce013625030ba8dba906f756967f9e9ca394464a");
    assert!(
        body["url"]
            .as_str()
            .unwrap()
            .ends_with("/git/blobs/ce013625030ba8dba906f756967f9e9ca394464a")
    );

    let encoded = base64::engine::general_purpose::STANDARD.encode([0u8, 1, 2, 255]);
    let (status, body) = fx
        .post_git("blobs", json!({ "content": encoded, "encoding": "base64" }))
        .await;
    assert_eq!(status, 201);
    let sha = body["sha"].as_str().unwrap();
    let size = fx.widgets_git(&["cat-file", "-s", sha]);
    assert_eq!(size, "4");

    let (status, _) = fx
        .post_git("blobs", json!({ "content": "x", "encoding": "utf-16" }))
        .await;
    assert_eq!(status, 422);
    let response = fx
        .client
        .post(fx.api("/repos/acme/widgets/git/blobs"))
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (status, body) = common::decode(response).await;
    assert_eq!(status, 400);
    assert_eq!(body["message"], "Problems parsing JSON");
}

#[tokio::test]
async fn trees_handle_nested_paths_deletions_and_base_tree() {
    let fx = Fixture::new().await;
    let base = fx.widgets_git(&["rev-parse", "main^{tree}"]);
    let (_, blob) = fx
        .post_git("blobs", json!({ "content": "FROM debian:trixie\n" }))
        .await;
    let (status, tree) = fx
        .post_git("trees", json!({
                "base_tree": base,
                "tree": [
                    { "path": "9.1/debian/Dockerfile", "mode": "100644", "type": "blob", "sha": blob["sha"] },
                    { "path": "9.2/alpine/Dockerfile", "mode": "100644", "type": "blob", "content": "FROM alpine:3.23\n" },
                    { "path": "9.1/alpine/Dockerfile", "mode": "100644", "type": "blob", "sha": null },
                    { "path": "run.sh", "mode": "100755", "type": "blob", "content": "#!/bin/sh\n" }
                ]
            }))
        .await;
    assert_eq!(status, 201, "{tree}");
    let sha = tree["sha"].as_str().unwrap();
    let listing = fx.widgets_git(&["ls-tree", "-r", sha]);
    let expected = [
        format!(
            "100644 blob {}\t9.1/debian/Dockerfile",
            blob["sha"].as_str().unwrap()
        ),
        format!(
            "100644 blob {}\t9.2/alpine/Dockerfile",
            git_hash("FROM alpine:3.23\n")
        ),
        format!("100644 blob {}\tREADME", git_hash("hello\nworld\n")),
        format!("100755 blob {}\trun.sh", git_hash("#!/bin/sh\n")),
    ]
    .join("\n");
    assert_eq!(listing, expected);
    // The answer lists the top-level entries.
    let paths: Vec<&str> = tree["tree"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["9.1", "9.2", "README", "run.sh"]);
    assert_eq!(tree["tree"][2]["size"], 12);

    // Without base_tree the tree holds only the entries given.
    let (status, tree) = fx
        .post_git("trees", json!({ "tree": [{ "path": "a/b/c.txt", "mode": "100644", "type": "blob", "content": "c" }] }))
        .await;
    assert_eq!(status, 201);
    let listing = fx.widgets_git(&[
        "ls-tree",
        "-r",
        "--name-only",
        tree["sha"].as_str().unwrap(),
    ]);
    assert_eq!(listing, "a/b/c.txt");

    // A whole subtree can be placed by its id (mode 040000), replacing a file at that path.
    let subtree = fx.widgets_git(&["rev-parse", "main:9.1"]);
    let (status, tree) = fx
        .post_git("trees", json!({ "base_tree": base, "tree": [{ "path": "README", "mode": "040000", "type": "tree", "sha": subtree }] }))
        .await;
    assert_eq!(status, 201);
    let listing = fx.widgets_git(&[
        "ls-tree",
        "-r",
        "--name-only",
        tree["sha"].as_str().unwrap(),
    ]);
    assert_eq!(
        listing,
        "9.1/alpine/Dockerfile\n9.1/debian/Dockerfile\nREADME/alpine/Dockerfile\nREADME/debian/Dockerfile"
    );

    let (status, _) = fx
        .post_git("trees", json!({ "tree": [{ "path": "../escape", "mode": "100644", "type": "blob", "content": "c" }] }))
        .await;
    assert_eq!(status, 422);
    let (status, _) = fx
        .post_git(
            "trees",
            json!({ "base_tree": "1234567890123456789012345678901234567890", "tree": [] }),
        )
        .await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn a_tree_lists_its_entries_with_modes_by_tree_commit_or_branch() {
    let fx = Fixture::new().await;
    let (_, tree) = fx
        .post_git("trees", json!({
                "base_tree": fx.widgets_git(&["rev-parse", "main^{tree}"]),
                "tree": [{ "path": "bin/run.sh", "mode": "100755", "type": "blob", "content": "#!/bin/sh\n" }]
            }))
        .await;
    let tree_sha = tree["sha"].as_str().unwrap();
    let entries = |listing: &Value| -> Vec<String> {
        listing["tree"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                format!(
                    "{} {} {}",
                    e["mode"].as_str().unwrap(),
                    e["type"].as_str().unwrap(),
                    e["path"].as_str().unwrap()
                )
            })
            .collect()
    };
    let (status, listing) = fx
        .get(&format!(
            "/repos/acme/widgets/git/trees/{tree_sha}?recursive=1"
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(listing["truncated"], false);
    assert_eq!(
        entries(&listing),
        [
            "040000 tree 9.1",
            "040000 tree 9.1/alpine",
            "100644 blob 9.1/alpine/Dockerfile",
            "040000 tree 9.1/debian",
            "100644 blob 9.1/debian/Dockerfile",
            "100644 blob README",
            "040000 tree bin",
            "100755 blob bin/run.sh",
        ]
    );
    let (_, top) = fx
        .get(&format!("/repos/acme/widgets/git/trees/{tree_sha}"))
        .await;
    assert_eq!(
        entries(&top),
        ["040000 tree 9.1", "100644 blob README", "040000 tree bin"]
    );
    // A commit or a branch name stands for its tree.
    let main = fx.widgets_git(&["rev-parse", "main"]);
    let main_tree = fx.widgets_git(&["rev-parse", "main^{tree}"]);
    for name in [main.as_str(), "main"] {
        let (status, listing) = fx
            .get(&format!("/repos/acme/widgets/git/trees/{name}"))
            .await;
        assert_eq!(status, 200, "{name}");
        assert_eq!(listing["sha"], main_tree.as_str(), "{name}");
    }
    let (status, _) = fx.get("/repos/acme/widgets/git/trees/no-such-branch").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_authenticated_user_is_the_token_holder_and_needs_a_token() {
    let fx = Fixture::new().await;
    let (status, user) = fx.get_as("/user", "any-token").await;
    assert_eq!(status, 200);
    assert_eq!(user["login"], "sandbox-user");
    assert_eq!(user["type"], "User");
    let (status, same) = fx.get("/users/sandbox-user").await;
    assert_eq!((status, &same["id"]), (200, &user["id"]));
    let (status, body) = fx.get("/user").await;
    assert_eq!(status, 401);
    assert_eq!(body["message"], "Requires authentication");
}

/// `git hash-object` of `text`, computed by git.
fn git_hash(text: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("git")
        .args(["hash-object", "--stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    String::from_utf8(child.wait_with_output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_owned()
}

#[tokio::test]
async fn commits_without_author_are_by_the_caller_and_unsigned_with_a_plain_token() {
    let fx = Fixture::new().await;
    let tree = fx.widgets_git(&["rev-parse", "main^{tree}"]);
    let (status, commit) = fx
        .post_git("commits", json!({ "message": "Update hash for 9.1.1", "tree": tree, "parents": [fx.widgets.main] }))
        .await;
    assert_eq!(status, 201);
    let sha = commit["sha"].as_str().unwrap();
    assert_eq!(commit["message"], "Update hash for 9.1.1");
    assert_eq!(commit["tree"]["sha"], tree.as_str());
    assert_eq!(commit["parents"][0]["sha"], fx.widgets.main.as_str());
    assert_eq!(commit["author"]["name"], "sandbox-user");
    // Only an App installation token's commits are signed by GitHub (see app_auth.rs); a plain
    // token's are the user's own, unsigned.
    assert_eq!(commit["committer"]["name"], "sandbox-user");
    assert_eq!(commit["committer"]["email"], commit["author"]["email"]);
    assert_eq!(commit["verification"]["verified"], false);
    assert_eq!(commit["verification"]["reason"], "unsigned");
    // The object is real: git sees the same message (exact bytes, no trailing newline) and parent.
    assert_eq!(fx.widgets_git(&["cat-file", "-t", sha]), "commit");
    assert_eq!(
        fx.widgets_git(&["log", "-1", "--format=%B", sha]),
        "Update hash for 9.1.1"
    );
    assert_eq!(
        fx.widgets_git(&["log", "-1", "--format=%cn", sha]),
        "sandbox-user"
    );
    let raw = fx.widgets_git(&["cat-file", "commit", sha]);
    assert!(raw.ends_with("\n\nUpdate hash for 9.1.1"), "{raw:?}");

    let (status, fetched) = fx
        .get(&format!("/repos/acme/widgets/git/commits/{sha}"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(fetched, commit);
}

#[tokio::test]
async fn commits_with_author_are_unverified_and_keep_dates() {
    let fx = Fixture::new().await;
    let tree = fx.widgets_git(&["rev-parse", "main^{tree}"]);
    let author =
        json!({ "name": "Jane Doe", "email": "jane@example.com", "date": "2025-05-06T07:08:09Z" });
    let (status, commit) = fx
        .post_git("commits", json!({ "message": "By hand\n\nbody", "tree": tree, "parents": [fx.widgets.main], "author": author }))
        .await;
    assert_eq!(status, 201);
    assert_eq!(commit["verification"]["verified"], false);
    assert_eq!(commit["verification"]["reason"], "unsigned");
    assert_eq!(commit["author"], author);
    assert_eq!(commit["committer"]["name"], "Jane Doe");
    assert_eq!(commit["message"], "By hand\n\nbody");

    // Commits made with the git CLI are unverified; message without its final newline.
    let (status, old) = fx
        .get(&format!(
            "/repos/acme/widgets/git/commits/{}",
            fx.widgets.main
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(old["message"], "Second commit\n\nWith a body.");
    assert_eq!(
        old["author"],
        json!({ "name": "Test Dev", "email": "dev@example.com", "date": "2026-01-02T03:04:05Z" })
    );
    assert_eq!(old["parents"][0]["sha"], fx.widgets.first.as_str());
    assert_eq!(old["verification"]["verified"], false);

    let (status, _) = fx
        .get("/repos/acme/widgets/git/commits/1234567890123456789012345678901234567890")
        .await;
    assert_eq!(status, 404);
    let (status, error) = fx
        .post_git("commits", json!({ "message": "m", "tree": "1234567890123456789012345678901234567890", "parents": [] }))
        .await;
    assert_eq!(status, 422);
    assert_eq!(error["message"], "Tree SHA does not exist");
    let (status, _) = fx
        .post_git(
            "commits",
            json!({ "message": "m", "tree": tree, "parents": [tree] }),
        )
        .await;
    assert_eq!(status, 422);
}

#[tokio::test]
async fn contents_returns_files_base64_and_nested_directories() {
    let fx = Fixture::new().await;
    let (status, file) = fx
        .get("/repos/acme/widgets/contents/9.1/debian/Dockerfile")
        .await;
    assert_eq!(status, 200);
    assert_eq!(file["type"], "file");
    assert_eq!(file["encoding"], "base64");
    assert_eq!(file["name"], "Dockerfile");
    assert_eq!(file["path"], "9.1/debian/Dockerfile");
    assert_eq!(file["size"], 21);
    assert_eq!(
        file["sha"],
        fx.widgets_git(&["rev-parse", "main:9.1/debian/Dockerfile"])
    );
    assert_eq!(file["content"], "RlJPTSBkZWJpYW46Ym9va3dvcm0K\n");

    // Content longer than 60 base64 characters is wrapped at 60, as GitHub does.
    let long = "x".repeat(100);
    let (_, tree) = fx
        .post_git("trees", json!({ "tree": [{ "path": "long.txt", "mode": "100644", "type": "blob", "content": long }] }))
        .await;
    let (_, commit) = fx
        .post_git(
            "commits",
            json!({ "message": "long", "tree": tree["sha"], "parents": [] }),
        )
        .await;
    let (status, file) = fx
        .get(&format!(
            "/repos/acme/widgets/contents/long.txt?ref={}",
            commit["sha"].as_str().unwrap()
        ))
        .await;
    assert_eq!(status, 200);
    let content = file["content"].as_str().unwrap();
    let expected = base64::engine::general_purpose::STANDARD.encode(long.as_bytes());
    assert_eq!(
        content,
        format!(
            "{}\n{}\n{}\n",
            &expected[..60],
            &expected[60..120],
            &expected[120..]
        )
    );

    let (status, dir) = fx.get("/repos/acme/widgets/contents/9.1").await;
    assert_eq!(status, 200);
    let entries: Vec<(&str, &str, &str)> = dir
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap(),
                e["name"].as_str().unwrap(),
                e["path"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            ("dir", "alpine", "9.1/alpine"),
            ("dir", "debian", "9.1/debian")
        ]
    );

    let (status, root) = fx.get("/repos/acme/widgets/contents").await;
    assert_eq!(status, 200);
    let names: Vec<&str> = root
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["9.1", "README"]);
    let readme = root
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == "README")
        .unwrap();
    assert_eq!(readme["type"], "file");
    assert_eq!(readme["size"], 12);

    // ref: a branch (with a slash), a tag, a commit id.
    let (status, file) = fx
        .get("/repos/acme/widgets/contents/feature.txt?ref=feature")
        .await;
    assert_eq!(status, 200);
    assert_eq!(decode_content(&file), "feature\n");
    let (_, file) = fx
        .get("/repos/acme/widgets/contents/README?ref=release/9.1")
        .await;
    assert_eq!(decode_content(&file), "hello\n");
    let (_, file) = fx
        .get("/repos/acme/widgets/contents/README?ref=1.0.0")
        .await;
    assert_eq!(decode_content(&file), "hello\nworld\n");
    let (_, file) = fx
        .get(&format!(
            "/repos/acme/widgets/contents/README?ref={}",
            fx.widgets.first
        ))
        .await;
    assert_eq!(decode_content(&file), "hello\n");

    let (status, _) = fx.get("/repos/acme/widgets/contents/feature.txt").await;
    assert_eq!(status, 404);
    let (status, _) = fx
        .get("/repos/acme/widgets/contents/README?ref=no-such-branch")
        .await;
    assert_eq!(status, 404);
}

fn decode_content(file: &Value) -> String {
    let compact: String = file["content"].as_str().unwrap().split('\n').collect();
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(compact)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn compare_reports_ahead_behind_and_commits() {
    let fx = Fixture::new().await;
    let (status, body) = fx.get("/repos/acme/widgets/compare/main...feature").await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "ahead");
    assert_eq!(body["ahead_by"], 1);
    assert_eq!(body["behind_by"], 0);
    assert_eq!(body["total_commits"], 1);
    assert_eq!(body["merge_base_commit"]["sha"], fx.widgets.main.as_str());
    assert_eq!(body["commits"][0]["sha"], fx.widgets.feature.as_str());
    assert_eq!(body["commits"][0]["commit"]["message"], "Add feature");
    assert_eq!(body["commits"][0]["commit"]["author"]["name"], "Test Dev");
    assert_eq!(
        body["commits"][0]["commit"]["author"]["email"],
        "dev@example.com"
    );
    assert_eq!(body["commits"][0]["author"], Value::Null);

    let (_, body) = fx
        .get("/repos/acme/widgets/compare/feature...release/9.1")
        .await;
    assert_eq!(body["status"], "behind");
    assert_eq!(body["behind_by"], 2);
    assert_eq!(body["ahead_by"], 0);
    assert_eq!(body["commits"], json!([]));

    let (_, body) = fx.get("/repos/acme/widgets/compare/main...main").await;
    assert_eq!(body["status"], "identical");

    // Diverged: a commit on release/9.1 made through the API by the sandbox user.
    let tree = fx.widgets_git(&["rev-parse", "release/9.1^{tree}"]);
    let (_, commit) = fx
        .post_git(
            "commits",
            json!({ "message": "Backport", "tree": tree, "parents": [fx.widgets.release] }),
        )
        .await;
    fx.patch_head("release/9.1", json!({ "sha": commit["sha"] }))
        .await;
    let (_, body) = fx
        .get("/repos/acme/widgets/compare/main...release/9.1")
        .await;
    assert_eq!(body["status"], "diverged");
    assert_eq!(body["ahead_by"], 1);
    assert_eq!(body["behind_by"], 1);
    assert_eq!(body["merge_base_commit"]["sha"], fx.widgets.first.as_str());
    assert_eq!(body["commits"][0]["author"]["login"], "sandbox-user");

    let (status, _) = fx.get("/repos/acme/widgets/compare/main...nope").await;
    assert_eq!(status, 404);
    let (status, _) = fx
        .send(
            Method::GET,
            "/repos/acme/widgets/compare/main..feature",
            Value::Null,
        )
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn git_data_writes_to_a_repository_without_a_commit_are_refused_as_github_does() {
    let fx = Fixture::new().await;
    let empty = fx.root().join("acme").join("empty.git");
    common::git(
        fx.root(),
        &["init", "--quiet", "--bare", empty.to_str().unwrap()],
    );
    let blob = json!({ "content": "x", "encoding": "utf-8" });
    let tree =
        json!({ "tree": [{ "path": "a", "mode": "100644", "type": "blob", "content": "x" }] });
    let commit = json!({ "message": "m", "tree": "4b825dc642cb6eb9a060e54bf8d69288fbee4904" });
    let reference = json!({ "ref": "refs/heads/main", "sha": fx.widgets.main.as_str() });
    for (kind, body) in [
        ("blobs", blob.clone()),
        ("trees", tree),
        ("commits", commit),
        ("refs", reference),
    ] {
        let (status, answer) = fx
            .post(&format!("/repos/acme/empty/git/{kind}"), body)
            .await;
        assert_eq!(status, 409, "{kind}: {answer}");
        assert_eq!(answer["message"], "Git Repository is empty.", "{kind}");
    }
    // The same write to a repository with a commit is taken.
    let (status, _) = fx.post("/repos/acme/widgets/git/blobs", blob).await;
    assert_eq!(status, 201);
}
