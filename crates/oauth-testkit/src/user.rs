//! The simulated user at the authorization page.

use url::Url;

/// What the user (and their user agent) does when the client asks them to visit the
/// authorization URL.
pub enum UserPolicy {
    /// Approve; the browser delivers the server's redirect unchanged.
    Approve,
    /// Deny; the browser delivers the `access_denied` redirect.
    Deny,
    /// Never come back (the tab was closed).
    Never,
    /// Approve, and let this function rewrite the callback URL before it reaches the
    /// client (an attacker in the user agent, a confused deputy, a buggy proxy).
    Tamper(Box<dyn FnMut(Url) -> Url>),
    /// Ignore the server: deliver this function's URL instead (a forged callback).
    /// It gets the authorization URL the client produced.
    Forge(Box<dyn FnMut(&Url) -> Url>),
}

impl UserPolicy {
    /// [`UserPolicy::Tamper`] from a closure.
    pub fn tamper(f: impl FnMut(Url) -> Url + 'static) -> Self {
        UserPolicy::Tamper(Box::new(f))
    }

    /// [`UserPolicy::Forge`] from a closure.
    pub fn forge(f: impl FnMut(&Url) -> Url + 'static) -> Self {
        UserPolicy::Forge(Box::new(f))
    }
}

impl std::fmt::Debug for UserPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            UserPolicy::Approve => "Approve",
            UserPolicy::Deny => "Deny",
            UserPolicy::Never => "Never",
            UserPolicy::Tamper(_) => "Tamper(..)",
            UserPolicy::Forge(_) => "Forge(..)",
        })
    }
}
