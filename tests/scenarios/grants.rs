//! Discovery, client credentials, device authorization, revocation, introspection and
//! PAR, each against the fake server in simulation.

use crate::{REDIRECT, body_param, public_setup};
use http::Method;
use oauth_core::parse::{Introspection, MetadataKind};
use oauth_core::{
    AuthorizationParams, ClientCredentialsFlow, ClientCredentialsParams, DeviceFlow, DiscoveryFlow,
    Error, ErrorCode, IntrospectionFlow, RevocationFlow, Scope, TokenRef, Violation,
};
use oauth_testkit::{
    AuthMethod, FakeAuthorizationServer, Hop, RegisteredClient, SimError, Simulation, UserPolicy,
};

fn confidential_setup(seed: u64) -> (Simulation, oauth_core::ClientRegistration) {
    let mut server = FakeAuthorizationServer::new(seed);
    server.register(RegisteredClient::confidential(
        "svc",
        "svc-secret",
        AuthMethod::Basic,
        REDIRECT,
    ));
    let client = server.registration("svc").unwrap().build().unwrap();
    (Simulation::new(seed, server), client)
}

// ── discovery ──────────────────────────────────────────────────────────────────

#[test]
fn discovery_configures_a_client_from_the_issuer_alone() {
    let (mut sim, _) = public_setup(70);
    let mut flow = DiscoveryFlow::start("https://as.example", MetadataKind::OAuth).unwrap();
    let meta = sim.run(&mut flow).expect("metadata");
    assert_eq!(
        sim.sent_requests()[0].uri,
        "https://as.example/.well-known/oauth-authorization-server"
    );
    assert_eq!(sim.sent_requests()[0].method, Method::GET);
    assert!(meta.authorization_response_iss_parameter_supported);
    let client = meta
        .registration("app")
        .unwrap()
        .redirect_uri(REDIRECT)
        .build()
        .unwrap();
    assert!(client.requires_issuer_parameter());
    assert!(client.revocation_endpoint().is_some() && client.par_endpoint().is_some());
    let tokens = sim
        .authorize(&client, "read")
        .expect("a login with the discovered registration");
    assert!(tokens.refresh_token.is_some());
}

#[test]
fn meta_03_a_document_for_another_issuer_is_refused() {
    let (mut sim, _) = public_setup(71);
    sim.set_filter(|hop| {
        if let Hop::Response(r) = hop {
            let body = String::from_utf8_lossy(r.body())
                .replace("https://as.example\"", "https://evil.example\"");
            *r.body_mut() = body.into_bytes();
        }
    });
    let mut flow = DiscoveryFlow::start("https://as.example", MetadataKind::OpenId).unwrap();
    assert_eq!(
        sim.run(&mut flow),
        Err(SimError::Flow(Error::Violation(
            Violation::MetadataIssuerMismatch
        )))
    );
    assert_eq!(
        sim.sent_requests()[0].uri,
        "https://as.example/.well-known/openid-configuration"
    );
}

// ── client credentials ─────────────────────────────────────────────────────────

