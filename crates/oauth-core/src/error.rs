//! Typed errors.
//!
//! One [`Error`] for every flow and parser, split by who is at fault:
//!
//! - **local**: [`Error::Config`] (a registration or argument we refuse),
//!   [`Error::UnexpectedInput`] (the driver fed an input the flow's state cannot take),
//!   [`Error::FlowExpired`];
//! - **remote**: [`Error::AuthorizationDenied`] (an `error` redirect),
//!   [`Error::Server`] (an RFC 6749 §5.2 error body), [`Error::Http`] (a non-OAuth error
//!   response such as a proxy's HTML 502), [`Error::Violation`] (the server or the
//!   browser broke a named rule), [`Error::Parse`] (a body we could not read);
//! - **transport**: [`Error::Transport`], reported by the driver.
//!
//! Errors never carry secrets or raw bodies. Text the server sent
//! (`error_description`, a snippet of an unparseable body) is sanitised: control
//! characters escaped, length capped, token-like runs masked.
//!
//! [`Error::is_retryable`] and [`Error::needs_new_authorization`] let drivers and
//! applications decide what to do without matching on strings.

use crate::time::UnixTime;
use http::StatusCode;
use std::fmt;

/// Every error the core reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The registration or the arguments of a call are not acceptable.
    Config(ConfigError),
    /// The driver fed an input that does not fit the flow's current state.
    UnexpectedInput {
        /// The inputs the flow could take in that state.
        expected: &'static [InputKind],
        /// The input it got.
        got: InputKind,
    },
    /// The callback arrived after the flow's time to live (RFC 6749 §4.1.2 recommends
    /// at most ten minutes for a code; a pending authorization lives as long).
    FlowExpired {
        /// When the flow would have stopped accepting a callback.
        deadline: UnixTime,
    },
    /// The authorization server redirected back with an `error` (RFC 6749 §4.1.2.1),
    /// after `state` (and `iss`) matched.
    AuthorizationDenied(ErrorResponse),
    /// The server answered with an OAuth error body (RFC 6749 §5.2).
    Server(ErrorResponse),
    /// The server answered with a non-success status and a body that is not an OAuth
    /// error (an HTML error page, an empty 503, …).
    Http(HttpError),
    /// A protocol rule was broken by the server or the user agent.
    Violation(Violation),
    /// A response could not be parsed.
    Parse(ParseError),
    /// The driver could not complete the HTTP exchange.
    Transport(TransportFailure),
    /// The access token is expired and there is no refresh token to renew it.
    TokenExpired,
    /// The session was logged out; a new authorization is needed.
    LoggedOut,
    /// The session holds no tokens yet: authorize first.
    NotAuthorized,
    /// The driver could not persist a new token set. The new tokens are kept aside
    /// (never handed out unpersisted) and persisting is tried again on the next call.
    PersistFailed(String),
    /// A step of a composite flow failed ("authorize for this resource"): which step, and
    /// why.
    InStep {
        /// The step.
        step: ChainStep,
        /// What went wrong in it.
        source: Box<Error>,
    },
    /// A previous call panicked in the middle of a transition; the flow is unusable.
    /// (No input is known to cause this; it exists so that the state is never guessed.)
    Poisoned,
}

/// The steps of the resource authorization chain
/// ([`ResourceAuthorizationFlow`](crate::ResourceAuthorizationFlow)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChainStep {
    /// Fetching the protected resource's metadata (RFC 9728).
    ResourceMetadata,
    /// Fetching the authorization server's metadata (RFC 8414 / OpenID Connect).
    ServerMetadata,
    /// Registering a client (RFC 7591).
    Registration,
    /// The authorization-code flow with PKCE.
    Authorization,
}

impl fmt::Display for ChainStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ChainStep::ResourceMetadata => "fetching the resource's metadata",
            ChainStep::ServerMetadata => "fetching the authorization server's metadata",
            ChainStep::Registration => "registering the client",
            ChainStep::Authorization => "authorizing",
        })
    }
}

