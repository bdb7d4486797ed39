//! The zero-configuration chain ("authorize for this resource"): RFC 9728 resource
//! metadata → RFC 8414 server metadata → RFC 7591 registration → authorization code with
//! PKCE, with the RFC 8707 `resource` on every request — and what it refuses.

use crate::{REDIRECT, assert_transcript_clean, body_param};
use http::{Method, StatusCode};
use oauth_core::{
    ApiCall, ChainStep, ConfigError, Error, ErrorCode, HttpResponse, ParseErrorKind, RefreshFlow,
    ResourceAuthorization, ResourceAuthorizationFlow, ResourceAuthorizationParams, Scope, Session,
    TransportErrorKind, Violation, resource_metadata_hint,
};
use oauth_testkit::{
    EntryKind, FakeAuthorizationServer, Fault, Hop, RegisteredClient, RegistrationMode, SimError,
    Simulation,
};
use std::cell::Cell;
use std::rc::Rc;
use url::Url;

const RESOURCE: &str = "https://api.example";

fn sim_with(seed: u64, configure: impl FnOnce(&mut FakeAuthorizationServer)) -> Simulation {
    let mut server = FakeAuthorizationServer::new(seed);
    configure(&mut server);
    Simulation::new(seed, server)
}

fn run_chain(
    sim: &mut Simulation,
    params: ResourceAuthorizationParams,
) -> Result<ResourceAuthorization, SimError> {
    let now = sim.now();
    let mut flow = ResourceAuthorizationFlow::start(params, sim.rng(), now).expect("start");
    sim.run(&mut flow)
}

/// The chain from [`RESOURCE`] alone, to [`REDIRECT`].
fn run_chain_for_resource(sim: &mut Simulation) -> Result<ResourceAuthorization, SimError> {
    run_chain(
        sim,
        ResourceAuthorizationParams::for_resource(RESOURCE, REDIRECT),
    )
}

fn failed_step(result: Result<ResourceAuthorization, SimError>) -> (ChainStep, Error) {
    match result {
        Err(SimError::Flow(e)) => (
            e.step().expect("the error names its step"),
            e.root().clone(),
        ),
        other => panic!("expected a failed step, got {other:?}"),
    }
}

fn uris(sim: &Simulation) -> Vec<String> {
    sim.sent_requests().iter().map(|r| r.uri.clone()).collect()
}

