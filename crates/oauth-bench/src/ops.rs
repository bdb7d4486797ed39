//! Each measured operation of ours, as one function over the payloads, so that the
//! criterion benchmarks and the allocation counts measure the very same code.

use crate::payloads;
use oauth_core::parse::{self, Challenge, ParseOptions};
use oauth_core::{
    ApiCall, AuthorizationCodeFlow, AuthorizationParams, AuthorizationUrl, CallInput,
    ClientRegistration, DeviceFlow, ErrorResponse, Flow, HttpRequest, HttpResponse, Input, Output,
    RefreshFlow, Scope, Session, Step, TokenResponse, TokenSet, UnixTime,
};
use rand_core::{CryptoRng, TryCryptoRng, TryRng};
use std::convert::Infallible;
use url::Url;

/// The time every operation runs at.
pub const NOW: UnixTime = UnixTime::from_secs(1_700_000_000);

/// A "random" source that is not random at all: each draw is a fixed pattern (the
/// first draw of a flow is its `state`, the second its PKCE verifier), so that a flow
/// started with a fresh `FixedRng` always has the same `state` and verifier — the
/// "fixed state/verifier" case, which measures the core without the cost of a CSPRNG.
/// For benchmarks only.
#[derive(Clone, Debug, Default)]
pub struct FixedRng {
    draws: u8,
}

impl FixedRng {
    /// A source whose next draw is the first pattern.
    pub fn new() -> Self {
        FixedRng::default()
    }
}

impl TryRng for FixedRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(u32::from(self.draws).wrapping_mul(0x9e37_79b9))
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(u64::from(self.draws).wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        let seed = self.draws.wrapping_mul(101).wrapping_add(7);
        for (i, b) in dst.iter_mut().enumerate() {
            *b = seed.wrapping_add((i as u8).wrapping_mul(37));
        }
        self.draws = self.draws.wrapping_add(1);
        Ok(())
    }
}

impl TryCryptoRng for FixedRng {}

/// The public client of the payloads: authorization, token and device endpoints, the
/// redirect URI and the issuer (so the callback's `iss` is checked).
pub fn client() -> ClientRegistration {
    let p = payloads();
    ClientRegistration::builder(p.client_id.as_str())
        .authorization_endpoint(p.authorization_endpoint.as_str())
        .token_endpoint(p.token_endpoint.as_str())
        .device_authorization_endpoint(p.device_authorization_endpoint.as_str())
        .redirect_uri(p.redirect_uri.as_str())
        .issuer(p.issuer.as_str())
        .build()
        .expect("the payloads make a valid registration")
}

/// A JSON response as a token endpoint sends it.
pub fn json_response(status: u16, body: &str) -> HttpResponse {
    http::Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::CACHE_CONTROL, "no-store")
        .body(body.as_bytes().to_vec())
        .expect("a valid response")
}

/// The `state` and PKCE verifier a flow started with a fresh [`FixedRng`] draws.
pub fn fixed_secrets() -> (String, String) {
    let url = authorization_url(&client(), &mut FixedRng::new());
    let state = url.query_param("state").expect("the URL has a state");
    // The verifier never leaves the flow but in the token request: read it there.
    let mut flow = started_flow(&client(), &mut FixedRng::new());
    let callback = Url::parse(&callback_text(&state)).expect("a valid callback");
    let request = callback_to_token_request(&mut flow, callback);
    let form: Vec<(String, String)> = url::form_urlencoded::parse(request.body())
        .into_owned()
        .collect();
    let verifier = form
        .into_iter()
        .find(|(k, _)| k == "code_verifier")
        .map(|(_, v)| v)
        .expect("the token request has a verifier");
    (state, verifier)
}

/// The redirect the browser delivers for `state`: the payloads' code, `state`, and the
/// issuer's `iss` (RFC 9207).
pub fn callback_text(state: &str) -> String {
    let p = payloads();
    let mut url = Url::parse(&p.redirect_uri).expect("a valid redirect URI");
    url.query_pairs_mut()
        .append_pair("code", &p.code)
        .append_pair("state", state)
        .append_pair("iss", &p.issuer);
    url.into()
}

/// Authorization URL: start a flow (draws `state` and verifier, computes the
/// challenge, builds the URL) and take the URL it asks the driver to visit.
pub fn authorization_url<R: CryptoRng + ?Sized>(
    client: &ClientRegistration,
    rng: &mut R,
) -> AuthorizationUrl {
    let mut flow = start(client, rng);
    match flow.poll() {
        Output::Visit(url) => url,
        other => unreachable!("a started flow visits first, not {other:?}"),
    }
}

fn start<R: CryptoRng + ?Sized>(client: &ClientRegistration, rng: &mut R) -> AuthorizationCodeFlow {
    let scope = Scope::parse(&payloads().scope).expect("a valid scope");
    let params = AuthorizationParams::new().scope(scope);
    AuthorizationCodeFlow::start(client, params, rng, NOW).expect("the flow starts")
}

/// A flow that has shown its URL and waits for the callback.
pub fn started_flow<R: CryptoRng + ?Sized>(
    client: &ClientRegistration,
    rng: &mut R,
) -> AuthorizationCodeFlow {
    let mut flow = start(client, rng);
    let Output::Visit(_) = flow.poll() else {
        unreachable!("a started flow visits first")
    };
    let Output::AwaitCallback { .. } = flow.poll() else {
        unreachable!("then it waits for the callback")
    };
    flow
}

