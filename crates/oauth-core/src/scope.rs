//! Scope values (RFC 6749 §3.3).

use crate::error::ConfigError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An ordered list of scope tokens, each checked against RFC 6749 §3.3
/// (`1*( %x21 / %x23-5B / %x5D-7E )`). Order is kept; nothing is deduplicated
/// silently, but a token given twice is sent once.
///
/// Kept as its wire form — the tokens joined by single spaces — in one string, so that
/// a scope costs one allocation and is sent without being joined again.
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Scope(String);

impl Scope {
    /// The empty scope (no `scope` parameter is sent).
    pub const fn empty() -> Self {
        Scope(String::new())
    }

    /// A scope from individual tokens. Fails on an empty token or a forbidden character.
    pub fn new<I, S>(tokens: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut out = Scope(String::new());
        for t in tokens {
            out.push(t.as_ref())?;
        }
        Ok(out)
    }

    /// Appends `token` unless it is already there.
    fn push(&mut self, token: &str) -> Result<(), ConfigError> {
        if !is_scope_token(token) {
            return Err(ConfigError::InvalidScopeToken);
        }
        if !self.contains(token) {
            if !self.0.is_empty() {
                self.0.push(' ');
            }
            self.0.push_str(token);
        }
        Ok(())
    }

    /// Parses a space-delimited scope string. Runs of spaces are tolerated.
    pub fn parse(s: &str) -> Result<Self, ConfigError> {
        Scope::parse_separated(s, false)
    }

    /// Parses a scope string whose tokens are separated by spaces (and commas, with
    /// `comma`), runs tolerated, in one allocation.
    pub(crate) fn parse_separated(s: &str, comma: bool) -> Result<Self, ConfigError> {
        let bytes = s.as_bytes();
        // The usual case: already in wire form (valid tokens, single spaces, nothing
        // given twice) — taken as it is.
        if is_wire_form(bytes, comma) {
            return Ok(Scope(s.to_owned()));
        }
        let mut out = Scope(String::with_capacity(s.len()));
        let is_separator = |b: u8| b == b' ' || (comma && b == b',');
        let mut i = 0;
        while i < bytes.len() {
            if is_separator(bytes[i]) {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && !is_separator(bytes[i]) {
                i += 1;
            }
            // The separators are ASCII, so `start` and `i` are char boundaries.
            out.push(&s[start..i])?;
        }
        Ok(out)
    }

    /// No tokens.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The tokens in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.split(' ').filter(|t| !t.is_empty())
    }

    /// The tokens joined by single spaces: the value of a `scope` parameter.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `token` is included.
    pub fn contains(&self, token: &str) -> bool {
        let token = token.as_bytes();
        !token.is_empty() && self.0.as_bytes().split(|&b| b == b' ').any(|t| t == token)
    }

    /// Whether every token of `self` is in `other`.
    pub fn is_subset_of(&self, other: &Scope) -> bool {
        self.iter().all(|t| other.contains(t))
    }
}

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
pub(crate) fn is_scope_token(t: &str) -> bool {
    !t.is_empty() && t.bytes().all(|b| SCOPE_CHAR[usize::from(b)])
}

/// Whether `bytes` are scope tokens joined by single spaces, each token once (and,
/// with `comma`, without commas, which would be separators).
fn is_wire_form(bytes: &[u8], comma: bool) -> bool {
    // Where each token starts and ends, for the usual handful of tokens.
    const KEPT: usize = 16;
    let mut bounds = [(0usize, 0usize); KEPT];
    let mut tokens = 0;
    let mut after_space = true;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b' ' {
            if after_space {
                return false;
            }
            after_space = true;
        } else if SCOPE_CHAR[usize::from(b)] && !(comma && b == b',') {
            if after_space {
                if tokens < KEPT {
                    bounds[tokens].0 = i;
                }
                tokens += 1;
            }
            if tokens <= KEPT {
                bounds[tokens - 1].1 = i + 1;
            }
            after_space = false;
        } else {
            return false;
        }
    }
    if after_space {
        // Empty, or a trailing space.
        return false;
    }
    // Nothing given twice.
    if tokens <= KEPT {
        let tokens = &bounds[..tokens];
        tokens.iter().enumerate().all(|(i, &(s, e))| {
            tokens[..i]
                .iter()
                .all(|&(s2, e2)| bytes[s..e] != bytes[s2..e2])
        })
    } else {
        let mut tokens = bytes.split(|&b| b == b' ');
        let mut distinct = true;
        while let Some(t) = tokens.next() {
            distinct &= tokens.clone().all(|u| u != t);
        }
        distinct
    }
}

