//! "Authorize for this resource": from a protected resource alone — its URL, or the
//! `resource_metadata` URL its 401 announced — to tokens for it, with no client
//! configured beforehand (RFC 9728 → RFC 8414 → RFC 7591 → RFC 6749 + PKCE, with the
//! RFC 8707 `resource` on every request).
//!
//! ```text
//!   start(params, rng, now)      (draws state + PKCE verifier now, for later)
//!          │
//!          ▼
//!   ┌──────────────────┐ Send ┌──────────────────────────┐ Response: `resource` matches,
//!   │ ResourceMetadata │─────▶│ AwaitingResourceMetadata │ an authorization server chosen
//!   └──────────────────┘      └──────────────────────────┘──────────────┐
//!                                                                       ▼
//!   ┌────────────────┐ Send ┌────────────────────────┐ 4xx on RFC 8414: try OpenID ──┐
//!   │ ServerMetadata │─────▶│ AwaitingServerMetadata │◀──────────────────────────────┘
//!   └────────────────┘      └────────────────────────┘ Response: `issuer` identical
//!                                  │ no client id yet            │ client known
//!                                  ▼                             │
//!   ┌──────────┐ Send ┌──────────────────────┐ Response: client  │
//!   │ Register │─────▶│ AwaitingRegistration │──────────────┐    │
//!   └──────────┘      └──────────────────────┘              ▼    ▼
//!                                                   ┌───────────────┐ the authorization-code
//!                                                   │   Authorize   │ flow, inputs and outputs
//!                                                   └───────────────┘ passed through
//!                                                     │          │
//!                                                     ▼          ▼
//!                                                 ┌──────┐  ┌────────┐ each failure names
//!                                                 │ Done │  │ Failed │ its step (ChainStep)
//!                                                 └──────┘  └────────┘
//! ```
//!
//! Every rule of the steps it is made of holds: the resource metadata must name the
//! resource asked for (RFC 9728 §3.3), the server metadata the issuer it was fetched for
//! (RFC 8414 §3.3), endpoints are https (or http on loopback), redirects are never
//! followed, the registration must return a client id, and the authorization is the
//! usual one — `state`, PKCE `S256`, `iss`.

use super::authorization_code::{AuthorizationCodeFlow, AuthorizationParams, Secrets};
use crate::client::{ClientAuth, ClientRegistration};
use crate::error::{ChainStep, ConfigError, Error, InputKind, ParseError};
use crate::io::{Flow, HttpRequest, HttpResponse, Input, Output};
use crate::parse::{
    self, MetadataKind, ParseOptions, RegisteredClientInfo, ResourceCheck, ResourceMetadata,
    ServerMetadata, resource_metadata_url, well_known_url,
};
use crate::request::get_json;
use crate::scope::Scope;
use crate::secret::ClientSecret;
use crate::time::UnixTime;
use crate::token::TokenSet;
use http::HeaderValue;
use http::header::{ACCEPT, CONTENT_TYPE};
use rand_core::CryptoRng;
use std::fmt;
use url::Url;

/// Where the chain starts and what it may reuse.
#[derive(Clone, Debug)]
pub struct ResourceAuthorizationParams {
    resource: String,
    metadata_url: Option<Url>,
    request_url: Option<Url>,
    client_id: Option<String>,
    client_auth: ClientAuth,
    registered: Option<RegisteredClientInfo>,
    redirect_uri: String,
    scope: Option<Scope>,
    client_name: String,
    authorization_ttl: Option<u64>,
}

impl ResourceAuthorizationParams {
    /// Authorize for the protected resource identified by `resource` (its metadata is
    /// fetched from the RFC 9728 well-known URL and must name exactly this resource),
    /// redirecting to `redirect_uri` (a loopback listener's).
    pub fn for_resource(resource: impl Into<String>, redirect_uri: impl Into<String>) -> Self {
        ResourceAuthorizationParams {
            resource: resource.into(),
            metadata_url: None,
            request_url: None,
            client_id: None,
            client_auth: ClientAuth::None,
            registered: None,
            redirect_uri: redirect_uri.into(),
            scope: None,
            client_name: "oauth-sansio client".into(),
            authorization_ttl: None,
        }
    }

