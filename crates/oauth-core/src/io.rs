//! The interface every flow shares with its driver: [`Flow`], [`Input`], [`Output`].
//!
//! ```text
//! driver                            flow
//!   |<-- Output::Send(request) -------|   an http::Request<Vec<u8>> to send, once
//!   |--- Input::Response(response) -->|   what came back (any status)
//!   |--- Input::TransportFailed(f) -->|   or why nothing came back
//!   |<-- Output::Visit(url) ----------|   show this URL to the user, once
//!   |<-- Output::AwaitCallback{..} ---|   wait for the redirect, until the deadline
//!   |--- Input::Callback(url) ------->|   the redirect the user agent delivered
//!   |<-- Output::ShowUserCode(code) --|   show the user a code to enter elsewhere, once
//!   |<-- Output::WaitUntil(t) --------|   come back at time t
//!   |--- Input::Tick ---------------->|   time passed
//!   |<-- Output::Done(result) --------|   finished; repeated on every later poll
//! ```
//!
//! `Send`, `Visit` and `ShowUserCode` are edge-triggered: each is returned by exactly one `poll`.
//! `AwaitCallback`, `AwaitResponse`, `WaitUntil` and `Done` are level-triggered: they
//! are returned until an input changes the state.

use crate::error::{Error, InputKind, TransportFailure};
use crate::redact;
use crate::time::UnixTime;
use std::fmt;
use std::ops::{Deref, DerefMut};
use url::Url;

/// A request the core asks the driver to send.
///
/// It *is* an `http::Request<Vec<u8>>` (dereference it, or take it with
/// [`HttpRequest::into_http`]); the wrapper exists so that its `Debug` form redacts
/// `Authorization`, `client_secret`, `code`, `code_verifier`, `refresh_token` and the
/// other secrets that request bodies carry.
pub struct HttpRequest(http::Request<Vec<u8>>);

impl HttpRequest {
    /// Wraps a request (for tests, fake servers and filters).
    pub fn from_http(request: http::Request<Vec<u8>>) -> Self {
        HttpRequest(request)
    }

    /// The request to hand to an HTTP client.
    pub fn into_http(self) -> http::Request<Vec<u8>> {
        self.0
    }
}

impl Deref for HttpRequest {
    type Target = http::Request<Vec<u8>>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for HttpRequest {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl From<HttpRequest> for http::Request<Vec<u8>> {
    fn from(r: HttpRequest) -> Self {
        r.0
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "HttpRequest {{ {:?} }}",
            redact::request(&self.0).to_string()
        )
    }
}

/// A response the driver received.
pub type HttpResponse = http::Response<Vec<u8>>;

/// What a driver feeds into a flow, with the current time.
pub enum Input {
    /// The response to the request the flow emitted last.
    Response(HttpResponse),
    /// The URL the user agent was redirected to (the callback).
    Callback(Url),
    /// The request could not be completed.
    TransportFailed(TransportFailure),
    /// Time passed (answer to [`Output::WaitUntil`], or a timeout while waiting).
    Tick,
}

impl Input {
    /// The kind of input, for error reports.
    pub fn kind(&self) -> InputKind {
        match self {
            Input::Response(_) => InputKind::Response,
            Input::Callback(_) => InputKind::Callback,
            Input::TransportFailed(_) => InputKind::TransportFailed,
            Input::Tick => InputKind::Tick,
        }
    }
}

impl fmt::Debug for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::Response(r) => write!(f, "Response({:?})", redact::response(r).to_string()),
            Input::Callback(u) => write!(f, "Callback({})", redact::url(u)),
            Input::TransportFailed(t) => write!(f, "TransportFailed({t})"),
            Input::Tick => f.write_str("Tick"),
        }
    }
}

/// The URL a flow sends the user to ([`Output::Visit`]): the authorization endpoint
/// with its own query kept and the request's parameters form-encoded after it
/// (RFC 6749 §3.1, Appendix B).
///
/// It is kept as text, ready for a browser, a terminal or a `Location` header: the
/// flow appends encoded parameters to an endpoint that was parsed and checked when the
/// registration was built, so the text is always a valid absolute URL without
/// fragment, and no URL parser runs per login. [`to_url`](Self::to_url) parses it when
/// a [`Url`] is wanted.
///
/// `Display` shows it whole (the user must be able to open it); `Debug` redacts
/// `state` like every log form in this crate.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AuthorizationUrl(String);

