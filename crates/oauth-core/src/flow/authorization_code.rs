//! The authorization-code grant with PKCE (RFC 6749 §4.1, RFC 7636), as one state
//! machine.
//!
//! ```text
//!   start(client, params, rng, now)
//!          │  draws state + PKCE verifier, builds the authorization URL
//!          │  (with PAR, RFC 9126: first Push → poll → Send(push request) → AwaitingPush
//!          │   → Response(201 request_uri) → the URL carries only client_id + request_uri)
//!          ▼
//!   ┌─────────────┐ poll → Visit(url)   ┌──────────────────┐
//!   │  Authorize  │────────────────────▶│ AwaitingCallback │ poll → AwaitCallback{deadline}
//!   └─────────────┘                     └──────────────────┘
//!          │ Callback(url)                │ Callback(url): state, iss, code checked
//!          └──────────────┬───────────────┘ Tick after deadline → Failed(FlowExpired)
//!                         ▼
//!                 ┌──────────────┐ poll → Send(token request)  ┌───────────────┐
//!                 │ ExchangeCode │────────────────────────────▶│ AwaitingToken │ poll → AwaitResponse
//!                 └──────────────┘                             └───────────────┘
//!                                                    Response ───┤    ├─── TransportFailed
//!                                                                ▼    ▼
//!                                                  ┌──────┐    ┌────────┐
//!                                                  │ Done │    │ Failed │ ◀── any misfit input,
//!                                                  └──────┘    └────────┘     any failed check
//! ```
//!
//! What each state holds is what that step needs and no more: the PKCE verifier lives
//! only in `Authorize`/`AwaitingCallback` and then only inside the token request; the
//! authorization code is consumed into that request; a [`TokenSet`] exists only in
//! `Done`. Endpoints always come from the registration captured at `start`
//! (RFC 9700 §4.4.2), never from a response.
//!
//! The code exchange is sent at most once: a transport failure ends the flow
//! (RFC 6749 §4.1.2: "The client MUST NOT use the authorization code more than once").

use crate::client::{AUTHORIZATION_PARAMETERS, ClientRegistration};
use crate::error::{ConfigError, Error, InputKind};
use crate::io::{AuthorizationUrl, Flow, HttpRequest, Input, Output};
use crate::parse::{self, CallbackExpectation};
use crate::pkce::{CHALLENGE_LEN, PkceChallenge, PkceVerifier};
use crate::random;
use crate::redact;
use crate::request::token_request;
use crate::scope::Scope;
use crate::secret::{AuthorizationCode, StateToken};
use crate::time::UnixTime;
use crate::token::TokenSet;
use rand_core::CryptoRng;
use std::fmt;
use url::Url;

/// What the caller asks for in an authorization request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuthorizationParams {
    scope: Scope,
    extra: Vec<(String, String)>,
    push: bool,
}

impl AuthorizationParams {
    /// No scope, no extra parameters.
    pub fn new() -> Self {
        AuthorizationParams::default()
    }

    /// The scope to request (RFC 6749 §3.3). Request the least you need.
    #[must_use]
    pub fn scope(mut self, scope: Scope) -> Self {
        self.scope = scope;
        self
    }

    /// Push the parameters to the PAR endpoint first (RFC 9126) even when the server does
    /// not require it. Needs a registration with a PAR endpoint.
    #[must_use]
    pub fn pushed(mut self, push: bool) -> Self {
        self.push = push;
        self
    }

    /// An extra authorization parameter (`prompt`, `login_hint`, `audience`, …).
    /// `start` refuses names the flow sets itself and names given twice.
    #[must_use]
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }
}

