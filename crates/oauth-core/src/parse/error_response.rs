//! RFC 6749 §5.2 error responses, on any status.

use super::{
    BodyFormat, Members, ParseOptions, body_format, content_type, members, take_opt_string,
};
use crate::error::{
    Error, ErrorCode, ErrorResponse, HttpError, ParseError, ParseErrorKind, Violation,
};
use crate::io::HttpResponse;
use crate::redact::{body_snippet, sanitize};
use crate::time::{UnixTime, parse_retry_after};
use http::header::RETRY_AFTER;
use http::{HeaderMap, StatusCode};

/// Longest `error_description` / `error_uri` kept, in characters.
pub(super) const MAX_DESCRIPTION: usize = 512;
/// Longest body snippet kept in an [`HttpError`].
const MAX_SNIPPET: usize = 256;

/// Reads an OAuth error response (RFC 6749 §5.2): `error` (required),
/// `error_description`, `error_uri`, plus the status and `Retry-After`.
///
/// A body that is not an OAuth error (an HTML page, an empty 503, JSON without
/// `error`) gives [`Error::Http`] with a sanitised snippet; a redirect status gives
/// [`Violation::UnexpectedRedirect`]; duplicate members and oversized bodies give
/// [`Error::Parse`].
pub fn error_response(
    response: &HttpResponse,
    now: UnixTime,
    options: &ParseOptions,
) -> Result<ErrorResponse, Error> {
    if let Some(e) = super::error_fast::error(response, now, options) {
        // The unit tests and the fuzz targets check that the full parser agrees.
        #[cfg(any(test, fuzzing))]
        assert_eq!(
            full(response, now, options).as_ref(),
            Ok(&e),
            "the one-pass reader and the full parser agree"
        );
        return Ok(e);
    }
    full(response, now, options)
}

/// The full parser: every case, every error.
fn full(
    response: &HttpResponse,
    now: UnixTime,
    options: &ParseOptions,
) -> Result<ErrorResponse, Error> {
    let status = response.status();
    if status.is_redirection() {
        return Err(Violation::UnexpectedRedirect(status).into());
    }
    let body = response.body();
    let format = body_format(response.headers(), body, &options.quirks);
    let mut m = match format {
        BodyFormat::Other => return Err(http_error(response, now)),
        _ => match members(body, format, &options.limits) {
            Ok(m) => m,
            Err(e) if is_fatal(&e) => return Err(e.into()),
            Err(_) => return Err(http_error(response, now)),
        },
    };
    match error_member(&mut m, status, response.headers(), now)? {
        Some(e) => Ok(e),
        None => Err(http_error(response, now)),
    }
}

/// The members of a successful answer, or the error the answer carries — the common
/// front half of every parser but the token response's: a redirect is refused
/// (RFC 9700 §4.12); a body that is not JSON (or, with `allow_form`, a form the quirks
/// accept) is unreadable; an `error` member on any status is the server's error
/// (RFC 6749 §5.2); a non-2xx answer without one is [`Error::Http`].
pub(crate) fn success_members(
    response: &HttpResponse,
    now: UnixTime,
    options: &ParseOptions,
    allow_form: bool,
) -> Result<(Members, BodyFormat), Error> {
    let status = response.status();
    if status.is_redirection() {
        return Err(Violation::UnexpectedRedirect(status).into());
    }
    let format = body_format(response.headers(), response.body(), &options.quirks);
    let readable = format == BodyFormat::Json || (allow_form && format == BodyFormat::Form);
    if !readable {
        if !status.is_success() {
            return Err(http_error(response, now));
        }
        return Err(ParseError::new(
            "body",
            ParseErrorKind::UnsupportedContentType(String::new()),
        )
        .into());
    }
    let mut m = match members(response.body(), format, &options.limits) {
        Ok(m) => m,
        Err(e) if status.is_success() || is_fatal(&e) => return Err(e.into()),
        Err(_) => return Err(http_error(response, now)),
    };
    if let Some(e) = error_member(&mut m, status, response.headers(), now)? {
        return Err(Error::Server(e));
    }
    if !status.is_success() {
        return Err(http_error(response, now));
    }
    Ok((m, format))
}

