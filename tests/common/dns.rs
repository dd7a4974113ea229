//! A small DNS server on 127.0.0.1 (UDP and TCP, one port) whose A records a test changes
//! while pylon runs: each name answers its address with the TTL set, REFUSED, or NXDOMAIN.

use hickory_proto::op::{Message, MessageType, ResponseCode};
use hickory_proto::rr::rdata::{A, SOA};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};

/// What the server says for one name.
#[derive(Debug, Clone, Copy)]
pub enum Entry {
    /// An A record with this TTL (seconds).
    A(Ipv4Addr, u32),
    /// REFUSED.
    Refused,
}

/// The zone: names (lowercase, no final dot) not in it are NXDOMAIN (negative TTL 1 s).
#[derive(Clone, Default)]
struct Zone {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
    /// Questions seen, by name.
    asked: Arc<Mutex<HashMap<String, usize>>>,
}

/// A DNS server on 127.0.0.1:`port` for the test's names, stopped on drop.
pub struct TestDns {
    pub addr: SocketAddr,
    zone: Zone,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl TestDns {
    pub async fn start() -> TestDns {
        for _ in 0..50 {
            let udp = UdpSocket::bind("127.0.0.1:0").await.expect("bind DNS UDP");
            let addr = udp.local_addr().expect("DNS addr");
            let Ok(tcp) = TcpListener::bind(addr).await else {
                continue;
            };
            let zone = Zone::default();
            let tasks = vec![
                tokio::spawn(serve_udp(udp, zone.clone())),
                tokio::spawn(serve_tcp(tcp, zone.clone())),
            ];
            return TestDns { addr, zone, tasks };
        }
        panic!("no port free for UDP and TCP on 127.0.0.1");
    }

    /// `name` answers `entry` from now on.
    pub fn set(&self, name: &str, entry: Entry) {
        let mut entries = self.zone.entries.lock().expect("zone");
        entries.insert(name.to_ascii_lowercase(), entry);
    }

    /// `name` is NXDOMAIN from now on.
    pub fn remove(&self, name: &str) {
        let mut entries = self.zone.entries.lock().expect("zone");
        entries.remove(&name.to_ascii_lowercase());
    }

    /// How many questions about `name` came.
    pub fn asked(&self, name: &str) -> usize {
        let asked = self.zone.asked.lock().expect("asked");
        asked.get(&name.to_ascii_lowercase()).copied().unwrap_or(0)
    }
}

impl Drop for TestDns {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

async fn serve_udp(socket: UdpSocket, zone: Zone) {
    let mut buf = vec![0u8; 4096];
    loop {
        let Ok((n, from)) = socket.recv_from(&mut buf).await else {
            return;
        };
        if let Some(reply) = answer(&zone, &buf[..n]) {
            let _ = socket.send_to(&reply, from).await;
        }
    }
}

async fn serve_tcp(listener: TcpListener, zone: Zone) {
    loop {
        let Ok((mut sock, _)) = listener.accept().await else {
            return;
        };
        let zone = zone.clone();
        tokio::spawn(async move {
            loop {
                let Ok(len) = sock.read_u16().await else {
                    return;
                };
                let mut query = vec![0u8; len as usize];
                if sock.read_exact(&mut query).await.is_err() {
                    return;
                }
                let Some(reply) = answer(&zone, &query) else {
                    return;
                };
                let Ok(len) = u16::try_from(reply.len()) else {
                    return;
                };
                if sock.write_u16(len).await.is_err() || sock.write_all(&reply).await.is_err() {
                    return;
                }
            }
        });
    }
}

/// The reply to one query message, or `None` for something that is not a query.
fn answer(zone: &Zone, query: &[u8]) -> Option<Vec<u8>> {
    let request = Message::from_vec(query).ok()?;
    let question = request.queries().first()?.clone();
    let name = question.name().to_ascii();
    let key = name.trim_end_matches('.').to_ascii_lowercase();
    *zone
        .asked
        .lock()
        .expect("asked")
        .entry(key.clone())
        .or_default() += 1;
    let mut reply = Message::new();
    reply
        .set_id(request.id())
        .set_message_type(MessageType::Response)
        .set_op_code(request.op_code())
        .set_recursion_desired(request.recursion_desired())
        .set_recursion_available(true)
        .set_authoritative(true)
        .add_query(question.clone());
    let entry = zone.entries.lock().expect("zone").get(&key).copied();
    let soa = || {
        let zone_name = Name::from_ascii("pylon.test.").expect("zone name");
        let soa = SOA::new(zone_name.clone(), zone_name.clone(), 1, 60, 60, 60, 1);
        Record::from_rdata(zone_name, 1, RData::SOA(soa))
    };
    match entry {
        Some(Entry::A(ip, ttl)) if question.query_type() == RecordType::A => {
            let record = Record::from_rdata(question.name().clone(), ttl, RData::A(A(ip)));
            reply.add_answer(record);
        }
        // the name exists, without this record type
        Some(Entry::A(..)) => {
            reply.add_name_server(soa());
        }
        Some(Entry::Refused) => {
            reply.set_response_code(ResponseCode::Refused);
        }
        None => {
            reply.set_response_code(ResponseCode::NXDomain);
            reply.add_name_server(soa());
        }
    }
    reply.to_vec().ok()
}
