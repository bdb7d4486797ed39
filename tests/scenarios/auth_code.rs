//! Authorization code with PKCE: the happy path and every way it must fail.

use crate::{REDIRECT, assert_transcript_clean, body_param, public_setup};
use http::Method;
use oauth_core::{ClientAuth, ClientSecret, Error, ErrorCode, Violation, parse::bearer_challenge};
use oauth_testkit::{
    AuthMethod, EntryKind, FakeAuthorizationServer, Hop, RegisteredClient, SimError, Simulation,
    UserPolicy,
};

fn flow_error(r: Result<oauth_core::TokenSet, SimError>) -> Error {
    match r {
        Err(SimError::Flow(e)) => e,
        other => panic!("expected a flow error, got {other:?}"),
    }
}

#[test]
fn happy_path_tokens_api_call_and_clean_transcript() {
    let (mut sim, client) = public_setup(1);
    let tokens = sim.authorize(&client, "read write").expect("tokens");
    assert_eq!(
        tokens.scope.as_ref().map(ToString::to_string).as_deref(),
        Some("read write")
    );
    assert_eq!(tokens.expires_at, Some(sim.now().saturating_add(3600)));
    let refresh = tokens.refresh_token.clone().expect("a refresh token");

    let resp = sim.call_api(Method::GET, "/me", &tokens).expect("api");
    assert_eq!(resp.status(), 200);

    // The one token request carried the code, the verifier and the redirect URI.
    let sent = sim.sent_requests();
    let exchange = &sent[0];
    assert_eq!(exchange.uri, "https://as.example/token");
    let code = body_param(&exchange.body, "code").expect("code sent");
    let verifier = body_param(&exchange.body, "code_verifier").expect("verifier sent");
    assert_eq!(
        body_param(&exchange.body, "redirect_uri").as_deref(),
        Some(REDIRECT)
    );
    assert_eq!(
        body_param(&exchange.body, "client_id").as_deref(),
        Some("app")
    );
    assert_eq!(sim.transcript().count(EntryKind::Visit), 1);
    assert_eq!(sim.transcript().count(EntryKind::Callback), 1);

    // SEC-03: nothing secret in the printable transcript.
    assert_transcript_clean(
        &sim,
        &[
            tokens.access_token.secret(),
            refresh.secret(),
            &code,
            &verifier,
        ],
    );
}

#[test]
fn confidential_clients_with_basic_and_post() {
    for (method, seed) in [(AuthMethod::Basic, 2), (AuthMethod::Post, 3)] {
        let mut server = FakeAuthorizationServer::new(seed);
        server.register(RegisteredClient::confidential(
            "conf",
            "s3cr+t/=:é",
            method,
            REDIRECT,
        ));
        let client = server.registration("conf").unwrap().build().unwrap();
        let mut sim = Simulation::new(seed, server);
        let tokens = sim.authorize(&client, "read").expect("tokens");
        assert!(tokens.refresh_token.is_some());
        let req = &sim.sent_requests()[0];
        match method {
            AuthMethod::Basic => {
                assert!(req.headers.contains_key("authorization"));
                assert_eq!(body_param(&req.body, "client_secret"), None);
            }
            _ => {
                assert!(!req.headers.contains_key("authorization"));
                assert_eq!(
                    body_param(&req.body, "client_secret").as_deref(),
                    Some("s3cr+t/=:é")
                );
            }
        }
        assert_transcript_clean(&sim, &["s3cr+t/=:é", "s3cr%2Bt"]);
    }
}