/// An authorization-code flow with PKCE. See the [module documentation](self) for its
/// states and [`Flow`] for the call contract.
///
/// ```
/// use oauth_core::{AuthorizationCodeFlow, AuthorizationParams, ClientRegistration, Flow, Output, Scope, UnixTime};
/// # struct Rng(u8);
/// # impl rand_core::TryRng for Rng { type Error = core::convert::Infallible;
/// #   fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok(7) }
/// #   fn try_next_u64(&mut self) -> Result<u64, Self::Error> { Ok(7) }
/// #   fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), Self::Error> { d.fill(self.0); self.0 += 1; Ok(()) } }
/// # impl rand_core::TryCryptoRng for Rng {}
/// # let mut rng = Rng(1);
/// let client = ClientRegistration::builder("app")
///     .authorization_endpoint("https://as.example/authorize")
///     .token_endpoint("https://as.example/token")
///     .redirect_uri("http://127.0.0.1:8080/cb")
///     .build()?;
/// let now = UnixTime::from_secs(1_700_000_000);
/// let params = AuthorizationParams::new().scope(Scope::parse("read")?);
/// let mut flow = AuthorizationCodeFlow::start(&client, params, &mut rng, now)?;
/// let Output::Visit(url) = flow.poll() else { unreachable!() };
/// assert!(url.as_str().starts_with("https://as.example/authorize?response_type=code&"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct AuthorizationCodeFlow {
    state: State,
}

/// The flow's states. Each variant holds only what that step needs.
enum State {
    /// PAR: the pushed authorization request is built and not yet handed out.
    Push(Box<HttpRequest>, Pending),
    /// PAR: waiting for the PAR endpoint's answer.
    AwaitingPush(Pending),
    /// The authorization URL is built; the driver has not been told to visit it.
    Authorize(Pending),
    /// The user is at the authorization server; waiting for the redirect.
    AwaitingCallback(Pending),
    /// The callback was valid; the token request is ready to be sent.
    ExchangeCode(HttpRequest, Exchange),
    /// The token request was handed out; waiting for its response.
    AwaitingToken(Exchange),
    /// Tokens received.
    Done(TokenSet),
    /// Ended with an error; it sticks.
    Failed(Error),
    /// Only inside `handle`, between taking the old state and storing the new one.
    Poisoned,
}

/// The pending-authorization record (AUTHZ-10): everything needed to check the callback
/// and redeem the code, pinned at `start`.
struct Pending {
    client: ClientRegistration,
    url: AuthorizationUrl,
    state: StateToken,
    verifier: PkceVerifier,
    scope: Scope,
    deadline: UnixTime,
}

/// The random values of one authorization request, drawn at `start`.
pub(crate) struct Secrets {
    state: StateToken,
    verifier: PkceVerifier,
}

impl Secrets {
    /// Draws a fresh `state` and PKCE verifier.
    pub(crate) fn draw<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let (state, verifier) = random::state_and_verifier(rng);
        Secrets { state, verifier }
    }
}

/// What is needed to read the token response.
struct Exchange {
    client: ClientRegistration,
    scope: Scope,
}

impl AuthorizationCodeFlow {
    /// Starts a flow: draws a fresh `state` and PKCE verifier from `rng` and builds the
    /// authorization URL. Fails if the registration lacks an authorization endpoint or
    /// redirect URI, or if an extra parameter would be sent twice.
    pub fn start<R: CryptoRng + ?Sized>(
        client: &ClientRegistration,
        params: AuthorizationParams,
        rng: &mut R,
        now: UnixTime,
    ) -> Result<Self, Error> {
        let secrets = Secrets::draw(rng);
        AuthorizationCodeFlow::start_with(client, params, secrets, now)
    }

