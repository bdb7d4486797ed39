//! Calling a protected API with the access token.

use crate::transport::Transport;
use oauth_core::parse::BearerChallenge;
use oauth_core::{
    ConfigError, HttpResponse, TokenSet, TransportFailure, attach_bearer, invalid_token_challenge,
};
use std::fmt;

/// Why an API call did not produce a usable response.
#[derive(Debug)]
#[non_exhaustive]
pub enum ApiError {
    /// The token could not be attached (not a `token68`, or plain `http` to a
    /// non-loopback host).
    Refused(ConfigError),
    /// The request could not be completed.
    Transport(TransportFailure),
    /// No usable token: the refresh failed, the grant is gone
    /// ([`oauth_core::Error::needs_new_authorization`]), the new token set could not be
    /// saved, …
    Token(oauth_core::Error),
    /// The resource answered 401 with `error="invalid_token"` (RFC 6750 §3.1): the
    /// token is expired, revoked or otherwise unusable. Refresh, then retry once.
    InvalidToken {
        /// The parsed challenge (`error_description`, `realm`, …).
        challenge: Box<BearerChallenge>,
        /// The response itself.
        response: Box<HttpResponse>,
    },
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Refused(e) => write!(f, "the token was not sent: {e}"),
            ApiError::Transport(t) => write!(f, "the API call failed: {t}"),
            ApiError::Token(e) => write!(f, "no usable access token: {e}"),
            ApiError::InvalidToken { challenge, .. } => {
                f.write_str("the API rejected the access token (invalid_token)")?;
                if let Some(d) = &challenge.error_description {
                    write!(f, ": {d}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for ApiError {}

impl ApiError {
    /// Whether only a new authorization by the user can help.
    pub fn needs_new_authorization(&self) -> bool {
        matches!(self, ApiError::Token(e) if e.needs_new_authorization())
    }
}

/// Sends `request` with `Authorization: Bearer <access token>` and returns the
/// response, whatever its status — except a 401 `invalid_token`, which is
/// [`ApiError::InvalidToken`]. Redirects are not followed, so the token is never
/// forwarded to another origin (RFC 9700 §4.9.1).
pub fn call_api(
    transport: &Transport,
    mut request: http::Request<Vec<u8>>,
    tokens: &TokenSet,
) -> Result<HttpResponse, ApiError> {
    attach_bearer(&mut request, &tokens.access_token).map_err(ApiError::Refused)?;
    let response = transport.send_http(request).map_err(ApiError::Transport)?;
    match invalid_token_challenge(&response) {
        Some(challenge) => Err(ApiError::InvalidToken {
            challenge: Box::new(challenge),
            response: Box::new(response),
        }),
        None => Ok(response),
    }
}
