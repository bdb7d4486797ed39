//! The API session: calls to a protected resource with a token set that takes care of
//! itself — refreshed before it expires, refreshed once and replayed once on a 401
//! `invalid_token`, refreshed by one caller at a time however many call at once, and
//! persisted before any caller sees a rotated token.
//!
//! Two machines share this file. [`Session`] holds the token set of one grant and is
//! shared by every concurrent call (a driver keeps it behind one lock). [`ApiCall`] is
//! one request on its way; the caller owns it and advances it with the session.
//!
//! ```text
//!  Session (shared)
//!
//!   ┌───────┐ a call finds the token expired/rejected ┌────────────┐
//!   │ Ready │────────────────────────────────────────▶│ Refreshing │ one RefreshFlow, one owner
//!   └───────┘                                         └────────────┘
//!     ▲   ▲   refresh failed (transient): Ready again,    │ new token set
//!     │   └── the failure reported to every waiter ◀───────┤
//!     │                                                    ▼
//!     │ persisted                                   ┌────────────┐ persist failed ┌────────────────┐
//!     └─────────────────────────────────────────────│ Persisting │───────────────▶│ PersistPending │
//!                                                   └────────────┘◀───────────────└────────────────┘
//!   invalid_grant, or expired without a refresh token:            next call persists again
//!   ┌───────────────────┐ with_authorization, challenge known ┌─────────────┐ authorized
//!   │ NeedsAuthorization│────────────────────────────────────▶│ Authorizing │──▶ Persisting
//!   └───────────────────┘◀────────────────────────────────────└─────────────┘
//!     otherwise every call ends with the error   the chain failed
//!
//!  ApiCall (one request)
//!
//!   Start ──acquire──▶ Sending ──Response──▶ Done
//!     │                  │ 401 invalid_token, first time: reject that token, acquire again
//!     │                  ▼
//!     ├──▶ WaitingForRefresh ──Wake──▶ acquire again (or Done with the refresh's failure)
//!     ├──▶ Refreshing ──Response──▶ Persisting ──Persisted──▶ acquire again
//!     ├──▶ Probing (sent without a token) ──401 with resource_metadata──▶ acquire again
//!     ├──▶ Authorizing ──Authorized──▶ Persisting ──Persisted──▶ acquire again
//!     └──▶ Done (NeedsAuthorization, TokenExpired, PersistFailed, transport, …)
//! ```
//!
//! The driver's loop: `let step = call.handle(&mut session, CallInput::Begin, now)`, then
//! repeatedly do what the [`Step`] says and feed the result back with the session lock
//! held — [`Step::Send`]: send, feed `Response`/`TransportFailed`; [`Step::Persist`]:
//! save the token set, feed `Persisted`; [`Step::Wait`]: sleep until the session
//! changes (another call finished its step), feed `Wake`; [`Step::Done`]: return.
//!
//! Rules enforced here, so that no driver has to:
//!
//! - refresh when the token is expired or within `skew` seconds of expiry; an unknown
//!   expiry counts as valid until a 401 (RFC 6749 §5.1 makes `expires_in` optional);
//! - single flight (RT-03): while a refresh runs, callers whose token is unusable wait
//!   for it and use its result; a failed refresh is reported to every waiter;
//! - a rotated refresh token replaces the old one (RFC 6749 §6), and the new token set
//!   is handed out only after the driver has persisted it (RT-02);
//! - on a 401 `invalid_token` (RFC 6750 §3.1): refresh once, replay once, never loop;
//!   a call marked non-replayable is not replayed (the token is still renewed);
//! - `invalid_grant` on refresh ends in [`SessionState::NeedsAuthorization`]: the
//!   refresh token is dropped and never sent again (ERR-06);
//! - a session [`with_authorization`](Session::with_authorization) that has no usable
//!   token asks its driver to run the zero-configuration chain ([`Step::Authorize`])
//!   once the resource's 401 has said where its metadata is (RFC 9728 §5.1) — sending
//!   a replayable request without a token first to learn it — one call at a time, at
//!   most once per call; the new token set is persisted before use like any other;
//! - a token issued for a resource (RFC 8707) is sent to that resource only
//!   (BEARER-05).

use crate::bearer::{attach_bearer, invalid_token_challenge};
use crate::client::ClientRegistration;
use crate::error::{ConfigError, Error, InputKind, TransportFailure};
use crate::flow::RefreshFlow;
use crate::flow::{ResourceAuthorization, ResourceChallenge};
use crate::io::{Flow, HttpRequest, HttpResponse, Input, Output};
use crate::time::UnixTime;
use crate::token::TokenSet;
use std::fmt;

