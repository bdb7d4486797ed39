//! Starting and stopping oidc-provider, and logging in through it.

use crate::record::Recorder;
use oauth_core::{
    AuthorizationCodeFlow, AuthorizationParams, ClientAuth, ClientRegistration, ClientSecret,
    Scope, TokenSet,
};
use oauth_ureq::{Browser, LoopbackCallback, LoopbackListener, Transport, now, run, system_rng};
use std::time::Duration;

pub(crate) const BASIC_SECRET: &str = "interop-secret-with-special-chars:+/=%";
pub(crate) const POST_SECRET: &str = "interop-post-secret";

pub(crate) use crate::oidc_provider::Provider;

pub(crate) fn server_dir() -> std::path::PathBuf {
    crate::oidc_provider::server_dir_from(env!("CARGO_MANIFEST_DIR"), "interop/server")
}

/// The provider, or `None` (with a clear message) when it cannot run here. Under
/// `CI=true` a provider that cannot start fails the test.
pub(crate) fn provider() -> Option<Provider> {
    provider_with_ttl(None)
}

/// [`provider`] with access tokens that live `ttl` seconds.
pub(crate) fn provider_with_ttl(ttl: Option<u64>) -> Option<Provider> {
    crate::oidc_provider::provider_or_skip(&server_dir(), ttl)
}

/// How a test client authenticates.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Who {
    Public,
    Basic,
    Post,
    WrongSecret,
}

impl Provider {
    /// A registration for one of the server's clients, redirecting to `redirect_uri`.
    pub(crate) fn client(&self, who: Who, redirect_uri: &str) -> ClientRegistration {
        let (id, auth) = match who {
            Who::Public => ("public-native", ClientAuth::None),
            Who::Basic => (
                "confidential-basic",
                ClientAuth::ClientSecretBasic(ClientSecret::new(BASIC_SECRET)),
            ),
            Who::Post => (
                "confidential-post",
                ClientAuth::ClientSecretPost(ClientSecret::new(POST_SECRET)),
            ),
            Who::WrongSecret => (
                "confidential-basic",
                ClientAuth::ClientSecretBasic(ClientSecret::new("not-the-secret")),
            ),
        };
        ClientRegistration::builder(id)
            .auth(auth)
            .authorization_endpoint(format!("{}/auth", self.issuer))
            .token_endpoint(format!("{}/token", self.issuer))
            .issuer(self.issuer.clone())
            // oidc-provider sends `iss` on every authorization response (RFC 9207).
            .require_issuer_parameter(true)
            .redirect_uri(redirect_uri)
            .build()
            .expect("a valid registration")
    }

    pub(crate) fn api_url(&self) -> String {
        format!("{}/api/me", self.issuer)
    }
}

/// The headless browser: `node headless-browser.js URL` follows the authorization URL,
/// completes login and consent, and delivers the redirect to our listener.
pub(crate) fn headless_browser() -> Browser {
    Browser::Command(vec![
        "node".into(),
        server_dir()
            .join("headless-browser.js")
            .display()
            .to_string(),
    ])
}

pub(crate) fn transport(recorder: &Recorder) -> Transport {
    let config = oauth_ureq::TransportConfig {
        connect_timeout: Some(Duration::from_secs(5)),
        call_timeout: Some(Duration::from_secs(20)),
        ..Default::default()
    };
    Transport::new(config).with_observer(recorder.observer())
}

/// A whole login through the loopback listener and the headless browser.
pub(crate) fn login(
    provider: &Provider,
    who: Who,
    extra: &[(&str, &str)],
    recorder: &Recorder,
) -> (Result<TokenSet, oauth_ureq::Error>, ClientRegistration) {
    let listener = LoopbackListener::bind_default().expect("bind 127.0.0.1");
    let client = provider.client(who, &listener.redirect_uri());
    let mut params =
        AuthorizationParams::new().scope(Scope::parse("openid api:read").expect("valid scope"));
    for (k, v) in extra {
        params = params.param(*k, *v);
    }
    let mut flow =
        AuthorizationCodeFlow::start(&client, params, &mut system_rng(), now()).expect("start");
    recorder.expect_state(&flow);
    let mut callbacks =
        recorder.callback_source(LoopbackCallback::new(listener, headless_browser()));
    let result = run(&mut flow, &transport(recorder), Some(&mut callbacks));
    (result, client)
}
