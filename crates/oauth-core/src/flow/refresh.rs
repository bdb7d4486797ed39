//! The refresh-token grant (RFC 6749 §6): `grant_type=refresh_token` (optionally with a
//! narrower scope), one request and one response on the machine of
//! [`exchange`](super::exchange) (`SendRequest` → `AwaitingResponse` → `Done` |
//! `Failed`).
//!
//! `Done` holds the new [`TokenSet`]: RFC 6749 §6 — when the server sends a new refresh
//! token "the client MUST discard the old refresh token and replace it"; when it sends
//! none, the old one is kept. `invalid_grant` ends in an error whose
//! [`Error::needs_new_authorization`] is true. Nothing is retried here: whether to try
//! again after a transport failure is the caller's decision (the refresh token may have
//! been rotated by a request whose response was lost).

use super::exchange::{Exchange, OneShot};
use crate::client::ClientRegistration;
use crate::error::{ConfigError, Error};
use crate::io::HttpResponse;
use crate::parse;
use crate::request::token_request;
use crate::scope::Scope;
use crate::secret::{IdToken, RefreshToken};
use crate::time::UnixTime;
use crate::token::TokenSet;

/// A refresh-token grant. See the [module documentation](self) and [`Flow`](crate::Flow).
pub struct RefreshFlow(OneShot<Refresh>);

one_shot_flow!(RefreshFlow, TokenSet);

/// What the response is merged with.
struct Refresh {
    client: ClientRegistration,
    old_refresh_token: RefreshToken,
    old_scope: Option<Scope>,
    old_id_token: Option<IdToken>,
    requested_scope: Option<Scope>,
}

impl Exchange for Refresh {
    type Outcome = TokenSet;

    fn on_response(self, response: &HttpResponse, now: UnixTime) -> Result<TokenSet, Error> {
        let r = parse::token_response(response, now, self.client.parse_options())?;
        Ok(TokenSet::refreshed(
            r,
            self.old_refresh_token,
            self.old_scope,
            self.old_id_token,
            self.requested_scope.as_ref(),
            now,
        ))
    }
}

impl RefreshFlow {
    /// Starts a refresh of `tokens`. `scope`, when given, must be within the granted
    /// scope (RFC 6749 §6: it "MUST NOT include any scope not originally granted"); when
    /// the granted scope is unknown, any scope is sent as asked.
    pub fn start(
        client: &ClientRegistration,
        tokens: &TokenSet,
        scope: Option<Scope>,
    ) -> Result<Self, Error> {
        let refresh_token = tokens
            .refresh_token
            .as_ref()
            .ok_or(ConfigError::NoRefreshToken)?;
        let scope = scope.filter(|s| !s.is_empty());
        if let (Some(asked), Some(granted)) = (&scope, &tokens.scope)
            && !asked.is_subset_of(granted)
        {
            return Err(ConfigError::ScopeNotGranted.into());
        }
        let params = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.secret()),
            ("scope", scope.as_ref().map_or("", Scope::as_str)),
        ];
        let params = if scope.is_some() {
            &params[..]
        } else {
            &params[..2]
        };
        let request = token_request(client, params);
        Ok(RefreshFlow(OneShot::new(
            request,
            Refresh {
                client: client.clone(),
                old_refresh_token: refresh_token.clone(),
                old_scope: tokens.scope.clone(),
                old_id_token: tokens.id_token.clone(),
                requested_scope: scope,
            },
        )))
    }
}

#[cfg(test)]
#[path = "refresh_tests.rs"]
mod flow_tests;
