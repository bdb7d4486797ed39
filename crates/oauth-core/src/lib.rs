//! A sans-IO OAuth 2.0 client core.
//!
//! Every flow is an explicit state machine that turns inputs (HTTP responses, the
//! redirect URL, the passage of time) into outputs (HTTP requests to send, a URL to show
//! the user, a time to wait for, a final result). This crate never opens a socket, never
//! reads a clock and never draws randomness on its own: time comes in as a
//! [`UnixTime`] value, randomness through a [`rand_core::CryptoRng`] passed to `start`,
//! and HTTP goes out as `http::Request` values and comes back as `http::Response`
//! values. Any runtime can drive it: blocking, async, a browser, a test simulation.
//!
//! # Driving a flow
//!
//! 1. Build a [`ClientRegistration`] once.
//! 2. Start a flow, e.g. [`AuthorizationCodeFlow::start`], with a CSPRNG and `now`.
//! 3. Loop: [`Flow::poll`] says what to do; do it; report back with [`Flow::handle`].
//! 4. Stop when `poll` returns [`Output::Done`].
//!
//! ```
//! use oauth_core::{
//!     AuthorizationCodeFlow, AuthorizationParams, ClientRegistration, Flow, HttpRequest,
//!     HttpResponse, Input, Output, Scope, UnixTime,
//! };
//! # struct Rng(u8);
//! # impl rand_core::TryRng for Rng { type Error = core::convert::Infallible;
//! #   fn try_next_u32(&mut self) -> Result<u32, Self::Error> { Ok(7) }
//! #   fn try_next_u64(&mut self) -> Result<u64, Self::Error> { Ok(7) }
//! #   fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), Self::Error> { d.fill(self.0); self.0 += 1; Ok(()) } }
//! # impl rand_core::TryCryptoRng for Rng {}
//! # let mut rng = Rng(1); // a real driver passes e.g. rand_core::UnwrapErr(getrandom::SysRng)
//!
//! // Your HTTP client and your way of getting the redirect, in your runtime.
//! fn send(_req: HttpRequest) -> HttpResponse {
//!     http::Response::builder()
//!         .status(200)
//!         .header("content-type", "application/json")
//!         .body(br#"{"access_token":"2YotnFZFEjr1zCsicMWpAA","token_type":"Bearer","expires_in":3600}"#.to_vec())
//!         .unwrap()
//! }
//! fn wait_for_redirect(authorization_url: &oauth_core::AuthorizationUrl) -> url::Url {
//!     // The user approved; the browser came back to the redirect URI with code and state.
//!     let state = authorization_url.query_param("state").unwrap();
//!     url::Url::parse(&format!("http://127.0.0.1:8080/cb?code=SplxlOBeZQQYbYS6WxSbIA&state={state}")).unwrap()
//! }
//! let now = || UnixTime::from_secs(1_700_000_000); // a real driver reads its clock here
//!
//! let client = ClientRegistration::builder("s6BhdRkqt3")
//!     .authorization_endpoint("https://server.example.com/authorize")
//!     .token_endpoint("https://server.example.com/token")
//!     .redirect_uri("http://127.0.0.1:8080/cb")
//!     .build()?;
//! let params = AuthorizationParams::new().scope(Scope::parse("read write")?);
//! let mut flow = AuthorizationCodeFlow::start(&client, params, &mut rng, now())?;
//!
//! let mut visited = None;
//! let tokens = loop {
//!     match flow.poll() {
//!         Output::Send(request) => {
//!             let response = send(request);
//!             flow.handle(Input::Response(response), now());
//!         }
//!         Output::Visit(url) => visited = Some(url),
//!         Output::AwaitCallback { .. } => {
//!             let callback = wait_for_redirect(visited.as_ref().unwrap());
//!             flow.handle(Input::Callback(callback), now());
//!         }
//!         Output::AwaitResponse => unreachable!("we answer every Send at once"),
//!         Output::ShowUserCode(code) => println!("enter {} at {}", code.user_code, code.verification_uri),
//!         Output::WaitUntil(_) => flow.handle(Input::Tick, now()),
//!         Output::Done(result) => break result?,
//!     }
//! };
//! assert_eq!(tokens.expires_at, Some(now().saturating_add(3600)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The flows
//!
//! One file each, states as an enum, every transition a `match`:
//! [`AuthorizationCodeFlow`] (PKCE, `iss`, PAR), [`RefreshFlow`],
//! [`ClientCredentialsFlow`], [`DeviceFlow`], [`RevocationFlow`],
//! [`IntrospectionFlow`], [`DiscoveryFlow`], the API [`Session`] with its [`ApiCall`]s
//! (refresh ahead of expiry, single flight, one replay on `invalid_token`), and
//! [`ResourceAuthorizationFlow`]: from a protected resource's 401 to tokens for it with
//! nothing configured (RFC 9728 → RFC 8414 → RFC 7591 → code + PKCE, RFC 8707
//! `resource` throughout), which a session [`with_authorization`](Session::with_authorization)
//! asks its driver to run when it has no usable token.
//!
//! # Parsing on its own
//!
//! The parsers the flows use are public in [`parse`]: token and error responses,
//! callbacks, `WWW-Authenticate`, server and resource metadata, registration,
//! introspection, device authorization and PAR responses. They take bytes and return typed values or typed
//! errors, for any input.
//!
//! # Invariants
//!
//! - No IO, no clock, no OS randomness; `#![forbid(unsafe_code)]`.
//! - No token is accepted from an authorization response unless `state` matched in
//!   constant time and `iss` matched where present or required (RFC 9207).
//! - PKCE `S256` on every authorization request; the verifier leaves the flow only in
//!   the token request.
//! - The client secret goes only to the token endpoint.
//! - Secrets ([`ClientSecret`], [`AccessToken`], [`RefreshToken`], [`IdToken`],
//!   [`AuthorizationCode`], [`PkceVerifier`], [`StateToken`]) have redacted `Debug`
//!   and no `Display`; [`HttpRequest`]'s `Debug` redacts credentials; errors carry no
//!   secrets and no raw bodies.
//!
//! # Panics
//!
//! Nothing a server, a browser or a driver sends can make this crate panic: every
//! input either fits the current state or moves the flow to its failed state with a
//! typed [`Error`], and every parser returns a typed error for any bytes. The few
//! `expect`s state the invariant they rely on.

