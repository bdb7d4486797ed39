//! The common case of an OAuth error response — a JSON object with `error` and at
//! most `error_description` and `error_uri` — read in one pass, without an
//! intermediate map of members. A device flow reads one on every poll
//! (`authorization_pending`, RFC 8628 §3.5).
//!
//! Like [`token_fast`](super::token_fast) it only ever *accepts*: any other member, a
//! duplicate, a value that is not a string (or `null` for the optional two), a body
//! that is not a JSON object or is over the size limit makes it give up, and the full
//! parser decides. The core's unit tests and the fuzz targets (`cfg(fuzzing)`) run
//! both on every response this path accepts and assert that they agree.

use super::error_response::{MAX_DESCRIPTION, retry_after};
use super::token_fast::give_up;
use super::{BodyFormat, ParseOptions, body_format};
use crate::error::{ErrorCode, ErrorResponse};
use crate::io::HttpResponse;
use crate::redact::sanitize;
use crate::time::UnixTime;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// The error in `response`, if it is a plain OAuth error this path can read; `None`
/// sends the caller to the full parser. The status is not judged here: callers
/// decide what an error means on theirs.
pub(super) fn error(
    response: &HttpResponse,
    now: UnixTime,
    options: &ParseOptions,
) -> Option<ErrorResponse> {
    let body = response.body();
    if response.status().is_redirection()
        || body.len() > options.limits.max_body_bytes
        || body_format(response.headers(), body, &options.quirks) != BodyFormat::Json
    {
        return None;
    }
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let mut de = serde_json::Deserializer::from_slice(body);
    let fields = de.deserialize_map(FieldsVisitor).ok()?;
    de.end().ok()?;
    Some(ErrorResponse {
        code: ErrorCode::from_code(&fields.error?),
        description: fields.description.map(|d| sanitize(&d, MAX_DESCRIPTION)),
        uri: fields.uri.map(|u| sanitize(&u, MAX_DESCRIPTION)),
        status: Some(response.status()),
        retry_after: retry_after(response.headers(), now),
    })
}

#[derive(Default)]
struct Fields<'de> {
    error: Option<Cow<'de, str>>,
    description: Option<Cow<'de, str>>,
    uri: Option<Cow<'de, str>>,
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Fields<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an error response object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields<'de>, A::Error> {
        let mut f = Fields::default();
        let mut seen = 0u8;
        while let Some(key) = map.next_key::<Key>()? {
            if seen & key.bit() != 0 {
                return Err(give_up());
            }
            seen |= key.bit();
            let value = map.next_value_seed(OptStr)?;
            match key {
                // `error` is required and a string: `null` is the full parser's case.
                Key::Error => f.error = Some(value.ok_or_else(give_up)?),
                Key::ErrorDescription => f.description = value,
                Key::ErrorUri => f.uri = value,
            }
        }
        Ok(f)
    }
}

/// A member name this path reads. Names arrive unescaped; any other name is an error
/// of the derived visitor, which gives up: the full parser keeps the rule on duplicates
/// for every member.
#[derive(Clone, Copy, Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Key {
    Error,
    ErrorDescription,
    ErrorUri,
}

impl Key {
    fn bit(self) -> u8 {
        match self {
            Key::Error => 1,
            Key::ErrorDescription => 2,
            Key::ErrorUri => 4,
        }
    }
}

/// A string, borrowed from the body when it has no escapes, or `null`.
struct OptStr;

impl<'de> DeserializeSeed<'de> for OptStr {
    type Value = Option<Cow<'de, str>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(OptStr)
    }
}

impl<'de> Visitor<'de> for OptStr {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or null")
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(s)))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(s.to_owned())))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(s)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn response(status: u16, body: &str) -> HttpResponse {
        http::Response::builder()
            .status(status)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::RETRY_AFTER, "7")
            .body(body.as_bytes().to_vec())
            .unwrap()
    }

    #[test]
    fn agrees_with_the_full_parser_and_gives_up_on_the_rest() {
        let now = UnixTime::from_secs(1_000);
        let options = ParseOptions::default();
        // (body, whether this path reads it)
        let cases = [
            (r#"{"error":"authorization_pending"}"#, true),
            (
                r#"{"error":"invalid_grant","error_description":"expired","error_uri":"https://as/e"}"#,
                true,
            ),
            (
                r#"{"error_uri":null,"error":"slow_down","error_description":null}"#,
                true,
            ),
            ("\u{feff}{\"error\":\"x\"}", true),
            (
                r#"{"error":"a\u001b[31m","error_description":"\u202e evil \r\n line"}"#,
                true,
            ),
            (
                r#"{"error":"invalid_grant","error_description":"token 2YotnFZFEjr1zCsicMWpAAxyz12 leaked"}"#,
                true,
            ),
            (r#"{"error":"x","error":"y"}"#, false),
            (r#"{"error":null}"#, false),
            (r#"{"error":1}"#, false),
            (r#"{"error":"x","error_description":5}"#, false),
            (r#"{"error":"x","trace_id":"abc"}"#, false),
            (r#"{"error":"x"} trailing"#, false),
            (r#"["error"]"#, false),
            ("{}", false),
            ("", false),
        ];
        for status in [400, 401, 200, 503] {
            for (body, fast) in cases {
                let r = response(status, body);
                let got = error(&r, now, &options);
                assert_eq!(got.is_some(), fast, "{body}");
                if let Some(e) = &got {
                    assert_eq!(e.retry_after, Some(UnixTime::from_secs(1_007)));
                    assert_eq!(e.status.map(|s| s.as_u16()), Some(status));
                }
                // Both public parsers run this path and, under cfg(test), also the full
                // parser, asserting that they agree.
                let _ = super::super::error_response(&r, now, &options);
                let token = super::super::token_response(&r, now, &options);
                if fast && status != 200 {
                    assert_eq!(token, Err(Error::Server(got.unwrap())), "{body}");
                }
            }
        }
    }
}
