//! Unit tests for [`super::AuthorizationCodeFlow`], driven only through the [`Flow`]
//! trait: checklist sections 1 (AUTHZ-*), 3 (RESP-*) and 5 (TOK-*).

use super::{AuthorizationCodeFlow, AuthorizationParams};
use crate::client::{ClientAuth, ClientRegistration, ClientRegistrationBuilder};
use crate::error::{
    ConfigError, Error, ErrorCode, InputKind, TransportErrorKind, TransportFailure, Violation,
};
use crate::flow::test_support::{expect_done, expect_send, json, transport_failure};
use crate::io::{Flow, HttpRequest, HttpResponse, Input, Output};
use crate::pkce::challenge_s256;
use crate::request::basic_authorization;
use crate::scope::Scope;
use crate::secret::{ClientSecret, RefreshToken};
use crate::time::UnixTime;
use crate::token::{TokenSet, TokenType};
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{Method, StatusCode};
use url::Url;

const NOW: UnixTime = UnixTime::from_secs(1_700_000_000);
const DEADLINE: UnixTime = UnixTime::from_secs(1_700_000_600);
const CODE: &str = "SplxlOBeZQQYbYS6WxSbIA";
const REDIRECT: &str = "http://127.0.0.1:8080/cb";

/// A deterministic stand-in for a CSPRNG (SplitMix64). Never use outside tests.
struct TestRng(u64);

impl TestRng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

impl rand_core::TryRng for TestRng {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok((self.next() >> 32) as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.next())
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.next().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
        Ok(())
    }
}

impl rand_core::TryCryptoRng for TestRng {}

// ── helpers ─────────────────────────────────────────────────────────────────────

fn builder() -> ClientRegistrationBuilder {
    ClientRegistration::builder("client")
        .authorization_endpoint("https://as.example/authorize?tenant=a%20b")
        .token_endpoint("https://as.example/token")
        .redirect_uri(REDIRECT)
        .issuer("https://as.example")
}

fn client() -> ClientRegistration {
    builder().build().unwrap()
}

fn read_write() -> AuthorizationParams {
    AuthorizationParams::new().scope(Scope::parse("read write").unwrap())
}

fn start_with(client: &ClientRegistration, params: AuthorizationParams) -> AuthorizationCodeFlow {
    AuthorizationCodeFlow::start(client, params, &mut TestRng(42), NOW).unwrap()
}

fn start() -> AuthorizationCodeFlow {
    start_with(&client(), read_write())
}

fn pairs(query: &str) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

fn get<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    let found: Vec<_> = pairs.iter().filter(|(k, _)| k == name).collect();
    assert_eq!(found.len(), 1, "{name} in {pairs:?}");
    &found[0].1
}

fn expect_visit(flow: &mut AuthorizationCodeFlow) -> Url {
    match flow.poll() {
        // The text the flow built is exactly what a URL parser makes of it.
        Output::Visit(url) => {
            let parsed = url.to_url();
            assert_eq!(parsed.as_str(), url.as_str());
            parsed
        }
        other => panic!("expected Visit, got {other:?}"),
    }
}

fn expect_await_callback(flow: &mut AuthorizationCodeFlow) -> UnixTime {
    match flow.poll() {
        Output::AwaitCallback { deadline } => deadline,
        other => panic!("expected AwaitCallback, got {other:?}"),
    }
}

fn expect_err(flow: &mut AuthorizationCodeFlow) -> Error {
    expect_done(flow).expect_err("the flow should have failed")
}

fn state_of(url: &Url) -> String {
    get(&pairs(url.query().unwrap()), "state").to_owned()
}

fn callback_url(query: &str) -> Url {
    Url::parse(&format!("{REDIRECT}?{query}")).unwrap()
}

fn good_callback(state: &str) -> Input {
    Input::Callback(callback_url(&format!(
        "code={CODE}&state={state}&iss=https%3A%2F%2Fas.example"
    )))
}

fn token_response(body: &str) -> HttpResponse {
    json(200, body)
}

fn ok_response() -> Input {
    Input::Response(token_response(
        r#"{"access_token":"2YotnFZFEjr1zCsicMWpAA","token_type":"Bearer","expires_in":3600,"refresh_token":"tGzv3JOkF0XG5Qx2TlKWIA"}"#,
    ))
}

