//! Streaming SHA-256: a hasher fed chunk by chunk (the digest type is core's `Sha256Digest`).
//!
//! `sha2` 0.10 on x86_64 picks its backend at run time (`cpufeatures`): the SHA-NI intrinsics
//! when the CPU has the `sha`, `sse2`, `ssse3` and `sse4.1` features, portable Rust otherwise.
//! No crate feature is needed for that; the `asm` feature would only replace the portable
//! fallback, so it is not enabled.

use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt};
use valkey_bot_core::Sha256Digest;

/// SHA-256 over bytes fed as they arrive, with a byte count. Memory use is constant.
#[derive(Debug, Clone, Default)]
pub struct StreamHasher {
    hasher: Sha256,
    bytes: u64,
}

impl StreamHasher {
    /// A hasher that has seen nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds the next chunk.
    pub fn update(&mut self, chunk: &[u8]) {
        self.hasher.update(chunk);
        self.bytes += chunk.len() as u64;
    }

    /// Bytes fed so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The digest and byte count of everything fed.
    pub fn finish(self) -> (Sha256Digest, u64) {
        (
            Sha256Digest::from_bytes(self.hasher.finalize().into()),
            self.bytes,
        )
    }
}

/// Hashes everything `reader` yields, 256 KiB at a time (for local files, e.g. a benchmark).
pub async fn digest_reader<R: AsyncRead + Unpin>(
    mut reader: R,
) -> std::io::Result<(Sha256Digest, u64)> {
    let mut hasher = StreamHasher::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = reader.read(&mut buf).await?;
        if n == 0 {
            return Ok(hasher.finish());
        }
        hasher.update(&buf[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vector_abc() {
        let mut h = StreamHasher::new();
        h.update(b"a");
        h.update(b"bc");
        let (digest, bytes) = h.finish();
        assert_eq!(
            digest.to_string(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(bytes, 3);
    }

    #[tokio::test]
    async fn reader_digest_matches_chunked() {
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let (from_reader, n) = digest_reader(&data[..]).await.expect("in-memory read");
        let mut h = StreamHasher::new();
        for chunk in data.chunks(7919) {
            h.update(chunk);
        }
        assert_eq!(n, 1_000_000);
        assert_eq!(from_reader, h.finish().0);
    }
}
