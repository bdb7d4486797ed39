//! Authorization server metadata (RFC 8414) and OpenID Connect discovery documents.

use super::error_response::success_members;
use super::{Members, ParseOptions, take_opt_string, take_string_list};
use crate::client::{ClientRegistration, ClientRegistrationBuilder, is_loopback_host};
use crate::error::{ConfigError, Error, ParseError, ParseErrorKind, Violation};
use crate::io::HttpResponse;
use crate::time::UnixTime;
use std::collections::BTreeMap;
use url::Url;

/// Which well-known document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetadataKind {
    /// RFC 8414 `/.well-known/oauth-authorization-server`, inserted before the path.
    OAuth,
    /// OpenID Connect Discovery `/.well-known/openid-configuration`, appended.
    OpenId,
}

/// The metadata URL for `issuer`.
///
/// RFC 8414 §3.1: "inserting a well-known URI string into the authorization server's
/// issuer identifier between the host component and the path component, if any", after
/// removing a terminating `/`. OpenID Connect Discovery §4 appends instead.
pub fn well_known_url(issuer: &str, kind: MetadataKind) -> Result<Url, ConfigError> {
    let url = Url::parse(issuer).map_err(|_| ConfigError::InvalidIssuer {
        reason: "not an absolute URL",
    })?;
    if url.query().is_some() || url.fragment().is_some() || url.host().is_none() {
        return Err(ConfigError::InvalidIssuer {
            reason: "it has a query or a fragment, or no host",
        });
    }
    let loopback = url.host_str().is_some_and(is_loopback_host);
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err(ConfigError::InvalidIssuer {
            reason: "it must use https",
        });
    }
    let path = url.path().trim_end_matches('/');
    let mut out = url.clone();
    match kind {
        MetadataKind::OAuth => {
            out.set_path(&format!("/.well-known/oauth-authorization-server{path}"))
        }
        MetadataKind::OpenId => out.set_path(&format!("{path}/.well-known/openid-configuration")),
    }
    Ok(out)
}

/// A validated metadata document.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ServerMetadata {
    /// `issuer`, identical to the one it was fetched for.
    pub issuer: String,
    /// `authorization_endpoint`.
    pub authorization_endpoint: Option<String>,
    /// `token_endpoint`.
    pub token_endpoint: Option<String>,
    /// `revocation_endpoint` (RFC 7009).
    pub revocation_endpoint: Option<String>,
    /// `introspection_endpoint` (RFC 7662).
    pub introspection_endpoint: Option<String>,
    /// `device_authorization_endpoint` (RFC 8628).
    pub device_authorization_endpoint: Option<String>,
    /// `pushed_authorization_request_endpoint` (RFC 9126).
    pub pushed_authorization_request_endpoint: Option<String>,
    /// `require_pushed_authorization_requests` (RFC 9126 §5), default false.
    pub require_pushed_authorization_requests: bool,
    /// `authorization_response_iss_parameter_supported` (RFC 9207 §3), default false.
    pub authorization_response_iss_parameter_supported: bool,
    /// `registration_endpoint` (RFC 7591).
    pub registration_endpoint: Option<String>,
    /// `jwks_uri`.
    pub jwks_uri: Option<String>,
    /// `userinfo_endpoint` (OpenID Connect).
    pub userinfo_endpoint: Option<String>,
    /// `code_challenge_methods_supported`; `None` when absent (RFC 8414 §2: the server
    /// may not support PKCE).
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// `token_endpoint_auth_methods_supported`.
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
    /// `grant_types_supported`.
    pub grant_types_supported: Option<Vec<String>>,
    /// `scopes_supported`.
    pub scopes_supported: Option<Vec<String>>,
    /// Every other member.
    pub extra: BTreeMap<String, serde_json::Value>,
}

const ENDPOINTS: [&str; 8] = [
    "authorization_endpoint",
    "token_endpoint",
    "revocation_endpoint",
    "introspection_endpoint",
    "device_authorization_endpoint",
    "pushed_authorization_request_endpoint",
    "registration_endpoint",
    "jwks_uri",
];

fn endpoint(
    m: &mut Members,
    field: &'static str,
    loopback_issuer: bool,
) -> Result<Option<String>, Error> {
    let Some(value) = take_opt_string(m, field)? else {
        return Ok(None);
    };
    // What was checked is what is used: the URL in its parsed, normalised form.
    match Url::parse(&value) {
        Ok(u)
            if u.fragment().is_none()
                && u.host().is_some()
                && (u.scheme() == "https"
                    || (u.scheme() == "http"
                        && loopback_issuer
                        && u.host_str().is_some_and(is_loopback_host))) =>
        {
            Ok(Some(u.to_string()))
        }
        _ => Err(Violation::InsecureMetadataEndpoint(field).into()),
    }
}

fn flag(m: &mut Members, field: &'static str) -> Result<bool, ParseError> {
    match m.remove(field) {
        None | Some(serde_json::Value::Null) => Ok(false),
        Some(serde_json::Value::Bool(b)) => Ok(b),
        Some(_) => Err(ParseError::new(field, ParseErrorKind::WrongType)),
    }
}