/// Default refresh margin: a token within 30 s of expiry is refreshed first.
pub const DEFAULT_SKEW_SECS: u64 = 30;

/// The token set of one grant, shared by every call. See the [module documentation](self).
pub struct Session {
    /// The registration tokens are refreshed with; `None` before the first
    /// authorization of a zero-configuration session.
    client: Option<ClientRegistration>,
    state: SessionState,
    skew_secs: u64,
    /// Whether a call may ask the driver to authorize ([`Step::Authorize`]).
    authorize: bool,
    /// The latest resource challenge any call met.
    challenge: Option<ResourceChallenge>,
    /// Increments each time a new token set becomes current.
    generation: u64,
    /// The generation whose access token a resource rejected with `invalid_token`.
    rejected: Option<u64>,
    /// Increments each time a refresh starts, or the persisting of a kept set is retried.
    epoch: u64,
    /// The latest refresh attempt that failed, and why.
    last_failure: Option<(u64, Error)>,
    refreshes: u64,
    /// Increments on every change a waiting call could care about.
    version: u64,
}

/// Where the session stands.
#[derive(Debug)]
enum SessionState {
    /// Tokens in hand.
    Ready(TokenSet),
    /// A refresh is in flight, driven by one call.
    Refreshing {
        current: TokenSet,
        flow: Box<RefreshFlow>,
    },
    /// A refresh or an authorization succeeded; the new set waits for the driver to
    /// persist it. `current` is the set still usable meanwhile (none after an
    /// authorization).
    Persisting {
        current: Option<TokenSet>,
        new: TokenSet,
    },
    /// Persisting failed; the new set is kept aside and persisted by the next call.
    PersistPending {
        current: Option<TokenSet>,
        new: TokenSet,
    },
    /// The grant is gone, or there never was one; only a new authorization helps.
    NeedsAuthorization(Error),
    /// One call's driver is running the authorization chain for the session; `why` is
    /// what the session needed it for.
    Authorizing { why: Error },
}

impl Session {
    /// A session for `tokens`, obtained from `client`'s server.
    pub fn new(client: &ClientRegistration, tokens: TokenSet) -> Self {
        Session {
            client: Some(client.clone()),
            state: SessionState::Ready(tokens),
            ..Session::empty()
        }
    }

    /// A session with nothing yet: no client, no tokens. Its first call is sent without
    /// a token to meet the resource's challenge, and the driver is asked to run the
    /// authorization chain ([`Step::Authorize`]).
    pub fn unauthorized() -> Self {
        Session::empty().with_authorization(true)
    }

    /// A session for the outcome of the authorization chain (tokens and the client
    /// they were issued to); it may authorize again when they are lost.
    pub fn from_authorization(done: &ResourceAuthorization) -> Self {
        Session::new(&done.client, done.tokens.clone()).with_authorization(true)
    }

    fn empty() -> Self {
        Session {
            client: None,
            state: SessionState::NeedsAuthorization(Error::NotAuthorized),
            skew_secs: DEFAULT_SKEW_SECS,
            authorize: false,
            challenge: None,
            generation: 0,
            rejected: None,
            epoch: 0,
            last_failure: None,
            refreshes: 0,
            version: 0,
        }
    }

    /// Whether a call that finds no usable token, and knows the resource's challenge
    /// (RFC 9728 §5.1), asks its driver to authorize ([`Step::Authorize`]) instead of
    /// ending with the error (default off: a session of [`Session::new`] only refreshes).
    #[must_use]
    pub fn with_authorization(mut self, on: bool) -> Self {
        self.authorize = on;
        self
    }

    /// The latest resource challenge a call met, if any.
    pub fn challenge(&self) -> Option<&ResourceChallenge> {
        self.challenge.as_ref()
    }

    /// Refresh this many seconds before expiry (default [`DEFAULT_SKEW_SECS`]).
    #[must_use]
    pub fn with_skew(mut self, secs: u64) -> Self {
        self.skew_secs = secs;
        self
    }

