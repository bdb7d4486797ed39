//! Unit tests for [`super::RefreshFlow`], driven through the [`Flow`] trait: checklist
//! sections 5 (TOK-03), 7 (ERR-06) and 8 (RT-*).

use super::RefreshFlow;
use crate::client::{ClientAuth, ClientRegistration, ClientRegistrationBuilder};
use crate::error::{
    ConfigError, Error, ErrorCode, InputKind, TransportErrorKind, TransportFailure,
};
use crate::flow::test_support::{expect_done, expect_send, json, transport_failure};
use crate::io::{Flow, HttpRequest, HttpResponse, Input, Output};
use crate::request::basic_authorization;
use crate::scope::Scope;
use crate::secret::{AccessToken, ClientSecret, IdToken, RefreshToken};
use crate::time::UnixTime;
use crate::token::{TokenSet, TokenType};
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use http::{Method, StatusCode};
use std::collections::BTreeMap;
use url::Url;

const NOW: UnixTime = UnixTime::from_secs(1_700_000_000);
const OLD_RT: &str = "old-refresh-token-8xLOxBtZp8";

fn builder() -> ClientRegistrationBuilder {
    ClientRegistration::builder("client")
        .authorization_endpoint("https://as.example/authorize?tenant=a%20b")
        .token_endpoint("https://as.example/token")
        .redirect_uri("http://127.0.0.1:8080/cb")
        .issuer("https://as.example")
}

fn client() -> ClientRegistration {
    builder().build().unwrap()
}

fn tokens(refresh: Option<&str>, scope: Option<&str>) -> TokenSet {
    TokenSet {
        access_token: AccessToken::new("old-access-token"),
        token_type: TokenType::Bearer,
        expires_at: Some(NOW),
        refresh_token: refresh.map(RefreshToken::new),
        scope: scope.map(|s| Scope::parse(s).unwrap()),
        id_token: Some(IdToken::new("old.id.token")),
        received_at: NOW.saturating_sub(3600),
        extra: BTreeMap::new(),
    }
}

fn granted() -> TokenSet {
    tokens(Some(OLD_RT), Some("read write"))
}

fn scope(s: &str) -> Option<Scope> {
    Some(Scope::parse(s).unwrap())
}

fn start(scope: Option<Scope>) -> RefreshFlow {
    RefreshFlow::start(&client(), &granted(), scope).unwrap()
}

fn body_of(request: &HttpRequest) -> &str {
    std::str::from_utf8(request.body()).unwrap()
}

fn callback() -> Input {
    Input::Callback(Url::parse("http://127.0.0.1:8080/cb?code=c&state=s").unwrap())
}

/// Sends the request and feeds `response` back at `now`.
fn run(flow: &mut RefreshFlow, response: HttpResponse, now: UnixTime) -> Result<TokenSet, Error> {
    let _ = expect_send(flow);
    flow.handle(Input::Response(response), now);
    expect_done(flow)
}

/// No later input revives a finished flow, and no request is handed out again.
fn assert_finished_for_good(flow: &mut RefreshFlow, want: &Result<TokenSet, Error>) {
    for input in [
        Input::Response(json(
            200,
            r#"{"access_token":"other","token_type":"Bearer","refresh_token":"other-rt"}"#,
        )),
        transport_failure(TransportErrorKind::Timeout),
        callback(),
        Input::Tick,
    ] {
        flow.handle(input, NOW.saturating_add(100));
        assert_eq!(&expect_done(flow), want);
    }
    assert_eq!(
        flow.state_name(),
        if want.is_ok() { "Done" } else { "Failed" }
    );
}

// ── the request (TOK-01, TOK-03, TOK-05) ────────────────────────────────────────

