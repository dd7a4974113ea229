//! Unit tests of the health probe against listeners started by each test.

use super::*;
use pingora::tls::ssl::SslAcceptor;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// A fake upstream: answers connection n with `answers[n]` (the last one repeats; "" never
/// answers) and keeps each request head it read.
struct Fake {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
    task: JoinHandle<()>,
}

impl Fake {
    fn requests(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn bind() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

fn serve(listener: TcpListener, answers: Vec<String>, tls: Option<SslAcceptor>) -> Fake {
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    let task = tokio::spawn(async move {
        let mut n = 0;
        while let Ok((tcp, _)) = listener.accept().await {
            let answer = answers[n.min(answers.len() - 1)].clone();
            n += 1;
            let (s, tls) = (s.clone(), tls.clone());
            tokio::spawn(async move {
                match tls {
                    Some(acceptor) => {
                        let ssl = Ssl::new(acceptor.context()).unwrap();
                        let mut stream = SslStream::new(ssl, tcp).unwrap();
                        if Pin::new(&mut stream).accept().await.is_ok() {
                            answer_one(&mut stream, &answer, &s).await;
                        }
                    }
                    None => answer_one(&mut { tcp }, &answer, &s).await,
                }
            });
        }
    });
    Fake { port, seen, task }
}

async fn answer_one<S: AsyncRead + AsyncWrite + Unpin>(
    s: &mut S,
    answer: &str,
    seen: &Mutex<Vec<String>>,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while head_end(&buf).is_none() {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    seen.lock()
        .unwrap()
        .push(String::from_utf8_lossy(&buf).into_owned());
    if answer.is_empty() {
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
    let _ = s.write_all(answer.as_bytes()).await;
    let _ = s.shutdown().await;
}

async fn fake(answers: &[&str]) -> Fake {
    let (l, _) = bind().await;
    serve(l, answers.iter().map(|a| a.to_string()).collect(), None)
}

fn server(port: u16) -> Server {
    Server::parse(&format!("http://127.0.0.1:{port}"), 1).unwrap()
}

fn check() -> ActiveCheck {
    ActiveCheck {
        path: "/health".into(),
        timeout: Duration::from_secs(2),
        ..ActiveCheck::default()
    }
}

const OK: &str = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

#[tokio::test]
async fn sends_the_request_and_returns_the_status() {
    let f = fake(&[OK]).await;
    let c = ActiveCheck {
        headers: vec![("X-Probe".into(), "yes".into())],
        ..check()
    };
    assert_eq!(probe(&server(f.port), &c).await, Ok(200));
    let req = f.requests().remove(0);
    assert!(req.starts_with("GET /health HTTP/1.1\r\n"), "{req}");
    assert!(
        req.contains(&format!("Host: 127.0.0.1:{}\r\n", f.port)),
        "{req}"
    );
    assert!(req.contains("X-Probe: yes\r\n"));
    assert!(req.contains("User-Agent: pylon-health-check\r\n"));
    assert!(req.contains("Connection: close\r\n"));
}

#[tokio::test]
async fn error_statuses_are_returned_not_failed() {
    let f = fake(&["HTTP/1.0 503 Service Unavailable\r\n\r\n"]).await;
    assert_eq!(probe(&server(f.port), &check()).await, Ok(503));
}

#[tokio::test]
async fn hostname_method_and_port_override() {
    let f = fake(&[OK]).await;
    let c = ActiveCheck {
        hostname: Some("health.example".into()),
        method: "POST".into(),
        port: Some(f.port),
        ..check()
    };
    // the server URL's port is wrong: the check's port wins
    assert_eq!(probe(&server(1), &c).await, Ok(200));
    let req = f.requests().remove(0);
    assert!(req.starts_with("POST /health HTTP/1.1\r\n"), "{req}");
    assert!(req.contains("Host: health.example\r\n"), "{req}");
    assert!(req.contains("Content-Length: 0\r\n"), "{req}");
}

#[tokio::test]
async fn interim_answers_are_skipped_and_bodies_not_read() {
    let f = fake(&["HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"]).await;
    assert_eq!(probe(&server(f.port), &check()).await, Ok(204));
    // a huge body that never ends does not matter: only the head is read
    let f = fake(&["HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\nxx"]).await;
    assert_eq!(probe(&server(f.port), &check()).await, Ok(200));
}

#[tokio::test]
async fn refused_timeout_closed_and_garbage_are_errors() {
    let (l, port) = bind().await;
    drop(l);
    assert_eq!(
        probe(&server(port), &check()).await,
        Err(ProbeError::Refused)
    );
    assert_eq!(ProbeError::Refused.to_string(), "connection refused");

    let f = fake(&[""]).await;
    let c = ActiveCheck {
        timeout: Duration::from_millis(200),
        ..check()
    };
    let started = std::time::Instant::now();
    let e = probe(&server(f.port), &c).await.unwrap_err();
    assert_eq!(e, ProbeError::Timeout(Duration::from_millis(200)));
    assert_eq!(e.to_string(), "timed out after 200ms");
    assert!(started.elapsed() < Duration::from_secs(1));

    let f = fake(&["HTTP/1.1 200 OK\r\n"]).await;
    assert!(matches!(
        probe(&server(f.port), &check()).await,
        Err(ProbeError::BadResponse(_))
    ));
    let f = fake(&["SSH-2.0-OpenSSH\r\n"]).await;
    let e = probe(&server(f.port), &check()).await.unwrap_err();
    assert!(e.to_string().contains("not an HTTP/1 status line"), "{e}");
}

#[tokio::test]
async fn closed_without_answer_is_an_error() {
    let (l, port) = bind().await;
    let task = tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            drop(s);
        }
    });
    let e = probe(&server(port), &check()).await.unwrap_err();
    assert!(matches!(e, ProbeError::Closed | ProbeError::Io(_)), "{e:?}");
    task.abort();
}

#[tokio::test]
async fn same_server_redirects_are_followed() {
    let (l, port) = bind().await;
    let answers = vec![
        "HTTP/1.1 302 Found\r\nLocation: /ready?x=1\r\n\r\n".to_string(),
        "HTTP/1.1 301 Moved\r\nLocation: live\r\n\r\n".to_string(),
        format!("HTTP/1.1 307 Temporary\r\nlocation: http://127.0.0.1:{port}/final\r\n\r\n"),
        "HTTP/1.1 500 Oops\r\n\r\n".to_string(),
    ];
    let f = serve(l, answers, None);
    let c = ActiveCheck {
        method: "POST".into(),
        ..check()
    };
    assert_eq!(probe(&server(port), &c).await, Ok(500));
    let lines: Vec<String> = f
        .requests()
        .iter()
        .map(|r| r.lines().next().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        lines,
        [
            "POST /health HTTP/1.1",
            "GET /ready?x=1 HTTP/1.1",
            "GET /live HTTP/1.1",
            "GET /final HTTP/1.1",
        ]
    );
}

#[tokio::test]
async fn redirects_elsewhere_or_disabled_are_judged_as_is() {
    let f = fake(&[
        "HTTP/1.1 302 Found\r\nLocation: http://example.com/\r\n\r\n",
        OK,
    ])
    .await;
    assert_eq!(probe(&server(f.port), &check()).await, Ok(302));
    assert_eq!(f.requests().len(), 1);

    let f = fake(&["HTTP/1.1 302 Found\r\nLocation: /x\r\n\r\n", OK]).await;
    let c = ActiveCheck {
        follow_redirects: false,
        ..check()
    };
    assert_eq!(probe(&server(f.port), &c).await, Ok(302));
    assert_eq!(f.requests().len(), 1);
}

#[tokio::test]
async fn redirect_loops_stop_after_five_hops() {
    let f = fake(&["HTTP/1.1 302 Found\r\nLocation: /loop\r\n\r\n"]).await;
    let e = probe(&server(f.port), &check()).await.unwrap_err();
    assert_eq!(e, ProbeError::TooManyRedirects);
    assert_eq!(f.requests().len(), 1 + MAX_REDIRECTS);
}

#[tokio::test]
async fn invalid_headers_are_refused_before_sending() {
    let f = fake(&[OK]).await;
    let c = ActiveCheck {
        headers: vec![("X-Bad".into(), "a\r\nInjected: 1".into())],
        ..check()
    };
    let e = probe(&server(f.port), &c).await.unwrap_err();
    assert!(matches!(e, ProbeError::InvalidRequest(_)), "{e:?}");
    assert!(f.requests().is_empty());
}

#[tokio::test]
async fn https_probes_do_not_verify_certificates() {
    let (cert, key) = crate::tls::self_signed::generate("localhost", &["localhost"]).unwrap();
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls()).unwrap();
    b.set_certificate(&cert).unwrap();
    b.set_private_key(&key).unwrap();
    let (l, port) = bind().await;
    let f = serve(l, vec![OK.to_string()], Some(b.build()));
    // an http:// server URL, switched to https by the check
    let c = ActiveCheck {
        scheme: Some("https".into()),
        ..check()
    };
    assert_eq!(probe(&server(port), &c).await, Ok(200));
    assert!(f.requests()[0].starts_with("GET /health HTTP/1.1\r\n"));
    // and plain HTTP against a TLS port is a failure, not a hang
    let e = probe(&server(port), &check()).await.unwrap_err();
    assert!(!matches!(e, ProbeError::Timeout(_)), "{e:?}");
}

#[test]
fn relative_locations_resolve_against_the_path() {
    assert_eq!(resolve_relative("/a/b?q=1", "c"), "/a/c");
    assert_eq!(resolve_relative("/a/b", "?x"), "/a/b?x");
    assert_eq!(resolve_relative("/", "up"), "/up");
    assert_eq!(resolve_relative("/a/b", "/c?d"), "/c?d");
}
