//! Using an access token: `Authorization: Bearer …` (RFC 6750 §2.1).
//!
//! Tokens go only in the `Authorization` header. There is deliberately no way to put
//! one in a query parameter (RFC 9700 §4.3.2) or a form body (OAuth 2.1 §5.1.2).

use crate::client::is_loopback_host;
use crate::error::ConfigError;
use crate::io::HttpResponse;
use crate::parse::{BearerChallenge, bearer_challenge};
use crate::secret::AccessToken;
use http::HeaderValue;
use http::header::AUTHORIZATION;

/// RFC 6750 §2.1 `b64token`: `1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
pub fn is_token68(s: &str) -> bool {
    let bytes = s.as_bytes();
    let padding = bytes.iter().rev().take_while(|&&b| b == b'=').count();
    let body = &bytes[..bytes.len() - padding];
    !body.is_empty() && body.iter().all(|&b| TOKEN68[usize::from(b)])
}

/// The `b64token` characters before the padding, as a table (one load per byte: an
/// access token is checked on every response and every use).
static TOKEN68: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] =
            c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'+' | b'/');
        b += 1;
    }
    table
};

/// Sets `Authorization: Bearer <token>` on `request`, replacing any earlier value, and
/// marks the header sensitive so that `http`'s own `Debug` hides it.
///
/// Refuses a token that is not a `token68` (it could inject header syntax) and a
/// request to a plain-`http` URL on a non-loopback host (RFC 6750 §5.3: TLS is
/// mandatory for bearer tokens).
pub fn attach_bearer<B>(
    request: &mut http::Request<B>,
    token: &AccessToken,
) -> Result<(), ConfigError> {
    let uri = request.uri();
    let secure = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => uri.host().is_some_and(is_loopback_host),
        _ => false,
    };
    if !secure {
        return Err(ConfigError::InsecureResource);
    }
    if !is_token68(token.secret()) {
        return Err(ConfigError::InvalidTokenSyntax);
    }
    let mut value = String::with_capacity(7 + token.secret().len());
    value.push_str("Bearer ");
    value.push_str(token.secret());
    let mut value = HeaderValue::try_from(value).map_err(|_| ConfigError::InvalidTokenSyntax)?;
    value.set_sensitive(true);
    request.headers_mut().insert(AUTHORIZATION, value);
    Ok(())
}

/// The Bearer challenge of a protected resource's response when it says the token is
/// no good: status 401 with `WWW-Authenticate: Bearer error="invalid_token"`
/// (RFC 6750 §3.1: "expired, revoked, malformed, or invalid"). `None` for anything
/// else — a 401 without `error` only means no credentials were sent, and a malformed
/// challenge is not taken as an instruction to refresh.
pub fn invalid_token_challenge(response: &HttpResponse) -> Option<BearerChallenge> {
    if response.status() != http::StatusCode::UNAUTHORIZED {
        return None;
    }
    bearer_challenge(response.headers())
        .ok()
        .flatten()
        .filter(BearerChallenge::is_invalid_token)
}

