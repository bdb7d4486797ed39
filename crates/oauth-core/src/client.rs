//! The client registration: who we are and where the server's endpoints are.

use crate::error::ConfigError;
use crate::parse::{Limits, ParseOptions, Quirks};
use crate::secret::ClientSecret;
use std::fmt;
use std::sync::Arc;
use url::{Host, Url};

/// How the client authenticates at the token endpoint (RFC 6749 §2.3). Exactly one
/// method is used per request; it is configured, never guessed by probing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientAuth {
    /// A public client: `client_id` in the body, no secret (`none`).
    None,
    /// HTTP Basic with the id and secret each form-urlencoded first, as RFC 6749 §2.3.1
    /// requires (`client_secret_basic`).
    ClientSecretBasic(ClientSecret),
    /// `client_id` and `client_secret` in the form body (`client_secret_post`).
    ClientSecretPost(ClientSecret),
}

impl ClientAuth {
    /// The RFC 8414 / RFC 7591 name of the method.
    pub fn method_name(&self) -> &'static str {
        match self {
            ClientAuth::None => "none",
            ClientAuth::ClientSecretBasic(_) => "client_secret_basic",
            ClientAuth::ClientSecretPost(_) => "client_secret_post",
        }
    }
}

/// Parameters the authorization-code flow sets itself; an endpoint query or a caller's
/// extra parameter may not carry them (RFC 6749 §3.1: no parameter twice).
pub(crate) const AUTHORIZATION_PARAMETERS: &[&str] = &[
    "resource",
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
];

/// A registered client and the server it is registered with. Cheap to clone (the data
/// is shared), validated once by [`ClientRegistrationBuilder::build`].
///
/// ```
/// use oauth_core::{ClientAuth, ClientRegistration, ClientSecret};
///
/// let client = ClientRegistration::builder("s6BhdRkqt3")
///     .auth(ClientAuth::ClientSecretBasic(ClientSecret::new("7Fjfp0ZBr1KtDRbnfVdmIw")))
///     .authorization_endpoint("https://server.example.com/authorize")
///     .token_endpoint("https://server.example.com/token")
///     .redirect_uri("https://client.example.com/cb")
///     .issuer("https://server.example.com")
///     .build()?;
/// assert_eq!(client.client_id(), "s6BhdRkqt3");
/// # Ok::<(), oauth_core::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct ClientRegistration {
    inner: Arc<Inner>,
}

struct Inner {
    client_id: String,
    auth: ClientAuth,
    redirect_uri: Option<Url>,
    authorization_endpoint: Option<Url>,
    /// The authorization endpoint with the parameters every authorization URL of this
    /// client starts with (`response_type`, `client_id`, `redirect_uri`), encoded once.
    authorization_base: Option<Url>,
    token_endpoint: Endpoint,
    revocation_endpoint: Option<Endpoint>,
    introspection_endpoint: Option<Endpoint>,
    device_authorization_endpoint: Option<Endpoint>,
    par_endpoint: Option<Endpoint>,
    require_par: bool,
    resources: Vec<String>,
    /// `resources`, parsed (once, here, rather than on every API call).
    resource_urls: Vec<Url>,
    issuer: Option<String>,
    require_issuer: bool,
    options: ParseOptions,
    authorization_ttl: u64,
    /// The headers of every form `POST` to the server (`Content-Type`, `Accept`, and
    /// with `client_secret_basic` the `Authorization` value, marked sensitive), made
    /// once: each request clones them.
    form_headers: http::HeaderMap,
}

impl ClientRegistration {
    /// Starts a registration for `client_id`.
    pub fn builder(client_id: impl Into<String>) -> ClientRegistrationBuilder {
        ClientRegistrationBuilder {
            client_id: client_id.into(),
            auth: ClientAuth::None,
            redirect_uri: None,
            authorization_endpoint: None,
            token_endpoint: None,
            revocation_endpoint: None,
            introspection_endpoint: None,
            device_authorization_endpoint: None,
            par_endpoint: None,
            require_par: false,
            resources: Vec::new(),
            issuer: None,
            require_issuer: false,
            quirks: Quirks::default(),
            limits: Limits::default(),
            authorization_ttl: ClientRegistrationBuilder::DEFAULT_AUTHORIZATION_TTL,
            allow_insecure_http: false,
        }
    }

