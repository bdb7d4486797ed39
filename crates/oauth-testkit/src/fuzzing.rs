//! The bodies of the fuzz targets in `fuzz/fuzz_targets/`, compiled on stable.
//!
//! Each target is a one-line call into a function here, and the workspace test
//! `tests/corpus` replays every file of `fuzz/corpus/<target>/` through the same
//! function, so a crash found by fuzzing once stays fixed.
//!
//! The invariant of every function: **the parser returns `Ok` or a typed `Err` and
//! never panics**; on top of that each one asserts the properties written above it.
//! A failed assertion here is a bug in `oauth-core`.

use crate::rng::SeededRng;
use crate::server::{Decision, FakeAuthorizationServer, RegisteredClient};
use http::{HeaderValue, StatusCode};
use oauth_core::parse::{
    self, CallbackExpectation, Limits, ParseOptions, Quirks, bearer_challenge, parse_challenges,
    parse_form,
};
use oauth_core::{
    AuthorizationCodeFlow, AuthorizationParams, ClientAuth, ClientRegistration, ClientSecret,
    Error, Flow, HttpResponse, Input, Output, Scope, TransportErrorKind, TransportFailure,
    UnixTime, challenge_s256, is_token68, redact,
};
use std::collections::VecDeque;
use url::Url;

const STATUSES: [u16; 12] = [200, 201, 204, 400, 401, 403, 429, 500, 503, 302, 307, 200];
const CONTENT_TYPES: [Option<&str>; 9] = [
    None,
    Some("application/json"),
    Some("application/json; charset=utf-8"),
    Some("application/x-www-form-urlencoded"),
    Some("text/plain"),
    Some("text/html"),
    Some("application/problem+json"),
    Some("APPLICATION/JSON;charset=UTF-8"),
    Some("text/plain; charset=utf-8"),
];
const NOWS: [u64; 4] = [1_700_000_000, 0, u64::MAX - 5, 1];

