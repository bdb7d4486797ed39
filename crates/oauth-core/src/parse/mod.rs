//! Parsers for everything the core receives: pure, public, bounded.
//!
//! Each function takes bytes (or a URL, or a header) and returns a typed value or a
//! typed [`Error`](crate::Error). None of them panics or allocates past its limit,
//! whatever the input; the fuzz targets in `fuzz/` call them directly.
//!
//! | function | reads |
//! |---|---|
//! | [`token_response`] | RFC 6749 §5.1 success bodies (and §5.2 errors on any status) |
//! | [`error_response`] | RFC 6749 §5.2 error bodies |
//! | [`callback`] | the authorization redirect, RFC 6749 §4.1.2 and RFC 9207 |
//! | [`www_authenticate`] | RFC 6750 §3 challenges |
//! | [`introspection_response`] | RFC 7662 §2.2 introspection answers |
//! | [`device_authorization_response`] | RFC 8628 §3.2 device authorization answers |
//! | [`par_response`] | RFC 9126 §2.2 pushed authorization answers |
//! | [`resource_metadata`] | RFC 9728 protected resource metadata |
//! | [`registration_response`] | RFC 7591 dynamic client registration answers |
//! | [`metadata`] | RFC 8414 / OpenID Connect discovery documents |
//!
//! Tolerance for real providers is opt-in through [`Quirks`], one named switch per
//! deviation from the RFCs.

mod callback;
mod device;
mod error_fast;
mod error_response;
pub(crate) mod form;
mod introspection;
mod json;
mod metadata;
mod par;
mod registration;
mod resource_metadata;
pub(crate) use resource_metadata::covers as resource_covers;
mod token_fast;
mod token_response;
mod www_authenticate;

pub(crate) use callback::callback_state;
pub use callback::{CallbackExpectation, callback};
pub use device::{
    DEFAULT_INTERVAL_SECS, DeviceAuthorization, UserCode, device_authorization_response,
};
pub use error_response::error_response;
pub use form::parse_form;
pub use introspection::{ActiveToken, Introspection, introspection_response};
pub use metadata::{MetadataKind, ServerMetadata, metadata, well_known_url};
pub use par::{PushedRequest, par_response};
pub use registration::{RegisteredClientInfo, registration_response};
pub use resource_metadata::{
    ResourceCheck, ResourceMetadata, resource_metadata, resource_metadata_url,
};
pub use token_response::token_response;
pub use www_authenticate::{
    BearerChallenge, Challenge, bearer_challenge, parse_challenges, www_authenticate,
};

use crate::error::{ParseError, ParseErrorKind};
use http::HeaderMap;
use http::header::CONTENT_TYPE;

/// Size limits for what parsers accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest response body read, in bytes. Default 1 MiB, as `golang.org/x/oauth2`
    /// does. Drivers should read at most this plus one byte.
    pub max_body_bytes: usize,
}

impl Limits {
    /// The default limits.
    pub const DEFAULT: Limits = Limits {
        max_body_bytes: 1 << 20,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// Named tolerances for providers that deviate from RFC 6749. Each switch is
/// documented with the providers known to need it.
///
/// Some behaviours are *not* quirks because the RFC requires them: `token_type` is
/// compared case-insensitively (RFC 6749 §5.1, so `"bearer"` is always accepted and we
/// always send `Bearer`), `null` members count as absent, unknown members are kept.
///
/// [`Quirks::default`] accepts the deviations that cannot weaken security:
/// `expires_in` as a string, form-encoded and `text/plain` bodies, and errors inside a
/// 200. [`Quirks::strict`] accepts none, [`Quirks::tolerant`] all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quirks {
    /// Accept `expires_in` as a numeric string (`"3600"`): Azure AD v1, PayPal.
    pub expires_in_as_string: bool,
    /// Treat a missing `token_type` as `Bearer` (as `golang.org/x/oauth2` does).
    /// Off by default: RFC 6749 §5.1 makes it REQUIRED.
    pub missing_token_type_is_bearer: bool,
    /// Accept `scope` as a JSON array of strings instead of a space-delimited string.
    pub scope_as_json_array: bool,
    /// Split `scope` on commas too: GitHub returns `"repo,gist"`.
    pub scope_comma_separated: bool,
    /// Read `application/x-www-form-urlencoded` token responses: GitHub without
    /// `Accept: application/json`, some Facebook endpoints.
    pub form_encoded_body: bool,
    /// Read `text/plain` bodies, as JSON when they look like an object, else as a form.
    pub text_plain_body: bool,
    /// Read an `error` member in a 2xx response as the server's error (GitHub answers
    /// `200 error=bad_verification_code`). When off, such a response is still an error,
    /// but reported as [`Violation::ErrorInSuccessResponse`](crate::Violation). Tokens
    /// are never taken from a body that has an `error`, whatever this says.
    pub error_in_success_status: bool,
}

impl Quirks {
    /// Exactly RFC 6749: JSON only, `expires_in` a number, `token_type` required.
    pub const fn strict() -> Self {
        Quirks {
            expires_in_as_string: false,
            missing_token_type_is_bearer: false,
            scope_as_json_array: false,
            scope_comma_separated: false,
            form_encoded_body: false,
            text_plain_body: false,
            error_in_success_status: false,
        }
    }

