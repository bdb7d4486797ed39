//! Unit tests for [`super::token_response`]: checklist sections 6 (PARSE-*) and 7 (ERR-*).

use crate::error::{Error, ErrorCode, ParseError, ParseErrorKind, Violation};
use crate::io::HttpResponse;
use crate::parse::{Limits, ParseOptions, Quirks, token_response};
use crate::scope::Scope;
use crate::secret::{IdToken, RefreshToken};
use crate::time::UnixTime;
use crate::token::{TokenResponse, TokenType};
use http::StatusCode;

const NOW: UnixTime = UnixTime::from_secs(1_700_000_000);
const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

fn resp(status: u16, content_type: Option<&str>, body: impl Into<Vec<u8>>) -> HttpResponse {
    let mut b = http::Response::builder().status(status);
    if let Some(ct) = content_type {
        b = b.header("content-type", ct);
    }
    b.body(body.into()).unwrap()
}

fn json(status: u16, body: &str) -> HttpResponse {
    resp(status, Some(JSON), body)
}

fn opts(quirks: Quirks) -> ParseOptions {
    ParseOptions {
        quirks,
        limits: Limits::default(),
    }
}

fn parse(r: &HttpResponse) -> Result<TokenResponse, Error> {
    token_response(r, NOW, &ParseOptions::default())
}

fn parse_with(r: &HttpResponse, quirks: Quirks) -> Result<TokenResponse, Error> {
    token_response(r, NOW, &opts(quirks))
}

fn parse_err(field: &'static str, kind: ParseErrorKind) -> Error {
    Error::Parse(ParseError { field, kind })
}

/// A minimal valid body with one extra member spliced in.
fn with_member(member: &str) -> String {
    format!(r#"{{"access_token":"at","token_type":"Bearer",{member}}}"#)
}

// ── happy path ──────────────────────────────────────────────────────────────────

#[test]
fn parse_happy_path_json() {
    let r = json(
        200,
        r#"{"access_token":"2YotnFZFEjr1zCsicMWpAA","token_type":"Bearer","expires_in":3600,
            "refresh_token":"tGzv3JOkF0XG5Qx2TlKWIA","scope":"read write","id_token":"eyJ.x.y",
            "example_parameter":"example_value","nested":{"a":[1,2]}}"#,
    );
    let t = parse(&r).unwrap();
    assert_eq!(t.access_token.secret(), "2YotnFZFEjr1zCsicMWpAA");
    assert_eq!(t.token_type, TokenType::Bearer);
    assert_eq!(t.expires_at, Some(NOW.saturating_add(3600)));
    assert_eq!(t.expires_at, Some(UnixTime::from_secs(1_700_003_600)));
    assert_eq!(
        t.refresh_token,
        Some(RefreshToken::new("tGzv3JOkF0XG5Qx2TlKWIA"))
    );
    assert_eq!(t.scope, Some(Scope::parse("read write").unwrap()));
    assert_eq!(t.id_token, Some(IdToken::new("eyJ.x.y")));
    // Known members are taken out; unknown ones are kept verbatim.
    assert_eq!(
        t.extra.keys().map(String::as_str).collect::<Vec<_>>(),
        ["example_parameter", "nested"]
    );
    assert_eq!(
        t.extra["example_parameter"],
        serde_json::json!("example_value")
    );
    assert_eq!(t.extra["nested"], serde_json::json!({"a":[1,2]}));
}

