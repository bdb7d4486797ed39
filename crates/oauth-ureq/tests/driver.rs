//! The driver against the testkit's fake authorization server over real HTTP on
//! loopback, with faults: every outcome is asserted as a typed error.
//!
//! Each test starts its own [`HttpServer`], binds its own [`LoopbackListener`],
//! registers a confidential client for exactly that redirect URI, and plays the user
//! with the testkit's headless browser. Test names carry the security-checklist items
//! (`/work/shared/design/security-checklist.md` §4 LOOP-*, §18 DRV-*) they cover.

use oauth_core::http::StatusCode;
use oauth_core::{
    AccessToken, AuthorizationCodeFlow, AuthorizationParams, ClientRegistration, ErrorCode,
    ParseErrorKind, RefreshFlow, RefreshToken, Scope, TokenSet, TokenType, TransportErrorKind,
    Violation,
};
use oauth_testkit::{
    AuthMethod, Decision, FakeAuthorizationServer, Fault, HttpFault, HttpServer, RegisteredClient,
    headless_browser,
};
use oauth_ureq::{
    ApiError, Browser, Error, LoopbackCallback, LoopbackListener, Transport, TransportConfig,
    call_api, now, run, system_rng,
};
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CLIENT_ID: &str = "driver-test-app";
const CLIENT_SECRET: &str = "driver test secret";

/// A fresh fake server on loopback, seeded per test.
fn server(seed: u64) -> HttpServer {
    HttpServer::start(FakeAuthorizationServer::new(seed)).expect("start the fake server")
}

/// Registers the test client for `redirect_uri` and returns its registration.
fn register(server: &HttpServer, redirect_uri: &str) -> ClientRegistration {
    server.with(|s| {
        s.register(RegisteredClient::confidential(
            CLIENT_ID,
            CLIENT_SECRET,
            AuthMethod::Basic,
            redirect_uri,
        ));
    });
    server
        .registration(CLIENT_ID)
        .expect("registered above")
        .build()
        .expect("a valid registration")
}

/// The user: the testkit's headless browser, approving (or denying) as the server says.
fn headless() -> Browser {
    Browser::Custom(Arc::new(|url: String| {
        let _ = headless_browser(&url);
    }))
}

fn start_flow(client: &ClientRegistration) -> AuthorizationCodeFlow {
    let params = AuthorizationParams::new().scope(Scope::parse("profile api:read").unwrap());
    AuthorizationCodeFlow::start(client, params, &mut system_rng(), now()).expect("start")
}

/// A complete login through the driver: listener, registration, flow, headless user.
struct Login {
    client: ClientRegistration,
    listener_addr: SocketAddr,
    result: Result<TokenSet, Error>,
}

fn login(server: &HttpServer, transport: &Transport) -> Login {
    let listener = LoopbackListener::bind_default().expect("bind the loopback listener");
    let listener_addr = listener.local_addr();
    let client = register(server, &listener.redirect_uri());
    let mut flow = start_flow(&client);
    let mut callbacks = LoopbackCallback::new(listener, headless());
    let result = run(&mut flow, transport, Some(&mut callbacks));
    Login {
        client,
        listener_addr,
        result,
    }
}

/// The core's error inside the driver's, or a panic naming what came instead.
fn flow_error<T: std::fmt::Debug>(result: Result<T, Error>) -> oauth_core::Error {
    match result {
        Err(Error::Flow(e)) => e,
        other => panic!("expected Error::Flow, got {other:?}"),
    }
}

fn api_get(server: &HttpServer, path: &str) -> http::Request<Vec<u8>> {
    http::Request::get(server.resource_url(path).as_str())
        .body(Vec::new())
        .unwrap()
}

/// A token set the server never issued.
fn made_up_tokens() -> TokenSet {
    TokenSet {
        access_token: AccessToken::new("at_made_up_by_the_test"),
        token_type: TokenType::Bearer,
        expires_at: None,
        refresh_token: Some(RefreshToken::new("rt_made_up_by_the_test")),
        scope: None,
        id_token: None,
        received_at: now(),
        extra: Default::default(),
    }
}

