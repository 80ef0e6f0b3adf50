//! A `dns://` check: one query, sent by the probe itself over UDP (TCP when the answer is
//! truncated) to the resolver the monitor names, after the address guard has vetted it. No
//! cache and no retries: each result is what that resolver answered just then.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Instant;

use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RData, Record, RecordType as WireType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use url::Host;

use super::names::Names;
use super::{ProbeOptions, Progress, add, connect};
use crate::check::{DnsAnswer, Failure, FailureKind};
use crate::monitor::{DnsTarget, RecordType};

/// The most records kept from one answer, and the longest text kept of each: an answer is
/// stored with every result.
const MAX_RECORDS: usize = 32;
const MAX_RECORD_CHARS: usize = 512;

/// Room for any UDP answer (EDNS lets servers send up to 4096 bytes; without EDNS, 512).
const UDP_BUFFER: usize = 4096;

/// Asks `target`'s resolver; with `judge_answer`, an rcode other than NOERROR or an answer
/// without a record of the type asked for is a `dns` failure.
pub(super) async fn check(
    target: &DnsTarget,
    options: &ProbeOptions,
    names: &Names,
    judge_answer: bool,
    progress: &mut Progress,
) -> Result<(), Failure> {
    let resolver = match target.resolver() {
        Host::Domain(name) => Host::Domain(name.as_str()),
        Host::Ipv4(ip) => Host::Ipv4(*ip),
        Host::Ipv6(ip) => Host::Ipv6(*ip),
    };
    let phases = &mut progress.phases;
    let permitted = connect::permitted(&resolver, target.port(), options, names, phases).await?;
    let Some(&server) = permitted.first() else {
        return Err(Failure::new(
            FailureKind::Connect,
            format!("No address to send the query to for {resolver}."),
        ));
    };
    progress.ip = Some(server.ip());
    let (id, query) = encode(target)?;
    let mut response = ask_udp(server, id, &query, progress).await?;
    if response.metadata.truncation {
        response = ask_tcp(server, id, &query, progress).await?;
    }
    progress.connected = true;
    let rcode = mnemonic(u16::from(response.metadata.response_code));
    let wanted = wire_type(target.record_type());
    let records: Vec<String> = response
        .answers
        .iter()
        .filter(|record| record.record_type() == wanted)
        .filter_map(text)
        .take(MAX_RECORDS)
        .collect();
    let empty = records.is_empty();
    progress.dns = Some(DnsAnswer {
        rcode: rcode.clone(),
        records,
    });
    if judge_answer {
        let asked = format!("{} {}", target.name(), target.record_type());
        if rcode != "NOERROR" {
            return Err(Failure::new(
                FailureKind::Dns,
                format!("The resolver {server} answered {rcode} for {asked}."),
            ));
        }
        if empty {
            return Err(Failure::new(
                FailureKind::Dns,
                format!("The resolver {server} answered NOERROR but no {asked} record."),
            ));
        }
    }
    Ok(())
}

/// The query for `target`, recursion desired, with a random id.
fn encode(target: &DnsTarget) -> Result<(u16, Vec<u8>), Failure> {
    let invalid = |why: String| Failure::new(FailureKind::Dns, why);
    let mut name = Name::from_ascii(target.name()).map_err(|e| {
        invalid(format!(
            "{} is not a name DNS can carry: {e}.",
            target.name()
        ))
    })?;
    name.set_fqdn(true);
    let id = rand::random::<u16>();
    let mut message = Message::new(id, MessageType::Query, OpCode::Query);
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(name, wire_type(target.record_type())));
    let bytes = message
        .to_vec()
        .map_err(|e| invalid(format!("The query could not be encoded: {e}.")))?;
    Ok((id, bytes))
}

