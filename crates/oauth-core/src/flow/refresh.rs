//! The refresh-token grant (RFC 6749 §6), as one state machine.
//!
//! ```text
//!   start(client, tokens, scope)
//!          │  builds grant_type=refresh_token (+ narrower scope)
//!          ▼
//!   ┌──────────────┐ poll → Send(request) ┌──────────────────┐
//!   │ SendRequest  │─────────────────────▶│ AwaitingResponse │ poll → AwaitResponse
//!   └──────────────┘                      └──────────────────┘
//!                              Response ────┤          ├──── TransportFailed
//!                                           ▼          ▼
//!                                       ┌──────┐  ┌────────┐
//!                                       │ Done │  │ Failed │ ◀── misfit input, error body
//!                                       └──────┘  └────────┘
//! ```
//!
//! `Done` holds the new [`TokenSet`]: RFC 6749 §6 — when the server sends a new refresh
//! token "the client MUST discard the old refresh token and replace it"; when it sends
//! none, the old one is kept. `invalid_grant` ends in an error whose
//! [`Error::needs_new_authorization`] is true. Nothing is retried here: whether to try
//! again after a transport failure is the caller's decision (the refresh token may have
//! been rotated by a request whose response was lost).

use crate::client::ClientRegistration;
use crate::error::{ConfigError, Error, InputKind};
use crate::io::{Flow, HttpRequest, Input, Output};
use crate::parse;
use crate::request::token_request;
use crate::scope::Scope;
use crate::secret::{IdToken, RefreshToken};
use crate::time::UnixTime;
use crate::token::TokenSet;
use std::fmt;

/// A refresh-token grant. See the [module documentation](self) and [`Flow`].
pub struct RefreshFlow {
    state: State,
}

enum State {
    /// The refresh request is built and not yet handed out.
    SendRequest(Box<HttpRequest>, Context),
    /// The request was handed out; waiting for its response.
    AwaitingResponse(Context),
    /// The new token set.
    Done(TokenSet),
    /// Ended with an error; it sticks.
    Failed(Error),
    /// Only inside `handle`.
    Poisoned,
}

/// What the response is merged with.
struct Context {
    client: ClientRegistration,
    old_refresh_token: RefreshToken,
    old_scope: Option<Scope>,
    old_id_token: Option<IdToken>,
    requested_scope: Option<Scope>,
}

impl RefreshFlow {
    /// Starts a refresh of `tokens`. `scope`, when given, must be within the granted
    /// scope (RFC 6749 §6: it "MUST NOT include any scope not originally granted"); when
    /// the granted scope is unknown, any scope is sent as asked.
    pub fn start(
        client: &ClientRegistration,
        tokens: &TokenSet,
        scope: Option<Scope>,
    ) -> Result<Self, Error> {
        let refresh_token = tokens
            .refresh_token
            .as_ref()
            .ok_or(ConfigError::NoRefreshToken)?;
        let scope = scope.filter(|s| !s.is_empty());
        if let (Some(asked), Some(granted)) = (&scope, &tokens.scope)
            && !asked.is_subset_of(granted)
        {
            return Err(ConfigError::ScopeNotGranted.into());
        }
        let scope_text = scope.as_ref().map(Scope::to_string);
        let mut params = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.secret()),
        ];
        if let Some(s) = &scope_text {
            params.push(("scope", s));
        }
        let request = token_request(client, &params);
        Ok(RefreshFlow {
            state: State::SendRequest(
                Box::new(request),
                Context {
                    client: client.clone(),
                    old_refresh_token: refresh_token.clone(),
                    old_scope: tokens.scope.clone(),
                    old_id_token: tokens.id_token.clone(),
                    requested_scope: scope,
                },
            ),
        })
    }

    /// The name of the current state (for logs and tests).
    pub fn state_name(&self) -> &'static str {
        self.state.name()
    }
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            State::SendRequest(..) => "SendRequest",
            State::AwaitingResponse(_) => "AwaitingResponse",
            State::Done(_) => "Done",
            State::Failed(_) => "Failed",
            State::Poisoned => "Poisoned",
        }
    }

    fn expected(&self) -> &'static [InputKind] {
        match self {
            State::SendRequest(..) => &[InputKind::Tick],
            State::AwaitingResponse(_) => &[
                InputKind::Response,
                InputKind::TransportFailed,
                InputKind::Tick,
            ],
            State::Done(_) | State::Failed(_) | State::Poisoned => &[],
        }
    }
}

impl Flow for RefreshFlow {
    type Outcome = TokenSet;

    fn handle(&mut self, input: Input, now: UnixTime) {
        let state = std::mem::replace(&mut self.state, State::Poisoned);
        self.state = match (state, input) {
            (s @ State::SendRequest(..), Input::Tick) => s,

            (State::AwaitingResponse(c), Input::Response(response)) => {
                match parse::token_response(&response, now, c.client.parse_options()) {
                    Ok(r) => State::Done(TokenSet::refreshed(
                        r,
                        c.old_refresh_token,
                        c.old_scope,
                        c.old_id_token,
                        c.requested_scope.as_ref(),
                        now,
                    )),
                    Err(e) => State::Failed(e),
                }
            }
            (State::AwaitingResponse(_), Input::TransportFailed(f)) => {
                State::Failed(Error::Transport(f))
            }
            (s @ State::AwaitingResponse(_), Input::Tick) => s,

            (s @ (State::Done(_) | State::Failed(_)), _) => s,
            (State::Poisoned, _) => State::Failed(Error::Poisoned),

            (s, input) => State::Failed(Error::UnexpectedInput {
                expected: s.expected(),
                got: input.kind(),
            }),
        };
    }

    fn poll(&mut self) -> Output<TokenSet> {
        match std::mem::replace(&mut self.state, State::Poisoned) {
            State::SendRequest(request, c) => {
                self.state = State::AwaitingResponse(c);
                Output::Send(*request)
            }
            s @ State::AwaitingResponse(_) => {
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
        matches!(
            (&self.state, input),
            (
                State::AwaitingResponse(_),
                Input::Response(_) | Input::TransportFailed(_)
            ) | (_, Input::Tick)
        )
    }
}

impl fmt::Debug for RefreshFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RefreshFlow");
        d.field("state", &self.state.name());
        match &self.state {
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
    #[test]
    fn every_state_is_in_the_diagram() {
        let doc = include_str!("refresh.rs");
        let diagram: String = doc.lines().take_while(|l| l.starts_with("//!")).collect();
        for name in ["SendRequest", "AwaitingResponse", "Done", "Failed"] {
            assert!(diagram.contains(name), "{name} missing from the diagram");
        }
    }
}

#[cfg(test)]
#[path = "refresh_tests.rs"]
mod flow_tests;
