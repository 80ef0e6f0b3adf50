//! A small DNS server on loopback for the DNS checks: UDP and TCP on one port, a fixed zone
//! under `example.test`, answers truncated over UDP when they pass 512 bytes (so a client
//! must ask again over TCP), and a count of the queries it saw.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::{A, AAAA, CNAME, MX, NS, TXT};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

/// A running server; it stops with the test's runtime.
pub struct DnsServer {
    /// Where it listens, UDP and TCP.
    pub addr: SocketAddr,
    udp_queries: Arc<AtomicUsize>,
    tcp_queries: Arc<AtomicUsize>,
}

impl DnsServer {
    /// Starts on 127.0.0.1 at a free port that is free for both UDP and TCP.
    pub async fn start() -> Self {
        let (udp, tcp) = loop {
            let udp = UdpSocket::bind("127.0.0.1:0").await.expect("bind udp");
            let addr = udp.local_addr().expect("udp address");
            if let Ok(tcp) = TcpListener::bind(addr).await {
                break (udp, tcp);
            }
        };
        let addr = udp.local_addr().expect("udp address");
        let udp_queries = Arc::new(AtomicUsize::new(0));
        let tcp_queries = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&udp_queries);
        tokio::spawn(async move {
            let mut buffer = vec![0; 4096];
            while let Ok((length, from)) = udp.recv_from(&mut buffer).await {
                counted.fetch_add(1, Ordering::SeqCst);
                let Some(mut answer) = answer(&buffer[..length]) else {
                    continue;
                };
                let mut bytes = answer.to_vec().expect("encode");
                if bytes.len() > 512 {
                    answer = answer.truncate();
                    bytes = answer.to_vec().expect("encode truncated");
                }
                let _ = udp.send_to(&bytes, from).await;
            }
        });
        let counted = Arc::clone(&tcp_queries);
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = tcp.accept().await {
                counted.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let Ok(length) = stream.read_u16().await else {
                        return;
                    };
                    let mut query = vec![0; usize::from(length)];
                    if stream.read_exact(&mut query).await.is_err() {
                        return;
                    }
                    if let Some(answer) = answer(&query) {
                        let bytes = answer.to_vec().expect("encode");
                        let length = u16::try_from(bytes.len()).expect("fits");
                        let _ = stream.write_all(&length.to_be_bytes()).await;
                        let _ = stream.write_all(&bytes).await;
                    }
                });
            }
        });
        Self {
            addr,
            udp_queries,
            tcp_queries,
        }
    }

    /// `dns://ADDR/{name}?type={record_type}`.
    pub fn url(&self, name: &str, record_type: &str) -> String {
        format!("dns://{}/{name}?type={record_type}", self.addr)
    }

    /// Queries received over UDP.
    pub fn udp_queries(&self) -> usize {
        self.udp_queries.load(Ordering::SeqCst)
    }

    /// Connections made over TCP.
    pub fn tcp_queries(&self) -> usize {
        self.tcp_queries.load(Ordering::SeqCst)
    }
}

fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("name")
}

/// The answer to a query, from the fixed zone; `None` for something that is no query.
fn answer(query: &[u8]) -> Option<Message> {
    let request = Message::from_vec(query).ok()?;
    let question = request.queries.first()?.clone();
    let mut response = Message::new(request.metadata.id, MessageType::Response, OpCode::Query);
    response.metadata.recursion_desired = request.metadata.recursion_desired;
    response.metadata.recursion_available = true;
    response.add_query(question.clone());
    let asked = question.name().to_ascii().to_ascii_lowercase();
    let owner = question.name().clone();
    let record = |data: RData| Record::from_rdata(owner.clone(), 60, data);
    let kind = question.query_type();
    let records: Vec<Record> = match (asked.as_str(), kind) {
        ("example.test.", RecordType::A) => vec![
            record(RData::A(A(Ipv4Addr::new(192, 0, 2, 10)))),
            record(RData::A(A(Ipv4Addr::new(192, 0, 2, 11)))),
        ],
        ("example.test.", RecordType::AAAA) => {
            vec![record(RData::AAAA(AAAA(Ipv6Addr::new(
                0x2001, 0xdb8, 0, 0, 0, 0, 0, 1,
            ))))]
        }
        ("example.test.", RecordType::MX) => {
            vec![record(RData::MX(MX::new(10, name("mail.example.test."))))]
        }
        ("example.test.", RecordType::TXT) => {
            vec![record(RData::TXT(TXT::new(vec![
                "v=spf1 ".into(),
                "-all".into(),
            ])))]
        }
        ("example.test.", RecordType::NS) => vec![record(RData::NS(NS(name("ns1.example.test."))))],
        // An alias: the CNAME, then the address it leads to, as resolvers answer.
        ("www.example.test.", RecordType::A | RecordType::CNAME) => {
            let mut records = vec![record(RData::CNAME(CNAME(name("example.test."))))];
            if kind == RecordType::A {
                records.push(Record::from_rdata(
                    name("example.test."),
                    60,
                    RData::A(A(Ipv4Addr::new(192, 0, 2, 10))),
                ));
            }
            records
        }
        // Too long for 512 bytes of UDP.
        ("big.example.test.", RecordType::TXT) => (0..20)
            .map(|i| {
                record(RData::TXT(TXT::new(vec![format!(
                    "{i:02}-{}",
                    "x".repeat(60)
                )])))
            })
            .collect(),
        ("servfail.example.test.", _) => {
            response.metadata.response_code = ResponseCode::ServFail;
            Vec::new()
        }
        // The name exists with no record of this type.
        ("example.test." | "www.example.test." | "big.example.test.", _) => Vec::new(),
        _ => {
            response.metadata.response_code = ResponseCode::NXDomain;
            Vec::new()
        }
    };
    response.add_answers(records);
    Some(response)
}
