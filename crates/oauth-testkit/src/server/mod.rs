//! A fake authorization server and protected resource, pure and in memory.
//!
//! It answers the core's requests as a strict real server does:
//!
//! - **authorization endpoint** ([`FakeAuthorizationServer::authorize`], called by the
//!   simulated user agent): registered client and exact redirect URI, `response_type=code`,
//!   PKCE `S256` required, `state` echoed, `iss` added (RFC 9207) unless switched off;
//! - **token endpoint**: client authentication (`client_secret_basic` with form-decoding,
//!   `client_secret_post`, `none`; exactly one method, the registered one), PKCE check,
//!   `redirect_uri` equality, single-use codes that expire (a replayed code revokes what
//!   it produced), refresh with rotation on or off and reuse detection (presenting a
//!   rotated-out refresh token revokes the whole grant);
//! - **protected resource** under `https://api.example/`: validates bearer tokens and
//!   answers 401 with `WWW-Authenticate: Bearer error="invalid_token"`.
//!
//! Provider [`ServerQuirks`] and injected [`Fault`]s are switches.

mod endpoints;
mod quirks;
mod resource;

pub use quirks::{Fault, ServerQuirks};
pub use resource::RegistrationMode;

use crate::rng::SeededRng;
use base64::Engine as _;
use http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use http::{HeaderValue, Method, StatusCode};
use oauth_core::parse::parse_form;
use oauth_core::{
    ClientAuth, ClientRegistration, ClientRegistrationBuilder, ClientSecret, HttpResponse,
    TransportErrorKind, TransportFailure, UnixTime, challenge_s256,
};
use std::collections::{BTreeMap, VecDeque};
use url::Url;

/// How a registered client authenticates at the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    /// Public client (`none`).
    None,
    /// `client_secret_basic`.
    Basic,
    /// `client_secret_post`.
    Post,
}

/// A client registered at the fake server.
#[derive(Clone, Debug)]
pub struct RegisteredClient {
    /// The client id.
    pub client_id: String,
    /// The secret, for confidential clients.
    pub secret: Option<String>,
    /// The registered authentication method.
    pub auth_method: AuthMethod,
    /// Redirect URIs, compared exactly.
    pub redirect_uris: Vec<String>,
}

impl RegisteredClient {
    /// A public client with one redirect URI.
    pub fn public(client_id: &str, redirect_uri: &str) -> Self {
        RegisteredClient {
            client_id: client_id.into(),
            secret: None,
            auth_method: AuthMethod::None,
            redirect_uris: vec![redirect_uri.into()],
        }
    }

    /// A confidential client with one redirect URI.
    pub fn confidential(
        client_id: &str,
        secret: &str,
        method: AuthMethod,
        redirect_uri: &str,
    ) -> Self {
        RegisteredClient {
            client_id: client_id.into(),
            secret: Some(secret.into()),
            auth_method: method,
            redirect_uris: vec![redirect_uri.into()],
        }
    }
}

/// The user's answer on the consent page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Grant access.
    Approve,
    /// Refuse access (`access_denied`).
    Deny,
}

/// Why the authorization page could not redirect back to the client at all (a real
/// server shows an error page instead, RFC 6749 §4.1.2.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthorizeError {
    /// The URL is not this server's authorization endpoint.
    NotTheAuthorizationEndpoint,
    /// The query could not be read, or repeats a parameter.
    Malformed,
    /// `client_id` is missing or unknown.
    UnknownClient,
    /// `redirect_uri` is missing or not registered for the client.
    RedirectUriNotRegistered,
}

/// Counters the tests assert on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerStats {
    /// Requests that reached the token endpoint (faults that drop the request excluded).
    pub token_requests: usize,
    /// Authorization codes issued.
    pub codes_issued: usize,
    /// Times a rotated-out refresh token was presented (each revoked a grant).
    pub refresh_reuse_detected: usize,
    /// Times a spent code was presented again.
    pub code_replays: usize,
    /// Requests to the protected resource.
    pub resource_requests: usize,
    /// Device-code polls at the token endpoint.
    pub device_polls: usize,
    /// `slow_down` answers to device-code polls.
    pub slow_downs: usize,
    /// Revocation requests.
    pub revocations: usize,
    /// Introspection requests.
    pub introspections: usize,
    /// Pushed authorization requests accepted.
    pub pushed_requests: usize,
}

