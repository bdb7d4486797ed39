//! `WWW-Authenticate` challenges (RFC 9110 §11.6.1) and the Bearer challenge's
//! attributes (RFC 6750 §3).

use crate::error::{ErrorCode, ParseError, ParseErrorKind};
use crate::redact::sanitize;
use http::HeaderMap;
use http::header::WWW_AUTHENTICATE;

/// One challenge: an auth scheme with either a `token68` or `name=value` parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The scheme as sent (compare it case-insensitively).
    pub scheme: String,
    /// The `token68`, for schemes that use one.
    pub token68: Option<String>,
    /// The parameters in order, names lower-cased, quoted values unescaped.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// The value of parameter `name` (lower case), if present.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The attributes of a `Bearer` challenge (RFC 6750 §3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BearerChallenge {
    /// `realm`.
    pub realm: Option<String>,
    /// `scope`, space-delimited as sent.
    pub scope: Option<String>,
    /// `error`: `invalid_request`, `invalid_token`, `insufficient_scope`, or another code.
    pub error: Option<ErrorCode>,
    /// `error_description`, sanitised.
    pub error_description: Option<String>,
    /// `error_uri`, sanitised.
    pub error_uri: Option<String>,
    /// Every other parameter (for example RFC 9728's `resource_metadata`).
    pub other: Vec<(String, String)>,
}

impl BearerChallenge {
    /// RFC 6750 §3.1 `invalid_token`: the token is expired, revoked or malformed; a
    /// client may refresh once and retry once.
    pub fn is_invalid_token(&self) -> bool {
        self.error == Some(ErrorCode::InvalidToken)
    }
}

fn malformed(kind: ParseErrorKind) -> ParseError {
    ParseError::new("WWW-Authenticate", kind)
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn is_token68_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)
}

struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }
    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }
    fn skip_ows_and_commas(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b',')) {
            self.pos += 1;
        }
    }
    fn token(&mut self) -> &str {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        // tchar is ASCII, so this slice is valid UTF-8.
        std::str::from_utf8(&self.s[start..self.pos]).unwrap_or("")
    }
    /// Whether a `name = value` parameter starts here (without consuming anything).
    fn at_param(&self) -> bool {
        let mut i = self.pos;
        let start = i;
        while self.s.get(i).copied().is_some_and(is_tchar) {
            i += 1;
        }
        if i == start {
            return false;
        }
        while matches!(self.s.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        if self.s.get(i) != Some(&b'=') {
            return false;
        }
        i += 1;
        while matches!(self.s.get(i), Some(b' ' | b'\t')) {
            i += 1;
        }
        matches!(self.s.get(i), Some(&b) if b == b'"' || is_tchar(b))
            && self.s.get(i) != Some(&b'=')
    }
    fn quoted(&mut self) -> Result<String, ParseError> {
        // Opening quote already checked.
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err(malformed(ParseErrorKind::Truncated)),
                Some(b'"') => {
                    self.pos += 1;
                    break;
                }
                Some(b'\\') => {
                    // RFC 9110 §5.6.4: quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
                    match self.s.get(self.pos + 1).copied() {
                        None => return Err(malformed(ParseErrorKind::Truncated)),
                        Some(c) if c < 0x20 && c != b'\t' || c == 0x7f => {
                            return Err(malformed(ParseErrorKind::Malformed));
                        }
                        Some(c) => out.push(c),
                    }
                    self.pos += 2;
                }
                Some(c) if c < 0x20 && c != b'\t' || c == 0x7f => {
                    return Err(malformed(ParseErrorKind::Malformed));
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
        String::from_utf8(out).map_err(|_| malformed(ParseErrorKind::NotUtf8))
    }
}

/// Parses one `WWW-Authenticate` field value into its challenges. Tolerates optional
/// whitespace around `=` and commas, empty list elements, and any scheme or parameter
/// name case.
pub fn parse_challenges(value: &[u8]) -> Result<Vec<Challenge>, ParseError> {
    let mut c = Cursor { s: value, pos: 0 };
    let mut out = Vec::new();
    loop {
        c.skip_ows_and_commas();
        if c.peek().is_none() {
            return Ok(out);
        }
        let scheme = c.token().to_owned();
        if scheme.is_empty() {
            return Err(malformed(ParseErrorKind::Malformed));
        }
        let mut challenge = Challenge {
            scheme,
            token68: None,
            params: Vec::new(),
        };
        let before_space = c.pos;
        c.skip_ows();
        let had_space = c.pos > before_space;
        if had_space && c.peek().is_some_and(|b| b != b',') && !c.at_param() {
            // token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
            let start = c.pos;
            while c.peek().is_some_and(is_token68_char) {
                c.pos += 1;
            }
            if c.pos == start {
                return Err(malformed(ParseErrorKind::Malformed));
            }
            while c.peek() == Some(b'=') {
                c.pos += 1;
            }
            challenge.token68 = Some(String::from_utf8_lossy(&c.s[start..c.pos]).into_owned());
            c.skip_ows();
            if !matches!(c.peek(), None | Some(b',')) {
                return Err(malformed(ParseErrorKind::Malformed));
            }
            out.push(challenge);
            continue;
        }
        // auth-params, until a token that is not followed by `=` starts a new challenge.
        loop {
            c.skip_ows_and_commas();
            if !c.at_param() {
                break;
            }
            let name = c.token().to_ascii_lowercase();
            c.skip_ows();
            c.pos += 1; // '=' (checked by at_param)
            c.skip_ows();
            let value = if c.peek() == Some(b'"') {
                c.quoted()?
            } else {
                c.token().to_owned()
            };
            challenge.params.push((name, value));
            c.skip_ows();
            if !matches!(c.peek(), None | Some(b',')) {
                return Err(malformed(ParseErrorKind::Malformed));
            }
        }
        out.push(challenge);
        if c.peek().is_some() && !c.peek().is_some_and(is_tchar) {
            return Err(malformed(ParseErrorKind::Malformed));
        }
    }
}

/// Parses every `WWW-Authenticate` field in `headers`, in order.
pub fn www_authenticate(headers: &HeaderMap) -> Result<Vec<Challenge>, ParseError> {
    let mut out = Vec::new();
    for v in headers.get_all(WWW_AUTHENTICATE) {
        out.extend(parse_challenges(v.as_bytes())?);
    }
    Ok(out)
}

/// The first `Bearer` challenge in `headers`, typed. A Bearer challenge in which
/// `realm`, `scope`, `error`, `error_description` or `error_uri` appears twice is
/// malformed (RFC 6750 §3: "MUST NOT appear more than once").
pub fn bearer_challenge(headers: &HeaderMap) -> Result<Option<BearerChallenge>, ParseError> {
    let Some(ch) = www_authenticate(headers)?
        .into_iter()
        .find(|c| c.scheme.eq_ignore_ascii_case("bearer"))
    else {
        return Ok(None);
    };
    let mut out = BearerChallenge {
        realm: None,
        scope: None,
        error: None,
        error_description: None,
        error_uri: None,
        other: Vec::new(),
    };
    for (name, value) in ch.params {
        let slot = match name.as_str() {
            "realm" => &mut out.realm,
            "scope" => &mut out.scope,
            "error_description" => &mut out.error_description,
            "error_uri" => &mut out.error_uri,
            "error" => {
                if out.error.is_some() {
                    return Err(malformed(ParseErrorKind::DuplicateKey(name)));
                }
                out.error = Some(ErrorCode::from_code(&value));
                continue;
            }
            _ => {
                out.other.push((name, value));
                continue;
            }
        };
        if slot.is_some() {
            return Err(malformed(ParseErrorKind::DuplicateKey(name)));
        }
        *slot = Some(sanitize(&value, 512));
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(WWW_AUTHENTICATE, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn bearer_06_rfc6750_example() {
        let h = headers(&[
            r#"Bearer realm="example", error="invalid_token", error_description="The access token expired""#,
        ]);
        let b = bearer_challenge(&h).unwrap().unwrap();
        assert_eq!(b.realm.as_deref(), Some("example"));
        assert!(b.is_invalid_token());
        assert_eq!(
            b.error_description.as_deref(),
            Some("The access token expired")
        );
    }

    #[test]
    fn bearer_06_multiple_challenges_and_schemes() {
        let h = headers(&[
            r#"Basic realm="x", bearer   error = invalid_token ,scope="a b",DPoP algs="ES256 PS256""#,
        ]);
        let all = www_authenticate(&h).unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[2].scheme, "DPoP");
        assert_eq!(all[2].param("algs"), Some("ES256 PS256"));
        let b = bearer_challenge(&h).unwrap().unwrap();
        assert!(b.is_invalid_token());
        assert_eq!(b.scope.as_deref(), Some("a b"));
    }

    #[test]
    fn token68_and_bare_schemes() {
        let all = parse_challenges(b"Negotiate abc/+==, Bearer, Basic").unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].token68.as_deref(), Some("abc/+=="));
        assert!(all[1].params.is_empty());
    }

    #[test]
    fn quoted_pairs_are_unescaped() {
        let all = parse_challenges(br#"Bearer realm="a \"quoted\" \\ realm""#).unwrap();
        assert_eq!(all[0].param("realm"), Some(r#"a "quoted" \ realm"#));
    }

    #[test]
    fn bearer_06_duplicate_attributes_are_malformed() {
        let h = headers(&[r#"Bearer error="invalid_token", error="invalid_request""#]);
        assert!(matches!(
            bearer_challenge(&h).unwrap_err().kind,
            ParseErrorKind::DuplicateKey(_)
        ));
        let h = headers(&[r#"Bearer realm="a", realm="b""#]);
        assert!(bearer_challenge(&h).is_err());
    }

    #[test]
    fn malformed_inputs_are_errors() {
        assert!(parse_challenges(br#"Bearer realm="unterminated"#).is_err());
        assert!(parse_challenges(b"Bearer realm=\"a\" junk").is_err());
        assert!(parse_challenges(b"=x").is_err());
        assert!(parse_challenges(b"").unwrap().is_empty());
    }

    #[test]
    fn bare_401_has_no_error() {
        let h = headers(&[r#"Bearer realm="example""#]);
        let b = bearer_challenge(&h).unwrap().unwrap();
        assert!(!b.is_invalid_token());
        assert_eq!(b.error, None);
        assert_eq!(bearer_challenge(&HeaderMap::new()).unwrap(), None);
    }

    #[test]
    fn resource_metadata_is_kept() {
        let h = headers(&[
            r#"Bearer resource_metadata="https://rs.example/.well-known/oauth-protected-resource""#,
        ]);
        let b = bearer_challenge(&h).unwrap().unwrap();
        assert_eq!(b.other[0].0, "resource_metadata");
    }
}
