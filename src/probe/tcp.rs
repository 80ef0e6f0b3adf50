//! A `tcp://` or `tls://` check: connect (through the address guard), then for `tls` make
//! the handshake and read the certificate's expiry. Nothing is sent after that: a port that
//! accepts (and a server that completes the handshake) is up.

use std::sync::Arc;

use rustls::ClientConfig;
use url::Host;

use super::names::Names;
use super::{ProbeOptions, Progress, connect, tls};
use crate::check::Failure;
use crate::monitor::TcpTarget;

/// Checks `target`, recording the phases, the address reached and the certificate in
/// `progress`.
pub(super) async fn check(
    target: &TcpTarget,
    options: &ProbeOptions,
    names: &Names,
    tls_config: &Result<Arc<ClientConfig>, String>,
    progress: &mut Progress,
) -> Result<(), Failure> {
    let host = match target.host() {
        Host::Domain(name) => Host::Domain(name.as_str()),
        Host::Ipv4(ip) => Host::Ipv4(*ip),
        Host::Ipv6(ip) => Host::Ipv6(*ip),
    };
    let phases = &mut progress.phases;
    let stream = connect::connect_to(host.clone(), target.port(), options, names, phases).await?;
    progress.connected = true;
    progress.ip = stream.peer_addr().ok().map(|peer| peer.ip());
    if target.tls() {
        let secured = tls::handshake_with(tls_config, &host, stream, &mut progress.phases).await?;
        progress.cert_expires_at = secured.cert_expires_at;
    }
    Ok(())
}
