//! The fake server's other endpoints: metadata (RFC 8414), revocation (RFC 7009),
//! introspection (RFC 7662), device authorization (RFC 8628), pushed authorization
//! requests (RFC 9126), and the client credentials grant (RFC 6749 §4.4).

use super::{AuthMethod, Decision, FakeAuthorizationServer, Grant, plain};
use http::{Method, StatusCode};
use oauth_core::parse::parse_form;
use oauth_core::{ClientRegistrationBuilder, HttpResponse, UnixTime};
use std::collections::BTreeMap;

/// State and switches of the endpoints in this file.
#[derive(Debug, Default)]
pub(crate) struct Extra {
    base: String,
    /// Clients must push their authorization requests (RFC 9126 §5).
    pub(crate) require_par: bool,
    /// The `interval` sent in device authorization responses; `None` omits it (the
    /// client must then use 5 s, as oidc-provider requires of its clients).
    pub(crate) device_interval: Option<u64>,
    /// Device code lifetime (seconds); 0 means 600.
    pub(crate) device_ttl: u64,
    /// Whether access tokens can be revoked (else `unsupported_token_type`).
    pub(crate) refuse_access_token_revocation: bool,
    devices: BTreeMap<String, DeviceRecord>,
    pushed: BTreeMap<String, PushedRecord>,
}

#[derive(Debug)]
struct DeviceRecord {
    client_id: String,
    user_code: String,
    scope: String,
    expires_at: UnixTime,
    interval: u64,
    last_poll: Option<UnixTime>,
    status: DeviceStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DeviceStatus {
    Pending,
    Approved,
    Denied,
    Redeemed,
}

#[derive(Debug)]
struct PushedRecord {
    client_id: String,
    params: BTreeMap<String, String>,
    expires_at: UnixTime,
}

impl Extra {
    pub(crate) fn set_base(&mut self, base: &str) {
        self.base = base.to_owned();
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Adds this server's other endpoints to a registration builder.
    pub(crate) fn configure(&self, b: ClientRegistrationBuilder) -> ClientRegistrationBuilder {
        b.revocation_endpoint(self.url("/revoke"))
            .introspection_endpoint(self.url("/introspect"))
            .device_authorization_endpoint(self.url("/device_authorization"))
            .par_endpoint(self.url("/par"))
            .require_par(self.require_par)
    }
}

impl FakeAuthorizationServer {
    /// Require pushed authorization requests (RFC 9126 §5).
    pub fn set_require_par(&mut self, on: bool) -> &mut Self {
        self.extra.require_par = on;
        self
    }

    /// The `interval` of device authorization responses (`None`: omitted).
    pub fn set_device_interval(&mut self, interval: Option<u64>) -> &mut Self {
        self.extra.device_interval = interval;
        self
    }

    /// Device code lifetime in seconds (default 600).
    pub fn set_device_ttl(&mut self, secs: u64) -> &mut Self {
        self.extra.device_ttl = secs;
        self
    }

    /// Refuse to revoke access tokens (`unsupported_token_type`), as servers with
    /// self-contained JWT access tokens do.
    pub fn set_refuse_access_token_revocation(&mut self, on: bool) -> &mut Self {
        self.extra.refuse_access_token_revocation = on;
        self
    }

    /// The user enters `user_code` at the verification page and decides. Returns
    /// whether the code was known and pending.
    pub fn approve_device(&mut self, user_code: &str, decision: Decision, now: UnixTime) -> bool {
        let Some(d) = self.extra.devices.values_mut().find(|d| {
            d.user_code == user_code && d.status == DeviceStatus::Pending && now < d.expires_at
        }) else {
            return false;
        };
        d.status = match decision {
            Decision::Approve => DeviceStatus::Approved,
            Decision::Deny => DeviceStatus::Denied,
        };
        true
    }

