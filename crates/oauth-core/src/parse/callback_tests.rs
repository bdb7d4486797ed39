//! Unit tests for [`super::callback`] and [`super::callback_state`]: checklist
//! section 3 (RESP-*).

use super::callback_state;
use crate::error::{Error, ErrorCode, ParseErrorKind, Violation};
use crate::parse::{CallbackExpectation, callback};
use url::Url;

const STATE: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const ISSUER: &str = "https://as.example";
const REDIRECT: &str = "http://127.0.0.1:8080/cb";

fn redirect_uri() -> Url {
    Url::parse(REDIRECT).unwrap()
}

fn expectation(redirect_uri: &Url, require_issuer: bool) -> CallbackExpectation<'_> {
    CallbackExpectation {
        state: STATE,
        redirect_uri,
        issuer: Some(ISSUER),
        require_issuer,
    }
}

/// Runs `callback` on `REDIRECT?query` with the issuer configured and not required.
fn run(query: &str) -> Result<String, Error> {
    run_url(&format!("{REDIRECT}?{query}"), false)
}

fn run_url(url: &str, require_issuer: bool) -> Result<String, Error> {
    let want = redirect_uri();
    let url = Url::parse(url).unwrap();
    callback(&url, &expectation(&want, require_issuer)).map(|c| c.secret().to_owned())
}

fn violation(v: Violation) -> Result<String, Error> {
    Err(Error::Violation(v))
}

#[test]
fn happy_path_returns_the_code() {
    assert_eq!(
        run(&format!("code=SplxlOBeZQQYbYS6WxSbIA&state={STATE}")),
        Ok("SplxlOBeZQQYbYS6WxSbIA".into())
    );
    // Parameter order does not matter; `iss` equal to the issuer is fine.
    assert_eq!(
        run(&format!(
            "iss=https%3A%2F%2Fas.example&state={STATE}&code=c"
        )),
        Ok("c".into())
    );
}

#[test]
fn callback_debug_of_expectation_hides_state() {
    let want = redirect_uri();
    let d = format!("{:?}", expectation(&want, true));
    assert!(!d.contains(STATE), "{d}");
    assert!(d.contains(REDIRECT), "{d}");
}

// ── RESP-01 ─────────────────────────────────────────────────────────────────────

#[test]
fn resp_01_appendix_b_decoding_of_the_code() {
    assert_eq!(
        run(&format!("code=+%25%26%2B%C2%A3%E2%82%AC&state={STATE}")),
        Ok(" %&+£€".into())
    );
}

#[test]
fn resp_01_values_round_trip_through_a_form_serializer() {
    for code in [" %&+£€", "a=b&c", "x+y z", "~-._*", "日本語", "%41"] {
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("code", code)
            .append_pair("state", STATE)
            .finish();
        assert_eq!(run(&query), Ok(code.to_owned()), "{code:?} via {query}");
    }
}

#[test]
fn resp_01_invalid_percent_encoding_is_a_parse_error() {
    for query in [
        format!("code=%zz&state={STATE}"),
        format!("code=abc%4&state={STATE}"),
        format!("code=abc&state={STATE}%"),
    ] {
        match run(&query) {
            Err(Error::Parse(p)) => {
                assert_eq!(p.field, "callback", "{query}");
                assert_eq!(p.kind, ParseErrorKind::InvalidPercentEncoding, "{query}");
            }
            other => panic!("{query}: unexpected {other:?}"),
        }
    }
    // Escapes that decode to bytes that are not UTF-8.
    match run(&format!("code=%FF&state={STATE}")) {
        Err(Error::Parse(p)) => {
            assert_eq!(p.field, "callback");
            assert_eq!(p.kind, ParseErrorKind::NotUtf8);
        }
        other => panic!("unexpected {other:?}"),
    }
}

// ── RESP-02 ─────────────────────────────────────────────────────────────────────

#[test]
fn resp_02_duplicate_parameters_are_rejected() {
    assert_eq!(
        run(&format!("code=a&code=b&state={STATE}")),
        violation(Violation::DuplicateParameter("code".into()))
    );
    assert_eq!(
        run(&format!("code=a&state={STATE}&state={STATE}")),
        violation(Violation::DuplicateParameter("state".into()))
    );
    // Even with identical values, and for `iss`, `error` and unknown parameters.
    assert_eq!(
        run(&format!("code=a&code=a&state={STATE}")),
        violation(Violation::DuplicateParameter("code".into()))
    );
    assert_eq!(
        run(&format!("code=a&state={STATE}&iss={ISSUER}&iss={ISSUER}")),
        violation(Violation::DuplicateParameter("iss".into()))
    );
    assert_eq!(
        run(&format!("error=x&error=y&state={STATE}")),
        violation(Violation::DuplicateParameter("error".into()))
    );
    assert_eq!(
        run(&format!("code=a&state={STATE}&foo=1&foo=2")),
        violation(Violation::DuplicateParameter("foo".into()))
    );
    // A duplicate written with a different encoding is still a duplicate.
    assert_eq!(
        run(&format!("code=a&%63ode=b&state={STATE}")),
        violation(Violation::DuplicateParameter("code".into()))
    );
}