/// Starts a flow, visits, delivers a valid callback: returns the flow (awaiting its
/// token response), the authorization URL and the token request.
fn to_token_request(
    client: &ClientRegistration,
    params: AuthorizationParams,
) -> (AuthorizationCodeFlow, Url, HttpRequest) {
    let mut flow = start_with(client, params);
    let url = expect_visit(&mut flow);
    assert_eq!(expect_await_callback(&mut flow), DEADLINE);
    flow.handle(good_callback(&state_of(&url)), NOW.saturating_add(30));
    let request = expect_send(&mut flow);
    (flow, url, request)
}

/// Asserts that no later poll hands out a request and the same error persists.
fn assert_failed_for_good(flow: &mut AuthorizationCodeFlow, want: &Error) {
    for input in [
        ok_response(),
        good_callback("x"),
        Input::Tick,
        transport_failure(TransportErrorKind::ConnectionClosed),
    ] {
        flow.handle(input, NOW.saturating_add(60));
        assert_eq!(&expect_err(flow), want);
    }
    assert!(flow.is_finished());
    assert_eq!(flow.state_name(), "Failed");
}

// ── the authorization request (AUTHZ-*) ─────────────────────────────────────────

#[test]
fn authz_url_has_exactly_the_expected_parameters() {
    let params = read_write()
        .param("prompt", "consent")
        .param("login_hint", "a b&c=d");
    let mut flow = start_with(&client(), params);
    let url = expect_visit(&mut flow);

    assert_eq!(url.scheme(), "https");
    assert_eq!(url.host_str(), Some("as.example"));
    assert_eq!(url.path(), "/authorize");
    assert_eq!(url.fragment(), None);
    let q = pairs(url.query().unwrap());
    let keys: Vec<&str> = q.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "tenant",
            "response_type",
            "client_id",
            "redirect_uri",
            "scope",
            "state",
            "code_challenge",
            "code_challenge_method",
            "prompt",
            "login_hint",
        ]
    );
    // AUTHZ-04: no parameter twice.
    let mut unique = keys.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), keys.len());

    // AUTHZ-03: the endpoint's own query is kept, first and as it was.
    assert!(
        url.as_str()
            .starts_with("https://as.example/authorize?tenant=a%20b&response_type=code&"),
        "{url}"
    );
    assert_eq!(get(&q, "tenant"), "a b");
    assert_eq!(get(&q, "response_type"), "code");
    assert_eq!(get(&q, "client_id"), "client");
    assert_eq!(get(&q, "redirect_uri"), REDIRECT);
    assert_eq!(get(&q, "scope"), "read write");
    assert_eq!(get(&q, "code_challenge_method"), "S256");
    assert_eq!(get(&q, "prompt"), "consent");
    assert_eq!(get(&q, "login_hint"), "a b&c=d");

    let state = get(&q, "state");
    let challenge = get(&q, "code_challenge");
    for value in [state, challenge] {
        assert_eq!(value.len(), 43, "{value}");
        assert!(
            value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{value}"
        );
    }
    assert_ne!(state, challenge);

    // The same URL is available while the flow waits.
    assert_eq!(
        flow.authorization_url().map(|u| u.as_str()),
        Some(url.as_str())
    );
}

#[test]
fn authz_no_scope_parameter_for_an_empty_scope() {
    let mut flow = start_with(&client(), AuthorizationParams::new());
    let url = expect_visit(&mut flow);
    let q = pairs(url.query().unwrap());
    assert!(q.iter().all(|(k, _)| k != "scope"), "{q:?}");
}

#[test]
fn authz_state_and_verifier_are_fresh_per_flow() {
    let client = client();
    let mut rng = TestRng(7);
    let mut a = AuthorizationCodeFlow::start(&client, read_write(), &mut rng, NOW).unwrap();
    let mut b = AuthorizationCodeFlow::start(&client, read_write(), &mut rng, NOW).unwrap();
    let (ua, ub) = (expect_visit(&mut a), expect_visit(&mut b));
    let (qa, qb) = (pairs(ua.query().unwrap()), pairs(ub.query().unwrap()));
    assert_ne!(get(&qa, "state"), get(&qb, "state"));
    assert_ne!(get(&qa, "code_challenge"), get(&qb, "code_challenge"));
    // A callback for one flow is not accepted by the other.
    assert!(a.accepts(&good_callback(get(&qa, "state"))));
    assert!(!b.accepts(&good_callback(get(&qa, "state"))));
}

