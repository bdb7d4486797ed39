//! Every injected fault ends in the right typed error, and nothing is retried behind
//! the caller's back.

use crate::public_setup;
use oauth_core::{Error, ErrorCode, ParseErrorKind, TransportErrorKind};
use oauth_testkit::{Fault, SimError};

fn err(r: Result<oauth_core::TokenSet, SimError>) -> Error {
    match r {
        Err(SimError::Flow(e)) => e,
        other => panic!("expected a flow error, got {other:?}"),
    }
}

#[test]
fn internal_error_500_is_retryable_http_error() {
    let (mut sim, client) = public_setup(40);
    sim.server.inject_fault(Fault::InternalError);
    match err(sim.authorize(&client, "read")) {
        e @ Error::Http(_) => {
            assert!(e.is_retryable());
            assert_eq!(e.status(), Some(http::StatusCode::INTERNAL_SERVER_ERROR));
            assert!(e.to_string().contains("500 Internal Server Error"), "{e}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn service_unavailable_503_carries_retry_after() {
    let (mut sim, client) = public_setup(41);
    sim.server
        .inject_fault(Fault::ServiceUnavailable { retry_after: 7 });
    let e = err(sim.authorize(&client, "read"));
    assert!(e.is_retryable());
    assert_eq!(e.retry_after(), Some(sim.now().saturating_add(7)));
}

#[test]
fn truncated_body_is_a_retryable_parse_error_and_the_code_is_spent() {
    let (mut sim, client) = public_setup(42);
    sim.server.inject_fault(Fault::TruncatedBody);
    match err(sim.authorize(&client, "read")) {
        e @ Error::Parse(_) => {
            assert!(e.is_retryable());
            assert!(matches!(e, Error::Parse(ref p) if p.kind == ParseErrorKind::Truncated));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.server.stats().token_requests, 1);
    assert_eq!(
        sim.sent_requests().len(),
        1,
        "TOK-10: the code exchange is not retried"
    );
}

#[test]
fn garbage_body() {
    let (mut sim, client) = public_setup(43);
    sim.server.inject_fault(Fault::GarbageBody);
    assert!(matches!(
        err(sim.authorize(&client, "read")),
        Error::Parse(p) if p.kind == ParseErrorKind::NotUtf8
    ));
}

#[test]
fn oversized_body() {
    let (mut sim, client) = public_setup(44);
    sim.server.inject_fault(Fault::OversizedBody(2 << 20));
    assert!(matches!(
        err(sim.authorize(&client, "read")),
        Error::Parse(p) if p.kind == ParseErrorKind::TooLarge { limit: 1 << 20 }
    ));
}

#[test]
fn tok_10_connection_refused_is_not_retried() {
    let (mut sim, client) = public_setup(45);
    sim.server.inject_fault(Fault::ConnectionRefused);
    match err(sim.authorize(&client, "read")) {
        Error::Transport(t) => assert_eq!(t.kind, TransportErrorKind::Connect),
        other => panic!("{other:?}"),
    }
    assert_eq!(sim.sent_requests().len(), 1);
    assert_eq!(sim.server.stats().token_requests, 0);
}

#[test]
fn rt_04_lost_refresh_response_then_retry_with_old_token_trips_reuse_detection() {
    let (mut sim, client) = public_setup(46);
    let tokens = sim.authorize(&client, "read").unwrap();
    sim.server.inject_fault(Fault::ResponseLost);
    let lost = err(sim.refresh(&client, &tokens, None));
    assert!(matches!(&lost, Error::Transport(t) if t.kind == TransportErrorKind::ConnectionClosed));
    assert!(lost.is_retryable());
    // The server rotated the token although the client never learned the new one; a
    // retry with the token the client holds is, to the server, a reuse.
    let retry = err(sim.refresh(&client, &tokens, None));
    assert_eq!(
        retry.error_response().map(|r| r.code.clone()),
        Some(ErrorCode::InvalidGrant)
    );
    assert!(retry.needs_new_authorization());
    assert_eq!(sim.server.stats().refresh_reuse_detected, 1);
}

#[test]
fn faults_on_refresh_keep_the_old_token_set_usable_when_nothing_was_processed() {
    let (mut sim, client) = public_setup(47);
    let tokens = sim.authorize(&client, "read").unwrap();
    sim.server
        .inject_fault(Fault::ServiceUnavailable { retry_after: 1 });
    assert!(err(sim.refresh(&client, &tokens, None)).is_retryable());
    // The 503 did not reach the grant logic: the same refresh token still works.
    let fresh = sim
        .refresh(&client, &tokens, None)
        .expect("refresh after the outage");
    assert_ne!(fresh.refresh_token, tokens.refresh_token);
}