// ── RESP-03 / RESP-05 ───────────────────────────────────────────────────────────

#[test]
fn resp_03_empty_state_is_missing() {
    assert_eq!(run("code=c&state="), violation(Violation::StateMissing));
    assert_eq!(run("code=c&state"), violation(Violation::StateMissing));
    assert_eq!(run("code=c"), violation(Violation::StateMissing));
    assert_eq!(
        run_url(REDIRECT, false),
        violation(Violation::StateMissing),
        "no query at all"
    );
}

#[test]
fn resp_05_wrong_state_is_a_mismatch() {
    let shorter = &STATE[..STATE.len() - 1];
    let mut flipped = STATE.to_owned();
    flipped.replace_range(0..1, "e");
    let longer = format!("{STATE}x");
    for wrong in [shorter, flipped.as_str(), longer.as_str(), "x"] {
        assert_eq!(
            run(&format!("code=c&state={wrong}")),
            violation(Violation::StateMismatch),
            "{wrong}"
        );
    }
    // Case matters.
    assert_eq!(
        run(&format!("code=c&state={}", STATE.to_ascii_uppercase())),
        violation(Violation::StateMismatch)
    );
}

#[test]
fn resp_05_error_with_bad_state_is_not_authorization_denied() {
    // Anyone can forge an error redirect; without the right state it is not believed.
    assert_eq!(
        run("error=access_denied&state=forged"),
        violation(Violation::StateMismatch)
    );
    assert_eq!(
        run("error=access_denied"),
        violation(Violation::StateMissing)
    );
    assert_eq!(
        run("error=access_denied&state="),
        violation(Violation::StateMissing)
    );
}

#[test]
fn resp_05_state_is_checked_before_iss_and_front_channel_tokens() {
    assert_eq!(
        run("code=c&state=forged&iss=https%3A%2F%2Fevil.example"),
        violation(Violation::StateMismatch)
    );
    assert_eq!(
        run("state=forged&access_token=x"),
        violation(Violation::StateMismatch)
    );
}

// ── RESP-04 ─────────────────────────────────────────────────────────────────────

#[test]
fn resp_04_unknown_parameters_are_ignored() {
    assert_eq!(
        run(&format!(
            "session_state=abc.def&code=c&foo=bar&state={STATE}&authuser=0&prompt=consent&empty="
        )),
        Ok("c".into())
    );
}

// ── RESP-06 ─────────────────────────────────────────────────────────────────────

#[test]
fn resp_06_issuer_matrix() {
    let encode =
        |s: &str| -> String { url::form_urlencoded::byte_serialize(s.as_bytes()).collect() };
    // (iss parameter, outcome when not required, outcome when required)
    type Outcome = Result<(), Violation>;
    let cases: [(Option<&str>, Outcome, Outcome); 6] = [
        (None, Ok(()), Err(Violation::IssuerMissing)),
        (Some("https://as.example"), Ok(()), Ok(())),
        (
            Some("https://as.example/"),
            Err(Violation::IssuerMismatch),
            Err(Violation::IssuerMismatch),
        ),
        (
            Some("https://AS.example"),
            Err(Violation::IssuerMismatch),
            Err(Violation::IssuerMismatch),
        ),
        (
            Some("HTTPS://as.example"),
            Err(Violation::IssuerMismatch),
            Err(Violation::IssuerMismatch),
        ),
        (
            Some("https://evil.example"),
            Err(Violation::IssuerMismatch),
            Err(Violation::IssuerMismatch),
        ),
    ];
    for (iss, not_required, required) in cases {
        let query = match iss {
            Some(i) => format!("code=c&state={STATE}&iss={}", encode(i)),
            None => format!("code=c&state={STATE}"),
        };
        let url = format!("{REDIRECT}?{query}");
        for (require, want) in [(false, &not_required), (true, &required)] {
            let got = run_url(&url, require);
            match want {
                Ok(()) => assert_eq!(got, Ok("c".into()), "iss={iss:?} require={require}"),
                Err(v) => assert_eq!(
                    got,
                    Err(Error::Violation(v.clone())),
                    "iss={iss:?} require={require}"
                ),
            }
        }
    }
}

