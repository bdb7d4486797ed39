//! The driver benchmarks' setting: the testkit's fake authorization server and
//! protected resource on loopback, a headless "browser" step shared by both sides, our
//! driver (`oauth-ureq`), and a hand-written minimal sequence of raw ureq calls making
//! the same HTTP requests.
//!
//! Both sides send exactly three requests per login-and-call: `GET /authorize` (the
//! browser's visit, answered with a redirect to the callback), `POST /token`, and
//! `GET /api/me` with the bearer token. The server closes every connection after its
//! answer, so both sides pay one TCP connection per request.

use oauth_core::{
    AuthorizationCodeFlow, AuthorizationParams, ClientRegistration, Scope, TokenSet, UnixTime,
};
use oauth_testkit::{FakeAuthorizationServer, HttpServer, RegisteredClient};
use oauth_ureq::{
    AuthorizedClient, CallbackSource, MemoryStore, Transport, TransportConfig, call_api, run,
    system_rng,
};
use std::io;
use std::sync::Arc;
use url::Url;

/// The client registered at the fake server.
pub const CLIENT_ID: &str = "bench-app";
/// Its redirect URI. Nothing listens there: the browser step reads the redirect.
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/cb";
/// The scope asked for.
pub const SCOPE: &str = "profile api:read";

/// The agent configuration for loopback: statuses as responses, no redirects, no
/// proxy.
fn config() -> ureq::config::Config {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .proxy(None)
        .build()
}

/// The raw side's agent (and the browser's): ureq as it comes, with [`config`].
pub fn agent() -> ureq::Agent {
    config().new_agent()
}

/// Our transport's agent: the same configuration, with the resolver `Transport::new`
/// uses (IP addresses without a lookup thread).
pub fn ours_agent() -> ureq::Agent {
    ureq::Agent::with_parts(
        config(),
        ureq::unversioned::transport::DefaultConnector::new(),
        oauth_ureq::IpLiteralResolver::default(),
    )
}

/// A raw agent with our transport's timeouts (connect 10 s, whole call 30 s) and
/// resolver: what the driver's timeouts cost, apart from the driver.
pub fn timed_agent() -> ureq::Agent {
    let defaults = TransportConfig::default();
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .max_redirects_will_error(false)
        .proxy(None)
        .timeout_connect(defaults.connect_timeout)
        .timeout_per_call(defaults.call_timeout)
        .build();
    ureq::Agent::with_parts(
        config,
        ureq::unversioned::transport::DefaultConnector::new(),
        oauth_ureq::IpLiteralResolver::default(),
    )
}

/// The user's browser at the authorization endpoint: `GET url` (the fake server
/// approves at once) and return where it redirects to — the callback.
pub fn browser_visit(agent: &ureq::Agent, url: &str) -> io::Result<Url> {
    let response = agent.get(url).call().map_err(io::Error::other)?;
    let location = response
        .headers()
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| io::Error::other("the authorization endpoint did not redirect"))?;
    Url::parse(location).map_err(io::Error::other)
}

/// The browser step as our driver's [`CallbackSource`].
#[derive(Debug)]
pub struct HeadlessBrowser {
    agent: ureq::Agent,
    callback: Option<Url>,
}

impl HeadlessBrowser {
    /// A browser using `agent`.
    pub fn new(agent: ureq::Agent) -> Self {
        HeadlessBrowser {
            agent,
            callback: None,
        }
    }
}

impl CallbackSource for HeadlessBrowser {
    fn visit(&mut self, url: &oauth_core::AuthorizationUrl) -> io::Result<()> {
        self.callback = Some(browser_visit(&self.agent, url.as_str())?);
        Ok(())
    }

    fn wait(
        &mut self,
        _deadline: UnixTime,
        accepts: &mut dyn FnMut(&Url) -> bool,
    ) -> io::Result<Option<Url>> {
        Ok(self.callback.take().filter(|u| accepts(u)))
    }
}

/// The fake server on loopback with the benchmark's client registered, and both
/// sides' means of talking to it.
pub struct Loopback {
    /// The server (stops when dropped).
    pub server: HttpServer,
    /// Our registration for [`CLIENT_ID`].
    pub client: ClientRegistration,
    /// Our transport, over [`agent`].
    pub transport: Transport,
    /// The raw side's agent (and the browser's).
    pub agent: ureq::Agent,
    /// The raw side's agent with our timeouts ([`timed_agent`]).
    pub timed: ureq::Agent,
    /// `…/api/me` on the server.
    pub api_url: String,
    raw: RawClient,
}

impl std::fmt::Debug for Loopback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loopback")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

/// The raw side's precomputed request parts (a minimal client computes them once).
#[derive(Debug)]
struct RawClient {
    authorize_url: String,
    token_url: String,
    verifier: String,
}

