//! Provider quirks the fake server can imitate, and faults it can inject.

/// Deviations from RFC 6749 that real providers show. Each is off by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ServerQuirks {
    /// Token responses as `application/x-www-form-urlencoded` (GitHub without
    /// `Accept: application/json`).
    pub form_encoded_responses: bool,
    /// `expires_in` as a string (`"3600"`: Azure AD v1, PayPal).
    pub expires_in_as_string: bool,
    /// `token_type` as `bearer`.
    pub lowercase_bearer: bool,
    /// Errors with status 200 (GitHub's `bad_verification_code`).
    pub errors_with_status_200: bool,
}

impl ServerQuirks {
    /// GitHub's behaviour: form-encoded bodies, lowercase `bearer`, errors with 200.
    pub fn github() -> Self {
        ServerQuirks {
            form_encoded_responses: true,
            expires_in_as_string: false,
            lowercase_bearer: true,
            errors_with_status_200: true,
        }
    }

    /// Azure AD v1's behaviour: `expires_in` as a string.
    pub fn azure_v1() -> Self {
        ServerQuirks {
            expires_in_as_string: true,
            ..ServerQuirks::default()
        }
    }
}

/// A fault injected into the next token-endpoint exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// 500 with an HTML page; the request is not processed.
    InternalError,
    /// 503 with `Retry-After`; the request is not processed.
    ServiceUnavailable {
        /// The `Retry-After` value in seconds.
        retry_after: u64,
    },
    /// The request is processed (a code is spent, a refresh token rotated) and the
    /// response body is cut in half.
    TruncatedBody,
    /// 200 with bytes that are not JSON (nor UTF-8); the request is not processed.
    GarbageBody,
    /// 200 with a body of this many bytes; the request is not processed.
    OversizedBody(usize),
    /// The connection is refused: nothing reaches the server.
    ConnectionRefused,
    /// The request is processed, then the connection drops before the response: the
    /// client sees a transport failure although the server acted.
    ResponseLost,
}
