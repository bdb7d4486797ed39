//! OAuth 2.0 Protected Resource Metadata (RFC 9728).

use super::error_response::success_members;
use super::{ParseOptions, take_opt_string, take_string_list};
use crate::client::is_loopback_host;
use crate::error::{ConfigError, Error, ParseError, ParseErrorKind, Violation};
use crate::io::HttpResponse;
use crate::time::UnixTime;
use std::collections::BTreeMap;
use url::Url;

/// A resource identifier acceptable to this client: `https` (or `http` on loopback),
/// with a host, no fragment (RFC 9728 §1.2) and no user information (it would travel
/// in the metadata URL and in `resource` parameters, and the metadata URL would not
/// start with the resource's origin).
fn resource_url(resource: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(resource).map_err(|_| ConfigError::InvalidUrl { field: "resource" })?;
    let secure = url.scheme() == "https"
        || (url.scheme() == "http" && url.host_str().is_some_and(is_loopback_host));
    let userinfo = !url.username().is_empty() || url.password().is_some();
    if !secure || url.host().is_none() || url.fragment().is_some() || userinfo {
        return Err(ConfigError::InvalidUrl { field: "resource" });
    }
    Ok(url)
}

/// The metadata URL of `resource`: RFC 9728 §3.1 inserts
/// `/.well-known/oauth-protected-resource` between the host and the path (a terminating
/// `/` of the path removed), keeping any query after it.
pub fn resource_metadata_url(resource: &str) -> Result<Url, ConfigError> {
    let url = resource_url(resource)?;
    let path = url.path().trim_end_matches('/');
    let mut out = url.clone();
    out.set_path(&format!("/.well-known/oauth-protected-resource{path}"));
    Ok(out)
}