#![forbid(unsafe_code)]
#![warn(missing_docs, unreachable_pub)]

#[macro_use]
mod secret;

mod bearer;
mod client;
mod error;
mod flow;
mod io;
pub mod parse;
mod pkce;
pub mod providers;
mod random;
pub mod redact;
mod request;
mod scope;
mod time;
mod token;

pub use bearer::{attach_bearer, invalid_token_challenge, is_token68, resource_metadata_hint};
pub use client::{ClientAuth, ClientRegistration, ClientRegistrationBuilder, is_loopback_host};
pub use error::{
    ChainStep, ConfigError, Error, ErrorCode, ErrorResponse, HttpError, InputKind, ParseError,
    ParseErrorKind, TransportErrorKind, TransportFailure, Violation,
};
pub use flow::{
    ApiCall, AuthorizationCodeFlow, AuthorizationParams, CallInput, ClientCredentialsFlow,
    ClientCredentialsParams, DEFAULT_SKEW_SECS, DEVICE_CODE_GRANT, DeviceFlow, DiscoveryFlow,
    IntrospectionFlow, RefreshFlow, ResourceAuthorization, ResourceAuthorizationFlow,
    ResourceAuthorizationParams, ResourceChallenge, RevocationFlow, Session, Step, TokenRef,
    TokenTypeHint,
};
pub use io::{AuthorizationUrl, Flow, HttpRequest, HttpResponse, Input, Output};
pub use pkce::{PkceChallenge, PkceVerifier, challenge_s256, is_valid_verifier};
pub use request::basic_authorization;
pub use scope::Scope;
pub use secret::{
    AccessToken, AuthorizationCode, ClientSecret, IdToken, REDACTED, RefreshToken,
    RegistrationToken, StateToken,
};
pub use time::{UnixTime, parse_retry_after};
pub use token::{TokenResponse, TokenSet, TokenType};

/// Re-exported so that drivers use the same versions as the core.
pub use http;
pub use rand_core;
pub use url;
