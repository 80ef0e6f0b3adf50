//! Resolving a host, the address guard, and the TCP connection.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use tokio::net::TcpStream;
use url::{Host, Url};

use super::names::Names;
use super::{ProbeOptions, add};
use crate::check::{Failure, FailureKind, Phases};
use crate::monitor::address::{how_to_allow, refusal};

/// Resolves `url`'s host, refuses addresses the guard forbids, and connects to the first
/// permitted address that accepts; DNS and connect times are added to `phases`.
pub(super) async fn connect(
    url: &Url,
    options: &ProbeOptions,
    names: &Names,
    phases: &mut Phases,
) -> Result<TcpStream, Failure> {
    let port = url.port_or_known_default().unwrap_or(80);
    match url.host() {
        Some(host) => connect_to(host, port, options, names, phases).await,
        None => Err(Failure::new(
            FailureKind::Dns,
            format!("The URL {url} has no host to resolve."),
        )),
    }
}

/// [`connect`] for a host and port: what a TCP check and an HTTP hop share.
pub(super) async fn connect_to(
    host: Host<&str>,
    port: u16,
    options: &ProbeOptions,
    names: &Names,
    phases: &mut Phases,
) -> Result<TcpStream, Failure> {
    let permitted = permitted(&host, port, options, names, phases).await?;
    let started = Instant::now();
    let mut last_error = None;
    // The whole check runs under its timeout, so each attempt gets whatever time is left.
    for address in permitted {
        match TcpStream::connect(address).await {
            Ok(stream) => {
                add(&mut phases.connect, started.elapsed());
                // Latency matters more than throughput for one small request.
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(error) => last_error = Some((address, error)),
        }
    }
    add(&mut phases.connect, started.elapsed());
    let message = match last_error {
        Some((address, error)) => format!("Could not connect to {address}: {error}."),
        None => format!("No address to connect to for {host}."),
    };
    Err(Failure::new(FailureKind::Connect, message))
}

/// The addresses of `host` the guard lets the check reach, resolved if it is a name.
pub(super) async fn permitted(
    host: &Host<&str>,
    port: u16,
    options: &ProbeOptions,
    names: &Names,
    phases: &mut Phases,
) -> Result<Vec<SocketAddr>, Failure> {
    let addresses = resolve(host, port, names, phases).await?;
    let shown = host.to_string();
    guard(&shown, &addresses, options)
}

/// Literal addresses skip DNS (and leave its phase `None`); names go through the resolver.
async fn resolve(
    host: &Host<&str>,
    port: u16,
    names: &Names,
    phases: &mut Phases,
) -> Result<Vec<SocketAddr>, Failure> {
    let name = match *host {
        Host::Ipv4(ip) => return Ok(vec![SocketAddr::new(IpAddr::V4(ip), port)]),
        Host::Ipv6(ip) => return Ok(vec![SocketAddr::new(IpAddr::V6(ip), port)]),
        Host::Domain(name) => name,
    };
    let started = Instant::now();
    let resolved = names.lookup(name, port).await;
    add(&mut phases.dns, started.elapsed());
    let addresses = resolved.map_err(|error| {
        Failure::new(
            FailureKind::Dns,
            format!("Could not resolve host {name}: {error}."),
        )
    })?;
    if addresses.is_empty() {
        return Err(Failure::new(
            FailureKind::Dns,
            format!("Host {name} resolved to no address."),
        ));
    }
    Ok(addresses)
}

/// The addresses that may be contacted; a name resolving only to internal addresses is
/// refused here, before any byte is sent, so DNS cannot smuggle a target past the API's check.
fn guard(
    host: &str,
    addresses: &[SocketAddr],
    options: &ProbeOptions,
) -> Result<Vec<SocketAddr>, Failure> {
    if options.allow_private {
        return Ok(addresses.to_vec());
    }
    let mut refused = None;
    let mut permitted = Vec::with_capacity(addresses.len());
    for &address in addresses {
        let ip = address.ip();
        match refusal(ip, false, &options.private_networks) {
            Some(reason) if !options.exempt.contains(&ip) => {
                refused.get_or_insert((ip, reason));
            }
            _ => permitted.push(address),
        }
    }
    match (permitted.is_empty(), refused) {
        (true, Some((ip, reason))) => {
            // A literal address is the user's own; the address a name resolves to is the
            // network's, and naming it would map internal DNS for whoever owns the monitor.
            let subject = if host.trim_matches(['[', ']']) == ip.to_string() {
                format!("The address {ip} is a {reason} address")
            } else {
                format!("Host {host} resolves to a {reason} address")
            };
            Err(Failure::new(
                FailureKind::Blocked,
                format!("{subject}, and {}.", how_to_allow(reason)),
            ))
        }
        _ => Ok(permitted),
    }
}
