//! The API session in simulation: refresh ahead of expiry, single flight under
//! concurrency, persistence before use, one replay on `invalid_token`.

use crate::public_setup;
use http::Method;
use oauth_core::{ApiCall, Error, ErrorCode, HttpResponse, Session, TokenSet};
use oauth_testkit::{Fault, Hop, SimError, Simulation};
use std::cell::RefCell;
use std::rc::Rc;

fn get(sim: &Simulation, path: &str) -> http::Request<Vec<u8>> {
    let mut r = http::Request::new(Vec::new());
    *r.method_mut() = Method::GET;
    *r.uri_mut() = sim.server.resource_url(path).parse().unwrap();
    r
}

fn calls(sim: &Simulation, n: usize) -> Vec<ApiCall> {
    (0..n).map(|_| ApiCall::new(get(sim, "/me"))).collect()
}

type Saved = Rc<RefCell<Vec<TokenSet>>>;

/// A token store that records what it was asked to save.
fn store() -> (Saved, impl FnMut(&TokenSet) -> Result<(), String>) {
    let saved = Rc::new(RefCell::new(Vec::new()));
    let s = Rc::clone(&saved);
    (saved, move |t: &TokenSet| {
        s.borrow_mut().push(t.clone());
        Ok(())
    })
}

fn all_ok(results: &[Result<HttpResponse, Error>]) -> bool {
    results
        .iter()
        .all(|r| r.as_ref().is_ok_and(|r| r.status() == 200))
}

#[test]
fn rt_03_one_refresh_for_1000_concurrent_callers_on_an_expired_token() {
    let (mut sim, client) = public_setup(100);
    sim.server.set_access_token_ttl(60);
    let tokens = sim.authorize(&client, "read").unwrap();
    sim.set_recording(false);
    sim.advance(120);
    let mut session = Session::new(&client, tokens);
    let (saved, mut persist) = store();
    let before = sim.server.stats().token_requests;
    let results = sim
        .run_calls(&mut session, calls(&sim, 1000), &mut persist)
        .unwrap();
    assert_eq!(results.len(), 1000);
    assert!(all_ok(&results), "every call succeeds");
    assert_eq!(
        sim.server.stats().token_requests - before,
        1,
        "exactly one refresh reached the server"
    );
    assert_eq!(session.refresh_count(), 1);
    assert_eq!(
        saved.borrow().len(),
        1,
        "the new token set was persisted once"
    );
    assert_eq!(sim.server.stats().resource_requests, 1000);
}

#[test]
fn ten_thousand_calls_over_several_expiries_never_send_a_rotated_out_token() {
    let (mut sim, client) = public_setup(101);
    sim.server
        .set_access_token_ttl(60)
        .set_rotate_refresh_tokens(true);
    let tokens = sim.authorize(&client, "read").unwrap();
    sim.set_recording(false);
    let mut session = Session::new(&client, tokens);
    let (saved, mut persist) = store();
    let rounds = 10;
    let mut ok = 0;
    for round in 0..rounds {
        if round > 0 {
            sim.advance(61);
        }
        let results = sim
            .run_calls(&mut session, calls(&sim, 1000), &mut persist)
            .unwrap();
        assert!(all_ok(&results), "round {round}");
        ok += results.len();
    }
    assert_eq!(ok, 10_000);
    // One refresh per expiry: the token of rounds 1..10 had expired each time.
    assert_eq!(session.refresh_count(), rounds - 1);
    assert_eq!(saved.borrow().len() as u64, rounds - 1);
    assert_eq!(
        sim.server.stats().refresh_reuse_detected,
        0,
        "a rotated-out token was presented"
    );
    // Each persisted set carried a new refresh token (rotation), all distinct.
    let mut rts: Vec<String> = saved
        .borrow()
        .iter()
        .map(|t| t.refresh_token.as_ref().unwrap().secret().to_owned())
        .collect();
    rts.dedup();
    assert_eq!(rts.len() as u64, rounds - 1);
}

#[test]
fn rt_06_refresh_happens_ahead_of_expiry_within_the_skew() {
    let (mut sim, client) = public_setup(102);
    sim.server.set_access_token_ttl(60);
    let tokens = sim.authorize(&client, "read").unwrap();
    let mut session = Session::new(&client, tokens).with_skew(30);
    let (_, mut persist) = store();
    sim.advance(29);
    sim.run_calls(&mut session, calls(&sim, 1), &mut persist)
        .unwrap();
    assert_eq!(session.refresh_count(), 0, "30 s left: no refresh yet");
    sim.advance(2);
    sim.run_calls(&mut session, calls(&sim, 1), &mut persist)
        .unwrap();
    assert_eq!(
        session.refresh_count(),
        1,
        "within the skew: refreshed first"
    );
}

