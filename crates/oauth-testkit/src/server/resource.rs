//! The fake server's zero-configuration side: protected-resource metadata (RFC 9728),
//! dynamic client registration (RFC 7591), resource indicators (RFC 8707), and the
//! loopback redirect rule of RFC 8252 §7.3 that registered native clients rely on.
//!
//! The protected resource announces its metadata in every 401
//! (`WWW-Authenticate: Bearer resource_metadata="…"`) and serves it at its RFC 9728
//! well-known URL. Switches make it lie about its identifier, name another
//! authorization server, or redirect the metadata request elsewhere; the registration
//! endpoint can be switched off or made to forget the `client_id`.

use super::{AuthMethod, FakeAuthorizationServer, RegisteredClient, plain};
use http::header::LOCATION;
use http::{HeaderValue, Method, StatusCode};
use oauth_core::parse::resource_metadata_url;
use oauth_core::{HttpResponse, UnixTime};
use url::Url;

/// How the registration endpoint behaves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RegistrationMode {
    /// Registers well-formed native clients (the default).
    #[default]
    Open,
    /// No registration endpoint (not in the metadata; the path answers 404).
    Off,
    /// Registers the client but leaves `client_id` out of the response.
    OmitsClientId,
}

/// State and switches of this file.
#[derive(Debug)]
pub(crate) struct ResourceSide {
    /// Whether 401s carry `resource_metadata`.
    pub(crate) announce: bool,
    /// The `resource` the metadata claims instead of the true identifier.
    pub(crate) claimed_identifier: Option<String>,
    /// The authorization servers the metadata names instead of this server.
    pub(crate) authorization_servers: Option<Vec<String>>,
    /// Answer the metadata request with a redirect to this URL.
    pub(crate) metadata_redirect: Option<String>,
    /// `scopes_supported` of the metadata.
    pub(crate) scopes: Vec<String>,
    pub(crate) registration: RegistrationMode,
    pub(crate) registered: usize,
    pub(crate) metadata_requests: usize,
}

impl Default for ResourceSide {
    fn default() -> Self {
        ResourceSide {
            announce: true,
            claimed_identifier: None,
            authorization_servers: None,
            metadata_redirect: None,
            scopes: vec!["read".into(), "write".into()],
            registration: RegistrationMode::Open,
            registered: 0,
            metadata_requests: 0,
        }
    }
}

/// RFC 8252 §7.3: a loopback redirect URI registered without a port matches the same
/// URI on any port; everything else is compared exactly (RFC 9700 §4.1.3).
pub(crate) fn redirect_matches(registered: &str, given: &str) -> bool {
    if registered == given {
        return true;
    }
    let (Ok(r), Ok(mut g)) = (Url::parse(registered), Url::parse(given)) else {
        return false;
    };
    let loopback = matches!(r.host_str(), Some("127.0.0.1" | "[::1]"));
    if r.scheme() != "http" || !loopback || r.port().is_some() {
        return false;
    }
    if g.set_port(None).is_err() {
        return false;
    }
    g.as_str() == r.as_str()
}

impl FakeAuthorizationServer {
    /// The protected resource's identifier (RFC 9728 §1.2): its base URL without the
    /// terminating `/`, e.g. `https://api.example`.
    pub fn resource_identifier(&self) -> String {
        self.resource_base.trim_end_matches('/').to_owned()
    }

    /// The RFC 9728 well-known URL of the resource's metadata.
    pub fn resource_metadata_url(&self) -> String {
        resource_metadata_url(&self.resource_identifier())
            .map(String::from)
            .unwrap_or_default()
    }

    /// The registration endpoint URL.
    pub fn registration_endpoint(&self) -> String {
        format!("{}/register", self.issuer.trim_end_matches('/'))
    }

    /// Whether the resource's 401s carry `resource_metadata` (default on).
    pub fn set_announce_resource_metadata(&mut self, on: bool) -> &mut Self {
        self.rs.announce = on;
        self
    }

