//! The scenarios, each against its own fresh oidc-provider.

use crate::provider::{Who, login, provider, transport};
use crate::record::Recorder;
use oauth_core::{Error, ErrorCode, Flow, Input, Output, RefreshFlow, Scope, TokenSet};
use oauth_ureq::{ApiError, call_api, now, run};

const SERVER: &str = "oidc-provider 9.13.3";

fn api(
    p: &crate::provider::Provider,
    tokens: &TokenSet,
    rec: &Recorder,
) -> Result<http::Response<Vec<u8>>, ApiError> {
    let req = http::Request::get(p.api_url())
        .body(Vec::new())
        .expect("request");
    call_api(&transport(rec), req, tokens)
}

fn refresh(
    client: &oauth_core::ClientRegistration,
    tokens: &TokenSet,
    rec: &Recorder,
) -> Result<TokenSet, oauth_ureq::Error> {
    let mut flow = RefreshFlow::start(client, tokens, None).expect("a refresh token");
    run(&mut flow, &transport(rec), None)
}

fn server_error(e: oauth_ureq::Error) -> oauth_core::ErrorResponse {
    match e {
        oauth_ureq::Error::Flow(Error::Server(r)) => r,
        other => panic!("expected an OAuth error from the server, got {other:?}"),
    }
}

#[test]
fn login_code_exchange_api_call_and_refresh_with_rotation() {
    let Some(p) = provider() else { return };
    eprintln!("oidc-provider started in {:?}", p.started_in);
    let rec = Recorder::new("login_refresh_rotation", &p.issuer);
    let (tokens, client) = login(&p, Who::Public, &[], &rec);
    let tokens = tokens.expect("login through oidc-provider");
    assert!(
        tokens.refresh_token.is_some(),
        "oidc-provider issues a refresh token"
    );
    assert!(tokens.id_token.is_some(), "openid scope yields an ID token");
    assert_eq!(tokens.scope, Some(Scope::parse("openid api:read").unwrap()));
    assert!(tokens.expires_at.is_some_and(|e| e > now()));

    let resp = api(&p, &tokens, &rec).expect("API call");
    assert_eq!(resp.status(), 200);
    let me: serde_json::Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(me["sub"], "alice");
    assert_eq!(me["client_id"], "public-native");

    let refreshed = refresh(&client, &tokens, &rec).expect("refresh");
    assert_ne!(
        refreshed.refresh_token, tokens.refresh_token,
        "rotation is on"
    );
    assert_ne!(refreshed.access_token, tokens.access_token);
    assert_eq!(api(&p, &refreshed, &rec).expect("API call").status(), 200);
    rec.finish(SERVER);
}

#[test]
fn replaying_a_rotated_out_refresh_token_revokes_the_grant() {
    let Some(p) = provider() else { return };
    let rec = Recorder::new("refresh_token_reuse", &p.issuer);
    let (tokens, client) = login(&p, Who::Public, &[], &rec);
    let tokens = tokens.expect("login");
    let refreshed = refresh(&client, &tokens, &rec).expect("first refresh");
    // The old token again: oidc-provider's reuse detection.
    let e = refresh(&client, &tokens, &rec).expect_err("reuse must fail");
    let r = server_error(e);
    assert_eq!(r.code, ErrorCode::InvalidGrant);
    assert_eq!(r.status, Some(http::StatusCode::BAD_REQUEST));
    // The whole grant is gone: the newest refresh token and access token too.
    let e = refresh(&client, &refreshed, &rec).expect_err("the grant is revoked");
    assert_eq!(server_error(e).code, ErrorCode::InvalidGrant);
    match api(&p, &refreshed, &rec) {
        Err(ApiError::InvalidToken { .. }) => {}
        other => panic!("expected invalid_token after revocation, got {other:?}"),
    }
    rec.finish(SERVER);
}

#[test]
fn confidential_clients_basic_with_special_characters_and_post() {
    let Some(p) = provider() else { return };
    let rec = Recorder::new("confidential_clients", &p.issuer);
    for who in [Who::Basic, Who::Post] {
        let (tokens, client) = login(&p, who, &[], &rec);
        let tokens = tokens.unwrap_or_else(|e| panic!("{who:?} login: {e}"));
        let refreshed = refresh(&client, &tokens, &rec).expect("refresh");
        assert_eq!(api(&p, &refreshed, &rec).expect("API").status(), 200);
    }
    rec.finish(SERVER);
}

#[test]
fn wrong_client_secret_is_invalid_client() {
    let Some(p) = provider() else { return };
    let rec = Recorder::new("wrong_client_secret", &p.issuer);
    let (result, _) = login(&p, Who::WrongSecret, &[], &rec);
    let e = result.expect_err("a wrong secret must fail");
    let text = e.to_string();
    let r = server_error(e);
    assert_eq!(r.code, ErrorCode::InvalidClient);
    assert_eq!(r.status, Some(http::StatusCode::UNAUTHORIZED));
    assert!(!text.contains("not-the-secret"));
    rec.finish(SERVER);
}

#[test]
fn denied_consent_is_access_denied_after_state_and_iss_checks() {
    let Some(p) = provider() else { return };
    let rec = Recorder::new("denied_consent", &p.issuer);
    let (result, _) = login(&p, Who::Public, &[("test_decision", "deny")], &rec);
    match result {
        Err(oauth_ureq::Error::Flow(e @ Error::AuthorizationDenied(_))) => {
            assert_eq!(
                e.error_response().map(|r| r.code.clone()),
                Some(ErrorCode::AccessDenied)
            );
            assert!(e.needs_new_authorization());
        }
        other => panic!("expected access_denied, got {other:?}"),
    }
    rec.finish(SERVER);
}

