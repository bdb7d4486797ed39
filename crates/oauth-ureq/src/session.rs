//! A thread-safe authorized client: the core's API session behind one lock.
//!
//! Every call runs the core's [`ApiCall`] against the shared [`Session`]; this module
//! only does what the core asks — send, persist, wait — and wakes waiting threads when
//! the session changes. At most one refresh is in flight (the core says so), a failed
//! refresh is reported to every thread that waited for it, and a rotated token set is
//! saved in the [`TokenStore`] before any thread receives its access token.

use crate::api::ApiError;
use crate::authorize::{Authorizer, authorize_and_keep, driver_error};
use crate::driver::{now, run};
use crate::store::{StoreError, TokenStore};
use crate::transport::Transport;
use oauth_core::{
    ApiCall, CallInput, ClientRegistration, HttpResponse, RevocationFlow, Session, Step, TokenRef,
    TokenSet, invalid_token_challenge,
};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// A client for a protected API that many threads share. Cheap to clone.
#[derive(Clone)]
pub struct AuthorizedClient {
    inner: Arc<Inner>,
}

struct Inner {
    session: Mutex<Session>,
    changed: Condvar,
    transport: Transport,
    store: Arc<dyn TokenStore>,
    authorizer: Option<Arc<dyn Authorizer>>,
}

impl std::fmt::Debug for AuthorizedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthorizedClient")
            .field("session", &*self.lock())
            .finish_non_exhaustive()
    }
}

impl AuthorizedClient {
    /// A client for `tokens` (already persisted by the caller, if they should be).
    pub fn new(
        client: &ClientRegistration,
        tokens: TokenSet,
        transport: Transport,
        store: Arc<dyn TokenStore>,
    ) -> Self {
        AuthorizedClient::with_session(Session::new(client, tokens), transport, store)
    }

    /// A client over a configured session (e.g. a different refresh skew).
    pub fn with_session(
        session: Session,
        transport: Transport,
        store: Arc<dyn TokenStore>,
    ) -> Self {
        AuthorizedClient {
            inner: Arc::new(Inner {
                session: Mutex::new(session),
                changed: Condvar::new(),
                transport,
                store,
                authorizer: None,
            }),
        }
    }

    /// A client that authorizes by itself: when a call finds no usable token and the
    /// resource's 401 announces its metadata (RFC 9728 §5.1), `authorizer` runs the
    /// zero-configuration chain (registering a client if the store keeps none, RFC
    /// 7591), the new token set is saved, and the call goes on. One thread authorizes;
    /// the others wait for it. `session` is [`Session::unauthorized`] for a first run.
    pub fn with_authorizer(
        session: Session,
        transport: Transport,
        store: Arc<dyn TokenStore>,
        authorizer: Arc<dyn Authorizer>,
    ) -> Self {
        AuthorizedClient {
            inner: Arc::new(Inner {
                session: Mutex::new(session.with_authorization(true)),
                changed: Condvar::new(),
                transport,
                store,
                authorizer: Some(authorizer),
            }),
        }
    }

    /// A first-run client for a resource nobody configured: no client, no tokens; the
    /// first call meets the resource's challenge and authorizes.
    pub fn zero_config(
        transport: Transport,
        store: Arc<dyn TokenStore>,
        authorizer: Arc<dyn Authorizer>,
    ) -> Self {
        AuthorizedClient::with_authorizer(Session::unauthorized(), transport, store, authorizer)
    }

    /// The registration in use (after a zero-configuration authorization, the one the
    /// chain produced), if any.
    pub fn client(&self) -> Option<ClientRegistration> {
        self.lock().client().cloned()
    }

    /// A client for the token set in `store`; `Ok(None)` when the store is empty.
    pub fn from_store(
        client: &ClientRegistration,
        transport: Transport,
        store: Arc<dyn TokenStore>,
    ) -> Result<Option<Self>, StoreError> {
        Ok(store
            .load()?
            .map(|tokens| AuthorizedClient::new(client, tokens, transport, store)))
    }

    fn lock(&self) -> MutexGuard<'_, Session> {
        // The session's transitions never panic; a poisoned lock only means another
        // thread panicked outside them, and the session is still consistent.
        self.inner
            .session
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends `request` with a valid access token, refreshing first when needed, and
    /// once more after a 401 `invalid_token` (the request is then sent again).
    pub fn call(&self, request: http::Request<Vec<u8>>) -> Result<HttpResponse, ApiError> {
        self.run(ApiCall::new(request))
    }

    /// Like [`call`](Self::call) for a request that must not be sent twice: after a 401
    /// `invalid_token` the token is renewed for later calls, and this call reports
    /// [`ApiError::InvalidToken`].
    pub fn call_once(&self, request: http::Request<Vec<u8>>) -> Result<HttpResponse, ApiError> {
        self.run(ApiCall::without_replay(request))
    }

