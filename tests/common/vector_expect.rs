//! What the core makes of a recorded exchange, in the shape stored in
//! `tests/vectors/`: used when recording (interop suite) and when replaying
//! (`scenarios::vectors`), so that both sides classify in exactly the same way.

use oauth_core::parse::{CallbackExpectation, ParseOptions};
use oauth_core::{HttpResponse, UnixTime, parse};
use serde_json::{Value, json};

/// The fixed `state` that recorded callbacks carry.
pub(crate) const TEST_STATE: &str = "test-state";

/// The classification of a token-endpoint response.
pub(crate) fn token_response(response: &HttpResponse) -> Value {
    match parse::token_response(response, UnixTime::EPOCH, &ParseOptions::default()) {
        Ok(t) => json!({
            "tokens": true,
            "token_type": t.token_type.as_str(),
            "expires_in": t.expires_at.map(UnixTime::as_secs),
            "refresh_token": t.refresh_token.is_some(),
            "id_token": t.id_token.is_some(),
            "scope": t.scope.map(|s| s.to_string()),
        }),
        Err(e) => json!({
            "tokens": false,
            "error": e.error_response().map(|r| r.code.as_str().to_owned()),
            "needs_new_authorization": e.needs_new_authorization(),
            "retryable": e.is_retryable(),
        }),
    }
}

/// The classification of a callback URL for `issuer`, with [`TEST_STATE`].
pub(crate) fn callback(url: &url::Url, issuer: &str) -> Value {
    let mut redirect = url.clone();
    redirect.set_query(None);
    let expected = CallbackExpectation {
        state: TEST_STATE,
        redirect_uri: &redirect,
        issuer: Some(issuer),
        require_issuer: true,
    };
    match parse::callback(url, &expected) {
        Ok(code) => json!({ "code": code.secret() }),
        Err(e) => json!({
            "error": e.error_response().map(|r| r.code.as_str().to_owned()),
            "display": e.to_string(),
        }),
    }
}