#[test]
fn wrong_pkce_verifier_is_invalid_grant() {
    let Some(p) = provider() else { return };
    let rec = Recorder::new("wrong_pkce_verifier", &p.issuer);
    let listener = oauth_ureq::LoopbackListener::bind_default().unwrap();
    let client = p.client(Who::Public, &listener.redirect_uri());
    let params =
        oauth_core::AuthorizationParams::new().scope(Scope::parse("openid api:read").unwrap());
    let mut flow = oauth_core::AuthorizationCodeFlow::start(
        &client,
        params,
        &mut oauth_ureq::system_rng(),
        now(),
    )
    .unwrap();
    let mut callbacks = rec.callback_source(oauth_ureq::LoopbackCallback::new(
        listener,
        crate::provider::headless_browser(),
    ));
    let t = transport(&rec);
    // The driver loop, with one change: the verifier is altered on its way out.
    let outcome = loop {
        match flow.poll() {
            Output::Visit(url) => oauth_ureq::CallbackSource::visit(&mut callbacks, &url).unwrap(),
            Output::AwaitCallback { deadline } => {
                let mut accepts = |u: &url::Url| flow.accepts(&Input::Callback(u.clone()));
                let cb = oauth_ureq::CallbackSource::wait(&mut callbacks, deadline, &mut accepts)
                    .unwrap()
                    .expect("a callback");
                flow.handle(Input::Callback(cb), now());
            }
            Output::Send(request) => {
                let mut request = request.into_http();
                let body = String::from_utf8(request.body().clone()).unwrap();
                *request.body_mut() = body
                    .replace("code_verifier=", "code_verifier=AAAA")
                    .into_bytes();
                let input = match t.send_http(request) {
                    Ok(r) => Input::Response(r),
                    Err(f) => Input::TransportFailed(f),
                };
                flow.handle(input, now());
            }
            Output::Done(result) => break result,
            other => panic!("unexpected {other:?}"),
        }
    };
    let e = outcome.expect_err("a wrong verifier must fail");
    assert_eq!(
        e.error_response().map(|r| r.code.clone()),
        Some(ErrorCode::InvalidGrant)
    );
    rec.finish(SERVER);
}

#[test]
fn a_bogus_token_is_invalid_token_at_the_api() {
    let Some(p) = provider() else { return };
    let rec = Recorder::new("invalid_token_at_api", &p.issuer);
    let (tokens, _) = login(&p, Who::Public, &[], &rec);
    let mut tokens = tokens.expect("login");
    tokens.access_token = oauth_core::AccessToken::new("bogus-token-value");
    match api(&p, &tokens, &rec) {
        Err(ApiError::InvalidToken {
            challenge,
            response,
        }) => {
            assert_eq!(response.status(), 401);
            assert_eq!(challenge.realm.as_deref(), Some("interop"));
        }
        other => panic!("expected invalid_token, got {other:?}"),
    }
    rec.finish(SERVER);
}

#[test]
fn sixty_four_threads_share_one_session_with_short_lived_rotating_tokens() {
    use oauth_ureq::{AuthorizedClient, MemoryStore};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    const TTL: u64 = 2;
    let Some(p) = crate::provider::provider_with_ttl(Some(TTL)) else {
        return;
    };
    let rec = Recorder::new("concurrency", &p.issuer);
    let (tokens, client) = login(&p, Who::Public, &[], &rec);
    let tokens = tokens.expect("login");
    let issued = Instant::now();
    assert_eq!(
        tokens.expires_at,
        Some(tokens.received_at.saturating_add(TTL))
    );
    let session = oauth_core::Session::new(&client, tokens).with_skew(0);
    let api_client =
        AuthorizedClient::with_session(session, transport(&rec), Arc::new(MemoryStore::new()));
    let target = 3000;
    let done = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..64)
        .map(|_| {
            let (c, done, failures, url) = (
                api_client.clone(),
                Arc::clone(&done),
                Arc::clone(&failures),
                p.api_url(),
            );
            std::thread::spawn(move || {
                while done.fetch_add(1, Ordering::SeqCst) < target {
                    match c.call(http::Request::get(url.as_str()).body(Vec::new()).unwrap()) {
                        Ok(r) if r.status() == 200 => {}
                        other => {
                            eprintln!("call failed: {other:?}");
                            failures.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                    // Spread the calls over several token lifetimes.
                    std::thread::sleep(Duration::from_millis(90));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("no panics");
    }
    let elapsed = issued.elapsed().as_secs_f64();
    let refreshes = api_client.refresh_count();
    eprintln!(
        "oidc-provider: {target} calls from 64 threads in {elapsed:.1} s, {refreshes} refreshes (token lifetime {TTL} s)"
    );
    assert_eq!(failures.load(Ordering::SeqCst), 0, "zero failures");
    // One refresh per expiry, never one per thread.
    let expiries = elapsed / TTL as f64;
    assert!(
        (refreshes as f64) >= expiries.floor() - 1.0 && (refreshes as f64) <= expiries.ceil() + 1.0,
        "{refreshes} refreshes for {expiries:.1} expiries"
    );
}
