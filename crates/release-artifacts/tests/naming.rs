//! Artifact names and URLs, and the base URL they are published under.

use valkey_bot_core::Version;
use valkey_bot_release_artifacts::{
    Artifact, BaseUrl, BaseUrlError, DEFAULT_BASE_URL, Platform, artifact_name,
};

fn version(text: &str) -> Version {
    Version::parse(text).expect("valid version")
}

fn platform(distro: &str, arch: &str) -> Platform {
    Platform::new(distro, arch).expect("valid platform")
}

fn base() -> BaseUrl {
    BaseUrl::parse(DEFAULT_BASE_URL).expect("the default base URL is valid")
}

#[test]
fn names_the_tarball_and_its_checksum_file() {
    assert_eq!(
        artifact_name(&version("9.1.1"), &platform("noble", "x86_64")),
        "valkey-9.1.1-noble-x86_64.tar.gz"
    );
    assert_eq!(
        artifact_name(&version("9.1.0-rc2"), &platform("jammy", "arm64")),
        "valkey-9.1.0-rc2-jammy-arm64.tar.gz"
    );

    let artifact = Artifact::new(&base(), &version("9.1.1"), &platform("jammy", "arm64"));
    assert_eq!(artifact.name, "valkey-9.1.1-jammy-arm64.tar.gz");
    assert_eq!(
        artifact.checksum_name,
        "valkey-9.1.1-jammy-arm64.tar.gz.sha256"
    );
    assert_eq!(
        artifact.url.as_str(),
        "https://download.valkey.io/releases/valkey-9.1.1-jammy-arm64.tar.gz"
    );
    assert_eq!(
        artifact.checksum_url.as_str(),
        "https://download.valkey.io/releases/valkey-9.1.1-jammy-arm64.tar.gz.sha256"
    );
}

#[test]
fn lists_one_artifact_per_platform_in_order() {
    let platforms = [
        platform("jammy", "arm64"),
        platform("jammy", "x86_64"),
        platform("noble", "arm64"),
        platform("noble", "x86_64"),
    ];
    let urls: Vec<String> = Artifact::all(&base(), &version("9.1.1"), &platforms)
        .into_iter()
        .map(|artifact| artifact.url.to_string())
        .collect();
    assert_eq!(
        urls,
        [
            "https://download.valkey.io/releases/valkey-9.1.1-jammy-arm64.tar.gz",
            "https://download.valkey.io/releases/valkey-9.1.1-jammy-x86_64.tar.gz",
            "https://download.valkey.io/releases/valkey-9.1.1-noble-arm64.tar.gz",
            "https://download.valkey.io/releases/valkey-9.1.1-noble-x86_64.tar.gz",
        ]
    );
}

#[test]
fn joins_under_a_deeper_base_and_a_loopback_test_server() {
    let nested = BaseUrl::parse("https://mirror.example/valkey/releases/").expect("valid");
    let artifact = Artifact::new(&nested, &version("8.1.4"), &platform("noble", "arm64"));
    assert_eq!(
        artifact.url.as_str(),
        "https://mirror.example/valkey/releases/valkey-8.1.4-noble-arm64.tar.gz"
    );

    let local = BaseUrl::parse("http://127.0.0.1:8080/releases/").expect("loopback http");
    let artifact = Artifact::new(&local, &version("8.1.4"), &platform("noble", "arm64"));
    assert_eq!(
        artifact.checksum_url.as_str(),
        "http://127.0.0.1:8080/releases/valkey-8.1.4-noble-arm64.tar.gz.sha256"
    );
    for loopback in [
        "http://localhost/",
        "http://[::1]:9000/r/",
        "http://127.1.2.3/",
    ] {
        assert!(BaseUrl::parse(loopback).is_ok(), "refused {loopback}");
    }
}

#[test]
fn refuses_base_urls_that_would_misplace_the_artifacts() {
    let cases = [
        ("https://download.valkey.io/releases", "no trailing slash"),
        ("download.valkey.io/releases/", "not a URL"),
        ("", "not a URL"),
        ("http://download.valkey.io/releases/", "scheme"),
        ("ftp://download.valkey.io/releases/", "scheme"),
        ("file:///srv/releases/", "scheme"),
        (
            "https://user:secret@download.valkey.io/releases/",
            "credentials",
        ),
        (
            "https://download.valkey.io/releases/?x=/",
            "query or fragment",
        ),
        (
            "https://download.valkey.io/releases/#/",
            "query or fragment",
        ),
    ];
    for (input, expected) in cases {
        let kind = match BaseUrl::parse(input).expect_err(input) {
            BaseUrlError::NoTrailingSlash { .. } => "no trailing slash",
            BaseUrlError::NotAUrl { .. } => "not a URL",
            BaseUrlError::Scheme { .. } => "scheme",
            BaseUrlError::Credentials { .. } => "credentials",
            BaseUrlError::QueryOrFragment { .. } => "query or fragment",
        };
        assert_eq!(kind, expected, "{input}");
    }
    assert_eq!(
        BaseUrl::parse("https://download.valkey.io/releases")
            .expect_err("refused")
            .to_string(),
        "base URL \"https://download.valkey.io/releases\" must end with '/'"
    );
}

#[test]
fn base_url_round_trips_through_serde_and_checks_on_the_way_in() {
    let json = serde_json::to_string(&base()).expect("serializes");
    assert_eq!(json, "\"https://download.valkey.io/releases/\"");
    let back: BaseUrl = serde_json::from_str(&json).expect("deserializes");
    assert_eq!(back, base());
    assert!(serde_json::from_str::<BaseUrl>("\"https://download.valkey.io/releases\"").is_err());
}
