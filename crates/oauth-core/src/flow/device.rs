//! The device authorization grant (RFC 8628): a device without a browser shows the
//! user a code to enter elsewhere, then polls the token endpoint until the user has
//! approved, refused, or the code expires.
//!
//! ```text
//!   start(client, scope)
//!          │
//!          ▼
//!   ┌─────────────┐ poll → Send   ┌──────────────┐ Response: device_code, user_code, …
//!   │ RequestCode │──────────────▶│ AwaitingCode │──────────────────────┐
//!   └─────────────┘               └──────────────┘                      ▼
//!                                                 ┌──────────┐ poll → ShowUserCode(code)
//!                                                 │ ShowCode │──────────────┐
//!                                                 └──────────┘              ▼
//!   ┌──────┐ poll → Send(poll request) ┌─────────┐ Tick at/after the time ┌─────────┐
//!   │ Poll │◀──────────────────────────│         │◀───────────────────────│ Waiting │ poll → WaitUntil(t)
//!   └──────┘                           └─────────┘                        └─────────┘
//!      │                                                                    ▲   │ Tick past the
//!      ▼                                                                    │   │ deadline
//!   ┌───────────────┐ authorization_pending: wait `interval`               │   ▼
//!   │ AwaitingToken │ slow_down: interval += 5 s, then wait ────────────────┘ ┌────────┐
//!   └───────────────┘ transport failure: interval doubled, then wait           │ Failed │
//!      │ tokens → Done        any other error (access_denied, expired_token) → └────────┘
//!      ▼
//!   ┌──────┐
//!   │ Done │
//!   └──────┘
//! ```
//!
//! RFC 8628 §3.5: "the client MUST wait at least the number of seconds specified by the
//! interval parameter", measured here from the receipt of the previous answer, with the
//! time passed in: a clock that jumps backwards only delays the next poll. On
//! `slow_down` "the interval MUST be increased by 5 seconds for this and all subsequent
//! requests" (if the server sends a larger `interval`, that is used). On any error
//! other than `authorization_pending` and `slow_down` the client "MUST stop polling".
//! On a connection failure the interval grows (doubling, never shrinking; DEV-08).
//! The flow's own deadline is the code's `expires_in`: no poll is sent after it.

use crate::client::ClientRegistration;
use crate::error::{ConfigError, Error, ErrorCode, InputKind};
use crate::io::{Flow, HttpRequest, Input, Output};
use crate::parse::{self, UserCode};
use crate::request::{form_request, token_request};
use crate::scope::Scope;
use crate::secret::DeviceCode;
use crate::time::UnixTime;
use crate::token::TokenSet;
use std::fmt;

/// The grant type of the polling requests (RFC 8628 §3.4).
pub const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// Longest interval reached by backing off after connection failures (unless the
/// server itself asked for more).
const MAX_BACKOFF_SECS: u64 = 60;

/// A device authorization grant. See the [module documentation](self).
pub struct DeviceFlow {
    state: State,
}

enum State {
    /// The device authorization request is built.
    RequestCode(Box<HttpRequest>, Context),
    /// Waiting for the device authorization response.
    AwaitingCode(Context),
    /// The code is ready to be shown.
    ShowCode(Polling),
    /// Waiting until the next poll is allowed.
    Waiting(Polling),
    /// A poll request is built.
    Poll(Box<HttpRequest>, Polling),
    /// Waiting for the answer to a poll.
    AwaitingToken(Polling),
    /// Tokens received.
    Done(TokenSet),
    /// Ended; it sticks.
    Failed(Error),
    /// Only inside `handle` and `poll`.
    Poisoned,
}

struct Context {
    client: ClientRegistration,
    scope: Scope,
}

struct Polling {
    ctx: Context,
    device_code: DeviceCode,
    user_code: UserCode,
    interval: u64,
    next_poll: UnixTime,
}

impl Polling {
    fn deadline(&self) -> UnixTime {
        self.user_code.expires_at
    }

    fn wait_from(mut self, now: UnixTime) -> State {
        self.next_poll = now.saturating_add(self.interval);
        State::Waiting(self)
    }
}

