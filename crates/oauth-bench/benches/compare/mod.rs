//! What the `core` and `profile` benchmarks compare ours with: the `oauth2` crate doing
//! the same work where its API allows, and the bare limits.

#![allow(dead_code)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use oauth_bench::ops;
use oauth_bench::payloads;
use oauth2::basic::{BasicClient, BasicTokenResponse};
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, CsrfToken, EndpointNotSet, EndpointSet,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, TokenUrl,
};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::cell::RefCell;
use url::Url;

// ── the limits ──────────────────────────────────────────────────────────────────

/// The token response limit: a plain struct of owned strings, as serde derives it
/// (unknown members skipped).
#[derive(Deserialize)]
#[allow(dead_code)]
pub(crate) struct PlainTokenResponse {
    access_token: String,
    token_type: String,
    expires_in: Option<u64>,
    refresh_token: Option<String>,
    scope: Option<String>,
    id_token: Option<String>,
}

/// The error response limit.
#[derive(Deserialize)]
#[allow(dead_code)]
pub(crate) struct PlainErrorResponse {
    error: String,
    error_description: Option<String>,
    error_uri: Option<String>,
}

pub(crate) fn bare_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

// ── the oauth2 side ─────────────────────────────────────────────────────────────

pub(crate) type Oauth2Client =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

pub(crate) fn oauth2_client() -> Oauth2Client {
    let p = payloads();
    BasicClient::new(ClientId::new(p.client_id.clone()))
        .set_auth_uri(AuthUrl::new(p.authorization_endpoint.clone()).expect("valid"))
        .set_token_uri(TokenUrl::new(p.token_endpoint.clone()).expect("valid"))
        .set_redirect_uri(RedirectUrl::new(p.redirect_uri.clone()).expect("valid"))
}

pub(crate) fn oauth2_scopes() -> impl Iterator<Item = oauth2::Scope> {
    payloads()
        .scope
        .split(' ')
        .map(|s| oauth2::Scope::new(s.to_owned()))
}

/// Its authorize URL with PKCE, from a fixed `state` and verifier (the challenge is
/// computed, as ours is).
pub(crate) fn oauth2_url_fixed(
    client: &Oauth2Client,
    state: &str,
    verifier: &str,
) -> (Url, CsrfToken, PkceCodeVerifier) {
    let verifier = PkceCodeVerifier::new(verifier.to_owned());
    let challenge = PkceCodeChallenge::from_code_verifier_sha256(&verifier);
    let (url, csrf) = client
        .authorize_url(|| CsrfToken::new(state.to_owned()))
        .add_scopes(oauth2_scopes())
        .set_pkce_challenge(challenge)
        .url();
    (url, csrf, verifier)
}

/// Its authorize URL with PKCE, `state` and verifier from its own random source.
pub(crate) fn oauth2_url_random(client: &Oauth2Client) -> (Url, CsrfToken, PkceCodeVerifier) {
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf) = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(oauth2_scopes())
        .set_pkce_challenge(challenge)
        .url();
    (url, csrf, verifier)
}

/// What an `oauth2` user writes for the callback (the crate leaves it to them): the
/// `code` and `state` from the query, `state` compared.
pub(crate) fn oauth2_callback(callback: &Url, csrf: &CsrfToken) -> AuthorizationCode {
    let mut code = None;
    let mut state = None;
    for (k, v) in callback.query_pairs() {
        match &*k {
            "code" => code = Some(v.into_owned()),
            "state" => state = Some(v),
            _ => {}
        }
    }
    assert!(state.as_deref() == Some(csrf.secret().as_str()), "state");
    AuthorizationCode::new(code.expect("a code"))
}

#[derive(Debug)]
struct Captured;
impl std::fmt::Display for Captured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("captured")
    }
}
impl std::error::Error for Captured {}

/// Its code exchange request, taken from a custom HTTP client that keeps it and sends
/// nothing.
pub(crate) fn oauth2_token_request(
    client: &Oauth2Client,
    code: AuthorizationCode,
    verifier: PkceCodeVerifier,
) -> oauth2::HttpRequest {
    let captured = RefCell::new(None);
    let http_client = |request: oauth2::HttpRequest| -> Result<oauth2::HttpResponse, Captured> {
        *captured.borrow_mut() = Some(request);
        Err(Captured)
    };
    let _ = client
        .exchange_code(code)
        .set_pkce_verifier(verifier)
        .request(&http_client);
    captured.into_inner().expect("the request was built")
}

/// Its refresh request, taken from a custom HTTP client that keeps it and sends
/// nothing.
pub(crate) fn oauth2_refresh_request(
    client: &Oauth2Client,
    refresh_token: &oauth2::RefreshToken,
) -> oauth2::HttpRequest {
    let captured = RefCell::new(None);
    let http_client = |request: oauth2::HttpRequest| -> Result<oauth2::HttpResponse, Captured> {
        *captured.borrow_mut() = Some(request);
        Err(Captured)
    };
    let _ = client
        .exchange_refresh_token(refresh_token)
        .request(&http_client);
    captured.into_inner().expect("the request was built")
}

/// Its full code exchange through a custom HTTP client closure that returns the
/// canned response.
pub(crate) fn oauth2_full_exchange(
    client: &Oauth2Client,
    state: &str,
    verifier: &str,
    callback: &Url,
    token_body: &str,
) -> BasicTokenResponse {
    let (_url, csrf, verifier) = oauth2_url_fixed(client, state, verifier);
    let code = oauth2_callback(callback, &csrf);
    let http_client = |_request: oauth2::HttpRequest| -> Result<oauth2::HttpResponse, Captured> {
        Ok(ops::json_response(200, token_body))
    };
    client
        .exchange_code(code)
        .set_pkce_verifier(verifier)
        .request(&http_client)
        .expect("tokens")
}

/// The floor of any authorization URL returned as a `url::Url`: the `url` crate alone
/// cloning the endpoint with `response_type`, `client_id` and `redirect_uri` already
/// encoded (as ours keeps it) and appending the four per-flow parameters, values given.
pub(crate) fn url_floor(base: &Url, state: &str, challenge: &str) -> Url {
    let mut url = base.clone();
    url.query_pairs_mut()
        .append_pair("scope", &payloads().scope)
        .append_pair("state", state)
        .append_pair("code_challenge", challenge)
        .append_pair("code_challenge_method", "S256");
    url
}

/// The base URL [`url_floor`] starts from.
pub(crate) fn url_floor_base() -> Url {
    let p = payloads();
    let mut url = Url::parse(&p.authorization_endpoint).expect("valid");
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &p.client_id)
        .append_pair("redirect_uri", &p.redirect_uri);
    url
}

/// rand 0.8's thread-local CSPRNG — the one `oauth2` draws from — as a `rand_core` 0.10
/// source, so that ours can be measured on the same randomness.
pub(crate) struct SameRngAsOauth2(pub(crate) rand::rngs::ThreadRng);

impl rand_core::TryRng for SameRngAsOauth2 {
    type Error = std::convert::Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(rand::RngCore::next_u32(&mut self.0))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(rand::RngCore::next_u64(&mut self.0))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        rand::RngCore::fill_bytes(&mut self.0, dst);
        Ok(())
    }
}

// rand's ThreadRng is a CSPRNG (ChaCha12, reseeded from the OS).
impl rand_core::TryCryptoRng for SameRngAsOauth2 {}