    /// Routes the endpoints of this file; `None` when `uri` is none of them.
    pub(super) fn other_endpoint(
        &mut self,
        uri: &str,
        request: &http::Request<Vec<u8>>,
        now: UnixTime,
    ) -> Option<HttpResponse> {
        let base = self.extra.base.clone();
        let path = uri.strip_prefix(&base)?;
        Some(match path {
            "/.well-known/oauth-authorization-server" | "/.well-known/openid-configuration" => {
                self.metadata()
            }
            "/revoke" => self.revoke(request),
            "/introspect" => self.introspect(request, now),
            "/device_authorization" => self.device_authorization(request, now),
            "/par" => self.push(request, now),
            "/register" => self.register_client(request, now),
            _ => return None,
        })
    }

    fn metadata(&self) -> HttpResponse {
        let e = &self.extra;
        let doc = serde_json::json!({
            "issuer": self.issuer,
            "authorization_endpoint": self.authorization_endpoint,
            "token_endpoint": self.token_endpoint,
            "revocation_endpoint": e.url("/revoke"),
            "introspection_endpoint": e.url("/introspect"),
            "device_authorization_endpoint": e.url("/device_authorization"),
            "pushed_authorization_request_endpoint": e.url("/par"),
            "require_pushed_authorization_requests": e.require_par,
            "authorization_response_iss_parameter_supported": self.send_iss,
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none", "client_secret_basic", "client_secret_post"],
            "grant_types_supported": [
                "authorization_code",
                "refresh_token",
                "client_credentials",
                oauth_core::DEVICE_CODE_GRANT
            ],
            "response_types_supported": ["code"],
        });
        let mut doc = doc;
        if let Some(r) = self.advertised_registration_endpoint() {
            doc["registration_endpoint"] = r.into();
        }
        plain(
            StatusCode::OK,
            "application/json",
            doc.to_string().into_bytes(),
        )
    }

    /// A form POST with client authentication, as at the token endpoint.
    fn authenticated_form(
        &self,
        request: &http::Request<Vec<u8>>,
    ) -> Result<(String, BTreeMap<String, String>), Box<HttpResponse>> {
        let refuse = |why: &str| {
            Box::new(self.error(StatusCode::BAD_REQUEST, "invalid_request", why, false))
        };
        if request.method() != Method::POST {
            return Err(refuse("use POST"));
        }
        let form = std::str::from_utf8(request.body())
            .ok()
            .and_then(|b| parse_form(b).ok())
            .ok_or_else(|| refuse("unreadable body"))?;
        let mut params = BTreeMap::new();
        for (k, v) in form {
            if params.insert(k, v).is_some() {
                return Err(refuse("repeated parameter"));
            }
        }
        let client_id = self.authenticate_client(request, &params)?;
        Ok((client_id, params))
    }

    fn revoke(&mut self, request: &http::Request<Vec<u8>>) -> HttpResponse {
        let (client_id, params) = match self.authenticated_form(request) {
            Ok(x) => x,
            Err(r) => return *r,
        };
        self.stats.revocations += 1;
        let Some(token) = params.get("token") else {
            return self.error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "token missing",
                false,
            );
        };
        // RFC 7009 §2.1: revoking a refresh token SHOULD also revoke the access tokens
        // of the same grant.
        if let Some(r) = self.refresh_tokens.get(token) {
            let grant = r.grant;
            if self.grants[grant].client_id == client_id {
                self.revoke_grant(grant);
            }
        } else if let Some(a) = self.access_tokens.get(token) {
            if self.extra.refuse_access_token_revocation {
                return self.error(
                    StatusCode::BAD_REQUEST,
                    "unsupported_token_type",
                    "access tokens cannot be revoked",
                    false,
                );
            }
            if self.grants[a.grant].client_id == client_id {
                self.access_tokens.remove(token);
            }
        }
        // RFC 7009 §2.2: 200 for unknown and invalid tokens too; the body is ignored.
        plain(StatusCode::OK, "text/plain", Vec::new())
    }