/// The characters of a scope token (RFC 6749 §3.3), as a table.
static SCOPE_CHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0x21;
    while b <= 0x7E {
        table[b] = b != 0x22 && b != 0x5C;
        b += 1;
    }
    table
};

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scope({:?})", self.0)
    }
}

impl TryFrom<String> for Scope {
    type Error = ConfigError;
    fn try_from(s: String) -> Result<Self, ConfigError> {
        Scope::parse(&s)
    }
}

impl From<Scope> for String {
    fn from(s: Scope) -> String {
        s.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authz_09_scope_tokens_are_validated() {
        assert!(Scope::new(["read", "write"]).is_ok());
        assert_eq!(Scope::new(["a b"]), Err(ConfigError::InvalidScopeToken));
        assert_eq!(Scope::new(["a\"b"]), Err(ConfigError::InvalidScopeToken));
        assert_eq!(Scope::new(["a\\b"]), Err(ConfigError::InvalidScopeToken));
        assert_eq!(Scope::new([""]), Err(ConfigError::InvalidScopeToken));
        assert_eq!(Scope::new(["é"]), Err(ConfigError::InvalidScopeToken));
    }

    #[test]
    fn order_is_kept_and_join_is_single_space() {
        let s = Scope::parse("openid  profile email openid").unwrap();
        assert_eq!(s.to_string(), "openid profile email");
        assert!(Scope::parse("email").unwrap().is_subset_of(&s));
        assert!(!Scope::parse("admin").unwrap().is_subset_of(&s));
    }

    #[test]
    fn serde_round_trip() {
        let s = Scope::parse("a b").unwrap();
        let j = serde_json::to_string(&s).unwrap();
        assert_eq!(j, "\"a b\"");
        assert_eq!(serde_json::from_str::<Scope>(&j).unwrap(), s);
        assert!(serde_json::from_str::<Scope>("\"a\\\\b\"").is_err());
    }

    /// The wire-form shortcut takes a string as it is only when token-by-token parsing
    /// would give the very same string: over generated scopes with repeats, runs of
    /// spaces, commas and more tokens than it keeps bounds for.
    #[test]
    fn the_wire_form_shortcut_agrees_with_parsing_token_by_token() {
        let words = [
            "a", "b", "ab", "openid", "api:read", "x,y", "é", "\"", " ", "  ",
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for round in 0..20_000 {
            let count = if round % 100 == 0 {
                20 + next(5)
            } else {
                next(6)
            };
            let mut text = String::new();
            for i in 0..count {
                if i > 0 {
                    text.push(' ');
                }
                if round % 100 == 0 {
                    // Many distinct tokens, and sometimes one repeated at the end.
                    text.push_str(&format!(
                        "t{}",
                        if i + 1 == count && next(2) == 0 { 0 } else { i }
                    ));
                } else {
                    text.push_str(words[next(words.len())]);
                }
            }
            for comma in [false, true] {
                if is_wire_form(text.as_bytes(), comma) {
                    let mut slow = Scope(String::new());
                    for t in text.split(|c| c == ' ' || (comma && c == ',')) {
                        if !t.is_empty() {
                            slow.push(t).unwrap();
                        }
                    }
                    assert_eq!(slow.as_str(), text, "comma {comma}");
                }
            }
        }
    }
}