    /// The token set currently in use (a copy).
    pub fn tokens(&self) -> Option<TokenSet> {
        self.lock().tokens().cloned()
    }

    /// How many refreshes this client performed.
    pub fn refresh_count(&self) -> u64 {
        self.lock().refresh_count()
    }

    /// Installs the token set of a new authorization, after saving it.
    pub fn replace_tokens(&self, tokens: TokenSet) -> Result<(), StoreError> {
        self.inner.store.save(&tokens)?;
        self.lock().replace_tokens(tokens);
        self.inner.changed.notify_all();
        Ok(())
    }

    /// Logs out (REV-04): forgets the tokens, revokes the refresh token (or, without
    /// one, the access token) when the server has a revocation endpoint, and clears the
    /// store — whatever the revocation's outcome. Later calls fail with
    /// `oauth_core::Error::LoggedOut`. The first failure is reported.
    pub fn logout(&self) -> Result<(), ApiError> {
        let (client, tokens) = {
            let mut session = self.lock();
            let client = session.client().cloned();
            (client, session.forget())
        };
        self.inner.changed.notify_all();
        let mut result = Ok(());
        if let (Some(tokens), Some(client)) = (&tokens, &client)
            && client.revocation_endpoint().is_some()
        {
            result = RevocationFlow::start(client, TokenRef::to_revoke(tokens))
                .map_err(ApiError::Token)
                .and_then(|mut flow| {
                    run(&mut flow, &self.inner.transport, None).map_err(|e| match e {
                        crate::driver::Error::Flow(e) => finish_error(e),
                        e => ApiError::Token(driver_error(e)),
                    })
                });
        }
        let cleared = self.inner.store.clear();
        match (result, cleared) {
            (Err(e), _) => Err(e),
            (Ok(()), Err(e)) => Err(ApiError::Token(oauth_core::Error::PersistFailed(
                e.to_string(),
            ))),
            (Ok(()), Ok(())) => Ok(()),
        }
    }

    fn run(&self, mut call: ApiCall) -> Result<HttpResponse, ApiError> {
        let inner = &*self.inner;
        let mut session = self.lock();
        let mut step = call.handle(&mut session, CallInput::Begin, now());
        loop {
            let before = session.version();
            step = match step {
                Step::Wait => {
                    while session.version() == before {
                        // The timeout only guards against a lost wake-up; the loop
                        // re-checks the version either way.
                        session = inner
                            .changed
                            .wait_timeout(session, Duration::from_secs(1))
                            .unwrap_or_else(PoisonError::into_inner)
                            .0;
                    }
                    call.handle(&mut session, CallInput::Wake, now())
                }
                Step::Send(request) => {
                    drop(session);
                    let input = match inner.transport.send(request) {
                        Ok(response) => CallInput::Response(response),
                        Err(failure) => CallInput::TransportFailed(failure),
                    };
                    session = self.lock();
                    call.handle(&mut session, input, now())
                }
                Step::Authorize(challenge) => {
                    drop(session);
                    let result = match &inner.authorizer {
                        Some(a) => authorize_and_keep(
                            a.as_ref(),
                            &inner.transport,
                            inner.store.as_ref(),
                            &challenge,
                        )
                        .map(Box::new),
                        None => Err(oauth_core::Error::NotAuthorized),
                    };
                    session = self.lock();
                    call.handle(&mut session, CallInput::Authorized(result), now())
                }
                Step::Persist(tokens) => {
                    drop(session);
                    let saved = inner.store.save(&tokens).map_err(|e| e.to_string());
                    session = self.lock();
                    call.handle(&mut session, CallInput::Persisted(saved), now())
                }
                Step::Done(result) => {
                    drop(session);
                    inner.changed.notify_all();
                    return finish(result);
                }
            };
            if session.version() != before {
                inner.changed.notify_all();
            }
        }
    }
}

fn finish(result: Result<HttpResponse, oauth_core::Error>) -> Result<HttpResponse, ApiError> {
    match result {
        Ok(response) => match invalid_token_challenge(&response) {
            Some(challenge) => Err(ApiError::InvalidToken {
                challenge: Box::new(challenge),
                response: Box::new(response),
            }),
            None => Ok(response),
        },
        Err(e) => Err(finish_error(e)),
    }
}

fn finish_error(e: oauth_core::Error) -> ApiError {
    match e {
        oauth_core::Error::Transport(f) => ApiError::Transport(f),
        oauth_core::Error::Config(c) => ApiError::Refused(c),
        e => ApiError::Token(e),
    }
}