#[test]
fn the_chain_runs_from_a_resource_url_alone() {
    let mut sim = sim_with(901, |_| {});
    let done = run_chain_for_resource(&mut sim).expect("the whole chain");

    // Each step's request, in order, and nothing else.
    assert_eq!(
        uris(&sim),
        [
            "https://api.example/.well-known/oauth-protected-resource",
            "https://as.example/.well-known/oauth-authorization-server",
            "https://as.example/register",
            "https://as.example/token",
        ]
    );
    let sent = sim.sent_requests();
    assert_eq!(sent[0].method, Method::GET);
    assert_eq!(sent[2].method, Method::POST);

    // RFC 7591 / RFC 8252: a public native client, PKCE, loopback redirect without port.
    let registration: serde_json::Value = serde_json::from_slice(&sent[2].body).unwrap();
    assert_eq!(registration["token_endpoint_auth_method"], "none");
    assert_eq!(registration["application_type"], "native");
    assert_eq!(
        registration["redirect_uris"],
        serde_json::json!(["http://127.0.0.1/callback"])
    );
    assert_eq!(sim.server().registered_clients(), 1);
    let info = done.registered.as_ref().expect("registered by this run");
    assert_eq!(info.issuer.as_deref(), Some("https://as.example"));
    assert_eq!(done.client.client_id(), info.client_id);

    // RFC 8707: the resource on the authorization request and the token request.
    let visit = sim
        .transcript()
        .entries()
        .iter()
        .find(|e| e.kind == EntryKind::Visit)
        .expect("authorization URL in the transcript")
        .text
        .clone();
    assert!(visit.contains("https://as.example/authorize?"), "{visit}");
    assert!(
        visit.contains("resource=https%3A%2F%2Fapi.example"),
        "{visit}"
    );
    assert!(
        visit.contains("code_challenge_method=S256"),
        "PKCE: {visit}"
    );
    assert_eq!(
        body_param(&sent[3].body, "resource").as_deref(),
        Some(RESOURCE)
    );
    // The scope defaults to the resource's scopes_supported.
    assert_eq!(done.tokens.scope, Some(Scope::parse("read write").unwrap()));
    assert_eq!(done.resource.resource, RESOURCE);
    assert_eq!(done.server.issuer, "https://as.example");

    // The token works at the resource, and is restricted to it (RFC 8707 audience).
    let response = sim.call_api(Method::GET, "/me", &done.tokens).unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(body["audience"], RESOURCE);

    // Refresh goes through the chain's registration and keeps the resource indicator.
    let mut refresh = RefreshFlow::start(&done.client, &done.tokens, None).unwrap();
    let renewed = sim.run(&mut refresh).expect("refresh");
    let last = sim.sent_requests().last().unwrap();
    assert_eq!(
        body_param(&last.body, "resource").as_deref(),
        Some(RESOURCE)
    );
    assert_eq!(
        body_param(&last.body, "client_id").as_deref(),
        Some(info.client_id.as_str())
    );
    assert_eq!(
        sim.call_api(Method::GET, "/me", &renewed).unwrap().status(),
        StatusCode::OK
    );

    let rat = info.registration_access_token.as_ref().unwrap();
    assert_transcript_clean(
        &sim,
        &[
            done.tokens.access_token.secret(),
            done.tokens.refresh_token.as_ref().unwrap().secret(),
            rat.secret(),
        ],
    );
}

#[test]
fn the_chain_starts_from_a_401_challenge() {
    let mut sim = sim_with(902, |_| {});
    let request_url = "https://api.example/v1/me";
    let response = sim
        .send(http::Request::get(request_url).body(Vec::new()).unwrap())
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let hint = resource_metadata_hint(&response).expect("resource_metadata announced");
    assert_eq!(
        hint.as_str(),
        "https://api.example/.well-known/oauth-protected-resource"
    );
    let done = run_chain(
        &mut sim,
        ResourceAuthorizationParams::after_challenge(
            Url::parse(request_url).unwrap(),
            hint,
            REDIRECT,
        ),
    )
    .expect("chain");
    // The metadata covers the URL that was asked for; its identifier is what the
    // tokens are for.
    assert_eq!(done.resource.resource, RESOURCE);
    let ok = sim.call_api(Method::GET, "/v1/me", &done.tokens).unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
}

#[test]
fn a_kept_registration_is_reused_and_a_foreign_one_is_not() {
    let mut sim = sim_with(903, |_| {});
    let first = run_chain_for_resource(&mut sim).unwrap();
    let kept = first.registered.clone().unwrap();

    // The next run (another loopback port) reuses it: no registration request.
    let before = sim.sent_requests().len();
    let second = run_chain(
        &mut sim,
        ResourceAuthorizationParams::for_resource(RESOURCE, "http://127.0.0.1:49152/callback")
            .registered(kept.clone()),
    )
    .expect("second run");
    assert_eq!(sim.server().registered_clients(), 1);
    assert!(second.registered.is_none());
    assert_eq!(second.client.client_id(), kept.client_id);
    assert!(
        !uris(&sim)[before..]
            .iter()
            .any(|u| u.ends_with("/register")),
        "{:?}",
        &uris(&sim)[before..]
    );

    // One registered by another server is never presented here: register afresh.
    let mut foreign = kept;
    foreign.issuer = Some("https://other-as.example".into());
    let third = run_chain(
        &mut sim,
        ResourceAuthorizationParams::for_resource(RESOURCE, REDIRECT).registered(foreign),
    )
    .expect("third run");
    assert_eq!(sim.server().registered_clients(), 2);
    assert_ne!(third.client.client_id(), second.client.client_id());
}