#[test]
fn tok_03_refresh_request_public_client() {
    let mut flow = start(None);
    assert_eq!(flow.state_name(), "SendRequest");
    let request = expect_send(&mut flow);
    assert_eq!(flow.state_name(), "AwaitingResponse");
    assert_eq!(request.method(), Method::POST);
    assert_eq!(request.uri(), "https://as.example/token");
    assert_eq!(
        request.headers()[CONTENT_TYPE],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(request.headers()[ACCEPT], "application/json");
    assert!(request.headers().get(AUTHORIZATION).is_none());
    assert_eq!(
        body_of(&request),
        format!("grant_type=refresh_token&refresh_token={OLD_RT}&client_id=client")
    );
    // Send is handed out once; then the flow waits.
    assert!(matches!(flow.poll(), Output::AwaitResponse));
    flow.handle(Input::Tick, NOW.saturating_add(10_000));
    assert!(matches!(flow.poll(), Output::AwaitResponse));
}

#[test]
fn tok_03_narrower_scope_is_sent() {
    let mut flow = start(scope("read"));
    let request = expect_send(&mut flow);
    assert_eq!(
        body_of(&request),
        format!("grant_type=refresh_token&refresh_token={OLD_RT}&scope=read&client_id=client")
    );
    // The same scope as granted is fine too, in any order.
    let mut flow = start(scope("write read"));
    assert!(body_of(&expect_send(&mut flow)).contains("&scope=write+read&"));
}

#[test]
fn tok_03_empty_scope_sends_no_scope() {
    let mut flow = start(Some(Scope::empty()));
    assert!(!body_of(&expect_send(&mut flow)).contains("scope"));
}

#[test]
fn rt_05_wider_scope_is_refused() {
    for asked in ["admin", "read admin", "read write admin"] {
        assert_eq!(
            RefreshFlow::start(&client(), &granted(), scope(asked)).map(|_| ()),
            Err(Error::Config(ConfigError::ScopeNotGranted)),
            "{asked}"
        );
    }
}

#[test]
fn tok_03_any_scope_when_the_granted_scope_is_unknown() {
    let mut flow =
        RefreshFlow::start(&client(), &tokens(Some(OLD_RT), None), scope("admin")).unwrap();
    assert!(body_of(&expect_send(&mut flow)).contains("&scope=admin&"));
}

#[test]
fn no_refresh_token_is_a_config_error() {
    assert_eq!(
        RefreshFlow::start(&client(), &tokens(None, Some("read")), None).map(|_| ()),
        Err(Error::Config(ConfigError::NoRefreshToken))
    );
}

#[test]
fn tok_09_refresh_token_is_form_encoded() {
    let set = tokens(Some("a&b=c+d%e f"), None);
    let mut flow = RefreshFlow::start(&client(), &set, None).unwrap();
    let request = expect_send(&mut flow);
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(request.body())
        .into_owned()
        .collect();
    assert_eq!(
        pairs,
        [
            ("grant_type".to_owned(), "refresh_token".to_owned()),
            ("refresh_token".to_owned(), "a&b=c+d%e f".to_owned()),
            ("client_id".to_owned(), "client".to_owned()),
        ]
    );
}

#[test]
fn tok_05_client_secret_basic() {
    let client = builder()
        .auth(ClientAuth::ClientSecretBasic(ClientSecret::new("s3cr3t")))
        .build()
        .unwrap();
    let mut flow = RefreshFlow::start(&client, &granted(), scope("read")).unwrap();
    let request = expect_send(&mut flow);
    assert_eq!(
        request.headers()[AUTHORIZATION],
        basic_authorization("client", "s3cr3t").as_str()
    );
    assert_eq!(
        body_of(&request),
        format!("grant_type=refresh_token&refresh_token={OLD_RT}&scope=read")
    );
}

#[test]
fn tok_05_client_secret_post() {
    let client = builder()
        .auth(ClientAuth::ClientSecretPost(ClientSecret::new("s3cr3t")))
        .build()
        .unwrap();
    let mut flow = RefreshFlow::start(&client, &granted(), None).unwrap();
    let request = expect_send(&mut flow);
    assert!(request.headers().get(AUTHORIZATION).is_none());
    assert_eq!(
        body_of(&request),
        format!(
            "grant_type=refresh_token&refresh_token={OLD_RT}&client_id=client&client_secret=s3cr3t"
        )
    );
}

#[test]
fn debug_forms_hide_the_refresh_token() {
    let client = builder()
        .auth(ClientAuth::ClientSecretPost(ClientSecret::new("s3cr3t")))
        .build()
        .unwrap();
    let mut flow = RefreshFlow::start(&client, &granted(), None).unwrap();
    let before = format!("{flow:?}");
    let request = expect_send(&mut flow);
    let request_debug = format!("{request:?}");
    flow.handle(
        Input::Response(json(
            200,
            r#"{"access_token":"new-access-token","token_type":"Bearer","refresh_token":"new-refresh-token"}"#,
        )),
        NOW,
    );
    let after = format!("{flow:?}");
    let done = format!("{:?}", flow.poll());
    for d in [&before, &request_debug, &after, &done] {
        for secret in [OLD_RT, "s3cr3t", "new-access-token", "new-refresh-token"] {
            assert!(!d.contains(secret), "{secret} in {d}");
        }
    }
    assert!(before.contains("SendRequest"), "{before}");
    assert!(after.contains("Done"), "{after}");
}

// ── the response (RT-01, PARSE-04) ──────────────────────────────────────────────

#[test]
fn rt_01_response_without_refresh_token_keeps_the_old_one() {
    let mut flow = start(None);
    let at = NOW.saturating_add(5);
    let set = run(
        &mut flow,
        json(
            200,
            r#"{"access_token":"new-access-token","token_type":"bearer","expires_in":600}"#,
        ),
        at,
    )
    .unwrap();
    assert_eq!(set.access_token.secret(), "new-access-token");
    assert_eq!(set.refresh_token, Some(RefreshToken::new(OLD_RT)));
    assert_eq!(set.expires_at, Some(at.saturating_add(600)));
    assert_eq!(set.received_at, at);
    // The granted scope and the ID token carry over.
    assert_eq!(set.scope, scope("read write"));
    assert_eq!(set.id_token, Some(IdToken::new("old.id.token")));
    assert_finished_for_good(&mut flow, &Ok(set));
}

#[test]
fn rt_01_null_or_empty_refresh_token_keeps_the_old_one() {
    for member in [r#""refresh_token":null"#, r#""refresh_token":"""#] {
        let mut flow = start(None);
        let body = format!(r#"{{"access_token":"at","token_type":"Bearer",{member}}}"#);
        let set = run(&mut flow, json(200, &body), NOW).unwrap();
        assert_eq!(
            set.refresh_token,
            Some(RefreshToken::new(OLD_RT)),
            "{member}"
        );
    }
}

#[test]
fn rt_01_new_refresh_token_replaces_the_old_one() {
    let mut flow = start(None);
    let set = run(
        &mut flow,
        json(
            200,
            r#"{"access_token":"at","token_type":"Bearer","refresh_token":"new-refresh-token","id_token":"new.id.token"}"#,
        ),
        NOW,
    )
    .unwrap();
    assert_eq!(
        set.refresh_token,
        Some(RefreshToken::new("new-refresh-token"))
    );
    assert_ne!(set.refresh_token, Some(RefreshToken::new(OLD_RT)));
    assert_eq!(set.id_token, Some(IdToken::new("new.id.token")));
}

#[test]
fn parse_04_scope_after_refresh() {
    // Asked narrower, server silent: the asked scope is what was granted.
    let mut flow = start(scope("read"));
    let set = run(
        &mut flow,
        json(200, r#"{"access_token":"at","token_type":"Bearer"}"#),
        NOW,
    )
    .unwrap();
    assert_eq!(set.scope, scope("read"));

    // The server's scope wins.
    let mut flow = start(None);
    let set = run(
        &mut flow,
        json(
            200,
            r#"{"access_token":"at","token_type":"Bearer","scope":"write"}"#,
        ),
        NOW,
    )
    .unwrap();
    assert_eq!(set.scope, scope("write"));

    // An empty scope from the server counts as absent: the old scope stays.
    let mut flow = start(None);
    let set = run(
        &mut flow,
        json(
            200,
            r#"{"access_token":"at","token_type":"Bearer","scope":""}"#,
        ),
        NOW,
    )
    .unwrap();
    assert_eq!(set.scope, scope("read write"));
}

// ── failures (ERR-06, RT-04) ────────────────────────────────────────────────────

#[test]
fn err_06_invalid_grant_needs_new_authorization() {
    let mut flow = start(None);
    let result = run(
        &mut flow,
        json(
            400,
            r#"{"error":"invalid_grant","error_description":"refresh token revoked"}"#,
        ),
        NOW,
    );
    let e = result.clone().unwrap_err();
    match &e {
        Error::Server(er) => {
            assert_eq!(er.code, ErrorCode::InvalidGrant);
            assert_eq!(er.status, Some(StatusCode::BAD_REQUEST));
            assert_eq!(er.description.as_deref(), Some("refresh token revoked"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(e.needs_new_authorization());
    assert!(!e.is_retryable());
    // No loop: nothing more is sent.
    assert_finished_for_good(&mut flow, &result);
}

#[test]
fn err_02_invalid_grant_in_200_is_an_error() {
    let mut flow = start(None);
    let e = run(&mut flow, json(200, r#"{"error":"invalid_grant"}"#), NOW).unwrap_err();
    assert!(e.needs_new_authorization(), "{e:?}");
}

#[test]
fn server_5xx_is_retryable_and_ends_the_flow() {
    let mut flow = start(None);
    let response = http::Response::builder()
        .status(503)
        .header("retry-after", "60")
        .header("content-type", "text/html")
        .body(b"<h1>down</h1>".to_vec())
        .unwrap();
    let result = run(&mut flow, response, NOW);
    let e = result.clone().unwrap_err();
    assert!(matches!(&e, Error::Http(h) if h.status == StatusCode::SERVICE_UNAVAILABLE));
    assert!(e.is_retryable());
    assert_eq!(e.retry_after(), Some(NOW.saturating_add(60)));
    assert!(!e.needs_new_authorization());
    assert_finished_for_good(&mut flow, &result);
}

#[test]
fn rt_04_transport_failure_is_reported_not_retried() {
    let mut flow = start(None);
    let _ = expect_send(&mut flow);
    flow.handle(transport_failure(TransportErrorKind::Timeout), NOW);
    let result = expect_done(&mut flow);
    assert_eq!(
        result,
        Err(Error::Transport(TransportFailure::new(
            TransportErrorKind::Timeout,
            "simulated"
        )))
    );
    assert!(result.as_ref().unwrap_err().is_retryable());
    assert_finished_for_good(&mut flow, &result);
}

// ── inputs that do not fit ──────────────────────────────────────────────────────

#[test]
fn callback_while_awaiting_response_is_unexpected() {
    let mut flow = start(None);
    let _ = expect_send(&mut flow);
    assert!(!flow.accepts(&callback()));
    flow.handle(callback(), NOW);
    let result = expect_done(&mut flow);
    assert_eq!(
        result,
        Err(Error::UnexpectedInput {
            expected: &[
                InputKind::Response,
                InputKind::TransportFailed,
                InputKind::Tick
            ],
            got: InputKind::Callback,
        })
    );
    assert_finished_for_good(&mut flow, &result);
}

#[test]
fn response_before_the_request_was_handed_out_is_unexpected() {
    let mut flow = start(None);
    let response = Input::Response(json(200, r#"{"access_token":"at","token_type":"Bearer"}"#));
    assert!(!flow.accepts(&response));
    flow.handle(response, NOW);
    assert_eq!(
        expect_done(&mut flow),
        Err(Error::UnexpectedInput {
            expected: &[InputKind::Tick],
            got: InputKind::Response,
        })
    );
}

#[test]
fn tick_before_the_request_is_handed_out_keeps_it() {
    let mut flow = start(None);
    assert!(flow.accepts(&Input::Tick));
    flow.handle(Input::Tick, NOW);
    let request = expect_send(&mut flow);
    assert_eq!(request.method(), Method::POST);
}

#[test]
fn accepts_while_awaiting_response() {
    let mut flow = start(None);
    let _ = expect_send(&mut flow);
    assert!(flow.accepts(&Input::Response(json(200, "{}"))));
    assert!(flow.accepts(&transport_failure(TransportErrorKind::Timeout)));
    assert!(flow.accepts(&Input::Tick));
    assert!(!flow.accepts(&callback()));
    assert_eq!(flow.state_name(), "AwaitingResponse");
}