impl DeviceFlow {
    /// Starts the grant at the registration's device authorization endpoint. A
    /// confidential client authenticates as at the token endpoint; a public client
    /// sends its `client_id` (RFC 8628 §3.1).
    pub fn start(client: &ClientRegistration, scope: Scope) -> Result<Self, Error> {
        let endpoint = client.device_authorization().ok_or(ConfigError::Missing {
            field: "device_authorization_endpoint",
        })?;
        let scope_text = scope.to_string();
        let params: Vec<(&str, &str)> = if scope.is_empty() {
            Vec::new()
        } else {
            vec![("scope", &scope_text)]
        };
        let request = form_request(client, endpoint, &params, false);
        Ok(DeviceFlow {
            state: State::RequestCode(
                Box::new(request),
                Context {
                    client: client.clone(),
                    scope,
                },
            ),
        })
    }

    /// What to show the user, once known.
    pub fn user_code(&self) -> Option<&UserCode> {
        match &self.state {
            State::ShowCode(p)
            | State::Waiting(p)
            | State::Poll(_, p)
            | State::AwaitingToken(p) => Some(&p.user_code),
            _ => None,
        }
    }

    /// The current polling interval in seconds, once polling.
    pub fn interval(&self) -> Option<u64> {
        match &self.state {
            State::ShowCode(p)
            | State::Waiting(p)
            | State::Poll(_, p)
            | State::AwaitingToken(p) => Some(p.interval),
            _ => None,
        }
    }

    /// The name of the current state (for logs and tests).
    pub fn state_name(&self) -> &'static str {
        self.state.name()
    }
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            State::RequestCode(..) => "RequestCode",
            State::AwaitingCode(_) => "AwaitingCode",
            State::ShowCode(_) => "ShowCode",
            State::Waiting(_) => "Waiting",
            State::Poll(..) => "Poll",
            State::AwaitingToken(_) => "AwaitingToken",
            State::Done(_) => "Done",
            State::Failed(_) => "Failed",
            State::Poisoned => "Poisoned",
        }
    }

    fn expected(&self) -> &'static [InputKind] {
        match self {
            State::RequestCode(..) | State::ShowCode(_) | State::Waiting(_) | State::Poll(..) => {
                &[InputKind::Tick]
            }
            State::AwaitingCode(_) | State::AwaitingToken(_) => &[
                InputKind::Response,
                InputKind::TransportFailed,
                InputKind::Tick,
            ],
            State::Done(_) | State::Failed(_) | State::Poisoned => &[],
        }
    }
}

/// The answer to the device authorization request.
fn on_code(ctx: Context, response: &crate::io::HttpResponse, now: UnixTime) -> State {
    match parse::device_authorization_response(response, now, ctx.client.parse_options()) {
        Ok(d) => State::ShowCode(Polling {
            ctx,
            device_code: d.device_code,
            user_code: d.user_code,
            interval: d.interval,
            next_poll: now.saturating_add(d.interval),
        }),
        Err(e) => State::Failed(e),
    }
}

/// The answer to a poll (RFC 8628 §3.5).
fn on_token(mut p: Polling, response: &crate::io::HttpResponse, now: UnixTime) -> State {
    match parse::token_response(response, now, p.ctx.client.parse_options()) {
        Ok(tokens) => State::Done(TokenSet::from_response(tokens, Some(&p.ctx.scope), now)),
        Err(Error::Server(e)) if e.code == ErrorCode::AuthorizationPending => p.wait_from(now),
        Err(Error::Server(e)) if e.code == ErrorCode::SlowDown => {
            // "the interval MUST be increased by 5 seconds for this and all subsequent
            // requests"; a server-sent larger interval (GitHub sends one) wins.
            let server = parse_interval(response);
            p.interval = p.interval.saturating_add(5).max(server.unwrap_or(0));
            p.wait_from(now)
        }
        Err(e) => State::Failed(e),
    }
}

/// An `interval` member in a `slow_down` answer, if any.
fn parse_interval(response: &crate::io::HttpResponse) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_slice(response.body()).ok()?;
    v.get("interval")?.as_u64()
}

impl Flow for DeviceFlow {
    type Outcome = TokenSet;

