//! Unit tests for [`super::Session`] and [`super::ApiCall`], stepped by hand so that
//! each interleaving is explicit.

use super::{ApiCall, CallInput, Session, Step};
use crate::client::ClientRegistration;
use crate::error::{Error, InputKind};
use crate::flow::test_support::json;
use crate::io::HttpResponse;
use crate::secret::{AccessToken, RefreshToken};
use crate::time::UnixTime;
use crate::token::{TokenSet, TokenType};
use std::collections::BTreeMap;

const T0: UnixTime = UnixTime::from_secs(1_700_000_000);

fn client() -> ClientRegistration {
    ClientRegistration::builder("app")
        .token_endpoint("https://as.example/token")
        .build()
        .unwrap()
}

fn tokens(at: &str, rt: Option<&str>, expires_at: Option<UnixTime>) -> TokenSet {
    TokenSet {
        access_token: AccessToken::new(at),
        token_type: TokenType::Bearer,
        expires_at,
        refresh_token: rt.map(RefreshToken::new),
        scope: None,
        id_token: None,
        received_at: T0,
        extra: BTreeMap::new(),
    }
}

fn api_request() -> http::Request<Vec<u8>> {
    http::Request::get("https://api.example/me")
        .body(Vec::new())
        .unwrap()
}

fn refreshed(at: &str, rt: &str) -> HttpResponse {
    json(
        200,
        &format!(
            r#"{{"access_token":"{at}","token_type":"Bearer","expires_in":3600,"refresh_token":"{rt}"}}"#
        ),
    )
}

fn ok() -> HttpResponse {
    json(200, "{}")
}

