//! The deterministic simulation driver: a virtual clock, a seeded RNG, the fake server,
//! a simulated user, a step limit, a filter hook and a redacted transcript.
//!
//! It is the same loop any driver writes (poll, act, handle), with the network and the
//! browser replaced by [`FakeAuthorizationServer`] and a [`UserPolicy`].

use crate::rng::SeededRng;
use crate::server::{AuthorizeError, Decision, FakeAuthorizationServer};
use crate::transcript::{EntryKind, Transcript};
use crate::user::UserPolicy;
use http::{HeaderMap, Method};
use oauth_core::parse::RegisteredClientInfo;
use oauth_core::{
    ApiCall, AuthorizationCodeFlow, AuthorizationParams, CallInput, ClientRegistration, Error,
    Flow, HttpResponse, Input, Output, RefreshFlow, Scope, Session, Step, TokenSet, UnixTime,
    attach_bearer, redact,
};
use oauth_core::{ResourceAuthorization, ResourceAuthorizationFlow, ResourceChallenge};
use std::fmt;
use url::Url;

/// Why a simulation run did not produce the flow's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimError {
    /// The flow finished with this error.
    Flow(Error),
    /// The flow did not finish within the step limit (a livelock).
    StepLimit {
        /// The limit that was reached.
        steps: usize,
    },
    /// The authorization page could not redirect back at all.
    AuthorizationPage(AuthorizeError),
    /// The flow asked to wait for a response the simulation never owed it (the
    /// simulation answers every `Send` at once, so this is a flow bug).
    AwaitedUnsentResponse,
}

impl SimError {
    /// The flow's error, if that is what this is.
    pub fn flow_error(&self) -> Option<&Error> {
        match self {
            SimError::Flow(e) => Some(e),
            _ => None,
        }
    }
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::Flow(e) => write!(f, "{e}"),
            SimError::StepLimit { steps } => write!(f, "no outcome after {steps} steps"),
            SimError::AuthorizationPage(e) => {
                write!(f, "the authorization page refused the request: {e:?}")
            }
            SimError::AwaitedUnsentResponse => {
                f.write_str("the flow awaited a response that was never owed")
            }
        }
    }
}

impl std::error::Error for SimError {}

/// A request as it left the client, unredacted, for assertions about where secrets go.
/// Its `Debug` is redacted; read the fields directly.
#[derive(Clone)]
pub struct RecordedRequest {
    /// When it was sent.
    pub at: UnixTime,
    /// The method.
    pub method: Method,
    /// The full URI.
    pub uri: String,
    /// The headers (`Authorization` included).
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl fmt::Debug for RecordedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordedRequest")
            .field("at", &self.at)
            .field("method", &self.method)
            .field("uri", &self.uri)
            .finish_non_exhaustive()
    }
}