/// The RFC 9728 §5.1 `resource_metadata` URL a protected resource announced in a 401's
/// Bearer challenge, if it did and it is an `https` URL (or `http` on loopback).
pub fn resource_metadata_hint(response: &HttpResponse) -> Option<url::Url> {
    if response.status() != http::StatusCode::UNAUTHORIZED {
        return None;
    }
    let challenge = bearer_challenge(response.headers()).ok().flatten()?;
    let (_, value) = challenge
        .other
        .iter()
        .find(|(k, _)| k == "resource_metadata")?;
    let url = url::Url::parse(value).ok()?;
    let secure = url.scheme() == "https"
        || (url.scheme() == "http" && url.host_str().is_some_and(is_loopback_host));
    (secure && url.fragment().is_none()).then_some(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_01_golden_header() {
        let mut req = http::Request::get("https://api.example/me")
            .body(())
            .unwrap();
        attach_bearer(&mut req, &AccessToken::new("mF_9.B5f-4.1JqM")).unwrap();
        assert_eq!(req.headers()[AUTHORIZATION], "Bearer mF_9.B5f-4.1JqM");
        assert!(req.headers()[AUTHORIZATION].is_sensitive());
        assert!(!format!("{req:?}").contains("mF_9"));
    }

    #[test]
    fn parse_07_header_injection_is_refused() {
        let mut req = http::Request::get("https://api.example/me")
            .body(())
            .unwrap();
        assert_eq!(
            attach_bearer(&mut req, &AccessToken::new("abc\r\nX-Evil: 1")),
            Err(ConfigError::InvalidTokenSyntax)
        );
        assert_eq!(
            attach_bearer(&mut req, &AccessToken::new("a b")),
            Err(ConfigError::InvalidTokenSyntax)
        );
        assert_eq!(
            attach_bearer(&mut req, &AccessToken::new("")),
            Err(ConfigError::InvalidTokenSyntax)
        );
    }

    #[test]
    fn bearer_04_plain_http_only_on_loopback() {
        let mut req = http::Request::get("http://api.example/me")
            .body(())
            .unwrap();
        assert_eq!(
            attach_bearer(&mut req, &AccessToken::new("t")),
            Err(ConfigError::InsecureResource)
        );
        for ok in [
            "http://127.0.0.1:8080/me",
            "http://[::1]/me",
            "http://localhost:1/x",
        ] {
            let mut req = http::Request::get(ok).body(()).unwrap();
            assert!(
                attach_bearer(&mut req, &AccessToken::new("t")).is_ok(),
                "{ok}"
            );
        }
    }

    #[test]
    fn bearer_06_invalid_token_only_on_401_with_the_error() {
        let resp = |status: u16, challenge: Option<&str>| {
            let mut b = http::Response::builder().status(status);
            if let Some(c) = challenge {
                b = b.header("www-authenticate", c);
            }
            b.body(Vec::new()).unwrap()
        };
        let c = invalid_token_challenge(&resp(
            401,
            Some(r#"Bearer realm="r", error="invalid_token""#),
        ));
        assert_eq!(c.and_then(|c| c.realm), Some("r".to_owned()));
        assert!(invalid_token_challenge(&resp(401, Some(r#"Bearer realm="r""#))).is_none());
        assert!(
            invalid_token_challenge(&resp(403, Some(r#"Bearer error="invalid_token""#))).is_none()
        );
        assert!(
            invalid_token_challenge(&resp(401, Some(r#"Bearer error="insufficient_scope""#)))
                .is_none()
        );
        assert!(
            invalid_token_challenge(&resp(401, Some(r#"Bearer error="x", error="y""#))).is_none()
        );
        assert!(invalid_token_challenge(&resp(401, None)).is_none());
    }

    #[test]
    fn rfc9728_resource_metadata_hint() {
        let resp = |status: u16, v: &str| {
            http::Response::builder()
                .status(status)
                .header("www-authenticate", v)
                .body(Vec::new())
                .unwrap()
        };
        let hint = resource_metadata_hint(&resp(
            401,
            r#"Bearer resource_metadata="https://rs.example/.well-known/oauth-protected-resource""#,
        ));
        assert_eq!(
            hint.map(|u| u.to_string()).as_deref(),
            Some("https://rs.example/.well-known/oauth-protected-resource")
        );
        assert!(
            resource_metadata_hint(&resp(
                401,
                r#"Bearer resource_metadata="http://evil.example/x""#
            ))
            .is_none()
        );
        assert!(
            resource_metadata_hint(&resp(
                403,
                r#"Bearer resource_metadata="https://rs.example/x""#
            ))
            .is_none()
        );
        assert!(resource_metadata_hint(&resp(401, r#"Bearer realm="x""#)).is_none());
    }

    #[test]
    fn token68_syntax() {
        assert!(is_token68("abc=="));
        assert!(is_token68("a-._~+/9"));
        assert!(!is_token68("=="));
        assert!(!is_token68("a=b"));
        assert!(!is_token68("a\"b"));
    }
}