    /// Authorize after a request to `request_url` was answered 401 with
    /// `resource_metadata` = `metadata_url` (RFC 9728 §5.1). The metadata's `resource`
    /// must cover `request_url` (same origin, a path prefix).
    pub fn after_challenge(
        request_url: Url,
        metadata_url: Url,
        redirect_uri: impl Into<String>,
    ) -> Self {
        let mut p = ResourceAuthorizationParams::for_resource(request_url.as_str(), redirect_uri);
        p.metadata_url = Some(metadata_url);
        p.request_url = Some(request_url);
        p
    }

    /// Use this pre-registered client instead of registering one.
    #[must_use]
    pub fn client(mut self, client_id: impl Into<String>, auth: ClientAuth) -> Self {
        self.client_id = Some(client_id.into());
        self.client_auth = auth;
        self
    }

    /// Reuse a client registered by an earlier run (kept in a store). It is ignored —
    /// and a new client registered — when it was registered by another server than the
    /// one the resource names, or its secret has expired.
    #[must_use]
    pub fn registered(mut self, info: RegisteredClientInfo) -> Self {
        self.registered = Some(info);
        self
    }

    /// The scope to request (default: the resource's `scopes_supported`, if any).
    #[must_use]
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scope = Some(scope);
        self
    }

    /// How long the authorization waits for the user's redirect, in seconds (default:
    /// the registration's, ten minutes).
    #[must_use]
    pub fn authorization_ttl(mut self, secs: u64) -> Self {
        self.authorization_ttl = Some(secs);
        self
    }

    /// The `client_name` sent when registering.
    #[must_use]
    pub fn client_name(mut self, name: impl Into<String>) -> Self {
        self.client_name = name.into();
        self
    }
}

/// What a protected resource's 401 announced (RFC 9728 §5.1): where its metadata is,
/// for the request it refused. The [`Session`](crate::Session) hands it to the driver
/// in [`Step::Authorize`](crate::Step::Authorize).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceChallenge {
    /// The URL of the refused request.
    pub request_url: Url,
    /// The `resource_metadata` URL of the challenge (https, or http on loopback).
    pub metadata_url: Url,
}

impl ResourceChallenge {
    /// The challenge in `response` (a 401 with a `Bearer` challenge carrying
    /// `resource_metadata`) to a request for `request_uri`; `None` otherwise.
    pub fn from_response(request_uri: &http::Uri, response: &HttpResponse) -> Option<Self> {
        let metadata_url = crate::bearer::resource_metadata_hint(response)?;
        let request_url = Url::parse(&request_uri.to_string()).ok()?;
        Some(ResourceChallenge {
            request_url,
            metadata_url,
        })
    }

    /// The chain's parameters for this challenge, redirecting to `redirect_uri`.
    pub fn params(&self, redirect_uri: impl Into<String>) -> ResourceAuthorizationParams {
        ResourceAuthorizationParams::after_challenge(
            self.request_url.clone(),
            self.metadata_url.clone(),
            redirect_uri,
        )
    }
}

/// What the chain produced.
#[derive(Clone, Debug)]
pub struct ResourceAuthorization {
    /// The tokens, for the resource (RFC 8707).
    pub tokens: TokenSet,
    /// The registration used (refresh, revocation, … go through it; it carries the
    /// resource indicator).
    pub client: ClientRegistration,
    /// The client registered by this run, to be kept for the next one.
    pub registered: Option<RegisteredClientInfo>,
    /// The resource's metadata.
    pub resource: ResourceMetadata,
    /// The authorization server's metadata.
    pub server: ServerMetadata,
}

/// The chain. See the [module documentation](self).
pub struct ResourceAuthorizationFlow {
    state: State,
}

enum State {
    /// The resource metadata request is built.
    ResourceMetadata(Box<HttpRequest>, Start),
    /// Waiting for the resource metadata.
    AwaitingResourceMetadata(Start),
    /// The server metadata request is built.
    ServerMetadata(Box<HttpRequest>, Found),
    /// Waiting for the server metadata.
    AwaitingServerMetadata(Found),
    /// The registration request is built. (The documents are boxed: they would make
    /// every state of the flow as large as this one.)
    Register(Box<HttpRequest>, Box<Discovered>),
    /// Waiting for the registration.
    AwaitingRegistration(Box<Discovered>),
    /// The authorization-code flow runs.
    Authorize(Box<AuthorizationCodeFlow>, Box<Authorizing>),
    /// Finished.
    Done(Box<ResourceAuthorization>),
    /// Failed; it sticks.
    Failed(Error),
    /// Only inside `handle` and `poll`.
    Poisoned,
}

