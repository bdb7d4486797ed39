//! `oauth_core::HttpRequest` in, `oauth_core::HttpResponse` (or a typed transport
//! failure) out, over a `ureq::Agent`.
//!
//! Every request is sent with per-request settings that a caller's own agent cannot
//! weaken: non-2xx statuses come back as responses (the core reads OAuth error bodies),
//! redirects are never followed (a 3xx reaches the core, which refuses it), the body is
//! read up to a cap, and the timeouts configured here apply.

use oauth_core::{HttpRequest, HttpResponse, TransportErrorKind, TransportFailure};
use std::sync::Arc;
use std::time::Duration;

/// Settings for a [`Transport`].
#[derive(Clone, Debug)]
pub struct TransportConfig {
    /// Time to establish a connection (DNS, TCP, TLS). Default 10 s.
    pub connect_timeout: Option<Duration>,
    /// Time for one whole exchange: sending, waiting, reading the body. Default 30 s.
    pub call_timeout: Option<Duration>,
    /// The largest response body read, in bytes. Default: the core's 1 MiB limit plus
    /// one byte. A longer body ends the exchange as a `BodyTooLarge` transport failure
    /// (not retryable); the core applies its own limit to what is read.
    pub max_body_bytes: u64,
    /// The `User-Agent` header.
    pub user_agent: String,
}