impl Error {
    /// Whether trying the same operation again later may succeed: transport failures
    /// (except TLS and oversized bodies), 5xx, 429 and 408 statuses, truncated bodies,
    /// and the `server_error` / `temporarily_unavailable` codes.
    ///
    /// This speaks of the *operation*. An authorization code is single-use, so the
    /// authorization-code flow itself never resends a code exchange (RFC 6749 §4.1.2).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::InStep { source, .. } => source.is_retryable(),
            Error::Transport(t) => t.kind.is_retryable(),
            Error::Http(h) => status_is_transient(h.status),
            Error::Server(e) => {
                matches!(
                    e.code,
                    ErrorCode::ServerError | ErrorCode::TemporarilyUnavailable
                ) || e.status.is_some_and(status_is_transient)
            }
            Error::AuthorizationDenied(e) => matches!(
                e.code,
                ErrorCode::ServerError | ErrorCode::TemporarilyUnavailable
            ),
            Error::Parse(p) => p.kind == ParseErrorKind::Truncated,
            Error::PersistFailed(_) => true,
            Error::Config(_)
            | Error::TokenExpired
            | Error::LoggedOut
            | Error::NotAuthorized
            | Error::UnexpectedInput { .. }
            | Error::FlowExpired { .. }
            | Error::Violation(_)
            | Error::Poisoned => false,
        }
    }

    /// Whether the only way forward is a new authorization by the user: the grant is
    /// gone (`invalid_grant`, e.g. a revoked or rotated-out refresh token, an expired
    /// code), the user denied access, or the pending authorization expired.
    pub fn needs_new_authorization(&self) -> bool {
        match self {
            Error::InStep { source, .. } => source.needs_new_authorization(),
            Error::Server(e) => e.code == ErrorCode::InvalidGrant,
            Error::AuthorizationDenied(_)
            | Error::FlowExpired { .. }
            | Error::TokenExpired
            | Error::LoggedOut
            | Error::NotAuthorized => true,
            _ => false,
        }
    }

    /// The step of a composite flow that failed, if this came from one.
    pub fn step(&self) -> Option<ChainStep> {
        match self {
            Error::InStep { step, .. } => Some(*step),
            _ => None,
        }
    }

    /// The error itself, without the step of a composite flow around it.
    pub fn root(&self) -> &Error {
        match self {
            Error::InStep { source, .. } => source.root(),
            e => e,
        }
    }

    /// Whether a [`ResourceAuthorizationFlow`](crate::ResourceAuthorizationFlow) that
    /// reused a client registered earlier failed as it does when the server no longer
    /// knows that client: its authorization page shows an error and never redirects
    /// back (the wait expires), or the token endpoint says `invalid_client`. A driver
    /// that keeps registrations forgets the kept one then, so that the next attempt
    /// registers anew.
    pub fn suggests_client_unknown(&self) -> bool {
        self.step() == Some(ChainStep::Authorization)
            && match self.root() {
                Error::FlowExpired { .. } => true,
                Error::Server(r) => r.code == ErrorCode::InvalidClient,
                _ => false,
            }
    }

    /// The server's error response, when there is one.
    pub fn error_response(&self) -> Option<&ErrorResponse> {
        match self {
            Error::InStep { source, .. } => source.error_response(),
            Error::Server(e) | Error::AuthorizationDenied(e) => Some(e),
            _ => None,
        }
    }

    /// When the server asked us to come back (`Retry-After`), if it did.
    pub fn retry_after(&self) -> Option<UnixTime> {
        match self {
            Error::InStep { source, .. } => source.retry_after(),
            Error::Server(e) => e.retry_after,
            Error::Http(h) => h.retry_after,
            _ => None,
        }
    }

    /// The HTTP status of the response that caused the error, if any.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Error::InStep { source, .. } => source.status(),
            Error::Server(e) => e.status,
            Error::Http(h) => Some(h.status),
            _ => None,
        }
    }
}

