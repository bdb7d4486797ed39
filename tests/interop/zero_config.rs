//! The zero-configuration chain (`ResourceAuthorizationFlow`) against oidc-provider:
//! from nothing but the protected resource `<issuer>/api/me` (its bare 401, or its
//! identifier) to a dynamically registered client and tokens for the resource —
//! RFC 9728 → RFC 8414 → RFC 7591 → authorization code + PKCE, RFC 8707 `resource` on
//! every request — with the headless browser as the user.

use crate::provider::{BASIC_SECRET, Provider, headless_browser, provider};
use http::Method;
use oauth_core::parse::{Introspection, RegisteredClientInfo};
use oauth_core::{
    ChainStep, ClientAuth, ClientSecret, Error, IntrospectionFlow, RefreshFlow,
    ResourceAuthorization, ResourceAuthorizationFlow, ResourceAuthorizationParams, Scope, TokenRef,
    TokenSet, Violation, resource_metadata_hint,
};
use oauth_ureq::{LoopbackCallback, LoopbackListener, Transport, call_api, discover, now, run};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

/// The path of the peer's RFC 9728 document for `<issuer>/api`.
const RESOURCE_METADATA_PATH: &str = "/.well-known/oauth-protected-resource/api";

/// One exchange the transport made.
#[derive(Clone, Debug)]
struct Exchange {
    method: Method,
    path: String,
    body: Vec<u8>,
    status: Option<u16>,
}

/// Every exchange of a [`Transport`], in order (the browser's requests are not in it:
/// it talks to the peer on its own).
#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<Exchange>>>);

impl Log {
    fn transport(&self) -> Transport {
        let log = self.clone();
        let config = oauth_ureq::TransportConfig {
            connect_timeout: Some(Duration::from_secs(5)),
            call_timeout: Some(Duration::from_secs(20)),
            ..Default::default()
        };
        Transport::new(config).with_observer(Arc::new(move |req, res| {
            log.0.lock().expect("log lock").push(Exchange {
                method: req.method().clone(),
                path: req.uri().path().to_owned(),
                body: req.body().clone(),
                status: res.ok().map(|r| r.status().as_u16()),
            });
        }))
    }

    /// Takes what was logged so far.
    fn take(&self) -> Vec<Exchange> {
        std::mem::take(&mut *self.0.lock().expect("log lock"))
    }
}

/// `(method, path, status)` of each exchange, for whole-sequence assertions.
fn summary(exchanges: &[Exchange]) -> Vec<(Method, &str, Option<u16>)> {
    exchanges
        .iter()
        .map(|e| (e.method.clone(), e.path.as_str(), e.status))
        .collect()
}

/// The exchanges of one chain run, as [`summary`] gives them: the two metadata
/// documents, the registration when `registers`, the token request.
fn chain_exchanges(registers: bool) -> Vec<(Method, &'static str, Option<u16>)> {
    let mut steps = vec![
        (Method::GET, RESOURCE_METADATA_PATH, Some(200)),
        (
            Method::GET,
            "/.well-known/oauth-authorization-server",
            Some(200),
        ),
    ];
    if registers {
        steps.push((Method::POST, "/reg", Some(201)));
    }
    steps.push((Method::POST, "/token", Some(200)));
    steps
}

/// The values of `name` in a form-encoded body.
fn form_values(body: &[u8], name: &str) -> Vec<String> {
    url::form_urlencoded::parse(body)
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .collect()
}

fn resource_id(p: &Provider) -> String {
    format!("{}/api", p.issuer)
}

/// Runs the chain with the loopback `listener` and the headless browser approving.
fn chain(
    params: ResourceAuthorizationParams,
    listener: LoopbackListener,
    transport: &Transport,
) -> Result<ResourceAuthorization, oauth_ureq::Error> {
    let mut flow = ResourceAuthorizationFlow::start(params, &mut oauth_ureq::system_rng(), now())
        .expect("start");
    let mut callbacks = LoopbackCallback::new(listener, headless_browser());
    run(&mut flow, transport, Some(&mut callbacks))
}

/// [`chain`] for the resource identifier `resource`, on a loopback listener of its own.
fn chain_for_resource(
    resource: String,
    transport: &Transport,
) -> Result<ResourceAuthorization, oauth_ureq::Error> {
    let listener = LoopbackListener::bind_default().unwrap();
    let params = ResourceAuthorizationParams::for_resource(resource, listener.redirect_uri());
    chain(params, listener, transport)
}