#[test]
fn authz_04_conflicting_extra_parameters_are_refused() {
    let conflict = |name: &str| {
        Error::Config(ConfigError::ConflictingParameter {
            name: name.to_owned(),
        })
    };
    let client = client();
    let try_start = |params: AuthorizationParams| {
        AuthorizationCodeFlow::start(&client, params, &mut TestRng(1), NOW).map(|_| ())
    };
    for name in [
        "state",
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "code_challenge",
        "code_challenge_method",
    ] {
        assert_eq!(
            try_start(AuthorizationParams::new().param(name, "x")),
            Err(conflict(name)),
            "{name}"
        );
    }
    assert_eq!(
        try_start(
            AuthorizationParams::new()
                .param("prompt", "login")
                .param("prompt", "consent")
        ),
        Err(conflict("prompt"))
    );
    // Already in the endpoint's query.
    assert_eq!(
        try_start(AuthorizationParams::new().param("tenant", "other")),
        Err(conflict("tenant"))
    );
    assert_eq!(
        try_start(AuthorizationParams::new().param("", "x")),
        Err(conflict(""))
    );
    assert_eq!(
        try_start(AuthorizationParams::new().param("audience", "api")),
        Ok(())
    );
}

#[test]
fn start_needs_redirect_uri_and_authorization_endpoint() {
    let no_redirect = ClientRegistration::builder("client")
        .authorization_endpoint("https://as.example/authorize")
        .token_endpoint("https://as.example/token")
        .build()
        .unwrap();
    assert_eq!(
        AuthorizationCodeFlow::start(&no_redirect, read_write(), &mut TestRng(1), NOW).map(|_| ()),
        Err(Error::Config(ConfigError::Missing {
            field: "redirect_uri"
        }))
    );
    let no_endpoint = ClientRegistration::builder("client")
        .token_endpoint("https://as.example/token")
        .redirect_uri(REDIRECT)
        .build()
        .unwrap();
    assert_eq!(
        AuthorizationCodeFlow::start(&no_endpoint, read_write(), &mut TestRng(1), NOW).map(|_| ()),
        Err(Error::Config(ConfigError::Missing {
            field: "authorization_endpoint"
        }))
    );
}

// ── the poll sequence (io.rs contract) ──────────────────────────────────────────

#[test]
fn poll_sequence_of_a_successful_flow() {
    let mut flow = start();
    assert_eq!(flow.state_name(), "Authorize");
    assert!(!flow.is_finished());
    let url = expect_visit(&mut flow);
    assert_eq!(flow.state_name(), "AwaitingCallback");
    // AwaitCallback is level-triggered; Visit is not repeated.
    assert_eq!(expect_await_callback(&mut flow), DEADLINE);
    assert_eq!(expect_await_callback(&mut flow), DEADLINE);

    flow.handle(good_callback(&state_of(&url)), NOW.saturating_add(10));
    assert_eq!(flow.state_name(), "ExchangeCode");
    assert_eq!(flow.authorization_url(), None);
    let _request = expect_send(&mut flow);
    assert_eq!(flow.state_name(), "AwaitingToken");
    // Send is edge-triggered: the request is handed out once.
    assert!(matches!(flow.poll(), Output::AwaitResponse));
    assert!(matches!(flow.poll(), Output::AwaitResponse));
    // Time passing while waiting changes nothing.
    flow.handle(Input::Tick, NOW.saturating_add(5_000));
    assert!(matches!(flow.poll(), Output::AwaitResponse));

    let received = NOW.saturating_add(20);
    flow.handle(ok_response(), received);
    let tokens = expect_done(&mut flow).unwrap();
    assert_eq!(tokens.access_token.secret(), "2YotnFZFEjr1zCsicMWpAA");
    assert_eq!(tokens.token_type, TokenType::Bearer);
    assert_eq!(tokens.expires_at, Some(received.saturating_add(3600)));
    assert_eq!(tokens.received_at, received);
    assert_eq!(
        tokens.refresh_token,
        Some(RefreshToken::new("tGzv3JOkF0XG5Qx2TlKWIA"))
    );
    assert!(flow.is_finished());
    assert_eq!(flow.state_name(), "Done");

    // Done repeats, and later inputs change nothing.
    assert_eq!(expect_done(&mut flow), Ok(tokens.clone()));
    flow.handle(ok_response(), received.saturating_add(1));
    flow.handle(good_callback(&state_of(&url)), received.saturating_add(1));
    flow.handle(
        transport_failure(TransportErrorKind::ConnectionClosed),
        received.saturating_add(1),
    );
    assert_eq!(expect_done(&mut flow), Ok(tokens));
}