#[test]
fn client_credentials_with_scope_and_resource_indicators() {
    let (mut sim, client) = confidential_setup(72);
    // RFC 8707: every resource is sent; the server refuses one it does not serve.
    let params = ClientCredentialsParams::new()
        .scope(Scope::parse("api:read").unwrap())
        .resource("https://api.example")
        .resource("https://other.example/v1");
    let mut flow = ClientCredentialsFlow::start(&client, params).unwrap();
    let refused = sim.run(&mut flow).unwrap_err();
    assert_eq!(
        refused
            .flow_error()
            .and_then(Error::error_response)
            .map(|r| r.code.clone()),
        Some(ErrorCode::InvalidTarget)
    );
    let body = String::from_utf8(sim.sent_requests()[0].body.clone()).unwrap();
    assert_eq!(body.matches("resource=").count(), 2, "{body}");

    let params = ClientCredentialsParams::new()
        .scope(Scope::parse("api:read").unwrap())
        .resource("https://api.example");
    let mut flow = ClientCredentialsFlow::start(&client, params).unwrap();
    let tokens = sim.run(&mut flow).expect("client credentials");
    assert_eq!(tokens.scope, Some(Scope::parse("api:read").unwrap()));
    assert!(
        tokens.refresh_token.is_none(),
        "RFC 6749 §4.4.3: no refresh token"
    );
    let req = &sim.sent_requests()[1];
    assert_eq!(
        body_param(&req.body, "resource").as_deref(),
        Some("https://api.example")
    );
    assert!(
        req.headers.contains_key("authorization"),
        "client_secret_basic"
    );
    assert_eq!(
        body_param(&req.body, "grant_type").as_deref(),
        Some("client_credentials")
    );
    assert_eq!(
        sim.call_api(Method::GET, "/x", &tokens).unwrap().status(),
        200
    );
}

#[test]
fn tok_04_client_credentials_refuses_public_clients_before_sending() {
    let (_, client) = public_setup(73);
    assert!(matches!(
        ClientCredentialsFlow::start(&client, ClientCredentialsParams::new()),
        Err(Error::Config(_))
    ));
    let (_, client) = confidential_setup(73);
    assert!(
        ClientCredentialsFlow::start(
            &client,
            ClientCredentialsParams::new().resource("not a uri")
        )
        .is_err()
    );
    assert!(
        ClientCredentialsFlow::start(
            &client,
            ClientCredentialsParams::new().param("grant_type", "x")
        )
        .is_err()
    );
}

// ── device authorization ───────────────────────────────────────────────────────

fn device_setup(seed: u64, interval: Option<u64>) -> (Simulation, oauth_core::ClientRegistration) {
    let (mut sim, client) = public_setup(seed);
    sim.server.set_device_interval(interval);
    (sim, client)
}

/// The times at which device-code polls were sent.
fn poll_times(sim: &Simulation) -> Vec<u64> {
    sim.sent_requests()
        .iter()
        .filter(|r| {
            body_param(&r.body, "grant_type").as_deref() == Some(oauth_core::DEVICE_CODE_GRANT)
        })
        .map(|r| r.at.as_secs())
        .collect()
}

#[test]
fn device_flow_polls_at_the_default_interval_until_approved() {
    let (mut sim, client) = device_setup(74, None);
    sim.set_user_delay(23);
    let mut flow = DeviceFlow::start(&client, Scope::parse("read").unwrap()).unwrap();
    let tokens = sim.run(&mut flow).expect("device flow");
    assert!(tokens.refresh_token.is_some());
    let times = poll_times(&sim);
    assert!(times.len() >= 4, "{times:?}");
    for w in times.windows(2) {
        assert!(
            w[1] - w[0] >= 5,
            "DEV-04: polled faster than 5 s: {times:?}"
        );
    }
    assert_eq!(sim.server.stats().slow_downs, 0);
    // The device code never shows in the transcript; the user code does.
    let text = sim.transcript().to_string();
    assert!(
        text.contains("enter ") && text.contains("device_code=<redacted>"),
        "{text}"
    );
}

#[test]
fn dev_05_slow_down_adds_five_seconds_for_good() {
    let (mut sim, client) = device_setup(75, Some(5));
    sim.set_user_delay(60);
    // The first two polls are answered `slow_down`.
    let mut answered = 0;
    sim.set_filter(move |hop| {
        if let Hop::Response(r) = hop
            && String::from_utf8_lossy(r.body()).contains("authorization_pending")
            && answered < 2
        {
            answered += 1;
            *r.body_mut() = br#"{"error":"slow_down"}"#.to_vec();
        }
    });
    let mut flow = DeviceFlow::start(&client, Scope::empty()).unwrap();
    sim.run(&mut flow).expect("device flow");
    let times = poll_times(&sim);
    let gaps: Vec<u64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(
        &gaps[..3],
        &[10, 15, 15],
        "5 → 10 → 15 and it stays: {gaps:?}"
    );
}

