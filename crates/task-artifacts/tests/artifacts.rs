//! The artifacts task's pure decisions: `.sha256` files and verification.

use valkey_bot_core::digest::DigestError;
use valkey_bot_core::outputs::VerifiedArtifact;
use valkey_bot_core::{Sha256Digest, Version};
use valkey_bot_release_artifacts::{Artifact, BaseUrl, DEFAULT_BASE_URL, Platform};
use valkey_bot_task_artifacts::{ChecksumFileError, VerifyError, parse_sha256_file, verify};

const DIGEST: &str = "3b1f8a0c5e7d9b2a4c6e8f0a1b3d5f7e9a0c2e4f6a8b0d2f4e6a8c0e2b4d6f8a";
const OTHER_DIGEST: &str = "0000000000000000000000000000000000000000000000000000000000000001";
const NAME: &str = "valkey-9.1.1-noble-x86_64.tar.gz";

/// The artifact of 9.1.1 for noble / x86_64 under the default base URL.
fn artifact() -> Artifact {
    Artifact::new(
        &BaseUrl::parse(DEFAULT_BASE_URL).expect("the default base URL is valid"),
        &Version::parse("9.1.1").expect("valid version"),
        &Platform::new("noble", "x86_64").expect("valid platform"),
    )
}

fn digest(hex: &str) -> Sha256Digest {
    Sha256Digest::parse(hex).expect("valid digest")
}

#[test]
fn parses_a_well_formed_sha256_file() {
    let file = format!("{DIGEST}  {NAME}\n");
    let parsed = parse_sha256_file(file.as_bytes(), NAME).expect("valid file");
    assert_eq!(parsed.to_string(), DIGEST);
}

#[test]
fn refuses_every_malformed_sha256_file_with_its_reason() {
    let upper = DIGEST.to_uppercase();
    let short = &DIGEST[..63];
    let long = format!("{DIGEST}0");
    let not_hex = format!("{}g", &DIGEST[..63]);
    let huge = format!("{DIGEST}  {}\n", "a".repeat(2000));
    let cases: Vec<(Vec<u8>, ChecksumFileError)> = vec![
        (Vec::new(), ChecksumFileError::Empty),
        (
            huge.clone().into_bytes(),
            ChecksumFileError::TooLong { len: huge.len() },
        ),
        (
            [DIGEST.as_bytes(), b"  valkey-\xff.tar.gz\n"].concat(),
            ChecksumFileError::NotUtf8,
        ),
        (
            format!("{DIGEST}  {NAME}").into_bytes(),
            ChecksumFileError::NoTrailingNewline,
        ),
        (
            format!("{DIGEST}  {NAME}\n\n").into_bytes(),
            ChecksumFileError::ExtraLines { lines: 2 },
        ),
        (
            format!("{DIGEST}  {NAME}\n{OTHER_DIGEST}  other.tar.gz\n").into_bytes(),
            ChecksumFileError::ExtraLines { lines: 2 },
        ),
        (
            format!("{DIGEST}  {NAME}\r\n").into_bytes(),
            ChecksumFileError::CarriageReturn,
        ),
        (
            format!("{upper}  {NAME}\n").into_bytes(),
            ChecksumFileError::Digest(DigestError::Uppercase),
        ),
        (
            format!("{short}  {NAME}\n").into_bytes(),
            ChecksumFileError::Digest(DigestError::Length { len: 63 }),
        ),
        (
            format!("{long}  {NAME}\n").into_bytes(),
            ChecksumFileError::Digest(DigestError::Length { len: 65 }),
        ),
        (
            format!("{not_hex}  {NAME}\n").into_bytes(),
            ChecksumFileError::Digest(DigestError::NotHex { found: 'g' }),
        ),
        (
            format!("  {NAME}\n").into_bytes(),
            ChecksumFileError::Digest(DigestError::Length { len: 0 }),
        ),
        (
            format!("{DIGEST}\n").into_bytes(),
            ChecksumFileError::Separator,
        ),
        (
            format!("{DIGEST} {NAME}\n").into_bytes(),
            ChecksumFileError::Separator,
        ),
        (
            format!("{DIGEST}\t{NAME}\n").into_bytes(),
            ChecksumFileError::Separator,
        ),
        (
            format!("{DIGEST} *{NAME}\n").into_bytes(),
            ChecksumFileError::BinaryMode,
        ),
        (
            format!("{DIGEST}  valkey-9.1.1-noble-arm64.tar.gz\n").into_bytes(),
            ChecksumFileError::WrongName {
                expected: NAME.to_owned(),
                found: "valkey-9.1.1-noble-arm64.tar.gz".to_owned(),
            },
        ),
        (
            format!("{DIGEST}   {NAME}\n").into_bytes(),
            ChecksumFileError::WrongName {
                expected: NAME.to_owned(),
                found: format!(" {NAME}"),
            },
        ),
        (
            format!("{DIGEST}  ./{NAME}\n").into_bytes(),
            ChecksumFileError::WrongName {
                expected: NAME.to_owned(),
                found: format!("./{NAME}"),
            },
        ),
        (
            format!("{DIGEST}  \n").into_bytes(),
            ChecksumFileError::WrongName {
                expected: NAME.to_owned(),
                found: String::new(),
            },
        ),
    ];
    for (content, expected) in cases {
        assert_eq!(
            parse_sha256_file(&content, NAME),
            Err(expected),
            "content {:?}",
            String::from_utf8_lossy(&content)
        );
    }
}