    /// [`start`](Self::start) with secrets drawn earlier (by a composite flow that
    /// learns its registration only later).
    pub(crate) fn start_with(
        client: &ClientRegistration,
        params: AuthorizationParams,
        secrets: Secrets,
        now: UnixTime,
    ) -> Result<Self, Error> {
        let endpoint = client
            .authorization_endpoint()
            .ok_or(ConfigError::Missing {
                field: "authorization_endpoint",
            })?;
        let redirect_uri = client.redirect_uri().ok_or(ConfigError::Missing {
            field: "redirect_uri",
        })?;
        // RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than once."
        for (i, (name, _)) in params.extra.iter().enumerate() {
            let clashes = AUTHORIZATION_PARAMETERS.contains(&name.as_str())
                || params.extra[..i].iter().any(|(n, _)| n == name)
                || endpoint.query_pairs().any(|(k, _)| k == name.as_str());
            if clashes || name.is_empty() {
                return Err(ConfigError::ConflictingParameter { name: name.clone() }.into());
            }
        }

        let Secrets { state, verifier } = secrets;
        let mut challenge_buf = [0; CHALLENGE_LEN];
        let challenge = verifier.challenge_in(&mut challenge_buf);

        // The parameters after `response_type`, `client_id` and `redirect_uri`, in the
        // order they are sent: the scope (encoded), then what this flow made, which is
        // base64url under constant names and needs no encoding.
        let scope: &[(&str, &str)] = if params.scope.is_empty() {
            &[]
        } else {
            &[("scope", params.scope.as_str())]
        };
        let ours: [(&str, &str); 3] = [
            ("state", state.secret()),
            // RFC 7636 §4.3; RFC 9700 §2.1.1: S256, always, method never omitted.
            ("code_challenge", challenge),
            ("code_challenge_method", PkceChallenge::METHOD),
        ];
        // RFC 8707 §2.1: the resource the tokens are for.
        let resources = client.resources().iter().map(|r| ("resource", r.as_str()));
        let extra = params.extra.iter().map(|(k, v)| (k.as_str(), v.as_str()));

        let push = params.push || client.requires_par();
        let push_request = match (push, client.par()) {
            (false, _) => None,
            (true, None) => {
                return Err(ConfigError::Missing {
                    field: "par_endpoint",
                }
                .into());
            }
            // RFC 9126 §2: all authorization parameters, authenticated as at the token
            // endpoint, with client_id in the body (oidc-provider requires it even with
            // HTTP Basic; it is added once, with the client authentication); never a
            // request_uri.
            (true, Some(par)) => {
                let mut body: Vec<(&str, &str)> = vec![
                    ("response_type", "code"),
                    ("redirect_uri", redirect_uri.as_str()),
                ];
                body.extend(scope.iter().copied());
                body.extend(ours);
                body.extend(resources.clone());
                body.extend(extra.clone());
                Some(crate::request::form_request(client, par, &body, true))
            }
        };
        // RFC 6749 §3.1: the endpoint's query "MUST be retained when adding additional
        // query parameters"; parameters are form-encoded (Appendix B). The registration
        // holds the endpoint with `response_type`, `client_id` and `redirect_uri` already
        // appended, in that order.
        let url = match push_request {
            // Only `client_id` and `request_uri` go through the browser, once pushed.
            Some(_) => AuthorizationUrl::build(endpoint, std::iter::empty()),
            None => {
                fn encoded<'a>((k, v): (&'a str, &'a str)) -> (&'a str, &'a str, bool) {
                    (k, v, false)
                }
                AuthorizationUrl::build(
                    client
                        .authorization_base()
                        .expect("a registration with both endpoints has a base URL"),
                    scope
                        .iter()
                        .copied()
                        .map(encoded)
                        .chain(ours.iter().map(|&(k, v)| (k, v, true)))
                        .chain(resources.map(encoded))
                        .chain(extra.map(encoded)),
                )
            }
        };
        let pending = Pending {
            client: client.clone(),
            url,
            state,
            verifier,
            scope: params.scope,
            deadline: now.saturating_add(client.authorization_ttl()),
        };
        if let Some(request) = push_request {
            return Ok(AuthorizationCodeFlow {
                state: State::Push(Box::new(request), pending),
            });
        }
        Ok(AuthorizationCodeFlow {
            state: State::Authorize(pending),
        })
    }

    /// The authorization URL, while the flow waits for its callback.
    pub fn authorization_url(&self) -> Option<&AuthorizationUrl> {
        match &self.state {
            State::Authorize(p) | State::AwaitingCallback(p) => Some(&p.url),
            _ => None,
        }
    }

    /// The name of the current state (for logs and tests).
    pub fn state_name(&self) -> &'static str {
        self.state.name()
    }

    /// Whether the flow has finished, successfully or not.
    pub fn is_finished(&self) -> bool {
        matches!(self.state, State::Done(_) | State::Failed(_))
    }
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            State::Push(..) => "Push",
            State::AwaitingPush(_) => "AwaitingPush",
            State::Authorize(_) => "Authorize",
            State::AwaitingCallback(_) => "AwaitingCallback",
            State::ExchangeCode(..) => "ExchangeCode",
            State::AwaitingToken(_) => "AwaitingToken",
            State::Done(_) => "Done",
            State::Failed(_) => "Failed",
            State::Poisoned => "Poisoned",
        }
    }

    /// The inputs this state takes, for [`Error::UnexpectedInput`].
    fn expected(&self) -> &'static [InputKind] {
        match self {
            State::Authorize(_) | State::AwaitingCallback(_) => {
                &[InputKind::Callback, InputKind::Tick]
            }
            State::Push(..) | State::ExchangeCode(..) => &[InputKind::Tick],
            State::AwaitingPush(_) | State::AwaitingToken(_) => &[
                InputKind::Response,
                InputKind::TransportFailed,
                InputKind::Tick,
            ],
            State::Done(_) | State::Failed(_) | State::Poisoned => &[],
        }
    }
}