/// Splits fuzz input into a response (status, content type, quirks, limits, now) and a
/// body, using the first three bytes as choices.
fn response_from(data: &[u8]) -> (HttpResponse, ParseOptions, UnixTime) {
    let b = |i: usize| data.get(i).copied().unwrap_or(0) as usize;
    let status = StatusCode::from_u16(STATUSES[b(0) % STATUSES.len()]).unwrap_or(StatusCode::OK);
    let ct = CONTENT_TYPES[b(1) % CONTENT_TYPES.len()];
    let flags = b(2);
    let quirks = Quirks {
        expires_in_as_string: flags & 1 != 0,
        missing_token_type_is_bearer: flags & 2 != 0,
        scope_as_json_array: flags & 4 != 0,
        scope_comma_separated: flags & 8 != 0,
        form_encoded_body: flags & 16 != 0,
        text_plain_body: flags & 32 != 0,
        error_in_success_status: flags & 64 != 0,
    };
    let limits = Limits {
        max_body_bytes: if flags & 128 != 0 {
            64
        } else {
            Limits::DEFAULT.max_body_bytes
        },
    };
    let now = UnixTime::from_secs(NOWS[(b(0) / STATUSES.len()) % NOWS.len()]);
    let mut response = http::Response::new(data.get(3..).unwrap_or_default().to_vec());
    *response.status_mut() = status;
    if let Some(ct) = ct {
        response
            .headers_mut()
            .insert(http::header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    if b(1) & 0x80 != 0 {
        response.headers_mut().insert(
            http::header::RETRY_AFTER,
            HeaderValue::from_static("Sun, 06 Nov 1994 08:49:37 GMT"),
        );
    }
    (response, ParseOptions { quirks, limits }, now)
}

/// Whether the body, read leniently, has a non-empty string `error` member.
fn body_says_error(body: &[u8]) -> bool {
    if let Ok(serde_json::Value::Object(m)) = serde_json::from_slice::<serde_json::Value>(body)
        && m.get("error").is_some_and(|e| e.as_str().is_some())
    {
        return true;
    }
    std::str::from_utf8(body)
        .ok()
        .and_then(|t| parse_form(t).ok())
        .is_some_and(|pairs| pairs.iter().any(|(k, _)| k == "error"))
}

/// Token responses. Besides never panicking: tokens only from a 2xx; never from a body
/// with an `error` member (ERR-02) nor past the size limit; the access token is a
/// `token68` (PARSE-07); the expiry is not before `now` (PARSE-03).
pub fn token_response(data: &[u8]) {
    let (response, options, now) = response_from(data);
    match parse::token_response(&response, now, &options) {
        Ok(t) => {
            assert!(
                response.status().is_success(),
                "tokens from a non-2xx response"
            );
            assert!(
                !body_says_error(response.body()),
                "tokens from a body with `error`"
            );
            assert!(
                response.body().len() <= options.limits.max_body_bytes,
                "body over the limit accepted"
            );
            assert!(
                is_token68(t.access_token.secret()),
                "access token is not a token68"
            );
            if let Some(exp) = t.expires_at {
                assert!(exp >= now, "expiry before receipt");
            }
            if let Some(s) = &t.scope {
                assert!(s.iter().all(|tok| !tok.is_empty() && !tok.contains(' ')));
            }
        }
        Err(e) => check_error(&e),
    }
}

/// Error responses. Besides never panicking: the result keeps the status, and the
/// texts are sanitised (no control characters, bounded).
pub fn error_response(data: &[u8]) {
    let (response, options, now) = response_from(data);
    match parse::error_response(&response, now, &options) {
        Ok(e) => {
            assert_eq!(e.status, Some(response.status()));
            for text in [&e.description, &e.uri].into_iter().flatten() {
                assert!(!text.chars().any(char::is_control), "unsanitised text");
                assert!(text.chars().count() <= 513, "unbounded text");
            }
            assert!(!e.code.as_str().chars().any(char::is_control));
        }
        Err(e) => check_error(&e),
    }
}

/// Every error renders, says whether it is retryable, and its text has no raw control
/// characters.
fn check_error(e: &Error) {
    let text = e.to_string();
    assert!(
        !text.chars().any(|c| c.is_control() && c != '\n'),
        "control characters in {text:?}"
    );
    let _ = (
        e.is_retryable(),
        e.needs_new_authorization(),
        e.retry_after(),
        e.status(),
    );
}

const EXPECTED_STATE: &str = "c3RhdGUtdmFsdWUtdGhhdC1pcy00My1jaGFyYWN0ZXJz";
const ISSUER: &str = "https://as.example";

/// Callbacks. The first byte chooses whether an issuer is configured and required; the
/// rest is appended to `http://127.0.0.1:8080/cb`. Besides never panicking: a code is
/// returned only if the query has exactly one `state`, equal to the expected one, no
/// parameter twice, no front-channel token, `iss` equal to the issuer when present
/// (and present when required) — and the code never shows in the redacted URL.
pub fn callback(data: &[u8]) {
    let flags = data.first().copied().unwrap_or(0);
    let rest = String::from_utf8_lossy(data.get(1..).unwrap_or_default());
    let Ok(url) = Url::parse(&format!("http://127.0.0.1:8080/cb{rest}")) else {
        return;
    };
    let redirect = Url::parse("http://127.0.0.1:8080/cb").expect("a valid literal URL");
    let issuer = (flags & 1 != 0).then_some(ISSUER);
    let expected = CallbackExpectation {
        state: EXPECTED_STATE,
        redirect_uri: &redirect,
        issuer,
        require_issuer: issuer.is_some() && flags & 2 != 0,
    };
    match parse::callback(&url, &expected) {
        Ok(code) => {
            let pairs = parse_form(url.query().unwrap_or("")).expect("accepted queries decode");
            let states: Vec<_> = pairs.iter().filter(|(k, _)| k == "state").collect();
            assert_eq!(states.len(), 1);
            assert_eq!(states[0].1, EXPECTED_STATE);
            for (i, (k, _)) in pairs.iter().enumerate() {
                assert!(
                    !pairs[..i].iter().any(|(j, _)| j == k),
                    "duplicate {k} accepted"
                );
            }
            for p in ["access_token", "id_token", "token_type", "error"] {
                assert!(
                    !pairs.iter().any(|(k, v)| k == p && !v.is_empty()),
                    "{p} accepted"
                );
            }
            let iss = pairs
                .iter()
                .find(|(k, _)| k == "iss")
                .map(|(_, v)| v.as_str());
            if let Some(issuer) = issuer {
                match iss {
                    Some(i) if !i.is_empty() => assert_eq!(i, issuer),
                    _ => assert!(!expected.require_issuer, "missing iss accepted"),
                }
            }
            assert!(!code.secret().is_empty());
            // The redacted form shows `code=<redacted>` and never the code's value in
            // the `code` parameter (the same text may legitimately occur elsewhere).
            let shown = redact::url(&url).to_string();
            let shown_url = Url::parse(&shown).expect("a redacted URL is still a URL");
            for (k, v) in shown_url.query_pairs() {
                if k == "code" {
                    assert_eq!(
                        v,
                        oauth_core::REDACTED,
                        "the code shows in the redacted URL"
                    );
                }
            }
        }
        Err(e) => check_error(&e),
    }
}

/// `WWW-Authenticate`. Besides never panicking: what parses re-serialises to a value
/// that parses to the same challenges, and `bearer_challenge` agrees with
/// `parse_challenges` about a Bearer challenge's `error`.
pub fn www_authenticate(data: &[u8]) {
    let Ok(challenges) = parse_challenges(data) else {
        return;
    };
    for c in &challenges {
        assert!(!c.scheme.is_empty());
        assert!(c.token68.is_none() || c.params.is_empty());
    }
    let rendered = render_challenges(&challenges);
    let again = parse_challenges(rendered.as_bytes()).expect("a rendered challenge list parses");
    assert_eq!(again, challenges, "round trip through {rendered:?}");

    if let Ok(v) = HeaderValue::from_bytes(data) {
        let mut headers = http::HeaderMap::new();
        headers.insert(http::header::WWW_AUTHENTICATE, v);
        if let Ok(Some(b)) = bearer_challenge(&headers) {
            let first = challenges
                .iter()
                .find(|c| c.scheme.eq_ignore_ascii_case("bearer"))
                .expect("bearer_challenge found one");
            assert_eq!(
                b.error.as_ref().map(|e| e.as_str().to_owned()).is_some(),
                first.param("error").is_some()
            );
        }
    }
}

fn render_challenges(challenges: &[oauth_core::parse::Challenge]) -> String {
    let mut out = String::new();
    for (i, c) in challenges.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&c.scheme);
        if let Some(t) = &c.token68 {
            out.push(' ');
            out.push_str(t);
        }
        for (j, (k, v)) in c.params.iter().enumerate() {
            out.push_str(if j == 0 { " " } else { ", " });
            out.push_str(k);
            out.push_str("=\"");
            for ch in v.chars() {
                if ch == '"' || ch == '\\' {
                    out.push('\\');
                }
                out.push(ch);
            }
            out.push('"');
        }
    }
    out
}

