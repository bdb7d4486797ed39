//! Log forms that never show a secret.
//!
//! [`request`], [`response`] and [`url`] render HTTP messages and URLs for logs and
//! transcripts: `Authorization`, `Cookie` and `DPoP` headers, and the values of
//! [`SENSITIVE_PARAMETERS`] in form bodies, JSON bodies and query strings, are replaced
//! by `<redacted>`. [`sanitize`] makes server-provided text safe for a terminal.

use crate::secret::REDACTED;
use http::HeaderMap;
use std::borrow::Cow;
use std::fmt::{self, Write as _};
use url::Url;

/// Parameter and member names whose values are secrets.
pub const SENSITIVE_PARAMETERS: &[&str] = &[
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "client_assertion",
    "code",
    "code_verifier",
    "state",
    "device_code",
    "token",
    "assertion",
    "subject_token",
    "actor_token",
    "password",
    "registration_access_token",
];

/// Parameters known to carry no secret, shown as they are (no token-like masking).
const PUBLIC_PARAMETERS: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "code_challenge",
    "code_challenge_method",
    "grant_type",
    "iss",
    "token_type",
    "expires_in",
    "error",
    "token_type_hint",
];

/// Header names whose values are secrets.
pub const SENSITIVE_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "dpop",
];

/// Whether `name` (a parameter or JSON member) holds a secret.
pub fn is_sensitive_parameter(name: &str) -> bool {
    SENSITIVE_PARAMETERS
        .iter()
        .any(|s| s.eq_ignore_ascii_case(name))
}

fn is_sensitive_header(name: &str) -> bool {
    SENSITIVE_HEADERS
        .iter()
        .any(|s| s.eq_ignore_ascii_case(name))
}

/// Makes text from the network safe to show: control and non-printing characters are
/// escaped (`\u{1b}`), the result is cut at about `max` characters (with `…`), and runs
/// that look like tokens (24 or more `token68` characters mixing upper case, lower case
/// and digits)
/// are masked.
pub fn sanitize(text: &str, max: usize) -> String {
    escape_and_cap(&mask_token_like(text), max)
}

/// Whether `c` is shown escaped: control characters and the invisible ones that reorder
/// or hide text (zero-width marks, bidi embeddings, overrides and isolates).
fn must_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// [`sanitize`] without the masking, for text whose secrets were already redacted by
/// structure (JSON members, form parameters).
fn escape_and_cap(masked: &str, max: usize) -> String {
    // Printable ASCII that fits needs nothing: one byte is one character.
    if masked.len() <= max && masked.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return masked.to_owned();
    }
    let mut out = String::with_capacity(masked.len().min(max + 8));
    // `shown` counts output characters, escapes included, so the cap holds for any input.
    let mut shown = 0;
    for c in masked.chars() {
        let escaped = must_escape(c);
        // `\u{` + hex digits + `}`.
        let width = if escaped {
            let digits = (32 - (c as u32 | 1).leading_zeros()).div_ceil(4) as usize;
            4 + digits
        } else {
            1
        };
        if shown + width > max {
            out.push('…');
            break;
        }
        if escaped {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
        shown += width;
    }
    out
}

/// For each octet: 0 when it is not a token character, else `TOKEN` with the class of
/// the character (`UPPER`, `LOWER`, `DIGIT`, or none for `-._~+/=`). Token
/// characters are `token68` (RFC 7235 §2.1) plus `~`: what a token-like run is made of.
static TOKEN_CLASS: [u8; 256] = {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = match c {
            b'A'..=b'Z' => TOKEN | UPPER,
            b'a'..=b'z' => TOKEN | LOWER,
            b'0'..=b'9' => TOKEN | DIGIT,
            b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=' => TOKEN,
            _ => 0,
        };
        b += 1;
    }
    table
};
const TOKEN: u8 = 8;
const UPPER: u8 = 1;
const LOWER: u8 = 2;
const DIGIT: u8 = 4;