#[test]
fn resp_06_empty_iss_counts_as_absent() {
    assert_eq!(
        run_url(&format!("{REDIRECT}?code=c&state={STATE}&iss="), true),
        violation(Violation::IssuerMissing)
    );
    assert_eq!(
        run_url(&format!("{REDIRECT}?code=c&state={STATE}&iss="), false),
        Ok("c".into())
    );
}

#[test]
fn resp_06_iss_without_configured_issuer_is_accepted() {
    let want = redirect_uri();
    let url = Url::parse(&format!(
        "{REDIRECT}?code=c&state={STATE}&iss=https%3A%2F%2Fanything.example"
    ))
    .unwrap();
    let expected = CallbackExpectation {
        state: STATE,
        redirect_uri: &want,
        issuer: None,
        require_issuer: false,
    };
    assert_eq!(callback(&url, &expected).unwrap().secret(), "c");
}

#[test]
fn resp_06_iss_is_checked_before_the_error() {
    // RFC 9207: do not assume an error came from the intended server.
    assert_eq!(
        run(&format!(
            "error=access_denied&state={STATE}&iss=https%3A%2F%2Fevil.example"
        )),
        violation(Violation::IssuerMismatch)
    );
    assert_eq!(
        run_url(
            &format!("{REDIRECT}?error=access_denied&state={STATE}"),
            true
        ),
        violation(Violation::IssuerMissing)
    );
}

// ── RESP-07 ─────────────────────────────────────────────────────────────────────