    /// The token set currently handed out, if any (for display and inspection).
    pub fn tokens(&self) -> Option<&TokenSet> {
        match &self.state {
            SessionState::Ready(t) | SessionState::Refreshing { current: t, .. } => Some(t),
            SessionState::Persisting { current, .. }
            | SessionState::PersistPending { current, .. } => current.as_ref(),
            SessionState::NeedsAuthorization(_) | SessionState::Authorizing { .. } => None,
        }
    }

    /// The error that ended the grant, when only a new authorization can help.
    pub fn needs_authorization(&self) -> Option<&Error> {
        match &self.state {
            SessionState::NeedsAuthorization(e) | SessionState::Authorizing { why: e } => Some(e),
            _ => None,
        }
    }

    /// Installs a token set from a new authorization (the driver persists it first).
    /// Calls that were waiting see it when they wake.
    pub fn replace_tokens(&mut self, tokens: TokenSet) {
        self.generation += 1;
        self.rejected = None;
        self.transition(SessionState::Ready(tokens));
    }

    /// A counter that changes whenever the session does. A driver that was told to
    /// [`Step::Wait`] waits until this differs from its value at that moment.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// Moves to `state` and tells waiting calls.
    fn transition(&mut self, state: SessionState) {
        self.state = state;
        self.version += 1;
    }

    /// Logs out: the session forgets its tokens (every later call ends with
    /// [`Error::LoggedOut`]) and returns them, so that the driver can revoke the refresh
    /// token (RFC 7009 §2.1) and clear its store. A refresh in flight is abandoned.
    pub fn forget(&mut self) -> Option<TokenSet> {
        let state = std::mem::replace(
            &mut self.state,
            SessionState::NeedsAuthorization(Error::LoggedOut),
        );
        self.version += 1;
        match state {
            SessionState::Ready(t) | SessionState::Refreshing { current: t, .. } => Some(t),
            // A set not yet persisted is the newest: its refresh token is the live one.
            SessionState::Persisting { new, .. } | SessionState::PersistPending { new, .. } => {
                Some(new)
            }
            SessionState::NeedsAuthorization(_) | SessionState::Authorizing { .. } => None,
        }
    }

    /// The registration this session refreshes with (`None` before the first
    /// authorization of a [`Session::unauthorized`]).
    pub fn client(&self) -> Option<&ClientRegistration> {
        self.client.as_ref()
    }

    /// How many refreshes succeeded in this session.
    pub fn refresh_count(&self) -> u64 {
        self.refreshes
    }

    /// The name of the current state (for logs and tests).
    pub fn state_name(&self) -> &'static str {
        match self.state {
            SessionState::Ready(_) => "Ready",
            SessionState::Refreshing { .. } => "Refreshing",
            SessionState::Persisting { .. } => "Persisting",
            SessionState::PersistPending { .. } => "PersistPending",
            SessionState::NeedsAuthorization(_) => "NeedsAuthorization",
            SessionState::Authorizing { .. } => "Authorizing",
        }
    }

    /// Whether `tokens` of the current generation can be used at `now` without a refresh.
    fn usable(&self, tokens: &TokenSet, now: UnixTime, skew: u64) -> bool {
        self.rejected != Some(self.generation) && !tokens.needs_refresh(now, skew)
    }

    /// Starts a refresh of `current` and returns its request.
    fn begin_refresh(&mut self, current: TokenSet) -> Result<HttpRequest, Error> {
        let Some(client) = &self.client else {
            self.state = SessionState::Ready(current);
            return Err(ConfigError::Missing { field: "client_id" }.into());
        };
        let mut flow = match RefreshFlow::start(client, &current, None) {
            Ok(flow) => flow,
            Err(e) => {
                self.state = SessionState::Ready(current);
                return Err(e);
            }
        };
        let Output::Send(request) = flow.poll() else {
            self.state = SessionState::Ready(current);
            return Err(Error::Poisoned);
        };
        self.epoch += 1;
        self.transition(SessionState::Refreshing {
            current,
            flow: Box::new(flow),
        });
        Ok(request)
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("state", &self.state_name())
            .field("tokens", &self.tokens())
            .field("generation", &self.generation)
            .field("epoch", &self.epoch)
            .field("refreshes", &self.refreshes)
            .finish_non_exhaustive()
    }
}