    /// The headers every form `POST` of this client carries.
    pub(crate) fn form_headers(&self) -> &http::HeaderMap {
        &self.inner.form_headers
    }

    /// The client identifier.
    pub fn client_id(&self) -> &str {
        &self.inner.client_id
    }

    /// The client authentication method (and secret).
    pub fn auth(&self) -> &ClientAuth {
        &self.inner.auth
    }

    /// The redirect URI, if configured.
    pub fn redirect_uri(&self) -> Option<&Url> {
        self.inner.redirect_uri.as_ref()
    }

    /// The authorization endpoint, if configured.
    pub fn authorization_endpoint(&self) -> Option<&Url> {
        self.inner.authorization_endpoint.as_ref()
    }

    /// The authorization endpoint with `response_type=code`, `client_id` and
    /// `redirect_uri` appended to its query, when both are configured.
    pub(crate) fn authorization_base(&self) -> Option<&Url> {
        self.inner.authorization_base.as_ref()
    }

    /// The token endpoint.
    pub fn token_endpoint(&self) -> &Url {
        &self.inner.token_endpoint.url
    }

    pub(crate) fn token(&self) -> &Endpoint {
        &self.inner.token_endpoint
    }

    /// The revocation endpoint (RFC 7009), if configured.
    pub fn revocation_endpoint(&self) -> Option<&Url> {
        self.inner.revocation_endpoint.as_ref().map(|e| &e.url)
    }

    pub(crate) fn revocation(&self) -> Option<&Endpoint> {
        self.inner.revocation_endpoint.as_ref()
    }

    /// The introspection endpoint (RFC 7662), if configured.
    pub fn introspection_endpoint(&self) -> Option<&Url> {
        self.inner.introspection_endpoint.as_ref().map(|e| &e.url)
    }

    pub(crate) fn introspection(&self) -> Option<&Endpoint> {
        self.inner.introspection_endpoint.as_ref()
    }

    /// The device authorization endpoint (RFC 8628), if configured.
    pub fn device_authorization_endpoint(&self) -> Option<&Url> {
        self.inner
            .device_authorization_endpoint
            .as_ref()
            .map(|e| &e.url)
    }

    pub(crate) fn device_authorization(&self) -> Option<&Endpoint> {
        self.inner.device_authorization_endpoint.as_ref()
    }

    /// The pushed authorization request endpoint (RFC 9126), if configured.
    pub fn par_endpoint(&self) -> Option<&Url> {
        self.inner.par_endpoint.as_ref().map(|e| &e.url)
    }

    pub(crate) fn par(&self) -> Option<&Endpoint> {
        self.inner.par_endpoint.as_ref()
    }

    /// The RFC 8707 resource indicators sent with this client's requests.
    pub fn resources(&self) -> &[String] {
        &self.inner.resources
    }

    /// The resource indicators as parsed URLs, in the same order.
    pub(crate) fn resource_urls(&self) -> &[Url] {
        &self.inner.resource_urls
    }

    /// Whether authorization requests must be pushed first (RFC 9126 §5:
    /// `require_pushed_authorization_requests`).
    pub fn requires_par(&self) -> bool {
        self.inner.require_par
    }

    /// The issuer identifier, exactly as configured (compared byte for byte).
    pub fn issuer(&self) -> Option<&str> {
        self.inner.issuer.as_deref()
    }

    /// Whether callbacks must carry `iss` (RFC 9207).
    pub fn requires_issuer_parameter(&self) -> bool {
        self.inner.require_issuer
    }

    /// Quirks and limits used to read this server's responses.
    pub fn parse_options(&self) -> &ParseOptions {
        &self.inner.options
    }

    /// How long an authorization request waits for its callback, in seconds.
    pub fn authorization_ttl(&self) -> u64 {
        self.inner.authorization_ttl
    }
}

