//! One clear line per failure, and exit codes that tell failures apart.
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | a local failure (files, configuration directory) |
//! | 2 | usage (bad arguments, missing secret, unknown profile name syntax) |
//! | 3 | authorization: denied, expired, revoked — log in again |
//! | 4 | network: the server could not be reached or did not answer in time |
//! | 5 | the server answered with an error |
//! | 6 | `oauth curl`: the API answered with a non-2xx status |

use oauth_core::{ErrorCode, redact};
use std::fmt::{self, Write as _};
use std::process::ExitCode;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Local = 1,
    Usage = 2,
    Authorization = 3,
    Network = 4,
    Server = 5,
    ApiStatus = 6,
}

#[derive(Debug)]
pub(crate) struct CliError {
    pub(crate) kind: Kind,
    pub(crate) message: String,
}

impl CliError {
    pub(crate) fn new(kind: Kind, message: impl Into<String>) -> Self {
        CliError {
            kind,
            message: message.into(),
        }
    }
    pub(crate) fn local(m: impl Into<String>) -> Self {
        CliError::new(Kind::Local, m)
    }
    pub(crate) fn usage(m: impl Into<String>) -> Self {
        CliError::new(Kind::Usage, m)
    }
    pub(crate) fn auth(m: impl Into<String>) -> Self {
        CliError::new(Kind::Authorization, m)
    }

    /// Classifies a core error that happened while doing `what`.
    pub(crate) fn from_core(what: &str, e: &oauth_core::Error) -> Self {
        use oauth_core::Error as E;
        let kind = if e.needs_new_authorization() {
            Kind::Authorization
        } else {
            // A step of the zero-configuration chain fails as what went wrong in it.
            match e.root() {
                E::Transport(_) => Kind::Network,
                E::Config(_) => Kind::Usage,
                E::Server(r) if r.code == ErrorCode::InvalidClient => Kind::Server,
                E::Server(_) | E::Http(_) | E::Violation(_) | E::Parse(_) => Kind::Server,
                E::PersistFailed(_) => Kind::Local,
                _ => Kind::Local,
            }
        };
        CliError::new(kind, format!("{what}: {e}"))
    }

    pub(crate) fn from_driver(what: &str, e: &oauth_ureq::Error) -> Self {
        match e {
            oauth_ureq::Error::Flow(e) => CliError::from_core(what, e),
            other => CliError::local(format!("{what}: {other}")),
        }
    }

    pub(crate) fn from_api(what: &str, e: &oauth_ureq::ApiError) -> Self {
        use oauth_ureq::ApiError as A;
        match e {
            A::Token(e) => CliError::from_core(what, e),
            A::Transport(_) => CliError::new(Kind::Network, format!("{what}: {e}")),
            A::Refused(_) => CliError::usage(format!("{what}: {e}")),
            A::InvalidToken { .. } => CliError::auth(format!("{what}: {e}")),
            _ => CliError::local(format!("{what}: {e}")),
        }
    }

    pub(crate) fn code(&self) -> ExitCode {
        ExitCode::from(self.kind as u8)
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Whatever reached the message, it is shown sanitised: no control characters,
        // token-like runs masked. The paths of our own files are exempt from the
        // masking (not from the escaping): they hold no secret, the user needs them to
        // find the file ("move it away to start over"), and a path that mixes letters
        // and digits (`/home/bob2/…`, `/Users/Alice/Library/…`) looks token-like.
        let dir = crate::config::config_dir()
            .ok()
            .filter(|d| d.is_absolute() && d.as_os_str().len() > 1)
            .map(|d| d.display().to_string());
        let Some(dir) = dir else {
            return f.write_str(&redact::sanitize(&self.message, 2000));
        };
        let mut rest = self.message.as_str();
        while let Some(i) = rest.find(&dir) {
            f.write_str(&redact::sanitize(&rest[..i], 2000))?;
            // The path runs to the next `:` or whitespace (profile names have neither).
            let tail = &rest[i + dir.len()..];
            let end = tail
                .find(|c: char| c == ':' || c.is_whitespace())
                .unwrap_or(tail.len());
            for c in rest[i..i + dir.len() + end].chars() {
                if c.is_control()
                    || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
                {
                    write!(f, "{}", c.escape_unicode())?;
                } else {
                    f.write_char(c)?;
                }
            }
            rest = &tail[end..];
        }
        f.write_str(&redact::sanitize(rest, 2000))
    }
}