#[test]
fn sha256_file_errors_say_what_is_wrong() {
    let wrong = format!("{DIGEST}  other.tar.gz\n");
    assert_eq!(
        parse_sha256_file(wrong.as_bytes(), NAME)
            .expect_err("refused")
            .to_string(),
        format!(".sha256 file names \"other.tar.gz\", expected \"{NAME}\"")
    );
    let unterminated = format!("{DIGEST}  {NAME}");
    assert_eq!(
        parse_sha256_file(unterminated.as_bytes(), NAME)
            .expect_err("refused")
            .to_string(),
        ".sha256 file does not end with a newline"
    );
}

#[test]
fn digest_from_bytes_is_lowercase_hex() {
    let mut bytes = [0u8; 32];
    bytes[0] = 0xAB;
    bytes[31] = 0x0F;
    let digest = Sha256Digest::from_bytes(bytes);
    assert_eq!(
        digest.to_string(),
        "ab0000000000000000000000000000000000000000000000000000000000000f"
    );
    assert_eq!(Sha256Digest::parse(&digest.to_string()), Ok(digest));
}

#[test]
fn verifies_an_artifact_whose_bytes_match_its_checksum_file() {
    let artifact = artifact();
    let file = format!("{DIGEST}  {NAME}\n");
    let verified = verify(&artifact, file.as_bytes(), &digest(DIGEST)).expect("verified");
    assert_eq!(
        verified,
        VerifiedArtifact {
            name: NAME.to_owned(),
            url: artifact.url.to_string(),
            sha256: digest(DIGEST),
        }
    );
    assert_eq!(
        serde_json::to_string(&verified).expect("serializes"),
        format!(
            "{{\"name\":\"{NAME}\",\"url\":\"https://download.valkey.io/releases/{NAME}\",\"sha256\":\"{DIGEST}\"}}"
        )
    );
    let back: VerifiedArtifact =
        serde_json::from_str(&serde_json::to_string(&verified).expect("serializes"))
            .expect("deserializes");
    assert_eq!(back, verified);
}

#[test]
fn refuses_a_digest_mismatch_and_a_bad_checksum_file() {
    let artifact = artifact();
    let file = format!("{DIGEST}  {NAME}\n");
    match verify(&artifact, file.as_bytes(), &digest(OTHER_DIGEST)) {
        Err(VerifyError::Mismatch {
            url,
            published,
            computed,
        }) => {
            assert_eq!(url, artifact.url.as_str());
            assert_eq!(published, digest(DIGEST));
            assert_eq!(computed, digest(OTHER_DIGEST));
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }

    let for_arm = format!("{DIGEST}  valkey-9.1.1-noble-arm64.tar.gz\n");
    match verify(&artifact, for_arm.as_bytes(), &digest(DIGEST)) {
        Err(VerifyError::ChecksumFile { url, source }) => {
            assert_eq!(url, artifact.checksum_url.as_str());
            assert!(matches!(source, ChecksumFileError::WrongName { .. }));
        }
        other => panic!("expected a checksum file error, got {other:?}"),
    }
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parsing_any_checksum_file_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse_sha256_file(&bytes, NAME);
        }

        #[test]
        fn accepts_exactly_the_canonical_line(hex in "[0-9a-f]{64}") {
            let file = format!("{hex}  {NAME}\n");
            prop_assert_eq!(parse_sha256_file(file.as_bytes(), NAME).map(|d| d.to_string()), Ok(hex));
        }
    }
}
