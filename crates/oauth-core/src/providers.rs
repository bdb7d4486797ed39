//! Presets for well-known providers: endpoints, default scopes, and the quirks each is
//! documented to have — as data plus small hooks, never as forks of the flows.
//!
//! | preset | endpoints | quirks handled |
//! |---|---|---|
//! | [`github`] | `github.com/login/oauth/…` | form-encoded token responses without `Accept: application/json`; errors with status 200; comma-separated `scope` |
//! | [`google`] | `accounts.google.com`, `oauth2.googleapis.com` | a refresh token only with `access_type=offline`, a new one only with `prompt=consent` |
//! | [`microsoft`] | `login.microsoftonline.com/{tenant}/oauth2/v2.0/…` | a refresh token only with the `offline_access` scope; `expires_in` as a string (v1 endpoints) |
//! | [`gitlab`], [`gitlab_self_hosted`] | `gitlab.com/oauth/…` or your instance | refresh tokens rotate on every use |
//!
//! The sources are the providers' own documentation pages, named next to each preset.
//! Every preset still uses PKCE `S256` and `state`, and never weakens a check.

use crate::client::{ClientRegistration, ClientRegistrationBuilder};
use crate::error::ConfigError;
use crate::flow::AuthorizationParams;
use crate::parse::Quirks;
use crate::scope::Scope;
use url::Url;

/// A provider's configuration. Build a registration with
/// [`registration`](Self::registration) and authorization parameters with
/// [`authorization_params`](Self::authorization_params).
#[derive(Clone, Debug)]
pub struct ProviderPreset {
    /// A short name (`github`, `google`, `microsoft`, `gitlab`).
    pub name: &'static str,
    /// The authorization endpoint.
    pub authorization_endpoint: String,
    /// The token endpoint.
    pub token_endpoint: String,
    /// The issuer identifier, when the provider has a single one.
    pub issuer: Option<String>,
    /// The scope requested when the caller names none.
    pub default_scope: Scope,
    /// Tolerances for this provider's responses.
    pub quirks: Quirks,
    /// Extra authorization parameters the provider needs.
    pub extra_params: Vec<(String, String)>,
    /// Adjusts the requested scope (e.g. adds `offline_access`).
    pub scope_hook: fn(Scope) -> Scope,
}

fn unchanged(scope: Scope) -> Scope {
    scope
}

fn scope(tokens: &[&str]) -> Scope {
    // The literals below are valid scope tokens.
    Scope::new(tokens.iter().copied()).unwrap_or_default()
}

impl ProviderPreset {
    /// A registration builder for `client_id` at this provider. Add the redirect URI and
    /// the client authentication, then `build()`.
    pub fn registration(&self, client_id: impl Into<String>) -> ClientRegistrationBuilder {
        let mut b = ClientRegistration::builder(client_id)
            .authorization_endpoint(self.authorization_endpoint.clone())
            .token_endpoint(self.token_endpoint.clone())
            .quirks(self.quirks);
        if let Some(issuer) = &self.issuer {
            b = b.issuer(issuer.clone());
        }
        b
    }

    /// Authorization parameters: `scope` (or the default scope) through the scope hook,
    /// plus the provider's extra parameters.
    pub fn authorization_params(&self, scope: Option<Scope>) -> AuthorizationParams {
        let requested = scope
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| self.default_scope.clone());
        let mut params = AuthorizationParams::new().scope((self.scope_hook)(requested));
        for (k, v) in &self.extra_params {
            params = params.param(k.clone(), v.clone());
        }
        params
    }
}

/// GitHub (OAuth apps and GitHub Apps acting for a user).
///
/// Source: docs.github.com, "Authorizing OAuth apps": the token response is
/// `access_token=…&scope=repo%2Cgist&token_type=bearer` unless `Accept: application/json`
/// is sent (we always send it, and read the form anyway); an expired or wrong code is
/// reported as `error=bad_verification_code` with HTTP 200; granted scopes are
/// comma-separated. GitHub has no issuer and sends no `iss`. Refresh tokens exist only
/// for GitHub Apps with expiring user tokens (`refresh_token_expires_in` is kept in
/// `TokenSet::extra`).
pub fn github() -> ProviderPreset {
    ProviderPreset {
        name: "github",
        authorization_endpoint: "https://github.com/login/oauth/authorize".into(),
        token_endpoint: "https://github.com/login/oauth/access_token".into(),
        issuer: None,
        default_scope: scope(&["read:user"]),
        quirks: Quirks::github(),
        extra_params: Vec::new(),
        scope_hook: unchanged,
    }
}