/// The client believes its token lives much longer than the server does.
fn lying_expiry(sim: &mut Simulation) {
    sim.set_filter(|hop| {
        if let Hop::Response(r) = hop {
            let body = String::from_utf8_lossy(r.body()).into_owned();
            if body.contains("\"expires_in\"") {
                let v: serde_json::Value = serde_json::from_str(&body).unwrap();
                let mut v = v.as_object().unwrap().clone();
                v.remove("expires_in");
                *r.body_mut() = serde_json::Value::Object(v).to_string().into_bytes();
            }
        }
    });
}

#[test]
fn bearer_06_invalid_token_refreshes_once_and_replays_once() {
    let (mut sim, client) = public_setup(103);
    sim.server.set_access_token_ttl(60);
    lying_expiry(&mut sim);
    let tokens = sim.authorize(&client, "read").unwrap();
    assert_eq!(tokens.expires_at, None, "expiry unknown: valid until a 401");
    let mut session = Session::new(&client, tokens);
    let (_, mut persist) = store();
    sim.advance(61);
    let results = sim
        .run_calls(&mut session, calls(&sim, 1), &mut persist)
        .unwrap();
    assert!(all_ok(&results));
    assert_eq!(session.refresh_count(), 1);
    assert_eq!(
        sim.server.stats().resource_requests,
        2,
        "the 401, then the replay"
    );
}

#[test]
fn a_second_invalid_token_is_returned_not_retried() {
    let (mut sim, client) = public_setup(104);
    let tokens = sim.authorize(&client, "read").unwrap();
    // A resource that rejects every token.
    sim.set_filter(|hop| {
        if let Hop::Response(r) = hop
            && r.headers()
                .get("content-type")
                .is_some_and(|v| v == "application/json")
            && !String::from_utf8_lossy(r.body()).contains("access_token")
        {
            *r.status_mut() = http::StatusCode::UNAUTHORIZED;
            r.headers_mut().insert(
                "www-authenticate",
                http::HeaderValue::from_static(r#"Bearer error="invalid_token""#),
            );
        }
    });
    let mut session = Session::new(&client, tokens);
    let (_, mut persist) = store();
    let results = sim
        .run_calls(&mut session, calls(&sim, 1), &mut persist)
        .unwrap();
    let resp = results[0].as_ref().unwrap();
    assert_eq!(resp.status(), 401);
    assert_eq!(session.refresh_count(), 1, "one refresh");
    assert_eq!(
        sim.server.stats().resource_requests,
        2,
        "one replay, no loop"
    );
}

#[test]
fn non_replayable_calls_are_not_replayed_but_the_token_is_renewed() {
    let (mut sim, client) = public_setup(105);
    sim.server.set_access_token_ttl(60);
    lying_expiry(&mut sim);
    let tokens = sim.authorize(&client, "read").unwrap();
    let mut session = Session::new(&client, tokens);
    let (_, mut persist) = store();
    sim.advance(61);
    let mut post = get(&sim, "/orders");
    *post.method_mut() = Method::POST;
    let results = sim
        .run_calls(
            &mut session,
            vec![ApiCall::without_replay(post)],
            &mut persist,
        )
        .unwrap();
    assert_eq!(results[0].as_ref().unwrap().status(), 401, "not replayed");
    assert_eq!(sim.server.stats().resource_requests, 1);
    // The next call refreshes and succeeds.
    let results = sim
        .run_calls(&mut session, calls(&sim, 1), &mut persist)
        .unwrap();
    assert!(all_ok(&results));
    assert_eq!(session.refresh_count(), 1);
}

#[test]
fn err_06_invalid_grant_ends_the_session_for_every_caller() {
    let (mut sim, client) = public_setup(106);
    sim.server.set_access_token_ttl(60);
    let tokens = sim.authorize(&client, "read").unwrap();
    // Someone else uses and rotates the refresh token, then presents the old one: the
    // server revokes the grant.
    let other = sim.refresh(&client, &tokens, None).unwrap();
    let _ = sim.refresh(&client, &tokens, None);
    sim.set_recording(false);
    sim.advance(61);
    let mut session = Session::new(&client, other);
    let (saved, mut persist) = store();
    let before = sim.server.stats().token_requests;
    let results = sim
        .run_calls(&mut session, calls(&sim, 20), &mut persist)
        .unwrap();
    for r in &results {
        let e = r.as_ref().unwrap_err();
        assert!(e.needs_new_authorization(), "{e:?}");
    }
    assert_eq!(
        sim.server.stats().token_requests - before,
        1,
        "one refresh attempt, no loop"
    );
    assert!(session.needs_authorization().is_some());
    assert!(
        session.tokens().is_none(),
        "the dead refresh token is dropped"
    );
    assert!(saved.borrow().is_empty());
    // Later calls fail at once, without a request.
    let results = sim
        .run_calls(&mut session, calls(&sim, 3), &mut persist)
        .unwrap();
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().is_err_and(Error::needs_new_authorization))
    );
    assert_eq!(sim.server.stats().token_requests - before, 1);
}