impl fmt::Debug for ClientRegistration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("ClientRegistration")
            .field("client_id", &i.client_id)
            .field("auth", &i.auth)
            .field("redirect_uri", &i.redirect_uri.as_ref().map(Url::as_str))
            .field(
                "authorization_endpoint",
                &i.authorization_endpoint.as_ref().map(Url::as_str),
            )
            .field("token_endpoint", &i.token_endpoint.url.as_str())
            .field(
                "revocation_endpoint",
                &i.revocation_endpoint.as_ref().map(|e| e.url.as_str()),
            )
            .field(
                "introspection_endpoint",
                &i.introspection_endpoint.as_ref().map(|e| e.url.as_str()),
            )
            .field(
                "device_authorization_endpoint",
                &i.device_authorization_endpoint
                    .as_ref()
                    .map(|e| e.url.as_str()),
            )
            .field(
                "par_endpoint",
                &i.par_endpoint.as_ref().map(|e| e.url.as_str()),
            )
            .field("require_par", &i.require_par)
            .field("resources", &i.resources)
            .field("issuer", &i.issuer)
            .field("require_issuer", &i.require_issuer)
            .field("options", &i.options)
            .field("authorization_ttl", &i.authorization_ttl)
            .finish()
    }
}

/// Builds a [`ClientRegistration`]; every check happens in [`build`](Self::build).
#[derive(Debug)]
#[must_use]
pub struct ClientRegistrationBuilder {
    client_id: String,
    auth: ClientAuth,
    redirect_uri: Option<String>,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    revocation_endpoint: Option<String>,
    introspection_endpoint: Option<String>,
    device_authorization_endpoint: Option<String>,
    par_endpoint: Option<String>,
    require_par: bool,
    resources: Vec<String>,
    issuer: Option<String>,
    require_issuer: bool,
    quirks: Quirks,
    limits: Limits,
    authorization_ttl: u64,
    allow_insecure_http: bool,
}

impl ClientRegistrationBuilder {
    /// Ten minutes: RFC 6749 §4.1.2 recommends it as the longest code lifetime.
    pub const DEFAULT_AUTHORIZATION_TTL: u64 = 600;

    /// The client authentication method. Default: [`ClientAuth::None`] (public client).
    pub fn auth(mut self, auth: ClientAuth) -> Self {
        self.auth = auth;
        self
    }

    /// The redirect URI: `https`, `http` on a loopback host (RFC 8252 §7.3), or a
    /// private-use scheme that is a reversed domain name (RFC 8252 §7.1).
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// The authorization endpoint. Its query, if any, is kept in authorization URLs.
    pub fn authorization_endpoint(mut self, uri: impl Into<String>) -> Self {
        self.authorization_endpoint = Some(uri.into());
        self
    }

    /// The token endpoint (required).
    pub fn token_endpoint(mut self, uri: impl Into<String>) -> Self {
        self.token_endpoint = Some(uri.into());
        self
    }

    /// The revocation endpoint (RFC 7009).
    pub fn revocation_endpoint(mut self, uri: impl Into<String>) -> Self {
        self.revocation_endpoint = Some(uri.into());
        self
    }

    /// The introspection endpoint (RFC 7662).
    pub fn introspection_endpoint(mut self, uri: impl Into<String>) -> Self {
        self.introspection_endpoint = Some(uri.into());
        self
    }

    /// The device authorization endpoint (RFC 8628).
    pub fn device_authorization_endpoint(mut self, uri: impl Into<String>) -> Self {
        self.device_authorization_endpoint = Some(uri.into());
        self
    }

    /// The pushed authorization request endpoint (RFC 9126). When set, the
    /// authorization-code flow pushes its parameters there first.
    pub fn par_endpoint(mut self, uri: impl Into<String>) -> Self {
        self.par_endpoint = Some(uri.into());
        self
    }

    /// The server requires pushed authorization requests (RFC 9126 §5); needs a PAR
    /// endpoint.
    pub fn require_par(mut self, required: bool) -> Self {
        self.require_par = required;
        self
    }

    /// An RFC 8707 resource indicator sent with every authorization, token and refresh
    /// request of this client (repeatable): the protected resource the tokens are for.
    /// An absolute URI without fragment.
    pub fn resource(mut self, uri: impl Into<String>) -> Self {
        self.resources.push(uri.into());
        self
    }