/// What the caller feeds into an [`ApiCall`].
pub enum CallInput {
    /// Start the call.
    Begin,
    /// The response to the request of the last [`Step::Send`].
    Response(HttpResponse),
    /// That request could not be completed.
    TransportFailed(TransportFailure),
    /// The outcome of the last [`Step::Persist`]: `Err` carries a short reason.
    Persisted(Result<(), String>),
    /// The session changed after a [`Step::Wait`].
    Wake,
    /// The outcome of the authorization chain the last [`Step::Authorize`] asked for
    /// (the driver keeps any newly registered client before feeding it).
    Authorized(Result<Box<ResourceAuthorization>, Error>),
}

impl fmt::Debug for CallInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallInput::Begin => f.write_str("Begin"),
            CallInput::Response(r) => write!(f, "Response({})", r.status()),
            CallInput::TransportFailed(t) => write!(f, "TransportFailed({t})"),
            CallInput::Persisted(r) => write!(f, "Persisted({})", r.is_ok()),
            CallInput::Wake => f.write_str("Wake"),
            CallInput::Authorized(Ok(_)) => f.write_str("Authorized(Ok)"),
            CallInput::Authorized(Err(e)) => write!(f, "Authorized(Err({e:?}))"),
        }
    }
}

/// What the caller must do next for an [`ApiCall`].
#[must_use]
pub enum Step {
    /// Send this request (the API request with its token, the refresh request, or —
    /// in a session that may authorize — the API request without a token, to meet the
    /// resource's challenge), then feed [`CallInput::Response`] or
    /// [`CallInput::TransportFailed`].
    Send(HttpRequest),
    /// Persist this token set, then feed [`CallInput::Persisted`]. No call receives its
    /// access token before that.
    Persist(TokenSet),
    /// Another call is refreshing or authorizing: wait until the session changes, then
    /// feed [`CallInput::Wake`].
    Wait,
    /// The session has no usable token and the resource said where to get one: run
    /// the authorization chain ([`ResourceAuthorizationFlow`](crate::ResourceAuthorizationFlow),
    /// with [`ResourceChallenge::params`] and any client kept from an earlier run),
    /// then feed [`CallInput::Authorized`]. Only in a session
    /// [`with_authorization`](Session::with_authorization); at most once per call.
    Authorize(ResourceChallenge),
    /// The call is over: the API's response (any status), or why there is none.
    Done(Result<HttpResponse, Error>),
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Send(r) => write!(f, "Send({r:?})"),
            Step::Persist(t) => write!(f, "Persist({t:?})"),
            Step::Wait => f.write_str("Wait"),
            Step::Authorize(c) => write!(f, "Authorize({})", c.metadata_url),
            Step::Done(Ok(r)) => write!(f, "Done(Ok({}))", r.status()),
            Step::Done(Err(e)) => write!(f, "Done(Err({e:?}))"),
        }
    }
}

/// One request to the protected resource. See the [module documentation](self).
pub struct ApiCall {
    request: http::Request<Vec<u8>>,
    replayable: bool,
    replayed: bool,
    /// This call has driven a refresh: it refreshes no more (a server whose tokens are
    /// stale at birth gets them used rather than refreshed forever).
    refreshed: bool,
    /// This call has sent its request without a token to meet the challenge.
    probed: bool,
    /// This call has asked for an authorization: it asks no more.
    authorized: bool,
    state: CallState,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CallState {
    /// Not begun.
    Start,
    /// The request is out with the token of this generation.
    Sending { generation: u64 },
    /// The request is out without a token, to meet the resource's challenge.
    Probing,
    /// Another call refreshes or authorizes (attempt `epoch`).
    WaitingForRefresh { epoch: u64 },
    /// This call drives the session's refresh.
    Refreshing,
    /// This call's driver runs the authorization chain.
    Authorizing,
    /// This call must persist the new token set.
    Persisting,
    /// Over.
    Done,
}

impl ApiCall {
    /// A call whose request may be sent again after a refresh (its body is a byte
    /// buffer, so it can be replayed; the caller vouches that replaying is harmless).
    pub fn new(request: http::Request<Vec<u8>>) -> Self {
        ApiCall {
            request,
            replayable: true,
            replayed: false,
            refreshed: false,
            probed: false,
            authorized: false,
            state: CallState::Start,
        }
    }

    /// A call that must not be sent twice (not idempotent). On a 401 `invalid_token`
    /// the token is still renewed for later calls, but this call ends with the 401;
    /// it is never sent without a token to meet a challenge.
    pub fn without_replay(request: http::Request<Vec<u8>>) -> Self {
        ApiCall {
            replayable: false,
            ..ApiCall::new(request)
        }
    }

