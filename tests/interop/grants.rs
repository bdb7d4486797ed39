//! Discovery, client credentials, device authorization, revocation, introspection and
//! PAR against oidc-provider.

use crate::provider::{Provider, Who, headless_browser, login, provider, transport};
use crate::record::Recorder;
use oauth_core::parse::{Introspection, UserCode};
use oauth_core::{
    AuthorizationCodeFlow, AuthorizationParams, ClientAuth, ClientCredentialsFlow,
    ClientCredentialsParams, ClientRegistration, ClientSecret, DeviceFlow, Error, ErrorCode,
    IntrospectionFlow, RevocationFlow, Scope, TokenRef,
};
use oauth_ureq::{
    ApiError, AuthorizedClient, CallbackSource, LoopbackCallback, LoopbackListener, MemoryStore,
    TokenStore, call_api, discover, now, run, system_rng,
};
use std::io;
use std::sync::Arc;
use url::Url;

fn discovered(
    p: &Provider,
    rec: &Recorder,
    client_id: &str,
    auth: ClientAuth,
    redirect: Option<&str>,
) -> ClientRegistration {
    let meta = discover(&p.issuer, &transport(rec)).expect("discovery");
    let mut b = meta
        .registration(client_id)
        .expect("S256 supported")
        .auth(auth);
    if let Some(r) = redirect {
        b = b.redirect_uri(r);
    }
    b.build().expect("a valid registration")
}