#[test]
fn user_denies() {
    let (mut sim, client) = public_setup(4);
    sim.set_user(UserPolicy::Deny);
    let e = flow_error(sim.authorize(&client, "read"));
    match &e {
        Error::AuthorizationDenied(r) => {
            assert_eq!(r.code, ErrorCode::AccessDenied);
            assert_eq!(
                r.description.as_deref(),
                Some("The user denied the request")
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(e.needs_new_authorization());
    assert!(
        sim.sent_requests().is_empty(),
        "no token request after a denial"
    );
}

#[test]
fn resp_05_state_mismatch_sends_nothing() {
    let (mut sim, client) = public_setup(5);
    sim.set_user(UserPolicy::tamper(|mut cb| {
        let pairs: Vec<(String, String)> = cb
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "state" {
                    "forged".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        cb.query_pairs_mut().clear().extend_pairs(pairs);
        cb
    }));
    let e = flow_error(sim.authorize(&client, "read"));
    assert_eq!(e, Error::Violation(Violation::StateMismatch));
    assert!(sim.sent_requests().is_empty());
}

#[test]
fn resp_05_forged_error_without_state_does_not_count_as_denial() {
    let (mut sim, client) = public_setup(6);
    sim.set_user(UserPolicy::forge(|_| {
        url::Url::parse(&format!("{REDIRECT}?error=access_denied")).unwrap()
    }));
    let e = flow_error(sim.authorize(&client, "read"));
    assert_eq!(e, Error::Violation(Violation::StateMissing));
}

#[test]
fn resp_06_issuer_mismatch_and_missing() {
    let (mut sim, client) = public_setup(7);
    sim.set_user(UserPolicy::tamper(|mut cb| {
        let pairs: Vec<(String, String)> = cb
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "iss" {
                    "https://evil.example".to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        cb.query_pairs_mut().clear().extend_pairs(pairs);
        cb
    }));
    assert_eq!(
        flow_error(sim.authorize(&client, "read")),
        Error::Violation(Violation::IssuerMismatch)
    );
    assert!(sim.sent_requests().is_empty());

    // The server stops sending iss but the client was told it always does.
    let (mut sim, client) = public_setup(8);
    sim.server.set_send_iss(false);
    assert!(client.requires_issuer_parameter());
    assert_eq!(
        flow_error(sim.authorize(&client, "read")),
        Error::Violation(Violation::IssuerMissing)
    );

    // Without the requirement, a server that never sends iss is fine.
    let mut server = FakeAuthorizationServer::new(9);
    server
        .set_send_iss(false)
        .register(RegisteredClient::public("app", REDIRECT));
    let client = server
        .registration("app")
        .unwrap()
        .require_issuer_parameter(false)
        .build()
        .unwrap();
    let mut sim = Simulation::new(9, server);
    assert!(sim.authorize(&client, "read").is_ok());
}

#[test]
fn code_replay_is_refused_and_revokes_what_the_code_produced() {
    let (mut sim, client) = public_setup(10);
    let first = sim.authorize(&client, "read").expect("first login");
    let first_code = body_param(&sim.sent_requests()[0].body, "code").unwrap();
    assert_eq!(
        sim.call_api(Method::GET, "/me", &first).unwrap().status(),
        200
    );

    // An attacker who saw the first code gets the second exchange to carry it.
    sim.set_filter(move |hop| {
        if let Hop::Request(req) = hop {
            let body = String::from_utf8(req.body().clone()).unwrap();
            let pairs: Vec<(String, String)> = oauth_core::parse::parse_form(&body)
                .unwrap()
                .into_iter()
                .map(|(k, v)| {
                    if k == "code" {
                        (k, first_code.clone())
                    } else {
                        (k, v)
                    }
                })
                .collect();
            *req.body_mut() = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish()
                .into_bytes();
        }
    });
    let e = flow_error(sim.authorize(&client, "read"));
    assert_eq!(
        e.error_response().map(|r| r.code.clone()),
        Some(ErrorCode::InvalidGrant)
    );
    assert!(e.needs_new_authorization());
    assert_eq!(sim.server.stats().code_replays, 1);
    // RFC 6749 §4.1.2: the tokens issued for the replayed code are revoked.
    let resp = sim.call_api(Method::GET, "/me", &first).unwrap();
    assert_eq!(resp.status(), 401);
    let challenge = bearer_challenge(resp.headers()).unwrap().unwrap();
    assert!(challenge.is_invalid_token());
}

#[test]
fn expired_code_is_refused() {
    let (mut sim, client) = public_setup(11);
    sim.server.set_code_ttl(30);
    sim.set_latency(31);
    let e = flow_error(sim.authorize(&client, "read"));
    assert_eq!(
        e.error_response().map(|r| r.code.clone()),
        Some(ErrorCode::InvalidGrant)
    );
}

#[test]
fn wrong_pkce_verifier_is_refused() {
    let (mut sim, client) = public_setup(12);
    sim.set_filter(|hop| {
        if let Hop::Request(req) = hop {
            let body = String::from_utf8(req.body().clone()).unwrap();
            let body = body.replace("code_verifier=", "code_verifier=x");
            *req.body_mut() = body.into_bytes();
        }
    });
    let e = flow_error(sim.authorize(&client, "read"));
    assert_eq!(
        e.error_response().map(|r| r.code.clone()),
        Some(ErrorCode::InvalidGrant)
    );
    assert_eq!(sim.server.stats().token_requests, 1);
}

#[test]
fn invalid_client_wrong_secret_and_wrong_method() {
    let mut server = FakeAuthorizationServer::new(13);
    server.register(RegisteredClient::confidential(
        "conf",
        "right",
        AuthMethod::Basic,
        REDIRECT,
    ));
    let wrong_secret = server
        .registration("conf")
        .unwrap()
        .auth(ClientAuth::ClientSecretBasic(ClientSecret::new("wrong")))
        .build()
        .unwrap();
    let wrong_method = server
        .registration("conf")
        .unwrap()
        .auth(ClientAuth::ClientSecretPost(ClientSecret::new("right")))
        .build()
        .unwrap();
    let mut sim = Simulation::new(13, server);
    for client in [wrong_secret, wrong_method] {
        let e = flow_error(sim.authorize(&client, "read"));
        let r = e.error_response().expect("an OAuth error");
        assert_eq!(r.code, ErrorCode::InvalidClient);
        assert_eq!(r.status, Some(http::StatusCode::UNAUTHORIZED));
        assert!(!e.is_retryable());
        assert!(!e.to_string().contains("right"));
    }
}

#[test]
fn authz_11_pending_authorization_expires() {
    let (mut sim, client) = public_setup(14);
    sim.set_user_delay(601);
    match flow_error(sim.authorize(&client, "read")) {
        Error::FlowExpired { deadline } => {
            assert_eq!(deadline, oauth_testkit::START_TIME.saturating_add(600));
        }
        other => panic!("{other:?}"),
    }
    assert!(sim.sent_requests().is_empty());

    let (mut sim, client) = public_setup(15);
    sim.set_user(UserPolicy::Never);
    assert!(matches!(
        flow_error(sim.authorize(&client, "read")),
        Error::FlowExpired { .. }
    ));
}

#[test]
fn resp_09_front_channel_token_is_refused() {
    let (mut sim, client) = public_setup(16);
    sim.set_user(UserPolicy::tamper(|mut cb| {
        cb.query_pairs_mut().append_pair("access_token", "injected");
        cb
    }));
    assert_eq!(
        flow_error(sim.authorize(&client, "read")),
        Error::Violation(Violation::FrontChannelToken("access_token"))
    );
}

#[test]
fn callback_on_another_path_is_refused() {
    let (mut sim, client) = public_setup(17);
    sim.set_user(UserPolicy::tamper(|mut cb| {
        cb.set_path("/elsewhere");
        cb
    }));
    assert_eq!(
        flow_error(sim.authorize(&client, "read")),
        Error::Violation(Violation::RedirectUriMismatch)
    );
}

#[test]
fn unregistered_redirect_uri_never_comes_back() {
    let (mut sim, _) = public_setup(18);
    let other = sim
        .server
        .registration("app")
        .unwrap()
        .redirect_uri("http://127.0.0.1:9999/other")
        .build()
        .unwrap();
    assert_eq!(
        sim.authorize(&other, "read"),
        Err(SimError::AuthorizationPage(
            oauth_testkit::AuthorizeError::RedirectUriNotRegistered
        ))
    );
}

#[test]
fn simulations_are_deterministic() {
    let run = |seed| {
        let (mut sim, client) = public_setup(seed);
        let t = sim.authorize(&client, "read").unwrap();
        (
            sim.transcript().to_string(),
            t.access_token.secret().to_owned(),
        )
    };
    assert_eq!(run(42), run(42));
    assert_ne!(run(42).1, run(43).1);
}