fn status_is_transient(status: StatusCode) -> bool {
    status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config(e) => write!(f, "configuration error: {e}"),
            Error::UnexpectedInput { expected, got } => {
                write!(f, "unexpected input {got:?} (the flow expected one of ")?;
                for (i, k) in expected.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k:?}")?;
                }
                f.write_str(")")
            }
            Error::FlowExpired { deadline } => write!(
                f,
                "the authorization request expired (deadline {deadline}); start a new one"
            ),
            Error::AuthorizationDenied(e) => write!(f, "authorization failed: {e}"),
            Error::Server(e) => write!(f, "the server returned an error: {e}"),
            Error::Http(e) => write!(f, "{e}"),
            Error::Violation(v) => write!(f, "protocol violation: {v}"),
            Error::Parse(p) => write!(f, "unreadable response: {p}"),
            Error::Transport(t) => write!(f, "transport failure: {t}"),
            Error::TokenExpired => f.write_str(
                "the access token expired and there is no refresh token; authorize again",
            ),
            Error::LoggedOut => f.write_str("logged out; authorize again"),
            Error::NotAuthorized => f.write_str("not authorized yet; authorize first"),
            Error::PersistFailed(why) => write!(
                f,
                "the new token set could not be saved: {}",
                crate::redact::sanitize(why, 256)
            ),
            Error::InStep { step, source } => write!(f, "{step}: {source}"),
            Error::Poisoned => f.write_str("the flow was interrupted by an earlier panic"),
        }
    }
}

impl std::error::Error for Error {}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Self {
        Error::Config(e)
    }
}

impl From<Violation> for Error {
    fn from(v: Violation) -> Self {
        Error::Violation(v)
    }
}

impl From<ParseError> for Error {
    fn from(p: ParseError) -> Self {
        Error::Parse(p)
    }
}

impl From<TransportFailure> for Error {
    fn from(t: TransportFailure) -> Self {
        Error::Transport(t)
    }
}

/// The kinds of input a flow takes; used to report a misfit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputKind {
    /// An HTTP response to a request the flow emitted.
    Response,
    /// The redirect the user agent delivered to the redirect URI.
    Callback,
    /// The driver could not complete the HTTP exchange.
    TransportFailed,
    /// Time passed.
    Tick,
    /// An API call was begun (API session).
    Begin,
    /// The driver reports whether it persisted a token set (API session).
    Persisted,
    /// The session changed while a call waited (API session).
    Wake,
    /// The driver reports the outcome of an authorization it was asked for (API
    /// session).
    Authorized,
}

