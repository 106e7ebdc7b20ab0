//! `own_identity` with a plain token, for the answers of `GET /user` the sandbox does not give (a
//! user without a name, the Actions token's 403): a tiny loopback HTTP stub answers every request
//! with one fixed response. The sandbox's own `GET /user` is covered by the contract tests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use valkey_bot_core::RepoId;
use valkey_bot_core::github::{GitHubError, Identity, RepoWrite};
use valkey_bot_github::{Credentials, GitHub, GitHubConfig, TokenScope};

/// Serves `status` with JSON `body` to every request on 127.0.0.1; returns the API URL.
async fn stub(status: &'static str, body: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = Vec::new();
            let mut buffer = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            let response = format!(
                "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        }
    });
    format!("http://{addr}/api/v3")
}

async fn identity(api_url: String, in_actions: bool) -> Result<Identity, GitHubError> {
    let mut config = GitHubConfig::for_api(api_url);
    config.in_actions = in_actions;
    let github = GitHub::new(config, &Credentials::Token("ghs_actions".to_owned().into())).unwrap();
    let scope = TokenScope::new(RepoId::parse("acme/images").unwrap(), BTreeMap::new());
    github.client_for(scope).await.unwrap().own_identity().await
}

#[tokio::test]
async fn a_user_token_is_its_user_with_the_noreply_email() {
    let api = stub(
        "200 OK",
        r#"{"login":"release-manager","id":583231,"name":"Rel Manager"}"#,
    )
    .await;
    let identity = identity(api, false).await.unwrap();
    assert_eq!(identity.login, "release-manager");
    assert_eq!(
        identity.signoff(),
        "Rel Manager <583231+release-manager@users.noreply.github.com>"
    );
}

#[tokio::test]
async fn a_user_without_a_name_signs_with_the_login() {
    let api = stub(
        "200 OK",
        r#"{"login":"release-manager","id":7,"name":null}"#,
    )
    .await;
    assert_eq!(
        identity(api, false).await.unwrap().signoff(),
        "release-manager <7+release-manager@users.noreply.github.com>"
    );
}

#[tokio::test]
async fn the_actions_token_is_github_actions_bot() {
    let body = r#"{"message":"Resource not accessible by integration"}"#;
    let api = stub("403 Forbidden", body).await;
    assert_eq!(
        identity(api.clone(), true).await.unwrap().signoff(),
        "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"
    );
    // Outside Actions a refused /user is an error, not a guess.
    let error = identity(api, false).await.unwrap_err();
    assert!(matches!(error, GitHubError::Forbidden(_)), "{error:?}");
}