fn server_error(e: oauth_ureq::Error) -> oauth_core::ErrorResponse {
    match e {
        oauth_ureq::Error::Flow(e) => e
            .error_response()
            .cloned()
            .unwrap_or_else(|| panic!("not a server error: {e:?}")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn discovery_lists_every_endpoint_and_configures_a_login() {
    let Some(p) = provider() else { return };
    let rec = Recorder::new("discovery", &p.issuer);
    let meta = discover(&p.issuer, &transport(&rec)).expect("discovery");
    assert_eq!(meta.issuer, p.issuer);
    assert!(meta.authorization_response_iss_parameter_supported);
    for e in [
        &meta.revocation_endpoint,
        &meta.introspection_endpoint,
        &meta.device_authorization_endpoint,
        &meta.pushed_authorization_request_endpoint,
    ] {
        assert!(e.is_some(), "{meta:?}");
    }
    let listener = LoopbackListener::bind_default().unwrap();
    let client = discovered(
        &p,
        &rec,
        "public-native",
        ClientAuth::None,
        Some(&listener.redirect_uri()),
    );
    assert!(client.requires_issuer_parameter());
    let params = AuthorizationParams::new().scope(Scope::parse("openid api:read").unwrap());
    let mut flow = AuthorizationCodeFlow::start(&client, params, &mut system_rng(), now()).unwrap();
    let mut callbacks = LoopbackCallback::new(listener, headless_browser());
    let tokens = run(&mut flow, &transport(&rec), Some(&mut callbacks))
        .expect("login with a discovered registration");
    assert!(tokens.refresh_token.is_some());
    rec.finish("oidc-provider 9.13.3");
}

#[test]
fn client_credentials_with_scope_and_resource() {
    let Some(p) = provider() else { return };
    let rec = Recorder::new("client_credentials", &p.issuer);
    let client = discovered(
        &p,
        &rec,
        "service",
        ClientAuth::ClientSecretBasic(ClientSecret::new("service-secret")),
        None,
    );
    let mut flow = ClientCredentialsFlow::start(
        &client,
        ClientCredentialsParams::new().scope(Scope::parse("api:read").unwrap()),
    )
    .unwrap();
    let tokens = run(&mut flow, &transport(&rec), None).expect("client credentials");
    assert_eq!(tokens.scope, Some(Scope::parse("api:read").unwrap()));
    assert!(tokens.refresh_token.is_none());
    let resp = call_api(
        &transport(&rec),
        http::Request::get(p.api_url()).body(Vec::new()).unwrap(),
        &tokens,
    )
    .unwrap();
    assert_eq!(resp.status(), 200);
    // RFC 8707: a known resource is accepted, an unknown one refused (invalid_target).
    let params = ClientCredentialsParams::new()
        .scope(Scope::parse("api:read").unwrap())
        .resource("https://api.example");
    let mut flow = ClientCredentialsFlow::start(&client, params).unwrap();
    assert!(run(&mut flow, &transport(&rec), None).is_ok());
    let params = ClientCredentialsParams::new().resource("https://unknown.example");
    let mut flow = ClientCredentialsFlow::start(&client, params).unwrap();
    let r = server_error(run(&mut flow, &transport(&rec), None).unwrap_err());
    assert_eq!(r.code, ErrorCode::InvalidTarget);
    rec.finish("oidc-provider 9.13.3");
}

/// Approves (or denies) the device code through the provider's test hook as soon as
/// the flow shows it — before the first poll, which comes `interval` seconds later.
struct HeadlessDeviceUser {
    issuer: String,
    decision: &'static str,
}

impl CallbackSource for HeadlessDeviceUser {
    fn visit(&mut self, _: &oauth_core::AuthorizationUrl) -> io::Result<()> {
        Err(io::Error::other("the device flow visits nothing"))
    }
    fn wait(
        &mut self,
        _: oauth_core::UnixTime,
        _: &mut dyn FnMut(&Url) -> bool,
    ) -> io::Result<Option<Url>> {
        Err(io::Error::other("the device flow waits for no callback"))
    }
    fn show_user_code(&mut self, code: &UserCode) -> io::Result<()> {
        assert!(code.verification_uri.as_str().starts_with(&self.issuer));
        let agent = ureq::Agent::config_builder()
            .proxy(None)
            .http_status_as_error(false)
            .build()
            .new_agent();
        let resp = agent
            .post(format!("{}/__test/device/approve", self.issuer))
            .send_form([
                ("user_code", code.user_code.as_str()),
                ("decision", self.decision),
            ])
            .map_err(io::Error::other)?;
        assert_eq!(resp.status(), 200, "the provider's device hook");
        Ok(())
    }
}

#[test]
fn device_flow_approved_and_denied() {
    let Some(p) = provider() else { return };
    let rec = Recorder::new("device_flow", &p.issuer);
    let client = discovered(&p, &rec, "public-native", ClientAuth::None, None);
    for (decision, ok) in [("approve", true), ("deny", false)] {
        let mut flow =
            DeviceFlow::start(&client, Scope::parse("openid api:read").unwrap()).unwrap();
        let mut user = HeadlessDeviceUser {
            issuer: p.issuer.clone(),
            decision,
        };
        let started = std::time::Instant::now();
        let result = run(&mut flow, &transport(&rec), Some(&mut user));
        // oidc-provider sends no `interval`: the client waits the default 5 s.
        assert!(
            started.elapsed().as_secs() >= 5,
            "polled before the default interval"
        );
        match (ok, result) {
            (true, Ok(tokens)) => assert!(tokens.refresh_token.is_some()),
            (false, Err(e)) => assert_eq!(server_error(e).code, ErrorCode::AccessDenied),
            (_, other) => panic!("{decision}: {other:?}"),
        }
    }
    rec.finish("oidc-provider 9.13.3");
}

#[test]
fn revocation_and_logout() {
    let Some(p) = provider() else { return };
    let rec = Recorder::new("revocation", &p.issuer);
    let (tokens, _) = login(&p, Who::Public, &[], &rec);
    let tokens = tokens.unwrap();
    let client = discovered(
        &p,
        &rec,
        "public-native",
        ClientAuth::None,
        Some("http://127.0.0.1/callback"),
    );
    let mut flow = RevocationFlow::start(
        &client,
        TokenRef::Refresh(tokens.refresh_token.as_ref().unwrap()),
    )
    .unwrap();
    run(&mut flow, &transport(&rec), None).expect("revoked");
    // The grant is gone: the API refuses the access token, refresh is invalid_grant.
    let api = call_api(
        &transport(&rec),
        http::Request::get(p.api_url()).body(Vec::new()).unwrap(),
        &tokens,
    );
    assert!(matches!(api, Err(ApiError::InvalidToken { .. })), "{api:?}");
    let mut refresh = oauth_core::RefreshFlow::start(&client, &tokens, None).unwrap();
    assert_eq!(
        server_error(run(&mut refresh, &transport(&rec), None).unwrap_err()).code,
        ErrorCode::InvalidGrant
    );
    // REV-02: unknown tokens are fine.
    let unknown = oauth_core::AccessToken::new("never-issued");
    let mut flow = RevocationFlow::start(&client, TokenRef::Access(&unknown)).unwrap();
    assert!(run(&mut flow, &transport(&rec), None).is_ok());

    // Logout through the shared client: revoke, forget, clear the store.
    let (tokens, _) = login(&p, Who::Public, &[], &rec);
    let tokens = tokens.unwrap();
    let store = Arc::new(MemoryStore::new());
    store.save(&tokens).unwrap();
    let shared = AuthorizedClient::new(&client, tokens.clone(), transport(&rec), store.clone());
    assert_eq!(
        shared
            .call(http::Request::get(p.api_url()).body(Vec::new()).unwrap())
            .unwrap()
            .status(),
        200
    );
    shared.logout().expect("logout");
    assert!(store.load().unwrap().is_none(), "the store is cleared");
    let after = shared.call(http::Request::get(p.api_url()).body(Vec::new()).unwrap());
    assert!(
        matches!(&after, Err(e) if e.needs_new_authorization()),
        "{after:?}"
    );
    let api = call_api(
        &transport(&rec),
        http::Request::get(p.api_url()).body(Vec::new()).unwrap(),
        &tokens,
    );
    assert!(
        matches!(api, Err(ApiError::InvalidToken { .. })),
        "the revoked grant's token is dead"
    );
    rec.finish("oidc-provider 9.13.3");
}

#[test]
fn introspection_of_active_and_revoked_tokens() {
    let Some(p) = provider() else { return };
    let rec = Recorder::new("introspection", &p.issuer);
    let (tokens, _) = login(&p, Who::Basic, &[], &rec);
    let tokens = tokens.unwrap();
    let client = discovered(
        &p,
        &rec,
        "confidential-basic",
        ClientAuth::ClientSecretBasic(ClientSecret::new(crate::provider::BASIC_SECRET)),
        Some("http://127.0.0.1/callback"),
    );
    let mut flow =
        IntrospectionFlow::start(&client, TokenRef::Access(&tokens.access_token)).unwrap();
    match run(&mut flow, &transport(&rec), None).expect("introspection") {
        Introspection::Active(t) => {
            assert_eq!(t.client_id.as_deref(), Some("confidential-basic"));
            assert_eq!(t.sub.as_deref(), Some("alice"));
            assert!(t.exp.is_some());
        }
        other => panic!("{other:?}"),
    }
    let mut revoke =
        RevocationFlow::start(&client, TokenRef::Access(&tokens.access_token)).unwrap();
    run(&mut revoke, &transport(&rec), None).unwrap();
    let mut flow =
        IntrospectionFlow::start(&client, TokenRef::Access(&tokens.access_token)).unwrap();
    assert_eq!(
        run(&mut flow, &transport(&rec), None).unwrap(),
        Introspection::Inactive
    );
    rec.finish("oidc-provider 9.13.3");
}

#[test]
fn par_required_client_logs_in_through_par_and_is_refused_without() {
    let Some(p) = provider() else { return };
    let rec = Recorder::new("par", &p.issuer);
    for push in [true, false] {
        let listener = LoopbackListener::bind_default().unwrap();
        let meta = discover(&p.issuer, &transport(&rec)).unwrap();
        let client = meta
            .registration("par-required")
            .unwrap()
            .auth(ClientAuth::ClientSecretBasic(ClientSecret::new(
                "par-secret",
            )))
            .redirect_uri(listener.redirect_uri())
            .require_par(push)
            .build()
            .unwrap();
        let params = AuthorizationParams::new().scope(Scope::parse("openid api:read").unwrap());
        let mut flow =
            AuthorizationCodeFlow::start(&client, params, &mut system_rng(), now()).unwrap();
        let mut callbacks = LoopbackCallback::new(listener, headless_browser());
        let result = run(&mut flow, &transport(&rec), Some(&mut callbacks));
        match (push, result) {
            (true, Ok(tokens)) => assert!(tokens.refresh_token.is_some()),
            (false, Err(oauth_ureq::Error::Flow(Error::AuthorizationDenied(r)))) => {
                assert_eq!(r.code, ErrorCode::InvalidRequest)
            }
            (_, other) => panic!("push={push}: {other:?}"),
        }
    }
    rec.finish("oidc-provider 9.13.3");
}