async fn ask_udp(
    server: SocketAddr,
    id: u16,
    query: &[u8],
    progress: &mut Progress,
) -> Result<Message, Failure> {
    let failed = |what: &str, error: std::io::Error| {
        Failure::new(
            FailureKind::Connect,
            format!("The resolver {server} could not be {what}: {error}."),
        )
    };
    let local: SocketAddr = if server.is_ipv4() {
        (Ipv4Addr::UNSPECIFIED, 0).into()
    } else {
        (Ipv6Addr::UNSPECIFIED, 0).into()
    };
    let socket = UdpSocket::bind(local)
        .await
        .map_err(|e| failed("reached (no local socket)", e))?;
    // Connected, so only the resolver's datagrams arrive and a closed port is reported.
    socket
        .connect(server)
        .await
        .map_err(|e| failed("reached", e))?;
    let started = Instant::now();
    let sent = socket.send(query).await;
    if let Err(error) = sent {
        add(&mut progress.phases.ttfb, started.elapsed());
        return Err(failed("sent the query", error));
    }
    let mut buffer = vec![0; UDP_BUFFER];
    loop {
        let read = socket.recv(&mut buffer).await;
        let length = match read {
            Ok(length) => length,
            Err(error) => {
                add(&mut progress.phases.ttfb, started.elapsed());
                return Err(failed("asked", error));
            }
        };
        // A stray or forged datagram is skipped; the timeout bounds the wait.
        if let Ok(message) = Message::from_vec(&buffer[..length])
            && message.metadata.id == id
            && message.metadata.message_type == MessageType::Response
        {
            add(&mut progress.phases.ttfb, started.elapsed());
            return Ok(message);
        }
    }
}

/// The query again over TCP (two-byte length prefix), for an answer too long for UDP.
async fn ask_tcp(
    server: SocketAddr,
    id: u16,
    query: &[u8],
    progress: &mut Progress,
) -> Result<Message, Failure> {
    let failed = |error: std::io::Error| {
        Failure::new(
            FailureKind::Connect,
            format!("The resolver {server} could not be asked over TCP: {error}."),
        )
    };
    let started = Instant::now();
    let connected = TcpStream::connect(server).await;
    add(&mut progress.phases.connect, started.elapsed());
    let mut stream = connected.map_err(failed)?;
    let started = Instant::now();
    let length = u16::try_from(query.len()).unwrap_or(u16::MAX);
    let exchange = async {
        stream.write_all(&length.to_be_bytes()).await?;
        stream.write_all(query).await?;
        let answer_length = stream.read_u16().await?;
        let mut answer = vec![0; usize::from(answer_length)];
        stream.read_exact(&mut answer).await?;
        Ok::<_, std::io::Error>(answer)
    };
    let answer = exchange.await;
    add(&mut progress.phases.ttfb, started.elapsed());
    let answer = answer.map_err(failed)?;
    let message = Message::from_vec(&answer).map_err(|e| {
        Failure::new(
            FailureKind::Dns,
            format!("The resolver {server} sent an answer that does not parse: {e}."),
        )
    })?;
    if message.metadata.id != id {
        return Err(Failure::new(
            FailureKind::Dns,
            format!("The resolver {server} answered another query over TCP."),
        ));
    }
    Ok(message)
}

/// The response code as DNS tools (and Gatus's `[DNS_RCODE]`) write it.
fn mnemonic(code: u16) -> String {
    const NAMES: [&str; 11] = [
        "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
        "NXRRSET", "NOTAUTH", "NOTZONE",
    ];
    NAMES
        .get(usize::from(code))
        .map_or_else(|| format!("RCODE{code}"), |name| (*name).to_owned())
}

fn wire_type(record_type: RecordType) -> WireType {
    match record_type {
        RecordType::A => WireType::A,
        RecordType::Aaaa => WireType::AAAA,
        RecordType::Cname => WireType::CNAME,
        RecordType::Mx => WireType::MX,
        RecordType::Txt => WireType::TXT,
        RecordType::Ns => WireType::NS,
    }
}

/// A record as text, as Gatus shows it: the address, or the name a CNAME, NS or MX points to
/// (with its final dot); a TXT record's strings joined.
fn text(record: &Record) -> Option<String> {
    let text = match &record.data {
        RData::A(a) => a.0.to_string(),
        RData::AAAA(aaaa) => aaaa.0.to_string(),
        RData::CNAME(name) => name.0.to_string(),
        RData::NS(name) => name.0.to_string(),
        RData::MX(mx) => mx.exchange.to_string(),
        RData::TXT(txt) => txt
            .txt_data
            .iter()
            .map(|part| String::from_utf8_lossy(part))
            .collect(),
        _ => return None,
    };
    Some(text.chars().take(MAX_RECORD_CHARS).collect())
}
