//! Interop with a real authorization server we did not write: the npm package
//! `oidc-provider` 9.x (`tests/interop/server/`), driven through `oauth-ureq` over
//! real HTTP on loopback, with a headless browser (`headless-browser.js`) as the user.
//!
//! Without Node.js the suite says so and skips; with `CI=true` it fails instead.
//! With `OAUTH_RECORD_VECTORS=1` each scenario also records its real exchanges, secrets
//! replaced by fixed test values, under `tests/vectors/oidc-provider/`; the hermetic
//! test `scenarios::vectors` replays them against the core in every `cargo test`.

#![allow(clippy::print_stderr)]

mod grants;
#[path = "../common/oidc_provider.rs"]
mod oidc_provider;
mod provider;
mod record;
mod scenarios;
#[path = "../common/vector_expect.rs"]
mod vector_expect;
mod zero_config;