#[test]
fn callback_before_visit_is_taken() {
    // The driver may deliver the callback without polling Visit first.
    let mut flow = start();
    let state = state_of(&flow.authorization_url().unwrap().to_url());
    flow.handle(good_callback(&state), NOW);
    let request = expect_send(&mut flow);
    assert_eq!(request.method(), Method::POST);
}

#[test]
fn tick_before_the_request_is_handed_out_keeps_it() {
    let mut flow = start();
    let url = expect_visit(&mut flow);
    flow.handle(good_callback(&state_of(&url)), NOW);
    flow.handle(Input::Tick, NOW.saturating_add(10_000));
    let request = expect_send(&mut flow);
    assert_eq!(request.uri(), "https://as.example/token");
}

// ── the token request (TOK-01, TOK-02, TOK-05, PKCE) ────────────────────────────

#[test]
fn tok_02_code_exchange_request_public_client() {
    let (_, url, request) = to_token_request(&client(), read_write());
    assert_eq!(request.method(), Method::POST);
    assert_eq!(request.uri(), "https://as.example/token");
    assert_eq!(
        request.headers()[CONTENT_TYPE],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(request.headers()[ACCEPT], "application/json");
    assert!(request.headers().get(AUTHORIZATION).is_none());

    let body = pairs(std::str::from_utf8(request.body()).unwrap());
    let keys: Vec<&str> = body.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "grant_type",
            "code",
            "redirect_uri",
            "code_verifier",
            "client_id"
        ]
    );
    assert_eq!(get(&body, "grant_type"), "authorization_code");
    assert_eq!(get(&body, "code"), CODE);
    assert_eq!(get(&body, "client_id"), "client");
    // RFC 6749 §4.1.3: identical to the authorization request's redirect_uri.
    let authz = pairs(url.query().unwrap());
    assert_eq!(get(&body, "redirect_uri"), get(&authz, "redirect_uri"));

    // RFC 7636: the verifier is 43 characters and hashes to the challenge sent.
    let verifier = get(&body, "code_verifier");
    assert!(crate::pkce::is_valid_verifier(verifier), "{verifier}");
    assert_eq!(verifier.len(), 43);
    assert_eq!(challenge_s256(verifier), get(&authz, "code_challenge"));
    // The verifier never appeared in the authorization URL, nor equals the state.
    assert!(!url.as_str().contains(verifier));
    assert_ne!(verifier, get(&authz, "state"));
}

#[test]
fn tok_05_client_secret_basic_uses_the_header_only() {
    let client = builder()
        .auth(ClientAuth::ClientSecretBasic(ClientSecret::new(
            "s3cr3t:+/",
        )))
        .build()
        .unwrap();
    let (_, _, request) = to_token_request(&client, read_write());
    assert_eq!(
        request.headers()[AUTHORIZATION],
        basic_authorization("client", "s3cr3t:+/").as_str()
    );
    assert!(request.headers()[AUTHORIZATION].is_sensitive());
    let body = pairs(std::str::from_utf8(request.body()).unwrap());
    let keys: Vec<&str> = body.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        ["grant_type", "code", "redirect_uri", "code_verifier"]
    );
    let d = format!("{request:?}");
    assert!(!d.contains("s3cr3t"), "{d}");
    assert!(
        !d.contains(basic_authorization("client", "s3cr3t:+/").trim_start_matches("Basic ")),
        "{d}"
    );
}

#[test]
fn tok_05_client_secret_post_uses_the_body_only() {
    let client = builder()
        .auth(ClientAuth::ClientSecretPost(ClientSecret::new("s3cr3t")))
        .build()
        .unwrap();
    let (_, _, request) = to_token_request(&client, read_write());
    assert!(request.headers().get(AUTHORIZATION).is_none());
    let body = pairs(std::str::from_utf8(request.body()).unwrap());
    assert_eq!(get(&body, "client_id"), "client");
    assert_eq!(get(&body, "client_secret"), "s3cr3t");
    assert!(!format!("{request:?}").contains("s3cr3t"));
}