struct CodeRecord {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    scope: String,
    /// The RFC 8707 `resource` of the authorization request.
    resource: Option<String>,
    expires_at: UnixTime,
    /// The grant this code produced, once redeemed.
    redeemed: Option<usize>,
}

struct Grant {
    client_id: String,
    scope: String,
    /// The RFC 8707 audience its tokens are restricted to.
    resource: Option<String>,
    revoked: bool,
}

struct RefreshRecord {
    grant: usize,
    /// False once rotated out; presenting it then is reuse.
    current: bool,
}

struct AccessRecord {
    grant: usize,
    expires_at: UnixTime,
}

/// The fake authorization server. See the [module documentation](self).
pub struct FakeAuthorizationServer {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    resource_base: String,
    send_iss: bool,
    rotate_refresh_tokens: bool,
    code_ttl: u64,
    access_token_ttl: u64,
    quirks: ServerQuirks,
    clients: BTreeMap<String, RegisteredClient>,
    rng: SeededRng,
    codes: BTreeMap<String, CodeRecord>,
    grants: Vec<Grant>,
    refresh_tokens: BTreeMap<String, RefreshRecord>,
    access_tokens: BTreeMap<String, AccessRecord>,
    faults: VecDeque<Fault>,
    stats: ServerStats,
    pub(super) extra: endpoints::Extra,
    pub(super) rs: resource::ResourceSide,
}

impl std::fmt::Debug for FakeAuthorizationServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeAuthorizationServer")
            .field("issuer", &self.issuer)
            .field("clients", &self.clients.keys().collect::<Vec<_>>())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

const DEFAULT_ISSUER: &str = "https://as.example";

impl FakeAuthorizationServer {
    /// A server at `https://as.example` with no clients, rotation on, `iss` sent,
    /// 60-second codes and one-hour access tokens; tokens drawn from `seed`.
    pub fn new(seed: u64) -> Self {
        let mut s = FakeAuthorizationServer {
            issuer: String::new(),
            authorization_endpoint: String::new(),
            token_endpoint: String::new(),
            resource_base: "https://api.example/".into(),
            send_iss: true,
            rotate_refresh_tokens: true,
            code_ttl: 60,
            access_token_ttl: 3600,
            quirks: ServerQuirks::default(),
            clients: BTreeMap::new(),
            rng: SeededRng::new(seed ^ 0x5eed_5e7e_a5a5_0001),
            codes: BTreeMap::new(),
            grants: Vec::new(),
            refresh_tokens: BTreeMap::new(),
            access_tokens: BTreeMap::new(),
            faults: VecDeque::new(),
            stats: ServerStats::default(),
            extra: endpoints::Extra::default(),
            rs: resource::ResourceSide::default(),
        };
        s.set_issuer(DEFAULT_ISSUER);
        s
    }

    /// Moves the server to another issuer; endpoints are `{issuer}/authorize` and
    /// `{issuer}/token`.
    pub fn set_issuer(&mut self, issuer: &str) {
        let base = issuer.trim_end_matches('/');
        self.issuer = issuer.into();
        self.authorization_endpoint = format!("{base}/authorize");
        self.token_endpoint = format!("{base}/token");
        self.extra.set_base(base);
    }

    /// Moves the protected resource to `base` (a URL prefix ending in `/`).
    pub fn set_resource_base(&mut self, base: &str) -> &mut Self {
        self.resource_base = base.into();
        self
    }

    /// Registers a client.
    pub fn register(&mut self, client: RegisteredClient) -> &mut Self {
        self.clients.insert(client.client_id.clone(), client);
        self
    }

    /// Whether refresh rotates the refresh token (default on).
    pub fn set_rotate_refresh_tokens(&mut self, on: bool) -> &mut Self {
        self.rotate_refresh_tokens = on;
        self
    }