impl AuthorizationUrl {
    /// `base` (an endpoint the registration parsed) with `pairs` after its query, in
    /// order, in one pass and (unless many characters need escaping) one allocation.
    /// A pair is `(name, value, plain)`: form-encoded unless `plain`, which marks
    /// values this crate made that need no encoding (`state` and the challenge are
    /// base64url) under constant names.
    pub(crate) fn build<'a>(
        base: &Url,
        pairs: impl Iterator<Item = (&'a str, &'a str, bool)> + Clone,
    ) -> Self {
        let base = base.as_str();
        let raw: usize = pairs.clone().map(|(k, v, _)| k.len() + v.len() + 2).sum();
        let mut url = Vec::with_capacity(base.len() + raw + raw / 8 + 16);
        url.extend_from_slice(base.as_bytes());
        let mut separator = AuthorizationUrl::separator(base);
        for (k, v, plain) in pairs {
            if let Some(c) = separator {
                url.push(c);
            }
            separator = Some(b'&');
            if plain {
                debug_assert!(
                    [k, v]
                        .iter()
                        .all(|s| !s.contains(' ') && crate::parse::form::encoded_len(s) == s.len())
                );
                url.extend_from_slice(k.as_bytes());
                url.push(b'=');
                url.extend_from_slice(v.as_bytes());
            } else {
                crate::parse::form::encode_into(&mut url, k);
                url.push(b'=');
                crate::parse::form::encode_into(&mut url, v);
            }
        }
        AuthorizationUrl::from_ascii(url)
    }

    /// A URL serialization followed by encoded pairs is ASCII; a lossy conversion stands
    /// in for a panic that cannot happen.
    fn from_ascii(url: Vec<u8>) -> Self {
        AuthorizationUrl(match String::from_utf8(url) {
            Ok(url) => url,
            Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
        })
    }

    /// What goes before the next pair, as `url`'s `query_pairs_mut().append_pair` does
    /// it: `?` when there is no query yet, nothing after an empty one, else `&`.
    fn separator(url: &str) -> Option<u8> {
        match url.find('?') {
            None => Some(b'?'),
            Some(q) if q + 1 < url.len() => Some(b'&'),
            Some(_) => None,
        }
    }

    /// Appends `name=value`, form-encoded, after the query.
    pub(crate) fn push_pair(&mut self, name: &str, value: &str) {
        let separator = AuthorizationUrl::separator(&self.0);
        let mut url = std::mem::take(&mut self.0).into_bytes();
        if let Some(c) = separator {
            url.push(c);
        }
        crate::parse::form::encode_into(&mut url, name);
        url.push(b'=');
        crate::parse::form::encode_into(&mut url, value);
        *self = AuthorizationUrl::from_ascii(url);
    }

    /// The URL as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The URL as text, owned.
    pub fn into_string(self) -> String {
        self.0
    }

    /// The URL parsed, for callers that want a [`Url`].
    ///
    /// # Panics
    ///
    /// Never: the text is an endpoint `Url` serialized, followed by form-encoded pairs
    /// (ASCII letters, digits, `*-._+%=&`), which is always a valid URL; the property
    /// tests parse every URL the flows build and compare.
    pub fn to_url(&self) -> Url {
        Url::parse(&self.0).expect("an endpoint URL followed by form-encoded pairs is a valid URL")
    }

    /// The decoded query parameters, in order.
    pub fn query_pairs(&self) -> url::form_urlencoded::Parse<'_> {
        let query = self.0.split_once('?').map_or("", |(_, q)| q);
        url::form_urlencoded::parse(query.as_bytes())
    }

    /// The value of the first query parameter called `name`, decoded.
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

impl fmt::Display for AuthorizationUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AuthorizationUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuthorizationUrl({})", redact::url(&self.0))
    }
}