/// Reads a metadata document fetched for `expected_issuer`.
///
/// RFC 8414 §3.3: "The issuer value returned MUST be identical to the authorization
/// server's issuer identifier value into which the well-known URI string was inserted
/// ... If these values are not identical, the data contained in the response MUST NOT
/// be used." — compared byte for byte ([`Violation::MetadataIssuerMismatch`]).
/// Endpoints must be absolute `https` URLs without fragment (plain `http` only on
/// loopback when the issuer is itself on loopback). A known member with the wrong type
/// is an error; unknown members are kept.
pub fn metadata(
    response: &HttpResponse,
    expected_issuer: &str,
    now: UnixTime,
    options: &ParseOptions,
) -> Result<ServerMetadata, Error> {
    let (mut m, _) = success_members(response, now, options, false)?;
    let issuer = take_opt_string(&mut m, "issuer")?
        .ok_or(ParseError::new("issuer", ParseErrorKind::Missing))?;
    if issuer != expected_issuer {
        return Err(Violation::MetadataIssuerMismatch.into());
    }
    let loopback = Url::parse(&issuer)
        .ok()
        .is_some_and(|u| u.scheme() == "http" && u.host_str().is_some_and(is_loopback_host));
    let mut eps: Vec<Option<String>> = Vec::with_capacity(ENDPOINTS.len());
    for field in ENDPOINTS {
        eps.push(endpoint(&mut m, field, loopback)?);
    }
    let mut eps = eps.into_iter();
    let mut next = || eps.next().flatten();
    Ok(ServerMetadata {
        authorization_endpoint: next(),
        token_endpoint: next(),
        revocation_endpoint: next(),
        introspection_endpoint: next(),
        device_authorization_endpoint: next(),
        pushed_authorization_request_endpoint: next(),
        registration_endpoint: next(),
        jwks_uri: next(),
        userinfo_endpoint: endpoint(&mut m, "userinfo_endpoint", loopback)?,
        require_pushed_authorization_requests: flag(
            &mut m,
            "require_pushed_authorization_requests",
        )?,
        authorization_response_iss_parameter_supported: flag(
            &mut m,
            "authorization_response_iss_parameter_supported",
        )?,
        code_challenge_methods_supported: take_string_list(
            &mut m,
            "code_challenge_methods_supported",
        )?,
        token_endpoint_auth_methods_supported: take_string_list(
            &mut m,
            "token_endpoint_auth_methods_supported",
        )?,
        grant_types_supported: take_string_list(&mut m, "grant_types_supported")?,
        scopes_supported: take_string_list(&mut m, "scopes_supported")?,
        issuer,
        extra: m,
    })
}

impl ServerMetadata {
    /// A registration builder for `client_id` at this server: its endpoints, its issuer,
    /// RFC 9207 `iss` required when the server says it sends it, PAR when it offers or
    /// requires it. Add the redirect URI and client authentication, then `build()`.
    ///
    /// Fails when the server lists PKCE methods without `S256` (PKCE-05).
    pub fn registration(
        &self,
        client_id: impl Into<String>,
    ) -> Result<ClientRegistrationBuilder, ConfigError> {
        if let Some(methods) = &self.code_challenge_methods_supported
            && !methods.iter().any(|m| m == "S256")
        {
            return Err(ConfigError::PkceS256Unsupported);
        }
        let token = self.token_endpoint.clone().ok_or(ConfigError::Missing {
            field: "token_endpoint",
        })?;
        let mut b = ClientRegistration::builder(client_id)
            .token_endpoint(token)
            .issuer(self.issuer.clone())
            .require_issuer_parameter(self.authorization_response_iss_parameter_supported);
        if let Some(e) = &self.authorization_endpoint {
            b = b.authorization_endpoint(e.clone());
        }
        if let Some(e) = &self.revocation_endpoint {
            b = b.revocation_endpoint(e.clone());
        }
        if let Some(e) = &self.introspection_endpoint {
            b = b.introspection_endpoint(e.clone());
        }
        if let Some(e) = &self.device_authorization_endpoint {
            b = b.device_authorization_endpoint(e.clone());
        }
        if let Some(e) = &self.pushed_authorization_request_endpoint {
            b = b
                .par_endpoint(e.clone())
                .require_par(self.require_pushed_authorization_requests);
        }
        Ok(b)
    }

