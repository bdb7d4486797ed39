//! PKCE with `S256` only (RFC 7636).
//!
//! `plain` cannot be expressed: [`PkceChallenge::METHOD`] is the only method this crate
//! knows, so no code path can downgrade (RFC 7636 §7.2, RFC 9700 §2.1.1).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

secret_type!(
    /// A PKCE code verifier. Only the authorization-code flow creates one, from the
    /// random source passed to `start`; it is not `Clone`, and it leaves the flow only
    /// inside the token request (RFC 7636 §4.5).
    PkceVerifier
);

impl PkceVerifier {
    pub(crate) fn from_random(value: String) -> Self {
        PkceVerifier(value)
    }

    /// The `S256` challenge for this verifier.
    pub fn challenge(&self) -> PkceChallenge {
        PkceChallenge(challenge_s256(self.secret()))
    }

    /// The `S256` challenge written into `buf`, without allocating.
    pub(crate) fn challenge_in<'b>(&self, buf: &'b mut [u8; CHALLENGE_LEN]) -> &'b str {
        let digest = Sha256::digest(self.secret().as_bytes());
        let n = URL_SAFE_NO_PAD
            .encode_slice(digest, buf)
            .expect("43 bytes hold the unpadded base64url of 32");
        std::str::from_utf8(&buf[..n]).expect("base64url is ASCII")
    }
}

/// The length of an `S256` challenge: 32 octets, unpadded base64url.
pub(crate) const CHALLENGE_LEN: usize = 43;

/// A PKCE code challenge: `BASE64URL(SHA256(ASCII(code_verifier)))`, sent in the
/// authorization request. Not a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PkceChallenge(String);

impl PkceChallenge {
    /// The value of `code_challenge_method`. There is no other.
    pub const METHOD: &'static str = "S256";

    /// The challenge as sent in `code_challenge`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Computes `BASE64URL-NOPAD(SHA256(verifier))` (RFC 7636 §4.2).
///
/// Public so that tests, benchmarks and fake servers can check a verifier against a
/// challenge; a [`PkceVerifier`] itself can only be made by a flow.
pub fn challenge_s256(verifier: &str) -> String {
    let digest = Sha256::digest(verifier.as_bytes());
    URL_SAFE_NO_PAD.encode(digest)
}

/// Whether `verifier` fits RFC 7636 §4.1: 43 to 128 characters of `[A-Za-z0-9-._~]`.
pub fn is_valid_verifier(verifier: &str) -> bool {
    (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B.
    #[test]
    fn pkce_02_rfc7636_appendix_b_vector() {
        let octets: [u8; 32] = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212,
            37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
        ];
        let verifier = URL_SAFE_NO_PAD.encode(octets);
        assert_eq!(verifier, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        let v = PkceVerifier::from_random(verifier);
        assert_eq!(
            v.challenge().as_str(),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let digest = Sha256::digest(v.secret().as_bytes());
        assert_eq!(
            digest.as_slice(),
            &[
                19, 211, 30, 150, 26, 26, 216, 236, 47, 22, 177, 12, 76, 152, 46, 8, 118, 168, 120,
                173, 109, 241, 68, 86, 110, 225, 137, 74, 203, 112, 249, 195
            ]
        );
    }

    /// The OAuth 2.1 draft's example pair.
    #[test]
    fn pkce_02_oauth21_example_vector() {
        assert_eq!(
            challenge_s256("3641a2d12d66101249cdf7a79c000c1f8c05d2aafcf14bf146497bed"),
            "6fdkQaPm51l13DSukcAH3Mdx7_ntecHYd1vi3n0hMZY"
        );
    }

    #[test]
    fn pkce_02_challenge_in_a_buffer_is_the_same() {
        let v = PkceVerifier::from_random("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into());
        let mut buf = [0; CHALLENGE_LEN];
        assert_eq!(v.challenge_in(&mut buf), v.challenge().as_str());
    }

    #[test]
    fn pkce_01_verifier_syntax() {
        assert!(is_valid_verifier(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
        ));
        assert!(!is_valid_verifier("short"));
        assert!(!is_valid_verifier(&"a".repeat(129)));
        assert!(!is_valid_verifier(&format!("{}+", "a".repeat(43))));
    }

    #[test]
    fn pkce_04_verifier_debug_is_redacted() {
        let v = PkceVerifier::from_random("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into());
        assert!(!format!("{v:?}").contains("dBjft"));
    }
}
