//! Reading a JSON object into members, rejecting duplicate keys.
//!
//! `serde_json::Value` keeps the last of two equal keys silently, which invites
//! parser-differential attacks; this visitor rejects the second one instead.

use super::Members;
use crate::error::{ParseError, ParseErrorKind};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};
use std::collections::btree_map::Entry;
use std::fmt;

struct ObjectSeed<'a> {
    failure: &'a mut Option<ParseErrorKind>,
}

impl<'de> DeserializeSeed<'de> for ObjectSeed<'_> {
    type Value = Members;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Members, D::Error> {
        d.deserialize_any(ObjectVisitor {
            failure: self.failure,
        })
    }
}

struct ObjectVisitor<'a> {
    failure: &'a mut Option<ParseErrorKind>,
}

impl ObjectVisitor<'_> {
    fn not_object<E: serde::de::Error>(self) -> Result<Members, E> {
        *self.failure = Some(ParseErrorKind::NotAnObject);
        Err(E::custom("not an object"))
    }
}

impl<'de> Visitor<'de> for ObjectVisitor<'_> {
    type Value = Members;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
        let mut out = Members::new();
        while let Some(key) = map.next_key::<String>()? {
            match out.entry(key) {
                Entry::Occupied(e) => {
                    *self.failure = Some(ParseErrorKind::DuplicateKey(crate::redact::sanitize(
                        e.key(),
                        64,
                    )));
                    return Err(serde::de::Error::custom("duplicate key"));
                }
                Entry::Vacant(e) => {
                    e.insert(map.next_value()?);
                }
            }
        }
        Ok(out)
    }

    fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<Members, E> {
        self.not_object()
    }
    fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<Members, E> {
        self.not_object()
    }
    fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<Members, E> {
        self.not_object()
    }
    fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<Members, E> {
        self.not_object()
    }
    fn visit_str<E: serde::de::Error>(self, _: &str) -> Result<Members, E> {
        self.not_object()
    }
    fn visit_unit<E: serde::de::Error>(self) -> Result<Members, E> {
        self.not_object()
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<Members, A::Error> {
        self.not_object()
    }
}

/// Parses `text` as one JSON object. Nesting depth is bounded by serde_json's
/// recursion limit (128); lone surrogate escapes are rejected by serde_json.
pub(crate) fn object_members(text: &str) -> Result<Members, ParseError> {
    let mut failure = None;
    let mut de = serde_json::Deserializer::from_str(text);
    let result = ObjectSeed {
        failure: &mut failure,
    }
    .deserialize(&mut de)
    .and_then(|m| de.end().map(|()| m));
    result.map_err(|e| {
        let kind = failure.unwrap_or_else(|| match e.classify() {
            serde_json::error::Category::Eof => ParseErrorKind::Truncated,
            _ => ParseErrorKind::Malformed,
        });
        ParseError::new("body", kind)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_09_duplicate_keys_are_rejected() {
        let e = object_members(r#"{"access_token":"a","access_token":"b"}"#).unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::DuplicateKey("access_token".into()));
        // Escaped spelling of the same key is still the same key.
        let e = object_members(r#"{"a":1,"\u0061":2}"#).unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::DuplicateKey("a".into()));
    }

    #[test]
    fn parse_10_shapes() {
        assert_eq!(
            object_members("[1]").unwrap_err().kind,
            ParseErrorKind::NotAnObject
        );
        assert_eq!(
            object_members("\"x\"").unwrap_err().kind,
            ParseErrorKind::NotAnObject
        );
        assert_eq!(
            object_members("null").unwrap_err().kind,
            ParseErrorKind::NotAnObject
        );
        assert_eq!(
            object_members(r#"{"a":"#).unwrap_err().kind,
            ParseErrorKind::Truncated
        );
        assert_eq!(
            object_members("").unwrap_err().kind,
            ParseErrorKind::Truncated
        );
        assert_eq!(
            object_members("{} x").unwrap_err().kind,
            ParseErrorKind::Malformed
        );
        assert_eq!(
            object_members(r#"{"a":"\ud800"}"#).unwrap_err().kind,
            ParseErrorKind::Malformed
        );
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(
            object_members(&deep).unwrap_err().kind,
            ParseErrorKind::Malformed
        );
        assert_eq!(object_members(r#"{"a":{"b":[1,2]}}"#).unwrap().len(), 1);
    }
}