#[test]
fn debug_forms_hide_code_verifier_and_state() {
    let mut flow = start();
    let url = expect_visit(&mut flow);
    let state = state_of(&url);
    let before = format!("{flow:?}");
    assert!(before.contains("AwaitingCallback"), "{before}");
    assert!(!before.contains(&state), "{before}");
    let visit_debug = format!(
        "{:?}",
        Output::<TokenSet>::Visit(flow.authorization_url().unwrap().clone())
    );
    assert!(!visit_debug.contains(&state), "{visit_debug}");

    let callback = good_callback(&state);
    let input_debug = format!("{callback:?}");
    assert!(!input_debug.contains(CODE) && !input_debug.contains(&state));
    flow.handle(callback, NOW);
    let exchanging = format!("{flow:?}");
    let request = expect_send(&mut flow);
    let body = pairs(std::str::from_utf8(request.body()).unwrap());
    let verifier = get(&body, "code_verifier").to_owned();

    let request_debug = format!("{request:?}");
    let output_debug = format!("{:?}", Output::<TokenSet>::Send(request));
    let awaiting = format!("{flow:?}");
    flow.handle(ok_response(), NOW);
    let done = format!("{flow:?}");
    let done_output = format!("{:?}", flow.poll());
    for d in [
        &before,
        &exchanging,
        &request_debug,
        &output_debug,
        &awaiting,
        &done,
        &done_output,
    ] {
        assert!(!d.contains(CODE), "code in {d}");
        assert!(!d.contains(&verifier), "verifier in {d}");
        assert!(!d.contains(&state), "state in {d}");
        assert!(!d.contains("2YotnFZFEjr1zCsicMWpAA"), "access token in {d}");
        assert!(
            !d.contains("tGzv3JOkF0XG5Qx2TlKWIA"),
            "refresh token in {d}"
        );
    }
    // The request's Debug still says what it is.
    assert!(request_debug.contains("POST"), "{request_debug}");
    assert!(
        request_debug.contains("grant_type=authorization_code"),
        "{request_debug}"
    );
}

// ── scope of the result (PARSE-04) ──────────────────────────────────────────────

#[test]
fn parse_04_granted_scope_defaults_to_the_requested_scope() {
    let (mut flow, _, _) = to_token_request(&client(), read_write());
    flow.handle(
        Input::Response(token_response(
            r#"{"access_token":"at","token_type":"Bearer"}"#,
        )),
        NOW,
    );
    assert_eq!(
        expect_done(&mut flow).unwrap().scope,
        Some(Scope::parse("read write").unwrap())
    );

    let (mut flow, _, _) = to_token_request(&client(), read_write());
    flow.handle(
        Input::Response(token_response(
            r#"{"access_token":"at","token_type":"Bearer","scope":"read"}"#,
        )),
        NOW,
    );
    assert_eq!(
        expect_done(&mut flow).unwrap().scope,
        Some(Scope::parse("read").unwrap())
    );

    let (mut flow, _, _) = to_token_request(&client(), AuthorizationParams::new());
    flow.handle(
        Input::Response(token_response(
            r#"{"access_token":"at","token_type":"Bearer"}"#,
        )),
        NOW,
    );
    assert_eq!(expect_done(&mut flow).unwrap().scope, None);
}

#[test]
fn parse_04_empty_scope_in_response_means_requested_scope() {
    let (mut flow, _, _) = to_token_request(&client(), read_write());
    flow.handle(
        Input::Response(token_response(
            r#"{"access_token":"at","token_type":"Bearer","scope":""}"#,
        )),
        NOW,
    );
    assert_eq!(
        expect_done(&mut flow).unwrap().scope,
        Some(Scope::parse("read write").unwrap())
    );
}

// ── failures of the exchange (TOK-10, ERR-*) ────────────────────────────────────

#[test]
fn tok_10_transport_failure_ends_the_flow_without_resending() {
    let (mut flow, url, _) = to_token_request(&client(), read_write());
    flow.handle(
        transport_failure(TransportErrorKind::ConnectionClosed),
        NOW.saturating_add(40),
    );
    let e = expect_err(&mut flow);
    assert_eq!(
        e,
        Error::Transport(TransportFailure::new(
            TransportErrorKind::ConnectionClosed,
            "simulated"
        ))
    );
    // The operation is retryable in general, but this flow never sends the code again.
    assert!(e.is_retryable());
    // Not even when the same callback arrives again.
    flow.handle(good_callback(&state_of(&url)), NOW.saturating_add(41));
    assert_failed_for_good(&mut flow, &e);
}