/// Before the resource metadata.
struct Start {
    params: ResourceAuthorizationParams,
    secrets: Secrets,
}

/// Resource metadata in hand; which server document is being fetched.
struct Found {
    start: Start,
    resource: ResourceMetadata,
    issuer: String,
    kind: MetadataKind,
}

/// Server metadata in hand.
struct Discovered {
    start: Start,
    resource: ResourceMetadata,
    server: ServerMetadata,
}

/// Everything the result needs besides the tokens.
struct Authorizing {
    client: ClientRegistration,
    registered: Option<RegisteredClientInfo>,
    resource: ResourceMetadata,
    server: ServerMetadata,
}

fn fail(step: ChainStep, e: Error) -> State {
    State::Failed(Error::InStep {
        step,
        source: Box::new(e),
    })
}

fn uri_of(url: &Url, field: &'static str) -> Result<http::Uri, Error> {
    http::Uri::try_from(url.as_str()).map_err(|_| ConfigError::InvalidUrl { field }.into())
}

impl ResourceAuthorizationFlow {
    /// Starts the chain; the `state` and PKCE verifier of the eventual authorization
    /// request are drawn from `rng` now. A redirect URI the authorization would refuse
    /// (a fragment, plain http off loopback, …) is refused here, before any request.
    pub fn start<R: CryptoRng + ?Sized>(
        params: ResourceAuthorizationParams,
        rng: &mut R,
        now: UnixTime,
    ) -> Result<Self, Error> {
        let _ = now; // the chain's deadlines are its steps'; the authorization's starts later
        // Checked now, with the rules the registration built at the end applies: else a
        // client is registered that the authorization step then refuses (orphaned at the
        // server, and lost, so the next run registers yet another).
        crate::client::redirect_uri(&params.redirect_uri, false)?;
        let url = match &params.metadata_url {
            Some(u) => u.clone(),
            None => resource_metadata_url(&params.resource)?,
        };
        let request = get_json(uri_of(&url, "resource_metadata")?);
        Ok(ResourceAuthorizationFlow {
            state: State::ResourceMetadata(
                Box::new(request),
                Start {
                    params,
                    secrets: Secrets::draw(rng),
                },
            ),
        })
    }

    /// The name of the current state (for logs and tests).
    pub fn state_name(&self) -> &'static str {
        match self.state {
            State::ResourceMetadata(..) => "ResourceMetadata",
            State::AwaitingResourceMetadata(_) => "AwaitingResourceMetadata",
            State::ServerMetadata(..) => "ServerMetadata",
            State::AwaitingServerMetadata(_) => "AwaitingServerMetadata",
            State::Register(..) => "Register",
            State::AwaitingRegistration(_) => "AwaitingRegistration",
            State::Authorize(..) => "Authorize",
            State::Done(_) => "Done",
            State::Failed(_) => "Failed",
            State::Poisoned => "Poisoned",
        }
    }

    fn expected(&self) -> &'static [InputKind] {
        match self.state {
            State::ResourceMetadata(..) | State::ServerMetadata(..) | State::Register(..) => {
                &[InputKind::Tick]
            }
            State::AwaitingResourceMetadata(_)
            | State::AwaitingServerMetadata(_)
            | State::AwaitingRegistration(_) => &[
                InputKind::Response,
                InputKind::TransportFailed,
                InputKind::Tick,
            ],
            State::Authorize(..) => &[
                InputKind::Callback,
                InputKind::Response,
                InputKind::TransportFailed,
                InputKind::Tick,
            ],
            State::Done(_) | State::Failed(_) | State::Poisoned => &[],
        }
    }
}

/// The resource's metadata arrived: check it and fetch its authorization server's.
fn on_resource_metadata(start: Start, response: &HttpResponse, now: UnixTime) -> State {
    let check = match &start.params.request_url {
        Some(u) => ResourceCheck::Covers(u),
        None => ResourceCheck::Exact(&start.params.resource),
    };
    let resource = match parse::resource_metadata(response, check, now, &ParseOptions::default()) {
        Ok(r) => r,
        Err(e) => return fail(ChainStep::ResourceMetadata, e),
    };
    // RFC 9728 §7.6: the client chooses among the servers; the first is the resource's
    // preference.
    let Some(issuer) = resource.authorization_servers.first().cloned() else {
        return fail(
            ChainStep::ResourceMetadata,
            ParseError::new(
                "authorization_servers",
                crate::error::ParseErrorKind::Missing,
            )
            .into(),
        );
    };
    server_metadata_request(start, resource, issuer, MetadataKind::OAuth)
}

