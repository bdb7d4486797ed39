//! The one place the core draws randomness.
//!
//! Randomness comes from a [`rand_core::CryptoRng`] the driver hands to `start`; the
//! core never touches the operating system's random source. Every draw is 32 octets
//! (256 bits), encoded base64url without padding: 43 characters, inside the
//! `[A-Za-z0-9-._~]` alphabet RFC 7636 §4.1 allows for a verifier and comfortably above
//! the 128 bits RFC 6749 §10.10 asks of `state`.

use crate::pkce::PkceVerifier;
use crate::secret::StateToken;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_core::CryptoRng;

/// Octets drawn for each random value.
pub(crate) const RANDOM_OCTETS: usize = 32;

fn encode(octets: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(octets)
}

/// A fresh `state` value and PKCE verifier for one authorization request, from one
/// draw of twice [`RANDOM_OCTETS`] (one call into the driver's random source — one
/// system call with the OS source — instead of two): the halves are independent.
pub(crate) fn state_and_verifier<R: CryptoRng + ?Sized>(rng: &mut R) -> (StateToken, PkceVerifier) {
    let mut octets = [0u8; 2 * RANDOM_OCTETS];
    rng.fill_bytes(&mut octets);
    let (state, verifier) = octets.split_at(RANDOM_OCTETS);
    let drawn = (
        StateToken::from_random(encode(state)),
        PkceVerifier::from_random(encode(verifier)),
    );
    octets.iter_mut().for_each(|b| *b = 0);
    std::hint::black_box(&octets);
    drawn
}
