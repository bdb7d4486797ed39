//! Secret values: redacted in `Debug`, compared in constant time, wiped on drop.
//!
//! Every credential the core handles — the client secret, access, refresh and ID
//! tokens, the authorization code, the PKCE verifier and the `state` value — is a
//! distinct type from this module. None of them implements `Display`; reading the
//! value takes an explicit `.secret()` call, which is easy to find in review.

/// Compares two byte strings without an early exit on the first difference.
///
/// The length is not treated as secret (our `state` values have a fixed length).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut diff = 0u8;
    for (x, y) in a.iter().zip(b) {
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

/// Overwrites a string's bytes before its memory is released (best effort, without
/// `unsafe`: the buffer is taken out, zeroed and kept observable so the writes stay).
pub(crate) fn wipe(s: &mut String) {
    let mut bytes = std::mem::take(s).into_bytes();
    bytes.iter_mut().for_each(|b| *b = 0);
    std::hint::black_box(&bytes);
}

macro_rules! secret_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        pub struct $name(String);

        impl $name {
            /// The secret value. Call sites of this method are the places to review.
            pub fn secret(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(concat!(stringify!($name), "(<redacted>)"))
            }
        }

        impl PartialEq for $name {
            /// Constant-time comparison.
            fn eq(&self, other: &Self) -> bool {
                $crate::secret::constant_time_eq(self.0.as_bytes(), other.0.as_bytes())
            }
        }

        impl Eq for $name {}

        impl Drop for $name {
            fn drop(&mut self) {
                $crate::secret::wipe(&mut self.0);
            }
        }
    };
}

macro_rules! public_constructor {
    ($name:ident) => {
        impl $name {
            /// Wraps a value obtained elsewhere (configuration, a token store).
            pub fn new(value: impl Into<String>) -> Self {
                $name(value.into())
            }
        }

        impl Clone for $name {
            fn clone(&self) -> Self {
                $name(self.0.clone())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map($name)
            }
        }
    };
}

secret_type!(
    /// A confidential client's secret (RFC 6749 §2.3.1).
    ClientSecret
);
public_constructor!(ClientSecret);

secret_type!(
    /// An access token (RFC 6749 §1.4). Its syntax was checked to be a `token68`
    /// (RFC 6750 §2.1) when it came from a token response, so it is safe in a header.
    AccessToken
);
public_constructor!(AccessToken);

secret_type!(
    /// A refresh token (RFC 6749 §1.5).
    RefreshToken
);
public_constructor!(RefreshToken);

secret_type!(
    /// A registration access token (RFC 7591 §3.2.1), for managing a dynamically
    /// registered client (RFC 7592).
    RegistrationToken
);
public_constructor!(RegistrationToken);

secret_type!(
    /// An OpenID Connect ID token, kept as received (not validated by this crate).
    IdToken
);
public_constructor!(IdToken);

secret_type!(
    /// A device code (RFC 8628 §3.2): it stays between the client and the server, is
    /// never shown to the user, and is never logged.
    DeviceCode
);

impl DeviceCode {
    pub(crate) fn from_response(value: String) -> Self {
        DeviceCode(value)
    }
}

impl Clone for DeviceCode {
    fn clone(&self) -> Self {
        DeviceCode(self.0.clone())
    }
}

secret_type!(
    /// An authorization code from the redirect (RFC 6749 §4.1.2). Single use: it is
    /// neither `Clone` nor constructible outside the crate, and the authorization-code
    /// flow consumes it when it builds the token request.
    AuthorizationCode
);

impl AuthorizationCode {
    pub(crate) fn from_callback(value: String) -> Self {
        AuthorizationCode(value)
    }
}

secret_type!(
    /// The `state` value of one authorization request: 256 random bits, base64url.
    /// Compared in constant time; neither `Clone` nor constructible outside the crate.
    StateToken
);

impl StateToken {
    pub(crate) fn from_random(value: String) -> Self {
        StateToken(value)
    }

    /// Constant-time comparison with a value received in a callback.
    pub fn matches(&self, received: &str) -> bool {
        constant_time_eq(self.0.as_bytes(), received.as_bytes())
    }
}

/// A placeholder shown instead of a secret in logs and transcripts.
pub const REDACTED: &str = "<redacted>";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let t = AccessToken::new("SECRET-VALUE");
        assert_eq!(format!("{t:?}"), "AccessToken(<redacted>)");
        let s = ClientSecret::new("SECRET-VALUE");
        assert!(!format!("{s:?}").contains("SECRET"));
        let st = StateToken::from_random("abc".into());
        assert!(!format!("{st:?}").contains("abc"));
    }

    #[test]
    fn constant_time_eq_semantics() {
        assert!(constant_time_eq(b"", b""));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        let st = StateToken::from_random("xyz".into());
        assert!(st.matches("xyz"));
        assert!(!st.matches("xy"));
        assert!(!st.matches(""));
    }

    #[test]
    fn secrets_serialize_transparently() {
        let t = RefreshToken::new("r1");
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, "\"r1\"");
        let back: RefreshToken = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn wipe_empties_the_string() {
        let mut s = String::from("secret");
        wipe(&mut s);
        assert!(s.is_empty());
    }
}
