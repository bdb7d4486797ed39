//! The zero-configuration chain over real HTTP: from a protected resource's 401 (or
//! its URL) to tokens, through the user's browser and a loopback listener.
//!
//! The core's [`ResourceAuthorizationFlow`] does the work; this module binds the
//! listener, reuses the client a [`TokenStore`] kept from an earlier run, and keeps the
//! one a run registers.

use crate::browser::Browser;
use crate::driver::{Error, LoopbackCallback, now, run};
use crate::loopback::{LoopbackConfig, LoopbackListener};
use crate::store::TokenStore;
use crate::transport::Transport;
use crate::{ApiError, system_rng};
use oauth_core::parse::RegisteredClientInfo;
use oauth_core::{
    ResourceAuthorization, ResourceAuthorizationFlow, ResourceAuthorizationParams,
    ResourceChallenge, Scope,
};
use std::time::Duration;

/// Runs the authorization chain when an [`AuthorizedClient`](crate::AuthorizedClient)'s
/// session asks for it (`oauth_core::Step::Authorize`).
pub trait Authorizer: Send + Sync {
    /// Authorizes for the resource that sent `challenge`, reusing `kept` (a client
    /// registered by an earlier run) when the chain finds it usable.
    fn authorize(
        &self,
        transport: &Transport,
        challenge: &ResourceChallenge,
        kept: Option<RegisteredClientInfo>,
    ) -> Result<ResourceAuthorization, Error>;
}

/// Authorizes through a browser: binds a loopback listener (RFC 8252 §7.3), shows the
/// authorization URL, waits for the redirect.
#[derive(Debug, Clone, Default)]
pub struct BrowserAuthorizer {
    browser: Browser,
    loopback: LoopbackConfig,
    client_name: Option<String>,
    scope: Option<Scope>,
    timeout: Option<Duration>,
}

impl BrowserAuthorizer {
    /// Opens the URL with `browser`, listening on the default loopback configuration.
    pub fn new(browser: Browser) -> Self {
        BrowserAuthorizer {
            browser,
            ..BrowserAuthorizer::default()
        }
    }

    /// Listen as `config` says (address, port, path, timeout).
    #[must_use]
    pub fn loopback(mut self, config: LoopbackConfig) -> Self {
        self.loopback = config;
        self
    }

    /// The `client_name` sent when registering.
    #[must_use]
    pub fn client_name(mut self, name: impl Into<String>) -> Self {
        self.client_name = Some(name.into());
        self
    }

    /// How long to wait for the user to come back from the browser (default: ten
    /// minutes).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The scope to ask for (default: the resource's `scopes_supported`).
    #[must_use]
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scope = Some(scope);
        self
    }

    /// Runs the chain from `params` built for this listener's redirect URI.
    fn run_with(
        &self,
        transport: &Transport,
        params: impl FnOnce(String) -> ResourceAuthorizationParams,
        kept: Option<RegisteredClientInfo>,
    ) -> Result<ResourceAuthorization, Error> {
        let listener = LoopbackListener::bind(self.loopback.clone()).map_err(Error::Listener)?;
        let mut params = params(listener.redirect_uri());
        if let Some(kept) = kept {
            params = params.registered(kept);
        }
        if let Some(name) = &self.client_name {
            params = params.client_name(name.clone());
        }
        if let Some(scope) = &self.scope {
            params = params.scope(scope.clone());
        }
        if let Some(t) = self.timeout {
            params = params.authorization_ttl(t.as_secs().max(1));
        }
        let mut flow = ResourceAuthorizationFlow::start(params, &mut system_rng(), now())?;
        let mut callbacks = LoopbackCallback::new(listener, self.browser.clone());
        run(&mut flow, transport, Some(&mut callbacks))
    }

    /// Authorizes for the protected resource identified by `resource` (its RFC 9728
    /// metadata is fetched from the well-known URL), without a prior 401.
    pub fn authorize_resource(
        &self,
        transport: &Transport,
        resource: &str,
        kept: Option<RegisteredClientInfo>,
    ) -> Result<ResourceAuthorization, Error> {
        self.run_with(
            transport,
            |redirect| ResourceAuthorizationParams::for_resource(resource, redirect),
            kept,
        )
    }
}

impl Authorizer for BrowserAuthorizer {
    fn authorize(
        &self,
        transport: &Transport,
        challenge: &ResourceChallenge,
        kept: Option<RegisteredClientInfo>,
    ) -> Result<ResourceAuthorization, Error> {
        self.run_with(transport, |redirect| challenge.params(redirect), kept)
    }
}

/// Sends `request` without a token and returns the resource's challenge, if its answer
/// is a 401 announcing `resource_metadata` (RFC 9728 §5.1). `Ok(Err(response))` when
/// the answer is anything else.
pub fn probe(
    transport: &Transport,
    request: http::Request<Vec<u8>>,
) -> Result<Result<ResourceChallenge, oauth_core::HttpResponse>, ApiError> {
    let uri = request.uri().clone();
    let response = transport.send_http(request).map_err(ApiError::Transport)?;
    Ok(ResourceChallenge::from_response(&uri, &response).ok_or(response))
}

/// Runs `authorizer` for `challenge` with the client `store` kept, and keeps a newly
/// registered client there before returning.
pub(crate) fn authorize_and_keep(
    authorizer: &dyn Authorizer,
    transport: &Transport,
    store: &dyn TokenStore,
    challenge: &ResourceChallenge,
) -> Result<ResourceAuthorization, oauth_core::Error> {
    // A kept registration that cannot be read is not fatal: register again.
    let kept = store.load_client().ok().flatten();
    let reused = kept.is_some();
    let done = match authorizer.authorize(transport, challenge, kept) {
        Ok(done) => done,
        Err(e) => {
            let e = driver_error(e);
            if reused && e.suggests_client_unknown() {
                // The next attempt registers anew; a failure to forget changes nothing
                // about this one's outcome.
                let _ = store.forget_client();
            }
            return Err(e);
        }
    };
    if let Some(info) = &done.registered {
        store
            .save_client(info)
            .map_err(|e| oauth_core::Error::PersistFailed(e.to_string()))?;
    }
    Ok(done)
}

/// The core error a driver error stands for.
pub(crate) fn driver_error(e: Error) -> oauth_core::Error {
    match e {
        Error::Flow(e) => e,
        other => oauth_core::Error::Transport(oauth_core::TransportFailure::new(
            oauth_core::TransportErrorKind::Other,
            other.to_string(),
        )),
    }
}
