//! Helpers shared by the flows' unit tests: generic over [`Flow`], so each flow's
//! tests read the same way.

use crate::error::{Error, TransportErrorKind, TransportFailure};
use crate::io::{Flow, HttpRequest, HttpResponse, Input, Output};
use std::fmt::Debug;

/// Polls once and expects a request to send.
pub(super) fn expect_send<F: Flow>(flow: &mut F) -> HttpRequest
where
    F::Outcome: Debug,
{
    match flow.poll() {
        Output::Send(request) => request,
        other => panic!("expected Send, got {other:?}"),
    }
}

/// Polls once and expects the final outcome.
pub(super) fn expect_done<F: Flow>(flow: &mut F) -> Result<F::Outcome, Error>
where
    F::Outcome: Debug,
{
    match flow.poll() {
        Output::Done(result) => result,
        other => panic!("expected Done, got {other:?}"),
    }
}

/// A JSON response with `status`.
pub(super) fn json(status: u16, body: &str) -> HttpResponse {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.as_bytes().to_vec())
        .expect("a valid test response")
}

/// A transport failure input of `kind`.
pub(super) fn transport_failure(kind: TransportErrorKind) -> Input {
    Input::TransportFailed(TransportFailure::new(kind, "simulated"))
}