/// The PAR endpoint accepted the request: the authorization URL now carries only
/// `client_id` and `request_uri` (RFC 9126 §4), besides the endpoint's own query.
fn on_pushed(mut p: Pending, response: &crate::io::HttpResponse, now: UnixTime) -> State {
    match parse::par_response(response, now, p.client.parse_options()) {
        Ok(pushed) => {
            p.url.push_pair("client_id", p.client.client_id());
            p.url.push_pair("request_uri", &pushed.request_uri);
            State::Authorize(p)
        }
        Err(e) => State::Failed(e),
    }
}

/// Validates the callback and builds the one token request (RFC 6749 §4.1.3).
fn on_callback(p: Pending, url: &Url, now: UnixTime) -> State {
    if now > p.deadline {
        return State::Failed(Error::FlowExpired {
            deadline: p.deadline,
        });
    }
    // The `expect`s below hold because `start` refused a registration without them.
    let redirect_uri = p.client.redirect_uri().expect("start checked redirect_uri");
    let expected = CallbackExpectation {
        state: p.state.secret(),
        redirect_uri,
        issuer: p.client.issuer(),
        require_issuer: p.client.requires_issuer_parameter(),
    };
    let code: AuthorizationCode = match parse::callback(url, &expected) {
        Ok(code) => code,
        Err(e) => return State::Failed(e),
    };
    // RFC 6749 §4.1.3 + RFC 7636 §4.5: grant_type, code, redirect_uri (byte-identical to
    // the authorization request's), code_verifier; client authentication added by
    // `token_request`.
    let request = token_request(
        &p.client,
        &[
            ("grant_type", "authorization_code"),
            ("code", code.secret()),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", p.verifier.secret()),
        ],
    );
    State::ExchangeCode(
        request,
        Exchange {
            client: p.client,
            scope: p.scope,
        },
    )
}

impl Flow for AuthorizationCodeFlow {
    type Outcome = TokenSet;

    fn handle(&mut self, input: Input, now: UnixTime) {
        let state = std::mem::replace(&mut self.state, State::Poisoned);
        self.state = match (state, input) {
            // ── PAR (RFC 9126) ──────────────────────────────────────────────────
            (s @ State::Push(..), Input::Tick) => s,
            (State::AwaitingPush(p), Input::Response(r)) => on_pushed(p, &r, now),
            (State::AwaitingPush(_), Input::TransportFailed(f)) => {
                State::Failed(Error::Transport(f))
            }
            (s @ State::AwaitingPush(_), Input::Tick) => s,

            // ── waiting for the user ────────────────────────────────────────────
            (State::Authorize(p) | State::AwaitingCallback(p), Input::Callback(url)) => {
                on_callback(p, &url, now)
            }
            (State::Authorize(p), Input::Tick) if now <= p.deadline => State::Authorize(p),
            (State::AwaitingCallback(p), Input::Tick) if now <= p.deadline => {
                State::AwaitingCallback(p)
            }
            (State::Authorize(p) | State::AwaitingCallback(p), Input::Tick) => {
                State::Failed(Error::FlowExpired {
                    deadline: p.deadline,
                })
            }

            // ── the token request is ready but not yet handed out ───────────────
            (s @ State::ExchangeCode(..), Input::Tick) => s,

            // ── waiting for the token endpoint ──────────────────────────────────
            (State::AwaitingToken(x), Input::Response(response)) => {
                match parse::token_response(&response, now, x.client.parse_options()) {
                    Ok(tokens) => State::Done(TokenSet::from_response(tokens, Some(&x.scope), now)),
                    Err(e) => State::Failed(e),
                }
            }
            // RFC 6749 §4.1.2: the code is single-use; a lost exchange is not retried.
            (State::AwaitingToken(_), Input::TransportFailed(f)) => {
                State::Failed(Error::Transport(f))
            }
            (s @ State::AwaitingToken(_), Input::Tick) => s,

            // ── finished: failure and success both stick ────────────────────────
            (s @ (State::Done(_) | State::Failed(_)), _) => s,
            (State::Poisoned, _) => State::Failed(Error::Poisoned),

            // ── anything else is a driver bug ───────────────────────────────────
            (s, input) => State::Failed(Error::UnexpectedInput {
                expected: s.expected(),
                got: input.kind(),
            }),
        };
    }