    fn handle(&mut self, input: Input, now: UnixTime) {
        let expected = self.state.expected();
        let state = std::mem::replace(&mut self.state, State::Poisoned);
        self.state = match (state, input) {
            // ── the device authorization request ────────────────────────────────
            (s @ State::RequestCode(..), Input::Tick) => s,
            (State::AwaitingCode(ctx), Input::Response(r)) => on_code(ctx, &r, now),
            (State::AwaitingCode(_), Input::TransportFailed(f)) => {
                State::Failed(Error::Transport(f))
            }
            (s @ State::AwaitingCode(_), Input::Tick) => s,

            // ── waiting for the user ────────────────────────────────────────────
            (s @ State::ShowCode(_), Input::Tick) => s,
            (State::Waiting(p), Input::Tick) if now >= p.deadline() => {
                State::Failed(Error::FlowExpired {
                    deadline: p.deadline(),
                })
            }
            (State::Waiting(p), Input::Tick) if now >= p.next_poll => {
                let request = token_request(
                    &p.ctx.client,
                    &[
                        ("grant_type", DEVICE_CODE_GRANT),
                        ("device_code", p.device_code.secret()),
                    ],
                );
                State::Poll(Box::new(request), p)
            }
            (s @ State::Waiting(_), Input::Tick) => s,
            (s @ State::Poll(..), Input::Tick) => s,

            // ── the answer to a poll ────────────────────────────────────────────
            (State::AwaitingToken(p), Input::Response(r)) => on_token(p, &r, now),
            (State::AwaitingToken(mut p), Input::TransportFailed(_)) => {
                // RFC 8628 §3.5: reduce the polling frequency after a connection
                // failure; never below the current interval.
                p.interval = p
                    .interval
                    .max(p.interval.saturating_mul(2).min(MAX_BACKOFF_SECS));
                p.wait_from(now)
            }
            (s @ State::AwaitingToken(_), Input::Tick) => s,

            // ── finished ────────────────────────────────────────────────────────
            (s @ (State::Done(_) | State::Failed(_)), _) => s,
            (State::Poisoned, _) => State::Failed(Error::Poisoned),
            (_, input) => State::Failed(Error::UnexpectedInput {
                expected,
                got: input.kind(),
            }),
        };
    }

    fn poll(&mut self) -> Output<TokenSet> {
        match std::mem::replace(&mut self.state, State::Poisoned) {
            State::RequestCode(request, ctx) => {
                self.state = State::AwaitingCode(ctx);
                Output::Send(*request)
            }
            s @ (State::AwaitingCode(_) | State::AwaitingToken(_)) => {
                self.state = s;
                Output::AwaitResponse
            }
            State::ShowCode(p) => {
                let code = p.user_code.clone();
                self.state = State::Waiting(p);
                Output::ShowUserCode(code)
            }
            State::Waiting(p) => {
                let at = p.next_poll.min(p.deadline());
                self.state = State::Waiting(p);
                Output::WaitUntil(at)
            }
            State::Poll(request, p) => {
                self.state = State::AwaitingToken(p);
                Output::Send(*request)
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
        matches!(
            (&self.state, input),
            (
                State::AwaitingCode(_) | State::AwaitingToken(_),
                Input::Response(_) | Input::TransportFailed(_)
            ) | (_, Input::Tick)
        )
    }
}

impl fmt::Debug for DeviceFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("DeviceFlow");
        d.field("state", &self.state.name());
        if let Some(code) = self.user_code() {
            d.field("user_code", code);
        }
        if let Some(i) = self.interval() {
            d.field("interval", &i);
        }
        match &self.state {
            State::Done(t) => d.field("tokens", t),
            State::Failed(e) => d.field("error", e),
            _ => &mut d,
        };
        d.finish()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_state_is_in_the_diagram() {
        let doc = include_str!("device.rs");
        let diagram: String = doc.lines().take_while(|l| l.starts_with("//!")).collect();
        for name in [
            "RequestCode",
            "AwaitingCode",
            "ShowCode",
            "Waiting",
            "Poll",
            "AwaitingToken",
            "Done",
            "Failed",
        ] {
            assert!(diagram.contains(name), "{name} missing from the diagram");
        }
    }
}
