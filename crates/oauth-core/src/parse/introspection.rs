//! RFC 7662 §2.2 introspection responses.

use super::error_response::success_members;
use super::{Members, ParseOptions, take_opt_string};
use crate::error::{Error, ParseError, ParseErrorKind};
use crate::io::HttpResponse;
use crate::scope::Scope;
use crate::time::UnixTime;
use std::collections::BTreeMap;

/// What the server says about a token.
#[derive(Clone, Debug, PartialEq)]
pub enum Introspection {
    /// Not active — revoked, expired, unknown, or not for this client. RFC 7662 §2.2:
    /// nothing else in such a response is to be trusted, so nothing else is kept.
    Inactive,
    /// Active, with what the server disclosed.
    Active(Box<ActiveToken>),
}

impl Introspection {
    /// Whether the token is active.
    pub fn is_active(&self) -> bool {
        matches!(self, Introspection::Active(_))
    }
}

/// The members of an active token's introspection response (RFC 7662 §2.2).
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct ActiveToken {
    /// `scope`.
    pub scope: Option<Scope>,
    /// `client_id`.
    pub client_id: Option<String>,
    /// `username`.
    pub username: Option<String>,
    /// `token_type`.
    pub token_type: Option<String>,
    /// `exp`.
    pub exp: Option<UnixTime>,
    /// `iat`.
    pub iat: Option<UnixTime>,
    /// `nbf`.
    pub nbf: Option<UnixTime>,
    /// `sub`.
    pub sub: Option<String>,
    /// `aud`: one string or an array, as a list.
    pub aud: Vec<String>,
    /// `iss`.
    pub iss: Option<String>,
    /// `jti`.
    pub jti: Option<String>,
    /// Any other member.
    pub extra: BTreeMap<String, serde_json::Value>,
}

fn time(m: &mut Members, field: &'static str) -> Result<Option<UnixTime>, ParseError> {
    match m.remove(field) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(n)) => n
            .as_u64()
            .map(|s| Some(UnixTime::from_secs(s)))
            .ok_or_else(|| ParseError::new(field, ParseErrorKind::InvalidValue)),
        Some(_) => Err(ParseError::new(field, ParseErrorKind::WrongType)),
    }
}

/// Reads an introspection response received at `now`.
///
/// RFC 7662 §2.2: `active` is REQUIRED, and only the JSON value `true` means active —
/// a missing member, `"true"`, `1` or `null` all read as [`Introspection::Inactive`].
/// INT-03: an active token whose `exp` has passed, or whose `nbf` is still ahead, is
/// treated as inactive too. Error statuses give [`Error::Server`] / [`Error::Http`]
/// (a 401 means the introspection credentials were refused).
pub fn introspection_response(
    response: &HttpResponse,
    now: UnixTime,
    options: &ParseOptions,
) -> Result<Introspection, Error> {
    let (mut m, _) = success_members(response, now, options, false)?;
    if m.remove("active") != Some(serde_json::Value::Bool(true)) {
        return Ok(Introspection::Inactive);
    }
    let scope = match take_opt_string(&mut m, "scope")? {
        Some(s) => Some(
            Scope::parse(&s).map_err(|_| ParseError::new("scope", ParseErrorKind::InvalidValue))?,
        ),
        None => None,
    };
    let aud = match m.remove("aud") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::String(s)) => vec![s],
        Some(serde_json::Value::Array(items)) => items
            .into_iter()
            .map(|v| match v {
                serde_json::Value::String(s) => Ok(s),
                _ => Err(ParseError::new("aud", ParseErrorKind::WrongType)),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(ParseError::new("aud", ParseErrorKind::WrongType).into()),
    };
    let token = ActiveToken {
        scope,
        client_id: take_opt_string(&mut m, "client_id")?,
        username: take_opt_string(&mut m, "username")?,
        token_type: take_opt_string(&mut m, "token_type")?,
        exp: time(&mut m, "exp")?,
        iat: time(&mut m, "iat")?,
        nbf: time(&mut m, "nbf")?,
        sub: take_opt_string(&mut m, "sub")?,
        aud,
        iss: take_opt_string(&mut m, "iss")?,
        jti: take_opt_string(&mut m, "jti")?,
        extra: m,
    };
    // RFC 7662 §4: a client must not trust an expired token even if the server says
    // it is active.
    if token.exp.is_some_and(|exp| now >= exp) || token.nbf.is_some_and(|nbf| now < nbf) {
        return Ok(Introspection::Inactive);
    }
    Ok(Introspection::Active(Box::new(token)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, body: &str) -> HttpResponse {
        http::Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(body.as_bytes().to_vec())
            .unwrap()
    }

    fn parse(body: &str) -> Result<Introspection, Error> {
        introspection_response(
            &resp(200, body),
            UnixTime::from_secs(1000),
            &ParseOptions::default(),
        )
    }

    #[test]
    fn int_02_only_json_true_is_active() {
        for body in [
            r#"{}"#,
            r#"{"active":"true"}"#,
            r#"{"active":1}"#,
            r#"{"active":null}"#,
            r#"{"active":false,"sub":"x","scope":"admin"}"#,
        ] {
            assert_eq!(parse(body).unwrap(), Introspection::Inactive, "{body}");
        }
        assert!(parse(r#"{"active":true}"#).unwrap().is_active());
    }

    #[test]
    fn active_members_are_typed_and_extras_kept() {
        let r = parse(
            r#"{"active":true,"scope":"read write","client_id":"c","username":"u","token_type":"Bearer",
               "exp":2000,"iat":900,"nbf":900,"sub":"s","aud":["a","b"],"iss":"https://as","jti":"j","x":1}"#,
        )
        .unwrap();
        let Introspection::Active(t) = r else {
            panic!()
        };
        assert_eq!(t.scope, Some(Scope::parse("read write").unwrap()));
        assert_eq!(t.exp, Some(UnixTime::from_secs(2000)));
        assert_eq!(t.aud, vec!["a".to_owned(), "b".to_owned()]);
        assert_eq!(t.extra.get("x"), Some(&serde_json::json!(1)));
        let Introspection::Active(t) = parse(r#"{"active":true,"aud":"one"}"#).unwrap() else {
            panic!()
        };
        assert_eq!(t.aud, vec!["one".to_owned()]);
    }

    #[test]
    fn int_03_expired_or_not_yet_valid_is_inactive() {
        assert_eq!(
            parse(r#"{"active":true,"exp":999}"#).unwrap(),
            Introspection::Inactive
        );
        assert_eq!(
            parse(r#"{"active":true,"exp":1000}"#).unwrap(),
            Introspection::Inactive
        );
        assert_eq!(
            parse(r#"{"active":true,"nbf":1001}"#).unwrap(),
            Introspection::Inactive
        );
    }

    #[test]
    fn int_04_errors_are_errors_and_inactive_is_not() {
        let e = introspection_response(
            &resp(401, r#"{"error":"invalid_client"}"#),
            UnixTime::EPOCH,
            &ParseOptions::default(),
        )
        .unwrap_err();
        assert_eq!(e.status(), Some(http::StatusCode::UNAUTHORIZED));
        assert!(parse(r#"{"active":true,"exp":"soon"}"#).is_err());
        assert!(parse(r#"{"active":true,"active":true}"#).is_err());
    }
}