impl Loopback {
    /// Starts the server (access tokens valid for a day) and registers the client.
    pub fn start() -> io::Result<Self> {
        let mut fake = FakeAuthorizationServer::new(0xbe9c);
        fake.set_access_token_ttl(86_400);
        fake.register(RegisteredClient::public(CLIENT_ID, REDIRECT_URI));
        let server = HttpServer::start(fake)?;
        let client = server
            .registration(CLIENT_ID)
            .ok_or_else(|| io::Error::other("registered above"))?
            .build()
            .map_err(io::Error::other)?;
        let agent = agent();
        let transport = Transport::with_agent(ours_agent(), TransportConfig::default());
        let api_url = server.resource_url("me");

        // The raw side: fixed state and verifier, the challenge computed once.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".to_owned();
        let challenge = oauth_core::challenge_s256(&verifier);
        let mut authorize =
            Url::parse(&format!("{}/authorize", server.issuer())).map_err(io::Error::other)?;
        authorize
            .query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", CLIENT_ID)
            .append_pair("redirect_uri", REDIRECT_URI)
            .append_pair("scope", SCOPE)
            .append_pair("state", "raw-state-raw-state-raw-state-raw-state-raw")
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        let raw = RawClient {
            authorize_url: authorize.into(),
            token_url: format!("{}/token", server.issuer()),
            verifier,
        };
        Ok(Loopback {
            server,
            client,
            transport,
            agent,
            timed: timed_agent(),
            api_url,
            raw,
        })
    }

    /// Ours: a login through `oauth_ureq::run` (fresh `state` and verifier from the OS,
    /// every check of the core) and one API call with `call_api`. The API's status.
    pub fn ours_login_and_call(&self) -> u16 {
        let tokens = self.ours_login();
        let request = http::Request::get(self.api_url.as_str())
            .body(Vec::new())
            .expect("a valid request");
        let response = call_api(&self.transport, request, &tokens).expect("the API answers");
        response.status().as_u16()
    }

    /// Ours: a login through `oauth_ureq::run`.
    pub fn ours_login(&self) -> TokenSet {
        let scope = Scope::parse(SCOPE).expect("a valid scope");
        let params = AuthorizationParams::new().scope(scope);
        let mut flow = AuthorizationCodeFlow::start(
            &self.client,
            params,
            &mut system_rng(),
            oauth_ureq::now(),
        )
        .expect("the flow starts");
        let mut browser = HeadlessBrowser::new(self.agent.clone());
        run(&mut flow, &self.transport, Some(&mut browser)).expect("the login succeeds")
    }

    /// Raw: the same three requests with ureq alone — the browser step, the token
    /// request as a form, the access token taken from the JSON, the API call with it.
    /// No check of any kind. The API's status.
    pub fn raw_login_and_call(&self, agent: &ureq::Agent) -> u16 {
        let callback = browser_visit(&self.agent, &self.raw.authorize_url).expect("redirected");
        let code = callback
            .query_pairs()
            .find(|(k, _)| k == "code")
            .map(|(_, v)| v.into_owned())
            .expect("a code");
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "authorization_code")
            .append_pair("code", &code)
            .append_pair("redirect_uri", REDIRECT_URI)
            .append_pair("code_verifier", &self.raw.verifier)
            .append_pair("client_id", CLIENT_ID)
            .finish();
        let mut response = agent
            .post(&self.raw.token_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .send(form)
            .expect("the token endpoint answers");
        let body = response.body_mut().read_to_vec().expect("a body");
        let json: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
        let token = json["access_token"].as_str().expect("an access token");
        self.raw_call(agent, &format!("Bearer {token}"))
    }

    /// Raw: one API call with a fixed `Authorization` value. The API's status.
    pub fn raw_call(&self, agent: &ureq::Agent, authorization: &str) -> u16 {
        let mut response = agent
            .get(&self.api_url)
            .header("authorization", authorization)
            .call()
            .expect("the API answers");
        let _body = response.body_mut().read_to_vec().expect("a body");
        response.status().as_u16()
    }

    /// Ours: the shared client for `tokens` (an in-memory store).
    pub fn authorized_client(&self, tokens: TokenSet) -> AuthorizedClient {
        AuthorizedClient::new(
            &self.client,
            tokens,
            self.transport.clone(),
            Arc::new(MemoryStore::new()),
        )
    }

    /// Ours: one API call through the shared client. The API's status.
    pub fn ours_call(&self, api: &AuthorizedClient) -> u16 {
        let request = http::Request::get(self.api_url.as_str())
            .body(Vec::new())
            .expect("a valid request");
        api.call(request)
            .expect("the API answers")
            .status()
            .as_u16()
    }
}