fn server_metadata_request(
    start: Start,
    resource: ResourceMetadata,
    issuer: String,
    kind: MetadataKind,
) -> State {
    let request = match well_known_url(&issuer, kind)
        .map_err(Error::from)
        .and_then(|u| uri_of(&u, "issuer"))
    {
        Ok(uri) => get_json(uri),
        Err(e) => return fail(ChainStep::ServerMetadata, e),
    };
    State::ServerMetadata(
        Box::new(request),
        Found {
            start,
            resource,
            issuer,
            kind,
        },
    )
}

/// The server's metadata arrived: register a client if none is known, else authorize.
fn on_server_metadata(found: Found, response: &HttpResponse, now: UnixTime) -> State {
    // A server without RFC 8414's document may still publish OpenID Connect's.
    if found.kind == MetadataKind::OAuth && response.status().is_client_error() {
        return server_metadata_request(
            found.start,
            found.resource,
            found.issuer,
            MetadataKind::OpenId,
        );
    }
    let server = match parse::metadata(response, &found.issuer, now, &ParseOptions::default()) {
        Ok(s) => s,
        Err(e) => return fail(ChainStep::ServerMetadata, e),
    };
    // A registration kept from an earlier run is reused only with the server that made
    // it, and only while its secret lasts; otherwise register again.
    let mut start = found.start;
    if start
        .params
        .registered
        .as_ref()
        .is_some_and(|r| !r.usable_with(&server.issuer, now))
    {
        start.params.registered = None;
    }
    let known = start.params.client_id.is_some() || start.params.registered.is_some();
    let discovered = Discovered {
        start,
        resource: found.resource,
        server,
    };
    if known {
        return authorize(discovered, None, now);
    }
    let Some(endpoint) = discovered.server.registration_endpoint.clone() else {
        return fail(
            ChainStep::Registration,
            ConfigError::Missing { field: "client_id" }.into(),
        );
    };
    match registration_request(&endpoint, &discovered.start.params) {
        Ok(r) => State::Register(Box::new(r), Box::new(discovered)),
        Err(e) => fail(ChainStep::Registration, e),
    }
}

/// RFC 7591 §2 / RFC 8252 §8.4: a native, public client with PKCE and a loopback
/// redirect URI registered without its port (the server must accept any port).
fn registration_request(
    endpoint: &str,
    params: &ResourceAuthorizationParams,
) -> Result<HttpRequest, Error> {
    let url = Url::parse(endpoint).map_err(|_| ConfigError::InvalidUrl {
        field: "registration_endpoint",
    })?;
    let mut redirect = Url::parse(&params.redirect_uri).map_err(|_| ConfigError::InvalidUrl {
        field: "redirect_uri",
    })?;
    if redirect
        .host_str()
        .is_some_and(crate::client::is_loopback_host)
    {
        let _ = redirect.set_port(None);
    }
    let body = serde_json::json!({
        "redirect_uris": [redirect.as_str()],
        "token_endpoint_auth_method": "none",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "application_type": "native",
        "client_name": params.client_name,
    });
    let mut request = http::Request::new(body.to_string().into_bytes());
    *request.method_mut() = http::Method::POST;
    *request.uri_mut() = uri_of(&url, "registration_endpoint")?;
    request
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    request
        .headers_mut()
        .insert(ACCEPT, HeaderValue::from_static("application/json"));
    Ok(HttpRequest::from_http(request))
}

/// The registration arrived.
fn on_registration(d: Discovered, response: &HttpResponse, now: UnixTime) -> State {
    match parse::registration_response(response, now, &ParseOptions::default()) {
        Ok(mut info) => {
            info.issuer = Some(d.server.issuer.clone());
            authorize(d, Some(info), now)
        }
        Err(e) => fail(ChainStep::Registration, e),
    }
}