/// Replaces runs of ≥ 24 token characters that mix at least two of upper case, lower
/// case and digits (random tokens do; words and lower-case URL paths do not). Text
/// with no such run is returned as it is, without a copy.
fn mask_token_like(text: &str) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let mut out: Option<String> = None;
    // Bytes of `text` before this index are already in `out`.
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if TOKEN_CLASS[usize::from(bytes[i])] == 0 {
            i += 1;
            continue;
        }
        // Token characters are ASCII, so a run starts and ends at character boundaries.
        let start = i;
        let mut classes = 0u8;
        while i < bytes.len() {
            let class = TOKEN_CLASS[usize::from(bytes[i])];
            if class == 0 {
                break;
            }
            classes |= class;
            i += 1;
        }
        if i - start >= 24 && (classes & (UPPER | LOWER | DIGIT)).count_ones() >= 2 {
            let out = out.get_or_insert_with(|| String::with_capacity(text.len()));
            out.push_str(&text[copied..start]);
            out.push_str(REDACTED);
            copied = i;
        }
    }
    match out {
        None => Cow::Borrowed(text),
        Some(mut out) => {
            out.push_str(&text[copied..]);
            Cow::Owned(out)
        }
    }
}

/// The start of a body as safe text: at most `max` bytes, lossy UTF-8, sanitised,
/// with sensitive members of a JSON or form body redacted.
pub fn body_snippet(body: &[u8], max: usize) -> String {
    escape_and_cap(&redact_body(body), max)
}

/// Renders a body with sensitive values redacted: JSON objects (recursively: sensitive
/// members replaced, other strings masked unless they are URLs), form bodies, or, for
/// anything else, text with token-like runs masked.
fn redact_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    // A leading BOM is skipped, as the parsers skip it: a JSON body behind one must be
    // redacted as JSON, not shown as text.
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        if let Ok(mut value) = serde_json::from_str::<serde_json::Value>(trimmed) {
            redact_json(&mut value);
            return value.to_string();
        }
        // JSON that does not parse (malformed, or cut by the caller's size cap): where a
        // sensitive member's value ends cannot be told, so nothing is shown from the
        // first sensitive member name on.
        return mask_token_like(&cut_at_sensitive_member(&text)).into_owned();
    }
    if !text.is_empty()
        && text.contains('=')
        && !text.contains(char::is_whitespace)
        && !text.contains('<')
    {
        return redact_form(&text);
    }
    mask_token_like(&text).into_owned()
}

/// `text` up to the first quoted sensitive member name (ASCII case-insensitive),
/// followed by `<redacted>`; all of `text` if it has none.
fn cut_at_sensitive_member(text: &str) -> std::borrow::Cow<'_, str> {
    let lower = text.to_ascii_lowercase();
    let first = SENSITIVE_PARAMETERS
        .iter()
        .filter_map(|name| lower.find(&format!("\"{name}\"")))
        .min();
    match first {
        Some(i) => format!("{}{REDACTED}", &text[..i]).into(),
        None => text.into(),
    }
}

fn redact_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_sensitive_parameter(k) {
                    *v = serde_json::Value::String(REDACTED.to_owned());
                } else if !(v.is_string() && PUBLIC_PARAMETERS.contains(&k.as_str())) {
                    // A known public member (a client id that merely looks like a token)
                    // stays readable; anything else is searched.
                    redact_json(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact_json),
        // An unknown member may still carry a secret: mask token-like text, but leave
        // URLs (endpoints, issuers) readable.
        serde_json::Value::String(text) if Url::parse(text).is_err() => {
            let masked = match mask_token_like(text) {
                Cow::Owned(masked) => Some(masked),
                Cow::Borrowed(_) => None,
            };
            if let Some(masked) = masked {
                *text = masked;
            }
        }
        _ => {}
    }
}