    /// Make the resource metadata claim `resource` as the identifier (a lying or
    /// misconfigured resource).
    pub fn set_claimed_resource_identifier(&mut self, resource: Option<&str>) -> &mut Self {
        self.rs.claimed_identifier = resource.map(str::to_owned);
        self
    }

    /// Make the resource metadata name these authorization servers instead of this one.
    pub fn set_resource_authorization_servers(&mut self, issuers: Option<&[&str]>) -> &mut Self {
        self.rs.authorization_servers =
            issuers.map(|i| i.iter().map(|s| (*s).to_owned()).collect());
        self
    }

    /// Answer the resource-metadata request with a `302` to `location`.
    pub fn set_resource_metadata_redirect(&mut self, location: Option<&str>) -> &mut Self {
        self.rs.metadata_redirect = location.map(str::to_owned);
        self
    }

    /// The `scopes_supported` the resource metadata lists (default `read write`).
    pub fn set_resource_scopes(&mut self, scopes: &[&str]) -> &mut Self {
        self.rs.scopes = scopes.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    /// How the registration endpoint behaves (default [`RegistrationMode::Open`]).
    pub fn set_registration(&mut self, mode: RegistrationMode) -> &mut Self {
        self.rs.registration = mode;
        self
    }

    /// How many clients registered themselves.
    pub fn registered_clients(&self) -> usize {
        self.rs.registered
    }

    /// How many times the resource metadata was requested.
    pub fn resource_metadata_requests(&self) -> usize {
        self.rs.metadata_requests
    }

    /// The registration endpoint, when it is on (for the server metadata).
    pub(super) fn advertised_registration_endpoint(&self) -> Option<String> {
        (self.rs.registration != RegistrationMode::Off).then(|| self.registration_endpoint())
    }

    /// The value of the resource's `WWW-Authenticate` parameter, if announced.
    pub(super) fn resource_metadata_param(&self) -> Option<String> {
        self.rs
            .announce
            .then(|| format!(", resource_metadata=\"{}\"", self.resource_metadata_url()))
    }

    /// Routes the resource's well-known URL.
    pub(super) fn resource_metadata_route(&mut self, uri: &str) -> Option<HttpResponse> {
        if uri != self.resource_metadata_url() {
            return None;
        }
        self.rs.metadata_requests += 1;
        if let Some(location) = &self.rs.metadata_redirect {
            let mut r = plain(StatusCode::FOUND, "text/plain", b"moved".to_vec());
            if let Ok(v) = HeaderValue::try_from(location.as_str()) {
                r.headers_mut().insert(LOCATION, v);
            }
            return Some(r);
        }
        let doc = serde_json::json!({
            "resource": self
                .rs
                .claimed_identifier
                .clone()
                .unwrap_or_else(|| self.resource_identifier()),
            "authorization_servers": self
                .rs
                .authorization_servers
                .clone()
                .unwrap_or_else(|| vec![self.issuer.clone()]),
            "scopes_supported": self.rs.scopes,
            "bearer_methods_supported": ["header"],
            "resource_name": "Fake API",
        });
        Some(plain(
            StatusCode::OK,
            "application/json",
            doc.to_string().into_bytes(),
        ))
    }

    /// RFC 8707 §2: the only resource this server issues tokens for is its own (the
    /// token endpoint joins repeated `resource` parameters with spaces). `Some` is the
    /// `invalid_target` response.
    pub(super) fn target_error(&self, resource: Option<&String>) -> Option<HttpResponse> {
        let identifier = self.resource_identifier();
        resource
            .is_some_and(|r| r.split(' ').any(|one| one != identifier))
            .then(|| {
                self.error(
                    StatusCode::BAD_REQUEST,
                    "invalid_target",
                    "unknown resource",
                    false,
                )
            })
    }

    /// RFC 7591 §3: registers a client from its JSON metadata.
    pub(super) fn register_client(
        &mut self,
        request: &http::Request<Vec<u8>>,
        now: UnixTime,
    ) -> HttpResponse {
        let _ = now;
        if self.rs.registration == RegistrationMode::Off {
            return plain(StatusCode::NOT_FOUND, "text/plain", b"not found".to_vec());
        }
        let refuse =
            |s: &Self, code: &str, why: &str| s.error(StatusCode::BAD_REQUEST, code, why, false);
        if request.method() != Method::POST {
            return refuse(self, "invalid_request", "use POST");
        }
        let Ok(serde_json::Value::Object(m)) =
            serde_json::from_slice::<serde_json::Value>(request.body())
        else {
            return refuse(self, "invalid_client_metadata", "a JSON object is required");
        };
        let redirect_uris: Vec<String> = match m.get("redirect_uris") {
            Some(serde_json::Value::Array(a)) if !a.is_empty() => {
                match a.iter().map(|v| v.as_str().map(str::to_owned)).collect() {
                    Some(v) => v,
                    None => return refuse(self, "invalid_redirect_uri", "strings required"),
                }
            }
            _ => return refuse(self, "invalid_redirect_uri", "redirect_uris required"),
        };
        // RFC 8252 §8.4 / RFC 9700 §2.1: https, or http on loopback for native apps.
        for r in &redirect_uris {
            let ok = Url::parse(r).is_ok_and(|u| {
                u.fragment().is_none()
                    && (u.scheme() == "https"
                        || (u.scheme() == "http"
                            && matches!(u.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"))))
            });
            if !ok {
                return refuse(self, "invalid_redirect_uri", "unacceptable redirect URI");
            }
        }
        let method = m
            .get("token_endpoint_auth_method")
            .and_then(|v| v.as_str())
            .unwrap_or("client_secret_basic");
        let auth_method = match method {
            "none" => AuthMethod::None,
            "client_secret_basic" => AuthMethod::Basic,
            "client_secret_post" => AuthMethod::Post,
            _ => return refuse(self, "invalid_client_metadata", "unsupported auth method"),
        };
        let client_id = self.rng.token("dyn_", 16);
        let secret = (auth_method != AuthMethod::None).then(|| self.rng.token("dcs_", 24));
        self.register(RegisteredClient {
            client_id: client_id.clone(),
            secret: secret.clone(),
            auth_method,
            redirect_uris: redirect_uris.clone(),
        });
        self.rs.registered += 1;
        let mut doc = serde_json::json!({
            "client_id_issued_at": now.as_secs(),
            "redirect_uris": redirect_uris,
            "token_endpoint_auth_method": method,
            "grant_types": m.get("grant_types").cloned().unwrap_or_else(|| serde_json::json!(["authorization_code"])),
            "registration_access_token": self.rng.token("rat_", 24),
            "registration_client_uri": format!("{}/{client_id}", self.registration_endpoint()),
        });
        if self.rs.registration != RegistrationMode::OmitsClientId {
            doc["client_id"] = client_id.into();
        }
        if let Some(s) = secret {
            doc["client_secret"] = s.into();
            doc["client_secret_expires_at"] = 0.into();
        }
        if let Some(name) = m.get("client_name") {
            doc["client_name"] = name.clone();
        }
        plain(
            StatusCode::CREATED,
            "application/json",
            doc.to_string().into_bytes(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::redirect_matches;

    #[test]
    fn rfc8252_loopback_redirects_match_any_port_only_when_registered_without_one() {
        assert!(redirect_matches(
            "http://127.0.0.1/callback",
            "http://127.0.0.1:53124/callback"
        ));
        assert!(redirect_matches("http://[::1]/cb", "http://[::1]:9/cb"));
        assert!(!redirect_matches(
            "http://127.0.0.1:1000/callback",
            "http://127.0.0.1:53124/callback"
        ));
        assert!(!redirect_matches(
            "http://127.0.0.1/callback",
            "http://127.0.0.1:53124/other"
        ));
        assert!(!redirect_matches(
            "https://app.example/cb",
            "https://app.example:8443/cb"
        ));
        assert!(!redirect_matches(
            "http://localhost/cb",
            "http://localhost:8080/cb"
        ));
        assert!(!redirect_matches(
            "http://127.0.0.1/callback",
            "http://127.0.0.1:53124/callback?x=1"
        ));
    }
}
