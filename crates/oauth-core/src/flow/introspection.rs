//! Token introspection (RFC 7662): ask the server whether a token is active. One request
//! and one response on the machine of [`exchange`](super::exchange) (`SendRequest` →
//! `AwaitingResponse` → `Done` | `Failed`); the answer is read by
//! [`parse::introspection_response`](crate::parse::introspection_response).
//!
//! RFC 7662 §2.1: the request is authenticated; a public client has no credentials to
//! offer, so it is refused before anything is sent (INT-01).

use super::exchange::{Exchange, OneShot};
use super::revocation::TokenRef;
use crate::client::{ClientAuth, ClientRegistration};
use crate::error::{ConfigError, Error};
use crate::io::HttpResponse;
use crate::parse::{self, Introspection};
use crate::time::UnixTime;

/// An introspection request. See the [module documentation](self).
pub struct IntrospectionFlow(OneShot<Introspect>);

one_shot_flow!(IntrospectionFlow, Introspection);

struct Introspect {
    client: ClientRegistration,
}

impl Exchange for Introspect {
    type Outcome = Introspection;

    fn on_response(self, response: &HttpResponse, now: UnixTime) -> Result<Introspection, Error> {
        parse::introspection_response(response, now, self.client.parse_options())
    }
}

impl IntrospectionFlow {
    /// Asks about `token` at the registration's introspection endpoint.
    pub fn start(client: &ClientRegistration, token: TokenRef<'_>) -> Result<Self, Error> {
        let endpoint = client.introspection().ok_or(ConfigError::Missing {
            field: "introspection_endpoint",
        })?;
        if matches!(client.auth(), ClientAuth::None) {
            return Err(ConfigError::Missing {
                field: "client_secret",
            }
            .into());
        }
        let request = token.request(client, endpoint);
        Ok(IntrospectionFlow(OneShot::new(
            request,
            Introspect {
                client: client.clone(),
            },
        )))
    }
}
