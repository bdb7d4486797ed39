//! Strict `application/x-www-form-urlencoded` decoding (RFC 6749 Appendix B).
//!
//! Unlike `url::form_urlencoded::parse`, which replaces bad bytes silently, an
//! invalid `%` escape or a decoded value that is not UTF-8 is an error (RESP-01).

use crate::error::{ParseError, ParseErrorKind};
use std::borrow::Cow;

/// Splits a form body or query into decoded `(name, value)` pairs, in order.
/// `+` is a space; `%XX` an octet; the octets must be UTF-8. Empty pieces between `&`
/// are skipped; a piece without `=` has an empty value. Duplicates are kept: callers
/// decide (and reject them).
pub fn parse_form(input: &str) -> Result<Vec<(String, String)>, ParseError> {
    Ok(parse_form_borrowed(input)?
        .into_iter()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect())
}

/// A decoded `(name, value)` pair, borrowed from the input when nothing was escaped.
pub(crate) type Pair<'a> = (Cow<'a, str>, Cow<'a, str>);

/// [`parse_form`] borrowing from `input` what needs no decoding.
pub(crate) fn parse_form_borrowed(input: &str) -> Result<Vec<Pair<'_>>, ParseError> {
    let mut out = Vec::new();
    // `&` and `=` are ASCII, so every split below is at a char boundary.
    for piece in input.split('&') {
        if piece.is_empty() {
            continue;
        }
        let (k, v) = match piece.bytes().position(|b| b == b'=') {
            Some(i) => (&piece[..i], &piece[i + 1..]),
            None => (piece, ""),
        };
        out.push((decode(k)?, decode(v)?));
    }
    Ok(out)
}

/// Appends `name=value` to a form body or query, `&`-separated from what is already
/// there, each encoded by the `application/x-www-form-urlencoded` serializer's rule
/// (WHATWG URL §5.2, what `url::form_urlencoded` does): `*-._`, ASCII letters and
/// digits as they are, space as `+`, every other octet as `%XX`. What it appends is
/// ASCII.
pub(crate) fn append_pair(out: &mut Vec<u8>, name: &str, value: &str) {
    if !out.is_empty() {
        out.push(b'&');
    }
    encode_into(out, name);
    out.push(b'=');
    encode_into(out, value);
}

/// The length of `s` once form-encoded.
pub(crate) fn encoded_len(s: &str) -> usize {
    s.bytes()
        .map(|b| {
            if FORM_PLAIN[usize::from(b)] || b == b' ' {
                1
            } else {
                3
            }
        })
        .sum()
}

/// Appends `s` form-encoded: runs of plain bytes copied whole, the others escaped.
pub(crate) fn encode_into(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let bytes = s.as_bytes();
    out.reserve(bytes.len());
    let mut run = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        i += 1;
        if FORM_PLAIN[usize::from(b)] {
            continue;
        }
        out.extend_from_slice(&bytes[run..i - 1]);
        if b == b' ' {
            out.push(b'+');
        } else {
            out.extend_from_slice(&[b'%', HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]]);
        }
        run = i;
    }
    out.extend_from_slice(&bytes[run..]);
}

/// The octets the form serializer leaves as they are.
static FORM_PLAIN: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'*' | b'-' | b'.' | b'_');
        b += 1;
    }
    table
};

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn decode(s: &str) -> Result<Cow<'_, str>, ParseError> {
    if !s.bytes().any(|b| b == b'%' || b == b'+') {
        return Ok(Cow::Borrowed(s));
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hi = bytes.get(i + 1).copied().and_then(hex);
                let lo = bytes.get(i + 2).copied().and_then(hex);
                match (hi, lo) {
                    (Some(h), Some(l)) => out.push(h << 4 | l),
                    _ => {
                        return Err(ParseError::new(
                            "form",
                            ParseErrorKind::InvalidPercentEncoding,
                        ));
                    }
                }
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out)
        .map(Cow::Owned)
        .map_err(|_| ParseError::new("form", ParseErrorKind::NotUtf8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_pair_encodes_as_the_url_crate_does() {
        let samples = [
            "",
            "plain",
            "a b+c&d=e",
            "http://127.0.0.1:8080/cb?x=1#f",
            "*-._~!'()%",
            "£€ 😀\u{7f}\u{0}",
            "openid profile api:read",
        ];
        for name in samples {
            for value in samples {
                let mut ours = b"x=1".to_vec();
                append_pair(&mut ours, name, value);
                assert_eq!(encoded_len(name) + encoded_len(value) + 5, ours.len());
                let ours = String::from_utf8(ours).unwrap();
                let theirs = url::form_urlencoded::Serializer::new(String::from("x=1"))
                    .append_pair(name, value)
                    .finish();
                assert_eq!(ours, theirs, "{name:?} = {value:?}");
            }
        }
        let mut first = Vec::new();
        append_pair(&mut first, "a", "b");
        assert_eq!(first, b"a=b");
    }

    #[test]
    fn resp_01_appendix_b_vector() {
        let pairs = parse_form("k=+%25%26%2B%C2%A3%E2%82%AC").unwrap();
        assert_eq!(pairs, vec![("k".into(), " %&+£€".into())]);
    }

    #[test]
    fn resp_01_invalid_escapes_and_utf8_are_errors() {
        assert_eq!(
            parse_form("a=%zz").unwrap_err().kind,
            ParseErrorKind::InvalidPercentEncoding
        );
        assert_eq!(
            parse_form("a=%4").unwrap_err().kind,
            ParseErrorKind::InvalidPercentEncoding
        );
        assert_eq!(
            parse_form("a=%FF").unwrap_err().kind,
            ParseErrorKind::NotUtf8
        );
    }

    #[test]
    fn shapes() {
        assert_eq!(
            parse_form("a&&b=&c=1=2").unwrap(),
            vec![
                ("a".into(), "".into()),
                ("b".into(), "".into()),
                ("c".into(), "1=2".into())
            ]
        );
        assert!(parse_form("").unwrap().is_empty());
    }

    #[test]
    fn round_trip_with_url_serializer() {
        let original = [("key ü", "v&=+%€ x"), ("empty", "")];
        let encoded = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(original)
            .finish();
        let decoded = parse_form(&encoded).unwrap();
        assert_eq!(decoded.len(), 2);
        assert_eq!(decoded[0], ("key ü".into(), "v&=+%€ x".into()));
    }
}
