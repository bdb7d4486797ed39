//! Strict `application/x-www-form-urlencoded` decoding (RFC 6749 Appendix B).
//!
//! Unlike `url::form_urlencoded::parse`, which replaces bad bytes silently, an
//! invalid `%` escape or a decoded value that is not UTF-8 is an error (RESP-01).

use crate::error::{ParseError, ParseErrorKind};

/// Splits a form body or query into decoded `(name, value)` pairs, in order.
/// `+` is a space; `%XX` an octet; the octets must be UTF-8. Empty pieces between `&`
/// are skipped; a piece without `=` has an empty value. Duplicates are kept: callers
/// decide (and reject them).
pub fn parse_form(input: &str) -> Result<Vec<(String, String)>, ParseError> {
    let mut out = Vec::new();
    for piece in input.split('&') {
        if piece.is_empty() {
            continue;
        }
        let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
        out.push((decode(k)?, decode(v)?));
    }
    Ok(out)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn decode(s: &str) -> Result<String, ParseError> {
    if !s.bytes().any(|b| b == b'%' || b == b'+') {
        return Ok(s.to_owned());
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
    String::from_utf8(out).map_err(|_| ParseError::new("form", ParseErrorKind::NotUtf8))
}

#[cfg(test)]
mod tests {
    use super::*;

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