impl Default for TransportConfig {
    fn default() -> Self {
        TransportConfig {
            connect_timeout: Some(Duration::from_secs(10)),
            call_timeout: Some(Duration::from_secs(30)),
            max_body_bytes: (oauth_core::parse::Limits::DEFAULT.max_body_bytes as u64) + 1,
            user_agent: concat!("oauth-ureq/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// Sees every exchange a [`Transport`] makes: the request as sent and what came back.
/// Requests and responses carry secrets; an observer that logs must render them with
/// `oauth_core::redact`.
pub type Observer =
    Arc<dyn Fn(&http::Request<Vec<u8>>, Result<&HttpResponse, &TransportFailure>) + Send + Sync>;

/// Sends the core's requests with ureq. Cheap to clone (the agent's pool is shared).
#[derive(Clone)]
pub struct Transport {
    agent: ureq::Agent,
    config: TransportConfig,
    observer: Option<Observer>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("config", &self.config)
            .field("observer", &self.observer.is_some())
            .finish_non_exhaustive()
    }
}

impl Default for Transport {
    fn default() -> Self {
        Transport::new(TransportConfig::default())
    }
}

impl Transport {
    /// A transport with its own agent (rustls, system proxy settings honoured, hosts
    /// that are IP addresses used without a lookup: [`IpLiteralResolver`]).
    pub fn new(config: TransportConfig) -> Self {
        let agent = ureq::Agent::with_parts(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .max_redirects_will_error(false)
                .build(),
            ureq::unversioned::transport::DefaultConnector::new(),
            IpLiteralResolver::default(),
        );
        Transport {
            agent,
            config,
            observer: None,
        }
    }

    /// A transport over the caller's agent (their TLS roots, proxy, pool). The settings
    /// that keep OAuth safe are still applied to every request.
    pub fn with_agent(agent: ureq::Agent, config: TransportConfig) -> Self {
        Transport {
            agent,
            config,
            observer: None,
        }
    }

    /// Calls `observer` after every exchange (for redacted request logs, recording).
    #[must_use]
    pub fn with_observer(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// The settings.
    pub fn config(&self) -> &TransportConfig {
        &self.config
    }

    /// Sends one request; any HTTP status is `Ok`.
    pub fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportFailure> {
        self.send_http(request.into_http())
    }

    /// Sends a plain `http::Request` with the same guarantees (used for API calls).
    pub fn send_http(
        &self,
        mut request: http::Request<Vec<u8>>,
    ) -> Result<HttpResponse, TransportFailure> {
        if !request.headers().contains_key(http::header::USER_AGENT)
            && let Ok(v) = http::HeaderValue::try_from(self.config.user_agent.as_str())
        {
            request.headers_mut().insert(http::header::USER_AGENT, v);
        }
        let copy = self.observer.as_ref().map(|_| copy_request(&request));
        let result = self.exchange(request);
        if let (Some(observe), Some(sent)) = (&self.observer, &copy) {
            observe(sent, result.as_ref());
        }
        result
    }

    fn exchange(&self, request: http::Request<Vec<u8>>) -> Result<HttpResponse, TransportFailure> {
        let request = self
            .agent
            .configure_request(request)
            .http_status_as_error(false)
            .max_redirects(0)
            .max_redirects_will_error(false)
            .timeout_connect(self.config.connect_timeout)
            .timeout_per_call(self.config.call_timeout)
            .build();
        let response = self.agent.run(request).map_err(failure)?;
        let (parts, mut body) = response.into_parts();
        let bytes = body
            .with_config()
            .limit(self.config.max_body_bytes)
            .read_to_vec()
            .map_err(failure)?;
        Ok(http::Response::from_parts(parts, bytes))
    }
}

/// ureq's default resolver, except that a host that is an IP address (`127.0.0.1`,
/// `[::1]`) is used as it is, without a lookup.
///
/// Whenever a timeout applies — and [`Transport`] always sets one — ureq's own resolver
/// looks every host up on a thread it starts for that request, IP addresses included.
/// For the loopback servers of native apps and tests, starting that thread costs more
/// than the request itself. Names are still resolved by ureq's resolver, with its
/// timeout. Pass it to `ureq::Agent::with_parts` for an agent of your own.
/// (It implements ureq's resolver interface, which ureq does not yet cover by semver.)
#[derive(Debug, Default)]
pub struct IpLiteralResolver {
    names: ureq::unversioned::resolver::DefaultResolver,
}

impl ureq::unversioned::resolver::Resolver for IpLiteralResolver {
    fn resolve(
        &self,
        uri: &http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ureq::unversioned::resolver::ResolvedSocketAddrs, ureq::Error> {
        if let Some(address) = ip_literal(uri)
            && config.ip_family() == ureq::config::IpFamily::Any
        {
            let mut addresses = self.empty();
            addresses.push(address);
            return Ok(addresses);
        }
        self.names.resolve(uri, config, timeout)
    }
}

/// The socket address of `uri` when its host is an IP address.
fn ip_literal(uri: &http::Uri) -> Option<std::net::SocketAddr> {
    let authority = uri.authority()?;
    let host = authority.host();
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let ip: std::net::IpAddr = host.parse().ok()?;
    let port = match (authority.port_u16(), uri.scheme_str()) {
        (Some(port), _) => port,
        (None, Some("http")) => 80,
        (None, Some("https")) => 443,
        _ => return None,
    };
    Some(std::net::SocketAddr::new(ip, port))
}

fn copy_request(request: &http::Request<Vec<u8>>) -> http::Request<Vec<u8>> {
    let mut copy = http::Request::new(request.body().clone());
    *copy.method_mut() = request.method().clone();
    *copy.uri_mut() = request.uri().clone();
    *copy.headers_mut() = request.headers().clone();
    copy
}

/// Maps a ureq error to the core's transport failure kinds. The message is ureq's own
/// description, which names hosts and causes but never request bodies or headers.
fn failure(e: ureq::Error) -> TransportFailure {
    use ureq::Error as E;
    let kind = match &e {
        E::Timeout(_) => TransportErrorKind::Timeout,
        E::HostNotFound => TransportErrorKind::Dns,
        E::ConnectionFailed => TransportErrorKind::Connect,
        E::Tls(_) | E::Rustls(_) | E::Pem(_) => TransportErrorKind::Tls,
        E::BodyExceedsLimit(_) => TransportErrorKind::BodyTooLarge,
        E::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::AddrNotAvailable => {
                TransportErrorKind::Connect
            }
            std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock => {
                TransportErrorKind::Timeout
            }
            std::io::ErrorKind::ConnectionReset
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::UnexpectedEof
            | std::io::ErrorKind::BrokenPipe => TransportErrorKind::ConnectionClosed,
            _ => TransportErrorKind::Other,
        },
        E::Protocol(_) => TransportErrorKind::ConnectionClosed,
        _ => TransportErrorKind::Other,
    };
    TransportFailure::new(kind, e.to_string())
}

#[cfg(test)]
mod tests {
    use super::ip_literal;

    #[test]
    fn ip_literals_are_used_as_they_are() {
        let at = |s: &str| ip_literal(&s.parse().unwrap()).map(|a| a.to_string());
        assert_eq!(at("http://127.0.0.1:8080/x"), Some("127.0.0.1:8080".into()));
        assert_eq!(at("http://[::1]/x"), Some("[::1]:80".into()));
        assert_eq!(at("https://10.0.0.1/"), Some("10.0.0.1:443".into()));
        assert_eq!(at("https://localhost/"), None);
        assert_eq!(at("https://as.example/token"), None);
    }
}
