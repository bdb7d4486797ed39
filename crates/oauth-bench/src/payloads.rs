//! The inputs every benchmark uses, ours and the comparisons alike, read from the
//! committed `payloads.json` so that all of them parse and build exactly the same bytes.

use serde::Deserialize;
use std::sync::OnceLock;

/// The contents of `payloads.json`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Payloads {
    /// What the file is (not used by the benchmarks).
    pub about: String,
    /// The client identifier.
    pub client_id: String,
    /// The authorization endpoint.
    pub authorization_endpoint: String,
    /// The token endpoint.
    pub token_endpoint: String,
    /// The device authorization endpoint (RFC 8628).
    pub device_authorization_endpoint: String,
    /// The issuer (RFC 9207 `iss` in the callback).
    pub issuer: String,
    /// The redirect URI.
    pub redirect_uri: String,
    /// The scope asked for, space-separated.
    pub scope: String,
    /// The authorization code the callback carries.
    pub code: String,
    /// The protected resource called with the token.
    pub api_url: String,
    /// A typical token response: 143 bytes, no ID token.
    pub token_response_typical: String,
    /// An OpenID Connect token response with an ID token and extra members (~830 bytes).
    pub token_response_oidc: String,
    /// An RFC 6749 §5.2 error response.
    pub error_response: String,
    /// An RFC 8628 §3.2 device authorization response.
    pub device_authorization_response: String,
    /// The `authorization_pending` answer to a device poll.
    pub device_pending: String,
    /// A `WWW-Authenticate` header value of a 401 from the resource.
    pub www_authenticate: String,
}

/// The payloads, parsed once.
pub fn payloads() -> &'static Payloads {
    static PAYLOADS: OnceLock<Payloads> = OnceLock::new();
    PAYLOADS.get_or_init(|| {
        serde_json::from_str(include_str!("../payloads.json"))
            .expect("payloads.json is committed and valid")
    })
}
