//! The common case of a token response — a 2xx JSON object that grants a token — read
//! in one pass, straight into a [`TokenResponse`], without an intermediate map of
//! members and without allocating for the member names this crate knows.
//!
//! It only ever *accepts*: anything it does not read in full confidence (an `error`
//! member, a member of an unexpected type, a duplicate, a body that is not a JSON
//! object, a token type it does not know, an empty or malformed access token, …) makes
//! it give up, and [`token_response`](super::token_response) runs the full parser,
//! which then decides — so every rule of the full parser holds for what this one
//! accepts, and every error is the full parser's. The core's unit tests and the fuzz
//! targets (`cfg(fuzzing)`) run both on every response this path accepts and assert
//! that they agree.

use super::{BodyFormat, Members, ParseOptions, Quirks, body_format};
use crate::bearer::is_token68;
use crate::io::HttpResponse;
use crate::scope::Scope;
use crate::secret::{AccessToken, IdToken, RefreshToken};
use crate::time::UnixTime;
use crate::token::{TokenResponse, TokenType};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, Visitor};
use std::collections::btree_map::Entry;
use std::fmt;

/// The token response in `response`, if it is a plain success this path can read;
/// `None` sends the caller to the full parser.
pub(super) fn success(
    response: &HttpResponse,
    now: UnixTime,
    options: &ParseOptions,
) -> Option<TokenResponse> {
    let body = response.body();
    if !response.status().is_success()
        || body.len() > options.limits.max_body_bytes
        || body_format(response.headers(), body, &options.quirks) != BodyFormat::Json
    {
        return None;
    }
    // A UTF-8 byte order mark is skipped, as the full parser does. serde_json checks
    // that every string is UTF-8, and anything outside strings must be ASCII JSON
    // syntax, so a body read in full here is UTF-8 throughout.
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let mut de = serde_json::Deserializer::from_slice(body);
    let fields = de
        .deserialize_map(FieldsVisitor {
            quirks: &options.quirks,
        })
        .ok()?;
    de.end().ok()?;
    fields.finish(now)
}

/// What the one pass found.
#[derive(Default)]
struct Fields {
    access_token: Option<String>,
    bearer: Option<bool>,
    /// `expires_in`, in seconds (saturated).
    expires_in: Option<u64>,
    refresh_token: Option<String>,
    scope: Option<Scope>,
    id_token: Option<String>,
    extra: Members,
    seen: u8,
}

impl Fields {
    /// Marks member `bit` as seen; a second time is a duplicate, for the full parser.
    fn see<E: de::Error>(&mut self, bit: u8) -> Result<(), E> {
        if self.seen & bit != 0 {
            return Err(give_up());
        }
        self.seen |= bit;
        Ok(())
    }

    /// The response, when every required member is there and valid (RFC 6749 §5.1,
    /// RFC 6750 §2.1); else `None`, for the full parser to name what is wrong.
    fn finish(self, now: UnixTime) -> Option<TokenResponse> {
        let access_token = self.access_token.filter(|t| is_token68(t))?;
        if self.bearer != Some(true) {
            return None;
        }
        let expires_at = self.expires_in.map(|secs| now.saturating_add(secs));
        Some(TokenResponse {
            access_token: AccessToken::new(access_token),
            token_type: TokenType::Bearer,
            expires_at,
            refresh_token: self
                .refresh_token
                .filter(|t| !t.is_empty())
                .map(RefreshToken::new),
            scope: self.scope.filter(|s| !s.is_empty()),
            id_token: self.id_token.filter(|t| !t.is_empty()).map(IdToken::new),
            extra: self.extra,
        })
    }
}

/// The error that makes this path give up (its text is never shown).
pub(super) fn give_up<E: de::Error>() -> E {
    E::custom("not the common case")
}

struct FieldsVisitor<'q> {
    quirks: &'q Quirks,
}

