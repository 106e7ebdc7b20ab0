//! SHA-256 digests and `.sha256` files in `sha256sum` format.
//!
//! A published `.sha256` file is exactly one line: `<64 lowercase hex>`, two spaces, the
//! artifact's file name, and a newline. Anything else is refused with the reason: the file
//! is the only statement of what the artifact should hash to, so it is never guessed at.

use valkey_bot_core::Sha256Digest;
use valkey_bot_core::digest::DigestError;

/// Largest `.sha256` file looked at; a valid one is about 110 bytes.
pub const MAX_SHA256_FILE_LEN: usize = 1024;

/// Why a `.sha256` file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChecksumFileError {
    /// The file is empty.
    #[error(".sha256 file is empty")]
    Empty,
    /// The file is larger than [`MAX_SHA256_FILE_LEN`].
    #[error(
        ".sha256 file is {len} bytes, more than the {MAX_SHA256_FILE_LEN} allowed for one line"
    )]
    TooLong {
        /// The file's size in bytes.
        len: usize,
    },
    /// The file is not UTF-8 text.
    #[error(".sha256 file is not UTF-8 text")]
    NotUtf8,
    /// The line does not end with a newline.
    #[error(".sha256 file does not end with a newline")]
    NoTrailingNewline,
    /// The file has more than one line (blank lines included).
    #[error(".sha256 file has {lines} lines, expected exactly one")]
    ExtraLines {
        /// The number of lines found.
        lines: usize,
    },
    /// The line ends with `\r\n` (Windows line ending).
    #[error(".sha256 file has a carriage return; expected a single `\\n` line ending")]
    CarriageReturn,
    /// The digest field is not 64 lowercase hex characters.
    #[error(".sha256 file has a bad digest: {0}")]
    Digest(#[from] DigestError),
    /// The digest is not followed by exactly two spaces.
    #[error(".sha256 file line is not `<digest>  <file name>` (two spaces after the digest)")]
    Separator,
    /// The `sha256sum` binary-mode marker `*` precedes the file name.
    #[error(".sha256 file uses binary mode (` *<file name>`); expected two spaces")]
    BinaryMode,
    /// The file names another file.
    #[error(".sha256 file names {found:?}, expected {expected:?}")]
    WrongName {
        /// The artifact's file name.
        expected: String,
        /// The name in the file (at most 200 characters of it).
        found: String,
    },
}

/// Parses a `.sha256` file for the artifact named `expected_name` and returns its digest.
///
/// Accepts exactly `<64 lowercase hex>  <expected_name>\n`.
pub fn parse_sha256_file(
    content: &[u8],
    expected_name: &str,
) -> Result<Sha256Digest, ChecksumFileError> {
    if content.is_empty() {
        return Err(ChecksumFileError::Empty);
    }
    if content.len() > MAX_SHA256_FILE_LEN {
        return Err(ChecksumFileError::TooLong { len: content.len() });
    }
    let text = std::str::from_utf8(content).map_err(|_| ChecksumFileError::NotUtf8)?;
    let Some(line) = text.strip_suffix('\n') else {
        return Err(ChecksumFileError::NoTrailingNewline);
    };
    if line.contains('\n') {
        return Err(ChecksumFileError::ExtraLines {
            lines: text.matches('\n').count(),
        });
    }
    if line.contains('\r') {
        return Err(ChecksumFileError::CarriageReturn);
    }
    let (digest, rest) = line.split_at(line.find([' ', '\t']).unwrap_or(line.len()));
    let digest = Sha256Digest::parse(digest)?;
    let name = match rest.strip_prefix("  ") {
        Some(name) => name,
        None if rest.starts_with(" *") => return Err(ChecksumFileError::BinaryMode),
        None => return Err(ChecksumFileError::Separator),
    };
    if name != expected_name {
        return Err(ChecksumFileError::WrongName {
            expected: expected_name.to_owned(),
            found: name.chars().take(200).collect(),
        });
    }
    Ok(digest)
}
