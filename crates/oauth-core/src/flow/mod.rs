//! The flows. Each is one file: an ASCII diagram of its states, a private `enum State`,
//! and one `match (state, input)` in `handle`.
//!
//! | flow | grant |
//! |---|---|
//! | [`AuthorizationCodeFlow`] | authorization code with PKCE (RFC 6749 §4.1, RFC 7636) |
//! | [`RefreshFlow`] | refresh token (RFC 6749 §6) |
//! | [`ClientCredentialsFlow`] | client credentials (RFC 6749 §4.4), resource indicators (RFC 8707) |
//! | [`DeviceFlow`] | device authorization (RFC 8628) |
//! | [`DiscoveryFlow`] | server metadata (RFC 8414, OpenID Connect Discovery) |
//! | [`RevocationFlow`] | token revocation (RFC 7009) |
//! | [`IntrospectionFlow`] | token introspection (RFC 7662) |
//! | [`ResourceAuthorizationFlow`] | from a protected resource to tokens: RFC 9728 → RFC 8414 → RFC 7591 → code + PKCE, RFC 8707 |
//! | [`Session`] + [`ApiCall`] | calls to a protected resource: refresh ahead of expiry, single flight, persist before use, one replay on `invalid_token` (RFC 6750) |
//!
//! The grants implement [`Flow`](crate::Flow), so one driver loop runs any of them. The
//! API session is the exception by necessity: its state is shared by concurrent calls,
//! so each [`ApiCall`] advances against a [`Session`] the driver keeps behind one lock.

#[macro_use]
mod exchange;

mod authorization_code;
mod client_credentials;
mod device;
mod discovery;
mod introspection;
mod refresh;
mod resource_authorization;
mod revocation;
mod session;
#[cfg(test)]
mod test_support;
#[cfg(test)]
pub(crate) use test_support::test_rng;

pub use authorization_code::{AuthorizationCodeFlow, AuthorizationParams};
pub use client_credentials::{ClientCredentialsFlow, ClientCredentialsParams};
pub use device::{DEVICE_CODE_GRANT, DeviceFlow};
pub use discovery::DiscoveryFlow;
pub use introspection::IntrospectionFlow;
pub use refresh::RefreshFlow;
pub use resource_authorization::{
    ResourceAuthorization, ResourceAuthorizationFlow, ResourceAuthorizationParams,
    ResourceChallenge,
};
pub use revocation::{RevocationFlow, TokenRef, TokenTypeHint};
pub use session::{ApiCall, CallInput, DEFAULT_SKEW_SECS, Session, Step};