/// A transport whose 1 s call timeout is well under the 3 s stall.
fn short_timeout_transport() -> Transport {
    Transport::new(TransportConfig {
        call_timeout: Some(Duration::from_secs(1)),
        ..Default::default()
    })
}

/// A port that counts connection attempts: every completed TCP handshake waits in the
/// accept queue, so draining it without a thread counts them all.
struct Trap {
    listener: TcpListener,
}

impl Trap {
    fn bind() -> Trap {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Trap { listener }
    }

    fn url(&self) -> String {
        format!(
            "http://{}/steal-the-code",
            self.listener.local_addr().unwrap()
        )
    }

    fn connections(&self) -> usize {
        let mut n = 0;
        loop {
            match self.listener.accept() {
                Ok(_) => n += 1,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return n,
                Err(e) => panic!("trap accept failed: {e}"),
            }
        }
    }
}

// ── happy path ─────────────────────────────────────────────────────────────────────

#[test]
fn happy_path_tokens_api_call_and_rotating_refresh() {
    let server = server(1);
    let transport = Transport::default();
    let Login {
        client,
        listener_addr,
        result,
    } = login(&server, &transport);
    let tokens = result.expect("the login succeeds");
    assert_eq!(tokens.token_type, TokenType::Bearer);
    assert!(tokens.refresh_token.is_some());
    assert_eq!(server.with(|s| s.stats()).token_requests, 1);

    // LOOP-04: the listener closed its port once the callback was taken.
    let refused = TcpStream::connect_timeout(&listener_addr, Duration::from_secs(1));
    assert!(refused.is_err(), "the callback port is still open");

    let response = call_api(&transport, api_get(&server, "/me"), &tokens).expect("API call");
    assert_eq!(response.status(), StatusCode::OK);
    let body = String::from_utf8_lossy(response.body()).into_owned();
    assert!(body.contains(CLIENT_ID), "{body}");

    let mut refresh = RefreshFlow::start(&client, &tokens, None).unwrap();
    let refreshed = run(&mut refresh, &transport, None).expect("the refresh succeeds");
    assert!(refreshed.refresh_token.is_some());
    assert_ne!(
        refreshed.refresh_token, tokens.refresh_token,
        "rotated refresh token"
    );
    assert_ne!(refreshed.access_token, tokens.access_token);
    let response = call_api(&transport, api_get(&server, "/me"), &refreshed).expect("API call");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(server.with(|s| s.stats()).token_requests, 2);
}

// ── error statuses ─────────────────────────────────────────────────────────────────

