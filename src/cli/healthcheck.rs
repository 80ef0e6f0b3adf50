//! `tocsin healthcheck`: asks the server this configuration describes for `/healthz`, for a
//! container's HEALTHCHECK (the image has no shell and no curl). Plain HTTP/1.0 over a
//! socket, bounded in time: nothing to configure, nothing to go wrong.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

use crate::config::Settings;

/// The most a health check may take.
const TIMEOUT: Duration = Duration::from_secs(3);

/// Exit 0 when `GET /healthz` on `settings.listen` answers 200, 1 otherwise (saying why).
pub fn run(settings: &Settings) -> ExitCode {
    let target = local(settings.listen);
    match ask(target) {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("tocsin: http://{target}/healthz: {why}");
            ExitCode::FAILURE
        }
    }
}

/// A wildcard listen address is reached on loopback.
fn local(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

fn ask(target: SocketAddr) -> Result<(), String> {
    let mut stream = TcpStream::connect_timeout(&target, TIMEOUT).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut head = [0u8; 64];
    let read = stream.read(&mut head).map_err(|e| e.to_string())?;
    let status_line = String::from_utf8_lossy(&head[..read]);
    let status = status_line.split_whitespace().nth(1).unwrap_or("none");
    if status == "200" {
        Ok(())
    } else {
        Err(format!("answered status {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_addresses_are_asked_on_loopback() {
        let any: SocketAddr = "0.0.0.0:8080".parse().expect("addr");
        assert_eq!(local(any).to_string(), "127.0.0.1:8080");
        let any6: SocketAddr = "[::]:9000".parse().expect("addr");
        assert_eq!(local(any6).to_string(), "[::1]:9000");
        let fixed: SocketAddr = "10.0.0.5:8080".parse().expect("addr");
        assert_eq!(local(fixed), fixed);
    }

    #[test]
    fn nothing_listening_is_a_failure_that_says_so() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        drop(listener);
        assert!(ask(addr).is_err());
    }
}