/// A registration or call argument the core refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// A required setting was not given.
    Missing {
        /// Which setting.
        field: &'static str,
    },
    /// The client id is empty.
    EmptyClientId,
    /// A URL could not be parsed.
    InvalidUrl {
        /// Which setting.
        field: &'static str,
    },
    /// An endpoint is not `https` and not on a loopback host (RFC 6749 §10.9, RFC 9700
    /// §2.6). Plain `http` elsewhere needs [`crate::client::ClientRegistrationBuilder::allow_insecure_http`].
    InsecureEndpoint {
        /// Which setting.
        field: &'static str,
    },
    /// An endpoint or redirect URI carries a fragment (RFC 6749 §3.1, §3.1.2).
    HasFragment {
        /// Which setting.
        field: &'static str,
    },
    /// The redirect URI is not acceptable (RFC 6749 §3.1.2, RFC 8252 §7).
    InvalidRedirectUri {
        /// Why.
        reason: &'static str,
    },
    /// The issuer identifier is not acceptable (RFC 8414 §2: https, no query, no fragment).
    InvalidIssuer {
        /// Why.
        reason: &'static str,
    },
    /// RFC 9207 `iss` checking was required but no issuer was configured.
    IssuerRequired,
    /// A parameter would be sent twice: it is already in the endpoint's query, is one
    /// the flow sets itself, or was given twice (RFC 6749 §3.1).
    ConflictingParameter {
        /// The parameter name.
        name: String,
    },
    /// A scope token is empty or has a character outside RFC 6749 §3.3's
    /// `%x21 / %x23-5B / %x5D-7E`.
    InvalidScopeToken,
    /// A refresh asked for scope beyond what was granted (RFC 6749 §6).
    ScopeNotGranted,
    /// A refresh was asked for a token set that has no refresh token.
    NoRefreshToken,
    /// A token cannot be put in a header: it is not a `token68` (RFC 6750 §2.1).
    InvalidTokenSyntax,
    /// A bearer token would be sent over plain `http` to a non-loopback host
    /// (RFC 6750 §5.3).
    InsecureResource,
    /// A token issued for one resource (RFC 8707) would be sent to a URL outside it
    /// (BEARER-05: tokens go to their own resource only).
    TokenNotForResource,
    /// The server's metadata lists `code_challenge_methods_supported` without `S256`
    /// (RFC 9700 §2.1.1: PKCE with S256 is required; `plain` is never used).
    PkceS256Unsupported,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Missing { field } => write!(f, "`{field}` is required"),
            ConfigError::EmptyClientId => f.write_str("the client id is empty"),
            ConfigError::InvalidUrl { field } => write!(f, "`{field}` is not a valid URL"),
            ConfigError::InsecureEndpoint { field } => write!(
                f,
                "`{field}` must use https (plain http is accepted only for loopback hosts)"
            ),
            ConfigError::HasFragment { field } => {
                write!(f, "`{field}` must not contain a fragment")
            }
            ConfigError::InvalidRedirectUri { reason } => {
                write!(f, "the redirect URI is not acceptable: {reason}")
            }
            ConfigError::InvalidIssuer { reason } => {
                write!(f, "the issuer identifier is not acceptable: {reason}")
            }
            ConfigError::IssuerRequired => {
                f.write_str("checking the `iss` parameter requires a configured issuer")
            }
            ConfigError::ConflictingParameter { name } => write!(
                f,
                "parameter `{}` would be sent more than once",
                crate::redact::sanitize(name, 64)
            ),
            ConfigError::InvalidScopeToken => f.write_str(
                "a scope token is empty or contains a space, a double quote, a backslash or a non-ASCII character",
            ),
            ConfigError::ScopeNotGranted => {
                f.write_str("the requested scope exceeds the scope that was granted")
            }
            ConfigError::NoRefreshToken => f.write_str("the token set has no refresh token"),
            ConfigError::InvalidTokenSyntax => {
                f.write_str("the token contains characters that cannot go in a header")
            }
            ConfigError::InsecureResource => f.write_str(
                "refusing to send a bearer token over plain http to a non-loopback host",
            ),
            ConfigError::TokenNotForResource => f.write_str(
                "refusing to send a token issued for another resource to this URL",
            ),
            ConfigError::PkceS256Unsupported => {
                f.write_str("the server does not support PKCE with S256, which this client requires")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// An OAuth error as the server sent it (RFC 6749 §4.1.2.1 and §5.2), sanitised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorResponse {
    /// The `error` code.
    pub code: ErrorCode,
    /// `error_description`, with control characters escaped and length capped.
    pub description: Option<String>,
    /// `error_uri`, sanitised the same way. Never opened automatically.
    pub uri: Option<String>,
    /// The HTTP status, or `None` when the error came in a redirect.
    pub status: Option<StatusCode>,
    /// When the server asked to be retried (`Retry-After`), as an absolute time.
    pub retry_after: Option<UnixTime>,
}

impl fmt::Display for ErrorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code.as_str())?;
        if let Some(d) = &self.description {
            write!(f, " ({d})")?;
        }
        if let Some(s) = self.status {
            write!(f, " [HTTP {}]", s.as_u16())?;
        }
        if let Some(u) = &self.uri {
            write!(f, " see {u}")?;
        }
        Ok(())
    }
}