#[test]
fn dev_06_denial_and_expiry_stop_polling() {
    let (mut sim, client) = device_setup(76, Some(5));
    sim.set_user(UserPolicy::Deny);
    let mut flow = DeviceFlow::start(&client, Scope::empty()).unwrap();
    let e = sim.run(&mut flow).unwrap_err();
    assert_eq!(
        e.flow_error()
            .and_then(|e| e.error_response())
            .map(|r| r.code.clone()),
        Some(ErrorCode::AccessDenied)
    );

    let (mut sim, client) = device_setup(77, Some(5));
    sim.server.set_device_ttl(30);
    sim.set_user(UserPolicy::Never);
    let mut flow = DeviceFlow::start(&client, Scope::empty()).unwrap();
    let e = sim.run(&mut flow).unwrap_err();
    assert!(
        matches!(e.flow_error(), Some(Error::FlowExpired { .. })),
        "{e:?}"
    );
    let times = poll_times(&sim);
    assert!(
        times
            .iter()
            .all(|&t| t < oauth_testkit::START_TIME.as_secs() + 30),
        "DEV-07: {times:?}"
    );
}

#[test]
fn dev_08_connection_failures_back_off() {
    let (mut sim, client) = device_setup(78, Some(5));
    sim.set_user_delay(100);
    sim.server
        .inject_fault(oauth_testkit::Fault::ConnectionRefused)
        .inject_fault(oauth_testkit::Fault::ConnectionRefused);
    let mut flow = DeviceFlow::start(&client, Scope::empty()).unwrap();
    sim.run(&mut flow)
        .expect("the flow survives connection failures");
    let times = poll_times(&sim);
    let gaps: Vec<u64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(
        &gaps[..2],
        &[10, 20],
        "doubling, never below the interval: {gaps:?}"
    );
}

// ── revocation and introspection ───────────────────────────────────────────────

#[test]
fn revoking_the_refresh_token_ends_the_grant() {
    let (mut sim, client) = public_setup(79);
    let tokens = sim.authorize(&client, "read").unwrap();
    let rt = tokens.refresh_token.as_ref().unwrap();
    let mut flow = RevocationFlow::start(&client, TokenRef::Refresh(rt)).unwrap();
    sim.run(&mut flow).expect("revoked");
    let req = sim.sent_requests().last().unwrap();
    assert_eq!(
        body_param(&req.body, "token_type_hint").as_deref(),
        Some("refresh_token")
    );
    assert_eq!(body_param(&req.body, "client_id").as_deref(), Some("app"));
    assert!(
        sim.refresh(&client, &tokens, None)
            .unwrap_err()
            .flow_error()
            .unwrap()
            .needs_new_authorization()
    );
    assert_eq!(
        sim.call_api(Method::GET, "/x", &tokens).unwrap().status(),
        401
    );
    // REV-02: an unknown token is not an error.
    let unknown = oauth_core::AccessToken::new("never-issued");
    let mut flow = RevocationFlow::start(&client, TokenRef::Access(&unknown)).unwrap();
    assert!(sim.run(&mut flow).is_ok());
}

#[test]
fn unsupported_token_type_is_typed() {
    let (mut sim, client) = public_setup(80);
    sim.server.set_refuse_access_token_revocation(true);
    let tokens = sim.authorize(&client, "read").unwrap();
    let mut flow = RevocationFlow::start(&client, TokenRef::Access(&tokens.access_token)).unwrap();
    let e = sim.run(&mut flow).unwrap_err();
    assert_eq!(
        e.flow_error()
            .and_then(|e| e.error_response())
            .map(|r| r.code.clone()),
        Some(ErrorCode::UnsupportedTokenType)
    );
}