/// One step of an arbitrary interleaving fed to an [`AuthorizationCodeFlow`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// Call `poll` and remember what came out.
    Poll,
    /// The user approves at the fake server; the real callback is delivered.
    Approve,
    /// The user denies; the `access_denied` callback is delivered.
    Deny,
    /// The user approves and the callback is altered on the way.
    Tampered(Tamper),
    /// A callback made up from these bytes as its query.
    Forged(Vec<u8>),
    /// The request the flow emitted is delivered to the fake server, its answer fed back.
    Deliver,
    /// A canned response is fed back.
    Canned(Canned),
    /// A transport failure is fed back.
    TransportFails,
    /// The clock moves by this many seconds (negative: backwards), then `Tick`.
    ClockJump(i64),
    /// The server's next token response is replaced by a fault.
    ServerFault(crate::server::Fault),
}

/// Ways to alter a genuine callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tamper {
    /// Change one character of `state`.
    FlipState,
    /// Remove `state`.
    DropState,
    /// Replace `iss` with another issuer.
    WrongIssuer,
    /// Remove `iss`.
    DropIssuer,
    /// Add a second `code`.
    DuplicateCode,
    /// Add an `access_token`.
    InjectAccessToken,
    /// Add an `error` next to the code.
    AddError,
    /// Deliver it to another path.
    OtherPath,
    /// Replace the code with another.
    SwapCode,
}

/// Canned token-endpoint answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Canned {
    /// A valid token response.
    Tokens,
    /// `400 invalid_grant`.
    InvalidGrant,
    /// `200` with an `error` member.
    ErrorIn200,
    /// A 500 HTML page.
    ServerError,
    /// A 302 redirect.
    Redirect,
    /// Bytes that are not JSON.
    Garbage,
}

/// What a sequence run observed, for callers that assert more.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SequenceReport {
    /// Whether the flow ended with tokens.
    pub got_tokens: bool,
    /// How many requests the flow emitted.
    pub requests_sent: usize,
    /// The state the flow ended in.
    pub final_state: &'static str,
}

