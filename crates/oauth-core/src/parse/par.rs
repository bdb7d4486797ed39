//! RFC 9126 §2.2 pushed authorization responses.

use super::error_response::success_members;
use super::{ParseOptions, take_opt_string};
use crate::error::{Error, ParseError, ParseErrorKind};
use crate::io::HttpResponse;
use crate::time::UnixTime;

/// A pushed authorization request the server accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushedRequest {
    /// `request_uri`, to be sent (with `client_id` only) to the authorization endpoint.
    pub request_uri: String,
    /// When it stops being usable (`expires_in` after receipt).
    pub expires_at: UnixTime,
}

/// Reads a PAR response received at `now`. RFC 9126 §2.2: 201 with a JSON `request_uri`
/// and a positive `expires_in`; 200 with the same body is accepted too. Errors
/// (including 405, 413, 429) are RFC 6749 §5.2 bodies or [`Error::Http`].
pub fn par_response(
    response: &HttpResponse,
    now: UnixTime,
    options: &ParseOptions,
) -> Result<PushedRequest, Error> {
    let (mut m, _) = success_members(response, now, options, false)?;
    let request_uri = take_opt_string(&mut m, "request_uri")?
        .filter(|s| !s.is_empty())
        .ok_or(ParseError::new("request_uri", ParseErrorKind::Missing))?;
    let expires_in = match m.remove("expires_in") {
        Some(serde_json::Value::Number(n)) => n
            .as_u64()
            .filter(|&s| s > 0)
            .ok_or(ParseError::new("expires_in", ParseErrorKind::InvalidValue))?,
        Some(serde_json::Value::String(s)) if options.quirks.expires_in_as_string => s
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|&s| s > 0)
            .ok_or(ParseError::new("expires_in", ParseErrorKind::InvalidValue))?,
        None | Some(serde_json::Value::Null) => {
            return Err(ParseError::new("expires_in", ParseErrorKind::Missing).into());
        }
        Some(_) => return Err(ParseError::new("expires_in", ParseErrorKind::WrongType).into()),
    };
    Ok(PushedRequest {
        request_uri,
        expires_at: now.saturating_add(expires_in),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(status: u16, body: &str) -> Result<PushedRequest, Error> {
        let r = http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(body.as_bytes().to_vec())
            .unwrap();
        par_response(&r, UnixTime::from_secs(10), &ParseOptions::default())
    }

    #[test]
    fn par_02_response_validation() {
        let ok = parse(
            201,
            r#"{"request_uri":"urn:ietf:params:oauth:request_uri:abc","expires_in":60}"#,
        )
        .unwrap();
        assert_eq!(ok.expires_at, UnixTime::from_secs(70));
        assert!(parse(200, r#"{"request_uri":"urn:x","expires_in":60}"#).is_ok());
        for body in [
            r#"{"request_uri":"urn:x","expires_in":0}"#,
            r#"{"request_uri":"urn:x","expires_in":-1}"#,
            r#"{"request_uri":"urn:x"}"#,
            r#"{"expires_in":60}"#,
            r#"{"request_uri":"","expires_in":60}"#,
        ] {
            assert!(parse(201, body).is_err(), "{body}");
        }
        let e = parse(400, r#"{"error":"invalid_request"}"#).unwrap_err();
        assert!(matches!(e, Error::Server(_)));
    }
}