    fn introspect(&mut self, request: &http::Request<Vec<u8>>, now: UnixTime) -> HttpResponse {
        let (client_id, params) = match self.authenticated_form(request) {
            Ok(x) => x,
            Err(r) => return *r,
        };
        // RFC 7662 §2.1: the caller must be authorized; here, confidential clients.
        if self
            .clients
            .get(&client_id)
            .is_some_and(|c| c.auth_method == AuthMethod::None)
        {
            return self.error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "introspection needs credentials",
                false,
            );
        }
        self.stats.introspections += 1;
        let token = params.get("token").map(String::as_str).unwrap_or("");
        let active = self
            .access_tokens
            .get(token)
            .filter(|a| now < a.expires_at && !self.grants[a.grant].revoked);
        let doc = match active {
            Some(a) => {
                let g = &self.grants[a.grant];
                serde_json::json!({
                    "active": true,
                    "scope": g.scope,
                    "client_id": g.client_id,
                    "sub": "alice",
                    "token_type": "Bearer",
                    "exp": a.expires_at.as_secs(),
                    "iat": a.expires_at.as_secs().saturating_sub(self.access_token_ttl),
                    "iss": self.issuer,
                })
            }
            None => serde_json::json!({ "active": false }),
        };
        plain(
            StatusCode::OK,
            "application/json",
            doc.to_string().into_bytes(),
        )
    }

    fn device_authorization(
        &mut self,
        request: &http::Request<Vec<u8>>,
        now: UnixTime,
    ) -> HttpResponse {
        let (client_id, params) = match self.authenticated_form(request) {
            Ok(x) => x,
            Err(r) => return *r,
        };
        let device_code = self.rng.token("dc_", 24);
        let raw = self
            .rng
            .token("", 6)
            .to_ascii_uppercase()
            .replace(['-', '_'], "X");
        let user_code = format!("{}-{}", &raw[..4], &raw[4..8]);
        let ttl = if self.extra.device_ttl == 0 {
            600
        } else {
            self.extra.device_ttl
        };
        let interval = self.extra.device_interval.unwrap_or(5);
        self.extra.devices.insert(
            device_code.clone(),
            DeviceRecord {
                client_id,
                user_code: user_code.clone(),
                scope: params.get("scope").cloned().unwrap_or_default(),
                expires_at: now.saturating_add(ttl),
                interval,
                last_poll: None,
                status: DeviceStatus::Pending,
            },
        );
        let verification_uri = self.extra.url("/device");
        let mut fields = vec![
            ("device_code", serde_json::Value::from(device_code)),
            ("user_code", user_code.clone().into()),
            ("verification_uri", verification_uri.clone().into()),
            (
                "verification_uri_complete",
                format!("{verification_uri}?user_code={user_code}").into(),
            ),
            ("expires_in", ttl.into()),
        ];
        if let Some(i) = self.extra.device_interval {
            fields.push(("interval", i.into()));
        }
        self.body(StatusCode::OK, fields)
    }

