//! The client credentials grant (RFC 6749 §4.4): a confidential client asks for a token
//! for itself — `grant_type=client_credentials`, an optional scope, and RFC 8707
//! `resource` indicators (or an `audience`, for servers that use that name) passed
//! through. One request and one response on the machine of
//! [`exchange`](super::exchange) (`SendRequest` → `AwaitingResponse` → `Done` |
//! `Failed`).
//!
//! RFC 6749 §4.4.2: "The client MUST authenticate with the authorization server", so a
//! public client ([`ClientAuth::None`]) is refused before anything is sent (TOK-04). A
//! refresh token "SHOULD NOT be included" in the answer (§4.4.3): one that comes is kept,
//! never relied on.

use super::exchange::{Exchange, OneShot};
use crate::client::{ClientAuth, ClientRegistration};
use crate::error::{ConfigError, Error};
use crate::io::HttpResponse;
use crate::parse;
use crate::request::token_request;
use crate::scope::Scope;
use crate::time::UnixTime;
use crate::token::TokenSet;

/// What a client-credentials request asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientCredentialsParams {
    scope: Scope,
    resources: Vec<String>,
    extra: Vec<(String, String)>,
}

impl ClientCredentialsParams {
    /// No scope, no resource.
    pub fn new() -> Self {
        ClientCredentialsParams::default()
    }

    /// The scope to request.
    #[must_use]
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    /// An RFC 8707 resource indicator (an absolute URI without fragment); may be given
    /// several times.
    #[must_use]
    pub fn resource(mut self, uri: impl Into<String>) -> Self {
        self.resources.push(uri.into());
        self
    }

    /// Another token request parameter (`audience`, …). Names the flow sets itself are
    /// refused.
    #[must_use]
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }
}

/// A client-credentials grant. See the [module documentation](self).
pub struct ClientCredentialsFlow(OneShot<Grant>);

one_shot_flow!(ClientCredentialsFlow, TokenSet);

struct Grant {
    client: ClientRegistration,
    scope: Scope,
}

impl Exchange for Grant {
    type Outcome = TokenSet;

    fn on_response(self, response: &HttpResponse, now: UnixTime) -> Result<TokenSet, Error> {
        let r = parse::token_response(response, now, self.client.parse_options())?;
        Ok(TokenSet::from_response(r, Some(&self.scope), now))
    }
}

const RESERVED: &[&str] = &[
    "grant_type",
    "scope",
    "resource",
    "client_id",
    "client_secret",
];

impl ClientCredentialsFlow {
    /// Starts the grant. Fails for a public client, for a resource that is not an
    /// absolute URI without fragment (RFC 8707 §2), and for a parameter the flow sets
    /// itself or one given twice.
    pub fn start(
        client: &ClientRegistration,
        params: ClientCredentialsParams,
    ) -> Result<Self, Error> {
        if matches!(client.auth(), ClientAuth::None) {
            return Err(ConfigError::Missing {
                field: "client_secret",
            }
            .into());
        }
        for r in &params.resources {
            match url::Url::parse(r) {
                Ok(u) if u.fragment().is_none() => {}
                _ => return Err(ConfigError::InvalidUrl { field: "resource" }.into()),
            }
        }
        for (i, (name, _)) in params.extra.iter().enumerate() {
            if RESERVED.contains(&name.as_str()) || params.extra[..i].iter().any(|(n, _)| n == name)
            {
                return Err(ConfigError::ConflictingParameter { name: name.clone() }.into());
            }
        }
        let scope_text = params.scope.to_string();
        let mut form: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
        if !params.scope.is_empty() {
            form.push(("scope", &scope_text));
        }
        form.extend(params.resources.iter().map(|r| ("resource", r.as_str())));
        form.extend(params.extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let request = token_request(client, &form);
        Ok(ClientCredentialsFlow(OneShot::new(
            request,
            Grant {
                client: client.clone(),
                scope: params.scope,
            },
        )))
    }
}
