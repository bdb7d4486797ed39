//! Token sets: what a successful token response gives, and what refresh keeps.

use crate::scope::Scope;
use crate::secret::{AccessToken, IdToken, RefreshToken};
use crate::time::UnixTime;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The token types this client can use (RFC 6749 §7.1). Compared case-insensitively
/// on receipt; always written in canonical form.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TokenType {
    /// `Bearer` (RFC 6750).
    Bearer,
}

impl TokenType {
    /// Maps a received `token_type`, ignoring case. `None` for a type we cannot use.
    pub fn from_received(s: &str) -> Option<Self> {
        s.eq_ignore_ascii_case("bearer")
            .then_some(TokenType::Bearer)
    }

    /// The canonical scheme name for the `Authorization` header.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::Bearer => "Bearer",
        }
    }
}

/// A parsed successful token response (RFC 6749 §5.1), before it is merged into a
/// [`TokenSet`].
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct TokenResponse {
    /// `access_token`, checked to be a `token68`.
    pub access_token: AccessToken,
    /// `token_type`.
    pub token_type: TokenType,
    /// `expires_in` turned into an absolute time from the `now` of receipt.
    pub expires_at: Option<UnixTime>,
    /// `refresh_token`, if sent (an empty string counts as absent).
    pub refresh_token: Option<RefreshToken>,
    /// `scope`, if sent.
    pub scope: Option<Scope>,
    /// `id_token`, if sent (kept as received, not validated here).
    pub id_token: Option<IdToken>,
    /// Members this crate does not interpret, kept as received.
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// The tokens a client holds after a grant, ready to use and to persist.
///
/// `Debug` never shows a token; `extra` members are listed by name only.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenSet {
    /// The access token.
    pub access_token: AccessToken,
    /// Its type.
    pub token_type: TokenType,
    /// When it expires, if the server said (`None`: treat as valid until a 401).
    pub expires_at: Option<UnixTime>,
    /// The refresh token, if any. After a refresh it is the newest one the server
    /// issued: a rotated-out token is never kept (RFC 6749 §6).
    pub refresh_token: Option<RefreshToken>,
    /// The granted scope: the server's `scope`, or the requested scope when the server
    /// sent none (RFC 6749 §5.1). `None` when neither is known.
    pub scope: Option<Scope>,
    /// The ID token, if any.
    pub id_token: Option<IdToken>,
    /// When the response was received.
    pub received_at: UnixTime,
    /// Members of the token response this crate does not interpret.
    #[serde(default)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl TokenSet {
    /// A token set from a fresh grant. `requested` is the scope that was asked for; it
    /// stands for the granted scope when the server did not send one.
    pub fn from_response(resp: TokenResponse, requested: Option<&Scope>, now: UnixTime) -> Self {
        let scope = resp
            .scope
            .or_else(|| requested.filter(|s| !s.is_empty()).cloned());
        TokenSet {
            access_token: resp.access_token,
            token_type: resp.token_type,
            expires_at: resp.expires_at,
            refresh_token: resp.refresh_token,
            scope,
            id_token: resp.id_token,
            received_at: now,
            extra: resp.extra,
        }
    }

    /// The token set after a refresh: RFC 6749 §6 says "the client MUST discard the old
    /// refresh token and replace it with the new refresh token" when one is sent; when
    /// none is sent, the old one stays valid and is kept. The old ID token is kept when
    /// no new one came (OpenID Connect Core §12.2 makes it optional on refresh).
    pub fn refreshed(
        resp: TokenResponse,
        old_refresh_token: RefreshToken,
        old_scope: Option<Scope>,
        old_id_token: Option<IdToken>,
        requested: Option<&Scope>,
        now: UnixTime,
    ) -> Self {
        let mut set = TokenSet::from_response(resp, requested.or(old_scope.as_ref()), now);
        if set.refresh_token.is_none() {
            set.refresh_token = Some(old_refresh_token);
        }
        if set.id_token.is_none() {
            set.id_token = old_id_token;
        }
        set
    }

    /// Whether the access token should be renewed at `now`: it is expired, or will be
    /// within `skew_secs` — where the margin never exceeds half the token's lifetime, so
    /// that a token that lives less than the margin is still used for a while instead of
    /// being refreshed again and again.
    pub fn needs_refresh(&self, now: UnixTime, skew_secs: u64) -> bool {
        let lifetime = self
            .expires_at
            .map_or(u64::MAX, |exp| self.received_at.secs_until(exp));
        self.is_expired(now, skew_secs.min(lifetime / 2))
    }

    /// Whether the access token is expired at `now`, or will be within `skew_secs`.
    /// An unknown expiry counts as not expired.
    pub fn is_expired(&self, now: UnixTime, skew_secs: u64) -> bool {
        self.expires_at
            .is_some_and(|exp| now.saturating_add(skew_secs) >= exp)
    }
}