#[test]
fn a_preconfigured_client_skips_registration() {
    let mut sim = sim_with(904, |s| {
        s.register(RegisteredClient::public("app", REDIRECT));
        s.set_registration(RegistrationMode::Off);
    });
    let done = run_chain(
        &mut sim,
        ResourceAuthorizationParams::for_resource(RESOURCE, REDIRECT)
            .client("app", oauth_core::ClientAuth::None)
            .scope(Scope::parse("read").unwrap()),
    )
    .expect("chain with a known client");
    assert_eq!(done.client.client_id(), "app");
    assert!(done.registered.is_none());
    assert_eq!(sim.server().registered_clients(), 0);
    assert_eq!(done.tokens.scope, Some(Scope::parse("read").unwrap()));
}

// ── what the chain refuses ─────────────────────────────────────────────────────

#[test]
fn a_resource_that_lies_about_its_identifier_is_refused_before_any_server_is_contacted() {
    let mut sim = sim_with(910, |s| {
        s.set_claimed_resource_identifier(Some("https://bank.example"));
    });
    let (step, e) = failed_step(run_chain_for_resource(&mut sim));
    assert_eq!(step, ChainStep::ResourceMetadata);
    assert_eq!(e, Error::Violation(Violation::ResourceMismatch));
    assert_eq!(uris(&sim).len(), 1, "{:?}", uris(&sim));

    // After a challenge, the metadata must cover the URL asked for: another origin's
    // identifier is refused just the same.
    let mut sim = sim_with(911, |s| {
        s.set_claimed_resource_identifier(Some("https://api.example.evil"));
    });
    let (step, e) = failed_step(run_chain(
        &mut sim,
        ResourceAuthorizationParams::after_challenge(
            Url::parse("https://api.example/me").unwrap(),
            Url::parse("https://api.example/.well-known/oauth-protected-resource").unwrap(),
            REDIRECT,
        ),
    ));
    assert_eq!(
        (step, e),
        (
            ChainStep::ResourceMetadata,
            Error::Violation(Violation::ResourceMismatch)
        )
    );
}

#[test]
fn server_metadata_for_another_issuer_is_refused_and_nothing_is_registered() {
    // The resource names as2.example; the document fetched there says it is as.example
    // (a mix-up attempt, RFC 8414 §3.3).
    let mut sim = sim_with(912, |s| {
        s.set_resource_authorization_servers(Some(&["https://as2.example"]));
    });
    sim.set_filter(|hop| {
        if let Hop::Request(r) = hop {
            let uri = r.uri().to_string();
            if uri.starts_with("https://as2.example/") {
                *r.uri_mut() = uri
                    .replace("https://as2.example/", "https://as.example/")
                    .parse()
                    .unwrap();
            }
        }
    });
    let (step, e) = failed_step(run_chain_for_resource(&mut sim));
    assert_eq!(step, ChainStep::ServerMetadata);
    assert_eq!(e, Error::Violation(Violation::MetadataIssuerMismatch));
    assert_eq!(sim.server().registered_clients(), 0);
    assert_eq!(sim.server().stats().codes_issued, 0);
}

#[test]
fn a_registration_without_client_id_fails_in_the_registration_step() {
    let mut sim = sim_with(913, |s| {
        s.set_registration(RegistrationMode::OmitsClientId);
    });
    let (step, e) = failed_step(run_chain_for_resource(&mut sim));
    assert_eq!(step, ChainStep::Registration);
    match e {
        Error::Parse(p) => {
            assert_eq!(p.field, "client_id");
            assert_eq!(p.kind, ParseErrorKind::Missing);
        }
        other => panic!("{other:?}"),
    }
    // The user was never sent to an authorization page.
    assert_eq!(sim.transcript().count(EntryKind::Visit), 0);
}