/// How the `resource` member of a metadata document is checked.
#[derive(Clone, Copy, Debug)]
pub enum ResourceCheck<'a> {
    /// Fetched from the well-known URL of this resource identifier: the document's
    /// `resource` must be identical (RFC 9728 §3.3).
    Exact(&'a str),
    /// Fetched from a `resource_metadata` URL announced in a 401 to a request for this
    /// URL: the document's `resource` must be this URL's origin with a path that is a
    /// prefix of it, on segment boundaries (so a server can only speak for itself, never
    /// for another origin). RFC 9728 §3.3 asks for identity with "the URL the client used
    /// to make the request"; draft-mcguinness-oauth-rfc9728bis relaxes it to this rule so
    /// that `https://api.example.com/v1/me` can be covered by `https://api.example.com`.
    Covers(&'a Url),
}

/// A validated protected-resource metadata document.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ResourceMetadata {
    /// `resource`: the protected resource's identifier.
    pub resource: String,
    /// `authorization_servers`: issuer identifiers, https (or http on loopback).
    pub authorization_servers: Vec<String>,
    /// `scopes_supported`.
    pub scopes_supported: Option<Vec<String>>,
    /// `bearer_methods_supported`.
    pub bearer_methods_supported: Option<Vec<String>>,
    /// `resource_name`.
    pub resource_name: Option<String>,
    /// Every other member.
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// Whether `request` lies within the resource identified by `resource`: same origin,
/// no query on the identifier, and a path under the identifier's on segment boundaries.
pub(crate) fn covers(resource: &Url, request: &Url) -> bool {
    // The origin of an http(s) URL is its scheme, host and port; compared in place,
    // without building the `Origin` values (which copy the host).
    let same_origin = match resource.scheme() {
        "http" | "https" => {
            resource.scheme() == request.scheme()
                && resource.host() == request.host()
                && resource.port_or_known_default() == request.port_or_known_default()
        }
        _ => resource.origin() == request.origin(),
    };
    if !same_origin || resource.query().is_some() {
        return false;
    }
    let base = resource.path().trim_end_matches('/');
    let path = request.path();
    path == base
        || path
            .strip_prefix(base)
            .is_some_and(|rest| rest.starts_with('/'))
        || base.is_empty()
}

/// Reads a protected-resource metadata document (RFC 9728 §3.2), checking its
/// `resource` as `check` says and its authorization servers' syntax.
pub fn resource_metadata(
    response: &HttpResponse,
    check: ResourceCheck<'_>,
    now: UnixTime,
    options: &ParseOptions,
) -> Result<ResourceMetadata, Error> {
    let (mut m, _) = success_members(response, now, options, false)?;
    let resource = take_opt_string(&mut m, "resource")?
        .ok_or(ParseError::new("resource", ParseErrorKind::Missing))?;
    // RFC 9728 §3.3: "If these values are not identical, the data contained in the
    // response MUST NOT be used."
    let ok = match check {
        ResourceCheck::Exact(expected) => resource == expected,
        ResourceCheck::Covers(request) => {
            resource_url(&resource).is_ok_and(|r| covers(&r, request))
        }
    };
    if !ok {
        return Err(Violation::ResourceMismatch.into());
    }
    let authorization_servers =
        take_string_list(&mut m, "authorization_servers")?.unwrap_or_default();
    for s in &authorization_servers {
        if resource_url(s).is_err() {
            return Err(Violation::InsecureMetadataEndpoint("authorization_servers").into());
        }
    }
    Ok(ResourceMetadata {
        resource,
        authorization_servers,
        scopes_supported: take_string_list(&mut m, "scopes_supported")?,
        bearer_methods_supported: take_string_list(&mut m, "bearer_methods_supported")?,
        resource_name: take_opt_string(&mut m, "resource_name")?,
        extra: m,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9728_well_known_urls() {
        let cases = [
            (
                "https://rs.example",
                "https://rs.example/.well-known/oauth-protected-resource",
            ),
            (
                "https://rs.example/",
                "https://rs.example/.well-known/oauth-protected-resource",
            ),
            (
                "https://rs.example/mcp",
                "https://rs.example/.well-known/oauth-protected-resource/mcp",
            ),
            (
                "https://rs.example:8443/a/b/?x=1",
                "https://rs.example:8443/.well-known/oauth-protected-resource/a/b?x=1",
            ),
        ];
        for (r, want) in cases {
            assert_eq!(resource_metadata_url(r).unwrap().as_str(), want, "{r}");
        }
        assert!(resource_metadata_url("http://rs.example").is_err());
        assert!(resource_metadata_url("https://rs.example#f").is_err());
        assert!(resource_metadata_url("https://u:p@rs.example/api").is_err());
        assert!(resource_metadata_url("https://u@rs.example/api").is_err());
        assert!(resource_metadata_url("http://127.0.0.1:9/api").is_ok());
    }

    fn doc(body: &str) -> HttpResponse {
        http::Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(body.as_bytes().to_vec())
            .unwrap()
    }

    #[test]
    fn resource_must_match() {
        let body = r#"{"resource":"https://rs.example/api","authorization_servers":["https://as.example"],"scopes_supported":["read"]}"#;
        let opts = ParseOptions::default();
        let m = resource_metadata(
            &doc(body),
            ResourceCheck::Exact("https://rs.example/api"),
            UnixTime::EPOCH,
            &opts,
        )
        .unwrap();
        assert_eq!(m.authorization_servers, ["https://as.example"]);
        assert_eq!(
            resource_metadata(
                &doc(body),
                ResourceCheck::Exact("https://rs.example/api/"),
                UnixTime::EPOCH,
                &opts
            ),
            Err(Error::Violation(Violation::ResourceMismatch))
        );
        let covers_ok = Url::parse("https://rs.example/api/v1/me?x=1").unwrap();
        assert!(
            resource_metadata(
                &doc(body),
                ResourceCheck::Covers(&covers_ok),
                UnixTime::EPOCH,
                &opts
            )
            .is_ok()
        );
        for bad in [
            "https://rs.example/apix",
            "https://other.example/api/v1",
            "http://rs.example/api",
        ] {
            let u = Url::parse(bad).unwrap();
            assert!(
                resource_metadata(
                    &doc(body),
                    ResourceCheck::Covers(&u),
                    UnixTime::EPOCH,
                    &opts
                )
                .is_err(),
                "{bad}"
            );
        }
        let insecure_as = r#"{"resource":"https://rs.example/api","authorization_servers":["http://as.example"]}"#;
        assert!(
            resource_metadata(
                &doc(insecure_as),
                ResourceCheck::Exact("https://rs.example/api"),
                UnixTime::EPOCH,
                &opts
            )
            .is_err()
        );
    }
}