/// The `error` codes registered for OAuth 2.0 and its extensions, plus any other.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `invalid_request`
    InvalidRequest,
    /// `invalid_client`
    InvalidClient,
    /// `invalid_grant`
    InvalidGrant,
    /// `unauthorized_client`
    UnauthorizedClient,
    /// `unsupported_grant_type`
    UnsupportedGrantType,
    /// `invalid_scope`
    InvalidScope,
    /// `access_denied`
    AccessDenied,
    /// `unsupported_response_type`
    UnsupportedResponseType,
    /// `server_error`
    ServerError,
    /// `temporarily_unavailable`
    TemporarilyUnavailable,
    /// `authorization_pending` (RFC 8628)
    AuthorizationPending,
    /// `slow_down` (RFC 8628)
    SlowDown,
    /// `expired_token` (RFC 8628)
    ExpiredToken,
    /// `unsupported_token_type` (RFC 7009)
    UnsupportedTokenType,
    /// `invalid_token` (RFC 6750)
    InvalidToken,
    /// `insufficient_scope` (RFC 6750)
    InsufficientScope,
    /// `invalid_dpop_proof` (RFC 9449)
    InvalidDpopProof,
    /// `use_dpop_nonce` (RFC 9449)
    UseDpopNonce,
    /// `invalid_target` (RFC 8707): the resource is unknown or not allowed.
    InvalidTarget,
    /// `invalid_redirect_uri` (RFC 7591 registration).
    InvalidRedirectUri,
    /// `invalid_client_metadata` (RFC 7591 registration).
    InvalidClientMetadata,
    /// Any other code, kept verbatim after sanitising (e.g. OpenID's `login_required`).
    Other(String),
}

impl ErrorCode {
    /// Maps a received code. Unknown codes are kept (sanitised) as [`ErrorCode::Other`].
    pub fn from_code(code: &str) -> Self {
        match code {
            "invalid_request" => ErrorCode::InvalidRequest,
            "invalid_client" => ErrorCode::InvalidClient,
            "invalid_grant" => ErrorCode::InvalidGrant,
            "unauthorized_client" => ErrorCode::UnauthorizedClient,
            "unsupported_grant_type" => ErrorCode::UnsupportedGrantType,
            "invalid_scope" => ErrorCode::InvalidScope,
            "access_denied" => ErrorCode::AccessDenied,
            "unsupported_response_type" => ErrorCode::UnsupportedResponseType,
            "server_error" => ErrorCode::ServerError,
            "temporarily_unavailable" => ErrorCode::TemporarilyUnavailable,
            "authorization_pending" => ErrorCode::AuthorizationPending,
            "slow_down" => ErrorCode::SlowDown,
            "expired_token" => ErrorCode::ExpiredToken,
            "unsupported_token_type" => ErrorCode::UnsupportedTokenType,
            "invalid_token" => ErrorCode::InvalidToken,
            "insufficient_scope" => ErrorCode::InsufficientScope,
            "invalid_dpop_proof" => ErrorCode::InvalidDpopProof,
            "use_dpop_nonce" => ErrorCode::UseDpopNonce,
            "invalid_target" => ErrorCode::InvalidTarget,
            "invalid_redirect_uri" => ErrorCode::InvalidRedirectUri,
            "invalid_client_metadata" => ErrorCode::InvalidClientMetadata,
            other => ErrorCode::Other(crate::redact::sanitize(other, 128)),
        }
    }

