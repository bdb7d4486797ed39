//! RFC 8628 §3.2 device authorization responses.

use super::error_response::success_members;
use super::{BodyFormat, ParseOptions, take_opt_string};
use crate::client::is_loopback_host;
use crate::error::{Error, ParseError, ParseErrorKind, Violation};
use crate::io::HttpResponse;
use crate::secret::DeviceCode;
use crate::time::UnixTime;
use url::Url;

/// RFC 8628 §3.2: "If no value is provided, clients MUST use 5 as the default."
pub const DEFAULT_INTERVAL_SECS: u64 = 5;

/// What the user must be shown: the code and where to enter it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserCode {
    /// `user_code`, to be typed by the user.
    pub user_code: String,
    /// `verification_uri`, where to type it. Show its host prominently: device-code
    /// phishing sends users to look-alike pages (RFC 8628 §5.4).
    pub verification_uri: Url,
    /// `verification_uri_complete`, which carries the code (for a link or QR code).
    pub verification_uri_complete: Option<Url>,
    /// When the code stops working.
    pub expires_at: UnixTime,
}

/// A parsed device authorization response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceAuthorization {
    /// `device_code`, a secret.
    pub device_code: DeviceCode,
    /// What to show the user.
    pub user_code: UserCode,
    /// The polling interval in seconds.
    pub interval: u64,
}

/// DEV-03: only `https` (or `http` on loopback) is shown or opened — never
/// `javascript:`, `file:` or the like.
fn shown_url(value: &str, field: &'static str) -> Result<Url, Error> {
    let url =
        Url::parse(value).map_err(|_| ParseError::new(field, ParseErrorKind::InvalidValue))?;
    let ok = url.host().is_some()
        && (url.scheme() == "https"
            || (url.scheme() == "http" && url.host_str().is_some_and(is_loopback_host)));
    if ok {
        Ok(url)
    } else {
        Err(Violation::InsecureMetadataEndpoint(field).into())
    }
}

fn seconds(
    v: Option<serde_json::Value>,
    field: &'static str,
    as_string: bool,
) -> Result<Option<u64>, ParseError> {
    match v {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Number(n)) => match (n.as_u64(), n.as_i64()) {
            (Some(s), _) => Ok(Some(s)),
            // A negative interval is treated like a missing one (DEV-09).
            (None, Some(_)) => Ok(Some(0)),
            _ => Err(ParseError::new(field, ParseErrorKind::InvalidValue)),
        },
        Some(serde_json::Value::String(s)) if as_string => s
            .trim()
            .parse::<u64>()
            .map(Some)
            .map_err(|_| ParseError::new(field, ParseErrorKind::InvalidValue)),
        Some(_) => Err(ParseError::new(field, ParseErrorKind::WrongType)),
    }
}

/// Reads a device authorization response received at `now` (RFC 8628 §3.2).
///
/// `device_code`, `user_code`, `verification_uri` and `expires_in` are required
/// (Google's pre-RFC `verification_url` is accepted as an alias); `interval` defaults
/// to 5 s, and 0 or a negative value also means 5 s; an `interval` longer than
/// `expires_in` is refused (DEV-09). Verification URIs must be `https` (or `http` on
/// loopback). Error bodies on any status are [`Error::Server`].
pub fn device_authorization_response(
    response: &HttpResponse,
    now: UnixTime,
    options: &ParseOptions,
) -> Result<DeviceAuthorization, Error> {
    let (mut m, format) = success_members(response, now, options, true)?;
    let required = |v: Option<String>, field: &'static str| {
        v.filter(|s| !s.is_empty())
            .ok_or(ParseError::new(field, ParseErrorKind::Missing))
    };
    let device_code = required(take_opt_string(&mut m, "device_code")?, "device_code")?;
    let user_code = required(take_opt_string(&mut m, "user_code")?, "user_code")?;
    let uri = match take_opt_string(&mut m, "verification_uri")? {
        Some(u) => Some(u),
        None => take_opt_string(&mut m, "verification_url")?,
    };
    let verification_uri = shown_url(&required(uri, "verification_uri")?, "verification_uri")?;
    let verification_uri_complete = take_opt_string(&mut m, "verification_uri_complete")?
        .map(|u| shown_url(&u, "verification_uri_complete"))
        .transpose()?;
    // A form body has only strings: there, a numeric string is simply the number.
    let as_string = options.quirks.expires_in_as_string || format == BodyFormat::Form;
    let expires_in = seconds(m.remove("expires_in"), "expires_in", as_string)?
        .ok_or(ParseError::new("expires_in", ParseErrorKind::Missing))?;
    let interval = match seconds(m.remove("interval"), "interval", as_string)? {
        None | Some(0) => DEFAULT_INTERVAL_SECS,
        Some(i) => i,
    };
    if interval > expires_in {
        return Err(ParseError::new("interval", ParseErrorKind::InvalidValue).into());
    }
    Ok(DeviceAuthorization {
        device_code: DeviceCode::from_response(device_code),
        user_code: UserCode {
            user_code: crate::redact::sanitize(&user_code, 64),
            verification_uri,
            verification_uri_complete,
            expires_at: now.saturating_add(expires_in),
        },
        interval,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: &str) -> Result<DeviceAuthorization, Error> {
        let r = http::Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(body.as_bytes().to_vec())
            .unwrap();
        device_authorization_response(&r, UnixTime::from_secs(100), &ParseOptions::default())
    }

    #[test]
    fn dev_02_defaults_and_alias() {
        let d = parse(r#"{"device_code":"dc","user_code":"WDJB-MJHT","verification_uri":"https://as.example/device","expires_in":1800}"#)
            .unwrap();
        assert_eq!(d.interval, 5);
        assert_eq!(d.user_code.expires_at, UnixTime::from_secs(1900));
        assert!(!format!("{d:?}").contains("\"dc\""));
        let d = parse(r#"{"device_code":"dc","user_code":"u","verification_url":"https://google.example/device","expires_in":"1800","interval":0}"#)
            .unwrap();
        assert_eq!(d.interval, 5);
        assert_eq!(
            d.user_code.verification_uri.as_str(),
            "https://google.example/device"
        );
        assert!(
            parse(r#"{"device_code":"dc","user_code":"u","verification_uri":"https://x/d"}"#)
                .is_err()
        );
    }

    #[test]
    fn dev_03_only_https_urls_are_shown() {
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "http://evil.example/d",
        ] {
            let body = format!(
                r#"{{"device_code":"dc","user_code":"u","verification_uri":"https://as/d","verification_uri_complete":"{bad}","expires_in":60}}"#
            );
            assert!(parse(&body).is_err(), "{bad}");
        }
    }

    #[test]
    fn dev_09_interval_sanity() {
        assert!(parse(r#"{"device_code":"d","user_code":"u","verification_uri":"https://a/d","expires_in":10,"interval":20}"#).is_err());
        let d = parse(r#"{"device_code":"d","user_code":"u","verification_uri":"https://a/d","expires_in":10,"interval":-3}"#).unwrap();
        assert_eq!(d.interval, 5);
    }
}