/// Runs `ops` against an authorization-code flow and a fake server, asserting the
/// core's invariants at every step:
///
/// - nothing panics;
/// - at most one request is emitted, only to the token endpoint, only after a
///   callback whose `state` (and `iss`) matched; it carries the PKCE verifier whose
///   `S256` is the authorization URL's challenge, and the client secret only goes there;
/// - tokens only after such a callback, and `Done` repeats the same outcome;
/// - the flow's `Debug` never shows the state, the verifier or the code.
pub fn run_auth_code_ops(seed: u64, confidential: bool, ops: &[Op]) -> SequenceReport {
    const REDIRECT: &str = "http://127.0.0.1:8080/cb";
    const SECRET: &str = "client-secret-value-1234567890";
    let mut server = FakeAuthorizationServer::new(seed);
    let registered = if confidential {
        RegisteredClient::confidential("app", SECRET, crate::AuthMethod::Basic, REDIRECT)
    } else {
        RegisteredClient::public("app", REDIRECT)
    };
    server.register(registered);
    let client: ClientRegistration = server
        .registration("app")
        .expect("just registered")
        .build()
        .expect("the fake server's registration is valid");
    if confidential {
        assert!(
            matches!(client.auth(), ClientAuth::ClientSecretBasic(s) if *s == ClientSecret::new(SECRET))
        );
    }
    let mut rng = SeededRng::new(seed);
    let mut now = crate::START_TIME;
    let mut flow = AuthorizationCodeFlow::start(
        &client,
        AuthorizationParams::new().scope(Scope::parse("read").expect("valid")),
        &mut rng,
        now,
    )
    .expect("valid parameters");
    let auth_url = flow
        .authorization_url()
        .expect("a new flow has its URL")
        .to_url();
    let query = |u: &Url, name: &str| {
        u.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let state = query(&auth_url, "state").expect("the URL has a state");
    let challenge = query(&auth_url, "code_challenge").expect("the URL has a challenge");
    assert_eq!(state.len(), 43);
    assert_eq!(
        query(&auth_url, "code_challenge_method").as_deref(),
        Some("S256")
    );

    let mut valid_callback_seen = false;
    let mut pending: VecDeque<oauth_core::HttpRequest> = VecDeque::new();
    let mut report = SequenceReport::default();
    let mut done: Option<String> = None;
    let mut codes_seen: Vec<String> = Vec::new();

    for op in ops {
        match op {
            Op::Poll => match flow.poll() {
                Output::Send(req) => {
                    report.requests_sent += 1;
                    assert_eq!(
                        report.requests_sent, 1,
                        "the code exchange was emitted twice"
                    );
                    assert!(valid_callback_seen, "a request before a valid callback");
                    assert_eq!(req.uri().to_string(), client.token_endpoint().as_str());
                    let body = std::str::from_utf8(req.body()).expect("form bodies are ASCII");
                    let pairs = parse_form(body).expect("our own form decodes");
                    let verifier = pairs
                        .iter()
                        .find(|(k, _)| k == "code_verifier")
                        .map(|(_, v)| v.clone());
                    let verifier = verifier.expect("the exchange carries the verifier");
                    assert_eq!(
                        challenge_s256(&verifier),
                        challenge,
                        "verifier does not match the challenge"
                    );
                    assert!(
                        !auth_url.as_str().contains(&verifier),
                        "the verifier left in the authorization URL"
                    );
                    let debug = format!("{req:?}");
                    assert!(!debug.contains(&verifier), "verifier in Debug");
                    if confidential {
                        assert!(req.headers().contains_key(http::header::AUTHORIZATION));
                        assert!(
                            !body.contains("client_secret"),
                            "secret in the body with Basic"
                        );
                    }
                    pending.push_back(req);
                }
                Output::Visit(u) => assert_eq!(u, auth_url),
                Output::AwaitCallback { deadline } => {
                    assert_eq!(
                        deadline,
                        crate::START_TIME.saturating_add(client.authorization_ttl())
                    )
                }
                Output::AwaitResponse => assert!(!pending.is_empty() || report.requests_sent == 1),
                Output::WaitUntil(_) => {}
                Output::ShowUserCode(_) => {
                    panic!("the authorization-code flow never shows a user code")
                }
                Output::Done(result) => {
                    let shown = match &result {
                        Ok(t) => {
                            assert!(valid_callback_seen, "tokens without a valid callback");
                            assert!(report.requests_sent == 1);
                            format!("ok:{}", t.access_token.secret())
                        }
                        Err(e) => {
                            check_error(e);
                            format!("err:{e:?}")
                        }
                    };
                    if let Some(prev) = &done {
                        assert_eq!(prev, &shown, "Done changed between polls");
                    }
                    report.got_tokens = result.is_ok();
                    done = Some(shown);
                }
            },
            Op::Approve | Op::Deny | Op::Tampered(_) => {
                let decision = if *op == Op::Deny {
                    Decision::Deny
                } else {
                    Decision::Approve
                };
                let Ok(mut cb) = server.authorize(&auth_url, decision, now) else {
                    continue;
                };
                if let Op::Tampered(t) = op {
                    cb = tamper(&cb, *t);
                }
                if let Some(c) = query(&cb, "code") {
                    codes_seen.push(c);
                }
                deliver(&mut flow, cb, now, &state, &mut valid_callback_seen);
            }
            Op::Forged(bytes) => {
                let q = String::from_utf8_lossy(bytes);
                if let Ok(cb) = Url::parse(&format!("{REDIRECT}?{q}")) {
                    deliver(&mut flow, cb, now, &state, &mut valid_callback_seen);
                }
            }
            Op::Deliver => {
                if let Some(req) = pending.pop_front() {
                    let input = match server.handle(&req, now) {
                        Ok(r) => Input::Response(r),
                        Err(f) => Input::TransportFailed(f),
                    };
                    flow.handle(input, now);
                }
            }
            Op::Canned(c) => flow.handle(Input::Response(canned(*c)), now),
            Op::TransportFails => flow.handle(
                Input::TransportFailed(TransportFailure::new(
                    TransportErrorKind::Timeout,
                    "timed out",
                )),
                now,
            ),
            Op::ClockJump(secs) => {
                now = if *secs >= 0 {
                    now.saturating_add(secs.unsigned_abs())
                } else {
                    now.saturating_sub(secs.unsigned_abs())
                };
                flow.handle(Input::Tick, now);
            }
            Op::ServerFault(f) => {
                server.inject_fault(*f);
            }
        }
        let debug = format!("{flow:?}");
        assert!(!debug.contains(&state), "state in the flow's Debug");
        for c in &codes_seen {
            assert!(!debug.contains(c.as_str()), "code in the flow's Debug");
        }
    }
    report.final_state = flow.state_name();
    report
}

fn deliver(
    flow: &mut AuthorizationCodeFlow,
    cb: Url,
    now: UnixTime,
    state: &str,
    valid: &mut bool,
) {
    let pairs = cb
        .query()
        .and_then(|q| parse_form(q).ok())
        .unwrap_or_default();
    let states: Vec<_> = pairs.iter().filter(|(k, _)| k == "state").collect();
    let issuers: Vec<_> = pairs.iter().filter(|(k, _)| k == "iss").collect();
    let state_ok = states.len() == 1 && states[0].1 == state;
    let iss_ok = issuers.len() == 1 && issuers[0].1 == ISSUER;
    let accepted = flow.accepts(&Input::Callback(cb.clone()));
    if accepted {
        assert!(state_ok, "accepts() took a callback with a wrong state");
    }
    let was_waiting = matches!(flow.state_name(), "Authorize" | "AwaitingCallback");
    flow.handle(Input::Callback(cb.clone()), now);
    if was_waiting && flow.state_name() == "ExchangeCode" {
        // RFC 9207: the fake server always sends iss, and the registration requires it.
        assert!(
            state_ok && iss_ok && cb.path() == "/cb",
            "a callback passed validation that should not"
        );
        *valid = true;
    }
}

fn tamper(cb: &Url, t: Tamper) -> Url {
    let mut pairs: Vec<(String, String)> = cb
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut out = cb.clone();
    match t {
        Tamper::FlipState => {
            if let Some((_, v)) = pairs.iter_mut().find(|(k, _)| k == "state") {
                let flipped = if v.starts_with('A') { 'B' } else { 'A' };
                v.replace_range(0..1, &flipped.to_string());
            }
        }
        Tamper::DropState => pairs.retain(|(k, _)| k != "state"),
        Tamper::WrongIssuer => {
            pairs.retain(|(k, _)| k != "iss");
            pairs.push(("iss".into(), "https://evil.example".into()));
        }
        Tamper::DropIssuer => pairs.retain(|(k, _)| k != "iss"),
        Tamper::DuplicateCode => pairs.push(("code".into(), "second".into())),
        Tamper::InjectAccessToken => pairs.push(("access_token".into(), "injected".into())),
        Tamper::AddError => pairs.push(("error".into(), "access_denied".into())),
        Tamper::OtherPath => out.set_path("/other"),
        Tamper::SwapCode => {
            if let Some((_, v)) = pairs.iter_mut().find(|(k, _)| k == "code") {
                *v = "code_attacker".into();
            }
        }
    }
    out.query_pairs_mut().clear().extend_pairs(pairs);
    out
}

fn canned(c: Canned) -> HttpResponse {
    let (status, ct, body): (u16, &str, &[u8]) = match c {
        Canned::Tokens => (
            200,
            "application/json",
            br#"{"access_token":"canned-at","token_type":"Bearer","expires_in":60}"#,
        ),
        Canned::InvalidGrant => (400, "application/json", br#"{"error":"invalid_grant"}"#),
        Canned::ErrorIn200 => (
            200,
            "application/json",
            br#"{"error":"bad_verification_code"}"#,
        ),
        Canned::ServerError => (500, "text/html", b"<h1>500</h1>"),
        Canned::Redirect => (302, "text/html", b""),
        Canned::Garbage => (200, "application/json", b"\xff\xfe{{"),
    };
    let mut r = http::Response::new(body.to_vec());
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    r.headers_mut()
        .insert(http::header::CONTENT_TYPE, HeaderValue::from_static(ct));
    r
}

/// Decodes fuzz bytes into [`Op`]s (a dictionary of realistic steps, so the fuzzer gets
/// deep quickly) and runs them with [`run_auth_code_ops`].
pub fn auth_code_sequence(data: &[u8]) {
    let mut it = data.iter().copied();
    let seed = u64::from(it.next().unwrap_or(0));
    let confidential = it.next().unwrap_or(0) & 1 == 1;
    let mut ops = Vec::new();
    while let Some(b) = it.next() {
        let op = match b % 12 {
            0..=2 => Op::Poll,
            3 => Op::Approve,
            4 => Op::Deny,
            5 => Op::Tampered(match it.next().unwrap_or(0) % 9 {
                0 => Tamper::FlipState,
                1 => Tamper::DropState,
                2 => Tamper::WrongIssuer,
                3 => Tamper::DropIssuer,
                4 => Tamper::DuplicateCode,
                5 => Tamper::InjectAccessToken,
                6 => Tamper::AddError,
                7 => Tamper::OtherPath,
                _ => Tamper::SwapCode,
            }),
            6 => {
                let n = usize::from(it.next().unwrap_or(0) % 64);
                Op::Forged(it.by_ref().take(n).collect())
            }
            7 => Op::Deliver,
            8 => Op::Canned(match it.next().unwrap_or(0) % 6 {
                0 => Canned::Tokens,
                1 => Canned::InvalidGrant,
                2 => Canned::ErrorIn200,
                3 => Canned::ServerError,
                4 => Canned::Redirect,
                _ => Canned::Garbage,
            }),
            9 => Op::TransportFails,
            10 => Op::ClockJump(i64::from(it.next().unwrap_or(0) as i8) * 15),
            _ => Op::ServerFault(match it.next().unwrap_or(0) % 6 {
                0 => crate::server::Fault::InternalError,
                1 => crate::server::Fault::ServiceUnavailable { retry_after: 3 },
                2 => crate::server::Fault::TruncatedBody,
                3 => crate::server::Fault::GarbageBody,
                4 => crate::server::Fault::ResponseLost,
                _ => crate::server::Fault::ConnectionRefused,
            }),
        };
        ops.push(op);
        if ops.len() >= 64 {
            break;
        }
    }
    run_auth_code_ops(seed, confidential, &ops);
}

/// Introspection responses. Besides never panicking: `Active` only from a 2xx whose
/// body has `"active": true`, and never for a token past its `exp`.
pub fn introspection(data: &[u8]) {
    let (response, options, now) = response_from(data);
    match parse::introspection_response(&response, now, &options) {
        Ok(parse::Introspection::Active(t)) => {
            assert!(response.status().is_success());
            let body = response.body();
            let body = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(body);
            let v: serde_json::Value =
                serde_json::from_slice(body).expect("an accepted body is JSON");
            assert_eq!(v.get("active"), Some(&serde_json::Value::Bool(true)));
            if let Some(exp) = t.exp {
                assert!(now < exp, "an expired token reported active");
            }
        }
        Ok(parse::Introspection::Inactive) => assert!(response.status().is_success()),
        Err(e) => check_error(&e),
    }
}

/// Device authorization responses. Besides never panicking: a positive interval no
/// longer than the lifetime, verification URIs that are https (or http on loopback),
/// and a device code that never shows in `Debug`.
pub fn device_authorization(data: &[u8]) {
    let (response, options, now) = response_from(data);
    match parse::device_authorization_response(&response, now, &options) {
        Ok(d) => {
            assert!(response.status().is_success());
            assert!(d.interval >= 1);
            assert!(
                now.saturating_add(d.interval) <= d.user_code.expires_at
                    || d.user_code.expires_at.as_secs() == u64::MAX
            );
            for u in std::iter::once(&d.user_code.verification_uri)
                .chain(d.user_code.verification_uri_complete.as_ref())
            {
                assert!(
                    u.scheme() == "https"
                        || (u.scheme() == "http"
                            && u.host_str().is_some_and(oauth_core::is_loopback_host))
                );
            }
            // The device code's own Debug is redacted, and it shows nowhere else unless
            // the server put the same text in a field meant to be shown.
            assert_eq!(format!("{:?}", d.device_code), "DeviceCode(<redacted>)");
            let shown = format!("{d:?}");
            let public = format!("{:?}", d.user_code);
            assert!(
                d.device_code.secret().len() < 4
                    || !shown.contains(d.device_code.secret())
                    || public.contains(d.device_code.secret())
            );
        }
        Err(e) => check_error(&e),
    }
}

/// Metadata documents, fetched for `https://as.example`. Besides never panicking: the
/// issuer is identical, every endpoint is https, and a registration can be derived
/// (or is refused with a typed error).
pub fn metadata(data: &[u8]) {
    const ISSUER: &str = "https://as.example";
    let (response, options, now) = response_from(data);
    match parse::metadata(&response, ISSUER, now, &options) {
        Ok(m) => {
            assert_eq!(m.issuer, ISSUER);
            for e in [
                &m.authorization_endpoint,
                &m.token_endpoint,
                &m.revocation_endpoint,
                &m.introspection_endpoint,
                &m.device_authorization_endpoint,
                &m.pushed_authorization_request_endpoint,
            ]
            .into_iter()
            .flatten()
            {
                assert!(e.starts_with("https://"), "{e}");
            }
            if let Ok(b) = m.registration("app") {
                let _ = b.redirect_uri("http://127.0.0.1:1/cb").build();
            }
        }
        Err(e) => check_error(&e),
    }
}

/// PAR responses. Besides never panicking: a non-empty `request_uri` and a lifetime
/// that ends after `now`.
pub fn par(data: &[u8]) {
    let (response, options, now) = response_from(data);
    match parse::par_response(&response, now, &options) {
        Ok(p) => {
            assert!(response.status().is_success());
            assert!(!p.request_uri.is_empty());
            assert!(p.expires_at > now || p.expires_at.as_secs() == u64::MAX);
        }
        Err(e) => check_error(&e),
    }
}

/// Whether `u` is a URL this client would fetch or announce: `https`, or `http` on a
/// loopback host. Written out here rather than calling the core's check, so that the
/// harness does not trust what it tests.
fn https_or_loopback(u: &Url) -> bool {
    let loopback = match u.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        None => false,
    };
    u.scheme() == "https" || (u.scheme() == "http" && loopback)
}

/// The top-level members of a JSON object body, read leniently (a leading BOM is
/// skipped, as the core does); `None` for anything else.
fn json_object(body: &[u8]) -> Option<serde_json::Map<String, serde_json::Value>> {
    let body = body.strip_prefix("\u{feff}".as_bytes()).unwrap_or(body);
    match serde_json::from_slice(body) {
        Ok(serde_json::Value::Object(m)) => Some(m),
        _ => None,
    }
}

/// The resource identifiers the metadata harness checks documents against.
const RESOURCES: [&str; 2] = ["https://rs.example/api", "http://127.0.0.1:8080/mcp"];
/// The request URLs the metadata harness checks documents against with `Covers`.
const REQUEST_URLS: [&str; 3] = [
    "https://rs.example/api/v1/me?x=1",
    "http://localhost:8080/mcp/tools",
    "https://rs.example/",
];
/// The path RFC 9728 §3.1 inserts after the origin.
const WELL_KNOWN_RESOURCE: &str = "/.well-known/oauth-protected-resource";

/// Protected-resource metadata (RFC 9728). The same input is used three ways:
///
/// - as a response, parsed under `Exact` for each of [`RESOURCES`] and `Covers` for
///   each of [`REQUEST_URLS`]: a document is accepted only if its `resource` is the
///   expected string (`Exact`), or an `https` (or loopback `http`) URL without query
///   or fragment, of the request URL's origin, whose path is a prefix of the request's
///   path on a segment boundary (`Covers`); every authorization server is `https` (or
///   `http` on loopback) without fragment;
/// - as a string (the body, and the `resource` and `authorization_servers` members):
///   `resource_metadata_url` only accepts `https` (or loopback `http`) URLs without
///   fragment, and its result is the resource's origin followed by
///   `/.well-known/oauth-protected-resource`, keeping the query;
/// - as a `WWW-Authenticate` value (the body) on the response's status and on a 401: a
///   hint comes only from a 401, is `https` (or loopback `http`) without fragment, and
///   is the `resource_metadata` parameter of a Bearer challenge in that value.
pub fn resource_metadata(data: &[u8]) {
    use parse::ResourceCheck;
    let (response, options, now) = response_from(data);
    let body = response.body();

    for expected in RESOURCES {
        match parse::resource_metadata(&response, ResourceCheck::Exact(expected), now, &options) {
            Ok(m) => {
                assert!(response.status().is_success());
                assert_eq!(m.resource, expected, "Exact accepted another resource");
                check_authorization_servers(&m.authorization_servers);
                check_metadata_url(&m.resource);
            }
            Err(e) => check_error(&e),
        }
    }
    for request in REQUEST_URLS {
        let request = Url::parse(request).expect("a valid literal URL");
        match parse::resource_metadata(&response, ResourceCheck::Covers(&request), now, &options) {
            Ok(m) => {
                assert!(response.status().is_success());
                let r = Url::parse(&m.resource).expect("a covering resource is a URL");
                assert!(https_or_loopback(&r), "insecure resource {r}");
                assert!(r.fragment().is_none() && r.query().is_none(), "{r}");
                assert_eq!(r.origin(), request.origin(), "resource of another origin");
                let base = r.path().trim_end_matches('/');
                let path = request.path();
                assert!(
                    path == base || path.strip_prefix(base).is_some_and(|s| s.starts_with('/')),
                    "{r} does not cover {request}"
                );
                check_authorization_servers(&m.authorization_servers);
                assert!(
                    check_metadata_url(&m.resource),
                    "no metadata URL for accepted resource {r}"
                );
            }
            Err(e) => check_error(&e),
        }
    }

    check_metadata_url(&String::from_utf8_lossy(body));
    if let Some(m) = json_object(body) {
        if let Some(serde_json::Value::String(r)) = m.get("resource") {
            check_metadata_url(r);
        }
        if let Some(serde_json::Value::Array(servers)) = m.get("authorization_servers") {
            for s in servers.iter().filter_map(serde_json::Value::as_str) {
                check_metadata_url(s);
            }
        }
    }

    if let Ok(value) = HeaderValue::from_bytes(body) {
        for status in [response.status(), StatusCode::UNAUTHORIZED] {
            let mut r = http::Response::new(Vec::new());
            *r.status_mut() = status;
            r.headers_mut()
                .insert(http::header::WWW_AUTHENTICATE, value.clone());
            let Some(hint) = oauth_core::resource_metadata_hint(&r) else {
                continue;
            };
            assert_eq!(status, StatusCode::UNAUTHORIZED, "a hint from a non-401");
            assert!(https_or_loopback(&hint), "insecure hint {hint}");
            assert!(hint.fragment().is_none(), "hint with a fragment: {hint}");
            let announced = parse_challenges(value.as_bytes())
                .expect("a value with a hint parses")
                .iter()
                .filter(|c| c.scheme.eq_ignore_ascii_case("bearer"))
                .any(|c| {
                    c.params.iter().any(|(k, v)| {
                        k == "resource_metadata" && Url::parse(v).as_ref() == Ok(&hint)
                    })
                });
            assert!(announced, "hint {hint} is not a Bearer resource_metadata");
        }
    }
}

fn check_authorization_servers(servers: &[String]) {
    for s in servers {
        let u = Url::parse(s).expect("an accepted authorization server is a URL");
        assert!(https_or_loopback(&u), "insecure authorization server {s}");
        assert!(
            u.fragment().is_none(),
            "authorization server with fragment {s}"
        );
    }
}

/// Checks `resource_metadata_url(resource)`; returns whether it was accepted.
fn check_metadata_url(resource: &str) -> bool {
    let Ok(u) = parse::resource_metadata_url(resource) else {
        return false;
    };
    let r = Url::parse(resource).expect("an accepted resource is a URL");
    assert!(
        https_or_loopback(&r),
        "insecure resource {resource:?} accepted"
    );
    assert!(r.fragment().is_none(), "resource with fragment accepted");
    let origin = r.origin().ascii_serialization();
    assert!(
        u.as_str()
            .strip_prefix(&origin)
            .is_some_and(|rest| rest.starts_with(WELL_KNOWN_RESOURCE)),
        "{u} is not {origin}{WELL_KNOWN_RESOURCE}…"
    );
    assert_eq!(u.origin(), r.origin());
    assert!(u.path().starts_with(WELL_KNOWN_RESOURCE), "{u}");
    assert!(u.fragment().is_none(), "{u}");
    assert_eq!(u.query(), r.query(), "the query was not kept");
    true
}

/// The members of a registration response that hold secrets.
const REGISTRATION_SECRETS: [&str; 2] = ["client_secret", "registration_access_token"];

/// Registration responses (RFC 7591). Besides never panicking: an `Ok` only from a 2xx,
/// with a non-empty `client_id`, an expiry that is not 0, no issuer (the chain sets
/// it), and secrets whose own `Debug` is redacted; an `Err` from a 2xx is a typed
/// parse error or violation (or the server's error when the body says `error`), and
/// never `Error::Http`. Neither the `Debug` of a result nor the `Display`/`Debug` of an
/// error shows a secret: see [`secret_shown`].
pub fn registration(data: &[u8]) {
    let (response, options, now) = response_from(data);
    let result = parse::registration_response(&response, now, &options);
    match &result {
        Ok(info) => {
            assert!(response.status().is_success(), "registered from a non-2xx");
            assert!(!info.client_id.is_empty(), "empty client_id");
            assert!(info.client_secret_expires_at != Some(UnixTime::from_secs(0)));
            assert!(info.issuer.is_none(), "issuer set by the parser");
            if let Some(s) = &info.client_secret {
                assert_eq!(format!("{s:?}"), "ClientSecret(<redacted>)");
                assert!(!s.secret().is_empty(), "empty client_secret kept");
            }
            if let Some(t) = &info.registration_access_token {
                assert_eq!(format!("{t:?}"), "RegistrationToken(<redacted>)");
            }
        }
        Err(e) => {
            check_error(e);
            if response.status().is_success() {
                let says_error = json_object(response.body())
                    .is_some_and(|m| m.contains_key("error"))
                    || body_says_error(response.body());
                assert!(
                    matches!(e, Error::Parse(_) | Error::Violation(_))
                        || (says_error && matches!(e, Error::Server(_))),
                    "untyped error from a 2xx: {e:?}"
                );
            }
        }
    }
    let shown = rendering(&result);
    let Some(members) = json_object(response.body()) else {
        return;
    };
    for name in REGISTRATION_SECRETS {
        let Some(serde_json::Value::String(secret)) = members.get(name) else {
            continue;
        };
        if let Some(leak) = secret_shown(response.body(), name, secret, &shown, |body| {
            let mut r = response.clone();
            *r.body_mut() = body;
            rendering(&parse::registration_response(&r, now, &options))
        }) {
            panic!("{name} {secret:?} shows as {leak:?} in {shown:?}");
        }
    }
}

fn rendering<T: std::fmt::Debug>(result: &Result<T, Error>) -> String {
    match result {
        Ok(v) => format!("{v:?}"),
        Err(e) => format!("{e}\n{e:?}"),
    }
}

/// Letters rotated by 13 and digits by 5: a different text of the same length and the
/// same character classes (so the same masking and escaping apply to it).
fn rotate(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'a'..='z' => (((c as u8 - b'a') + 13) % 26 + b'a') as char,
            'A'..='Z' => (((c as u8 - b'A') + 13) % 26 + b'A') as char,
            '0'..='9' => (((c as u8 - b'0') + 5) % 10 + b'0') as char,
            c => c,
        })
        .collect()
}