    /// The code as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::AuthorizationPending => "authorization_pending",
            ErrorCode::SlowDown => "slow_down",
            ErrorCode::ExpiredToken => "expired_token",
            ErrorCode::UnsupportedTokenType => "unsupported_token_type",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::InvalidDpopProof => "invalid_dpop_proof",
            ErrorCode::UseDpopNonce => "use_dpop_nonce",
            ErrorCode::InvalidTarget => "invalid_target",
            ErrorCode::InvalidRedirectUri => "invalid_redirect_uri",
            ErrorCode::InvalidClientMetadata => "invalid_client_metadata",
            ErrorCode::Other(s) => s,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A non-success response that is not an OAuth error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    /// The status.
    pub status: StatusCode,
    /// The `Content-Type`, sanitised, if there was one.
    pub content_type: Option<String>,
    /// The start of the body (at most 256 bytes), sanitised, with token-like values
    /// masked, so that users can see what the server said.
    pub snippet: String,
    /// `Retry-After`, as an absolute time, if present and readable.
    pub retry_after: Option<UnixTime>,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status.as_u16())?;
        if let Some(ct) = &self.content_type {
            write!(f, " ({ct})")?;
        }
        if !self.snippet.is_empty() {
            write!(f, ": {}", self.snippet)?;
        }
        Ok(())
    }
}

/// A named protocol rule that the server or the user agent broke.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// The callback's `state` is missing or empty (RFC 6749 §4.1.2, §10.12).
    StateMissing,
    /// The callback's `state` differs from the one we sent (RFC 6749 §10.12).
    StateMismatch,
    /// The callback's `iss` differs from the configured issuer (RFC 9207 §2.4).
    IssuerMismatch,
    /// The callback has no `iss` although the server is known to send it (RFC 9207 §2.4).
    IssuerMissing,
    /// A parameter or member appeared more than once (RFC 6749 §3.1, §3.2).
    DuplicateParameter(String),
    /// A successful callback carried no `code`, or an empty one (RFC 6749 §4.1.2).
    MissingCode,
    /// The callback carried both `code` and `error`.
    CodeAndError,
    /// The callback carried a token in the front channel (RFC 9700 §2.1.2): the named
    /// parameter.
    FrontChannelToken(&'static str),
    /// The authorization response came in the URL fragment (implicit or hybrid style).
    ResponseInFragment,
    /// The callback URL is not at the registered redirect URI (scheme, host, port and
    /// path must match; RFC 9700 §4.4.2.2).
    RedirectUriMismatch,
    /// A back-channel endpoint answered with a redirect; it is not followed
    /// (RFC 9700 §4.12).
    UnexpectedRedirect(StatusCode),
    /// A success status carried an `error` member, and the `error_in_success_status`
    /// quirk is off (CVE-2021-41580 is what happens when it is ignored).
    ErrorInSuccessResponse(Box<ErrorResponse>),
    /// A `token_type` this client does not know (RFC 6749 §7.1: it MUST NOT use it).
    UnsupportedTokenType(String),
    /// The access token is not a `token68` and cannot safely go in a header.
    InvalidAccessTokenSyntax,
    /// The metadata document's `issuer` is not, byte for byte, the issuer it was
    /// fetched for (RFC 8414 §3.3: the metadata MUST NOT be used).
    MetadataIssuerMismatch,
    /// A metadata endpoint is not an absolute `https` URL without fragment (RFC 8414
    /// §2); the member is named.
    InsecureMetadataEndpoint(&'static str),
    /// A protected resource's metadata names another resource than the one it was
    /// fetched for (RFC 9728 §3.3: the metadata MUST NOT be used).
    ResourceMismatch,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::StateMissing => f.write_str("the callback carries no `state`"),
            Violation::StateMismatch => {
                f.write_str("the callback's `state` does not match this authorization request")
            }
            Violation::IssuerMismatch => {
                f.write_str("the callback's `iss` does not match the configured issuer")
            }
            Violation::IssuerMissing => f.write_str(
                "the callback carries no `iss` although the server is configured to send one",
            ),
            Violation::DuplicateParameter(p) => write!(f, "parameter `{p}` appears more than once"),
            Violation::MissingCode => f.write_str("the callback carries no authorization code"),
            Violation::CodeAndError => f.write_str("the callback carries both `code` and `error`"),
            Violation::FrontChannelToken(p) => {
                write!(
                    f,
                    "the callback carries `{p}`: tokens must not travel in the front channel"
                )
            }
            Violation::ResponseInFragment => {
                f.write_str("the authorization response arrived in the URL fragment")
            }
            Violation::RedirectUriMismatch => {
                f.write_str("the callback did not arrive at the registered redirect URI")
            }
            Violation::UnexpectedRedirect(s) => write!(
                f,
                "the endpoint answered with a redirect (HTTP {}); redirects are not followed",
                s.as_u16()
            ),
            Violation::ErrorInSuccessResponse(e) => {
                write!(f, "a success response carried an error: {e}")
            }
            Violation::UnsupportedTokenType(t) => write!(f, "unsupported token_type `{t}`"),
            Violation::InvalidAccessTokenSyntax => {
                f.write_str("the access token contains characters that cannot go in a header")
            }
            Violation::MetadataIssuerMismatch => f.write_str(
                "the metadata document names another issuer than the one it was fetched for",
            ),
            Violation::ResourceMismatch => f.write_str(
                "the protected resource's metadata names another resource than the one asked for",
            ),
            Violation::InsecureMetadataEndpoint(field) => write!(
                f,
                "metadata member `{field}` is not an absolute https URL without fragment"
            ),
        }
    }
}

