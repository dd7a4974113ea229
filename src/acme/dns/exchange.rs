//! One DNS exchange with one server: the message over UDP (retried), over TCP when the answer
//! is truncated, every step bounded; a TSIG-signed request's answer is verified.

use hickory_proto::op::{Message, MessageType, MessageVerifier, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RecordType};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

/// How long one attempt waits for the answer.
const ATTEMPT: Duration = Duration::from_secs(3);
/// UDP attempts before giving up.
const UDP_ATTEMPTS: usize = 3;

/// A fresh random message id.
pub fn random_id() -> u16 {
    let mut b = [0u8; 2];
    // openssl's CSPRNG; a failure leaves a fixed id, still matched against the answer
    let _ = openssl::rand::rand_bytes(&mut b);
    u16::from_be_bytes(b)
}

/// A query for `name`/`kind`; `recursion` for recursive resolvers, not for authoritative servers.
pub fn query(name: &Name, kind: RecordType, recursion: bool) -> Message {
    let mut m = Message::new();
    m.set_id(random_id())
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(recursion);
    m.add_query(Query::query(name.clone(), kind));
    m
}

/// Sends `message` to `server` and returns the answer (its response code unchecked, except that
/// a signed request's answer must carry a valid signature when it says NOERROR).
pub async fn exchange(
    server: SocketAddr,
    message: &Message,
    verifier: Option<MessageVerifier>,
) -> Result<Message, String> {
    let bytes = message
        .to_vec()
        .map_err(|e| format!("cannot encode the DNS message: {e}"))?;
    let mut answer = udp(server, &bytes, message.id()).await?;
    let mut parsed = parse(&answer)?;
    if parsed.truncated() {
        answer = tcp(server, &bytes, message.id()).await?;
        parsed = parse(&answer)?;
    }
    if let Some(mut verify) = verifier {
        if parsed.response_code() == ResponseCode::NoError {
            verify(&answer).map_err(|e| {
                format!("the answer of {server} is not signed with the TSIG key: {e}")
            })?;
        }
    }
    Ok(parsed)
}

fn parse(bytes: &[u8]) -> Result<Message, String> {
    Message::from_vec(bytes).map_err(|e| format!("cannot decode the DNS answer: {e}"))
}

async fn udp(server: SocketAddr, bytes: &[u8], id: u16) -> Result<Vec<u8>, String> {
    let local: SocketAddr = if server.is_ipv4() {
        ([0, 0, 0, 0], 0).into()
    } else {
        ([0u16; 8], 0).into()
    };
    let socket = UdpSocket::bind(local)
        .await
        .map_err(|e| format!("cannot open a UDP socket: {e}"))?;
    socket
        .connect(server)
        .await
        .map_err(|e| format!("cannot reach {server}: {e}"))?;
    let mut buf = vec![0u8; 65535];
    for _ in 0..UDP_ATTEMPTS {
        socket
            .send(bytes)
            .await
            .map_err(|e| format!("cannot send to {server}: {e}"))?;
        let deadline = tokio::time::Instant::now() + ATTEMPT;
        loop {
            match tokio::time::timeout_at(deadline, socket.recv(&mut buf)).await {
                Err(_) => break,
                Ok(Err(e)) => return Err(format!("{server} over UDP: {e}")),
                // an answer to another (earlier) query is skipped
                Ok(Ok(n)) if n >= 2 && u16::from_be_bytes([buf[0], buf[1]]) == id => {
                    return Ok(buf[..n].to_vec());
                }
                Ok(Ok(_)) => {}
            }
        }
    }
    Err(format!(
        "{server} did not answer over UDP ({UDP_ATTEMPTS} tries of {} s)",
        ATTEMPT.as_secs()
    ))
}

async fn tcp(server: SocketAddr, bytes: &[u8], id: u16) -> Result<Vec<u8>, String> {
    let io = async {
        let mut stream = TcpStream::connect(server).await?;
        let len = u16::try_from(bytes.len())
            .map_err(|_| std::io::Error::other("the message is too large"))?;
        let mut framed = len.to_be_bytes().to_vec();
        framed.extend_from_slice(bytes);
        stream.write_all(&framed).await?;
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).await?;
        let mut answer = vec![0u8; u16::from_be_bytes(len) as usize];
        stream.read_exact(&mut answer).await?;
        Ok::<_, std::io::Error>(answer)
    };
    let answer = tokio::time::timeout(ATTEMPT * 2, io)
        .await
        .map_err(|_| format!("{server} did not answer over TCP"))?
        .map_err(|e| format!("{server} over TCP: {e}"))?;
    if answer.len() < 2 || u16::from_be_bytes([answer[0], answer[1]]) != id {
        return Err(format!("{server} answered another query over TCP"));
    }
    Ok(answer)
}