/// A form-encoded string with sensitive values replaced (keys kept as sent).
fn redact_form(form: &str) -> String {
    let mut out = String::with_capacity(form.len());
    for (i, pair) in form.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        let (raw_key, _) = pair.split_once('=').unwrap_or((pair, ""));
        let key = url::form_urlencoded::parse(raw_key.as_bytes())
            .next()
            .map(|(k, _)| k.into_owned())
            .unwrap_or_default();
        match pair.split_once('=') {
            Some(_) if is_sensitive_parameter(&key) => {
                out.push_str(raw_key);
                out.push('=');
                out.push_str(REDACTED);
            }
            Some((_, raw_value)) => {
                out.push_str(raw_key);
                out.push('=');
                if PUBLIC_PARAMETERS
                    .iter()
                    .any(|p| p.eq_ignore_ascii_case(&key))
                {
                    out.push_str(raw_value);
                } else {
                    out.push_str(&mask_token_like(raw_value));
                }
            }
            None => out.push_str(&mask_token_like(pair)),
        }
    }
    out
}

fn write_headers(f: &mut fmt::Formatter<'_>, headers: &HeaderMap) -> fmt::Result {
    for (name, value) in headers {
        if is_sensitive_header(name.as_str()) || value.is_sensitive() {
            // Keep the scheme (`Bearer`, `Basic`) visible: it helps debugging.
            let scheme = value
                .to_str()
                .ok()
                .and_then(|v| v.split_once(' ').map(|(s, _)| s))
                .filter(|s| s.len() < 16 && s.chars().all(|c| c.is_ascii_alphabetic()));
            match scheme {
                Some(s) => writeln!(f, "{name}: {s} {REDACTED}")?,
                None => writeln!(f, "{name}: {REDACTED}")?,
            }
        } else {
            let v = String::from_utf8_lossy(value.as_bytes());
            writeln!(f, "{name}: {}", sanitize(&v, 512))?;
        }
    }
    Ok(())
}

fn write_body(f: &mut fmt::Formatter<'_>, body: &[u8]) -> fmt::Result {
    if body.is_empty() {
        return Ok(());
    }
    writeln!(f)?;
    write!(f, "{}", escape_and_cap(&redact_body(body), 4096))
}

/// A redacted, multi-line rendering of a request: request line, headers, body.
pub fn request<B: AsRef<[u8]>>(req: &http::Request<B>) -> impl fmt::Display + '_ {
    struct Show<'a, B>(&'a http::Request<B>);
    impl<B: AsRef<[u8]>> fmt::Display for Show<'_, B> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let req = self.0;
            let uri = req.uri().to_string();
            let shown = match Url::parse(&uri) {
                Ok(u) => url(&u).to_string(),
                Err(_) => sanitize(&uri, 1024),
            };
            writeln!(f, "{} {}", req.method(), shown)?;
            write_headers(f, req.headers())?;
            write_body(f, req.body().as_ref())
        }
    }
    Show(req)
}

/// A redacted, multi-line rendering of a response: status, headers, body.
pub fn response<B: AsRef<[u8]>>(resp: &http::Response<B>) -> impl fmt::Display + '_ {
    struct Show<'a, B>(&'a http::Response<B>);
    impl<B: AsRef<[u8]>> fmt::Display for Show<'_, B> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            writeln!(f, "HTTP {}", self.0.status())?;
            write_headers(f, self.0.headers())?;
            write_body(f, self.0.body().as_ref())
        }
    }
    Show(resp)
}