#[test]
fn parse_minimal_body_has_no_optional_fields() {
    let t = parse(&json(200, r#"{"access_token":"at","token_type":"Bearer"}"#)).unwrap();
    assert_eq!(t.access_token.secret(), "at");
    assert_eq!(t.expires_at, None);
    assert_eq!(t.refresh_token, None);
    assert_eq!(t.scope, None);
    assert_eq!(t.id_token, None);
    assert!(t.extra.is_empty());
}

#[test]
fn parse_08_content_type_parameters_and_json_suffix_are_json() {
    let body = r#"{"access_token":"at","token_type":"Bearer"}"#;
    for ct in [
        Some("application/json;charset=UTF-8"),
        Some("Application/JSON ; charset=utf-8"),
        Some("application/vnd.example+json"),
        None,
    ] {
        let t = parse(&resp(200, ct, body)).unwrap_or_else(|e| panic!("{ct:?}: {e:?}"));
        assert_eq!(t.access_token.secret(), "at", "{ct:?}");
    }
}

// ── token_type (PARSE-01, PARSE-02) ─────────────────────────────────────────────

#[test]
fn parse_01_token_type_is_case_insensitive() {
    for tt in ["bearer", "BEARER", "Bearer", "bEaReR"] {
        let t = parse(&json(
            200,
            &format!(r#"{{"access_token":"at","token_type":"{tt}"}}"#),
        ))
        .unwrap();
        assert_eq!(t.token_type, TokenType::Bearer, "{tt}");
        assert_eq!(t.token_type.as_str(), "Bearer");
    }
}

#[test]
fn parse_02_unknown_token_type_is_refused() {
    let r = json(200, r#"{"access_token":"at","token_type":"mac"}"#);
    assert_eq!(
        parse(&r).unwrap_err(),
        Error::Violation(Violation::UnsupportedTokenType("mac".into()))
    );
    // Also with every tolerance on: an unknown type is never used.
    assert_eq!(
        parse_with(&r, Quirks::tolerant()).unwrap_err(),
        Error::Violation(Violation::UnsupportedTokenType("mac".into()))
    );
    let r = json(200, r#"{"access_token":"at","token_type":"DPoP"}"#);
    assert!(matches!(
        parse(&r),
        Err(Error::Violation(Violation::UnsupportedTokenType(t))) if t == "DPoP"
    ));
}

#[test]
fn parse_02_unknown_token_type_is_sanitised_in_the_error() {
    let r = json(
        200,
        r#"{"access_token":"at","token_type":"x\u001b[31mred"}"#,
    );
    match parse(&r) {
        Err(Error::Violation(Violation::UnsupportedTokenType(t))) => {
            assert!(!t.contains('\u{1b}'), "{t:?}");
            assert!(t.contains("\\u{1b}"), "{t:?}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn parse_02_missing_token_type() {
    let r = json(200, r#"{"access_token":"at"}"#);
    let missing = parse_err("token_type", ParseErrorKind::Missing);
    assert_eq!(parse_with(&r, Quirks::strict()).unwrap_err(), missing);
    assert_eq!(parse(&r).unwrap_err(), missing, "off by default");
    let quirks = Quirks {
        missing_token_type_is_bearer: true,
        ..Quirks::strict()
    };
    assert_eq!(
        parse_with(&r, quirks).unwrap().token_type,
        TokenType::Bearer
    );
    // null counts as absent (PARSE-06).
    let r = json(200, r#"{"access_token":"at","token_type":null}"#);
    assert_eq!(parse_with(&r, Quirks::strict()).unwrap_err(), missing);
    assert_eq!(
        parse_with(&r, quirks).unwrap().token_type,
        TokenType::Bearer
    );
}

#[test]
fn parse_02_token_type_of_wrong_json_type() {
    let r = json(200, r#"{"access_token":"at","token_type":1}"#);
    assert_eq!(
        parse(&r).unwrap_err(),
        parse_err("token_type", ParseErrorKind::WrongType)
    );
}

// ── expires_in (PARSE-03) ───────────────────────────────────────────────────────

fn expires(member: &str, quirks: Quirks) -> Result<Option<UnixTime>, Error> {
    parse_with(&json(200, &with_member(member)), quirks).map(|t| t.expires_at)
}

#[test]
fn parse_03_expires_in_variants() {
    let d = Quirks::default();
    let s = Quirks::strict();
    let invalid = || Err(parse_err("expires_in", ParseErrorKind::InvalidValue));
    let wrong = || Err(parse_err("expires_in", ParseErrorKind::WrongType));

    // A JSON integer: from the time of receipt.
    assert_eq!(
        expires(r#""expires_in":3600"#, d),
        Ok(Some(UnixTime::from_secs(1_700_003_600)))
    );
    assert_eq!(
        expires(r#""expires_in":3600"#, s),
        Ok(Some(UnixTime::from_secs(1_700_003_600)))
    );
    assert_eq!(expires(r#""expires_in":0"#, s), Ok(Some(NOW)));
    // A numeric string: only with the quirk (on by default).
    assert_eq!(
        expires(r#""expires_in":"3600""#, d),
        Ok(Some(UnixTime::from_secs(1_700_003_600)))
    );
    assert_eq!(
        expires(r#""expires_in":" 3600 ""#, d),
        Ok(Some(UnixTime::from_secs(1_700_003_600)))
    );
    assert_eq!(expires(r#""expires_in":"3600""#, s), wrong());
    // Absent and null: unknown expiry.
    assert_eq!(
        parse(&json(200, r#"{"access_token":"at","token_type":"Bearer"}"#))
            .unwrap()
            .expires_at,
        None
    );
    assert_eq!(expires(r#""expires_in":null"#, d), Ok(None));
    assert_eq!(expires(r#""expires_in":null"#, s), Ok(None));
    // Negative and fractional numbers are refused.
    assert_eq!(expires(r#""expires_in":-1"#, d), invalid());
    assert_eq!(expires(r#""expires_in":1.5"#, d), invalid());
    // Non-numeric, negative, fractional and empty strings are refused.
    assert_eq!(expires(r#""expires_in":"abc""#, d), invalid());
    assert_eq!(expires(r#""expires_in":"-1""#, d), invalid());
    assert_eq!(expires(r#""expires_in":"1.5""#, d), invalid());
    assert_eq!(expires(r#""expires_in":"""#, d), invalid());
    assert_eq!(expires(r#""expires_in":"abc""#, s), wrong());
    // Other JSON types.
    assert_eq!(expires(r#""expires_in":true"#, d), wrong());
    assert_eq!(expires(r#""expires_in":[3600]"#, d), wrong());
    assert_eq!(expires(r#""expires_in":{}"#, d), wrong());
}

#[test]
fn parse_03_expires_in_out_of_f64_range_is_a_typed_error() {
    // serde_json refuses a number that overflows f64 while reading the body: the whole
    // body is malformed. What matters: a typed error, no panic, no token.
    let r = json(200, &with_member(r#""expires_in":1e309"#));
    assert_eq!(
        parse(&r).unwrap_err(),
        parse_err("body", ParseErrorKind::Malformed)
    );
    let r = json(200, &with_member(r#""expires_in":-1e309"#));
    assert_eq!(
        parse(&r).unwrap_err(),
        parse_err("body", ParseErrorKind::Malformed)
    );
}

#[test]
fn parse_03_huge_expires_in_saturates() {
    let end = Some(UnixTime::from_secs(u64::MAX));
    for quirks in [Quirks::default(), Quirks::strict()] {
        // The largest u64 overflows `now + expires_in`: saturates instead.
        assert_eq!(
            expires(r#""expires_in":18446744073709551615"#, quirks),
            Ok(end)
        );
        assert_eq!(
            expires(r#""expires_in":18446744073709551000"#, quirks),
            Ok(end)
        );
        // Integers beyond u64 are still non-negative integers: clamped, not refused.
        assert_eq!(
            expires(r#""expires_in":99999999999999999999"#, quirks),
            Ok(end)
        );
        assert_eq!(
            expires(r#""expires_in":18446744073709551616"#, quirks),
            Ok(end)
        );
    }
    // The same values as strings (with the quirk) saturate too.
    assert_eq!(
        expires(r#""expires_in":"99999999999999999999""#, Quirks::default()),
        Ok(end)
    );
    assert_eq!(
        expires(r#""expires_in":"18446744073709551615""#, Quirks::default()),
        Ok(end)
    );
    // Huge negative numbers stay refused.
    assert_eq!(
        expires(r#""expires_in":-99999999999999999999"#, Quirks::default()),
        Err(parse_err("expires_in", ParseErrorKind::InvalidValue))
    );
}

// ── scope (PARSE-04) ────────────────────────────────────────────────────────────

fn scope(member: &str, quirks: Quirks) -> Result<Option<Scope>, Error> {
    parse_with(&json(200, &with_member(member)), quirks).map(|t| t.scope)
}

#[test]
fn parse_04_scope_as_space_delimited_string() {
    assert_eq!(
        scope(r#""scope":"openid  profile email""#, Quirks::strict()),
        Ok(Some(Scope::parse("openid profile email").unwrap()))
    );
    assert_eq!(scope(r#""scope":null"#, Quirks::strict()), Ok(None));
    // A token outside RFC 6749 §3.3's charset.
    assert_eq!(
        scope(r#""scope":"a\"b""#, Quirks::strict()),
        Err(parse_err("scope", ParseErrorKind::InvalidValue))
    );
    assert_eq!(
        scope(r#""scope":42"#, Quirks::strict()),
        Err(parse_err("scope", ParseErrorKind::WrongType))
    );
}

#[test]
fn parse_04_empty_scope_string_counts_as_absent() {
    // Documented: "`null` and the empty string count as absent", so that the requested
    // scope stands for the granted one (TokenSet::from_response).
    assert_eq!(scope(r#""scope":"""#, Quirks::strict()), Ok(None));
    assert_eq!(scope(r#""scope":"""#, Quirks::tolerant()), Ok(None));
    // No token at all, however spelled, is the same as no scope member.
    assert_eq!(scope(r#""scope":"   ""#, Quirks::strict()), Ok(None));
    assert_eq!(scope(r#""scope":",""#, Quirks::github()), Ok(None));
    assert_eq!(scope(r#""scope":[]"#, Quirks::tolerant()), Ok(None));
}

#[test]
fn parse_04_comma_separated_scope_needs_the_quirk() {
    let member = r#""scope":"repo,gist user""#;
    assert_eq!(
        scope(member, Quirks::github()),
        Ok(Some(Scope::new(["repo", "gist", "user"]).unwrap()))
    );
    assert_eq!(
        scope(r#""scope":"repo,,gist,""#, Quirks::github()),
        Ok(Some(Scope::new(["repo", "gist"]).unwrap()))
    );
    // Without it a comma is an ordinary scope character: one token.
    assert_eq!(
        scope(member, Quirks::default()),
        Ok(Some(Scope::new(["repo,gist", "user"]).unwrap()))
    );
}

#[test]
fn parse_04_scope_as_json_array_needs_the_quirk() {
    let quirks = Quirks {
        scope_as_json_array: true,
        ..Quirks::strict()
    };
    assert_eq!(
        scope(r#""scope":["read","write"]"#, quirks),
        Ok(Some(Scope::new(["read", "write"]).unwrap()))
    );
    assert_eq!(
        scope(r#""scope":["read",1]"#, quirks),
        Err(parse_err("scope", ParseErrorKind::WrongType))
    );
    assert_eq!(
        scope(r#""scope":["read","a b"]"#, quirks),
        Err(parse_err("scope", ParseErrorKind::InvalidValue))
    );
    assert_eq!(
        scope(r#""scope":["read","write"]"#, Quirks::default()),
        Err(parse_err("scope", ParseErrorKind::WrongType))
    );
    assert_eq!(
        scope(r#""scope":["read","write"]"#, Quirks::strict()),
        Err(parse_err("scope", ParseErrorKind::WrongType))
    );
}

// ── refresh_token, id_token, unknown members (PARSE-05, PARSE-06) ───────────────

#[test]
fn parse_05_refresh_token_null_or_empty_is_absent() {
    for member in [r#""refresh_token":null"#, r#""refresh_token":"""#] {
        let t = parse(&json(200, &with_member(member))).unwrap();
        assert_eq!(t.refresh_token, None, "{member}");
        assert!(t.extra.is_empty(), "{member}: not kept as an extra member");
    }
    let t = parse(&json(200, &with_member(r#""refresh_token":"rt""#))).unwrap();
    assert_eq!(t.refresh_token, Some(RefreshToken::new("rt")));
    assert_eq!(
        parse(&json(200, &with_member(r#""refresh_token":7"#))).unwrap_err(),
        parse_err("refresh_token", ParseErrorKind::WrongType)
    );
}

#[test]
fn parse_id_token_null_or_empty_is_absent() {
    for member in [r#""id_token":null"#, r#""id_token":"""#] {
        assert_eq!(
            parse(&json(200, &with_member(member))).unwrap().id_token,
            None
        );
    }
    assert_eq!(
        parse(&json(200, &with_member(r#""id_token":{}"#))).unwrap_err(),
        parse_err("id_token", ParseErrorKind::WrongType)
    );
}

#[test]
fn parse_06_unknown_members_and_null() {
    let r = json(
        200,
        r#"{"access_token":"x","token_type":"Bearer","refresh_token":null,"foo":{}}"#,
    );
    let t = parse_with(&r, Quirks::strict()).unwrap();
    assert_eq!(t.access_token.secret(), "x");
    assert_eq!(t.refresh_token, None);
    assert_eq!(t.extra.len(), 1);
    assert_eq!(t.extra["foo"], serde_json::json!({}));
}

// ── access_token (PARSE-07, ERR-02) ─────────────────────────────────────────────

#[test]
fn parse_07_access_token_missing_or_empty() {
    let missing = parse_err("access_token", ParseErrorKind::Missing);
    for body in [
        r#"{"token_type":"Bearer"}"#,
        r#"{"access_token":"","token_type":"Bearer"}"#,
        r#"{"access_token":null,"token_type":"Bearer"}"#,
    ] {
        assert_eq!(parse(&json(200, body)).unwrap_err(), missing, "{body}");
        assert_eq!(
            parse_with(&json(200, body), Quirks::tolerant()).unwrap_err(),
            missing,
            "{body}"
        );
    }
    assert_eq!(
        parse(&json(200, r#"{"access_token":1,"token_type":"Bearer"}"#)).unwrap_err(),
        parse_err("access_token", ParseErrorKind::WrongType)
    );
}

#[test]
fn parse_07_access_token_must_be_token68() {
    let body = serde_json::json!({"access_token": "abc\r\nX-Evil: 1", "token_type": "Bearer"});
    let r = json(200, &body.to_string());
    assert_eq!(
        parse(&r).unwrap_err(),
        Error::Violation(Violation::InvalidAccessTokenSyntax)
    );
    assert_eq!(
        parse_with(&r, Quirks::tolerant()).unwrap_err(),
        Error::Violation(Violation::InvalidAccessTokenSyntax)
    );
    for bad in ["a b", "a\"b", "tok,en", "=abc", "é"] {
        let body = serde_json::json!({"access_token": bad, "token_type": "Bearer"});
        assert_eq!(
            parse(&json(200, &body.to_string())).unwrap_err(),
            Error::Violation(Violation::InvalidAccessTokenSyntax),
            "{bad:?}"
        );
    }
    // The whole token68 alphabet, with trailing padding, is fine.
    let good = "AZaz09-._~+/==";
    let body = serde_json::json!({"access_token": good, "token_type": "Bearer"});
    assert_eq!(
        parse(&json(200, &body.to_string()))
            .unwrap()
            .access_token
            .secret(),
        good
    );
}

#[test]
fn err_02_error_in_200_is_an_error() {
    let r = json(
        200,
        r#"{"error":"invalid_grant","error_description":"code expired"}"#,
    );
    match parse(&r) {
        Err(Error::Server(e)) => {
            assert_eq!(e.code, ErrorCode::InvalidGrant);
            assert_eq!(e.description.as_deref(), Some("code expired"));
            assert_eq!(e.status, Some(StatusCode::OK));
        }
        other => panic!("unexpected {other:?}"),
    }
    match parse_with(&r, Quirks::strict()) {
        Err(Error::Violation(Violation::ErrorInSuccessResponse(e))) => {
            assert_eq!(e.code, ErrorCode::InvalidGrant);
            assert_eq!(e.status, Some(StatusCode::OK));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn err_02_error_wins_over_a_token_in_the_same_body() {
    // CVE-2021-41580: never take a token from a body that says `error`.
    let r = json(
        200,
        r#"{"access_token":"at","token_type":"Bearer","error":"access_denied"}"#,
    );
    for quirks in [Quirks::default(), Quirks::strict(), Quirks::tolerant()] {
        let e = parse_with(&r, quirks).unwrap_err();
        assert!(
            matches!(
                &e,
                Error::Server(er) if er.code == ErrorCode::AccessDenied
            ) || matches!(
                &e,
                Error::Violation(Violation::ErrorInSuccessResponse(er)) if er.code == ErrorCode::AccessDenied
            ),
            "{quirks:?}: {e:?}"
        );
    }
}

#[test]
fn err_02_empty_object_is_missing_access_token() {
    assert_eq!(
        parse(&json(200, "{}")).unwrap_err(),
        parse_err("access_token", ParseErrorKind::Missing)
    );
    assert_eq!(
        parse_with(&json(200, "{}"), Quirks::strict()).unwrap_err(),
        parse_err("access_token", ParseErrorKind::Missing)
    );
}

// ── error statuses (ERR-01, ERR-05, ERR-06, TOK-07) ─────────────────────────────

#[test]
fn err_01_invalid_grant_on_400() {
    let r = json(
        400,
        r#"{"error":"invalid_grant","error_description":"expired","error_uri":"https://as.example/e"}"#,
    );
    let e = parse(&r).unwrap_err();
    match &e {
        Error::Server(er) => {
            assert_eq!(er.code, ErrorCode::InvalidGrant);
            assert_eq!(er.status, Some(StatusCode::BAD_REQUEST));
            assert_eq!(er.description.as_deref(), Some("expired"));
            assert_eq!(er.uri.as_deref(), Some("https://as.example/e"));
            assert_eq!(er.retry_after, None);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(e.status(), Some(StatusCode::BAD_REQUEST));
    assert!(e.needs_new_authorization());
    assert!(!e.is_retryable());
    // Same with the strict quirks: the status is not 2xx.
    assert!(matches!(
        parse_with(&r, Quirks::strict()),
        Err(Error::Server(er)) if er.code == ErrorCode::InvalidGrant
    ));
}

#[test]
fn err_01_invalid_client_on_401_form_encoded() {
    let r = resp(
        401,
        Some(FORM),
        "error=invalid_client&error_description=bad+secret",
    );
    match parse(&r) {
        Err(Error::Server(er)) => {
            assert_eq!(er.code, ErrorCode::InvalidClient);
            assert_eq!(er.description.as_deref(), Some("bad secret"));
            assert_eq!(er.status, Some(StatusCode::UNAUTHORIZED));
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn err_05_html_500_is_a_retryable_http_error() {
    let r = resp(
        500,
        Some("text/html; charset=utf-8"),
        "<html><body>Internal Server Error</body></html>",
    );
    let e = parse(&r).unwrap_err();
    match &e {
        Error::Http(h) => {
            assert_eq!(h.status, StatusCode::INTERNAL_SERVER_ERROR);
            assert_eq!(h.content_type.as_deref(), Some("text/html; charset=utf-8"));
            assert!(h.snippet.contains("Internal Server Error"), "{}", h.snippet);
            assert_eq!(h.retry_after, None);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(e.is_retryable());
    assert!(!e.needs_new_authorization());
    assert_eq!(e.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
}

#[test]
fn err_05_error_status_with_unreadable_json_is_http_error() {
    // A truncated JSON body on a 502: not an OAuth error, so an HTTP error.
    let e = parse(&json(502, r#"{"message":"#)).unwrap_err();
    assert!(
        matches!(&e, Error::Http(h) if h.status == StatusCode::BAD_GATEWAY),
        "{e:?}"
    );
    // JSON without `error` on a 4xx: an HTTP error too, not retryable.
    let e = parse(&json(404, r#"{"message":"not found"}"#)).unwrap_err();
    assert!(
        matches!(&e, Error::Http(h) if h.status == StatusCode::NOT_FOUND),
        "{e:?}"
    );
    assert!(!e.is_retryable());
}

#[test]
fn err_05_snippet_does_not_leak_tokens() {
    let r = resp(
        500,
        Some("text/html"),
        "<p>access_token=2YotnFZFEjr1zCsicMWpAA2YotnFZFEjr1zCsicMWpAA</p>",
    );
    match parse(&r) {
        Err(Error::Http(h)) => {
            assert!(
                !h.snippet.contains("2YotnFZFEjr1zCsicMWpAA"),
                "{}",
                h.snippet
            );
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn err_01_503_with_retry_after() {
    // An empty 503 with Retry-After: an HTTP error carrying the absolute time.
    let r = http::Response::builder()
        .status(503)
        .header("retry-after", "120")
        .body(Vec::new())
        .unwrap();
    let e = parse(&r).unwrap_err();
    assert!(matches!(&e, Error::Http(h) if h.status == StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(e.retry_after(), Some(NOW.saturating_add(120)));
    assert!(e.is_retryable());

    // An OAuth error body on a 503 with Retry-After: a server error carrying it.
    let r = http::Response::builder()
        .status(503)
        .header("content-type", JSON)
        .header("retry-after", "30")
        .body(br#"{"error":"temporarily_unavailable"}"#.to_vec())
        .unwrap();
    let e = parse(&r).unwrap_err();
    match &e {
        Error::Server(er) => {
            assert_eq!(er.code, ErrorCode::TemporarilyUnavailable);
            assert_eq!(er.retry_after, Some(NOW.saturating_add(30)));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(e.retry_after(), Some(NOW.saturating_add(30)));
    assert!(e.is_retryable());
}

#[test]
fn tok_07_redirect_is_a_violation() {
    for status in [301u16, 302, 303, 307, 308] {
        let r = http::Response::builder()
            .status(status)
            .header("location", "https://evil.example/token")
            .header("content-type", JSON)
            .body(br#"{"access_token":"at","token_type":"Bearer"}"#.to_vec())
            .unwrap();
        assert_eq!(
            parse(&r).unwrap_err(),
            Error::Violation(Violation::UnexpectedRedirect(
                StatusCode::from_u16(status).unwrap()
            )),
            "{status}"
        );
    }
    let r = resp(302, None, "");
    assert_eq!(
        parse_with(&r, Quirks::tolerant()).unwrap_err(),
        Error::Violation(Violation::UnexpectedRedirect(StatusCode::FOUND))
    );
}

// ── body formats (PARSE-08) ─────────────────────────────────────────────────────

const FORM_BODY: &str = "access_token=gho_16C7e42F292c6912E7710c838347Ae178B4a&token_type=bearer&scope=repo%2Cgist&expires_in=3600";
const JSON_BODY: &str = r#"{"access_token":"gho_16C7e42F292c6912E7710c838347Ae178B4a","token_type":"bearer","scope":"repo,gist","expires_in":3600}"#;

#[test]
fn parse_08_form_body_gives_the_same_token_as_json() {
    for quirks in [Quirks::default(), Quirks::github(), Quirks::tolerant()] {
        let from_form = parse_with(&resp(200, Some(FORM), FORM_BODY), quirks).unwrap();
        let from_json = parse_with(&json(200, JSON_BODY), quirks).unwrap();
        assert_eq!(from_form, from_json, "{quirks:?}");
        assert_eq!(
            from_form.access_token.secret(),
            "gho_16C7e42F292c6912E7710c838347Ae178B4a"
        );
        assert_eq!(from_form.token_type, TokenType::Bearer);
        assert_eq!(from_form.expires_at, Some(NOW.saturating_add(3600)));
    }
    // GitHub's comma-separated scope, split with its quirks.
    let t = parse_with(&resp(200, Some(FORM), FORM_BODY), Quirks::github()).unwrap();
    assert_eq!(t.scope, Some(Scope::new(["repo", "gist"]).unwrap()));
    let t = parse(&resp(200, Some(FORM), FORM_BODY)).unwrap();
    assert_eq!(t.scope, Some(Scope::new(["repo,gist"]).unwrap()));
}

#[test]
fn parse_08_form_body_is_refused_under_strict() {
    let e = parse_with(&resp(200, Some(FORM), FORM_BODY), Quirks::strict()).unwrap_err();
    assert_eq!(
        e,
        parse_err("body", ParseErrorKind::UnsupportedContentType(FORM.into()))
    );
    // The JSON form of the same response is fine.
    assert!(parse_with(&json(200, JSON_BODY), Quirks::strict()).is_ok());
}

#[test]
fn parse_08_text_plain_is_sniffed() {
    let t = parse(&resp(200, Some("text/plain"), JSON_BODY)).unwrap();
    let expected = parse(&json(200, JSON_BODY)).unwrap();
    assert_eq!(t, expected);
    let t = parse(&resp(200, Some("text/plain; charset=utf-8"), FORM_BODY)).unwrap();
    assert_eq!(t, expected);
    // Leading whitespace before the object still reads as JSON.
    let t = parse(&resp(200, Some("text/plain"), format!("\n  {JSON_BODY}"))).unwrap();
    assert_eq!(t, expected);
    for body in [JSON_BODY, FORM_BODY] {
        assert_eq!(
            parse_with(&resp(200, Some("text/plain"), body), Quirks::strict()).unwrap_err(),
            parse_err(
                "body",
                ParseErrorKind::UnsupportedContentType("text/plain".into())
            )
        );
    }
}

#[test]
fn parse_08_other_content_type_on_200_is_refused() {
    let e = parse(&resp(200, Some("text/html"), JSON_BODY)).unwrap_err();
    assert_eq!(
        e,
        parse_err(
            "body",
            ParseErrorKind::UnsupportedContentType("text/html".into())
        )
    );
}

#[test]
fn parse_08_form_error_on_200_is_an_error() {
    // GitHub: `200 error=bad_verification_code`.
    let r = resp(
        200,
        Some(FORM),
        "error=bad_verification_code&error_description=The+code+is+incorrect",
    );
    match parse_with(&r, Quirks::github()) {
        Err(Error::Server(er)) => {
            assert_eq!(er.code, ErrorCode::Other("bad_verification_code".into()));
            assert_eq!(er.description.as_deref(), Some("The code is incorrect"));
        }
        other => panic!("unexpected {other:?}"),
    }
}

// ── robustness (PARSE-09, PARSE-10) ─────────────────────────────────────────────

#[test]
fn parse_09_duplicate_keys_json_and_form() {
    let dup = parse_err("body", ParseErrorKind::DuplicateKey("access_token".into()));
    let r = json(
        200,
        r#"{"access_token":"a","token_type":"Bearer","access_token":"b"}"#,
    );
    assert_eq!(parse(&r).unwrap_err(), dup);
    let r = resp(
        200,
        Some(FORM),
        "access_token=a&token_type=bearer&access_token=b",
    );
    assert_eq!(parse(&r).unwrap_err(), dup);
    // Duplicates are refused on error statuses too (never read further).
    let r = json(400, r#"{"error":"invalid_grant","error":"x"}"#);
    assert_eq!(
        parse(&r).unwrap_err(),
        parse_err("body", ParseErrorKind::DuplicateKey("error".into()))
    );
    // An unknown member given twice is refused as well.
    let r = json(200, &with_member(r#""foo":1,"foo":2"#));
    assert_eq!(
        parse(&r).unwrap_err(),
        parse_err("body", ParseErrorKind::DuplicateKey("foo".into()))
    );
}

#[test]
fn parse_10_not_utf8() {
    let mut body = br#"{"access_token":"a"#.to_vec();
    body.extend_from_slice(&[0xff, 0xfe]);
    body.extend_from_slice(br#"","token_type":"Bearer"}"#);
    assert_eq!(
        parse(&resp(200, Some(JSON), body)).unwrap_err(),
        parse_err("body", ParseErrorKind::NotUtf8)
    );
    assert_eq!(
        parse(&resp(
            200,
            Some(FORM),
            b"access_token=\xff&token_type=bearer".to_vec()
        ))
        .unwrap_err(),
        parse_err("body", ParseErrorKind::NotUtf8)
    );
}

#[test]
fn parse_10_bom_is_accepted() {
    let body = format!("\u{feff}{JSON_BODY}");
    assert_eq!(
        parse(&json(200, &body)).unwrap(),
        parse(&json(200, JSON_BODY)).unwrap()
    );
    // Only one BOM is stripped.
    let body = format!("\u{feff}\u{feff}{JSON_BODY}");
    assert_eq!(
        parse(&json(200, &body)).unwrap_err(),
        parse_err("body", ParseErrorKind::Malformed)
    );
}

#[test]
fn parse_10_truncated_is_retryable() {
    for body in [r#"{"access_token":"a"#, "", "{", r#"{"access_token":"a","#] {
        let e = parse(&json(200, body)).unwrap_err();
        assert_eq!(e, parse_err("body", ParseErrorKind::Truncated), "{body:?}");
        assert!(e.is_retryable(), "{body:?}");
    }
}

#[test]
fn parse_10_malformed_is_not_retryable() {
    for body in ["{} x", "{access_token:1}", r#"{"a":"\ud800"}"#, "nope"] {
        let e = parse(&json(200, body)).unwrap_err();
        assert_eq!(e, parse_err("body", ParseErrorKind::Malformed), "{body:?}");
        assert!(!e.is_retryable());
    }
}

#[test]
fn parse_10_oversized_body() {
    let options = ParseOptions {
        quirks: Quirks::default(),
        limits: Limits { max_body_bytes: 16 },
    };
    let too_large = parse_err("body", ParseErrorKind::TooLarge { limit: 16 });
    let r = json(200, r#"{"access_token":"at","token_type":"Bearer"}"#);
    assert_eq!(token_response(&r, NOW, &options).unwrap_err(), too_large);
    // Also on an error status, and for a form body.
    let r = json(400, r#"{"error":"invalid_grant_but_long"}"#);
    assert_eq!(token_response(&r, NOW, &options).unwrap_err(), too_large);
    let r = resp(200, Some(FORM), "access_token=at&token_type=bearer");
    assert_eq!(token_response(&r, NOW, &options).unwrap_err(), too_large);
    // Exactly at the limit is read.
    let body = r#"{"access_token":1}"#;
    let options = ParseOptions {
        limits: Limits {
            max_body_bytes: body.len(),
        },
        ..options
    };
    assert_eq!(
        token_response(&json(200, body), NOW, &options).unwrap_err(),
        parse_err("access_token", ParseErrorKind::WrongType)
    );
}

#[test]
fn parse_10_non_object_json() {
    for body in [
        "[]",
        r#""x""#,
        "null",
        "42",
        "true",
        r#"[{"access_token":"a"}]"#,
    ] {
        assert_eq!(
            parse(&json(200, body)).unwrap_err(),
            parse_err("body", ParseErrorKind::NotAnObject),
            "{body}"
        );
    }
}

#[test]
fn parse_10_deep_nesting_is_a_typed_error() {
    let deep = format!(
        r#"{{"access_token":"at","token_type":"Bearer","x":{}{}}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    assert_eq!(
        parse(&json(200, &deep)).unwrap_err(),
        parse_err("body", ParseErrorKind::Malformed)
    );
}

#[test]
fn error_member_of_wrong_type_is_a_parse_error() {
    assert_eq!(
        parse(&json(
            200,
            r#"{"error":1,"access_token":"at","token_type":"Bearer"}"#
        ))
        .unwrap_err(),
        parse_err("error", ParseErrorKind::WrongType)
    );
    // `"error":null` counts as absent.
    assert!(parse(&json(200, &with_member(r#""error":null"#))).is_ok());
}

#[test]
fn parse_08_form_bodies_read_numbers_without_the_string_quirk() {
    // A form body has no numbers, only strings: `expires_in=3600` is the number 3600
    // whether or not the JSON-string quirk is on.
    let quirks = Quirks {
        form_encoded_body: true,
        ..Quirks::strict()
    };
    let r = resp(
        200,
        Some("application/x-www-form-urlencoded"),
        "access_token=abc&token_type=bearer&expires_in=3600",
    );
    let t = parse_with(&r, quirks).unwrap();
    assert_eq!(t.expires_at, Some(NOW.saturating_add(3600)));
    // In JSON, a string stays a string unless the quirk says otherwise.
    let j = json(
        200,
        r#"{"access_token":"abc","token_type":"Bearer","expires_in":"3600"}"#,
    );
    assert!(parse_with(&j, quirks).is_err());
}
