//! Dynamic client registration responses (RFC 7591 §3.2).

use super::error_response::success_members;
use super::{ParseOptions, take_opt_string, take_string_list};
use crate::error::{Error, ParseError, ParseErrorKind};
use crate::io::HttpResponse;
use crate::secret::{ClientSecret, RegistrationToken};
use crate::time::UnixTime;
use serde::{Deserialize, Serialize};

/// A client the server registered for us. Kept (in a token store) so that the next
/// run reuses it instead of registering again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisteredClientInfo {
    /// `client_id` (required).
    pub client_id: String,
    /// `client_secret`, for confidential registrations.
    pub client_secret: Option<ClientSecret>,
    /// `client_secret_expires_at`: `None` when absent or 0 (never).
    pub client_secret_expires_at: Option<UnixTime>,
    /// `registration_access_token`, for later management (RFC 7592); a secret.
    pub registration_access_token: Option<RegistrationToken>,
    /// `registration_client_uri`.
    pub registration_client_uri: Option<String>,
    /// `token_endpoint_auth_method` as registered (default `client_secret_basic`).
    pub token_endpoint_auth_method: String,
    /// The redirect URIs as registered.
    pub redirect_uris: Vec<String>,
    /// The issuer of the server that registered it (set by the chain that registered
    /// it; a registration is reused only with that server).
    #[serde(default)]
    pub issuer: Option<String>,
}

impl RegisteredClientInfo {
    /// Whether this registration can be used with `issuer` at `now`: registered there,
    /// and its secret, if any, not expired (RFC 7591 §3.2.1).
    pub fn usable_with(&self, issuer: &str, now: UnixTime) -> bool {
        self.issuer.as_deref() == Some(issuer)
            && self.client_secret_expires_at.is_none_or(|t| now < t)
    }
}

/// Reads a registration response (RFC 7591 §3.2.1: 201 with the client's metadata;
/// errors per §3.2.2 such as `invalid_redirect_uri` and `invalid_client_metadata`).
pub fn registration_response(
    response: &HttpResponse,
    now: UnixTime,
    options: &ParseOptions,
) -> Result<RegisteredClientInfo, Error> {
    let (mut m, _) = success_members(response, now, options, false)?;
    let client_id = take_opt_string(&mut m, "client_id")?
        .filter(|s| !s.is_empty())
        .ok_or(ParseError::new("client_id", ParseErrorKind::Missing))?;
    let expires = match m.remove("client_secret_expires_at") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::Number(n)) => match n.as_u64() {
            Some(0) => None,
            Some(t) => Some(UnixTime::from_secs(t)),
            None => {
                return Err(ParseError::new(
                    "client_secret_expires_at",
                    ParseErrorKind::InvalidValue,
                )
                .into());
            }
        },
        Some(_) => {
            return Err(
                ParseError::new("client_secret_expires_at", ParseErrorKind::WrongType).into(),
            );
        }
    };
    let redirect_uris = take_string_list(&mut m, "redirect_uris")?.unwrap_or_default();
    Ok(RegisteredClientInfo {
        client_id,
        client_secret: take_opt_string(&mut m, "client_secret")?
            .filter(|s| !s.is_empty())
            .map(ClientSecret::new),
        client_secret_expires_at: expires,
        registration_access_token: take_opt_string(&mut m, "registration_access_token")?
            .map(RegistrationToken::new),
        registration_client_uri: take_opt_string(&mut m, "registration_client_uri")?,
        token_endpoint_auth_method: take_opt_string(&mut m, "token_endpoint_auth_method")?
            .unwrap_or_else(|| "client_secret_basic".into()),
        redirect_uris,
        issuer: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(status: u16, body: &str) -> Result<RegisteredClientInfo, Error> {
        let r = http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(body.as_bytes().to_vec())
            .unwrap();
        registration_response(&r, UnixTime::EPOCH, &ParseOptions::default())
    }

    #[test]
    fn rfc7591_responses() {
        let r = parse(
            201,
            r#"{"client_id":"s6Bh","client_secret":"cf13","client_secret_expires_at":0,"token_endpoint_auth_method":"none","redirect_uris":["http://127.0.0.1/cb"],"registration_access_token":"rat"}"#,
        )
        .unwrap();
        assert_eq!(r.client_id, "s6Bh");
        assert_eq!(r.client_secret_expires_at, None);
        assert!(!format!("{r:?}").contains("cf13") && !format!("{r:?}").contains("rat\""));
        assert_eq!(
            parse(201, r#"{"client_secret":"x"}"#).unwrap_err(),
            Error::Parse(ParseError::new("client_id", ParseErrorKind::Missing))
        );
        let e = parse(
            400,
            r#"{"error":"invalid_redirect_uri","error_description":"no"}"#,
        )
        .unwrap_err();
        assert_eq!(
            e.error_response()
                .map(|e| e.code.as_str().to_owned())
                .as_deref(),
            Some("invalid_redirect_uri")
        );
    }
}
