//! The flows. Each is one file: an ASCII diagram of its states, a private `enum State`,
//! and one `match (state, input)` in `handle`.
//!
//! | flow | grant |
//! |---|---|
//! | [`AuthorizationCodeFlow`] | authorization code with PKCE (RFC 6749 §4.1, RFC 7636) |
//! | [`RefreshFlow`] | refresh token (RFC 6749 §6) |
//!
//! All implement [`Flow`](crate::Flow), so one driver loop runs any of them.

mod authorization_code;
mod refresh;
#[cfg(test)]
mod test_support;

pub use authorization_code::{AuthorizationCodeFlow, AuthorizationParams};
pub use refresh::RefreshFlow;
