//! Discovery through the driver.

use crate::driver::{Error, run};
use crate::transport::Transport;
use oauth_core::DiscoveryFlow;
use oauth_core::parse::{MetadataKind, ServerMetadata};

/// Fetches `issuer`'s metadata: RFC 8414's document first, then OpenID Connect's when
/// the server has no RFC 8414 document (a 404 or another client error). The issuer is
/// compared byte for byte with the document's.
pub fn discover(issuer: &str, transport: &Transport) -> Result<ServerMetadata, Error> {
    let mut flow = DiscoveryFlow::start(issuer, MetadataKind::OAuth)?;
    match run(&mut flow, transport, None) {
        Err(Error::Flow(e)) if e.status().is_some_and(|s| s.is_client_error()) => {
            let mut flow = DiscoveryFlow::start(issuer, MetadataKind::OpenId)?;
            run(&mut flow, transport, None)
        }
        other => other,
    }
}
