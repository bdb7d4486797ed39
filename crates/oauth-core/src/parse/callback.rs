//! The authorization response: the redirect the user agent delivers (RFC 6749
//! §4.1.2), with RFC 9207's `iss` and the rules of RFC 9700.

use super::form::parse_form_borrowed;
use crate::error::{Error, ErrorCode, ErrorResponse, ParseError, Violation};
use crate::redact::sanitize;
use crate::secret::{AuthorizationCode, constant_time_eq};
use url::Url;

/// What the callback must match: the values of the pending authorization request.
#[derive(Clone, Copy)]
pub struct CallbackExpectation<'a> {
    /// The `state` sent in the authorization request.
    pub state: &'a str,
    /// The redirect URI the request named.
    pub redirect_uri: &'a Url,
    /// The issuer the request was sent to, if configured.
    pub issuer: Option<&'a str>,
    /// Whether the server is known to send `iss` (RFC 9207 §3:
    /// `authorization_response_iss_parameter_supported`), making it mandatory.
    pub require_issuer: bool,
}

impl std::fmt::Debug for CallbackExpectation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackExpectation")
            .field("state", &crate::secret::REDACTED)
            .field("redirect_uri", &self.redirect_uri.as_str())
            .field("issuer", &self.issuer)
            .field("require_issuer", &self.require_issuer)
            .finish()
    }
}

/// Parameters that carry tokens and must never arrive in the front channel.
const FRONT_CHANNEL_TOKENS: [&str; 3] = ["access_token", "id_token", "token_type"];

/// Validates a callback URL and returns the authorization code, in this order:
///
/// 1. the URL is at the registered redirect URI (scheme, host, port, path);
/// 2. no authorization response parameters in the fragment;
/// 3. the query decodes strictly (RFC 6749 App. B) and no parameter appears twice
///    (RFC 6749 §3.1);
/// 4. `state` is present and equal, compared in constant time (RFC 6749 §10.12);
/// 5. `iss` equals the issuer when present, and is present when required (RFC 9207);
/// 6. no token in the front channel (RFC 9700 §2.1.2);
/// 7. an `error` becomes [`Error::AuthorizationDenied`] — only now, after the checks
///    above, so a forged error cannot abort a login (RFC 9700 §4.7);
/// 8. exactly one non-empty `code`.
///
/// Empty values count as absent (RFC 6749 §3.1). Unknown parameters are ignored
/// (RFC 6749 §4.1.2).
pub fn callback(url: &Url, expected: &CallbackExpectation<'_>) -> Result<AuthorizationCode, Error> {
    let want = expected.redirect_uri;
    if url.scheme() != want.scheme()
        || url.host() != want.host()
        || url.port_or_known_default() != want.port_or_known_default()
        || url.path() != want.path()
    {
        return Err(Violation::RedirectUriMismatch.into());
    }

    // RFC 9700 §2.1.2 / §4.6: responses in the fragment are implicit or hybrid
    // responses, which this client never requests.
    if let Some(fragment) = url.fragment() {
        let carries_response = fragment.split('&').any(|p| {
            let key = p.split_once('=').map_or(p, |(k, _)| k);
            matches!(
                key,
                "code" | "state" | "error" | "access_token" | "id_token" | "token_type" | "iss"
            )
        });
        if carries_response {
            return Err(Violation::ResponseInFragment.into());
        }
    }

    let pairs = parse_form_borrowed(url.query().unwrap_or("")).map_err(|e| ParseError {
        field: "callback",
        ..e
    })?;

    // RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once."
    for (i, (k, _)) in pairs.iter().enumerate() {
        if pairs[..i].iter().any(|(seen, _)| seen == k) {
            return Err(Violation::DuplicateParameter(sanitize(k, 64)).into());
        }
    }
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_ref())
            .filter(|v| !v.is_empty())
    };

    // RFC 6749 §10.12: the client "MUST implement CSRF protection"; the state value is
    // compared first, before the response is acted on in any way.
    match get("state") {
        None => return Err(Violation::StateMissing.into()),
        Some(s) if !constant_time_eq(s.as_bytes(), expected.state.as_bytes()) => {
            return Err(Violation::StateMismatch.into());
        }
        Some(_) => {}
    }

    // RFC 9207 §2.4: "If the value does not match the expected issuer identifier, clients
    // MUST reject the authorization response and MUST NOT proceed with the authorization
    // grant." and "Clients that support this specification MUST extract the value of the
    // iss parameter from authorization responses they receive if the parameter is present."
    match (get("iss"), expected.issuer) {
        (Some(iss), Some(issuer)) if iss != issuer => return Err(Violation::IssuerMismatch.into()),
        (None, _) if expected.require_issuer => return Err(Violation::IssuerMissing.into()),
        _ => {}
    }

    // RFC 9700 §2.1.2: no access tokens in the authorization response.
    if let Some(p) = FRONT_CHANNEL_TOKENS.into_iter().find(|p| get(p).is_some()) {
        return Err(Violation::FrontChannelToken(p).into());
    }

    if let Some(code) = get("error") {
        if get("code").is_some() {
            return Err(Violation::CodeAndError.into());
        }
        return Err(Error::AuthorizationDenied(ErrorResponse {
            code: ErrorCode::from_code(code),
            description: get("error_description").map(|d| sanitize(d, 512)),
            uri: get("error_uri").map(|u| sanitize(u, 512)),
            status: None,
            retry_after: None,
        }));
    }

    match get("code") {
        Some(code) => Ok(AuthorizationCode::from_callback(code.to_owned())),
        None => Err(Violation::MissingCode.into()),
    }
}

/// The `state` parameter of a callback URL, if it has exactly one.
pub(crate) fn callback_state(url: &Url) -> Option<String> {
    let mut found = None;
    for (k, v) in parse_form_borrowed(url.query()?).ok()? {
        if k == "state" {
            if found.is_some() {
                return None;
            }
            found = Some(v);
        }
    }
    found.map(|v| v.into_owned())
}

#[cfg(test)]
#[path = "callback_tests.rs"]
mod tests;