/// Parse failures that are reported as such even on an error status: a body that is
/// too large or has duplicate members is never read further.
pub(super) fn is_fatal(e: &ParseError) -> bool {
    matches!(
        e.kind,
        ParseErrorKind::TooLarge { .. } | ParseErrorKind::DuplicateKey(_)
    )
}

/// Takes `error`, `error_description` and `error_uri` out of `m` when `error` is
/// present; `None` when it is absent or null.
pub(super) fn error_member(
    m: &mut Members,
    status: StatusCode,
    headers: &HeaderMap,
    now: UnixTime,
) -> Result<Option<ErrorResponse>, ParseError> {
    let Some(code) = take_opt_string(m, "error")? else {
        return Ok(None);
    };
    let description = take_opt_string(m, "error_description")
        .ok()
        .flatten()
        .map(|d| sanitize(&d, MAX_DESCRIPTION));
    let uri = take_opt_string(m, "error_uri")
        .ok()
        .flatten()
        .map(|u| sanitize(&u, MAX_DESCRIPTION));
    Ok(Some(ErrorResponse {
        code: ErrorCode::from_code(&code),
        description,
        uri,
        status: Some(status),
        retry_after: retry_after(headers, now),
    }))
}

pub(super) fn retry_after(headers: &HeaderMap, now: UnixTime) -> Option<UnixTime> {
    headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, now))
}

/// An [`Error::Http`] describing a response that carries no OAuth error.
pub(super) fn http_error(response: &HttpResponse, now: UnixTime) -> Error {
    let body = response.body();
    let head = &body[..body.len().min(4096)];
    Error::Http(HttpError {
        status: response.status(),
        content_type: content_type(response.headers()),
        snippet: body_snippet(head, MAX_SNIPPET),
        retry_after: retry_after(response.headers(), now),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, ct: Option<&str>, body: &str) -> HttpResponse {
        let mut b = http::Response::builder().status(status);
        if let Some(ct) = ct {
            b = b.header("content-type", ct);
        }
        b.body(body.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn err_01_oauth_error_body() {
        let r = resp(
            400,
            Some("application/json;charset=UTF-8"),
            r#"{"error":"invalid_grant","error_description":"expired","error_uri":"https://x/e"}"#,
        );
        let e = error_response(&r, UnixTime::EPOCH, &ParseOptions::default()).unwrap();
        assert_eq!(e.code, ErrorCode::InvalidGrant);
        assert_eq!(e.description.as_deref(), Some("expired"));
        assert_eq!(e.uri.as_deref(), Some("https://x/e"));
        assert_eq!(e.status, Some(StatusCode::BAD_REQUEST));
    }

    #[test]
    fn err_05_html_error_page_gives_bounded_http_error() {
        let big = format!("<html>{}</html>", "oops ".repeat(200_000));
        let r = resp(502, Some("text/html"), &big);
        match error_response(&r, UnixTime::EPOCH, &ParseOptions::default()) {
            Err(Error::Http(h)) => {
                assert_eq!(h.status, StatusCode::BAD_GATEWAY);
                assert!(h.snippet.chars().count() <= MAX_SNIPPET + 1);
                assert!(h.snippet.starts_with("<html>"));
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn rev_03_retry_after_is_kept() {
        let r = http::Response::builder()
            .status(503)
            .header("retry-after", "7")
            .header("content-type", "application/json")
            .body(br#"{"error":"temporarily_unavailable"}"#.to_vec())
            .unwrap();
        let e = error_response(&r, UnixTime::from_secs(100), &ParseOptions::default()).unwrap();
        assert_eq!(e.retry_after, Some(UnixTime::from_secs(107)));
    }

    #[test]
    fn err_04_description_is_sanitised() {
        let r = resp(
            400,
            None,
            r#"{"error":"invalid_request","error_description":"a\u001b[31mred"}"#,
        );
        let e = error_response(&r, UnixTime::EPOCH, &ParseOptions::default()).unwrap();
        assert!(!e.description.unwrap().contains('\u{1b}'));
    }

    #[test]
    fn json_without_error_member_is_http_error() {
        let r = resp(500, None, r#"{"message":"boom"}"#);
        assert!(matches!(
            error_response(&r, UnixTime::EPOCH, &ParseOptions::default()),
            Err(Error::Http(_))
        ));
    }
}