#[test]
fn a_failed_refresh_fails_its_waiters_and_a_later_call_tries_again() {
    let (mut sim, client) = public_setup(107);
    sim.server.set_access_token_ttl(60);
    let tokens = sim.authorize(&client, "read").unwrap();
    sim.set_recording(false);
    sim.advance(61);
    sim.server.inject_fault(Fault::InternalError);
    let mut session = Session::new(&client, tokens);
    let (saved, mut persist) = store();
    let before = sim.server.stats().resource_requests;
    let results = sim
        .run_calls(&mut session, calls(&sim, 50), &mut persist)
        .unwrap();
    // Calls that took part in the failed refresh (its driver and its waiters) get its
    // error; calls that began after it start a new refresh, which succeeds.
    let failed: Vec<&Error> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(!failed.is_empty());
    for e in &failed {
        assert_eq!(
            e.status(),
            Some(http::StatusCode::INTERNAL_SERVER_ERROR),
            "{e:?}"
        );
        assert!(e.is_retryable());
    }
    let succeeded = results
        .iter()
        .filter(|r| r.as_ref().is_ok_and(|r| r.status() == 200))
        .count();
    assert_eq!(failed.len() + succeeded, 50);
    assert_eq!(sim.server.stats().resource_requests - before, succeeded);
    assert_eq!(session.refresh_count(), u64::from(succeeded > 0));
    assert_eq!(saved.borrow().len(), usize::from(succeeded > 0));
    // Whatever happened, the next batch succeeds with at most one more refresh.
    let results = sim
        .run_calls(&mut session, calls(&sim, 50), &mut persist)
        .unwrap();
    assert!(all_ok(&results));
    assert_eq!(session.refresh_count(), 1);
}

#[test]
fn rt_02_a_token_set_that_could_not_be_saved_is_never_handed_out() {
    let (mut sim, client) = public_setup(108);
    sim.server.set_access_token_ttl(60);
    let tokens = sim.authorize(&client, "read").unwrap();
    sim.advance(61);
    let mut session = Session::new(&client, tokens);
    let attempts = Rc::new(RefCell::new(0));
    let a = Rc::clone(&attempts);
    let mut flaky = move |_: &TokenSet| {
        *a.borrow_mut() += 1;
        if *a.borrow() == 1 {
            Err("disk full".to_owned())
        } else {
            Ok(())
        }
    };
    let results = sim
        .run_calls(&mut session, calls(&sim, 10), &mut flaky)
        .unwrap();
    let mut persist_failures = 0;
    for r in &results {
        match r {
            Err(Error::PersistFailed(why)) => {
                assert_eq!(why, "disk full");
                persist_failures += 1;
            }
            Ok(resp) => assert_eq!(resp.status(), 200),
            other => panic!("{other:?}"),
        }
    }
    assert!(persist_failures >= 1);
    let ok = results.len() - persist_failures;
    // Calls only succeeded once the kept set was saved on the second attempt.
    assert_eq!(*attempts.borrow(), if ok > 0 { 2 } else { 1 });
    assert_eq!(sim.server.stats().resource_requests, ok);
    let results = sim
        .run_calls(&mut session, calls(&sim, 10), &mut flaky)
        .unwrap();
    assert!(all_ok(&results));
    assert_eq!(*attempts.borrow(), 2);
    // One refresh only: the rotated-out refresh token was never presented again.
    assert_eq!(sim.server.stats().refresh_reuse_detected, 0);
    assert_eq!(
        sim.server.stats().token_requests,
        2,
        "the code exchange and one refresh"
    );
}

#[test]
fn expired_without_a_refresh_token_is_token_expired() {
    let (mut sim, client) = public_setup(109);
    sim.server.set_access_token_ttl(60);
    let mut tokens = sim.authorize(&client, "read").unwrap();
    tokens.refresh_token = None;
    sim.advance(61);
    let mut session = Session::new(&client, tokens);
    let (_, mut persist) = store();
    let results = sim
        .run_calls(&mut session, calls(&sim, 2), &mut persist)
        .unwrap();
    for r in results {
        assert!(matches!(r, Err(Error::TokenExpired)));
    }
}

#[test]
fn transport_failure_of_the_api_call_is_typed() {
    let (mut sim, client) = public_setup(110);
    let tokens = sim.authorize(&client, "read").unwrap();
    let mut session = Session::new(&client, tokens);
    let (_, mut persist) = store();
    let mut bad = get(&sim, "/me");
    *bad.uri_mut() = "http://api.example/insecure".parse().unwrap();
    let results = sim
        .run_calls(&mut session, vec![ApiCall::new(bad)], &mut persist)
        .unwrap();
    assert!(matches!(
        &results[0],
        Err(Error::Config(oauth_core::ConfigError::InsecureResource))
    ));
    let _ = SimError::AwaitedUnsentResponse;
    let _ = ErrorCode::InvalidGrant;
}
