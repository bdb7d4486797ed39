//! The test-harness driver for `oauth-core`.
//!
//! - [`FakeAuthorizationServer`]: a strict authorization server and protected resource,
//!   pure and in memory, with provider [`ServerQuirks`] and injectable [`Fault`]s.
//! - [`Simulation`]: a deterministic driver — virtual clock, seeded RNG ([`SeededRng`]),
//!   simulated user ([`UserPolicy`]), step limit, filter hook ([`Hop`]), and a
//!   redacted [`Transcript`] — that runs any `oauth_core::Flow` against the server.
//! - [`HttpServer`]: the same fake server over real HTTP on loopback, with a headless
//!   approval page and connection-level [`HttpFault`]s; [`headless_browser`] plays the
//!   user's browser.
//! - [`fuzzing`]: the bodies of the fuzz targets in `fuzz/`, compiled on stable so that
//!   the corpus replays in ordinary tests.
//!
//! ```
//! use oauth_testkit::{FakeAuthorizationServer, RegisteredClient, Simulation};
//!
//! let mut server = FakeAuthorizationServer::new(7);
//! server.register(RegisteredClient::public("app", "http://127.0.0.1:8080/cb"));
//! let client = server.registration("app").unwrap().build()?;
//! let mut sim = Simulation::new(7, server);
//!
//! let tokens = sim.authorize(&client, "read")?;
//! let later = sim.refresh(&client, &tokens, None)?;
//! assert_ne!(later.refresh_token, tokens.refresh_token); // rotated
//! let response = sim.call_api(http::Method::GET, "/me", &later)?;
//! assert_eq!(response.status(), 200);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

pub mod fuzzing;
mod http_server;
mod rng;
mod server;
mod sim;
mod transcript;
mod user;

pub use http_server::{HttpFault, HttpServer, headless_browser};
pub use rng::SeededRng;
pub use server::{
    AuthMethod, AuthorizeError, Decision, FakeAuthorizationServer, Fault, RegisteredClient,
    RegistrationMode, ServerQuirks, ServerStats,
};
pub use sim::{Hop, RecordedRequest, START_TIME, SimError, Simulation};
pub use transcript::{Entry, EntryKind, Transcript};
pub use user::UserPolicy;
