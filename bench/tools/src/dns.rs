//! `dns-serve`: a tiny authoritative DNS server on a UDP socket, for the engine scenario
//! whose targets are names (issue 17, item 7). Every name under `--zone` has one A record,
//! `--answer`, with a TTL of 0, so nothing may cache it and every check resolves afresh, as
//! users' monitors do; other types under the zone answer NOERROR with no record (so an
//! AAAA lookup beside the A one ends at once); names outside it answer NXDOMAIN.

use std::net::{Ipv4Addr, UdpSocket};

use anyhow::Context;
use clap::Args;

/// Arguments of `dns-serve`.
#[derive(Debug, Args)]
pub struct DnsArgs {
    /// Where to listen (UDP), e.g. `127.0.0.153:53`.
    #[arg(long)]
    listen: String,
    /// The zone answered, e.g. `bench.test`.
    #[arg(long)]
    zone: String,
    /// The address every name in the zone resolves to.
    #[arg(long, default_value = "127.0.0.1")]
    answer: Ipv4Addr,
}

/// Serves until killed.
pub fn serve(args: DnsArgs) -> anyhow::Result<()> {
    let socket = UdpSocket::bind(&args.listen).with_context(|| format!("binding {}", args.listen))?;
    let zone = args.zone.trim_end_matches('.').to_ascii_lowercase();
    eprintln!("dns-serve: answering *.{zone} with {} on {}", args.answer, args.listen);
    let mut buf = [0u8; 512];
    loop {
        let (len, peer) = socket.recv_from(&mut buf).context("receiving")?;
        if let Some(reply) = answer(&buf[..len], &zone, args.answer) {
            // A lost reply is the resolver's to retry, as on any network.
            let _ = socket.send_to(&reply, peer);
        }
    }
}

/// The reply to one query, or `None` for something that is not a query we can parse.
fn answer(query: &[u8], zone: &str, address: Ipv4Addr) -> Option<Vec<u8>> {
    if query.len() < 12 || query[2] & 0x80 != 0 || u16::from_be_bytes([query[4], query[5]]) != 1
    {
        return None;
    }
    // The question: labels up to the root, then type and class.
    let mut at = 12;
    let mut labels = Vec::new();
    loop {
        let len = usize::from(*query.get(at)?);
        at += 1;
        if len == 0 {
            break;
        }
        if len > 63 {
            return None;
        }
        labels.push(String::from_utf8_lossy(query.get(at..at + len)?).to_ascii_lowercase());
        at += len;
    }
    let qtype = u16::from_be_bytes([*query.get(at)?, *query.get(at + 1)?]);
    let question_end = at + 4;
    query.get(..question_end)?;
    let name = labels.join(".");
    let inside = name == zone || name.ends_with(&format!(".{zone}"));
    let records = u16::from(inside && qtype == 1);
    let rcode = if inside { 0 } else { 3 };
    let mut reply = Vec::with_capacity(question_end + 16);
    reply.extend_from_slice(&query[..2]);
    // QR, AA, RD as asked; RA; the rcode.
    reply.push(0x84 | (query[2] & 0x01));
    reply.push(0x80 | rcode);
    reply.extend_from_slice(&[0, 1]);
    reply.extend_from_slice(&records.to_be_bytes());
    reply.extend_from_slice(&[0, 0, 0, 0]);
    reply.extend_from_slice(&query[12..question_end]);
    if records == 1 {
        // A pointer to the question's name, A, IN, TTL 0, four bytes of address.
        reply.extend_from_slice(&[0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4]);
        reply.extend_from_slice(&address.octets());
    }
    Some(reply)
}