    /// Whether the request was sent a second time after a refresh.
    pub fn was_replayed(&self) -> bool {
        self.replayed
    }

    /// Advances the call with `input`, observed at `now`, against `session`.
    pub fn handle(&mut self, session: &mut Session, input: CallInput, now: UnixTime) -> Step {
        let step = match (self.state, input) {
            (CallState::Start, CallInput::Begin) => self.acquire(session, now),

            (CallState::WaitingForRefresh { epoch }, CallInput::Wake) => {
                match &session.last_failure {
                    // RT-03: the refresh (or authorization) this call waited for failed:
                    // so does the call.
                    Some((failed, e)) if *failed == epoch => Step::Done(Err(e.clone())),
                    _ => self.acquire(session, now),
                }
            }

            (
                CallState::Refreshing,
                input @ (CallInput::Response(_) | CallInput::TransportFailed(_)),
            ) => self.refresh_answered(session, input, now),

            (CallState::Authorizing, CallInput::Authorized(result)) => {
                self.authorization_answered(session, result, now)
            }

            (CallState::Persisting, CallInput::Persisted(result)) => {
                let state = std::mem::replace(
                    &mut session.state,
                    SessionState::NeedsAuthorization(Error::Poisoned),
                );
                match (state, result) {
                    (SessionState::Persisting { new, .. }, Ok(())) => {
                        session.generation += 1;
                        session.transition(SessionState::Ready(new));
                        self.acquire(session, now)
                    }
                    (SessionState::Persisting { current, new }, Err(why)) => {
                        // RT-02: an unsaved token set is never handed out; keep it aside
                        // (the old refresh token is likely dead at the server) and let the
                        // next call try to persist it again.
                        let e = Error::PersistFailed(why);
                        session.last_failure = Some((session.epoch, e.clone()));
                        session.transition(SessionState::PersistPending { current, new });
                        Step::Done(Err(e))
                    }
                    // The session was given new tokens (`replace_tokens`) meanwhile:
                    // this save is moot; carry on with what the session holds now.
                    (other, _) => {
                        session.state = other;
                        self.acquire(session, now)
                    }
                }
            }

            (CallState::Sending { generation }, CallInput::Response(response)) => {
                self.note_challenge(session, &response);
                // RFC 6750 §3.1 invalid_token: refresh once and replay once, never loop.
                if invalid_token_challenge(&response).is_some() && !self.replayed {
                    if session.generation == generation && session.rejected != Some(generation) {
                        session.rejected = Some(generation);
                        session.version += 1;
                    }
                    if self.replayable {
                        self.replayed = true;
                        self.acquire(session, now)
                    } else {
                        Step::Done(Ok(response))
                    }
                } else {
                    Step::Done(Ok(response))
                }
            }
            (CallState::Probing, CallInput::Response(response)) => {
                if self.note_challenge(session, &response) {
                    // RFC 9728 §5.1: the resource said where to get a token.
                    self.acquire(session, now)
                } else if response.status() == http::StatusCode::UNAUTHORIZED {
                    // Refused, and no way to authorize announced: the session's reason.
                    Step::Done(Err(session
                        .needs_authorization()
                        .cloned()
                        .unwrap_or(Error::NotAuthorized)))
                } else {
                    // The resource answered without a token.
                    Step::Done(Ok(response))
                }
            }
            (CallState::Sending { .. } | CallState::Probing, CallInput::TransportFailed(f)) => {
                Step::Done(Err(Error::Transport(f)))
            }

            (state, input) => Step::Done(Err(Error::UnexpectedInput {
                expected: state.expected(),
                got: input.kind(),
            })),
        };
        self.state = match &step {
            Step::Done(_) => CallState::Done,
            _ => self.state,
        };
        step
    }

    /// Keeps the resource's challenge in `response`, if any; whether there was one.
    fn note_challenge(&mut self, session: &mut Session, response: &HttpResponse) -> bool {
        match ResourceChallenge::from_response(self.request.uri(), response) {
            Some(c) => {
                session.challenge = Some(c);
                true
            }
            None => false,
        }
    }

