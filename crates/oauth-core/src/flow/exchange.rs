//! One request, one response: the machine shared by every flow that needs nothing more
//! — refresh, client credentials, revocation, introspection, discovery. Each of those
//! files builds its request and says how to read the answer (an [`Exchange`]); the
//! states and transitions are here, once.
//!
//! ```text
//!   new(request, exchange)
//!          │
//!          ▼
//!   ┌─────────────┐ poll → Send(request) ┌──────────────────┐
//!   │ SendRequest │─────────────────────▶│ AwaitingResponse │ poll → AwaitResponse
//!   └─────────────┘                      └──────────────────┘
//!                            Response ─────┤          ├───── TransportFailed
//!              (read by the Exchange)      ▼          ▼
//!                                      ┌──────┐  ┌────────┐
//!                                      │ Done │  │ Failed │ ◀── misfit input, error answer
//!                                      └──────┘  └────────┘
//! ```
//!
//! Nothing is retried here: whether to try again after a failure is the caller's
//! decision, informed by [`Error::is_retryable`].

use crate::error::{Error, InputKind};
use crate::io::{HttpRequest, HttpResponse, Input, Output};
use crate::time::UnixTime;

/// How one flow reads the answer to its request.
pub(crate) trait Exchange {
    /// What a successful answer yields.
    type Outcome: Clone;
    /// Reads the response received at `now`.
    fn on_response(self, response: &HttpResponse, now: UnixTime) -> Result<Self::Outcome, Error>;
}

/// The one-request machine. See the [module documentation](self).
pub(crate) struct OneShot<X: Exchange> {
    state: State<X>,
}

enum State<X: Exchange> {
    /// The request is built and not yet handed out.
    SendRequest(Box<HttpRequest>, X),
    /// The request was handed out; waiting for its answer.
    AwaitingResponse(X),
    /// The outcome.
    Done(X::Outcome),
    /// Ended with an error; it sticks.
    Failed(Error),
    /// Only inside `handle` and `poll`.
    Poisoned,
}

impl<X: Exchange> OneShot<X> {
    pub(crate) fn new(request: HttpRequest, exchange: X) -> Self {
        OneShot {
            state: State::SendRequest(Box::new(request), exchange),
        }
    }

    pub(crate) fn state_name(&self) -> &'static str {
        match self.state {
            State::SendRequest(..) => "SendRequest",
            State::AwaitingResponse(_) => "AwaitingResponse",
            State::Done(_) => "Done",
            State::Failed(_) => "Failed",
            State::Poisoned => "Poisoned",
        }
    }

    pub(crate) fn outcome(&self) -> Option<Result<&X::Outcome, &Error>> {
        match &self.state {
            State::Done(o) => Some(Ok(o)),
            State::Failed(e) => Some(Err(e)),
            _ => None,
        }
    }

    fn expected(&self) -> &'static [InputKind] {
        match self.state {
            State::SendRequest(..) => &[InputKind::Tick],
            State::AwaitingResponse(_) => &[
                InputKind::Response,
                InputKind::TransportFailed,
                InputKind::Tick,
            ],
            State::Done(_) | State::Failed(_) | State::Poisoned => &[],
        }
    }

    pub(crate) fn handle(&mut self, input: Input, now: UnixTime) {
        let expected = self.expected();
        let state = std::mem::replace(&mut self.state, State::Poisoned);
        self.state = match (state, input) {
            (s @ State::SendRequest(..), Input::Tick) => s,
            (State::AwaitingResponse(x), Input::Response(response)) => {
                match x.on_response(&response, now) {
                    Ok(outcome) => State::Done(outcome),
                    Err(e) => State::Failed(e),
                }
            }
            (State::AwaitingResponse(_), Input::TransportFailed(f)) => {
                State::Failed(Error::Transport(f))
            }
            (s @ State::AwaitingResponse(_), Input::Tick) => s,
            (s @ (State::Done(_) | State::Failed(_)), _) => s,
            (State::Poisoned, _) => State::Failed(Error::Poisoned),
            (_, input) => State::Failed(Error::UnexpectedInput {
                expected,
                got: input.kind(),
            }),
        };
    }

    pub(crate) fn poll(&mut self) -> Output<X::Outcome> {
        match std::mem::replace(&mut self.state, State::Poisoned) {
            State::SendRequest(request, x) => {
                self.state = State::AwaitingResponse(x);
                Output::Send(*request)
            }
            s @ State::AwaitingResponse(_) => {
                self.state = s;
                Output::AwaitResponse
            }
            State::Done(o) => {
                let out = Output::Done(Ok(o.clone()));
                self.state = State::Done(o);
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

    pub(crate) fn accepts(&self, input: &Input) -> bool {
        matches!(
            (&self.state, input),
            (
                State::AwaitingResponse(_),
                Input::Response(_) | Input::TransportFailed(_)
            ) | (_, Input::Tick)
        )
    }
}

/// Implements `Flow` and `Debug` for a newtype over [`OneShot`].
macro_rules! one_shot_flow {
    ($flow:ident, $outcome:ty) => {
        impl $crate::io::Flow for $flow {
            type Outcome = $outcome;

            fn handle(&mut self, input: $crate::io::Input, now: $crate::time::UnixTime) {
                self.0.handle(input, now);
            }

            fn poll(&mut self) -> $crate::io::Output<$outcome> {
                self.0.poll()
            }

            fn accepts(&self, input: &$crate::io::Input) -> bool {
                self.0.accepts(input)
            }
        }

        impl $flow {
            /// The name of the current state (for logs and tests).
            pub fn state_name(&self) -> &'static str {
                self.0.state_name()
            }
        }

        impl ::std::fmt::Debug for $flow {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                let mut d = f.debug_struct(stringify!($flow));
                d.field("state", &self.0.state_name());
                match self.0.outcome() {
                    Some(Ok(o)) => d.field("outcome", o),
                    Some(Err(e)) => d.field("error", e),
                    None => &mut d,
                };
                d.finish()
            }
        }
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_state_is_in_the_diagram() {
        let doc = include_str!("exchange.rs");
        let diagram: String = doc.lines().take_while(|l| l.starts_with("//!")).collect();
        for name in ["SendRequest", "AwaitingResponse", "Done", "Failed"] {
            assert!(diagram.contains(name), "{name} missing from the diagram");
        }
    }
}
