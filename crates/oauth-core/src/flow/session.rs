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
//!   ┌───────────────────┐
//!   │ NeedsAuthorization│ every call ends with the error (needs_new_authorization)
//!   └───────────────────┘
//!
//!  ApiCall (one request)
//!
//!   Start ──acquire──▶ Sending ──Response──▶ Done
//!     │                  │ 401 invalid_token, first time: reject that token, acquire again
//!     │                  ▼
//!     ├──▶ WaitingForRefresh ──Wake──▶ acquire again (or Done with the refresh's failure)
//!     ├──▶ Refreshing ──Response──▶ Persisting ──Persisted──▶ acquire again
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
//!   refresh token is dropped and never sent again (ERR-06).

use crate::bearer::{attach_bearer, invalid_token_challenge};
use crate::client::ClientRegistration;
use crate::error::{Error, InputKind, TransportFailure};
use crate::flow::RefreshFlow;
use crate::io::{Flow, HttpRequest, HttpResponse, Input, Output};
use crate::time::UnixTime;
use crate::token::TokenSet;
use std::fmt;

/// Default refresh margin: a token within 30 s of expiry is refreshed first.
pub const DEFAULT_SKEW_SECS: u64 = 30;

/// The token set of one grant, shared by every call. See the [module documentation](self).
pub struct Session {
    client: ClientRegistration,
    state: SessionState,
    skew_secs: u64,
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
    /// The refresh succeeded; the new set waits for the driver to persist it.
    Persisting { current: TokenSet, new: TokenSet },
    /// Persisting failed; the new set is kept aside and persisted by the next call.
    PersistPending { current: TokenSet, new: TokenSet },
    /// The grant is gone; only a new authorization helps.
    NeedsAuthorization(Error),
}

impl Session {
    /// A session for `tokens`, obtained from `client`'s server.
    pub fn new(client: &ClientRegistration, tokens: TokenSet) -> Self {
        Session {
            client: client.clone(),
            state: SessionState::Ready(tokens),
            skew_secs: DEFAULT_SKEW_SECS,
            generation: 0,
            rejected: None,
            epoch: 0,
            last_failure: None,
            refreshes: 0,
            version: 0,
        }
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
            SessionState::Ready(t)
            | SessionState::Refreshing { current: t, .. }
            | SessionState::Persisting { current: t, .. }
            | SessionState::PersistPending { current: t, .. } => Some(t),
            SessionState::NeedsAuthorization(_) => None,
        }
    }

    /// The error that ended the grant, when only a new authorization can help.
    pub fn needs_authorization(&self) -> Option<&Error> {
        match &self.state {
            SessionState::NeedsAuthorization(e) => Some(e),
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
            SessionState::NeedsAuthorization(_) => None,
        }
    }

    /// The registration this session refreshes with.
    pub fn client(&self) -> &ClientRegistration {
        &self.client
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
        }
    }

    /// Whether `tokens` of the current generation can be used at `now` without a refresh.
    fn usable(&self, tokens: &TokenSet, now: UnixTime, skew: u64) -> bool {
        self.rejected != Some(self.generation) && !tokens.needs_refresh(now, skew)
    }

    /// Starts a refresh of `current` and returns its request.
    fn begin_refresh(&mut self, current: TokenSet) -> Result<HttpRequest, Error> {
        let mut flow = match RefreshFlow::start(&self.client, &current, None) {
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
}

impl fmt::Debug for CallInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallInput::Begin => f.write_str("Begin"),
            CallInput::Response(r) => write!(f, "Response({})", r.status()),
            CallInput::TransportFailed(t) => write!(f, "TransportFailed({t})"),
            CallInput::Persisted(r) => write!(f, "Persisted({})", r.is_ok()),
            CallInput::Wake => f.write_str("Wake"),
        }
    }
}