    /// The issuer identifier, for RFC 9207 `iss` checks. Kept exactly as given.
    pub fn issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Require `iss` on every callback (the server advertises
    /// `authorization_response_iss_parameter_supported`). Needs an issuer.
    pub fn require_issuer_parameter(mut self, required: bool) -> Self {
        self.require_issuer = required;
        self
    }

    /// Provider quirks tolerated when reading responses.
    pub fn quirks(mut self, quirks: Quirks) -> Self {
        self.quirks = quirks;
        self
    }

    /// Size limits for responses.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// How long an authorization request waits for its callback, in seconds.
    pub fn authorization_ttl(mut self, secs: u64) -> Self {
        self.authorization_ttl = secs;
        self
    }

    /// Accept plain-`http` endpoints and redirect URIs on non-loopback hosts.
    /// **For tests only**: tokens and secrets would travel in clear text.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// Validates everything and builds the registration.
    pub fn build(self) -> Result<ClientRegistration, ConfigError> {
        if self.client_id.is_empty() {
            return Err(ConfigError::EmptyClientId);
        }
        let insecure = self.allow_insecure_http;
        let token_endpoint = match &self.token_endpoint {
            Some(s) => Endpoint::new("token_endpoint", s, insecure)?,
            None => {
                return Err(ConfigError::Missing {
                    field: "token_endpoint",
                });
            }
        };
        let optional = |field: &'static str, value: &Option<String>| {
            value
                .as_deref()
                .map(|s| Endpoint::new(field, s, insecure))
                .transpose()
        };
        let revocation_endpoint = optional("revocation_endpoint", &self.revocation_endpoint)?;
        let introspection_endpoint =
            optional("introspection_endpoint", &self.introspection_endpoint)?;
        let device_authorization_endpoint = optional(
            "device_authorization_endpoint",
            &self.device_authorization_endpoint,
        )?;
        let par_endpoint = optional("par_endpoint", &self.par_endpoint)?;
        // RFC 8707 §2: "an absolute URI ... MUST NOT include a fragment component".
        let mut resource_urls = Vec::with_capacity(self.resources.len());
        for r in &self.resources {
            match Url::parse(r) {
                Ok(u) if u.fragment().is_none() && !u.cannot_be_a_base() => resource_urls.push(u),
                _ => return Err(ConfigError::InvalidUrl { field: "resource" }),
            }
        }
        if self.require_par && par_endpoint.is_none() {
            return Err(ConfigError::Missing {
                field: "par_endpoint",
            });
        }
        let authorization_endpoint = match &self.authorization_endpoint {
            Some(s) => {
                let url = endpoint("authorization_endpoint", s, insecure)?;
                // RFC 6749 §3.1: keep the endpoint's query, but never send a parameter twice.
                for (k, _) in url.query_pairs() {
                    if AUTHORIZATION_PARAMETERS.contains(&k.as_ref()) {
                        return Err(ConfigError::ConflictingParameter {
                            name: k.into_owned(),
                        });
                    }
                }
                Some(url)
            }
            None => None,
        };
        let redirect_uri = match &self.redirect_uri {
            Some(s) => Some(redirect_uri(s, insecure)?),
            None => None,
        };
        let issuer = match self.issuer {
            Some(s) => {
                check_issuer(&s, insecure)?;
                Some(s)
            }
            None => None,
        };
        if self.require_issuer && issuer.is_none() {
            return Err(ConfigError::IssuerRequired);
        }
        // RFC 6749 §3.1: the endpoint's query "MUST be retained when adding additional
        // query parameters"; parameters are form-encoded (Appendix B).
        let authorization_base = match (&authorization_endpoint, &redirect_uri) {
            (Some(endpoint), Some(redirect_uri)) => {
                let mut url: Url = endpoint.clone();
                url.query_pairs_mut()
                    .append_pair("response_type", "code")
                    .append_pair("client_id", &self.client_id)
                    .append_pair("redirect_uri", redirect_uri.as_str());
                Some(url)
            }
            _ => None,
        };
        let form_headers = crate::request::form_headers(&self.client_id, &self.auth);
        Ok(ClientRegistration {
            inner: Arc::new(Inner {
                client_id: self.client_id,
                auth: self.auth,
                redirect_uri,
                authorization_endpoint,
                authorization_base,
                token_endpoint,
                revocation_endpoint,
                introspection_endpoint,
                device_authorization_endpoint,
                par_endpoint,
                require_par: self.require_par,
                resources: self.resources,
                resource_urls,
                issuer,
                require_issuer: self.require_issuer,
                options: ParseOptions {
                    quirks: self.quirks,
                    limits: self.limits,
                },
                authorization_ttl: self.authorization_ttl,
                form_headers,
            }),
        })
    }
}

/// A validated back-channel endpoint: the URL and the same as an `http::Uri`, ready for
/// requests.
#[derive(Clone, Debug)]
pub(crate) struct Endpoint {
    pub(crate) url: Url,
    pub(crate) uri: http::Uri,
}