/// Token request build: the callback is checked (redirect URI, `state`, `iss`, …) and
/// the flow hands out its token request.
pub fn callback_to_token_request(flow: &mut AuthorizationCodeFlow, callback: Url) -> HttpRequest {
    flow.handle(Input::Callback(callback), NOW);
    match flow.poll() {
        Output::Send(request) => request,
        other => unreachable!("a valid callback leads to the token request, not {other:?}"),
    }
}

/// One full code exchange in the core, from `start` to the token set: URL, callback
/// (the redirect the browser delivered, as the driver parsed it), token request, and
/// `response` as the token endpoint's answer.
pub fn full_exchange<R: CryptoRng + ?Sized>(
    client: &ClientRegistration,
    rng: &mut R,
    callback: Url,
    response: HttpResponse,
) -> TokenSet {
    let mut flow = started_flow(client, rng);
    let _request = callback_to_token_request(&mut flow, callback);
    flow.handle(Input::Response(response), NOW);
    match flow.poll() {
        Output::Done(Ok(tokens)) => tokens,
        other => panic!("the exchange ends with tokens, not {other:?}"),
    }
}

/// Token response parse.
pub fn parse_token_response(response: &HttpResponse) -> TokenResponse {
    parse::token_response(response, NOW, &ParseOptions::default()).expect("a valid response")
}

/// Error response parse.
pub fn parse_error_response(response: &HttpResponse) -> ErrorResponse {
    parse::error_response(response, NOW, &ParseOptions::default()).expect("a valid error")
}

/// A 401 from the resource with the payloads' `WWW-Authenticate`.
pub fn challenge_response() -> HttpResponse {
    http::Response::builder()
        .status(401)
        .header(
            http::header::WWW_AUTHENTICATE,
            payloads().www_authenticate.as_str(),
        )
        .body(Vec::new())
        .expect("a valid response")
}

/// `WWW-Authenticate` parse.
pub fn parse_www_authenticate(response: &HttpResponse) -> Vec<Challenge> {
    parse::www_authenticate(response.headers()).expect("a valid challenge")
}

/// A device flow that is polling: the user code was shown, and each [`step`](Self::step)
/// is one poll answered `authorization_pending`.
#[derive(Debug)]
pub struct DevicePoller {
    flow: DeviceFlow,
    now: UnixTime,
}

impl DevicePoller {
    /// How many steps one flow can take before its code expires (the payloads' code
    /// lives 1800 s and is polled every 5 s), with a margin.
    pub const STEPS: u64 = 300;

    /// Runs the device authorization request and shows the code.
    pub fn new(client: &ClientRegistration) -> Self {
        let scope = Scope::parse(&payloads().scope).expect("a valid scope");
        let mut flow = DeviceFlow::start(client, scope).expect("the device flow starts");
        let Output::Send(_) = flow.poll() else {
            unreachable!("the device flow asks for a code first")
        };
        let body = &payloads().device_authorization_response;
        flow.handle(Input::Response(json_response(200, body)), NOW);
        let Output::ShowUserCode(_) = flow.poll() else {
            unreachable!("then it shows the code")
        };
        let Output::WaitUntil(now) = flow.poll() else {
            unreachable!("then it waits for the interval")
        };
        DevicePoller { flow, now }
    }

    /// One poll step: time is up, the flow sends its poll, the server answers
    /// `authorization_pending` (`pending`), the flow says when to poll again.
    /// Each step runs at the time the previous one asked for; after [`Self::STEPS`]
    /// steps, start a new poller.
    pub fn step(&mut self, pending: HttpResponse) -> HttpRequest {
        self.flow.handle(Input::Tick, self.now);
        let Output::Send(request) = self.flow.poll() else {
            unreachable!("the interval passed: the flow polls")
        };
        self.flow.handle(Input::Response(pending), self.now);
        match self.flow.poll() {
            Output::WaitUntil(t) => self.now = t,
            other => panic!("authorization_pending means wait, not {other:?}"),
        }
        request
    }
}

/// A session holding the payloads' typical token set, valid for an hour from [`NOW`].
pub fn session() -> Session {
    Session::new(&client(), refreshable_tokens())
}

/// An API request to the payloads' resource.
pub fn api_request() -> http::Request<Vec<u8>> {
    http::Request::get(payloads().api_url.as_str())
        .body(Vec::new())
        .expect("a valid request")
}

/// API-session decision: one call through the session with a valid token — the
/// session decides the token is usable and attaches it (`Send`), the resource answers
/// (`response`), the call is done.
pub fn api_call(
    session: &mut Session,
    request: http::Request<Vec<u8>>,
    response: HttpResponse,
) -> HttpResponse {
    let mut call = ApiCall::new(request);
    let Step::Send(_sent) = call.handle(session, CallInput::Begin, NOW) else {
        unreachable!("a valid token is used at once")
    };
    match call.handle(session, CallInput::Response(response), NOW) {
        Step::Done(Ok(response)) => response,
        other => panic!("a 200 ends the call, not {other:?}"),
    }
}

/// The payloads' typical token response as a token set received at [`NOW`], with its
/// refresh token.
pub fn refreshable_tokens() -> TokenSet {
    let response = json_response(200, &payloads().token_response_typical);
    let tokens =
        parse::token_response(&response, NOW, &ParseOptions::default()).expect("a valid response");
    TokenSet::from_response(tokens, None, NOW)
}

/// Token request build, without a callback: a refresh flow starts and hands out its
/// `refresh_token` grant request.
pub fn refresh_request(client: &ClientRegistration, tokens: &TokenSet) -> HttpRequest {
    let mut flow = RefreshFlow::start(client, tokens, None).expect("the refresh starts");
    match flow.poll() {
        Output::Send(request) => request,
        other => unreachable!("a refresh sends its request first, not {other:?}"),
    }
}
