//! Discovery (RFC 8414, OpenID Connect Discovery): fetch the server's metadata from its
//! issuer identifier. One request (a `GET`, no client authentication) and one response
//! on the machine of [`exchange`](super::exchange) (`SendRequest` → `AwaitingResponse`
//! → `Done` | `Failed`); the document is read by
//! [`parse::metadata`](crate::parse::metadata), which refuses a document naming another
//! issuer (RFC 8414 §3.3).

use super::exchange::{Exchange, OneShot};
use crate::error::Error;
use crate::io::HttpResponse;
use crate::parse::{self, MetadataKind, ParseOptions, ServerMetadata, well_known_url};
use crate::request::get_json;
use crate::time::UnixTime;

/// A metadata request. See the [module documentation](self).
pub struct DiscoveryFlow(OneShot<Discover>);

one_shot_flow!(DiscoveryFlow, ServerMetadata);

struct Discover {
    issuer: String,
    options: ParseOptions,
}

impl Exchange for Discover {
    type Outcome = ServerMetadata;

    fn on_response(self, response: &HttpResponse, now: UnixTime) -> Result<ServerMetadata, Error> {
        parse::metadata(response, &self.issuer, now, &self.options)
    }
}

impl DiscoveryFlow {
    /// Fetches the `kind` document of `issuer` (kept exactly as given: a trailing slash
    /// matters).
    pub fn start(issuer: &str, kind: MetadataKind) -> Result<Self, Error> {
        let url = well_known_url(issuer, kind)?;
        let uri = http::Uri::try_from(url.as_str()).map_err(|_| {
            crate::error::ConfigError::InvalidIssuer {
                reason: "not a valid URI",
            }
        })?;
        Ok(DiscoveryFlow(OneShot::new(
            get_json(uri),
            Discover {
                issuer: issuer.to_owned(),
                options: ParseOptions::default(),
            },
        )))
    }
}