    /// Gets a usable token from the session, refreshing, authorizing or waiting as
    /// needed.
    fn acquire(&mut self, session: &mut Session, now: UnixTime) -> Step {
        let state = std::mem::replace(
            &mut session.state,
            SessionState::NeedsAuthorization(Error::Poisoned),
        );
        match state {
            SessionState::NeedsAuthorization(e) => self.authorize_or_end(session, e),
            SessionState::Ready(tokens) => {
                // A call refreshes at most once; after that it uses what it has, unless
                // the resource rejected that very token (then the 401 is the answer).
                let settled = self.refreshed && session.rejected != Some(session.generation);
                if settled || session.usable(&tokens, now, session.skew_secs) {
                    let step = self.send_with(session, &tokens, session.generation);
                    session.state = SessionState::Ready(tokens);
                    return step;
                }
                if tokens.refresh_token.is_none() {
                    // Expired (or rejected) and nothing to renew it with.
                    let e = Error::TokenExpired;
                    session.version += 1;
                    return self.authorize_or_end(session, e);
                }
                if self.refreshed {
                    // Refreshed once already and the new token was rejected too.
                    let e = Error::TokenExpired;
                    session.state = SessionState::Ready(tokens);
                    return Step::Done(Err(e));
                }
                match session.begin_refresh(tokens) {
                    Ok(request) => {
                        self.state = CallState::Refreshing;
                        self.refreshed = true;
                        Step::Send(request)
                    }
                    Err(e) => Step::Done(Err(e)),
                }
            }
            state @ (SessionState::Refreshing { .. } | SessionState::Persisting { .. }) => {
                session.state = state;
                // A token that is still valid (not rejected, not past expiry) may be used
                // while its successor is being fetched; otherwise wait for the successor.
                if let Some(current) = session.tokens()
                    && session.usable(current, now, 0)
                {
                    let current = current.clone();
                    return self.send_with(session, &current, session.generation);
                }
                self.state = CallState::WaitingForRefresh {
                    epoch: session.epoch,
                };
                Step::Wait
            }
            state @ SessionState::Authorizing { .. } => {
                session.state = state;
                self.state = CallState::WaitingForRefresh {
                    epoch: session.epoch,
                };
                Step::Wait
            }
            SessionState::PersistPending { current, new } => {
                // A new attempt: calls that wait for it must get its outcome, not the
                // failure of the attempt before (recorded under the previous epoch).
                session.epoch += 1;
                session.transition(SessionState::Persisting {
                    current,
                    new: new.clone(),
                });
                self.state = CallState::Persisting;
                Step::Persist(new)
            }
        }
    }

    /// No usable token (`why`): ask the driver to authorize when the session may and
    /// the resource's challenge is known — first sending the request without a token
    /// to meet it, if the call may be sent twice — else end with `why`.
    fn authorize_or_end(&mut self, session: &mut Session, why: Error) -> Step {
        if session.authorize && !self.authorized && !matches!(why, Error::Poisoned) {
            if let Some(challenge) = session.challenge.clone() {
                self.authorized = true;
                session.epoch += 1;
                session.transition(SessionState::Authorizing { why });
                self.state = CallState::Authorizing;
                return Step::Authorize(challenge);
            }
            if self.replayable && !self.probed {
                self.probed = true;
                session.state = SessionState::NeedsAuthorization(why);
                self.state = CallState::Probing;
                let mut request = http::Request::new(self.request.body().clone());
                *request.method_mut() = self.request.method().clone();
                *request.uri_mut() = self.request.uri().clone();
                *request.headers_mut() = self.request.headers().clone();
                request.headers_mut().remove(http::header::AUTHORIZATION);
                return Step::Send(HttpRequest::from_http(request));
            }
        }
        session.state = SessionState::NeedsAuthorization(why.clone());
        Step::Done(Err(why))
    }

    fn authorization_answered(
        &mut self,
        session: &mut Session,
        result: Result<Box<ResourceAuthorization>, Error>,
        now: UnixTime,
    ) -> Step {
        let state = std::mem::replace(
            &mut session.state,
            SessionState::NeedsAuthorization(Error::Poisoned),
        );
        match (state, result) {
            (SessionState::Authorizing { .. }, Ok(done)) => {
                // RT-02 holds for a new authorization too: persisted before use.
                let ResourceAuthorization { tokens, client, .. } = *done;
                session.client = Some(client);
                session.transition(SessionState::Persisting {
                    current: None,
                    new: tokens.clone(),
                });
                self.state = CallState::Persisting;
                Step::Persist(tokens)
            }
            (SessionState::Authorizing { .. }, Err(e)) => {
                session.last_failure = Some((session.epoch, e.clone()));
                session.transition(SessionState::NeedsAuthorization(e.clone()));
                Step::Done(Err(e))
            }
            // The session was given tokens, or logged out, meanwhile: this outcome is
            // moot; carry on with what the session holds now.
            (other, _) => {
                session.state = other;
                self.acquire(session, now)
            }
        }
    }