/// Builds the registration (the resource as RFC 8707 indicator) and starts the
/// authorization-code flow with the secrets drawn at start.
fn authorize(
    d: Discovered,
    newly_registered: Option<RegisteredClientInfo>,
    now: UnixTime,
) -> State {
    let Discovered {
        start,
        resource,
        server,
    } = d;
    let Start { params, secrets } = start;
    let (client_id, auth) = match (&newly_registered, &params.registered, &params.client_id) {
        (Some(info), _, _) | (None, Some(info), _) => (
            info.client_id.clone(),
            match (
                &info.client_secret,
                info.token_endpoint_auth_method.as_str(),
            ) {
                (Some(s), "client_secret_post") => {
                    ClientAuth::ClientSecretPost(ClientSecret::new(s.secret()))
                }
                (Some(s), _) => ClientAuth::ClientSecretBasic(ClientSecret::new(s.secret())),
                (None, _) => ClientAuth::None,
            },
        ),
        (None, None, Some(id)) => (id.clone(), params.client_auth.clone()),
        (None, None, None) => {
            return fail(
                ChainStep::Registration,
                ConfigError::Missing { field: "client_id" }.into(),
            );
        }
    };
    let ttl = params.authorization_ttl;
    let client = match server.registration(client_id).and_then(|b| {
        let b = match ttl {
            Some(secs) => b.authorization_ttl(secs),
            None => b,
        };
        b.auth(auth)
            .redirect_uri(params.redirect_uri.clone())
            .resource(resource.resource.clone())
            .build()
    }) {
        Ok(c) => c,
        Err(e) => return fail(ChainStep::Authorization, e.into()),
    };
    let scope = params.scope.clone().unwrap_or_else(|| {
        resource
            .scopes_supported
            .as_ref()
            .and_then(|s| Scope::new(s.iter().map(String::as_str)).ok())
            .unwrap_or_default()
    });
    match AuthorizationCodeFlow::start_with(
        &client,
        AuthorizationParams::new().scope(scope),
        secrets,
        now,
    ) {
        Ok(flow) => State::Authorize(
            Box::new(flow),
            Box::new(Authorizing {
                client,
                registered: newly_registered,
                resource,
                server,
            }),
        ),
        Err(e) => fail(ChainStep::Authorization, e),
    }
}

impl Flow for ResourceAuthorizationFlow {
    type Outcome = ResourceAuthorization;

    fn handle(&mut self, input: Input, now: UnixTime) {
        let expected = self.expected();
        let state = std::mem::replace(&mut self.state, State::Poisoned);
        self.state = match (state, input) {
            (
                s @ (State::ResourceMetadata(..) | State::ServerMetadata(..) | State::Register(..)),
                Input::Tick,
            ) => s,

            (State::AwaitingResourceMetadata(start), Input::Response(r)) => {
                on_resource_metadata(start, &r, now)
            }
            (State::AwaitingServerMetadata(found), Input::Response(r)) => {
                on_server_metadata(found, &r, now)
            }
            (State::AwaitingRegistration(d), Input::Response(r)) => on_registration(*d, &r, now),
            (State::AwaitingResourceMetadata(_), Input::TransportFailed(f)) => {
                fail(ChainStep::ResourceMetadata, Error::Transport(f))
            }
            (State::AwaitingServerMetadata(_), Input::TransportFailed(f)) => {
                fail(ChainStep::ServerMetadata, Error::Transport(f))
            }
            (State::AwaitingRegistration(_), Input::TransportFailed(f)) => {
                fail(ChainStep::Registration, Error::Transport(f))
            }
            (
                s @ (State::AwaitingResourceMetadata(_)
                | State::AwaitingServerMetadata(_)
                | State::AwaitingRegistration(_)),
                Input::Tick,
            ) => s,

            // The authorization-code flow takes its own inputs.
            (State::Authorize(mut flow, a), input) => {
                flow.handle(input, now);
                State::Authorize(flow, a)
            }

            (s @ (State::Done(_) | State::Failed(_)), _) => s,
            (State::Poisoned, _) => State::Failed(Error::Poisoned),
            (_, input) => State::Failed(Error::UnexpectedInput {
                expected,
                got: input.kind(),
            }),
        };
    }