#[test]
fn server_error_ends_the_flow() {
    let (mut flow, _, _) = to_token_request(&client(), read_write());
    flow.handle(
        Input::Response(
            http::Response::builder()
                .status(400)
                .header("content-type", "application/json")
                .body(br#"{"error":"invalid_grant","error_description":"code reused"}"#.to_vec())
                .unwrap(),
        ),
        NOW,
    );
    let e = expect_err(&mut flow);
    match &e {
        Error::Server(er) => {
            assert_eq!(er.code, ErrorCode::InvalidGrant);
            assert_eq!(er.status, Some(StatusCode::BAD_REQUEST));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(e.needs_new_authorization());
    assert_failed_for_good(&mut flow, &e);
}

#[test]
fn err_02_error_in_200_ends_the_flow_without_tokens() {
    let (mut flow, _, _) = to_token_request(&client(), read_write());
    flow.handle(
        Input::Response(token_response(
            r#"{"access_token":"at","token_type":"Bearer","error":"invalid_grant"}"#,
        )),
        NOW,
    );
    assert!(matches!(
        expect_err(&mut flow),
        Error::Server(er) if er.code == ErrorCode::InvalidGrant
    ));
}

#[test]
fn tok_07_redirect_from_the_token_endpoint_ends_the_flow() {
    let (mut flow, _, _) = to_token_request(&client(), read_write());
    flow.handle(
        Input::Response(
            http::Response::builder()
                .status(307)
                .header("location", "https://evil.example/token")
                .body(Vec::new())
                .unwrap(),
        ),
        NOW,
    );
    assert_eq!(
        expect_err(&mut flow),
        Error::Violation(Violation::UnexpectedRedirect(
            StatusCode::TEMPORARY_REDIRECT
        ))
    );
}

#[test]
fn the_registration_quirks_are_used_for_the_token_response() {
    let strict = builder()
        .quirks(crate::parse::Quirks::strict())
        .build()
        .unwrap();
    let (mut flow, _, _) = to_token_request(&strict, read_write());
    flow.handle(
        Input::Response(token_response(
            r#"{"access_token":"at","token_type":"Bearer","expires_in":"3600"}"#,
        )),
        NOW,
    );
    assert!(matches!(
        expect_err(&mut flow),
        Error::Parse(p) if p.field == "expires_in"
    ));

    let (mut flow, _, _) = to_token_request(&client(), read_write());
    flow.handle(
        Input::Response(token_response(
            r#"{"access_token":"at","token_type":"Bearer","expires_in":"3600"}"#,
        )),
        NOW,
    );
    assert_eq!(
        expect_done(&mut flow).unwrap().expires_at,
        Some(NOW.saturating_add(3600))
    );
}

// ── inputs that do not fit ──────────────────────────────────────────────────────

#[test]
fn response_while_awaiting_callback_is_unexpected() {
    let mut flow = start();
    let url = expect_visit(&mut flow);
    let input = ok_response();
    assert!(!flow.accepts(&input));
    flow.handle(input, NOW);
    let e = expect_err(&mut flow);
    assert_eq!(
        e,
        Error::UnexpectedInput {
            expected: &[InputKind::Callback, InputKind::Tick],
            got: InputKind::Response,
        }
    );
    // The failure sticks: a valid callback afterwards does not revive the flow.
    flow.handle(good_callback(&state_of(&url)), NOW);
    assert_failed_for_good(&mut flow, &e);
}

#[test]
fn transport_failure_while_awaiting_callback_is_unexpected() {
    let mut flow = start();
    let _ = expect_visit(&mut flow);
    flow.handle(transport_failure(TransportErrorKind::ConnectionClosed), NOW);
    assert_eq!(
        expect_err(&mut flow),
        Error::UnexpectedInput {
            expected: &[InputKind::Callback, InputKind::Tick],
            got: InputKind::TransportFailed,
        }
    );
}

#[test]
fn callback_while_awaiting_token_is_unexpected() {
    let (mut flow, url, _) = to_token_request(&client(), read_write());
    let input = good_callback(&state_of(&url));
    assert!(!flow.accepts(&input));
    flow.handle(input, NOW);
    let e = expect_err(&mut flow);
    assert_eq!(
        e,
        Error::UnexpectedInput {
            expected: &[
                InputKind::Response,
                InputKind::TransportFailed,
                InputKind::Tick
            ],
            got: InputKind::Callback,
        }
    );
    assert_failed_for_good(&mut flow, &e);
}

#[test]
fn response_before_the_request_was_handed_out_is_unexpected() {
    let mut flow = start();
    let url = expect_visit(&mut flow);
    flow.handle(good_callback(&state_of(&url)), NOW);
    // The driver never polled Send.
    let input = ok_response();
    assert!(!flow.accepts(&input));
    flow.handle(input, NOW);
    assert_eq!(
        expect_err(&mut flow),
        Error::UnexpectedInput {
            expected: &[InputKind::Tick],
            got: InputKind::Response,
        }
    );
}

// ── the callback inside the flow (RESP-*) ───────────────────────────────────────

#[test]
fn resp_05_wrong_state_emits_no_token_request() {
    let mut flow = start();
    let _ = expect_visit(&mut flow);
    let forged = good_callback("forged-state");
    assert!(!flow.accepts(&forged));
    flow.handle(forged, NOW);
    let e = expect_err(&mut flow);
    assert_eq!(e, Error::Violation(Violation::StateMismatch));
    assert_failed_for_good(&mut flow, &e);
}

#[test]
fn resp_05_error_without_state_is_not_a_denial() {
    let mut flow = start();
    let _ = expect_visit(&mut flow);
    let input = Input::Callback(callback_url("error=access_denied"));
    assert!(!flow.accepts(&input));
    flow.handle(input, NOW);
    assert_eq!(
        expect_err(&mut flow),
        Error::Violation(Violation::StateMissing)
    );
}

#[test]
fn resp_07_denied_authorization_ends_the_flow() {
    let mut flow = start();
    let state = state_of(&expect_visit(&mut flow));
    flow.handle(
        Input::Callback(callback_url(&format!(
            "error=access_denied&error_description=no&state={state}"
        ))),
        NOW,
    );
    let e = expect_err(&mut flow);
    assert!(
        matches!(&e, Error::AuthorizationDenied(er) if er.code == ErrorCode::AccessDenied && er.description.as_deref() == Some("no")),
        "{e:?}"
    );
    assert!(e.needs_new_authorization());
}

#[test]
fn resp_06_issuer_mismatch_ends_the_flow_without_a_request() {
    let mut flow = start();
    let state = state_of(&expect_visit(&mut flow));
    flow.handle(
        Input::Callback(callback_url(&format!(
            "code={CODE}&state={state}&iss=https%3A%2F%2Fevil.example"
        ))),
        NOW,
    );
    let e = expect_err(&mut flow);
    assert_eq!(e, Error::Violation(Violation::IssuerMismatch));
    assert_failed_for_good(&mut flow, &e);
}

#[test]
fn resp_06_missing_iss_when_required_ends_the_flow_without_a_request() {
    let client = builder().require_issuer_parameter(true).build().unwrap();
    let mut flow = start_with(&client, read_write());
    let state = state_of(&expect_visit(&mut flow));
    flow.handle(
        Input::Callback(callback_url(&format!("code={CODE}&state={state}"))),
        NOW,
    );
    let e = expect_err(&mut flow);
    assert_eq!(e, Error::Violation(Violation::IssuerMissing));
    assert_failed_for_good(&mut flow, &e);

    // Without the requirement, a callback without `iss` goes through.
    let mut flow = start();
    let state = state_of(&expect_visit(&mut flow));
    flow.handle(
        Input::Callback(callback_url(&format!("code={CODE}&state={state}"))),
        NOW,
    );
    let _ = expect_send(&mut flow);
}

#[test]
fn resp_09_front_channel_token_ends_the_flow() {
    let mut flow = start();
    let state = state_of(&expect_visit(&mut flow));
    flow.handle(
        Input::Callback(callback_url(&format!(
            "code={CODE}&state={state}&access_token=x"
        ))),
        NOW,
    );
    assert_eq!(
        expect_err(&mut flow),
        Error::Violation(Violation::FrontChannelToken("access_token"))
    );
}

#[test]
fn callback_at_another_redirect_uri_ends_the_flow() {
    let mut flow = start();
    let state = state_of(&expect_visit(&mut flow));
    let input = Input::Callback(
        Url::parse(&format!(
            "http://127.0.0.1:9999/cb?code={CODE}&state={state}"
        ))
        .unwrap(),
    );
    flow.handle(input, NOW);
    assert_eq!(
        expect_err(&mut flow),
        Error::Violation(Violation::RedirectUriMismatch)
    );
}

// ── the deadline (AUTHZ-11) ─────────────────────────────────────────────────────

#[test]
fn authz_11_callback_after_the_deadline_expires_the_flow() {
    let mut flow = start();
    let state = state_of(&expect_visit(&mut flow));
    flow.handle(good_callback(&state), DEADLINE.saturating_add(1));
    let e = expect_err(&mut flow);
    assert_eq!(e, Error::FlowExpired { deadline: DEADLINE });
    assert!(e.needs_new_authorization());
    assert_failed_for_good(&mut flow, &e);
}

#[test]
fn authz_11_callback_at_the_deadline_is_still_taken() {
    let mut flow = start();
    let state = state_of(&expect_visit(&mut flow));
    flow.handle(good_callback(&state), DEADLINE);
    let _ = expect_send(&mut flow);
}

#[test]
fn authz_11_tick_after_the_deadline_expires_the_flow() {
    let mut flow = start();
    let state = state_of(&expect_visit(&mut flow));
    // Ticks up to and at the deadline keep it waiting.
    for t in [NOW, NOW.saturating_add(599), DEADLINE] {
        flow.handle(Input::Tick, t);
        assert_eq!(expect_await_callback(&mut flow), DEADLINE);
        assert!(!flow.is_finished());
    }
    flow.handle(Input::Tick, DEADLINE.saturating_add(1));
    let e = expect_err(&mut flow);
    assert_eq!(e, Error::FlowExpired { deadline: DEADLINE });
    // A valid callback after expiry does not revive it.
    flow.handle(good_callback(&state), NOW);
    assert_failed_for_good(&mut flow, &e);
}

#[test]
fn authz_11_tick_before_visit() {
    // Before Visit was polled: a tick keeps the flow, and Visit is still handed out.
    let mut flow = start();
    flow.handle(Input::Tick, NOW.saturating_add(1));
    let _ = expect_visit(&mut flow);

    let mut flow = start();
    flow.handle(Input::Tick, DEADLINE.saturating_add(1));
    assert_eq!(
        expect_err(&mut flow),
        Error::FlowExpired { deadline: DEADLINE }
    );
}

#[test]
fn authz_11_ttl_comes_from_the_registration() {
    let client = builder().authorization_ttl(60).build().unwrap();
    let mut flow = start_with(&client, read_write());
    let _ = expect_visit(&mut flow);
    assert_eq!(expect_await_callback(&mut flow), NOW.saturating_add(60));
}

// ── accepts() ───────────────────────────────────────────────────────────────────

#[test]
fn accepts_routes_callbacks_by_state() {
    let mut flow = start();
    let url = expect_visit(&mut flow);
    let state = state_of(&url);
    assert!(flow.accepts(&good_callback(&state)));
    assert!(flow.accepts(&Input::Callback(callback_url(&format!("state={state}")))));
    assert!(!flow.accepts(&good_callback("wrong")));
    assert!(!flow.accepts(&good_callback(&state[..42])));
    assert!(!flow.accepts(&Input::Callback(callback_url(&format!("code={CODE}")))));
    assert!(!flow.accepts(&Input::Callback(callback_url(&format!(
        "code={CODE}&state={state}&state={state}"
    )))));
    assert!(!flow.accepts(&ok_response()));
    assert!(!flow.accepts(&transport_failure(TransportErrorKind::ConnectionClosed)));
    assert!(flow.accepts(&Input::Tick));
    // accepts() does not change the state.
    assert_eq!(flow.state_name(), "AwaitingCallback");
    assert_eq!(expect_await_callback(&mut flow), DEADLINE);

    // Also before Visit was polled.
    let flow = start();
    let state = state_of(&flow.authorization_url().unwrap().to_url());
    assert!(flow.accepts(&good_callback(&state)));

    // While awaiting the token: responses and transport failures.
    let (flow, url, _) = to_token_request(&client(), read_write());
    assert!(flow.accepts(&ok_response()));
    assert!(flow.accepts(&transport_failure(TransportErrorKind::ConnectionClosed)));
    assert!(!flow.accepts(&good_callback(&state_of(&url))));
}