impl Endpoint {
    pub(crate) fn new(
        field: &'static str,
        s: &str,
        allow_insecure: bool,
    ) -> Result<Self, ConfigError> {
        let url = endpoint(field, s, allow_insecure)?;
        let uri =
            http::Uri::try_from(url.as_str()).map_err(|_| ConfigError::InvalidUrl { field })?;
        Ok(Endpoint { url, uri })
    }
}

/// Whether `host` (as in a URL or `http::Uri`, IPv6 possibly bracketed) is a loopback
/// host: `localhost`, `127.0.0.0/8` or `::1`.
pub fn is_loopback_host(host: &str) -> bool {
    match Host::parse(host) {
        Ok(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Ok(Host::Ipv4(a)) => a.is_loopback(),
        Ok(Host::Ipv6(a)) => a.is_loopback(),
        Err(_) => false,
    }
}

fn url_is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(a)) => a.is_loopback(),
        Some(Host::Ipv6(a)) => a.is_loopback(),
        None => false,
    }
}

/// An authorization-server endpoint: absolute, no fragment, `https` unless loopback
/// (RFC 6749 §3.1, §3.2, §10.9; TOK-08).
fn endpoint(field: &'static str, s: &str, allow_insecure: bool) -> Result<Url, ConfigError> {
    let url = Url::parse(s).map_err(|_| ConfigError::InvalidUrl { field })?;
    if url.cannot_be_a_base() || url.host().is_none() {
        return Err(ConfigError::InvalidUrl { field });
    }
    if url.fragment().is_some() {
        return Err(ConfigError::HasFragment { field });
    }
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure || url_is_loopback(&url) => {}
        _ => return Err(ConfigError::InsecureEndpoint { field }),
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Credentials in a URL would be sent in every request line and logged.
        return Err(ConfigError::InvalidUrl { field });
    }
    Ok(url)
}

/// RFC 6749 §3.1.2: absolute, no fragment; RFC 9700 §2.6 / RFC 8252 §7.3: plain http
/// only on loopback; RFC 8252 §7.1: private-use schemes are reversed domain names.
pub(crate) fn redirect_uri(s: &str, allow_insecure: bool) -> Result<Url, ConfigError> {
    let url = Url::parse(s).map_err(|_| ConfigError::InvalidRedirectUri {
        reason: "not an absolute URL",
    })?;
    if url.fragment().is_some() {
        return Err(ConfigError::HasFragment {
            field: "redirect_uri",
        });
    }
    match url.scheme() {
        "https" => {}
        "http" if allow_insecure || url_is_loopback(&url) => {}
        "http" => {
            return Err(ConfigError::InvalidRedirectUri {
                reason: "plain http is allowed only for loopback hosts",
            });
        }
        scheme if scheme.contains('.') => {}
        _ => {
            return Err(ConfigError::InvalidRedirectUri {
                reason: "a private-use scheme must be a reversed domain name (com.example.app)",
            });
        }
    }
    Ok(url)
}