/// A body or header that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// What was being read: `"body"`, a member name such as `"expires_in"`, or a header.
    pub field: &'static str,
    /// What was wrong with it.
    pub kind: ParseErrorKind,
}

impl ParseError {
    pub(crate) fn new(field: &'static str, kind: ParseErrorKind) -> Self {
        ParseError { field, kind }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.field, self.kind)
    }
}

impl std::error::Error for ParseError {}

/// What was wrong with a body or a field.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// Bytes that are not UTF-8.
    NotUtf8,
    /// The body ends in the middle of a value.
    Truncated,
    /// Not valid JSON or form syntax.
    Malformed,
    /// The JSON body is not an object.
    NotAnObject,
    /// A required member is missing (or `null`, or empty).
    Missing,
    /// A member has the wrong JSON type.
    WrongType,
    /// A member has a value outside what is allowed (a negative `expires_in`, …).
    InvalidValue,
    /// A member appears more than once (RFC 6749 §3.2; RFC 8259 §4). The name is sanitised.
    DuplicateKey(String),
    /// The body is larger than the configured limit.
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The `Content-Type` is not one this parser reads (with the quirks in force).
    UnsupportedContentType(String),
    /// A `%` escape that is not followed by two hex digits.
    InvalidPercentEncoding,
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseErrorKind::NotUtf8 => f.write_str("not UTF-8"),
            ParseErrorKind::Truncated => f.write_str("truncated"),
            ParseErrorKind::Malformed => f.write_str("malformed"),
            ParseErrorKind::NotAnObject => f.write_str("not a JSON object"),
            ParseErrorKind::Missing => f.write_str("missing"),
            ParseErrorKind::WrongType => f.write_str("wrong type"),
            ParseErrorKind::InvalidValue => f.write_str("invalid value"),
            ParseErrorKind::DuplicateKey(k) => write!(f, "member `{k}` appears more than once"),
            ParseErrorKind::TooLarge { limit } => write!(f, "larger than {limit} bytes"),
            ParseErrorKind::UnsupportedContentType(ct) => {
                write!(f, "unsupported content type `{ct}`")
            }
            ParseErrorKind::InvalidPercentEncoding => f.write_str("invalid percent-encoding"),
        }
    }
}

/// A failure of the HTTP exchange itself, reported by the driver as an input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportFailure {
    /// What kind of failure.
    pub kind: TransportErrorKind,
    /// A short description from the driver. Drivers must not put secrets here.
    pub message: String,
}

impl TransportFailure {
    /// A failure of `kind` with a description.
    pub fn new(kind: TransportErrorKind, message: impl Into<String>) -> Self {
        TransportFailure {
            kind,
            message: message.into(),
        }
    }
}

impl fmt::Display for TransportFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.kind)?;
        if !self.message.is_empty() {
            write!(f, ": {}", crate::redact::sanitize(&self.message, 256))?;
        }
        Ok(())
    }
}