fn invalid_token() -> HttpResponse {
    http::Response::builder()
        .status(401)
        .header("www-authenticate", r#"Bearer error="invalid_token""#)
        .body(Vec::new())
        .unwrap()
}

/// The request of a `Send` step: (uri, Authorization header or "").
fn sent(step: &Step) -> (String, String) {
    match step {
        Step::Send(r) => (
            r.uri().to_string(),
            r.headers()
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default(),
        ),
        other => panic!("expected Send, got {other:?}"),
    }
}

fn expired_session() -> Session {
    Session::new(&client(), tokens("old-at", Some("old-rt"), Some(T0)))
}

#[test]
fn every_state_is_in_the_diagram() {
    let doc = include_str!("session.rs");
    let diagram: String = doc.lines().take_while(|l| l.starts_with("//!")).collect();
    for name in [
        "Ready",
        "Refreshing",
        "Persisting",
        "PersistPending",
        "NeedsAuthorization",
        "Start",
        "Sending",
        "WaitingForRefresh",
        "Done",
    ] {
        assert!(diagram.contains(name), "{name} missing from the diagram");
    }
}

#[test]
fn a_valid_token_is_attached_and_the_response_returned() {
    let mut s = Session::new(
        &client(),
        tokens("at-1", Some("rt"), Some(T0.saturating_add(3600))),
    );
    let mut call = ApiCall::new(api_request());
    let step = call.handle(&mut s, CallInput::Begin, T0);
    assert_eq!(
        sent(&step),
        ("https://api.example/me".into(), "Bearer at-1".into())
    );
    match call.handle(&mut s, CallInput::Response(ok()), T0) {
        Step::Done(Ok(r)) => assert_eq!(r.status(), 200),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.refresh_count(), 0);
}

#[test]
fn unknown_expiry_counts_as_valid() {
    let mut s = Session::new(&client(), tokens("at-1", Some("rt"), None));
    let mut call = ApiCall::new(api_request());
    let step = call.handle(&mut s, CallInput::Begin, T0.saturating_add(10_000_000));
    assert_eq!(sent(&step).1, "Bearer at-1");
}

#[test]
fn rt_03_single_flight_waiters_get_the_new_token_only_after_it_is_persisted() {
    let mut s = expired_session();
    let (mut a, mut b, mut c) = (
        ApiCall::new(api_request()),
        ApiCall::new(api_request()),
        ApiCall::new(api_request()),
    );
    // A finds the token expired and drives the refresh.
    let step = a.handle(&mut s, CallInput::Begin, T0);
    assert_eq!(sent(&step).0, "https://as.example/token");
    assert_eq!(s.state_name(), "Refreshing");
    // B and C must wait: no second refresh request.
    let v = s.version();
    assert!(matches!(b.handle(&mut s, CallInput::Begin, T0), Step::Wait));
    assert!(matches!(c.handle(&mut s, CallInput::Begin, T0), Step::Wait));
    assert_eq!(s.version(), v, "waiting changes nothing");
    // The refresh answers: A must persist before anyone uses the new token.
    let step = a.handle(&mut s, CallInput::Response(refreshed("at-2", "rt-2")), T0);
    let Step::Persist(new) = step else {
        panic!("{step:?}")
    };
    assert_eq!(new.access_token, AccessToken::new("at-2"));
    assert_eq!(new.refresh_token, Some(RefreshToken::new("rt-2")));
    assert_eq!(s.state_name(), "Persisting");
    assert_ne!(s.version(), v, "waiters are told the session changed");
    // A woken waiter still waits while the new set is unsaved.
    assert!(matches!(b.handle(&mut s, CallInput::Wake, T0), Step::Wait));
    // Persisted: A sends its call with the new token; so do B and C when woken.
    assert_eq!(
        sent(&a.handle(&mut s, CallInput::Persisted(Ok(())), T0)).1,
        "Bearer at-2"
    );
    assert_eq!(
        sent(&b.handle(&mut s, CallInput::Wake, T0)).1,
        "Bearer at-2"
    );
    assert_eq!(
        sent(&c.handle(&mut s, CallInput::Wake, T0)).1,
        "Bearer at-2"
    );
    assert_eq!(s.refresh_count(), 1);
    assert_eq!(
        s.tokens().and_then(|t| t.refresh_token.clone()),
        Some(RefreshToken::new("rt-2")),
        "RT-01: the rotated refresh token replaced the old one"
    );
}

#[test]
fn rt_03_a_failed_refresh_is_reported_to_every_waiter() {
    let mut s = expired_session();
    let (mut a, mut b, mut c) = (
        ApiCall::new(api_request()),
        ApiCall::new(api_request()),
        ApiCall::new(api_request()),
    );
    let _ = a.handle(&mut s, CallInput::Begin, T0);
    assert!(matches!(b.handle(&mut s, CallInput::Begin, T0), Step::Wait));
    assert!(matches!(c.handle(&mut s, CallInput::Begin, T0), Step::Wait));
    let Step::Done(Err(e)) = a.handle(&mut s, CallInput::Response(json(503, "")), T0) else {
        panic!("the refresh failed")
    };
    assert!(e.is_retryable());
    for w in [&mut b, &mut c] {
        match w.handle(&mut s, CallInput::Wake, T0) {
            Step::Done(Err(got)) => assert_eq!(got, e),
            other => panic!("{other:?}"),
        }
    }
    // The session is usable again: a new call starts a new refresh.
    assert_eq!(s.state_name(), "Ready");
    let mut d = ApiCall::new(api_request());
    assert_eq!(
        sent(&d.handle(&mut s, CallInput::Begin, T0)).0,
        "https://as.example/token"
    );
}

#[test]
fn a_still_valid_token_is_used_while_its_successor_is_fetched() {
    // 20 s left, skew 30: due for refresh, but not expired.
    let mut t = tokens("at-1", Some("rt"), Some(T0.saturating_add(20)));
    t.received_at = T0.saturating_sub(3600); // a one-hour token with 20 s left
    let mut s = Session::new(&client(), t);
    let mut a = ApiCall::new(api_request());
    assert_eq!(
        sent(&a.handle(&mut s, CallInput::Begin, T0)).0,
        "https://as.example/token"
    );
    let mut b = ApiCall::new(api_request());
    assert_eq!(
        sent(&b.handle(&mut s, CallInput::Begin, T0)).1,
        "Bearer at-1"
    );
}

#[test]
fn bearer_06_invalid_token_refreshes_once_and_replays_once() {
    let mut s = Session::new(&client(), tokens("at-1", Some("rt-1"), None));
    let mut call = ApiCall::new(api_request());
    assert_eq!(
        sent(&call.handle(&mut s, CallInput::Begin, T0)).1,
        "Bearer at-1"
    );
    let step = call.handle(&mut s, CallInput::Response(invalid_token()), T0);
    assert_eq!(
        sent(&step).0,
        "https://as.example/token",
        "the rejected token is refreshed"
    );
    let Step::Persist(_) = call.handle(&mut s, CallInput::Response(refreshed("at-2", "rt-2")), T0)
    else {
        panic!("persist first")
    };
    assert_eq!(
        sent(&call.handle(&mut s, CallInput::Persisted(Ok(())), T0)).1,
        "Bearer at-2"
    );
    assert!(call.was_replayed());
    // A second invalid_token is returned, not retried.
    match call.handle(&mut s, CallInput::Response(invalid_token()), T0) {
        Step::Done(Ok(r)) => assert_eq!(r.status(), 401),
        other => panic!("{other:?}"),
    }
    assert_eq!(s.refresh_count(), 1);
}

#[test]
fn a_call_rejected_with_an_old_token_replays_with_the_new_one_without_refreshing() {
    let mut s = Session::new(&client(), tokens("at-1", Some("rt-1"), None));
    let (mut a, mut b) = (ApiCall::new(api_request()), ApiCall::new(api_request()));
    let _ = a.handle(&mut s, CallInput::Begin, T0);
    let _ = b.handle(&mut s, CallInput::Begin, T0);
    // A's 401 triggers the refresh; B's 401 (same old token) arrives after it is done.
    let _ = a.handle(&mut s, CallInput::Response(invalid_token()), T0);
    let _ = a.handle(&mut s, CallInput::Response(refreshed("at-2", "rt-2")), T0);
    let _ = a.handle(&mut s, CallInput::Persisted(Ok(())), T0);
    assert_eq!(
        sent(&b.handle(&mut s, CallInput::Response(invalid_token()), T0)).1,
        "Bearer at-2"
    );
    assert_eq!(s.refresh_count(), 1);
}

#[test]
fn a_non_replayable_call_returns_the_401_and_the_next_call_refreshes() {
    let mut s = Session::new(&client(), tokens("at-1", Some("rt-1"), None));
    let mut post = ApiCall::without_replay(api_request());
    let _ = post.handle(&mut s, CallInput::Begin, T0);
    match post.handle(&mut s, CallInput::Response(invalid_token()), T0) {
        Step::Done(Ok(r)) => assert_eq!(r.status(), 401),
        other => panic!("{other:?}"),
    }
    assert!(!post.was_replayed());
    let mut next = ApiCall::new(api_request());
    assert_eq!(
        sent(&next.handle(&mut s, CallInput::Begin, T0)).0,
        "https://as.example/token"
    );
}

#[test]
fn err_06_invalid_grant_needs_authorization_and_drops_the_tokens() {
    let mut s = expired_session();
    let (mut a, mut b) = (ApiCall::new(api_request()), ApiCall::new(api_request()));
    let _ = a.handle(&mut s, CallInput::Begin, T0);
    let _ = b.handle(&mut s, CallInput::Begin, T0);
    let Step::Done(Err(e)) = a.handle(
        &mut s,
        CallInput::Response(json(400, r#"{"error":"invalid_grant"}"#)),
        T0,
    ) else {
        panic!()
    };
    assert!(e.needs_new_authorization());
    assert!(matches!(b.handle(&mut s, CallInput::Wake, T0), Step::Done(Err(ref got)) if *got == e));
    assert!(s.tokens().is_none());
    assert_eq!(s.needs_authorization(), Some(&e));
    let mut c = ApiCall::new(api_request());
    assert!(
        matches!(c.handle(&mut s, CallInput::Begin, T0), Step::Done(Err(ref got)) if *got == e)
    );
    // A new authorization revives the session.
    s.replace_tokens(tokens("at-9", Some("rt-9"), None));
    let mut d = ApiCall::new(api_request());
    assert_eq!(
        sent(&d.handle(&mut s, CallInput::Begin, T0)).1,
        "Bearer at-9"
    );
}

#[test]
fn rt_02_persist_failure_keeps_the_new_set_aside_for_the_next_call() {
    let mut s = expired_session();
    let (mut a, mut b) = (ApiCall::new(api_request()), ApiCall::new(api_request()));
    let _ = a.handle(&mut s, CallInput::Begin, T0);
    assert!(matches!(b.handle(&mut s, CallInput::Begin, T0), Step::Wait));
    let _ = a.handle(&mut s, CallInput::Response(refreshed("at-2", "rt-2")), T0);
    let Step::Done(Err(e)) = a.handle(&mut s, CallInput::Persisted(Err("disk full".into())), T0)
    else {
        panic!()
    };
    assert_eq!(e, Error::PersistFailed("disk full".into()));
    assert!(matches!(b.handle(&mut s, CallInput::Wake, T0), Step::Done(Err(ref got)) if *got == e));
    assert_eq!(s.state_name(), "PersistPending");
    // The next call persists the kept set (no new refresh) and then uses it.
    let mut c = ApiCall::new(api_request());
    let Step::Persist(kept) = c.handle(&mut s, CallInput::Begin, T0) else {
        panic!()
    };
    assert_eq!(kept.refresh_token, Some(RefreshToken::new("rt-2")));
    assert_eq!(
        sent(&c.handle(&mut s, CallInput::Persisted(Ok(())), T0)).1,
        "Bearer at-2"
    );
}

#[test]
fn expired_without_refresh_token_is_token_expired() {
    let mut s = Session::new(&client(), tokens("at", None, Some(T0)));
    let mut call = ApiCall::new(api_request());
    assert!(matches!(
        call.handle(&mut s, CallInput::Begin, T0),
        Step::Done(Err(Error::TokenExpired))
    ));
    assert!(Error::TokenExpired.needs_new_authorization());
}

#[test]
fn misfit_inputs_end_the_call_with_a_typed_error() {
    let mut s = Session::new(&client(), tokens("at", Some("rt"), None));
    let mut call = ApiCall::new(api_request());
    match call.handle(&mut s, CallInput::Wake, T0) {
        Step::Done(Err(Error::UnexpectedInput { expected, got })) => {
            assert_eq!(expected, &[InputKind::Begin]);
            assert_eq!(got, InputKind::Wake);
        }
        other => panic!("{other:?}"),
    }
    // Finished calls stay finished.
    assert!(matches!(
        call.handle(&mut s, CallInput::Begin, T0),
        Step::Done(Err(_))
    ));
    assert_eq!(
        s.state_name(),
        "Ready",
        "a misfit call does not disturb the session"
    );
}

#[test]
fn transport_failure_of_the_refresh_fails_the_call_and_keeps_the_old_tokens() {
    let mut s = expired_session();
    let mut a = ApiCall::new(api_request());
    let _ = a.handle(&mut s, CallInput::Begin, T0);
    let f = crate::error::TransportFailure::new(crate::error::TransportErrorKind::Timeout, "t");
    assert!(matches!(
        a.handle(&mut s, CallInput::TransportFailed(f), T0),
        Step::Done(Err(Error::Transport(_)))
    ));
    assert_eq!(
        s.tokens()
            .map(|t| t.access_token.secret().to_owned())
            .as_deref(),
        Some("old-at")
    );
}

#[test]
fn debug_forms_show_no_tokens() {
    let mut s = expired_session();
    let mut a = ApiCall::new(api_request());
    let step = a.handle(&mut s, CallInput::Begin, T0);
    for shown in [format!("{s:?}"), format!("{a:?}"), format!("{step:?}")] {
        assert!(
            !shown.contains("old-at") && !shown.contains("old-rt"),
            "{shown}"
        );
    }
}

#[test]
fn a_refresh_overtaken_by_replace_tokens_carries_on_with_the_new_tokens() {
    let mut s = expired_session();
    let mut a = ApiCall::new(api_request());
    let _ = a.handle(&mut s, CallInput::Begin, T0);
    // A new login replaces the tokens while the refresh is out.
    s.replace_tokens(tokens("fresh-at", Some("fresh-rt"), None));
    let step = a.handle(
        &mut s,
        CallInput::Response(refreshed("stale-at", "stale-rt")),
        T0,
    );
    assert_eq!(
        sent(&step).1,
        "Bearer fresh-at",
        "the stale refresh is dropped, not persisted"
    );
    assert_eq!(s.refresh_count(), 0);
}

#[test]
fn forget_returns_the_live_tokens_and_ends_every_later_call() {
    let mut s = Session::new(&client(), tokens("at", Some("rt"), None));
    let t = s.forget().expect("tokens");
    assert_eq!(t.refresh_token, Some(RefreshToken::new("rt")));
    let mut c = ApiCall::new(api_request());
    assert!(matches!(
        c.handle(&mut s, CallInput::Begin, T0),
        Step::Done(Err(Error::LoggedOut))
    ));
    assert!(s.forget().is_none());
    // During a save, the unsaved newer set is the one whose refresh token is alive.
    let mut s = expired_session();
    let mut a = ApiCall::new(api_request());
    let _ = a.handle(&mut s, CallInput::Begin, T0);
    let _ = a.handle(&mut s, CallInput::Response(refreshed("at-2", "rt-2")), T0);
    assert_eq!(
        s.forget().and_then(|t| t.refresh_token),
        Some(RefreshToken::new("rt-2"))
    );
}

#[test]
fn tokens_shorter_lived_than_the_margin_are_used_not_refreshed_forever() {
    // The server issues 2-second tokens; the margin is 30 s. A fresh token is used (for
    // the first half of its life), and a call never refreshes twice.
    let mut t = tokens("at-1", Some("rt-1"), Some(T0.saturating_add(2)));
    t.received_at = T0;
    let mut s = Session::new(&client(), t);
    let mut a = ApiCall::new(api_request());
    assert_eq!(
        sent(&a.handle(&mut s, CallInput::Begin, T0)).1,
        "Bearer at-1"
    );
    // One second later it is due; the refreshed one is used even though a server
    // issuing stale tokens makes it "due" at once.
    let later = T0.saturating_add(1);
    let mut b = ApiCall::new(api_request());
    assert_eq!(
        sent(&b.handle(&mut s, CallInput::Begin, later)).0,
        "https://as.example/token"
    );
    let stale = json(
        200,
        r#"{"access_token":"at-2","token_type":"Bearer","expires_in":0,"refresh_token":"rt-2"}"#,
    );
    let Step::Persist(_) = b.handle(&mut s, CallInput::Response(stale), later) else {
        panic!()
    };
    assert_eq!(
        sent(&b.handle(&mut s, CallInput::Persisted(Ok(())), later)).1,
        "Bearer at-2"
    );
    assert_eq!(s.refresh_count(), 1);
}