impl<'de> Visitor<'de> for FieldsVisitor<'_> {
    type Value = Fields;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a token response object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields, A::Error> {
        let mut f = Fields::default();
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::AccessToken => {
                    f.see(1)?;
                    f.access_token = map.next_value::<Option<String>>()?;
                }
                Key::TokenType => {
                    f.see(2)?;
                    // RFC 6749 §5.1: "Value is case insensitive."
                    f.bearer = map.next_value_seed(IsBearer)?;
                }
                Key::ExpiresIn => {
                    f.see(4)?;
                    f.expires_in = map.next_value_seed(ExpiresIn {
                        as_string: self.quirks.expires_in_as_string,
                    })?;
                }
                Key::RefreshToken => {
                    f.see(8)?;
                    f.refresh_token = map.next_value::<Option<String>>()?;
                }
                Key::Scope => {
                    f.see(16)?;
                    f.scope = map.next_value_seed(ScopeSeed {
                        comma: self.quirks.scope_comma_separated,
                    })?;
                }
                Key::IdToken => {
                    f.see(32)?;
                    f.id_token = map.next_value::<Option<String>>()?;
                }
                // RFC 6749 §5.2: an error response, whatever the status — the full
                // parser's business.
                Key::Error => return Err(give_up()),
                Key::Other(name) => match f.extra.entry(name) {
                    Entry::Occupied(_) => return Err(give_up()),
                    Entry::Vacant(e) => {
                        e.insert(map.next_value()?);
                    }
                },
            }
        }
        Ok(f)
    }
}

/// A member name: one this crate reads, or another (kept in `extra`). Names arrive
/// unescaped, so `"\u0061ccess_token"` is `access_token` here too.
#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Key {
    AccessToken,
    TokenType,
    ExpiresIn,
    RefreshToken,
    Scope,
    IdToken,
    Error,
    Other(String),
}

/// `token_type`: `Some(true)` for `Bearer` in any case, `None` for `null`; any other
/// value gives up (the full parser refuses it, or applies a quirk).
struct IsBearer;

impl<'de> DeserializeSeed<'de> for IsBearer {
    type Value = Option<bool>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<bool>, D::Error> {
        d.deserialize_any(IsBearer)
    }
}

impl<'de> Visitor<'de> for IsBearer {
    type Value = Option<bool>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a token type")
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Option<bool>, E> {
        match TokenType::from_received(s) {
            Some(TokenType::Bearer) => Ok(Some(true)),
            None => Err(give_up()),
        }
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<bool>, E> {
        Ok(None)
    }
}

/// `expires_in`: a non-negative integer (an integer beyond `u64` saturates, as in the
/// full parser), a string of digits when the quirk allows it, or `null`.
struct ExpiresIn {
    as_string: bool,
}

impl<'de> DeserializeSeed<'de> for ExpiresIn {
    type Value = Option<u64>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<u64>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ExpiresIn {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number of seconds")
    }
    fn visit_u64<E: de::Error>(self, secs: u64) -> Result<Option<u64>, E> {
        Ok(Some(secs))
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Option<u64>, E> {
        // An integer beyond u64 arrives as an f64 of at least 2^64.
        if f >= u64::MAX as f64 {
            Ok(Some(u64::MAX))
        } else {
            Err(give_up())
        }
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Option<u64>, E> {
        let s = s.trim();
        if self.as_string && !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            // All digits: only overflow can fail, and that saturates.
            Ok(Some(s.parse().unwrap_or(u64::MAX)))
        } else {
            Err(give_up())
        }
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<u64>, E> {
        Ok(None)
    }
}

/// `scope`: a string of tokens (space-separated, or also comma-separated with the
/// quirk), or `null`.
struct ScopeSeed {
    comma: bool,
}

impl<'de> DeserializeSeed<'de> for ScopeSeed {
    type Value = Option<Scope>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<Scope>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ScopeSeed {
    type Value = Option<Scope>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a scope string")
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Option<Scope>, E> {
        Scope::parse_separated(s, self.comma)
            .map(Some)
            .map_err(|_| give_up())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Option<Scope>, E> {
        Ok(None)
    }
}
