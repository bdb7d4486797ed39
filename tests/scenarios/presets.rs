//! Each provider preset against the fake server configured with that provider's quirks.

use crate::REDIRECT;
use oauth_core::providers::{self, ProviderPreset};
use oauth_core::{AuthorizationCodeFlow, ClientRegistration, Error, ErrorCode, Scope, TokenType};
use oauth_testkit::{
    FakeAuthorizationServer, RegisteredClient, ServerQuirks, SimError, Simulation,
};

/// A simulation whose server behaves like the provider, and a registration that uses
/// the preset's quirks (the endpoints are the fake server's).
fn setup(
    preset: &ProviderPreset,
    quirks: ServerQuirks,
    seed: u64,
) -> (Simulation, ClientRegistration) {
    let mut server = FakeAuthorizationServer::new(seed);
    server
        .set_quirks(quirks)
        .register(RegisteredClient::public("app", REDIRECT));
    // GitHub sends no `iss`.
    server.set_send_iss(preset.issuer.is_some());
    let client = server
        .registration("app")
        .unwrap()
        .quirks(preset.quirks)
        .build()
        .unwrap();
    (Simulation::new(seed, server), client)
}

fn login(
    sim: &mut Simulation,
    client: &ClientRegistration,
    preset: &ProviderPreset,
) -> (
    AuthorizationCodeFlow,
    Result<oauth_core::TokenSet, SimError>,
) {
    let mut flow = sim
        .start_authorization(client, preset.authorization_params(None))
        .unwrap();
    let result = sim.run(&mut flow);
    (flow, result)
}

#[test]
fn github_form_bodies_comma_scopes_and_errors_with_200() {
    let preset = providers::github();
    let (mut sim, client) = setup(&preset, ServerQuirks::github(), 60);
    let (_, tokens) = login(&mut sim, &client, &preset);
    let tokens = tokens.expect("GitHub-style login");
    assert_eq!(tokens.token_type, TokenType::Bearer);
    assert_eq!(tokens.scope, Some(Scope::parse("read:user").unwrap()));
    // An expired code: GitHub answers 200 with an error; it is an error all the same.
    sim.server.set_code_ttl(0);
    sim.set_latency(1);
    let (_, result) = login(&mut sim, &client, &preset);
    match result {
        Err(SimError::Flow(Error::Server(r))) => {
            assert_eq!(r.code, ErrorCode::InvalidGrant);
            assert_eq!(r.status, Some(http::StatusCode::OK));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn google_asks_for_offline_access_and_keeps_the_refresh_token() {
    let preset = providers::google();
    let (mut sim, client) = setup(&preset, ServerQuirks::default(), 61);
    // Google does not rotate: a refresh response carries no refresh token.
    sim.server.set_rotate_refresh_tokens(false);
    let (flow, tokens) = login(&mut sim, &client, &preset);
    let _ = flow;
    let tokens = tokens.expect("Google-style login");
    let visit = sim
        .transcript()
        .entries()
        .iter()
        .find(|e| e.kind == oauth_testkit::EntryKind::Visit)
        .unwrap()
        .text
        .clone();
    assert!(
        visit.contains("access_type=offline") && visit.contains("prompt=consent"),
        "{visit}"
    );
    assert!(visit.contains("scope=openid+email+profile"), "{visit}");
    let refreshed = sim.refresh(&client, &tokens, None).unwrap();
    assert_eq!(
        refreshed.refresh_token, tokens.refresh_token,
        "kept when none is sent"
    );
}

#[test]
fn microsoft_offline_access_and_string_expires_in() {
    let preset = providers::microsoft("contoso.onmicrosoft.com").unwrap();
    let (mut sim, client) = setup(&preset, ServerQuirks::azure_v1(), 62);
    let (_, tokens) = login(&mut sim, &client, &preset);
    let tokens = tokens.expect("Entra-style login");
    assert!(tokens.scope.as_ref().unwrap().contains("offline_access"));
    assert_eq!(
        tokens.expires_at,
        Some(sim.now().saturating_add(3600)),
        "\"3600\" read as a number"
    );
    assert!(tokens.refresh_token.is_some());
}

#[test]
fn gitlab_rotates_refresh_tokens() {
    let preset = providers::gitlab();
    let (mut sim, client) = setup(&preset, ServerQuirks::default(), 63);
    let (_, tokens) = login(&mut sim, &client, &preset);
    let tokens = tokens.expect("GitLab-style login");
    let next = sim.refresh(&client, &tokens, None).unwrap();
    assert_ne!(next.refresh_token, tokens.refresh_token);
    assert_eq!(sim.server.stats().refresh_reuse_detected, 0);
}

#[test]
fn strict_quirks_would_refuse_what_the_github_preset_accepts() {
    let preset = providers::github();
    let (mut sim, _) = setup(&preset, ServerQuirks::github(), 64);
    let strict = sim
        .server
        .registration("app")
        .unwrap()
        .quirks(oauth_core::parse::Quirks::strict())
        .build()
        .unwrap();
    let (_, result) = login(&mut sim, &strict, &preset);
    assert!(
        matches!(result, Err(SimError::Flow(Error::Parse(_)))),
        "{result:?}"
    );
}