/// What the caller must do next for an [`ApiCall`].
#[must_use]
pub enum Step {
    /// Send this request (the API request with its token, or the refresh request),
    /// then feed [`CallInput::Response`] or [`CallInput::TransportFailed`].
    Send(HttpRequest),
    /// Persist this token set, then feed [`CallInput::Persisted`]. No call receives its
    /// access token before that.
    Persist(TokenSet),
    /// Another call is refreshing: wait until the session changes, then feed
    /// [`CallInput::Wake`].
    Wait,
    /// The call is over: the API's response (any status), or why there is none.
    Done(Result<HttpResponse, Error>),
}

impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Send(r) => write!(f, "Send({r:?})"),
            Step::Persist(t) => write!(f, "Persist({t:?})"),
            Step::Wait => f.write_str("Wait"),
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
    state: CallState,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CallState {
    /// Not begun.
    Start,
    /// The request is out with the token of this generation.
    Sending { generation: u64 },
    /// Another call refreshes (attempt `epoch`).
    WaitingForRefresh { epoch: u64 },
    /// This call drives the session's refresh.
    Refreshing,
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
            state: CallState::Start,
        }
    }

    /// A call that must not be sent twice (not idempotent). On a 401 `invalid_token`
    /// the token is still renewed for later calls, but this call ends with the 401.
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
                    // RT-03: the refresh this call waited for failed: so does the call.
                    Some((failed, e)) if *failed == epoch => Step::Done(Err(e.clone())),
                    _ => self.acquire(session, now),
                }
            }

            (
                CallState::Refreshing,
                input @ (CallInput::Response(_) | CallInput::TransportFailed(_)),
            ) => self.refresh_answered(session, input, now),

            (CallState::Persisting, CallInput::Persisted(result)) => {
                let state = std::mem::replace(
                    &mut session.state,
                    SessionState::NeedsAuthorization(Error::Poisoned),
                );
                match (state, result) {
                    (SessionState::Persisting { new, .. }, Ok(())) => {
                        session.generation += 1;
                        session.refreshes += 1;
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
            (CallState::Sending { .. }, CallInput::TransportFailed(f)) => {
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

    /// Gets a usable token from the session, refreshing or waiting as needed.
    fn acquire(&mut self, session: &mut Session, now: UnixTime) -> Step {
        let state = std::mem::replace(
            &mut session.state,
            SessionState::NeedsAuthorization(Error::Poisoned),
        );
        match state {
            SessionState::NeedsAuthorization(e) => {
                session.state = SessionState::NeedsAuthorization(e.clone());
                Step::Done(Err(e))
            }
            SessionState::Ready(tokens) => {
                // A call refreshes at most once; after that it uses what it has, unless
                // the resource rejected that very token (then the 401 is the answer).
                let settled = self.refreshed && session.rejected != Some(session.generation);
                if settled || session.usable(&tokens, now, session.skew_secs) {
                    let step = self.send_with(&tokens, session.generation);
                    session.state = SessionState::Ready(tokens);
                    return step;
                }
                if tokens.refresh_token.is_none() {
                    // Expired (or rejected) and nothing to renew it with.
                    let e = Error::TokenExpired;
                    session.transition(SessionState::NeedsAuthorization(e.clone()));
                    return Step::Done(Err(e));
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
                    return self.send_with(&current, session.generation);
                }
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

    fn send_with(&mut self, tokens: &TokenSet, generation: u64) -> Step {
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
                // RT-02: persisted before anyone uses it.
                session.transition(SessionState::Persisting {
                    current,
                    new: new.clone(),
                });
                self.state = CallState::Persisting;
                Step::Persist(new)
            }
            Output::Done(Err(e)) if e.needs_new_authorization() => {
                // ERR-06: the grant is gone; drop the refresh token, do not loop.
                session.last_failure = Some((session.epoch, e.clone()));
                session.transition(SessionState::NeedsAuthorization(e.clone()));
                drop(current);
                Step::Done(Err(e))
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

impl CallState {
    fn expected(self) -> &'static [InputKind] {
        match self {
            CallState::Start => &[InputKind::Begin],
            CallState::Sending { .. } | CallState::Refreshing => {
                &[InputKind::Response, InputKind::TransportFailed]
            }
            CallState::WaitingForRefresh { .. } => &[InputKind::Wake],
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
