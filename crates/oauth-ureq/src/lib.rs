//! A blocking driver for `oauth-core`, on `ureq`.
//!
//! - [`run`]: the one loop that drives any `oauth_core::Flow` — it sends what the
//!   core emits through a [`Transport`], feeds back responses and transport failures,
//!   shows the authorization URL and waits for the redirect through a
//!   [`CallbackSource`], and sleeps when told to wait.
//! - [`Transport`]: ureq with the settings OAuth needs on every request — statuses as
//!   responses, no redirects, capped bodies, timeouts — even over a caller's agent.
//! - [`LoopbackListener`]: the RFC 8252 §7.3 redirect listener on `127.0.0.1`/`[::1]`.
//! - [`Browser`]: `$BROWSER`, or the platform opener; the URL is always printed.
//! - [`discover`]: RFC 8414 / OpenID Connect metadata for an issuer, from which a
//!   registration is built.
//! - [`call_api`]: a bearer-authenticated request; a 401 `invalid_token` is typed.
//! - [`AuthorizedClient`]: the core's API session shared by many threads — refresh
//!   ahead of expiry, one refresh at a time, one replay on `invalid_token`, rotated
//!   tokens saved in a [`TokenStore`] ([`FileStore`] is crash-safe) before use.
//! - [`AuthorizedClient::zero_config`] with a [`BrowserAuthorizer`]: a client that
//!   knows only a URL; the resource's 401 leads it through RFC 9728 resource metadata,
//!   RFC 8414 discovery, RFC 7591 registration (kept in the store for the next run) and
//!   a browser login with the RFC 8707 resource indicator. [`probe`] meets a resource's
//!   challenge by itself.
//!
//! ```no_run
//! use oauth_core::{AuthorizationCodeFlow, AuthorizationParams, ClientRegistration, Scope};
//! use oauth_ureq::{Browser, LoopbackCallback, LoopbackListener, Transport, call_api, now, run};
//!
//! let listener = LoopbackListener::bind_default()?;
//! let client = ClientRegistration::builder("my-app")
//!     .authorization_endpoint("https://as.example/authorize")
//!     .token_endpoint("https://as.example/token")
//!     .redirect_uri(listener.redirect_uri())
//!     .build()?;
//! let transport = Transport::default();
//! let mut rng = rand_core::UnwrapErr(getrandom::SysRng);
//! let params = AuthorizationParams::new().scope(Scope::parse("read")?);
//! let mut flow = AuthorizationCodeFlow::start(&client, params, &mut rng, now())?;
//! let mut callbacks = LoopbackCallback::new(listener, Browser::System);
//! let tokens = run(&mut flow, &transport, Some(&mut callbacks))?;
//!
//! let request = http::Request::get("https://api.example/me").body(Vec::new())?;
//! let response = call_api(&transport, request, &tokens)?;
//! println!("{}", response.status());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

mod api;
mod authorize;
mod browser;
mod discover;
mod driver;
mod loopback;
mod session;
mod store;
mod transport;

pub use api::{ApiError, call_api};
pub use authorize::{Authorizer, BrowserAuthorizer, probe};
pub use browser::{Browser, OpenUrl};
pub use discover::discover;
pub use driver::{CallbackSource, Error, LoopbackCallback, now, print_user_code, run};
pub use loopback::{LoopbackConfig, LoopbackIp, LoopbackListener};
pub use session::AuthorizedClient;
pub use store::{FILE_FORMAT, FILE_VERSION, FileStore, MemoryStore, StoreError, TokenStore};
pub use transport::{IpLiteralResolver, Observer, Transport, TransportConfig};

/// The operating system's random source, as the core's `CryptoRng`.
pub fn system_rng() -> rand_core::UnwrapErr<getrandom::SysRng> {
    rand_core::UnwrapErr(getrandom::SysRng)
}

/// The README's examples, compiled (and run where they do not need a browser) as
/// doctests of this crate, which can see both `oauth_ureq` and `oauth_testkit`.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