/// Google.
///
/// Source: developers.google.com/identity/protocols/oauth2/native-app: a refresh token is
/// returned only when the authorization request carries `access_type=offline`, and
/// Google issues one only on first consent unless `prompt=consent` asks again — so the
/// preset sends both, and the client keeps the old refresh token when a refresh
/// response has none (RFC 6749 §6).
pub fn google() -> ProviderPreset {
    ProviderPreset {
        name: "google",
        authorization_endpoint: "https://accounts.google.com/o/oauth2/v2/auth".into(),
        token_endpoint: "https://oauth2.googleapis.com/token".into(),
        issuer: Some("https://accounts.google.com".into()),
        default_scope: scope(&["openid", "email", "profile"]),
        quirks: Quirks::default(),
        extra_params: vec![
            ("access_type".into(), "offline".into()),
            ("prompt".into(), "consent".into()),
        ],
        scope_hook: unchanged,
    }
}

fn with_offline_access(scope: Scope) -> Scope {
    if scope.contains("offline_access") {
        return scope;
    }
    let tokens: Vec<String> = scope
        .iter()
        .map(str::to_owned)
        .chain(["offline_access".to_owned()])
        .collect();
    Scope::new(tokens).unwrap_or(scope)
}

/// Microsoft Entra ID (the v2.0 endpoints), for `tenant`: a tenant id (GUID), a
/// verified domain, or `common`, `organizations`, `consumers`.
///
/// Source: learn.microsoft.com, "Microsoft identity platform and OAuth 2.0 authorization
/// code flow": refresh tokens are issued only when `offline_access` is requested (the
/// scope hook adds it); the v1.0 endpoints return `expires_in` as a string (tolerated by
/// the default quirks). The issuer is per tenant and is configured only for a specific
/// tenant; for the multi-tenant aliases no single issuer exists.
pub fn microsoft(tenant: &str) -> Result<ProviderPreset, ConfigError> {
    let valid = !tenant.is_empty()
        && tenant.len() <= 256
        && tenant
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if !valid {
        return Err(ConfigError::InvalidUrl { field: "tenant" });
    }
    let base = format!("https://login.microsoftonline.com/{tenant}");
    let multi_tenant = matches!(tenant, "common" | "organizations" | "consumers");
    Ok(ProviderPreset {
        name: "microsoft",
        authorization_endpoint: format!("{base}/oauth2/v2.0/authorize"),
        token_endpoint: format!("{base}/oauth2/v2.0/token"),
        issuer: (!multi_tenant).then(|| format!("{base}/v2.0")),
        default_scope: scope(&["openid", "profile", "offline_access"]),
        quirks: Quirks::default(),
        extra_params: Vec::new(),
        scope_hook: with_offline_access,
    })
}

/// GitLab.com.
///
/// Source: docs.gitlab.com/api/oauth2: authorization code with PKCE; access tokens last
/// two hours and every refresh returns a new refresh token (rotation), which the client
/// always keeps.
pub fn gitlab() -> ProviderPreset {
    gitlab_at("https://gitlab.com")
}

/// A self-hosted GitLab at `base_url` (e.g. `https://gitlab.example.com`); `https`, or
/// `http` on loopback.
pub fn gitlab_self_hosted(base_url: &str) -> Result<ProviderPreset, ConfigError> {
    let url = Url::parse(base_url).map_err(|_| ConfigError::InvalidUrl { field: "base_url" })?;
    let loopback = url.host_str().is_some_and(crate::client::is_loopback_host);
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err(ConfigError::InsecureEndpoint { field: "base_url" });
    }
    if url.query().is_some() || url.fragment().is_some() || url.host().is_none() {
        return Err(ConfigError::InvalidUrl { field: "base_url" });
    }
    Ok(gitlab_at(base_url.trim_end_matches('/')))
}

fn gitlab_at(base: &str) -> ProviderPreset {
    ProviderPreset {
        name: "gitlab",
        authorization_endpoint: format!("{base}/oauth/authorize"),
        token_endpoint: format!("{base}/oauth/token"),
        issuer: Some(base.to_owned()),
        default_scope: scope(&["read_user"]),
        quirks: Quirks::default(),
        extra_params: Vec::new(),
        scope_hook: unchanged,
    }
}