    fn poll(&mut self) -> Output<TokenSet> {
        match std::mem::replace(&mut self.state, State::Poisoned) {
            State::Push(request, p) => {
                self.state = State::AwaitingPush(p);
                Output::Send(*request)
            }
            s @ State::AwaitingPush(_) => {
                self.state = s;
                Output::AwaitResponse
            }
            State::Authorize(p) => {
                let url = p.url.clone();
                self.state = State::AwaitingCallback(p);
                Output::Visit(url)
            }
            State::AwaitingCallback(p) => {
                let deadline = p.deadline;
                self.state = State::AwaitingCallback(p);
                Output::AwaitCallback { deadline }
            }
            State::ExchangeCode(request, x) => {
                self.state = State::AwaitingToken(x);
                Output::Send(request)
            }
            s @ State::AwaitingToken(_) => {
                self.state = s;
                Output::AwaitResponse
            }
            State::Done(t) => {
                let out = Output::Done(Ok(t.clone()));
                self.state = State::Done(t);
                out
            }
            State::Failed(e) => {
                let out = Output::Done(Err(e.clone()));
                self.state = State::Failed(e);
                out
            }
            State::Poisoned => {
                self.state = State::Failed(Error::Poisoned);
                Output::Done(Err(Error::Poisoned))
            }
        }
    }

    fn accepts(&self, input: &Input) -> bool {
        match (&self.state, input) {
            (State::Authorize(p) | State::AwaitingCallback(p), Input::Callback(url)) => {
                parse::callback_state(url).is_some_and(|s| p.state.matches(&s))
            }
            (
                State::AwaitingToken(_) | State::AwaitingPush(_),
                Input::Response(_) | Input::TransportFailed(_),
            ) => true,
            (_, Input::Tick) => true,
            _ => false,
        }
    }
}

impl fmt::Debug for AuthorizationCodeFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("AuthorizationCodeFlow");
        d.field("state", &self.state.name());
        match &self.state {
            State::Authorize(p) | State::AwaitingCallback(p) => {
                d.field("url", &redact::url(&p.url).to_string());
                d.field("deadline", &p.deadline);
            }
            State::Done(t) => {
                d.field("tokens", t);
            }
            State::Failed(e) => {
                d.field("error", e);
            }
            _ => {}
        }
        d.finish()
    }
}

#[cfg(test)]
mod tests {
    /// R10: every state named in the diagram at the top of this file.
    #[test]
    fn every_state_is_in_the_diagram() {
        let doc = include_str!("authorization_code.rs");
        let diagram: String = doc.lines().take_while(|l| l.starts_with("//!")).collect();
        for name in [
            "Authorize",
            "AwaitingCallback",
            "ExchangeCode",
            "AwaitingToken",
            "Done",
            "Failed",
        ] {
            assert!(diagram.contains(name), "{name} missing from the diagram");
        }
    }
}

#[cfg(test)]
#[path = "authorization_code_tests.rs"]
mod flow_tests;