    fn poll(&mut self) -> Output<ResourceAuthorization> {
        match std::mem::replace(&mut self.state, State::Poisoned) {
            State::ResourceMetadata(request, start) => {
                self.state = State::AwaitingResourceMetadata(start);
                Output::Send(*request)
            }
            State::ServerMetadata(request, found) => {
                self.state = State::AwaitingServerMetadata(found);
                Output::Send(*request)
            }
            State::Register(request, d) => {
                self.state = State::AwaitingRegistration(d);
                Output::Send(*request)
            }
            s @ (State::AwaitingResourceMetadata(_)
            | State::AwaitingServerMetadata(_)
            | State::AwaitingRegistration(_)) => {
                self.state = s;
                Output::AwaitResponse
            }
            // The inner flow's actions pass through; only its end is this flow's.
            State::Authorize(mut flow, a) => match flow.poll().unless_done() {
                Ok(action) => {
                    self.state = State::Authorize(flow, a);
                    action
                }
                Err(Ok(tokens)) => {
                    let done = ResourceAuthorization {
                        tokens,
                        client: a.client,
                        registered: a.registered,
                        resource: a.resource,
                        server: a.server,
                    };
                    self.state = State::Done(Box::new(done.clone()));
                    Output::Done(Ok(done))
                }
                Err(Err(e)) => {
                    let e = Error::InStep {
                        step: ChainStep::Authorization,
                        source: Box::new(e),
                    };
                    self.state = State::Failed(e.clone());
                    Output::Done(Err(e))
                }
            },
            State::Done(d) => {
                let out = Output::Done(Ok((*d).clone()));
                self.state = State::Done(d);
                out
            }
            State::Failed(e) => {
                let out = Output::Done(Err(e.clone()));
                self.state = State::Failed(e);
                out
            }
            State::Poisoned => {
                self.state = State::Failed(Error::Poisoned);
                Output::Done(Err(Error::Poisoned))
            }
        }
    }

    fn accepts(&self, input: &Input) -> bool {
        match (&self.state, input) {
            (State::Authorize(flow, _), input) => flow.accepts(input),
            (
                State::AwaitingResourceMetadata(_)
                | State::AwaitingServerMetadata(_)
                | State::AwaitingRegistration(_),
                Input::Response(_) | Input::TransportFailed(_),
            ) => true,
            (_, Input::Tick) => true,
            _ => false,
        }
    }
}

impl fmt::Debug for ResourceAuthorizationFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("ResourceAuthorizationFlow");
        d.field("state", &self.state_name());
        match &self.state {
            State::Authorize(flow, _) => d.field("authorization", flow),
            State::Failed(e) => d.field("error", e),
            _ => &mut d,
        };
        d.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ConfigError;

    #[test]
    fn a_redirect_uri_the_authorization_would_refuse_is_refused_before_any_request() {
        for (redirect, expected) in [
            (
                "myapp:/callback",
                ConfigError::InvalidRedirectUri {
                    reason: "a private-use scheme must be a reversed domain name (com.example.app)",
                },
            ),
            (
                "http://127.0.0.1:4711/callback#f",
                ConfigError::HasFragment {
                    field: "redirect_uri",
                },
            ),
            (
                "http://192.0.2.1:8080/callback",
                ConfigError::InvalidRedirectUri {
                    reason: "plain http is allowed only for loopback hosts",
                },
            ),
            (
                "/callback",
                ConfigError::InvalidRedirectUri {
                    reason: "not an absolute URL",
                },
            ),
        ] {
            let params = ResourceAuthorizationParams::for_resource("https://api.example", redirect);
            let e = ResourceAuthorizationFlow::start(
                params,
                &mut crate::flow::test_support::test_rng(),
                UnixTime::from_secs(0),
            )
            .expect_err(redirect);
            assert_eq!(e, Error::Config(expected), "{redirect}");
        }
        // The loopback listener's URI and a reversed-domain scheme are fine.
        for redirect in ["http://127.0.0.1:4711/callback", "com.example.app:/cb"] {
            let params = ResourceAuthorizationParams::for_resource("https://api.example", redirect);
            let mut flow = ResourceAuthorizationFlow::start(
                params,
                &mut crate::flow::test_support::test_rng(),
                UnixTime::from_secs(0),
            )
            .expect(redirect);
            assert!(matches!(flow.poll(), Output::Send(_)), "{redirect}");
        }
    }

    #[test]
    fn every_state_is_in_the_diagram() {
        let doc = include_str!("resource_authorization.rs");
        let diagram: String = doc.lines().take_while(|l| l.starts_with("//!")).collect();
        for name in [
            "ResourceMetadata",
            "AwaitingResourceMetadata",
            "ServerMetadata",
            "AwaitingServerMetadata",
            "Register",
            "AwaitingRegistration",
            "Authorize",
            "Done",
            "Failed",
        ] {
            assert!(diagram.contains(name), "{name} missing from the diagram");
        }
    }
}