    /// Whether authorization responses carry `iss` (default on).
    pub fn set_send_iss(&mut self, on: bool) -> &mut Self {
        self.send_iss = on;
        self
    }

    /// Provider quirks to imitate.
    pub fn set_quirks(&mut self, quirks: ServerQuirks) -> &mut Self {
        self.quirks = quirks;
        self
    }

    /// Authorization code lifetime in seconds (default 60).
    pub fn set_code_ttl(&mut self, secs: u64) -> &mut Self {
        self.code_ttl = secs;
        self
    }

    /// Access token lifetime in seconds (default 3600).
    pub fn set_access_token_ttl(&mut self, secs: u64) -> &mut Self {
        self.access_token_ttl = secs;
        self
    }

    /// Queues a fault for the next token-endpoint exchange (faults are used in order).
    pub fn inject_fault(&mut self, fault: Fault) -> &mut Self {
        self.faults.push_back(fault);
        self
    }

    /// The issuer identifier.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The authorization endpoint URL.
    pub fn authorization_endpoint(&self) -> &str {
        &self.authorization_endpoint
    }

    /// The token endpoint URL.
    pub fn token_endpoint(&self) -> &str {
        &self.token_endpoint
    }

    /// The URL of `path` on the protected resource.
    pub fn resource_url(&self, path: &str) -> String {
        format!("{}{}", self.resource_base, path.trim_start_matches('/'))
    }

    /// The counters.
    pub fn stats(&self) -> ServerStats {
        self.stats
    }

    /// Whether the grant that issued `refresh_token` has been revoked (reuse
    /// detection, code replay). `None` for a token the server never issued.
    pub fn is_grant_revoked(&self, refresh_token: &str) -> Option<bool> {
        self.refresh_tokens
            .get(refresh_token)
            .map(|r| self.grants[r.grant].revoked)
    }

    /// Revokes the grant that issued `refresh_token` (as an administrator would); its
    /// refresh and access tokens stop working. Whether the token was known.
    pub fn revoke_refresh_token_grant(&mut self, refresh_token: &str) -> bool {
        match self.refresh_tokens.get(refresh_token).map(|r| r.grant) {
            Some(grant) => {
                self.revoke_grant(grant);
                true
            }
            None => false,
        }
    }

    /// A registration builder for `client_id`, filled in with this server's endpoints,
    /// issuer, the client's first redirect URI and its authentication method.
    /// `None` for an unknown client.
    pub fn registration(&self, client_id: &str) -> Option<ClientRegistrationBuilder> {
        let c = self.clients.get(client_id)?;
        let auth = match (c.auth_method, &c.secret) {
            (AuthMethod::Basic, Some(s)) => {
                ClientAuth::ClientSecretBasic(ClientSecret::new(s.clone()))
            }
            (AuthMethod::Post, Some(s)) => {
                ClientAuth::ClientSecretPost(ClientSecret::new(s.clone()))
            }
            _ => ClientAuth::None,
        };
        let mut b = ClientRegistration::builder(client_id)
            .auth(auth)
            .authorization_endpoint(self.authorization_endpoint.clone())
            .token_endpoint(self.token_endpoint.clone())
            .issuer(self.issuer.clone())
            .require_issuer_parameter(self.send_iss);
        if let Some(r) = c.redirect_uris.first() {
            b = b.redirect_uri(r.clone());
        }
        Some(self.extra.configure(b))
    }

    // ── authorization endpoint ─────────────────────────────────────────────────