    fn send_with(&mut self, session: &Session, tokens: &TokenSet, generation: u64) -> Step {
        // BEARER-05: a token for a resource (RFC 8707) goes to that resource only.
        if let Some(client) = &session.client
            && !client.resource_urls().is_empty()
            && !resource_covered(client.resource_urls(), self.request.uri())
        {
            return Step::Done(Err(ConfigError::TokenNotForResource.into()));
        }
        let mut request = http::Request::new(self.request.body().clone());
        *request.method_mut() = self.request.method().clone();
        *request.uri_mut() = self.request.uri().clone();
        *request.headers_mut() = self.request.headers().clone();
        if let Err(e) = attach_bearer(&mut request, &tokens.access_token) {
            return Step::Done(Err(e.into()));
        }
        self.state = CallState::Sending { generation };
        Step::Send(HttpRequest::from_http(request))
    }

    fn refresh_answered(&mut self, session: &mut Session, input: CallInput, now: UnixTime) -> Step {
        let state = std::mem::replace(
            &mut session.state,
            SessionState::NeedsAuthorization(Error::Poisoned),
        );
        let SessionState::Refreshing { current, mut flow } = state else {
            // The session was given new tokens (`replace_tokens`) while this refresh
            // ran: its answer is moot; carry on with what the session holds now.
            session.state = state;
            return self.acquire(session, now);
        };
        let input = match input {
            CallInput::Response(r) => Input::Response(r),
            CallInput::TransportFailed(f) => Input::TransportFailed(f),
            _ => Input::Tick,
        };
        flow.handle(input, now);
        match flow.poll() {
            Output::Done(Ok(new)) => {
                session.refreshes += 1;
                // RT-02: persisted before anyone uses it.
                session.transition(SessionState::Persisting {
                    current: Some(current),
                    new: new.clone(),
                });
                self.state = CallState::Persisting;
                Step::Persist(new)
            }
            Output::Done(Err(e)) if e.needs_new_authorization() => {
                // ERR-06: the grant is gone; drop the refresh token, do not loop.
                session.last_failure = Some((session.epoch, e.clone()));
                drop(current);
                session.version += 1;
                self.authorize_or_end(session, e)
            }
            Output::Done(Err(e)) => {
                session.last_failure = Some((session.epoch, e.clone()));
                session.transition(SessionState::Ready(current));
                Step::Done(Err(e))
            }
            _ => {
                session.state = SessionState::Ready(current);
                Step::Done(Err(Error::Poisoned))
            }
        }
    }
}

/// Whether a request for `uri` goes to one of the resources identified by `resources`:
/// same origin, and a path under the resource's.
fn resource_covered(resources: &[url::Url], uri: &http::Uri) -> bool {
    match url::Url::parse(&uri.to_string()) {
        Ok(u) => resources
            .iter()
            .any(|r| crate::parse::resource_covers(r, &u)),
        Err(_) => false,
    }
}

impl CallState {
    fn expected(self) -> &'static [InputKind] {
        match self {
            CallState::Start => &[InputKind::Begin],
            CallState::Sending { .. } | CallState::Refreshing | CallState::Probing => {
                &[InputKind::Response, InputKind::TransportFailed]
            }
            CallState::WaitingForRefresh { .. } => &[InputKind::Wake],
            CallState::Authorizing => &[InputKind::Authorized],
            CallState::Persisting => &[InputKind::Persisted],
            CallState::Done => &[],
        }
    }
}

impl CallInput {
    fn kind(&self) -> InputKind {
        match self {
            CallInput::Begin => InputKind::Begin,
            CallInput::Response(_) => InputKind::Response,
            CallInput::TransportFailed(_) => InputKind::TransportFailed,
            CallInput::Persisted(_) => InputKind::Persisted,
            CallInput::Wake => InputKind::Wake,
            CallInput::Authorized(_) => InputKind::Authorized,
        }
    }
}

impl fmt::Debug for ApiCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiCall")
            .field("method", self.request.method())
            .field("uri", &self.request.uri().to_string())
            .field("state", &self.state)
            .field("replayable", &self.replayable)
            .field("replayed", &self.replayed)
            .finish()
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
