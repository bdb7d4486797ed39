//! Scope values (RFC 6749 §3.3).

use crate::error::ConfigError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// An ordered list of scope tokens, each checked against RFC 6749 §3.3
/// (`1*( %x21 / %x23-5B / %x5D-7E )`). Order is kept; nothing is deduplicated
/// silently, but a token given twice is sent once.
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Scope(Vec<String>);

impl Scope {
    /// The empty scope (no `scope` parameter is sent).
    pub const fn empty() -> Self {
        Scope(Vec::new())
    }

    /// A scope from individual tokens. Fails on an empty token or a forbidden character.
    pub fn new<I, S>(tokens: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut out: Vec<String> = Vec::new();
        for t in tokens {
            let t = t.into();
            if !is_scope_token(&t) {
                return Err(ConfigError::InvalidScopeToken);
            }
            if !out.contains(&t) {
                out.push(t);
            }
        }
        Ok(Scope(out))
    }

    /// Parses a space-delimited scope string. Runs of spaces are tolerated.
    pub fn parse(s: &str) -> Result<Self, ConfigError> {
        Scope::new(s.split(' ').filter(|t| !t.is_empty()))
    }

    /// No tokens.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The tokens in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Whether `token` is included.
    pub fn contains(&self, token: &str) -> bool {
        self.0.iter().any(|t| t == token)
    }

    /// Whether every token of `self` is in `other`.
    pub fn is_subset_of(&self, other: &Scope) -> bool {
        self.iter().all(|t| other.contains(t))
    }
}

/// RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
pub(crate) fn is_scope_token(t: &str) -> bool {
    !t.is_empty()
        && t.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5B).contains(&b) || (0x5D..=0x7E).contains(&b))
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            f.write_str(t)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scope({:?})", self.to_string())
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
        s.to_string()
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
}
