//! RFC 6749 §5.1 token responses.

use super::error_response::{error_member, http_error, is_fatal};
use super::{BodyFormat, ParseOptions, body_format, content_type, members, take_opt_string};
use crate::bearer::is_token68;
use crate::error::{Error, ParseError, ParseErrorKind, Violation};
use crate::io::HttpResponse;
use crate::redact::sanitize;
use crate::scope::Scope;
use crate::secret::{AccessToken, IdToken, RefreshToken};
use crate::time::UnixTime;
use crate::token::{TokenResponse, TokenType};

/// Reads a token endpoint response received at `now`.
///
/// - A redirect status is [`Violation::UnexpectedRedirect`]: redirects from the token
///   endpoint are never followed (RFC 9700 §4.12).
/// - An `error` member makes the response an error on *any* status, 200 included
///   (RFC 6749 §5.2; CVE-2021-41580). With the `error_in_success_status` quirk off, a
///   2xx with `error` is [`Violation::ErrorInSuccessResponse`].
/// - A non-2xx without an OAuth error body is [`Error::Http`] with a sanitised snippet.
/// - A 2xx needs a non-empty `access_token` that is a `token68`, and a `token_type` this
///   client understands, compared case-insensitively (RFC 6749 §5.1, §7.1).
/// - `expires_in` becomes an absolute [`TokenResponse::expires_at`] from `now`; it must be
///   a non-negative integer (or a numeric string with the `expires_in_as_string`
///   quirk). Absent or `null` means unknown.
/// - `scope`, `refresh_token` and `id_token` are optional; `null` and the empty string
///   count as absent. Unknown members are kept in [`TokenResponse::extra`].
/// - Bodies over the size limit, not UTF-8, truncated, not an object, or with a
///   duplicate member are [`Error::Parse`].
pub fn token_response(
    response: &HttpResponse,
    now: UnixTime,
    options: &ParseOptions,
) -> Result<TokenResponse, Error> {
    if let Some(tokens) = super::token_fast::success(response, now, options) {
        // The unit tests and the fuzz targets check that the full parser agrees.
        #[cfg(any(test, fuzzing))]
        assert_eq!(
            full(response, now, options).as_ref(),
            Ok(&tokens),
            "the one-pass reader and the full parser agree"
        );
        return Ok(tokens);
    }
    // An error status with a plain OAuth error body (every poll of a device flow).
    if !response.status().is_success()
        && let Some(e) = super::error_fast::error(response, now, options)
    {
        #[cfg(any(test, fuzzing))]
        assert_eq!(
            full(response, now, options).as_ref(),
            Err(&Error::Server(e.clone())),
            "the one-pass error reader and the full parser agree"
        );
        return Err(Error::Server(e));
    }
    full(response, now, options)
}