#[test]
fn no_client_and_no_registration_endpoint_is_a_configuration_error() {
    let mut sim = sim_with(914, |s| {
        s.set_registration(RegistrationMode::Off);
    });
    let (step, e) = failed_step(run_chain_for_resource(&mut sim));
    assert_eq!(step, ChainStep::Registration);
    assert_eq!(
        e,
        Error::Config(ConfigError::Missing { field: "client_id" })
    );
    assert_eq!(uris(&sim).len(), 2);
}

#[test]
fn redirects_between_metadata_hosts_are_never_followed() {
    // The resource metadata redirects to another host.
    let mut sim = sim_with(915, |s| {
        s.set_resource_metadata_redirect(Some(
            "https://evil.example/.well-known/oauth-protected-resource",
        ));
    });
    let (step, e) = failed_step(run_chain_for_resource(&mut sim));
    assert_eq!(step, ChainStep::ResourceMetadata);
    assert_eq!(
        e,
        Error::Violation(Violation::UnexpectedRedirect(StatusCode::FOUND))
    );
    assert!(!uris(&sim).iter().any(|u| u.contains("evil.example")));

    // The authorization server's metadata redirects elsewhere.
    let mut sim = sim_with(916, |_| {});
    let is_meta = Rc::new(Cell::new(false));
    let seen = is_meta.clone();
    sim.set_filter(move |hop| match hop {
        Hop::Request(r) => seen.set(r.uri().path().contains("oauth-authorization-server")),
        Hop::Response(r) if seen.get() => {
            *r.status_mut() = StatusCode::MOVED_PERMANENTLY;
            r.headers_mut().insert(
                http::header::LOCATION,
                "https://evil.example/.well-known/oauth-authorization-server"
                    .parse()
                    .unwrap(),
            );
        }
        Hop::Response(_) => {}
    });
    let (step, e) = failed_step(run_chain_for_resource(&mut sim));
    assert_eq!(step, ChainStep::ServerMetadata);
    assert_eq!(
        e,
        Error::Violation(Violation::UnexpectedRedirect(StatusCode::MOVED_PERMANENTLY))
    );
    assert_eq!(sim.server().registered_clients(), 0);
}

#[test]
fn a_server_with_only_openid_discovery_is_found_there() {
    let mut sim = sim_with(917, |_| {});
    let is_oauth = Rc::new(Cell::new(false));
    let seen = is_oauth.clone();
    sim.set_filter(move |hop| match hop {
        Hop::Request(r) => seen.set(r.uri().path().contains("oauth-authorization-server")),
        Hop::Response(r) if seen.get() => {
            *r.status_mut() = StatusCode::NOT_FOUND;
            *r.body_mut() = b"not found".to_vec();
        }
        Hop::Response(_) => {}
    });
    run_chain_for_resource(&mut sim).expect("chain through OpenID discovery");
    assert_eq!(
        uris(&sim)[1..3],
        [
            "https://as.example/.well-known/oauth-authorization-server",
            "https://as.example/.well-known/openid-configuration",
        ]
    );
}

#[test]
fn each_step_reports_its_own_failures() {
    // A transport failure while registering.
    let mut sim = sim_with(918, |_| {});
    sim.set_filter(|hop| {
        if let Hop::Response(r) = hop
            && r.status() == StatusCode::CREATED
        {
            *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            *r.body_mut() = b"busy".to_vec();
        }
    });
    let (step, e) = failed_step(run_chain_for_resource(&mut sim));
    assert_eq!(step, ChainStep::Registration);
    assert!(e.is_retryable(), "{e:?}");

    // The user refuses at the authorization page.
    let mut sim = sim_with(919, |_| {});
    sim.set_user(oauth_testkit::UserPolicy::Deny);
    let result = run_chain_for_resource(&mut sim);
    let Err(SimError::Flow(err)) = &result else {
        panic!("{result:?}")
    };
    assert_eq!(err.step(), Some(ChainStep::Authorization));
    assert_eq!(
        err.error_response().map(|r| &r.code),
        Some(&ErrorCode::AccessDenied)
    );
    assert!(err.needs_new_authorization());

    // The token endpoint drops the connection after redeeming the code.
    let mut sim = sim_with(920, |s| {
        s.inject_fault(Fault::ConnectionRefused);
    });
    let (step, e) = failed_step(run_chain_for_resource(&mut sim));
    assert_eq!(step, ChainStep::Authorization);
    assert!(matches!(e, Error::Transport(ref t) if t.kind == TransportErrorKind::Connect));
}