/// `GET <issuer>/api/me` with `tokens`; the status and the JSON body.
fn api_me(p: &Provider, transport: &Transport, tokens: &TokenSet) -> (u16, serde_json::Value) {
    let request = http::Request::get(p.api_url())
        .body(Vec::new())
        .expect("request");
    let response = call_api(transport, request, tokens).expect("the API call");
    let body = serde_json::from_slice(response.body()).expect("JSON from /api/me");
    (response.status().as_u16(), body)
}

#[test]
fn a_bare_401_leads_to_a_registered_client_and_tokens_for_the_api() {
    let Some(p) = provider() else { return };
    let log = Log::default();
    let t = log.transport();

    // A client that knows only the URL asks without a token.
    let api = Url::parse(&p.api_url()).unwrap();
    let bare = t
        .send_http(http::Request::get(api.as_str()).body(Vec::new()).unwrap())
        .expect("GET /api/me");
    assert_eq!(bare.status(), 401);
    assert!(
        oauth_core::invalid_token_challenge(&bare).is_none(),
        "no token, no error code (RFC 6750 §3.1)"
    );
    let hint = resource_metadata_hint(&bare).expect("resource_metadata in the 401");
    assert_eq!(
        hint.as_str(),
        format!("{}{RESOURCE_METADATA_PATH}", p.issuer)
    );
    log.take();

    let listener = LoopbackListener::bind_default().unwrap();
    let redirect = listener.redirect_uri();
    let params = ResourceAuthorizationParams::after_challenge(api, hint, redirect.clone())
        .client_name("oauth-tests interop");
    let done = chain(params, listener, &t).expect("the whole chain against oidc-provider");

    // Each step's request, in order, and nothing else (the authorization itself is the
    // browser's).
    let sent = log.take();
    assert_eq!(summary(&sent), chain_exchanges(true));
    // RFC 7591 / RFC 8252 §7.3: native, public, loopback redirect registered without port.
    let registration: serde_json::Value = serde_json::from_slice(&sent[2].body).unwrap();
    assert_eq!(registration["application_type"], "native");
    assert_eq!(registration["token_endpoint_auth_method"], "none");
    assert_eq!(
        registration["redirect_uris"],
        serde_json::json!(["http://127.0.0.1/callback"])
    );
    assert_eq!(registration["client_name"], "oauth-tests interop");
    // RFC 8707 at the token endpoint; the redirect URI with the listener's port.
    assert_eq!(form_values(&sent[3].body, "resource"), [resource_id(&p)]);
    assert_eq!(form_values(&sent[3].body, "redirect_uri"), [redirect]);

    let info = done.registered.as_ref().expect("registered by this run");
    assert_eq!(info.client_id, done.client.client_id());
    assert_eq!(info.client_id.len(), 43, "oidc-provider's random client_id");
    assert_eq!(info.issuer.as_deref(), Some(p.issuer.as_str()));
    assert_eq!(info.token_endpoint_auth_method, "none");
    assert!(info.client_secret.is_none());
    assert!(info.registration_access_token.is_some());
    assert_eq!(info.redirect_uris, ["http://127.0.0.1/callback"]);
    assert_eq!(done.resource.resource, resource_id(&p));
    assert_eq!(done.resource.authorization_servers, [p.issuer.as_str()]);
    assert_eq!(done.server.issuer, p.issuer);
    assert_eq!(done.client.resources(), [resource_id(&p)]);

    // The scope defaults to the resource's scopes_supported.
    assert_eq!(done.tokens.scope, Some(Scope::parse("api:read").unwrap()));
    assert!(done.tokens.refresh_token.is_some(), "refresh_token grant");
    assert!(done.tokens.id_token.is_none(), "no openid, no ID token");

    let (status, me) = api_me(&p, &t, &done.tokens);
    assert_eq!(status, 200);
    assert_eq!(me["client_id"], info.client_id.as_str());
    assert_eq!(me["sub"], "alice");
    assert_eq!(me["scope"], "api:read");
}

