//! A redacted record of everything that crossed the simulated network.

use oauth_core::{HttpResponse, UnixTime, redact};
use std::fmt;
use url::Url;

/// One event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// When it happened, on the simulation's clock.
    pub at: UnixTime,
    /// What happened.
    pub kind: EntryKind,
    /// The redacted rendering.
    pub text: String,
}

/// The kinds of event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// The client sent a request.
    Request,
    /// The client received a response.
    Response,
    /// The client told the user to visit a URL.
    Visit,
    /// The user agent delivered a callback to the client.
    Callback,
    /// The exchange failed below HTTP.
    TransportFailure,
    /// The client waited.
    Wait,
    /// A remark by the simulation.
    Note,
}

/// The record. Every text in it went through `oauth_core::redact`, so it can be
/// printed and kept: tokens, codes, verifiers, `state` and secrets are not in it.
#[derive(Clone, Debug, Default)]
pub struct Transcript {
    entries: Vec<Entry>,
}

impl Transcript {
    /// All entries in order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Number of entries of `kind`.
    pub fn count(&self, kind: EntryKind) -> usize {
        self.entries.iter().filter(|e| e.kind == kind).count()
    }

    pub(crate) fn push(&mut self, at: UnixTime, kind: EntryKind, text: String) {
        self.entries.push(Entry { at, kind, text });
    }

    pub(crate) fn request(&mut self, at: UnixTime, req: &http::Request<Vec<u8>>) {
        self.push(at, EntryKind::Request, redact::request(req).to_string());
    }

    pub(crate) fn response(&mut self, at: UnixTime, resp: &HttpResponse) {
        self.push(at, EntryKind::Response, redact::response(resp).to_string());
    }

    pub(crate) fn url(&mut self, at: UnixTime, kind: EntryKind, url: &Url) {
        self.push(at, kind, redact::url(url).to_string());
    }
}

impl fmt::Display for Transcript {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.entries {
            let label = match e.kind {
                EntryKind::Request => "client → server",
                EntryKind::Response => "server → client",
                EntryKind::Visit => "client → user: visit",
                EntryKind::Callback => "user agent → client: callback",
                EntryKind::TransportFailure => "transport failure",
                EntryKind::Wait => "client waits",
                EntryKind::Note => "note",
            };
            writeln!(f, "── t={} {label}", e.at)?;
            for line in e.text.lines() {
                writeln!(f, "   {line}")?;
            }
        }
        Ok(())
    }
}