#[test]
fn rfc8707_a_token_for_another_resource_is_refused_by_the_resource_server() {
    // A client asks the server for a resource it does not serve: invalid_target at the
    // authorization page; the user agent comes back with the error.
    let mut sim = sim_with(921, |s| {
        s.register(RegisteredClient::public("app", REDIRECT));
    });
    let client = sim
        .server()
        .registration("app")
        .unwrap()
        .resource("https://elsewhere.example")
        .build()
        .unwrap();
    let e = sim.authorize(&client, "read").unwrap_err();
    assert_eq!(
        e.flow_error()
            .and_then(Error::error_response)
            .map(|r| r.code.clone()),
        Some(ErrorCode::InvalidTarget)
    );
}

// ── the API session authorizes by itself ───────────────────────────────────────

fn get(url: &str) -> http::Request<Vec<u8>> {
    http::Request::get(url).body(Vec::new()).unwrap()
}

/// One `GET https://api.example/me` through `session`, persisting nowhere.
fn call_me(sim: &mut Simulation, session: &mut Session) -> Vec<Result<HttpResponse, Error>> {
    sim.run_calls(
        session,
        vec![ApiCall::new(get("https://api.example/me"))],
        &mut |_| Ok(()),
    )
    .unwrap()
}

#[test]
fn an_unauthorized_session_meets_the_challenge_and_authorizes_once_for_many_calls() {
    let mut sim = sim_with(930, |_| {});
    let mut session = Session::unauthorized();
    let mut saved = Vec::new();
    let calls = (0..6)
        .map(|i| ApiCall::new(get(&format!("https://api.example/items/{i}"))))
        .collect();
    let results = sim
        .run_calls(&mut session, calls, &mut |t| {
            saved.push(t.clone());
            Ok(())
        })
        .unwrap();
    for r in &results {
        assert_eq!(r.as_ref().unwrap().status(), StatusCode::OK, "{r:?}");
    }
    // One registration, one authorization, one token set persisted before use.
    assert_eq!(sim.server().registered_clients(), 1);
    assert_eq!(sim.server().stats().codes_issued, 1);
    assert_eq!(saved.len(), 1);
    assert_eq!(session.tokens(), Some(&saved[0]));
    assert!(sim.kept_registration().is_some());
    assert_eq!(
        session.client().map(|c| c.resources().to_vec()),
        Some(vec![RESOURCE.to_owned()])
    );
    // The first request went out without a token; every later one with it.
    let first = &sim.sent_requests()[0];
    assert!(first.uri.starts_with("https://api.example/items/"));
    assert!(!first.headers.contains_key("authorization"));
}

#[test]
fn a_lost_grant_is_authorized_again_with_the_kept_client() {
    let mut sim = sim_with(931, |s| {
        s.set_access_token_ttl(60);
    });
    let mut session = Session::unauthorized();
    let first = call_me(&mut sim, &mut session);
    assert_eq!(first[0].as_ref().unwrap().status(), StatusCode::OK);
    let refresh = session.tokens().unwrap().refresh_token.clone().unwrap();

    // The grant is revoked at the server: the next refresh fails with invalid_grant.
    sim.server_mut()
        .revoke_refresh_token_grant(refresh.secret());
    sim.advance(120);
    let again = call_me(&mut sim, &mut session);
    assert_eq!(again[0].as_ref().unwrap().status(), StatusCode::OK);
    // Authorized twice, registered once: the second chain reused the client.
    assert_eq!(sim.server().stats().codes_issued, 2);
    assert_eq!(sim.server().registered_clients(), 1);
}