impl std::error::Error for TransportFailure {}

/// The kinds of transport failure a driver reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TransportErrorKind {
    /// The host name could not be resolved.
    Dns,
    /// The connection could not be established.
    Connect,
    /// TLS failed (certificate validation included). Not retryable.
    Tls,
    /// A connect or read timeout.
    Timeout,
    /// The connection was closed before the response was complete.
    ConnectionClosed,
    /// The response body exceeded the driver's cap. Not retryable.
    BodyTooLarge,
    /// Anything else.
    Other,
}

impl TransportErrorKind {
    /// Whether a later attempt may succeed.
    pub fn is_retryable(self) -> bool {
        !matches!(
            self,
            TransportErrorKind::Tls | TransportErrorKind::BodyTooLarge
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_client_seems_unknown_only_after_the_authorization_step_failed_so() {
        let in_step = |step, source| Error::InStep {
            step,
            source: Box::new(source),
        };
        let expired = || Error::FlowExpired {
            deadline: UnixTime::from_secs(1),
        };
        let invalid_client = || {
            Error::Server(ErrorResponse {
                code: ErrorCode::InvalidClient,
                description: None,
                uri: None,
                status: None,
                retry_after: None,
            })
        };
        assert!(in_step(ChainStep::Authorization, expired()).suggests_client_unknown());
        assert!(in_step(ChainStep::Authorization, invalid_client()).suggests_client_unknown());
        assert!(!in_step(ChainStep::Registration, invalid_client()).suggests_client_unknown());
        assert!(!in_step(ChainStep::Authorization, Error::Poisoned).suggests_client_unknown());
        assert!(!expired().suggests_client_unknown());
    }

    fn server(code: &str, status: u16) -> Error {
        Error::Server(ErrorResponse {
            code: ErrorCode::from_code(code),
            description: None,
            uri: None,
            status: Some(StatusCode::from_u16(status).unwrap()),
            retry_after: None,
        })
    }

    #[test]
    fn retryable_classification() {
        assert!(server("temporarily_unavailable", 503).is_retryable());
        assert!(server("server_error", 500).is_retryable());
        assert!(server("slow_down", 429).is_retryable());
        assert!(!server("invalid_grant", 400).is_retryable());
        assert!(!server("invalid_client", 401).is_retryable());
        assert!(
            Error::Transport(TransportFailure::new(TransportErrorKind::Timeout, "")).is_retryable()
        );
        assert!(
            !Error::Transport(TransportFailure::new(TransportErrorKind::Tls, "")).is_retryable()
        );
        assert!(Error::Parse(ParseError::new("body", ParseErrorKind::Truncated)).is_retryable());
        assert!(!Error::Violation(Violation::StateMismatch).is_retryable());
    }

    #[test]
    fn err_06_invalid_grant_needs_new_authorization() {
        assert!(server("invalid_grant", 400).needs_new_authorization());
        assert!(!server("invalid_client", 401).needs_new_authorization());
        assert!(!server("server_error", 500).needs_new_authorization());
    }

    #[test]
    fn err_03_unknown_codes_are_kept() {
        assert_eq!(
            ErrorCode::from_code("foo_bar"),
            ErrorCode::Other("foo_bar".into())
        );
        assert_eq!(ErrorCode::from_code("slow_down"), ErrorCode::SlowDown);
        for code in ["invalid_request", "access_denied", "use_dpop_nonce", "x"] {
            assert_eq!(ErrorCode::from_code(code).as_str(), code);
        }
    }

    #[test]
    fn display_is_informative() {
        let e = Error::Server(ErrorResponse {
            code: ErrorCode::InvalidGrant,
            description: Some("code expired".into()),
            uri: None,
            status: Some(StatusCode::BAD_REQUEST),
            retry_after: None,
        });
        assert_eq!(
            e.to_string(),
            "the server returned an error: invalid_grant (code expired) [HTTP 400]"
        );
    }
}
