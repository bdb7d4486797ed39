//! Token revocation (RFC 7009): tell the server a token is no longer needed. One
//! request and one response on the machine of [`exchange`](super::exchange)
//! (`SendRequest` → `AwaitingResponse` → `Done` | `Failed`).
//!
//! RFC 7009 §2.2: "The authorization server responds with HTTP status code 200 if the
//! token has been revoked successfully or if the client submitted an invalid token" —
//! so any 200 is success and its body is ignored. Errors are RFC 6749 §5.2 bodies,
//! including `unsupported_token_type` (§2.2.1); a 503 means the token is still valid and
//! the request may be retried after `Retry-After`.

use super::exchange::{Exchange, OneShot};
use crate::client::{ClientRegistration, Endpoint};
use crate::error::{ConfigError, Error};
use crate::io::{HttpRequest, HttpResponse};
use crate::parse;
use crate::request::form_request;
use crate::secret::{AccessToken, RefreshToken};
use crate::time::UnixTime;
use crate::token::TokenSet;

/// Which kind of token is revoked (`token_type_hint`, RFC 7009 §2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenTypeHint {
    /// `access_token`
    AccessToken,
    /// `refresh_token`
    RefreshToken,
}

impl TokenTypeHint {
    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenTypeHint::AccessToken => "access_token",
            TokenTypeHint::RefreshToken => "refresh_token",
        }
    }
}

/// A token to revoke or introspect, with its type.
#[derive(Clone, Copy, Debug)]
pub enum TokenRef<'a> {
    /// An access token.
    Access(&'a AccessToken),
    /// A refresh token.
    Refresh(&'a RefreshToken),
}

impl<'a> TokenRef<'a> {
    /// What logging out revokes: the refresh token when there is one (RFC 7009 §2.1: the
    /// server "SHOULD also invalidate all access tokens based on the same authorization
    /// grant"), else the access token.
    pub fn to_revoke(tokens: &'a TokenSet) -> Self {
        match &tokens.refresh_token {
            Some(rt) => TokenRef::Refresh(rt),
            None => TokenRef::Access(&tokens.access_token),
        }
    }

    /// The `token_type_hint` this token is sent with.
    pub fn hint(&self) -> TokenTypeHint {
        match self {
            TokenRef::Access(_) => TokenTypeHint::AccessToken,
            TokenRef::Refresh(_) => TokenTypeHint::RefreshToken,
        }
    }

    /// The form revocation (RFC 7009 §2.1) and introspection (RFC 7662 §2.1) both send:
    /// `token` and its type as `token_type_hint`, with the client's authentication.
    pub(crate) fn request(&self, client: &ClientRegistration, endpoint: &Endpoint) -> HttpRequest {
        let value = match self {
            TokenRef::Access(t) => t.secret(),
            TokenRef::Refresh(t) => t.secret(),
        };
        form_request(
            client,
            endpoint,
            &[("token", value), ("token_type_hint", self.hint().as_str())],
            false,
        )
    }
}

/// A revocation request. See the [module documentation](self).
pub struct RevocationFlow(OneShot<Revoke>);

one_shot_flow!(RevocationFlow, ());

struct Revoke {
    client: ClientRegistration,
}

impl Exchange for Revoke {
    type Outcome = ();

    fn on_response(self, response: &HttpResponse, now: UnixTime) -> Result<(), Error> {
        if response.status() == http::StatusCode::OK {
            return Ok(());
        }
        Err(
            match parse::error_response(response, now, self.client.parse_options()) {
                Ok(e) => Error::Server(e),
                Err(e) => e,
            },
        )
    }
}

impl RevocationFlow {
    /// Revokes `token` at the registration's revocation endpoint, with its type as the
    /// hint and the client's authentication (a public client sends its `client_id`).
    pub fn start(client: &ClientRegistration, token: TokenRef<'_>) -> Result<Self, Error> {
        let endpoint = client.revocation().ok_or(ConfigError::Missing {
            field: "revocation_endpoint",
        })?;
        let request = token.request(client, endpoint);
        Ok(RevocationFlow(OneShot::new(
            request,
            Revoke {
                client: client.clone(),
            },
        )))
    }
}
