//! Refresh: rotation, no rotation, reuse detection, scope narrowing.

use crate::public_setup;
use http::Method;
use oauth_core::{ConfigError, Error, ErrorCode, Scope, parse::bearer_challenge};
use oauth_testkit::SimError;

#[test]
fn rt_01_refresh_with_rotation_replaces_the_refresh_token() {
    let (mut sim, client) = public_setup(20);
    let first = sim.authorize(&client, "read write").unwrap();
    sim.advance(10);
    let second = sim.refresh(&client, &first, None).unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    assert_ne!(second.access_token, first.access_token);
    assert_eq!(second.scope, first.scope);
    assert_eq!(second.expires_at, Some(sim.now().saturating_add(3600)));
    // The refresh request carried the refresh token and no secret (public client).
    let req = sim.sent_requests().last().unwrap();
    assert_eq!(
        crate::body_param(&req.body, "refresh_token").as_deref(),
        first.refresh_token.as_ref().map(|t| t.secret())
    );
    assert_eq!(
        crate::body_param(&req.body, "grant_type").as_deref(),
        Some("refresh_token")
    );
    assert_eq!(
        sim.call_api(Method::GET, "/x", &second).unwrap().status(),
        200
    );
}

#[test]
fn rt_01_refresh_without_rotation_keeps_the_refresh_token() {
    let (mut sim, client) = public_setup(21);
    sim.server.set_rotate_refresh_tokens(false);
    let first = sim.authorize(&client, "read").unwrap();
    let second = sim.refresh(&client, &first, None).unwrap();
    assert_eq!(second.refresh_token, first.refresh_token);
    let third = sim.refresh(&client, &second, None).unwrap();
    assert_eq!(third.refresh_token, first.refresh_token);
    assert_ne!(third.access_token, second.access_token);
}

#[test]
fn reuse_of_a_rotated_out_token_revokes_the_whole_grant() {
    let (mut sim, client) = public_setup(22);
    let first = sim.authorize(&client, "read").unwrap();
    let second = sim.refresh(&client, &first, None).unwrap();
    // Someone replays the rotated-out token (a leaked copy).
    let e = sim.refresh(&client, &first, None).unwrap_err();
    let e = e.flow_error().unwrap().clone();
    assert_eq!(
        e.error_response().map(|r| r.code.clone()),
        Some(ErrorCode::InvalidGrant)
    );
    assert!(e.needs_new_authorization());
    assert_eq!(sim.server.stats().refresh_reuse_detected, 1);
    let rt = second.refresh_token.as_ref().unwrap().secret();
    assert_eq!(sim.server.is_grant_revoked(rt), Some(true));
    // The newest refresh token and the newest access token die with the grant.
    assert!(sim.refresh(&client, &second, None).is_err());
    let resp = sim.call_api(Method::GET, "/x", &second).unwrap();
    assert_eq!(resp.status(), 401);
    assert!(
        bearer_challenge(resp.headers())
            .unwrap()
            .unwrap()
            .is_invalid_token()
    );
}

#[test]
fn tok_03_narrower_scope_allowed_wider_refused_before_sending() {
    let (mut sim, client) = public_setup(23);
    let tokens = sim.authorize(&client, "read write").unwrap();
    let narrower = sim
        .refresh(&client, &tokens, Some(Scope::parse("read").unwrap()))
        .unwrap();
    assert_eq!(narrower.scope, Some(Scope::parse("read").unwrap()));
    let before = sim.sent_requests().len();
    let wider = sim.refresh(
        &client,
        &narrower,
        Some(Scope::parse("read admin").unwrap()),
    );
    assert_eq!(
        wider,
        Err(SimError::Flow(Error::Config(ConfigError::ScopeNotGranted)))
    );
    assert_eq!(
        sim.sent_requests().len(),
        before,
        "nothing sent for a refused scope"
    );
}

#[test]
fn expired_access_token_gets_invalid_token_then_refresh_fixes_it() {
    let (mut sim, client) = public_setup(24);
    sim.server.set_access_token_ttl(60);
    let tokens = sim.authorize(&client, "read").unwrap();
    assert!(!tokens.is_expired(sim.now(), 0));
    sim.advance(61);
    assert!(tokens.is_expired(sim.now(), 0));
    let resp = sim.call_api(Method::GET, "/me", &tokens).unwrap();
    assert_eq!(resp.status(), 401);
    let ch = bearer_challenge(resp.headers()).unwrap().unwrap();
    assert!(ch.is_invalid_token());
    assert_eq!(ch.realm.as_deref(), Some("fake"));
    let fresh = sim.refresh(&client, &tokens, None).unwrap();
    assert_eq!(
        sim.call_api(Method::GET, "/me", &fresh).unwrap().status(),
        200
    );
}

#[test]
fn refresh_without_a_refresh_token_is_a_config_error() {
    let (mut sim, client) = public_setup(25);
    let mut tokens = sim.authorize(&client, "read").unwrap();
    tokens.refresh_token = None;
    assert_eq!(
        sim.refresh(&client, &tokens, None),
        Err(SimError::Flow(Error::Config(ConfigError::NoRefreshToken)))
    );
}