/// The preset for a name given on a command line: `github`, `google`, `gitlab`, or
/// `microsoft` (tenant `common`).
pub fn by_name(name: &str) -> Option<ProviderPreset> {
    match name {
        "github" => Some(github()),
        "google" => Some(google()),
        "gitlab" => Some(gitlab()),
        "microsoft" => microsoft("common").ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(p: &ProviderPreset) -> ClientRegistration {
        p.registration("app")
            .redirect_uri("http://127.0.0.1:8080/cb")
            .build()
            .unwrap()
    }

    #[test]
    fn every_preset_builds_a_valid_registration() {
        for p in [
            github(),
            google(),
            microsoft("contoso.onmicrosoft.com").unwrap(),
            gitlab(),
        ] {
            let c = build(&p);
            assert!(c.token_endpoint().scheme() == "https", "{}", p.name);
            assert!(!p.default_scope.is_empty());
        }
    }

    #[test]
    fn github_quirks() {
        let p = github();
        assert!(
            p.quirks.form_encoded_body
                && p.quirks.scope_comma_separated
                && p.quirks.error_in_success_status
        );
        assert_eq!(p.issuer, None);
    }

    #[test]
    fn google_asks_for_offline_access_and_consent() {
        let p = google();
        assert!(
            p.extra_params
                .contains(&("access_type".into(), "offline".into()))
        );
        assert!(
            p.extra_params
                .contains(&("prompt".into(), "consent".into()))
        );
        assert_eq!(build(&p).issuer(), Some("https://accounts.google.com"));
    }

    #[test]
    fn microsoft_tenant_in_the_url_and_offline_access_added() {
        let p = microsoft("8eaef023-2b34-4da1-9baa-8bc8c9d6a490").unwrap();
        assert_eq!(
            p.token_endpoint,
            "https://login.microsoftonline.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/oauth2/v2.0/token"
        );
        assert_eq!(
            p.issuer.as_deref(),
            Some("https://login.microsoftonline.com/8eaef023-2b34-4da1-9baa-8bc8c9d6a490/v2.0")
        );
        let asked = Scope::parse("https://graph.microsoft.com/User.Read").unwrap();
        let sent = (p.scope_hook)(asked);
        assert_eq!(
            sent.to_string(),
            "https://graph.microsoft.com/User.Read offline_access"
        );
        assert_eq!((p.scope_hook)(sent.clone()), sent, "added once");
        assert_eq!(microsoft("common").unwrap().issuer, None);
        for bad in ["", "a/b", "x?y", "a b", "../x"] {
            assert!(microsoft(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn gitlab_self_hosted_base_url() {
        let p = gitlab_self_hosted("https://gitlab.example.com/").unwrap();
        assert_eq!(
            p.authorization_endpoint,
            "https://gitlab.example.com/oauth/authorize"
        );
        assert_eq!(p.issuer.as_deref(), Some("https://gitlab.example.com"));
        assert!(gitlab_self_hosted("http://gitlab.example.com").is_err());
        assert!(gitlab_self_hosted("http://127.0.0.1:8929").is_ok());
        assert!(gitlab_self_hosted("not a url").is_err());
    }

    #[test]
    fn authorization_params_use_the_default_scope_and_the_hook() {
        let p = microsoft("common").unwrap();
        let client = build(&p);
        let mut rng = crate::flow::test_rng();
        let flow = crate::AuthorizationCodeFlow::start(
            &client,
            p.authorization_params(None),
            &mut rng,
            crate::UnixTime::EPOCH,
        )
        .unwrap();
        let url = flow.authorization_url().unwrap();
        let scope = url
            .query_pairs()
            .find(|(k, _)| k == "scope")
            .unwrap()
            .1
            .into_owned();
        assert_eq!(scope, "openid profile offline_access");
        let g = google();
        let flow = crate::AuthorizationCodeFlow::start(
            &build(&g),
            g.authorization_params(None),
            &mut rng,
            crate::UnixTime::EPOCH,
        )
        .unwrap();
        let q: Vec<(String, String)> = flow
            .authorization_url()
            .unwrap()
            .query_pairs()
            .into_owned()
            .collect();
        assert!(q.contains(&("access_type".into(), "offline".into())));
        assert!(q.contains(&("code_challenge_method".into(), "S256".into())));
    }

    #[test]
    fn by_name_knows_the_four() {
        for n in ["github", "google", "gitlab", "microsoft"] {
            assert_eq!(by_name(n).map(|p| p.name), Some(n));
        }
        assert!(by_name("other").is_none());
    }
}