/// RFC 8414 §2: "a case-sensitive URL that uses the https scheme and has no query or
/// fragment components".
fn check_issuer(s: &str, allow_insecure: bool) -> Result<(), ConfigError> {
    let url = Url::parse(s).map_err(|_| ConfigError::InvalidIssuer {
        reason: "not an absolute URL",
    })?;
    if url.query().is_some() || url.fragment().is_some() || s.contains(['?', '#']) {
        return Err(ConfigError::InvalidIssuer {
            reason: "it has a query or a fragment",
        });
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if allow_insecure || url_is_loopback(&url) => Ok(()),
        _ => Err(ConfigError::InvalidIssuer {
            reason: "it must use https",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> ClientRegistrationBuilder {
        ClientRegistration::builder("client")
            .authorization_endpoint("https://as.example/authorize")
            .token_endpoint("https://as.example/token")
            .redirect_uri("https://app.example/cb")
    }

    #[test]
    fn tok_08_endpoints_must_be_https_except_loopback() {
        assert_eq!(
            base()
                .token_endpoint("http://as.example/token")
                .build()
                .unwrap_err(),
            ConfigError::InsecureEndpoint {
                field: "token_endpoint"
            }
        );
        for ok in [
            "http://127.0.0.1:8080/token",
            "http://[::1]/t",
            "http://localhost/t",
        ] {
            assert!(base().token_endpoint(ok).build().is_ok(), "{ok}");
        }
        assert!(
            base()
                .token_endpoint("http://as.example/token")
                .allow_insecure_http(true)
                .build()
                .is_ok()
        );
        assert_eq!(
            base()
                .token_endpoint("ftp://as.example/token")
                .build()
                .unwrap_err(),
            ConfigError::InsecureEndpoint {
                field: "token_endpoint"
            }
        );
    }

    #[test]
    fn authz_03_fragment_in_endpoint_is_refused() {
        assert_eq!(
            base()
                .authorization_endpoint("https://as.example/a#x")
                .build()
                .unwrap_err(),
            ConfigError::HasFragment {
                field: "authorization_endpoint"
            }
        );
    }

    #[test]
    fn authz_04_endpoint_query_may_not_carry_our_parameters() {
        assert_eq!(
            base()
                .authorization_endpoint("https://as.example/a?client_id=x")
                .build()
                .unwrap_err(),
            ConfigError::ConflictingParameter {
                name: "client_id".into()
            }
        );
        assert!(
            base()
                .authorization_endpoint("https://as.example/a?tenant=a%20b")
                .build()
                .is_ok()
        );
    }

    #[test]
    fn authz_08_redirect_uri_rules() {
        assert!(matches!(
            base().redirect_uri("http://app.example/cb").build(),
            Err(ConfigError::InvalidRedirectUri { .. })
        ));
        assert_eq!(
            base().redirect_uri("https://x/cb#f").build().unwrap_err(),
            ConfigError::HasFragment {
                field: "redirect_uri"
            }
        );
        assert!(matches!(
            base().redirect_uri("/relative").build(),
            Err(ConfigError::InvalidRedirectUri { .. })
        ));
        assert!(
            base()
                .redirect_uri("http://127.0.0.1:4711/cb")
                .build()
                .is_ok()
        );
        assert!(base().redirect_uri("http://[::1]:4711/cb").build().is_ok());
    }

    #[test]
    fn loop_10_private_use_schemes_need_a_domain() {
        assert!(matches!(
            base().redirect_uri("myapp:/cb").build(),
            Err(ConfigError::InvalidRedirectUri { .. })
        ));
        assert!(matches!(
            base().redirect_uri("javascript:alert(1)").build(),
            Err(ConfigError::InvalidRedirectUri { .. })
        ));
        assert!(
            base()
                .redirect_uri("com.example.app:/oauth2redirect")
                .build()
                .is_ok()
        );
    }

    #[test]
    fn loop_11_http_redirect_on_lan_is_refused() {
        assert!(matches!(
            base().redirect_uri("http://192.168.1.2:8080/cb").build(),
            Err(ConfigError::InvalidRedirectUri { .. })
        ));
    }

    #[test]
    fn issuer_rules() {
        assert!(base().issuer("https://as.example").build().is_ok());
        assert!(base().issuer("https://as.example/tenant/").build().is_ok());
        assert!(matches!(
            base().issuer("https://as.example?x=1").build(),
            Err(ConfigError::InvalidIssuer { .. })
        ));
        assert!(matches!(
            base().issuer("http://as.example").build(),
            Err(ConfigError::InvalidIssuer { .. })
        ));
        assert_eq!(
            base().require_issuer_parameter(true).build().unwrap_err(),
            ConfigError::IssuerRequired
        );
        // Kept exactly as given: no trailing slash added.
        let c = base().issuer("https://as.example").build().unwrap();
        assert_eq!(c.issuer(), Some("https://as.example"));
    }

    #[test]
    fn required_fields() {
        assert_eq!(
            ClientRegistration::builder("")
                .token_endpoint("https://a/t")
                .build()
                .unwrap_err(),
            ConfigError::EmptyClientId
        );
        assert_eq!(
            ClientRegistration::builder("c").build().unwrap_err(),
            ConfigError::Missing {
                field: "token_endpoint"
            }
        );
        assert_eq!(
            base().token_endpoint("not a url").build().unwrap_err(),
            ConfigError::InvalidUrl {
                field: "token_endpoint"
            }
        );
    }

    #[test]
    fn debug_redacts_the_secret() {
        let c = base()
            .auth(ClientAuth::ClientSecretPost(ClientSecret::new("TOPSECRET")))
            .build()
            .unwrap();
        assert!(!format!("{c:?}").contains("TOPSECRET"));
    }
}