impl fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &self.access_token)
            .field("token_type", &self.token_type)
            .field("expires_at", &self.expires_at)
            .field("refresh_token", &self.refresh_token)
            .field("scope", &self.scope)
            .field("id_token", &self.id_token)
            .field("received_at", &self.received_at)
            .field("extra", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(refresh: Option<&str>, scope: Option<&str>) -> TokenResponse {
        TokenResponse {
            access_token: AccessToken::new("new-at"),
            token_type: TokenType::Bearer,
            expires_at: Some(UnixTime::from_secs(4600)),
            refresh_token: refresh.map(RefreshToken::new),
            scope: scope.map(|s| Scope::parse(s).unwrap()),
            id_token: None,
            extra: BTreeMap::new(),
        }
    }

    #[test]
    fn rt_01_refresh_without_new_token_keeps_the_old_one() {
        let set = TokenSet::refreshed(
            response(None, None),
            RefreshToken::new("old-rt"),
            Some(Scope::parse("a b").unwrap()),
            None,
            None,
            UnixTime::from_secs(1000),
        );
        assert_eq!(set.refresh_token, Some(RefreshToken::new("old-rt")));
        assert_eq!(set.scope, Some(Scope::parse("a b").unwrap()));
    }

    #[test]
    fn rt_01_rotated_refresh_token_replaces_the_old_one() {
        let set = TokenSet::refreshed(
            response(Some("new-rt"), Some("a")),
            RefreshToken::new("old-rt"),
            Some(Scope::parse("a b").unwrap()),
            None,
            None,
            UnixTime::from_secs(1000),
        );
        assert_eq!(set.refresh_token, Some(RefreshToken::new("new-rt")));
        assert_eq!(set.scope, Some(Scope::parse("a").unwrap()));
    }

    #[test]
    fn parse_04_absent_scope_means_requested_scope() {
        let requested = Scope::parse("a b").unwrap();
        let set = TokenSet::from_response(response(None, None), Some(&requested), UnixTime::EPOCH);
        assert_eq!(set.scope, Some(requested));
    }

    #[test]
    fn expiry_with_skew() {
        let set = TokenSet::from_response(response(None, None), None, UnixTime::from_secs(1000));
        assert!(!set.is_expired(UnixTime::from_secs(4000), 30));
        assert!(set.is_expired(UnixTime::from_secs(4570), 30));
        assert!(set.is_expired(UnixTime::from_secs(5000), 0));
    }

    #[test]
    fn rt_06_the_refresh_margin_is_at_most_half_the_lifetime() {
        // Received at 1000, lives 3600 s: refreshed from 30 s before expiry.
        let set = TokenSet::from_response(response(None, None), None, UnixTime::from_secs(1000));
        assert!(!set.needs_refresh(UnixTime::from_secs(4569), 30));
        assert!(set.needs_refresh(UnixTime::from_secs(4570), 30));
        // Lives 2 s: a 30 s margin would make it stale at birth; it is used for 1 s.
        let mut short = set.clone();
        short.expires_at = Some(UnixTime::from_secs(1002));
        assert!(!short.needs_refresh(UnixTime::from_secs(1000), 30));
        assert!(short.needs_refresh(UnixTime::from_secs(1001), 30));
        // Unknown expiry: never.
        short.expires_at = None;
        assert!(!short.needs_refresh(UnixTime::from_secs(u64::MAX), 30));
    }

    #[test]
    fn debug_shows_no_tokens() {
        let mut set =
            TokenSet::from_response(response(Some("RT-SECRET"), None), None, UnixTime::EPOCH);
        set.extra
            .insert("x".into(), serde_json::json!("EXTRA-SECRET"));
        let d = format!("{set:?}");
        assert!(!d.contains("new-at") && !d.contains("RT-SECRET") && !d.contains("EXTRA-SECRET"));
    }

    #[test]
    fn token_set_serde_round_trip() {
        let set = TokenSet::from_response(response(Some("rt"), Some("a")), None, UnixTime::EPOCH);
        let json = serde_json::to_string(&set).unwrap();
        let back: TokenSet = serde_json::from_str(&json).unwrap();
        assert_eq!(back, set);
    }
}
