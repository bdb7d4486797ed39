//! End-to-end scenarios: the core's flows driven by the deterministic simulation
//! against the strict fake authorization server.

mod auth_code;
mod faults;
mod grants;
mod invariants;
mod presets;
mod quirks;
mod refresh;
mod session;
#[path = "../common/vector_expect.rs"]
mod vector_expect;
mod vectors;
mod zero_config;

use oauth_core::ClientRegistration;
use oauth_testkit::{FakeAuthorizationServer, RegisteredClient, Simulation};

pub(crate) const REDIRECT: &str = "http://127.0.0.1:8080/callback";

/// A simulation with one public client `app`, and its registration.
pub(crate) fn public_setup(seed: u64) -> (Simulation, ClientRegistration) {
    let mut server = FakeAuthorizationServer::new(seed);
    server.register(RegisteredClient::public("app", REDIRECT));
    let client = server
        .registration("app")
        .expect("registered")
        .build()
        .expect("valid registration");
    (Simulation::new(seed, server), client)
}

/// Asserts that none of `secrets` appears in the simulation's transcript.
pub(crate) fn assert_transcript_clean(sim: &Simulation, secrets: &[&str]) {
    let text = sim.transcript().to_string();
    for s in secrets {
        assert!(!s.is_empty());
        assert!(
            !text.contains(s),
            "secret {s:?} leaked into the transcript:\n{text}"
        );
    }
}

/// The value of form parameter `name` in a recorded request body.
pub(crate) fn body_param(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    oauth_core::parse::parse_form(text)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}
