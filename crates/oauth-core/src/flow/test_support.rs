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

/// A deterministic random source for unit tests: byte `i` of draw `n` is `n + i`.
pub(crate) struct TestRng(u8);

impl rand_core::TryRng for TestRng {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(u32::from(self.0))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(u64::from(self.0))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for (i, b) in dst.iter_mut().enumerate() {
            *b = self.0.wrapping_add(i as u8);
        }
        self.0 = self.0.wrapping_add(1);
        Ok(())
    }
}

impl rand_core::TryCryptoRng for TestRng {}

/// A fresh [`TestRng`].
pub(crate) fn test_rng() -> TestRng {
    TestRng(1)
}