#[test]
fn http_500_html_page_is_a_retryable_http_error() {
    let server = server(2);
    server.with(|s| {
        s.inject_fault(Fault::InternalError);
    });
    let err = flow_error(login(&server, &Transport::default()).result);
    match &err {
        oauth_core::Error::Http(h) => {
            assert_eq!(h.status, StatusCode::INTERNAL_SERVER_ERROR);
            assert!(
                h.content_type
                    .as_deref()
                    .unwrap_or("")
                    .contains("text/html")
            );
        }
        other => panic!("expected Error::Http, got {other:?}"),
    }
    assert!(err.is_retryable());
    assert_eq!(err.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
}

#[test]
fn drv04_http_503_retry_after_header_reaches_the_core() {
    let server = server(3);
    server.with(|s| {
        s.inject_fault(Fault::ServiceUnavailable { retry_after: 120 });
    });
    let before = now();
    let err = flow_error(login(&server, &Transport::default()).result);
    let after = now();
    assert!(
        matches!(&err, oauth_core::Error::Http(h) if h.status == StatusCode::SERVICE_UNAVAILABLE),
        "{err:?}"
    );
    assert!(err.is_retryable());
    let at = err
        .retry_after()
        .expect("Retry-After was read from the header");
    assert!(
        at >= before.saturating_add(120) && at <= after.saturating_add(120),
        "retry_after {at} not within [{before}+120, {after}+120]"
    );
}

#[test]
fn drv02_400_invalid_grant_body_reaches_the_core_as_a_server_error() {
    let server = server(4);
    let client = register(&server, "http://127.0.0.1:9/callback");
    let mut refresh = RefreshFlow::start(&client, &made_up_tokens(), None).unwrap();
    let err = flow_error(run(&mut refresh, &Transport::default(), None));
    match &err {
        oauth_core::Error::Server(e) => {
            assert_eq!(e.code, ErrorCode::InvalidGrant);
            assert_eq!(e.status, Some(StatusCode::BAD_REQUEST));
            assert_eq!(e.description.as_deref(), Some("unknown refresh token"));
        }
        other => panic!("expected Error::Server, got {other:?}"),
    }
    assert!(err.needs_new_authorization());
    assert!(!err.is_retryable());
}

#[test]
fn drv02_callers_agent_with_status_as_error_still_lets_a_400_body_through() {
    let server = server(5);
    let client = register(&server, "http://127.0.0.1:9/callback");
    // The caller's agent turns 4xx into errors and follows redirects; the per-request
    // settings of the transport must win.
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(true)
        .build()
        .new_agent();
    let transport = Transport::with_agent(agent, TransportConfig::default());
    let mut refresh = RefreshFlow::start(&client, &made_up_tokens(), None).unwrap();
    let err = flow_error(run(&mut refresh, &transport, None));
    assert!(
        matches!(&err, oauth_core::Error::Server(e)
            if e.code == ErrorCode::InvalidGrant && e.status == Some(StatusCode::BAD_REQUEST)),
        "{err:?}"
    );
}

// ── connection faults ──────────────────────────────────────────────────────────────

#[test]
fn connection_dropped_mid_body_is_typed_retryable_and_the_code_is_not_resent() {
    let server = server(6);
    server.inject_http_fault(HttpFault::DropMidBody);
    let err = flow_error(login(&server, &Transport::default()).result);
    let typed = match &err {
        oauth_core::Error::Transport(t) => t.kind == TransportErrorKind::ConnectionClosed,
        oauth_core::Error::Parse(p) => p.kind == ParseErrorKind::Truncated,
        _ => false,
    };
    assert!(
        typed,
        "expected Transport(ConnectionClosed) or Parse(Truncated), got {err:?}"
    );
    assert!(err.is_retryable());
    // The server processed the exchange once; the driver did not send the code again.
    assert_eq!(server.with(|s| s.stats()).token_requests, 1);
}

#[test]
fn drv03_stalled_server_times_out_in_time() {
    let server = server(7);
    server.inject_http_fault(HttpFault::Stall(Duration::from_secs(3)));
    let started = Instant::now();
    let err = flow_error(login(&server, &short_timeout_transport()).result);
    let took = started.elapsed();
    assert!(
        matches!(&err, oauth_core::Error::Transport(t) if t.kind == TransportErrorKind::Timeout),
        "{err:?}"
    );
    assert!(err.is_retryable());
    assert!(
        took < Duration::from_millis(2500),
        "the 1 s timeout took {took:?} against a 3 s stall"
    );
}

#[test]
fn drv03_oversized_body_is_typed_and_not_retryable() {
    let server = server(8);
    server.with(|s| {
        s.inject_fault(Fault::OversizedBody(2 << 20));
    });
    let err = flow_error(login(&server, &Transport::default()).result);
    let typed = match &err {
        oauth_core::Error::Transport(t) => t.kind == TransportErrorKind::BodyTooLarge,
        oauth_core::Error::Parse(p) => matches!(p.kind, ParseErrorKind::TooLarge { .. }),
        _ => false,
    };
    assert!(
        typed,
        "expected Transport(BodyTooLarge) or Parse(TooLarge), got {err:?}"
    );
    assert!(!err.is_retryable());
}

// ── redirects (DRV-01 / TOK-07) ────────────────────────────────────────────────────

#[test]
fn drv01_tok07_token_endpoint_redirect_is_refused_and_not_followed() {
    let server = server(9);
    let trap = Trap::bind();
    server.inject_http_fault(HttpFault::Redirect(trap.url()));
    let err = flow_error(login(&server, &Transport::default()).result);
    assert_eq!(
        err,
        oauth_core::Error::Violation(Violation::UnexpectedRedirect(
            StatusCode::TEMPORARY_REDIRECT
        ))
    );
    assert!(!err.is_retryable());
    assert_eq!(trap.connections(), 0, "the redirect target was contacted");
}

#[test]
fn drv01_tok07_callers_redirect_following_agent_does_not_follow_either() {
    let server = server(10);
    let trap = Trap::bind();
    server.inject_http_fault(HttpFault::Redirect(trap.url()));
    // ureq's default agent follows up to 10 redirects; the transport must override it.
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(true)
        .max_redirects(10)
        .build()
        .new_agent();
    let transport = Transport::with_agent(agent, TransportConfig::default());
    let err = flow_error(login(&server, &transport).result);
    assert_eq!(
        err,
        oauth_core::Error::Violation(Violation::UnexpectedRedirect(
            StatusCode::TEMPORARY_REDIRECT
        ))
    );
    assert_eq!(trap.connections(), 0, "the redirect target was contacted");
}

// ── the front channel ──────────────────────────────────────────────────────────────

#[test]
fn denied_consent_is_authorization_denied_access_denied() {
    let server = server(11);
    server.set_decision(Decision::Deny);
    let err = flow_error(login(&server, &Transport::default()).result);
    match &err {
        oauth_core::Error::AuthorizationDenied(e) => {
            assert_eq!(e.code, ErrorCode::AccessDenied);
            assert_eq!(e.status, None);
        }
        other => panic!("expected AuthorizationDenied, got {other:?}"),
    }
    assert!(err.needs_new_authorization());
    assert_eq!(server.with(|s| s.stats()).token_requests, 0);
}

#[test]
fn browser_command_that_cannot_start_does_not_break_the_login() {
    let server = server(12);
    let listener = LoopbackListener::bind_default().unwrap();
    let client = register(&server, &listener.redirect_uri());
    let mut flow = start_flow(&client);
    let url = flow
        .authorization_url()
        .expect("a new flow has its URL")
        .to_string();
    // The user copies the printed URL into a browser by hand; the listener is already
    // bound, so the connection waits in its queue until the driver serves it.
    let user = std::thread::spawn(move || headless_browser(&url));
    let browser = Browser::Command(vec!["/nonexistent/browser".into()]);
    let mut callbacks = LoopbackCallback::new(listener, browser);
    let tokens = run(&mut flow, &Transport::default(), Some(&mut callbacks))
        .expect("the login succeeds although no browser started");
    assert_eq!(user.join().unwrap().expect("the user's browser"), 200);
    assert!(tokens.refresh_token.is_some());
}

// ── the protected resource ─────────────────────────────────────────────────────────

#[test]
fn call_api_with_a_bogus_token_is_invalid_token_with_the_challenge() {
    let server = server(13);
    let transport = Transport::default();
    match call_api(&transport, api_get(&server, "/me"), &made_up_tokens()) {
        Err(ApiError::InvalidToken {
            challenge,
            response,
        }) => {
            assert!(challenge.is_invalid_token());
            assert_eq!(challenge.realm.as_deref(), Some("fake"));
            assert_eq!(
                challenge.error_description.as_deref(),
                Some("The access token is invalid")
            );
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        }
        other => panic!("expected ApiError::InvalidToken, got {other:?}"),
    }
    assert_eq!(server.with(|s| s.stats()).resource_requests, 1);
}