#[test]
fn introspection_active_then_inactive_after_revocation() {
    let (mut sim, client) = confidential_setup(81);
    let tokens = sim.authorize(&client, "read write").unwrap();
    let mut flow =
        IntrospectionFlow::start(&client, TokenRef::Access(&tokens.access_token)).unwrap();
    match sim.run(&mut flow).unwrap() {
        Introspection::Active(t) => {
            assert_eq!(t.client_id.as_deref(), Some("svc"));
            assert_eq!(t.scope, Some(Scope::parse("read write").unwrap()));
            assert!(t.exp.is_some());
        }
        other => panic!("{other:?}"),
    }
    let mut revoke = RevocationFlow::start(
        &client,
        TokenRef::Refresh(tokens.refresh_token.as_ref().unwrap()),
    )
    .unwrap();
    sim.run(&mut revoke).unwrap();
    let mut flow =
        IntrospectionFlow::start(&client, TokenRef::Access(&tokens.access_token)).unwrap();
    assert_eq!(sim.run(&mut flow).unwrap(), Introspection::Inactive);
    // INT-01: a public client has no credentials to introspect with.
    let (_, public) = public_setup(81);
    assert!(IntrospectionFlow::start(&public, TokenRef::Access(&tokens.access_token)).is_err());
}

// ── pushed authorization requests ──────────────────────────────────────────────

#[test]
fn par_is_used_when_the_server_requires_it() {
    let mut server = FakeAuthorizationServer::new(82);
    server
        .set_require_par(true)
        .register(RegisteredClient::confidential(
            "par",
            "par-secret",
            AuthMethod::Basic,
            REDIRECT,
        ));
    let client = server.registration("par").unwrap().build().unwrap();
    assert!(client.requires_par());
    let mut sim = Simulation::new(82, server);
    let mut flow = sim
        .start_authorization(
            &client,
            AuthorizationParams::new().scope(Scope::parse("read").unwrap()),
        )
        .unwrap();
    assert!(
        flow.authorization_url().is_none(),
        "the URL exists only after the push"
    );
    let tokens = sim.run(&mut flow).expect("login through PAR");
    assert!(tokens.refresh_token.is_some());
    let push = &sim.sent_requests()[0];
    assert_eq!(push.uri, "https://as.example/par");
    assert_eq!(
        body_param(&push.body, "client_id").as_deref(),
        Some("par"),
        "client_id in the body with Basic"
    );
    assert!(
        body_param(&push.body, "code_challenge").is_some()
            && body_param(&push.body, "state").is_some()
    );
    assert!(body_param(&push.body, "request_uri").is_none());
    // PAR-03: the visited URL carries only client_id and request_uri.
    let visit = sim
        .transcript()
        .entries()
        .iter()
        .find(|e| e.kind == oauth_testkit::EntryKind::Visit)
        .unwrap()
        .text
        .clone();
    let url = url::Url::parse(&visit).unwrap();
    let keys: Vec<String> = url.query_pairs().map(|(k, _)| k.into_owned()).collect();
    assert_eq!(keys, ["client_id", "request_uri"]);
    assert_eq!(sim.server.stats().pushed_requests, 1);
}

#[test]
fn par_05_a_server_that_requires_par_refuses_a_plain_request() {
    let mut server = FakeAuthorizationServer::new(83);
    server
        .set_require_par(true)
        .register(RegisteredClient::public("app", REDIRECT));
    let client = server
        .registration("app")
        .unwrap()
        .require_par(false)
        .build()
        .unwrap();
    let mut sim = Simulation::new(83, server);
    let e = sim.authorize(&client, "read").unwrap_err();
    let e = e.flow_error().unwrap();
    assert!(
        matches!(e, Error::AuthorizationDenied(r) if r.code == ErrorCode::InvalidRequest),
        "{e:?}"
    );
}