    /// The consent page: the user agent arrives at `url` and the user decides. Returns
    /// the URL the server redirects the user agent to (the client's callback).
    pub fn authorize(
        &mut self,
        url: &Url,
        decision: Decision,
        now: UnixTime,
    ) -> Result<Url, AuthorizeError> {
        let mut base = url.clone();
        base.set_query(None);
        base.set_fragment(None);
        let endpoint = Url::parse(&self.authorization_endpoint)
            .map_err(|_| AuthorizeError::NotTheAuthorizationEndpoint)?;
        if base != endpoint {
            return Err(AuthorizeError::NotTheAuthorizationEndpoint);
        }
        let pairs = parse_form(url.query().unwrap_or("")).map_err(|_| AuthorizeError::Malformed)?;
        let mut params = BTreeMap::new();
        for (k, v) in pairs {
            if params.insert(k, v).is_some() {
                return Err(AuthorizeError::Malformed);
            }
        }
        // RFC 9126 §4: a pushed request stands for all parameters but client_id.
        let params = match self.resolve_pushed(params, now) {
            Ok(p) => p,
            Err(p) => p,
        };
        let client = params
            .get("client_id")
            .and_then(|id| self.clients.get(id))
            .ok_or(AuthorizeError::UnknownClient)?;
        let redirect_uri = params
            .get("redirect_uri")
            .filter(|r| {
                client
                    .redirect_uris
                    .iter()
                    .any(|reg| resource::redirect_matches(reg, r))
            })
            .ok_or(AuthorizeError::RedirectUriNotRegistered)?
            .clone();
        let client_id = client.client_id.clone();
        let state = params.get("state").cloned();

        let error = if params.contains_key("request_uri") {
            Some((
                "invalid_request_uri",
                "unknown, expired or used request_uri",
            ))
        } else if self.extra.require_par && !params.contains_key("__pushed") {
            Some((
                "invalid_request",
                "pushed authorization requests are required",
            ))
        } else if params.get("response_type").map(String::as_str) != Some("code") {
            Some((
                "unsupported_response_type",
                "only response_type=code is supported",
            ))
        } else if params.get("code_challenge_method").map(String::as_str) != Some("S256")
            || params.get("code_challenge").is_none_or(|c| c.len() != 43)
        {
            Some(("invalid_request", "PKCE with S256 is required"))
        } else if params
            .get("resource")
            .is_some_and(|r| *r != self.resource_identifier())
        {
            // RFC 8707 §2: a resource this server does not serve.
            Some(("invalid_target", "unknown resource"))
        } else if decision == Decision::Deny {
            Some(("access_denied", "The user denied the request"))
        } else {
            None
        };

        let mut redirect =
            Url::parse(&redirect_uri).map_err(|_| AuthorizeError::RedirectUriNotRegistered)?;
        {
            let mut q = redirect.query_pairs_mut();
            match error {
                Some((code, description)) => {
                    q.append_pair("error", code);
                    q.append_pair("error_description", description);
                }
                None => {
                    let code = self.rng.token("code_", 24);
                    self.codes.insert(
                        code.clone(),
                        CodeRecord {
                            client_id,
                            redirect_uri: redirect_uri.clone(),
                            challenge: params["code_challenge"].clone(),
                            scope: params.get("scope").cloned().unwrap_or_default(),
                            resource: params.get("resource").cloned(),
                            expires_at: now.saturating_add(self.code_ttl),
                            redeemed: None,
                        },
                    );
                    self.stats.codes_issued += 1;
                    q.append_pair("code", &code);
                }
            }
            if let Some(s) = &state {
                q.append_pair("state", s);
            }
            if self.send_iss {
                q.append_pair("iss", &self.issuer);
            }
        }
        Ok(redirect)
    }

    // ── the back channel ───────────────────────────────────────────────────────

    /// Answers one request to the token endpoint or the protected resource. A
    /// transport fault comes back as `Err`.
    pub fn handle(
        &mut self,
        request: &http::Request<Vec<u8>>,
        now: UnixTime,
    ) -> Result<HttpResponse, TransportFailure> {
        let uri = request.uri().to_string();
        if uri == self.token_endpoint {
            return self.token_exchange(request, now);
        }
        if let Some(response) = self.resource_metadata_route(&uri) {
            return Ok(response);
        }
        if uri.starts_with(&self.resource_base) {
            self.stats.resource_requests += 1;
            return Ok(self.resource(request, now));
        }
        if let Some(response) = self.other_endpoint(&uri, request, now) {
            return Ok(response);
        }
        Ok(plain(
            StatusCode::NOT_FOUND,
            "text/plain",
            b"not found".to_vec(),
        ))
    }