    /// RFC 8628 §3.4–3.5 at the token endpoint.
    pub(super) fn device_poll(
        &mut self,
        client_id: &str,
        params: &BTreeMap<String, String>,
        now: UnixTime,
    ) -> HttpResponse {
        self.stats.device_polls += 1;
        let code = params.get("device_code").map(String::as_str).unwrap_or("");
        let Some(d) = self.extra.devices.get_mut(code) else {
            return self.error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "unknown device code",
                false,
            );
        };
        if d.client_id != client_id {
            return self.error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "device code of another client",
                false,
            );
        }
        if now >= d.expires_at {
            return self.error(
                StatusCode::BAD_REQUEST,
                "expired_token",
                "the device code expired",
                false,
            );
        }
        let too_fast = d
            .last_poll
            .is_some_and(|last| now < last.saturating_add(d.interval));
        d.last_poll = Some(now);
        match d.status {
            DeviceStatus::Redeemed => self.error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "device code already used",
                false,
            ),
            DeviceStatus::Denied => self.error(
                StatusCode::BAD_REQUEST,
                "access_denied",
                "the user denied the request",
                false,
            ),
            DeviceStatus::Pending if too_fast => {
                d.interval += 5;
                self.stats.slow_downs += 1;
                self.error(
                    StatusCode::BAD_REQUEST,
                    "slow_down",
                    "polling too fast",
                    false,
                )
            }
            DeviceStatus::Pending => self.error(
                StatusCode::BAD_REQUEST,
                "authorization_pending",
                "waiting for the user",
                false,
            ),
            DeviceStatus::Approved => {
                d.status = DeviceStatus::Redeemed;
                let scope = d.scope.clone();
                self.grants.push(Grant {
                    client_id: client_id.to_owned(),
                    scope: scope.clone(),
                    resource: None,
                    revoked: false,
                });
                let grant = self.grants.len() - 1;
                let refresh = self.new_refresh_token(grant);
                self.token_success(grant, Some(refresh), &scope, now)
            }
        }
    }

    /// RFC 6749 §4.4 at the token endpoint: confidential clients only.
    pub(super) fn client_credentials(
        &mut self,
        client_id: &str,
        params: &BTreeMap<String, String>,
        now: UnixTime,
    ) -> HttpResponse {
        if self
            .clients
            .get(client_id)
            .is_some_and(|c| c.auth_method == AuthMethod::None)
        {
            return self.error(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                "public clients cannot use client_credentials",
                false,
            );
        }
        let scope = params.get("scope").cloned().unwrap_or_default();
        if let Some(r) = self.target_error(params.get("resource")) {
            return r;
        }
        self.grants.push(Grant {
            client_id: client_id.to_owned(),
            scope: scope.clone(),
            resource: params.get("resource").cloned(),
            revoked: false,
        });
        let grant = self.grants.len() - 1;
        self.token_success(grant, None, &scope, now)
    }

    fn push(&mut self, request: &http::Request<Vec<u8>>, now: UnixTime) -> HttpResponse {
        let (client_id, mut params) = match self.authenticated_form(request) {
            Ok(x) => x,
            Err(r) => return *r,
        };
        // RFC 9126 §2.1: "The request_uri authorization request parameter is one
        // exception, and it MUST NOT be provided."
        if params.contains_key("request_uri") {
            return self.error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "request_uri is not allowed here",
                false,
            );
        }
        let redirect_ok = params.get("redirect_uri").is_some_and(|r| {
            self.clients
                .get(&client_id)
                .is_some_and(|c| c.redirect_uris.contains(r))
        });
        if !redirect_ok {
            return self.error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "redirect_uri not registered",
                false,
            );
        }
        params.remove("client_secret");
        let request_uri = format!(
            "urn:ietf:params:oauth:request_uri:{}",
            self.rng.token("", 16)
        );
        self.extra.pushed.insert(
            request_uri.clone(),
            PushedRecord {
                client_id,
                params,
                expires_at: now.saturating_add(60),
            },
        );
        self.stats.pushed_requests += 1;
        let body = serde_json::json!({ "request_uri": request_uri, "expires_in": 60 });
        plain(
            StatusCode::CREATED,
            "application/json",
            body.to_string().into_bytes(),
        )
    }

    /// Replaces `client_id` + `request_uri` by the pushed parameters (single use, not
    /// expired, same client). `Err` keeps the parameters as they were (the authorization
    /// endpoint then answers `invalid_request_uri`).
    pub(super) fn resolve_pushed(
        &mut self,
        params: BTreeMap<String, String>,
        now: UnixTime,
    ) -> Result<BTreeMap<String, String>, BTreeMap<String, String>> {
        let Some(uri) = params.get("request_uri") else {
            return Err(params);
        };
        match self.extra.pushed.remove(uri) {
            Some(p) if now < p.expires_at && params.get("client_id") == Some(&p.client_id) => {
                let mut resolved = p.params;
                resolved.insert("__pushed".into(), String::new());
                Ok(resolved)
            }
            _ => Err(params),
        }
    }
}