    /// Every tolerance on.
    pub const fn tolerant() -> Self {
        Quirks {
            expires_in_as_string: true,
            missing_token_type_is_bearer: true,
            scope_as_json_array: true,
            scope_comma_separated: true,
            form_encoded_body: true,
            text_plain_body: true,
            error_in_success_status: true,
        }
    }

    /// GitHub: form-encoded bodies unless asked for JSON, comma-separated scopes,
    /// errors with status 200.
    pub const fn github() -> Self {
        Quirks {
            scope_comma_separated: true,
            ..Quirks::DEFAULT
        }
    }

    /// The default set (see the type's documentation).
    pub const DEFAULT: Quirks = Quirks {
        expires_in_as_string: true,
        missing_token_type_is_bearer: false,
        scope_as_json_array: false,
        scope_comma_separated: false,
        form_encoded_body: true,
        text_plain_body: true,
        error_in_success_status: true,
    };
}

impl Default for Quirks {
    fn default() -> Self {
        Quirks::DEFAULT
    }
}

/// What parsers need to know beyond the bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParseOptions {
    /// Tolerances.
    pub quirks: Quirks,
    /// Limits.
    pub limits: Limits,
}

/// How a body is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyFormat {
    Json,
    Form,
    /// A content type we do not read (HTML error pages, …).
    Other,
}

/// Chooses the body parser by `Content-Type` (x/oauth2's rule): JSON for
/// `application/json` and `+json` types and when absent; form for
/// `application/x-www-form-urlencoded` (quirk); `text/plain` sniffed (quirk).
pub(crate) fn body_format(headers: &HeaderMap, body: &[u8], quirks: &Quirks) -> BodyFormat {
    let Some(ct) = headers.get(CONTENT_TYPE) else {
        return BodyFormat::Json;
    };
    let ct = ct.to_str().unwrap_or("");
    let essence = ct.split_once(';').map_or(ct, |(essence, _)| essence).trim();
    if essence.eq_ignore_ascii_case("application/json")
        || essence
            .get(essence.len().saturating_sub(5)..)
            .is_some_and(|s| s.eq_ignore_ascii_case("+json"))
    {
        BodyFormat::Json
    } else if essence.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        if quirks.form_encoded_body {
            BodyFormat::Form
        } else {
            BodyFormat::Other
        }
    } else if essence.eq_ignore_ascii_case("text/plain") && quirks.text_plain_body {
        let first = body.iter().find(|b| !b.is_ascii_whitespace());
        if first == Some(&b'{') {
            BodyFormat::Json
        } else {
            BodyFormat::Form
        }
    } else {
        BodyFormat::Other
    }
}

/// The content type, sanitised, for error messages.
pub(crate) fn content_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(CONTENT_TYPE)
        .map(|v| crate::redact::sanitize(&String::from_utf8_lossy(v.as_bytes()), 64))
}

/// The members of a JSON object or a form body, in one shape. Values from forms are
/// JSON strings. Duplicate members were rejected while building it.
pub(crate) type Members = std::collections::BTreeMap<String, serde_json::Value>;

/// Reads a body into [`Members`] after checking its size and encoding.
pub(crate) fn members(
    body: &[u8],
    format: BodyFormat,
    limits: &Limits,
) -> Result<Members, ParseError> {
    if body.len() > limits.max_body_bytes {
        return Err(ParseError::new(
            "body",
            ParseErrorKind::TooLarge {
                limit: limits.max_body_bytes,
            },
        ));
    }
    let text =
        std::str::from_utf8(body).map_err(|_| ParseError::new("body", ParseErrorKind::NotUtf8))?;
    // A UTF-8 byte order mark is stripped (RFC 8259 §8.1 allows parsers to ignore it).
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    match format {
        BodyFormat::Json => json::object_members(text),
        BodyFormat::Form => {
            let pairs = form::parse_form(text)?;
            let mut out = Members::new();
            for (k, v) in pairs {
                match out.entry(k) {
                    std::collections::btree_map::Entry::Occupied(e) => {
                        return Err(ParseError::new(
                            "body",
                            ParseErrorKind::DuplicateKey(crate::redact::sanitize(e.key(), 64)),
                        ));
                    }
                    std::collections::btree_map::Entry::Vacant(e) => {
                        e.insert(serde_json::Value::String(v));
                    }
                }
            }
            Ok(out)
        }
        BodyFormat::Other => Err(ParseError::new(
            "body",
            ParseErrorKind::UnsupportedContentType(String::new()),
        )),
    }
}

/// Takes an optional string member; `null` and absence are the same (RFC 6749 App. C.3
/// of OAuth 2.1: servers SHOULD omit rather than send null).
pub(crate) fn take_opt_string(
    m: &mut Members,
    field: &'static str,
) -> Result<Option<String>, ParseError> {
    match m.remove(field) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ParseError::new(field, ParseErrorKind::WrongType)),
    }
}

/// Removes `field` from `m` as a list of strings: absent or `null` is `None`; anything
/// but an array of strings is [`ParseErrorKind::WrongType`].
pub(crate) fn take_string_list(
    m: &mut Members,
    field: &'static str,
) -> Result<Option<Vec<String>>, ParseError> {
    match m.remove(field) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                serde_json::Value::String(s) => Ok(s),
                _ => Err(ParseError::new(field, ParseErrorKind::WrongType)),
            })
            .collect::<Result<_, _>>()
            .map(Some),
        Some(_) => Err(ParseError::new(field, ParseErrorKind::WrongType)),
    }
}