/// The full parser: every case, every error.
fn full(
    response: &HttpResponse,
    now: UnixTime,
    options: &ParseOptions,
) -> Result<TokenResponse, Error> {
    let status = response.status();
    if status.is_redirection() {
        return Err(Violation::UnexpectedRedirect(status).into());
    }
    let quirks = &options.quirks;
    let body = response.body();
    let format = body_format(response.headers(), body, quirks);
    if format == BodyFormat::Other {
        if !status.is_success() {
            return Err(http_error(response, now));
        }
        return Err(ParseError::new(
            "body",
            ParseErrorKind::UnsupportedContentType(
                content_type(response.headers()).unwrap_or_default(),
            ),
        )
        .into());
    }
    let mut m = match members(body, format, &options.limits) {
        Ok(m) => m,
        Err(e) if status.is_success() || is_fatal(&e) => return Err(e.into()),
        Err(_) => return Err(http_error(response, now)),
    };

    // RFC 6749 §5.2: the error response. Checked before anything else, whatever the
    // status, so that no token is ever taken from a body that also says `error`.
    if let Some(err) = error_member(&mut m, status, response.headers(), now)? {
        if status.is_success() && !quirks.error_in_success_status {
            return Err(Violation::ErrorInSuccessResponse(Box::new(err)).into());
        }
        return Err(Error::Server(err));
    }
    if !status.is_success() {
        return Err(http_error(response, now));
    }

    // RFC 6749 §5.1: "access_token REQUIRED".
    let access_token = match take_opt_string(&mut m, "access_token")? {
        Some(t) if !t.is_empty() => t,
        _ => return Err(ParseError::new("access_token", ParseErrorKind::Missing).into()),
    };
    // RFC 6750 §2.1: the credentials are a b64token; anything else could inject
    // header syntax (CR, LF, spaces) when the token is sent.
    if !is_token68(&access_token) {
        return Err(Violation::InvalidAccessTokenSyntax.into());
    }

    // RFC 6749 §5.1: "token_type REQUIRED ... Value is case insensitive."
    // RFC 6749 §7.1: "The client MUST NOT use an access token if it does not
    // understand the token type."
    let token_type = match take_opt_string(&mut m, "token_type")? {
        Some(t) => TokenType::from_received(&t)
            .ok_or_else(|| Violation::UnsupportedTokenType(sanitize(&t, 64)))?,
        None if quirks.missing_token_type_is_bearer => TokenType::Bearer,
        None => return Err(ParseError::new("token_type", ParseErrorKind::Missing).into()),
    };

    let expires_at = match m.remove("expires_in") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Number(n)) => match n.as_u64() {
            Some(secs) => Some(now.saturating_add(secs)),
            // An integer beyond u64 arrives as an f64 of at least 2^64: clamp it, as the
            // string form does (PARSE-03), instead of refusing it.
            None if n.as_f64().is_some_and(|f| f >= u64::MAX as f64) => {
                Some(now.saturating_add(u64::MAX))
            }
            None => return Err(ParseError::new("expires_in", ParseErrorKind::InvalidValue).into()),
        },
        // A form body has only strings: there, a numeric string is simply the number.
        Some(serde_json::Value::String(s))
            if quirks.expires_in_as_string || format == BodyFormat::Form =>
        {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ParseError::new("expires_in", ParseErrorKind::InvalidValue).into());
            }
            // All digits: only overflow can fail, and that saturates.
            Some(now.saturating_add(s.parse::<u64>().unwrap_or(u64::MAX)))
        }
        Some(_) => return Err(ParseError::new("expires_in", ParseErrorKind::WrongType).into()),
    };

    let scope = match m.remove("scope") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(
            Scope::parse_separated(&s, quirks.scope_comma_separated)
                .map_err(|_| ParseError::new("scope", ParseErrorKind::InvalidValue))?,
        ),
        Some(serde_json::Value::Array(items)) if quirks.scope_as_json_array => {
            let mut tokens = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    serde_json::Value::String(s) => tokens.push(s),
                    _ => return Err(ParseError::new("scope", ParseErrorKind::WrongType).into()),
                }
            }
            Some(
                Scope::new(tokens)
                    .map_err(|_| ParseError::new("scope", ParseErrorKind::InvalidValue))?,
            )
        }
        Some(_) => return Err(ParseError::new("scope", ParseErrorKind::WrongType).into()),
    };
    // An empty scope counts as absent, so that the requested scope stands for it.
    let scope = scope.filter(|s| !s.is_empty());

    let refresh_token = take_opt_string(&mut m, "refresh_token")?
        .filter(|t| !t.is_empty())
        .map(RefreshToken::new);
    let id_token = take_opt_string(&mut m, "id_token")?
        .filter(|t| !t.is_empty())
        .map(IdToken::new);

    Ok(TokenResponse {
        access_token: AccessToken::new(access_token),
        token_type,
        expires_at,
        refresh_token,
        scope,
        id_token,
        extra: m,
    })
}

#[cfg(test)]
#[path = "token_response_tests.rs"]
mod tests;