#[test]
fn resp_07_error_redirect_after_good_state() {
    let e = run(&format!(
        "error=access_denied&error_description=The+user+said+%22no%22%1B%5B31m&error_uri=https%3A%2F%2Fas.example%2Ferr&state={STATE}&iss=https%3A%2F%2Fas.example"
    ))
    .unwrap_err();
    match &e {
        Error::AuthorizationDenied(er) => {
            assert_eq!(er.code, ErrorCode::AccessDenied);
            let d = er.description.as_deref().unwrap();
            assert!(d.starts_with("The user said \"no\""), "{d}");
            assert!(!d.contains('\u{1b}'), "{d:?}");
            assert!(d.contains("\\u{1b}[31m"), "{d:?}");
            assert_eq!(er.uri.as_deref(), Some("https://as.example/err"));
            assert_eq!(er.status, None);
            assert_eq!(er.retry_after, None);
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(e.needs_new_authorization());
    assert!(!e.is_retryable());
}

#[test]
fn resp_07_error_codes_are_mapped_and_unknown_ones_kept() {
    for (code, want) in [
        ("invalid_request", ErrorCode::InvalidRequest),
        ("unauthorized_client", ErrorCode::UnauthorizedClient),
        ("access_denied", ErrorCode::AccessDenied),
        (
            "unsupported_response_type",
            ErrorCode::UnsupportedResponseType,
        ),
        ("invalid_scope", ErrorCode::InvalidScope),
        ("server_error", ErrorCode::ServerError),
        ("temporarily_unavailable", ErrorCode::TemporarilyUnavailable),
        ("login_required", ErrorCode::Other("login_required".into())),
        (
            "consent_required",
            ErrorCode::Other("consent_required".into()),
        ),
    ] {
        match run(&format!("error={code}&state={STATE}")) {
            Err(Error::AuthorizationDenied(er)) => {
                assert_eq!(er.code, want, "{code}");
                assert_eq!(er.description, None);
                assert_eq!(er.uri, None);
            }
            other => panic!("{code}: unexpected {other:?}"),
        }
    }
    // A retryable error code makes the error retryable.
    assert!(
        run(&format!("error=temporarily_unavailable&state={STATE}"))
            .unwrap_err()
            .is_retryable()
    );
}

#[test]
fn resp_07_unknown_error_code_is_sanitised() {
    match run(&format!(
        "error=x%1B%5D8%3B%3Bhttp%3A%2F%2Fevil&state={STATE}"
    )) {
        Err(Error::AuthorizationDenied(er)) => {
            let code = er.code.as_str();
            assert!(!code.contains('\u{1b}'), "{code:?}");
            assert!(code.starts_with("x\\u{1b}"), "{code:?}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn resp_07_code_and_error_together() {
    assert_eq!(
        run(&format!("code=c&error=access_denied&state={STATE}")),
        violation(Violation::CodeAndError)
    );
    // An empty code is absent: just an error.
    assert!(matches!(
        run(&format!("code=&error=access_denied&state={STATE}")),
        Err(Error::AuthorizationDenied(er)) if er.code == ErrorCode::AccessDenied
    ));
}

// ── RESP-08 ─────────────────────────────────────────────────────────────────────

#[test]
fn resp_08_missing_or_empty_code() {
    assert_eq!(
        run(&format!("state={STATE}")),
        violation(Violation::MissingCode)
    );
    assert_eq!(
        run(&format!("code=&state={STATE}")),
        violation(Violation::MissingCode)
    );
    assert_eq!(
        run(&format!("code&state={STATE}")),
        violation(Violation::MissingCode)
    );
}

#[test]
fn resp_08_long_code_is_accepted() {
    let code = "A".repeat(4096);
    assert_eq!(run(&format!("code={code}&state={STATE}")), Ok(code));
}

// ── RESP-09 ─────────────────────────────────────────────────────────────────────

#[test]
fn resp_09_tokens_in_the_query_are_rejected() {
    for name in ["access_token", "id_token", "token_type"] {
        assert_eq!(
            run(&format!("code=c&state={STATE}&{name}=x")),
            violation(Violation::FrontChannelToken(name)),
            "{name}"
        );
        // Also next to an error: a front-channel token is never acceptable.
        assert_eq!(
            run(&format!("error=access_denied&state={STATE}&{name}=x")),
            violation(Violation::FrontChannelToken(name)),
            "{name}"
        );
    }
}

#[test]
fn resp_09_response_in_fragment_is_rejected() {
    for fragment in [
        format!("code=c&state={STATE}"),
        "access_token=x&token_type=bearer".to_owned(),
        "id_token=x".to_owned(),
        "error=access_denied".to_owned(),
        "iss=https%3A%2F%2Fas.example".to_owned(),
        "state".to_owned(),
    ] {
        assert_eq!(
            run_url(&format!("{REDIRECT}#{fragment}"), false),
            violation(Violation::ResponseInFragment),
            "{fragment}"
        );
        // Even when the query is a valid response.
        assert_eq!(
            run_url(
                &format!("{REDIRECT}?code=c&state={STATE}#{fragment}"),
                false
            ),
            violation(Violation::ResponseInFragment),
            "{fragment}"
        );
    }
    // A fragment without response parameters is not a response in the fragment.
    assert_eq!(
        run_url(&format!("{REDIRECT}?code=c&state={STATE}#_=_"), false),
        Ok("c".into())
    );
}

// ── redirect URI (RFC 9700 §4.4.2.2) ────────────────────────────────────────────

#[test]
fn callback_at_another_redirect_uri_is_rejected() {
    let query = format!("code=c&state={STATE}");
    for base in [
        "http://127.0.0.1:8080/other",
        "http://127.0.0.1:8080/cb/",
        "http://127.0.0.1:8080/CB",
        "http://127.0.0.1:8080/",
        "http://127.0.0.1:8081/cb",
        "http://127.0.0.1/cb",
        "http://127.0.0.2:8080/cb",
        "http://localhost:8080/cb",
        "http://[::1]:8080/cb",
        "https://127.0.0.1:8080/cb",
        "http://evil.example:8080/cb",
    ] {
        assert_eq!(
            run_url(&format!("{base}?{query}"), false),
            violation(Violation::RedirectUriMismatch),
            "{base}"
        );
    }
}

#[test]
fn redirect_uri_comparison_uses_default_ports() {
    let want = Url::parse("https://app.example/cb").unwrap();
    let expected = CallbackExpectation {
        state: STATE,
        redirect_uri: &want,
        issuer: None,
        require_issuer: false,
    };
    for got in [
        format!("https://app.example/cb?code=c&state={STATE}"),
        format!("https://app.example:443/cb?code=c&state={STATE}"),
        format!("https://APP.example/cb?code=c&state={STATE}"),
    ] {
        let url = Url::parse(&got).unwrap();
        assert_eq!(callback(&url, &expected).unwrap().secret(), "c", "{got}");
    }
    let url = Url::parse(&format!("https://app.example:8443/cb?code=c&state={STATE}")).unwrap();
    assert_eq!(
        callback(&url, &expected).unwrap_err(),
        Error::Violation(Violation::RedirectUriMismatch)
    );
}

#[test]
fn redirect_uri_mismatch_is_checked_before_state() {
    assert_eq!(
        run_url("http://evil.example/cb?error=access_denied", false),
        violation(Violation::RedirectUriMismatch)
    );
}

// ── callback_state (used by Flow::accepts) ──────────────────────────────────────

#[test]
fn callback_state_needs_exactly_one_state() {
    let url = |q: &str| Url::parse(&format!("{REDIRECT}?{q}")).unwrap();
    assert_eq!(callback_state(&url("code=c&state=abc")), Some("abc".into()));
    assert_eq!(callback_state(&url("state=a%2Bb+c")), Some("a+b c".into()));
    assert_eq!(callback_state(&url("code=c")), None);
    assert_eq!(callback_state(&url("state=a&state=a")), None);
    assert_eq!(callback_state(&url("state=%zz")), None);
    assert_eq!(callback_state(&Url::parse(REDIRECT).unwrap()), None);
}
