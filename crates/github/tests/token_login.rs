//! `own_login` with a plain token. The sandbox has no `GET /user`, so these use a tiny loopback
//! HTTP stub that answers every request with one fixed response.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use valkey_bot_core::RepoId;
use valkey_bot_core::github::{GitHubError, RepoWrite};
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

async fn login(api_url: String, in_actions: bool) -> Result<String, GitHubError> {
    let mut config = GitHubConfig::for_api(api_url);
    config.in_actions = in_actions;
    let github = GitHub::new(config, &Credentials::Token("ghs_actions".to_owned().into())).unwrap();
    let scope = TokenScope::new(RepoId::parse("acme/images").unwrap(), BTreeMap::new());
    github.client_for(scope).await.unwrap().own_login().await
}

#[tokio::test]
async fn a_user_token_is_its_users_login() {
    let api = stub("200 OK", r#"{"login":"release-manager"}"#).await;
    assert_eq!(login(api, false).await.unwrap(), "release-manager");
}

#[tokio::test]
async fn the_actions_token_is_github_actions_bot() {
    let body = r#"{"message":"Resource not accessible by integration"}"#;
    let api = stub("403 Forbidden", body).await;
    assert_eq!(
        login(api.clone(), true).await.unwrap(),
        "github-actions[bot]"
    );
    // Outside Actions a refused /user is an error, not a guess.
    let error = login(api, false).await.unwrap_err();
    assert!(matches!(error, GitHubError::Forbidden(_)), "{error:?}");
}