#[test]
fn a_kept_registration_is_reused_on_another_port_without_registering_again() {
    let Some(p) = provider() else { return };
    let log = Log::default();
    let t = log.transport();
    // Both bound now, so the ports differ.
    let first = LoopbackListener::bind_default().unwrap();
    let second = LoopbackListener::bind_default().unwrap();
    assert_ne!(first.local_addr().port(), second.local_addr().port());
    let second_redirect = second.redirect_uri();

    let params = ResourceAuthorizationParams::for_resource(resource_id(&p), first.redirect_uri());
    let done = chain(params, first, &t).expect("first run");
    // Kept as a store would keep it: serialised, read back.
    let stored = serde_json::to_string(done.registered.as_ref().expect("registered")).unwrap();
    let kept: RegisteredClientInfo = serde_json::from_str(&stored).expect("read back");
    assert_eq!(Some(&kept), done.registered.as_ref());
    assert_eq!(
        log.take()
            .iter()
            .filter(|e| e.method == Method::POST && e.path == "/reg")
            .count(),
        1
    );

    let params =
        ResourceAuthorizationParams::for_resource(resource_id(&p), second_redirect.clone())
            .registered(kept.clone());
    let again = chain(params, second, &t).expect("second run, the kept client");
    let sent = log.take();
    assert_eq!(
        summary(&sent),
        chain_exchanges(false),
        "no registration the second time"
    );
    assert!(again.registered.is_none(), "nothing new to keep");
    assert_eq!(again.client.client_id(), kept.client_id);
    // The port-less registered URI matched the second port too (RFC 8252 §7.3).
    assert_eq!(
        form_values(&sent[2].body, "redirect_uri"),
        [second_redirect]
    );
    assert_ne!(again.tokens.access_token, done.tokens.access_token);

    let (status, me) = api_me(&p, &t, &again.tokens);
    assert_eq!(status, 200);
    assert_eq!(me["client_id"], kept.client_id.as_str());
}

#[test]
fn a_refresh_through_the_chains_client_keeps_the_resource_audience() {
    let Some(p) = provider() else { return };
    let log = Log::default();
    let t = log.transport();
    let done = chain_for_resource(resource_id(&p), &t).expect("the chain");
    log.take();

    let mut flow = RefreshFlow::start(&done.client, &done.tokens, None).expect("a refresh token");
    let refreshed = run(&mut flow, &t, None).expect("refresh");
    let sent = log.take();
    assert_eq!(summary(&sent), [(Method::POST, "/token", Some(200))]);
    assert_eq!(form_values(&sent[0].body, "grant_type"), ["refresh_token"]);
    assert_eq!(form_values(&sent[0].body, "resource"), [resource_id(&p)]);
    assert_eq!(
        form_values(&sent[0].body, "client_id"),
        [done.client.client_id()]
    );
    assert_ne!(refreshed.access_token, done.tokens.access_token);
    assert_ne!(
        refreshed.refresh_token, done.tokens.refresh_token,
        "rotation is on"
    );
    assert_eq!(refreshed.scope, Some(Scope::parse("api:read").unwrap()));

    let (status, me) = api_me(&p, &t, &refreshed);
    assert_eq!(status, 200);
    assert_eq!(me["client_id"], done.client.client_id());

    // The new access token is still bound to the resource: a confidential client may
    // introspect any client's token at oidc-provider.
    let meta = discover(&p.issuer, &t).expect("discovery");
    let introspector = meta
        .registration("confidential-basic")
        .unwrap()
        .auth(ClientAuth::ClientSecretBasic(ClientSecret::new(
            BASIC_SECRET,
        )))
        .build()
        .unwrap();
    let mut flow =
        IntrospectionFlow::start(&introspector, TokenRef::Access(&refreshed.access_token)).unwrap();
    match run(&mut flow, &t, None).expect("introspection") {
        Introspection::Active(token) => {
            assert_eq!(token.aud, [resource_id(&p)]);
            assert_eq!(token.client_id.as_deref(), Some(done.client.client_id()));
            assert_eq!(token.scope, Some(Scope::parse("api:read").unwrap()));
        }
        other => panic!("the refreshed token is active, got {other:?}"),
    }
}

#[test]
fn a_resource_identifier_with_a_trailing_slash_is_refused_before_registering() {
    let Some(p) = provider() else { return };
    let log = Log::default();
    let t = log.transport();
    // The document (same well-known URL) says `<issuer>/api`: not identical.
    let asked = format!("{}/", resource_id(&p));
    let e = match chain_for_resource(asked, &t) {
        Err(oauth_ureq::Error::Flow(e)) => e,
        other => panic!("expected the chain to fail, got {other:?}"),
    };
    assert_eq!(e.step(), Some(ChainStep::ResourceMetadata), "{e}");
    assert_eq!(e.root(), &Error::Violation(Violation::ResourceMismatch));
    // The peer served its document; the chain stopped there: no server metadata, no
    // registration, no token request.
    assert_eq!(
        summary(&log.take()),
        [(Method::GET, RESOURCE_METADATA_PATH, Some(200))]
    );
}