/// A URL (a [`Url`], an [`AuthorizationUrl`](crate::AuthorizationUrl)) with the values
/// of sensitive query and fragment parameters redacted.
pub fn url<U: AsRef<str> + ?Sized>(u: &U) -> impl fmt::Display + '_ {
    struct Show<'a>(&'a str);
    impl fmt::Display for Show<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let (rest, fragment) = match self.0.split_once('#') {
                Some((rest, frag)) => (rest, Some(frag)),
                None => (self.0, None),
            };
            let (head, query) = match rest.split_once('?') {
                Some((head, q)) => (head, Some(q)),
                None => (rest, None),
            };
            f.write_str(head)?;
            if let Some(q) = query {
                write!(f, "?{}", redact_form(q))?;
            }
            if let Some(frag) = fragment {
                write!(f, "#{}", redact_form(frag))?;
            }
            Ok(())
        }
    }
    Show(u.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_bodies_redact_secrets() {
        let req = http::Request::post("https://as.example/token")
            .header("authorization", "Basic czZCaGRSa3F0Mzo3RmpmcDBaQnIxS3REUmJuZlZkbUl3")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(
                b"grant_type=authorization_code&code=SECRETCODE&code_verifier=VERIFIER&client_secret=CS&refresh_token=RT"
                    .to_vec(),
            )
            .unwrap();
        let shown = request(&req).to_string();
        for secret in ["SECRETCODE", "VERIFIER", "=CS", "=RT", "czZCaGRSa3F0"] {
            assert!(!shown.contains(secret), "{secret} leaked in {shown}");
        }
        assert!(shown.contains("grant_type=authorization_code"));
        assert!(shown.contains("authorization: Basic <redacted>"));
    }

    #[test]
    fn json_bodies_redact_secrets() {
        let resp = http::Response::builder()
            .status(200)
            .body(br#"{"access_token":"AT","refresh_token":"RT","nested":{"id_token":"IT"},"expires_in":3600}"#.to_vec())
            .unwrap();
        let shown = response(&resp).to_string();
        assert!(!shown.contains("\"AT\""));
        assert!(!shown.contains("\"RT\""));
        assert!(!shown.contains("\"IT\""));
        assert!(shown.contains("3600"));
    }

    #[test]
    fn json_bodies_behind_a_bom_redact_secrets() {
        let shown = body_snippet(
            "\u{feff}{\"client_secret\":\"correct horse battery\"}".as_bytes(),
            256,
        );
        assert!(!shown.contains("correct horse"), "{shown}");
        assert!(shown.contains("client_secret"), "{shown}");
    }

    #[test]
    fn json_bodies_that_do_not_parse_hide_everything_from_a_secret_on() {
        for body in [
            r#"{"client_id":"c","client_secret":"correct horse battery","pad":"xxx"#,
            r#"{"client_id":"c","Client_Secret" : "correct horse battery",}"#,
        ] {
            let shown = body_snippet(body.as_bytes(), 256);
            assert!(!shown.contains("correct horse"), "{shown}");
            assert!(shown.starts_with(r#"{"client_id":"c","#), "{shown}");
        }
    }

    #[test]
    fn urls_redact_code_and_state() {
        let u =
            Url::parse("http://127.0.0.1:9/cb?code=C0DE&state=ST4TE&iss=https%3A%2F%2Fas").unwrap();
        let shown = url(&u).to_string();
        assert!(!shown.contains("C0DE") && !shown.contains("ST4TE"));
        assert!(shown.contains("iss=https%3A%2F%2Fas"));
    }

    #[test]
    fn err_04_sanitize_escapes_control_characters() {
        let s = sanitize("bad\u{1b}]8;;http://evil\u{1b}\\ text\r\n", 100);
        assert!(!s.contains('\u{1b}'));
        assert!(!s.contains('\r'));
        assert!(s.contains("\\u{1b}"));
        let long = sanitize(&"x ".repeat(1000), 10);
        assert!(long.chars().count() <= 11);
        // The cap counts escapes too: 1000 NULs cannot grow past it.
        let nuls = sanitize(&"\0".repeat(1000), 64);
        assert!(nuls.chars().count() <= 65, "{}", nuls.chars().count());
        assert!(nuls.starts_with("\\u{0}"));
    }

    #[test]
    fn public_members_stay_readable_in_json() {
        let id = "LPJB3pCvVnuHNhZusNzZSP8TjwaK2YrT53PMPz-i4Sp";
        let body = format!(r#"{{"client_id":"{id}","other":"{id}","client_secret":"s"}}"#);
        let shown = redact_body(body.as_bytes());
        assert!(shown.contains(&format!(r#""client_id":"{id}""#)), "{shown}");
        // The same text under an unknown member is still masked.
        assert!(!shown.contains(&format!(r#""other":"{id}""#)), "{shown}");
        assert!(!shown.contains(r#""s""#), "{shown}");
    }

    #[test]
    fn urls_in_bodies_stay_readable_and_unknown_secrets_are_masked() {
        let resp = http::Response::builder()
            .status(200)
            .body(
                br#"{"device_authorization_endpoint":"http://127.0.0.1:36005/device_authorization","x_secret":"Zk9qL3mN8pQ2rS5tU7vW1xY4zA6bC0dE"}"#
                    .to_vec(),
            )
            .unwrap();
        let shown = response(&resp).to_string();
        assert!(
            shown.contains("http://127.0.0.1:36005/device_authorization"),
            "{shown}"
        );
        assert!(
            !shown.contains("Zk9qL3mN8pQ2rS5tU7vW1xY4zA6bC0dE"),
            "{shown}"
        );
    }

    #[test]
    fn err_05_token_like_runs_are_masked() {
        let s = sanitize("token is eyJhbGciOiJSUzI1NiJ9abc123XYZ and done", 200);
        assert!(!s.contains("eyJhbGciOiJSUzI1NiJ9abc123XYZ"));
        assert!(s.contains("token is"));
        assert!(s.contains("done"));
    }
    /// The first, plain implementation of [`sanitize`], kept as the reference the fast
    /// one must match character for character.
    fn sanitize_reference(text: &str, max: usize) -> String {
        let is_token_char = |c: char| {
            c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~' | '+' | '/' | '=')
        };
        let mut masked = String::new();
        let mut run_start: Option<usize> = None;
        let flush = |out: &mut String, run: &str| {
            let classes = [
                run.bytes().any(|c| c.is_ascii_uppercase()),
                run.bytes().any(|c| c.is_ascii_lowercase()),
                run.bytes().any(|c| c.is_ascii_digit()),
            ];
            if run.len() >= 24 && classes.iter().filter(|&&c| c).count() >= 2 {
                out.push_str(REDACTED);
            } else {
                out.push_str(run);
            }
        };
        for (i, c) in text.char_indices() {
            if is_token_char(c) {
                run_start.get_or_insert(i);
            } else {
                if let Some(s) = run_start.take() {
                    flush(&mut masked, &text[s..i]);
                }
                masked.push(c);
            }
        }
        if let Some(s) = run_start {
            flush(&mut masked, &text[s..]);
        }
        let mut out = String::new();
        let mut shown = 0;
        for c in masked.chars() {
            let escape = if c.is_control()
                || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
            {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            };
            let width = escape.chars().count();
            if shown + width > max {
                out.push('…');
                break;
            }
            out.push_str(&escape);
            shown += width;
        }
        out
    }

    #[test]
    fn err_04_05_sanitize_matches_the_reference_implementation() {
        // Pieces that exercise every branch: token runs of every class mix and length
        // around 24, controls with 1- to 6-digit escapes, bidi and zero-width marks,
        // multi-byte text, plain words.
        let pieces = [
            "a",
            "Z",
            "7",
            "-",
            "~",
            "=",
            "/",
            " ",
            "\0",
            "\u{1b}",
            "\u{7f}",
            "\u{9f}",
            "\u{200b}",
            "\u{202e}",
            "\u{2069}",
            "\u{10ffff}",
            "é",
            "€",
            "😀",
            "\r\n",
            "abcdefghijklmnopqrstuvwx",
            "ABCDEFGHIJKLMNOPQRSTUVW1",
            "abcdefghijklmnopqrstuvwxyz0",
            "0123456789012345678901234",
            "eyJhbGciOiJSUzI1NiJ9",
            "http://as.example/x",
            "_._._",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..20_000 {
            let mut text = String::new();
            for _ in 0..next(12) {
                text.push_str(pieces[next(pieces.len())]);
            }
            let max = next(80);
            assert_eq!(
                sanitize(&text, max),
                sanitize_reference(&text, max),
                "{text:?} capped at {max}"
            );
        }
        for text in ["", "plain words", "\u{1b}", &"Ab1".repeat(40)] {
            for max in [0, 1, 5, 6, 512] {
                assert_eq!(sanitize(text, max), sanitize_reference(text, max));
            }
        }
    }
}