/// One hop through the simulated network, handed to the filter hook.
pub enum Hop<'a> {
    /// A request on its way to the server.
    Request(&'a mut http::Request<Vec<u8>>),
    /// A response on its way to the client.
    Response(&'a mut HttpResponse),
}

type Filter = Box<dyn FnMut(Hop<'_>)>;

/// The simulation. See the [module documentation](self).
pub struct Simulation {
    /// The fake server; configure it directly.
    pub server: FakeAuthorizationServer,
    clock: UnixTime,
    rng: SeededRng,
    transcript: Transcript,
    sent: Vec<RecordedRequest>,
    user: UserPolicy,
    user_delay: u64,
    latency: u64,
    step_limit: usize,
    filter: Option<Filter>,
    recording: bool,
    /// A device-flow user code the user will enter at this time, with this decision.
    device_user: Option<(String, UnixTime, Option<Decision>)>,
    kept_registration: Option<RegisteredClientInfo>,
}

impl fmt::Debug for Simulation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Simulation")
            .field("clock", &self.clock)
            .field("user", &self.user)
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

/// The virtual clock's starting point: 2023-11-14T22:13:20Z.
pub const START_TIME: UnixTime = UnixTime::from_secs(1_700_000_000);

impl Simulation {
    /// A simulation whose every random draw (the client's and the server's) follows
    /// from `seed`. The user approves, takes 5 s, and each HTTP exchange takes 0 s.
    pub fn new(seed: u64, server: FakeAuthorizationServer) -> Self {
        Simulation {
            server,
            clock: START_TIME,
            rng: SeededRng::new(seed),
            transcript: Transcript::default(),
            sent: Vec::new(),
            user: UserPolicy::Approve,
            user_delay: 5,
            latency: 0,
            step_limit: 1_000,
            filter: None,
            recording: true,
            device_user: None,
            kept_registration: None,
        }
    }

    /// The virtual time.
    pub fn now(&self) -> UnixTime {
        self.clock
    }

    /// Moves the clock forward.
    pub fn advance(&mut self, secs: u64) {
        self.clock = self.clock.saturating_add(secs);
    }

    /// Sets the clock, backwards included (to test clocks that jump).
    pub fn set_now(&mut self, t: UnixTime) {
        self.clock = t;
    }

    /// The client's random source.
    pub fn rng(&mut self) -> &mut SeededRng {
        &mut self.rng
    }

    /// What the user does at the authorization page.
    pub fn set_user(&mut self, policy: UserPolicy) -> &mut Self {
        self.user = policy;
        self
    }

    /// Seconds the user spends at the authorization page.
    pub fn set_user_delay(&mut self, secs: u64) -> &mut Self {
        self.user_delay = secs;
        self
    }

    /// Seconds each HTTP exchange takes.
    pub fn set_latency(&mut self, secs: u64) -> &mut Self {
        self.latency = secs;
        self
    }

    /// The most `poll`s one run may take before it is reported as a livelock.
    pub fn set_step_limit(&mut self, steps: usize) -> &mut Self {
        self.step_limit = steps;
        self
    }

    /// A hook that sees (and may rewrite) every request and response in flight.
    pub fn set_filter(&mut self, f: impl FnMut(Hop<'_>) + 'static) -> &mut Self {
        self.filter = Some(Box::new(f));
        self
    }

    /// Whether exchanges are recorded in the transcript and the sent-request log
    /// (default on; turn it off for runs of thousands of calls).
    pub fn set_recording(&mut self, on: bool) -> &mut Self {
        self.recording = on;
        self
    }

    /// The redacted transcript.
    pub fn transcript(&self) -> &Transcript {
        &self.transcript
    }

    /// Every request the client sent, unredacted (for assertions; never print it).
    pub fn sent_requests(&self) -> &[RecordedRequest] {
        &self.sent
    }

    /// Adds a remark to the transcript.
    pub fn note(&mut self, text: impl Into<String>) {
        self.transcript
            .push(self.clock, EntryKind::Note, text.into());
    }

    /// Starts an authorization-code flow with the simulation's RNG and clock.
    pub fn start_authorization(
        &mut self,
        client: &ClientRegistration,
        params: AuthorizationParams,
    ) -> Result<AuthorizationCodeFlow, Error> {
        AuthorizationCodeFlow::start(client, params, &mut self.rng, self.clock)
    }

    /// Runs a whole authorization-code flow.
    pub fn authorize(
        &mut self,
        client: &ClientRegistration,
        scope: &str,
    ) -> Result<TokenSet, SimError> {
        let scope = Scope::parse(scope).map_err(|e| SimError::Flow(e.into()))?;
        let mut flow = self
            .start_authorization(client, AuthorizationParams::new().scope(scope))
            .map_err(SimError::Flow)?;
        self.run(&mut flow)
    }

    /// Runs a whole refresh.
    pub fn refresh(
        &mut self,
        client: &ClientRegistration,
        tokens: &TokenSet,
        scope: Option<Scope>,
    ) -> Result<TokenSet, SimError> {
        let mut flow = RefreshFlow::start(client, tokens, scope).map_err(SimError::Flow)?;
        self.run(&mut flow)
    }

    /// Drives `flow` to its outcome: the one loop every driver writes.
    pub fn run<F: Flow>(&mut self, flow: &mut F) -> Result<F::Outcome, SimError> {
        let mut to_visit: Option<Url> = None;
        for _ in 0..self.step_limit {
            match flow.poll() {
                Output::Send(request) => {
                    let input = self.exchange(request.into_http());
                    flow.handle(input, self.clock);
                }
                Output::Visit(url) => {
                    // The simulated user agent parses the URL, as a browser does.
                    let url = url.to_url();
                    self.transcript.url(self.clock, EntryKind::Visit, &url);
                    to_visit = Some(url);
                }
                Output::AwaitCallback { deadline } => {
                    let callback = match to_visit.take() {
                        Some(url) => self.user_agent(&url)?,
                        None => None,
                    };
                    match callback {
                        Some(cb) => {
                            self.transcript.url(self.clock, EntryKind::Callback, &cb);
                            flow.handle(Input::Callback(cb), self.clock);
                        }
                        None => {
                            // Nobody comes back: time runs out.
                            self.clock = self.clock.max(deadline.saturating_add(1));
                            self.transcript.push(
                                self.clock,
                                EntryKind::Wait,
                                "no callback before the deadline".into(),
                            );
                            flow.handle(Input::Tick, self.clock);
                        }
                    }
                }
                Output::AwaitResponse => return Err(SimError::AwaitedUnsentResponse),
                Output::ShowUserCode(code) => {
                    // The user reads the code and enters it at the verification page
                    // after `user_delay` seconds (or never).
                    self.transcript.push(
                        self.clock,
                        EntryKind::Visit,
                        format!("enter {} at {}", code.user_code, code.verification_uri),
                    );
                    let decision = match self.user {
                        UserPolicy::Never => None,
                        UserPolicy::Deny => Some(Decision::Deny),
                        _ => Some(Decision::Approve),
                    };
                    self.device_user = Some((
                        code.user_code,
                        self.clock.saturating_add(self.user_delay),
                        decision,
                    ));
                }
                Output::WaitUntil(t) => {
                    self.transcript
                        .push(self.clock, EntryKind::Wait, format!("until t={t}"));
                    self.clock = self.clock.max(t);
                    flow.handle(Input::Tick, self.clock);
                }
                Output::Done(result) => return result.map_err(SimError::Flow),
            }
        }
        Err(SimError::StepLimit {
            steps: self.step_limit,
        })
    }

    /// Sends any request (e.g. one without a token, to meet the resource's challenge)
    /// through the filter to the server, recorded like the flows' requests.
    pub fn send(
        &mut self,
        request: http::Request<Vec<u8>>,
    ) -> Result<HttpResponse, oauth_core::TransportFailure> {
        match self.exchange(request) {
            Input::Response(r) => Ok(r),
            Input::TransportFailed(f) => Err(f),
            _ => Err(oauth_core::TransportFailure::new(
                oauth_core::TransportErrorKind::Other,
                "no response",
            )),
        }
    }

    /// The fake server, to change its switches between runs.
    pub fn server_mut(&mut self) -> &mut FakeAuthorizationServer {
        &mut self.server
    }

    /// The fake server.
    pub fn server(&self) -> &FakeAuthorizationServer {
        &self.server
    }

    /// Sends `request` through the filter to the server and back; the input to feed.
    fn exchange(&mut self, mut request: http::Request<Vec<u8>>) -> Input {
        if let Some((code, at, decision)) = self.device_user.take() {
            match decision {
                Some(d) if self.clock >= at => {
                    self.server.approve_device(&code, d, self.clock);
                }
                _ => self.device_user = Some((code, at, decision)),
            }
        }
        if let Some(f) = self.filter.as_mut() {
            f(Hop::Request(&mut request));
        }
        if self.recording {
            self.transcript.request(self.clock, &request);
            self.sent.push(RecordedRequest {
                at: self.clock,
                method: request.method().clone(),
                uri: request.uri().to_string(),
                headers: request.headers().clone(),
                body: request.body().clone(),
            });
        }
        self.clock = self.clock.saturating_add(self.latency);
        match self.server.handle(&request, self.clock) {
            Ok(mut response) => {
                if let Some(f) = self.filter.as_mut() {
                    f(Hop::Response(&mut response));
                }
                if self.recording {
                    self.transcript.response(self.clock, &response);
                }
                Input::Response(response)
            }
            Err(failure) => {
                self.transcript
                    .push(self.clock, EntryKind::TransportFailure, failure.to_string());
                Input::TransportFailed(failure)
            }
        }
    }

    /// The user at the authorization page; the callback their browser delivers, if any.
    fn user_agent(&mut self, url: &Url) -> Result<Option<Url>, SimError> {
        self.clock = self.clock.saturating_add(self.user_delay);
        let now = self.clock;
        let server = &mut self.server;
        match &mut self.user {
            UserPolicy::Approve => server
                .authorize(url, Decision::Approve, now)
                .map(Some)
                .map_err(SimError::AuthorizationPage),
            UserPolicy::Deny => server
                .authorize(url, Decision::Deny, now)
                .map(Some)
                .map_err(SimError::AuthorizationPage),
            UserPolicy::Never => Ok(None),
            UserPolicy::Tamper(f) => server
                .authorize(url, Decision::Approve, now)
                .map(|cb| Some(f(cb)))
                .map_err(SimError::AuthorizationPage),
            UserPolicy::Forge(f) => Ok(Some(f(url))),
        }
    }

    /// Calls the protected resource at `path` with `tokens`; the response (401s
    /// included). A request the core refuses to authorize is reported as a flow error.
    pub fn call_api(
        &mut self,
        method: Method,
        path: &str,
        tokens: &TokenSet,
    ) -> Result<HttpResponse, SimError> {
        let mut request = http::Request::new(Vec::new());
        *request.method_mut() = method;
        *request.uri_mut() = self.server.resource_url(path).parse().map_err(|_| {
            SimError::Flow(Error::Config(oauth_core::ConfigError::InvalidUrl {
                field: "path",
            }))
        })?;
        attach_bearer(&mut request, &tokens.access_token).map_err(|e| SimError::Flow(e.into()))?;
        match self.exchange(request) {
            Input::Response(r) => Ok(r),
            Input::TransportFailed(f) => Err(SimError::Flow(Error::Transport(f))),
            // `exchange` only returns the two inputs above.
            other => Err(SimError::Flow(Error::UnexpectedInput {
                expected: &[],
                got: other.kind(),
            })),
        }
    }

    /// Runs `calls` concurrently against `session`: their steps interleave in an order
    /// drawn from the simulation's RNG, as threads sharing one session would. `persist`
    /// plays the token store. Returns each call's outcome, in the order given.
    ///
    /// A call told to wait is woken once the session has changed; if every remaining
    /// call waits and nothing can change, that is reported as a livelock
    /// ([`SimError::StepLimit`]).
    pub fn run_calls(
        &mut self,
        session: &mut Session,
        calls: Vec<ApiCall>,
        persist: &mut dyn FnMut(&TokenSet) -> Result<(), String>,
    ) -> Result<Vec<Result<HttpResponse, Error>>, SimError> {
        struct Slot {
            call: ApiCall,
            step: Option<Step>,
            waiting_on: Option<u64>,
        }
        let fingerprint = |s: &Session| s.version();
        let mut slots: Vec<Slot> = calls
            .into_iter()
            .map(|call| Slot {
                call,
                step: None,
                waiting_on: None,
            })
            .collect();
        let mut results: Vec<Option<Result<HttpResponse, Error>>> =
            (0..slots.len()).map(|_| None).collect();
        let mut unbegun: Vec<usize> = (0..slots.len()).collect();
        let mut budget = slots.len().saturating_mul(20).max(self.step_limit);
        loop {
            // Pick something that can happen: a call begins, or an active call acts.
            let fp = fingerprint(session);
            let mut ready: Vec<usize> = slots
                .iter()
                .enumerate()
                .filter(|(_, s)| match &s.step {
                    None => false,
                    Some(Step::Wait) => s.waiting_on != Some(fp),
                    Some(Step::Done(_)) => false,
                    Some(_) => true,
                })
                .map(|(i, _)| i)
                .collect();
            let total = ready.len() + unbegun.len();
            if total == 0 {
                if slots.iter().any(|s| matches!(s.step, Some(Step::Wait))) {
                    return Err(SimError::StepLimit { steps: budget });
                }
                break;
            }
            budget = budget.checked_sub(1).ok_or(SimError::StepLimit {
                steps: self.step_limit,
            })?;
            let pick = self.rng.below(total as u64) as usize;
            let i = if pick < ready.len() {
                ready.swap_remove(pick)
            } else {
                unbegun.swap_remove(pick - ready.len())
            };
            let now = self.clock;
            let slot = &mut slots[i];
            let input = match slot.step.take() {
                None => CallInput::Begin,
                Some(Step::Wait) => CallInput::Wake,
                Some(Step::Send(request)) => match self.exchange(request.into_http()) {
                    Input::Response(r) => CallInput::Response(r),
                    Input::TransportFailed(f) => CallInput::TransportFailed(f),
                    _ => CallInput::Wake,
                },
                Some(Step::Persist(tokens)) => CallInput::Persisted(persist(&tokens)),
                Some(Step::Authorize(challenge)) => {
                    CallInput::Authorized(self.authorize_resource(&challenge)?.map(Box::new))
                }
                Some(Step::Done(r)) => {
                    results[i] = Some(r);
                    continue;
                }
            };
            let step = slot.call.handle(session, input, now);
            slot.waiting_on = matches!(step, Step::Wait).then(|| fingerprint(session));
            if let Step::Done(r) = step {
                results[i] = Some(r);
                slot.step = Some(Step::Done(Err(Error::Poisoned)));
            } else {
                slot.step = Some(step);
            }
        }
        Ok(results
            .into_iter()
            .map(|r| r.unwrap_or(Err(Error::Poisoned)))
            .collect())
    }

    /// Runs the authorization chain for `challenge` as a driver told
    /// [`Step::Authorize`] does: redirecting to [`REDIRECT_URI`](Self::REDIRECT_URI),
    /// reusing the client kept from an earlier chain, and keeping a newly registered one.
    /// `Err` only for a simulation failure; the chain's own failure is `Ok(Err(..))`.
    pub fn authorize_resource(
        &mut self,
        challenge: &ResourceChallenge,
    ) -> Result<Result<ResourceAuthorization, Error>, SimError> {
        let mut params = challenge.params(Self::REDIRECT_URI);
        if let Some(kept) = &self.kept_registration {
            params = params.registered(kept.clone());
        }
        let now = self.clock;
        let mut flow = match ResourceAuthorizationFlow::start(params, &mut self.rng, now) {
            Ok(flow) => flow,
            Err(e) => return Ok(Err(e)),
        };
        match self.run(&mut flow) {
            Ok(done) => {
                if let Some(info) = &done.registered {
                    self.kept_registration = Some(info.clone());
                }
                Ok(Ok(done))
            }
            Err(SimError::Flow(e)) => Ok(Err(e)),
            Err(e) => Err(e),
        }
    }

    /// The client a chain registered and the simulation keeps for the next one (as a
    /// driver's store does).
    pub fn kept_registration(&self) -> Option<&RegisteredClientInfo> {
        self.kept_registration.as_ref()
    }

    /// The redirect URI the simulation's chains use (the loopback listener's).
    pub const REDIRECT_URI: &'static str = "http://127.0.0.1:8080/callback";

    /// A one-line redacted description of a response, for demo output.
    pub fn describe(response: &HttpResponse) -> String {
        redact::response(response).to_string()
    }
}