/// Whether the secret value of member `name` shows in `shown` because of that member:
/// a differential check. The body is parsed again with only that member's value
/// replaced by [`rotate`]d text (located as `"name": "value"` in the raw body); if a
/// form of the secret (as is, or `Debug`-escaped) is in `shown` but not in the
/// re-rendering, it came from the member — a leak, returned as the form that showed.
/// The same text elsewhere in the body (an `error_description`, another member) or in
/// fixed wording stays in both renderings and is not a leak. Secrets written with JSON
/// escapes, or with no letter or digit, are not checked.
fn secret_shown(
    body: &[u8],
    name: &str,
    secret: &str,
    shown: &str,
    reparse: impl Fn(Vec<u8>) -> String,
) -> Option<String> {
    let rotated = rotate(secret);
    if rotated == secret {
        return None;
    }
    let forms = [
        secret.to_owned(),
        format!("{secret:?}").trim_matches('"').to_owned(),
    ];
    if !forms.iter().any(|f| shown.contains(f.as_str())) {
        return None;
    }
    let replaced = replace_member_value(body, name, secret, &rotated)?;
    let again = reparse(replaced);
    forms
        .into_iter()
        .find(|f| shown.contains(f.as_str()) && !again.contains(f.as_str()))
}

/// `body` with every raw `"name" : "value"` (JSON whitespace allowed around the colon)
/// having `value` replaced by `with` (same length); `None` if there is none.
fn replace_member_value(body: &[u8], name: &str, value: &str, with: &str) -> Option<Vec<u8>> {
    let key = format!("\"{name}\"");
    let (key, value, with) = (key.as_bytes(), value.as_bytes(), with.as_bytes());
    let mut out = body.to_vec();
    let mut found = false;
    let is_ws = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
    let mut i = 0;
    while let Some(pos) = out[i..].windows(key.len()).position(|w| w == key) {
        let mut j = i + pos + key.len();
        i = j;
        while out.get(j).is_some_and(is_ws) {
            j += 1;
        }
        if out.get(j) != Some(&b':') {
            continue;
        }
        j += 1;
        while out.get(j).is_some_and(is_ws) {
            j += 1;
        }
        if out.get(j) != Some(&b'"') {
            continue;
        }
        let start = j + 1;
        let end = start + value.len();
        if out.get(start..end) == Some(value) && out.get(end) == Some(&b'"') {
            out[start..end].copy_from_slice(with);
            found = true;
            i = end;
        }
    }
    found.then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"client_id":"c", "client_secret" : "hunter2 horse"}"#;

    fn show_all(body: Vec<u8>) -> String {
        String::from_utf8_lossy(&body).into_owned()
    }

    fn member(body: &[u8], name: &str) -> String {
        json_object(body).expect("a JSON object")[name].to_string()
    }

    #[test]
    fn secret_shown_flags_text_that_comes_from_the_secret_member() {
        let shown = show_all(BODY.to_vec());
        assert_eq!(
            secret_shown(BODY, "client_secret", "hunter2 horse", &shown, show_all),
            Some("hunter2 horse".to_owned())
        );
        let secret_only = |b: Vec<u8>| member(&b, "client_secret");
        let shown = secret_only(BODY.to_vec());
        assert!(
            secret_shown(BODY, "client_secret", "hunter2 horse", &shown, secret_only).is_some()
        );
    }

    #[test]
    fn secret_shown_allows_the_same_text_from_elsewhere() {
        // Fixed wording that happens to contain the secret.
        let fixed = |_: Vec<u8>| "missing: hunter2 horse".to_owned();
        let shown = fixed(Vec::new());
        assert_eq!(
            secret_shown(BODY, "client_secret", "hunter2 horse", &shown, fixed),
            None
        );
        // A public member with the same text.
        let body: &[u8] = br#"{"client_id":"hunter2 horse","client_secret":"hunter2 horse"}"#;
        let id_only = |b: Vec<u8>| member(&b, "client_id");
        let shown = id_only(body.to_vec());
        assert_eq!(
            secret_shown(body, "client_secret", "hunter2 horse", &shown, id_only),
            None
        );
        // Not shown at all.
        assert_eq!(
            secret_shown(BODY, "client_secret", "hunter2 horse", "ok", show_all),
            None
        );
    }

    #[test]
    fn replace_member_value_touches_only_that_member() {
        let body: &[u8] = br#"{"a":"xy","client_secret" :	"xy","b":"client_secret"}"#;
        let out = replace_member_value(body, "client_secret", "xy", "kl").expect("found");
        assert_eq!(
            out,
            br#"{"a":"xy","client_secret" :	"kl","b":"client_secret"}"#.to_vec()
        );
        assert_eq!(replace_member_value(body, "client_secret", "x", "k"), None);
        assert_eq!(rotate("aZ09-_"), "nM54-_");
    }
}
