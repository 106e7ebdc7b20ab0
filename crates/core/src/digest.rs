//! SHA-256 digests as they appear in checksum files: 64 lowercase hexadecimal characters.

use std::fmt;
use std::str::FromStr;

/// A SHA-256 digest.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256Digest([u8; 32]);

/// Why a string is not a lowercase hexadecimal SHA-256 digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// Not 64 characters long.
    #[error("a SHA-256 digest has 64 hex characters, found {len}")]
    Length {
        /// The number of characters found.
        len: usize,
    },
    /// Hex, but with uppercase letters.
    #[error("the digest must be lowercase hex, found uppercase letters")]
    Uppercase,
    /// A character that is not a hex digit.
    #[error("the digest contains {found:?}, which is not a hex digit")]
    NotHex {
        /// The first offending character.
        found: char,
    },
}

impl Sha256Digest {
    /// Wraps raw digest bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The raw digest bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Parses exactly 64 lowercase hexadecimal characters (what `sha256sum` prints).
    pub fn parse(text: &str) -> Result<Self, DigestError> {
        if let Some(found) = text.chars().find(|c| !c.is_ascii_hexdigit()) {
            return Err(DigestError::NotHex { found });
        }
        if text.len() != 64 {
            return Err(DigestError::Length { len: text.len() });
        }
        let mut out = [0u8; 32];
        for (slot, pair) in out.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
            let (Some(high), Some(low)) = (nibble(pair[0]), nibble(pair[1])) else {
                return Err(DigestError::Uppercase);
            };
            *slot = (high << 4) | low;
        }
        Ok(Self(out))
    }
}

fn nibble(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        _ => None,
    }
}

impl FromStr for Sha256Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{self}")
    }
}

impl serde::Serialize for Sha256Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Sha256Digest {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZEROS: &str = "0000000000000000000000000000000000000000000000000000000000000000";
    const SAMPLE: &str = "7d7232acd1b8a49b4e05d07a00b3ca8c801ae06ab633ca6a3423bc5f385ab7ee";

    #[test]
    fn round_trips_lowercase_hex() {
        assert_eq!(
            Sha256Digest::parse(SAMPLE).expect("valid").to_string(),
            SAMPLE
        );
        assert_eq!(
            Sha256Digest::parse(ZEROS).expect("valid").as_bytes(),
            &[0u8; 32]
        );
    }

    #[test]
    fn refuses_uppercase_short_long_and_non_hex() {
        for bad in [
            &SAMPLE.to_uppercase(),
            &SAMPLE[1..],
            &format!("{SAMPLE}0"),
            &SAMPLE.replace('7', "g"),
            "",
        ] {
            assert!(Sha256Digest::parse(bad).is_err(), "accepted {bad}");
        }
    }
}
