//! A seeded, deterministic random source for simulations.

use rand_core::{TryCryptoRng, TryRng};
use sha2::{Digest, Sha256};
use std::convert::Infallible;

/// A deterministic generator: SHA-256 over a key derived from the seed and a block
/// counter. Its output is unpredictable without the seed, so it satisfies the
/// `CryptoRng` contract for tests — but the seed is a `u64`: never use it outside tests.
#[derive(Clone)]
pub struct SeededRng {
    key: [u8; 32],
    counter: u64,
    block: [u8; 32],
    used: usize,
}

impl SeededRng {
    /// A generator whose whole output is determined by `seed`.
    pub fn new(seed: u64) -> Self {
        let mut h = Sha256::new();
        h.update(b"oauth-testkit seeded rng v1");
        h.update(seed.to_le_bytes());
        SeededRng {
            key: h.finalize().into(),
            counter: 0,
            block: [0; 32],
            used: 32,
        }
    }

    fn refill(&mut self) {
        let mut h = Sha256::new();
        h.update(self.key);
        h.update(self.counter.to_le_bytes());
        self.block = h.finalize().into();
        self.counter += 1;
        self.used = 0;
    }

    fn fill(&mut self, dst: &mut [u8]) {
        for b in dst {
            if self.used == self.block.len() {
                self.refill();
            }
            *b = self.block[self.used];
            self.used += 1;
        }
    }

    /// `len` random bytes, base64url-encoded: a convenient token value.
    pub fn token(&mut self, prefix: &str, len: usize) -> String {
        use base64::Engine as _;
        let mut bytes = vec![0u8; len];
        self.fill(&mut bytes);
        let mut out = String::from(prefix);
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode_string(bytes, &mut out);
        out
    }

    /// A number in `0..n` (`n > 0`; returns 0 for `n == 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        u64::from_le_bytes(b).checked_rem(n).unwrap_or(0)
    }
}

impl std::fmt::Debug for SeededRng {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SeededRng { .. }")
    }
}

impl TryRng for SeededRng {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.fill(&mut b);
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.fill(dst);
        Ok(())
    }
}

impl TryCryptoRng for SeededRng {}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::Rng;

    #[test]
    fn same_seed_same_stream_other_seed_other_stream() {
        let (mut a, mut b, mut c) = (SeededRng::new(1), SeededRng::new(1), SeededRng::new(2));
        let (x, y, z) = (a.next_u64(), b.next_u64(), c.next_u64());
        assert_eq!(x, y);
        assert_ne!(x, z);
        let mut buf1 = [0u8; 100];
        let mut buf2 = [0u8; 100];
        a.fill_bytes(&mut buf1);
        b.fill_bytes(&mut buf2);
        assert_eq!(buf1, buf2);
        assert!(buf1.iter().any(|&v| v != 0));
    }
}