    /// Whether `method` (e.g. `client_secret_basic`) is listed as supported at the token
    /// endpoint. RFC 8414 §2: when the member is absent, the default is
    /// `client_secret_basic`.
    pub fn supports_auth_method(&self, method: &str) -> bool {
        match &self.token_endpoint_auth_methods_supported {
            Some(list) => list.iter().any(|m| m == method),
            None => method == "client_secret_basic",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_01_well_known_urls() {
        let cases = [
            (
                "https://as.example",
                "https://as.example/.well-known/oauth-authorization-server",
                "https://as.example/.well-known/openid-configuration",
            ),
            (
                "https://as.example/issuer1",
                "https://as.example/.well-known/oauth-authorization-server/issuer1",
                "https://as.example/issuer1/.well-known/openid-configuration",
            ),
            (
                "https://as.example/issuer1/",
                "https://as.example/.well-known/oauth-authorization-server/issuer1",
                "https://as.example/issuer1/.well-known/openid-configuration",
            ),
            (
                "https://as.example:8443/t/a",
                "https://as.example:8443/.well-known/oauth-authorization-server/t/a",
                "https://as.example:8443/t/a/.well-known/openid-configuration",
            ),
        ];
        for (issuer, oauth, oidc) in cases {
            assert_eq!(
                well_known_url(issuer, MetadataKind::OAuth)
                    .unwrap()
                    .as_str(),
                oauth
            );
            assert_eq!(
                well_known_url(issuer, MetadataKind::OpenId)
                    .unwrap()
                    .as_str(),
                oidc
            );
        }
        assert!(well_known_url("http://as.example", MetadataKind::OAuth).is_err());
        assert!(well_known_url("https://as.example?x=1", MetadataKind::OAuth).is_err());
        assert!(well_known_url("http://127.0.0.1:4000", MetadataKind::OAuth).is_ok());
    }

    fn doc(status: u16, body: &str) -> HttpResponse {
        http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(body.as_bytes().to_vec())
            .unwrap()
    }

    fn parse(issuer: &str, body: &str) -> Result<ServerMetadata, Error> {
        metadata(
            &doc(200, body),
            issuer,
            UnixTime::EPOCH,
            &ParseOptions::default(),
        )
    }

    const GOOD: &str = r#"{"issuer":"https://as.example","authorization_endpoint":"https://as.example/a",
        "token_endpoint":"https://as.example/t","code_challenge_methods_supported":["S256"],
        "authorization_response_iss_parameter_supported":true,"pushed_authorization_request_endpoint":"https://as.example/par",
        "require_pushed_authorization_requests":true,"x-other":1}"#;

    #[test]
    fn meta_03_issuer_must_be_identical() {
        assert!(parse("https://as.example", GOOD).is_ok());
        assert_eq!(
            parse("https://as.example/", GOOD).unwrap_err(),
            Error::Violation(Violation::MetadataIssuerMismatch)
        );
        let slash = GOOD.replace(
            "\"issuer\":\"https://as.example\"",
            "\"issuer\":\"https://as.example/\"",
        );
        assert!(parse("https://as.example", &slash).is_err());
        assert!(parse("https://as.example/", &slash).is_ok());
    }

    #[test]
    fn meta_04_endpoints_must_be_https() {
        let bad = GOOD.replace("https://as.example/t", "http://as.example/t");
        assert_eq!(
            parse("https://as.example", &bad).unwrap_err(),
            Error::Violation(Violation::InsecureMetadataEndpoint("token_endpoint"))
        );
        let frag = GOOD.replace("https://as.example/a", "https://as.example/a#x");
        assert!(parse("https://as.example", &frag).is_err());
        let loopback = r#"{"issuer":"http://127.0.0.1:9","token_endpoint":"http://127.0.0.1:9/t"}"#;
        assert!(parse("http://127.0.0.1:9", loopback).is_ok());
    }

    #[test]
    fn meta_06_metadata_drives_the_registration() {
        let m = parse("https://as.example", GOOD).unwrap();
        assert_eq!(m.extra.get("x-other"), Some(&serde_json::json!(1)));
        let c = m
            .registration("app")
            .unwrap()
            .redirect_uri("http://127.0.0.1:1/cb")
            .build()
            .unwrap();
        assert!(c.requires_issuer_parameter());
        assert!(c.requires_par());
        assert_eq!(c.issuer(), Some("https://as.example"));
        let plain_only = GOOD.replace("[\"S256\"]", "[\"plain\"]");
        let m = parse("https://as.example", &plain_only).unwrap();
        assert_eq!(
            m.registration("app").unwrap_err(),
            ConfigError::PkceS256Unsupported
        );
        assert!(m.supports_auth_method("client_secret_basic"));
    }

    #[test]
    fn wrong_types_and_statuses() {
        let bad = GOOD.replace("[\"S256\"]", "\"S256\"");
        assert!(matches!(
            parse("https://as.example", &bad),
            Err(Error::Parse(_))
        ));
        let e = metadata(
            &doc(404, "nope"),
            "https://as.example",
            UnixTime::EPOCH,
            &ParseOptions::default(),
        );
        assert!(matches!(e, Err(Error::Http(_))));
        let e = metadata(
            &doc(302, ""),
            "https://as.example",
            UnixTime::EPOCH,
            &ParseOptions::default(),
        );
        assert!(matches!(
            e,
            Err(Error::Violation(Violation::UnexpectedRedirect(_)))
        ));
    }
}