    fn token_exchange(
        &mut self,
        request: &http::Request<Vec<u8>>,
        now: UnixTime,
    ) -> Result<HttpResponse, TransportFailure> {
        let fault = self.faults.pop_front();
        match fault {
            Some(Fault::ConnectionRefused) => {
                return Err(TransportFailure::new(
                    TransportErrorKind::Connect,
                    "connection refused",
                ));
            }
            Some(Fault::InternalError) => {
                return Ok(plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/html",
                    b"<html><body><h1>500 Internal Server Error</h1></body></html>".to_vec(),
                ));
            }
            Some(Fault::ServiceUnavailable { retry_after }) => {
                let mut r = plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "text/plain",
                    b"Service Unavailable".to_vec(),
                );
                r.headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(retry_after));
                return Ok(r);
            }
            Some(Fault::GarbageBody) => {
                return Ok(plain(
                    StatusCode::OK,
                    "application/json",
                    vec![0xff, 0xfe, b'{', 0x00, 0x9c, b'"'],
                ));
            }
            Some(Fault::OversizedBody(n)) => {
                let mut body = br#"{"access_token":"x","token_type":"Bearer","pad":""#.to_vec();
                body.resize(n.saturating_sub(2).max(body.len()), b'a');
                body.extend_from_slice(b"\"}");
                return Ok(plain(StatusCode::OK, "application/json", body));
            }
            Some(Fault::TruncatedBody | Fault::ResponseLost) | None => {}
        }
        self.stats.token_requests += 1;
        let mut response = self.token_endpoint_response(request, now);
        match fault {
            Some(Fault::TruncatedBody) => {
                let half = response.body().len() / 2;
                response.body_mut().truncate(half);
                Ok(response)
            }
            Some(Fault::ResponseLost) => Err(TransportFailure::new(
                TransportErrorKind::ConnectionClosed,
                "connection reset by peer",
            )),
            _ => Ok(response),
        }
    }

    fn token_endpoint_response(
        &mut self,
        request: &http::Request<Vec<u8>>,
        now: UnixTime,
    ) -> HttpResponse {
        if request.method() != Method::POST {
            return self.error(
                StatusCode::METHOD_NOT_ALLOWED,
                "invalid_request",
                "use POST",
                false,
            );
        }
        let form_ct = request
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !form_ct {
            return self.error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "form body required",
                false,
            );
        }
        let Some(form) = std::str::from_utf8(request.body())
            .ok()
            .and_then(|b| parse_form(b).ok())
        else {
            return self.error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "unreadable body",
                false,
            );
        };
        let mut params: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in form {
            // RFC 8707 §2: `resource` may be repeated; it is joined with spaces here.
            if k == "resource" {
                let joined = match params.get("resource") {
                    Some(prev) => format!("{prev} {v}"),
                    None => v,
                };
                params.insert(k, joined);
                continue;
            }
            if params.insert(k, v).is_some() {
                return self.error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "repeated parameter",
                    false,
                );
            }
        }
        let client_id = match self.authenticate_client(request, &params) {
            Ok(id) => id,
            Err(r) => return *r,
        };
        match params.get("grant_type").map(String::as_str) {
            Some("authorization_code") => self.redeem_code(&client_id, &params, now),
            Some("refresh_token") => self.refresh(&client_id, &params, now),
            Some(oauth_core::DEVICE_CODE_GRANT) => self.device_poll(&client_id, &params, now),
            Some("client_credentials") => self.client_credentials(&client_id, &params, now),
            _ => self.error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "grant type not supported",
                false,
            ),
        }
    }

    /// RFC 6749 §2.3: exactly one method, the registered one.
    pub(super) fn authenticate_client(
        &self,
        request: &http::Request<Vec<u8>>,
        params: &BTreeMap<String, String>,
    ) -> Result<String, Box<HttpResponse>> {
        let basic = match request.headers().get(AUTHORIZATION) {
            None => None,
            Some(v) => match decode_basic(v) {
                Some(pair) => Some(pair),
                None => {
                    return Err(Box::new(self.error(
                        StatusCode::UNAUTHORIZED,
                        "invalid_client",
                        "bad Authorization header",
                        true,
                    )));
                }
            },
        };
        let body_secret = params.get("client_secret");
        let (id, secret, method) = match (basic, body_secret) {
            (Some(_), Some(_)) => {
                return Err(Box::new(self.error(
                    StatusCode::BAD_REQUEST,
                    "invalid_request",
                    "more than one client authentication method",
                    false,
                )));
            }
            (Some((id, secret)), None) => {
                if params.get("client_id").is_some_and(|c| *c != id) {
                    return Err(Box::new(self.error(
                        StatusCode::BAD_REQUEST,
                        "invalid_request",
                        "client_id mismatch",
                        false,
                    )));
                }
                (id, Some(secret), AuthMethod::Basic)
            }
            (None, Some(secret)) => match params.get("client_id") {
                Some(id) => (id.clone(), Some(secret.clone()), AuthMethod::Post),
                None => {
                    return Err(Box::new(self.error(
                        StatusCode::UNAUTHORIZED,
                        "invalid_client",
                        "client_id missing",
                        false,
                    )));
                }
            },
            (None, None) => match params.get("client_id") {
                Some(id) => (id.clone(), None, AuthMethod::None),
                None => {
                    return Err(Box::new(self.error(
                        StatusCode::UNAUTHORIZED,
                        "invalid_client",
                        "client authentication required",
                        false,
                    )));
                }
            },
        };
        let used_basic = method == AuthMethod::Basic;
        let Some(client) = self.clients.get(&id) else {
            return Err(Box::new(self.error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "unknown client",
                used_basic,
            )));
        };
        if client.auth_method != method || client.secret != secret {
            return Err(Box::new(self.error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client authentication failed",
                used_basic,
            )));
        }
        Ok(id)
    }

    fn redeem_code(
        &mut self,
        client_id: &str,
        params: &BTreeMap<String, String>,
        now: UnixTime,
    ) -> HttpResponse {
        let invalid =
            |s: &Self, why: &str| s.error(StatusCode::BAD_REQUEST, "invalid_grant", why, false);
        let Some(code) = params.get("code") else {
            return self.error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "code missing",
                false,
            );
        };
        let Some(record) = self.codes.get(code) else {
            return invalid(self, "unknown code");
        };
        // RFC 6749 §4.1.2: a code used twice is refused, and what it produced revoked.
        if let Some(grant) = record.redeemed {
            self.stats.code_replays += 1;
            self.revoke_grant(grant);
            return invalid(self, "code already used");
        }
        if now > record.expires_at {
            return invalid(self, "code expired");
        }
        if record.client_id != client_id {
            return invalid(self, "code issued to another client");
        }
        if params.get("redirect_uri") != Some(&record.redirect_uri) {
            return invalid(self, "redirect_uri mismatch");
        }
        // RFC 7636 §4.6; a failed verifier does not consume the code (as oidc-provider).
        match params.get("code_verifier") {
            Some(v)
                if oauth_core::is_valid_verifier(v) && challenge_s256(v) == record.challenge => {}
            _ => return invalid(self, "PKCE verification failed"),
        }
        // RFC 8707 §2.2: the token request may name the resource of the authorization
        // request, or none (then the tokens are for that one).
        let resource = match (params.get("resource"), &record.resource) {
            (Some(asked), Some(granted)) if asked != granted => {
                return self.error(
                    StatusCode::BAD_REQUEST,
                    "invalid_target",
                    "resource not in the grant",
                    false,
                );
            }
            (asked, granted) => granted.clone().or_else(|| asked.cloned()),
        };
        if let Some(r) = self.target_error(resource.as_ref()) {
            return r;
        }
        let scope = record.scope.clone();
        self.grants.push(Grant {
            client_id: client_id.to_owned(),
            scope: scope.clone(),
            resource,
            revoked: false,
        });
        let grant = self.grants.len() - 1;
        if let Some(r) = self.codes.get_mut(code) {
            r.redeemed = Some(grant);
        }
        let refresh = self.new_refresh_token(grant);
        self.token_success(grant, Some(refresh), &scope, now)
    }

    fn refresh(
        &mut self,
        client_id: &str,
        params: &BTreeMap<String, String>,
        now: UnixTime,
    ) -> HttpResponse {
        let Some(token) = params.get("refresh_token") else {
            return self.error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "refresh_token missing",
                false,
            );
        };
        let Some(record) = self.refresh_tokens.get(token) else {
            return self.error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "unknown refresh token",
                false,
            );
        };
        let grant = record.grant;
        let current = record.current;
        if self.grants[grant].revoked {
            return self.error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "grant revoked",
                false,
            );
        }
        if !current {
            // RFC 9700 §4.14.2: a rotated-out token presented again means it leaked;
            // revoke the whole grant.
            self.stats.refresh_reuse_detected += 1;
            self.revoke_grant(grant);
            return self.error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "refresh token reuse detected",
                false,
            );
        }
        if self.grants[grant].client_id != client_id {
            return self.error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "token issued to another client",
                false,
            );
        }
        if let (Some(asked), Some(granted)) = (params.get("resource"), &self.grants[grant].resource)
            && asked != granted
        {
            return self.error(
                StatusCode::BAD_REQUEST,
                "invalid_target",
                "resource not in the grant",
                false,
            );
        }
        let granted = self.grants[grant].scope.clone();
        let scope = match params.get("scope") {
            Some(asked) => {
                let ok = asked
                    .split(' ')
                    .filter(|t| !t.is_empty())
                    .all(|t| granted.split(' ').any(|g| g == t));
                if !ok {
                    return self.error(
                        StatusCode::BAD_REQUEST,
                        "invalid_scope",
                        "scope exceeds the grant",
                        false,
                    );
                }
                asked.clone()
            }
            None => granted,
        };
        let new_refresh = if self.rotate_refresh_tokens {
            if let Some(r) = self.refresh_tokens.get_mut(token) {
                r.current = false;
            }
            Some(self.new_refresh_token(grant))
        } else {
            None
        };
        self.token_success(grant, new_refresh, &scope, now)
    }

    fn new_refresh_token(&mut self, grant: usize) -> String {
        let t = self.rng.token("rt_", 24);
        self.refresh_tokens.insert(
            t.clone(),
            RefreshRecord {
                grant,
                current: true,
            },
        );
        t
    }

    pub(super) fn revoke_grant(&mut self, grant: usize) {
        self.grants[grant].revoked = true;
        for r in self
            .refresh_tokens
            .values_mut()
            .filter(|r| r.grant == grant)
        {
            r.current = false;
        }
        self.access_tokens.retain(|_, a| a.grant != grant);
    }

    pub(super) fn token_success(
        &mut self,
        grant: usize,
        refresh: Option<String>,
        scope: &str,
        now: UnixTime,
    ) -> HttpResponse {
        let access = self.rng.token("at_", 24);
        self.access_tokens.insert(
            access.clone(),
            AccessRecord {
                grant,
                expires_at: now.saturating_add(self.access_token_ttl),
            },
        );
        let token_type = if self.quirks.lowercase_bearer {
            "bearer"
        } else {
            "Bearer"
        };
        let ttl = self.access_token_ttl.to_string();
        let mut fields: Vec<(&str, serde_json::Value)> = vec![
            ("access_token", access.clone().into()),
            ("token_type", token_type.into()),
            (
                "expires_in",
                if self.quirks.expires_in_as_string {
                    ttl.clone().into()
                } else {
                    self.access_token_ttl.into()
                },
            ),
        ];
        if let Some(r) = refresh {
            fields.push(("refresh_token", r.into()));
        }
        if !scope.is_empty() {
            fields.push(("scope", scope.into()));
        }
        self.body(StatusCode::OK, fields)
    }

    /// An RFC 6749 §5.2 error, shaped by the quirks.
    pub(super) fn error(
        &self,
        status: StatusCode,
        code: &str,
        description: &str,
        basic_challenge: bool,
    ) -> HttpResponse {
        let status = if self.quirks.errors_with_status_200 {
            StatusCode::OK
        } else {
            status
        };
        let mut r = self.body(
            status,
            vec![
                ("error", code.into()),
                ("error_description", description.into()),
            ],
        );
        if basic_challenge && status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"fake\""),
            );
        }
        r
    }

    pub(super) fn body(
        &self,
        status: StatusCode,
        fields: Vec<(&str, serde_json::Value)>,
    ) -> HttpResponse {
        if self.quirks.form_encoded_responses {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in &fields {
                match v {
                    serde_json::Value::String(s) => form.append_pair(k, s),
                    other => form.append_pair(k, &other.to_string()),
                };
            }
            return plain(
                status,
                "application/x-www-form-urlencoded",
                form.finish().into_bytes(),
            );
        }
        let map: serde_json::Map<String, serde_json::Value> =
            fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        plain(
            status,
            "application/json; charset=utf-8",
            serde_json::Value::Object(map).to_string().into_bytes(),
        )
    }

    // ── protected resource ─────────────────────────────────────────────────────

    fn resource(&self, request: &http::Request<Vec<u8>>, now: UnixTime) -> HttpResponse {
        let announce = self.resource_metadata_param().unwrap_or_default();
        let challenge = |error: Option<(&str, &str)>| {
            let value = match error {
                Some((code, desc)) => format!(
                    "Bearer realm=\"fake\", error=\"{code}\", error_description=\"{desc}\"{announce}"
                ),
                None => format!("Bearer realm=\"fake\"{announce}"),
            };
            let mut r = plain(
                StatusCode::UNAUTHORIZED,
                "application/json",
                br#"{"error":"unauthorized"}"#.to_vec(),
            );
            if let Ok(v) = HeaderValue::try_from(value) {
                r.headers_mut().insert(WWW_AUTHENTICATE, v);
            }
            r
        };
        let Some(auth) = request
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return challenge(None);
        };
        // RFC 6750 §2.1 uses "Bearer"; schemes are case-insensitive (RFC 9110 §11.1).
        let token = match auth.split_once(' ') {
            Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
            _ => return challenge(Some(("invalid_request", "Bearer scheme required"))),
        };
        let Some(record) = self.access_tokens.get(token) else {
            return challenge(Some(("invalid_token", "The access token is invalid")));
        };
        if now >= record.expires_at {
            return challenge(Some(("invalid_token", "The access token expired")));
        }
        let grant = &self.grants[record.grant];
        // RFC 8707 §2: a token restricted to another audience is not for this resource.
        let identifier = self.resource_identifier();
        if grant
            .resource
            .as_ref()
            .is_some_and(|r| !r.split(' ').any(|one| one == identifier))
        {
            return challenge(Some((
                "invalid_token",
                "The access token is for another resource",
            )));
        }
        let body = serde_json::json!({
            "client_id": grant.client_id,
            "scope": grant.scope,
            "audience": grant.resource,
            "path": request.uri().path(),
            "method": request.method().as_str(),
        });
        plain(
            StatusCode::OK,
            "application/json",
            body.to_string().into_bytes(),
        )
    }
}

pub(super) fn plain(status: StatusCode, content_type: &'static str, body: Vec<u8>) -> HttpResponse {
    let mut r = http::Response::new(body);
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// Decodes `Basic base64(urlencode(id):urlencode(secret))` as RFC 6749 §2.3.1 says a
/// server must.
fn decode_basic(v: &HeaderValue) -> Option<(String, String)> {
    let v = v.to_str().ok()?;
    let (scheme, b64) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let raw = String::from_utf8(raw).ok()?;
    let (id, secret) = raw.split_once(':')?;
    let decode = |s: &str| parse_form(&format!("x={s}")).ok()?.pop().map(|(_, v)| v);
    Some((decode(id)?, decode(secret)?))
}