#[test]
fn a_refused_authorization_ends_the_call_and_its_waiters_with_the_chain_error() {
    let mut sim = sim_with(932, |_| {});
    sim.set_user(oauth_testkit::UserPolicy::Deny);
    let mut session = Session::unauthorized();
    let calls = (0..3)
        .map(|_| ApiCall::new(get("https://api.example/me")))
        .collect();
    let results = sim.run_calls(&mut session, calls, &mut |_| Ok(())).unwrap();
    for r in results {
        let e = r.unwrap_err();
        assert_eq!(e.step(), Some(ChainStep::Authorization), "{e:?}");
        assert!(e.needs_new_authorization());
    }
    assert_eq!(session.state_name(), "NeedsAuthorization");
    // A later call tries again (the user may agree this time).
    sim.set_user(oauth_testkit::UserPolicy::Approve);
    let later = call_me(&mut sim, &mut session);
    assert_eq!(later[0].as_ref().unwrap().status(), StatusCode::OK);
}

#[test]
fn what_an_unauthorized_session_does_without_a_challenge() {
    // A call that must not be sent twice is not sent without a token to probe.
    let mut sim = sim_with(933, |_| {});
    let mut session = Session::unauthorized();
    let r = sim
        .run_calls(
            &mut session,
            vec![ApiCall::without_replay(
                http::Request::post("https://api.example/orders")
                    .body(b"{}".to_vec())
                    .unwrap(),
            )],
            &mut |_| Ok(()),
        )
        .unwrap();
    assert_eq!(r[0].as_ref().unwrap_err(), &Error::NotAuthorized);
    assert!(sim.sent_requests().is_empty());

    // A 401 that announces nothing: the session's reason.
    let mut sim = sim_with(934, |s| {
        s.set_announce_resource_metadata(false);
    });
    let mut session = Session::unauthorized();
    let r = call_me(&mut sim, &mut session);
    assert_eq!(r[0].as_ref().unwrap_err(), &Error::NotAuthorized);
    assert_eq!(sim.sent_requests().len(), 1);

    // A plain session (not allowed to authorize) never probes.
    let mut sim = sim_with(935, |_| {});
    let mut session = Session::unauthorized().with_authorization(false);
    let r = call_me(&mut sim, &mut session);
    assert_eq!(r[0].as_ref().unwrap_err(), &Error::NotAuthorized);
    assert!(sim.sent_requests().is_empty());
}

#[test]
fn bearer_05_a_token_for_the_resource_goes_to_the_resource_only() {
    let mut sim = sim_with(936, |_| {});
    let done = run_chain_for_resource(&mut sim).unwrap();
    let mut session = Session::from_authorization(&done);
    let before = sim.sent_requests().len();
    let r = sim
        .run_calls(
            &mut session,
            vec![
                ApiCall::new(get("https://attacker.example/me")),
                ApiCall::new(get("https://api.example.attacker.example/me")),
                ApiCall::new(get("http://api.example/me")),
            ],
            &mut |_| Ok(()),
        )
        .unwrap();
    for e in r {
        assert_eq!(
            e.unwrap_err(),
            Error::Config(ConfigError::TokenNotForResource)
        );
    }
    assert_eq!(sim.sent_requests().len(), before, "nothing was sent");
    let ok = sim
        .run_calls(
            &mut session,
            vec![ApiCall::new(get("https://api.example/deep/path?q=1"))],
            &mut |_| Ok(()),
        )
        .unwrap();
    assert_eq!(ok[0].as_ref().unwrap().status(), StatusCode::OK);
}