impl AsRef<str> for AuthorizationUrl {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for AuthorizationUrl {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for AuthorizationUrl {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl PartialEq<Url> for AuthorizationUrl {
    fn eq(&self, other: &Url) -> bool {
        self.0 == other.as_str()
    }
}

impl From<AuthorizationUrl> for String {
    fn from(url: AuthorizationUrl) -> String {
        url.0
    }
}

/// What a flow asks its driver to do next.
///
/// Not `#[non_exhaustive]` on purpose: a new action must break a driver's loop at
/// compile time rather than fall into a wildcard arm.
#[must_use]
pub enum Output<T> {
    /// Send this request and feed back [`Input::Response`] or [`Input::TransportFailed`].
    Send(HttpRequest),
    /// Direct the user to this URL (open the system browser, print it, …).
    Visit(AuthorizationUrl),
    /// Wait for the redirect to arrive, then feed [`Input::Callback`]. When the deadline
    /// passes first, feed [`Input::Tick`] and the flow ends with
    /// [`Error::FlowExpired`].
    AwaitCallback {
        /// When the pending authorization expires.
        deadline: UnixTime,
    },
    /// A request is outstanding: feed its response or its transport failure.
    AwaitResponse,
    /// Show the user this code and where to enter it (device authorization, RFC 8628
    /// §3.3), then carry on polling the flow. Edge-triggered.
    ShowUserCode(crate::parse::UserCode),
    /// Nothing to do before this time; then feed [`Input::Tick`].
    WaitUntil(UnixTime),
    /// The flow is finished.
    Done(Result<T, Error>),
}

impl<T> Output<T> {
    /// The same action for a flow with another outcome — what a composite flow passes on
    /// from the flow it runs — or, once the flow is done, its result.
    pub(crate) fn unless_done<U>(self) -> Result<Output<U>, Result<T, Error>> {
        Ok(match self {
            Output::Send(r) => Output::Send(r),
            Output::Visit(u) => Output::Visit(u),
            Output::AwaitCallback { deadline } => Output::AwaitCallback { deadline },
            Output::AwaitResponse => Output::AwaitResponse,
            Output::ShowUserCode(c) => Output::ShowUserCode(c),
            Output::WaitUntil(t) => Output::WaitUntil(t),
            Output::Done(result) => return Err(result),
        })
    }
}

impl<T: fmt::Debug> fmt::Debug for Output<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Output::Send(r) => write!(f, "Send({r:?})"),
            Output::Visit(u) => write!(f, "Visit({})", redact::url(u)),
            Output::AwaitCallback { deadline } => {
                write!(f, "AwaitCallback {{ deadline: {deadline:?} }}")
            }
            Output::AwaitResponse => f.write_str("AwaitResponse"),
            Output::ShowUserCode(c) => write!(f, "ShowUserCode({c:?})"),
            Output::WaitUntil(t) => write!(f, "WaitUntil({t:?})"),
            Output::Done(r) => write!(f, "Done({r:?})"),
        }
    }
}

/// A protocol flow: a state machine driven by [`Flow::handle`] and observed with
/// [`Flow::poll`].
///
/// The call contract, for every flow:
///
/// 1. Create the flow (each has its own `start`).
/// 2. Call [`poll`](Flow::poll) and carry out the [`Output`] it returns.
/// 3. Feed what happened with [`handle`](Flow::handle), passing the current time.
/// 4. Repeat from 2 until `poll` returns [`Output::Done`].
///
/// Neither method panics. An input that does not fit the state ends the flow with
/// [`Error::UnexpectedInput`]; a finished flow ignores further input and keeps
/// returning the same `Done`.
pub trait Flow {
    /// What the flow produces when it succeeds.
    type Outcome;

    /// Feeds one input, observed at `now`.
    fn handle(&mut self, input: Input, now: UnixTime);

    /// The next thing the driver must do.
    fn poll(&mut self) -> Output<Self::Outcome>;

    /// Whether `input` belongs to this flow in its current state, without changing it.
    /// A loopback listener serving several logins uses this to route each callback to
    /// the flow whose `state` it carries (compared in constant time), and to ignore
    /// forged callbacks instead of letting them end a login.
    fn accepts(&self, input: &Input) -> bool;
}
