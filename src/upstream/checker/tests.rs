//! Unit tests of the health checker: verdicts, scheduling, reloads and shutdown.

use super::*;
use crate::runtime::Snapshot;
use crate::upstream::{PoolOptions, Server};
use std::sync::atomic::{AtomicU16, AtomicUsize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A listener answering every request with `status`, counting connections.
struct Endpoint {
    port: u16,
    status: Arc<AtomicU16>,
    hits: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn endpoint(status: u16) -> Endpoint {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let status = Arc::new(AtomicU16::new(status));
    let hits = Arc::new(AtomicUsize::new(0));
    let (s, h) = (status.clone(), hits.clone());
    let task = tokio::spawn(async move {
        while let Ok((mut sock, _)) = l.accept().await {
            h.fetch_add(1, Ordering::SeqCst);
            let code = s.load(Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                let _ = sock.read(&mut buf).await;
                let answer = format!("HTTP/1.1 {code} X\r\nContent-Length: 0\r\n\r\n");
                let _ = sock.write_all(answer.as_bytes()).await;
            });
        }
    });
    Endpoint {
        port,
        status,
        hits,
        task,
    }
}

fn pool(name: &str, ports: &[u16], active: Option<ActiveCheck>) -> Arc<Pool> {
    let servers = ports
        .iter()
        .map(|p| Server::parse(&format!("http://127.0.0.1:{p}"), 1).unwrap())
        .collect();
    let options = PoolOptions {
        active,
        ..PoolOptions::default()
    };
    Arc::new(Pool::new(name, servers, options))
}

fn fast_check() -> ActiveCheck {
    ActiveCheck {
        path: "/health".into(),
        interval: Duration::from_millis(50),
        unhealthy_interval: Duration::from_millis(50),
        timeout: Duration::from_millis(500),
        ..ActiveCheck::default()
    }
}

fn snapshot(version: u64, pools: Vec<Arc<Pool>>) -> Snapshot {
    static NO_CERTS: std::sync::OnceLock<Arc<crate::tls::CertStore>> = std::sync::OnceLock::new();
    let tls = NO_CERTS.get_or_init(|| {
        let default = crate::tls::CertPair::self_signed_default().unwrap();
        Arc::new(crate::tls::CertStore::new(Vec::new(), Arc::new(default)))
    });
    Snapshot {
        tcp: Box::default(),
        version,
        tables: Box::new([]),
        pools,
        middlewares: Default::default(),
        dynamic: Default::default(),
        left_out: Default::default(),
        certificates: Vec::new(),
        tls: tls.clone(),
    }
}

async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !cond() {
        assert!(std::time::Instant::now() < deadline, "timed out: {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[test]
fn verdicts_say_why() {
    let c = ActiveCheck::default();
    assert_eq!(verdict(&c, Ok(204)), (true, "health check passed".into()));
    let (up, reason) = verdict(&c, Ok(500));
    assert!(!up);
    assert_eq!(reason, "health check failed: status 500, expected 2xx/3xx");
    let exact = ActiveCheck {
        status: Some(204),
        ..ActiveCheck::default()
    };
    assert_eq!(
        verdict(&exact, Ok(200)).1,
        "health check failed: status 200, expected 204"
    );
    assert_eq!(
        verdict(&c, Err(ProbeError::Refused)).1,
        "health check failed: connection refused"
    );
}

#[tokio::test]
async fn probes_take_sick_servers_out_and_back_in() {
    let good = endpoint(200).await;
    let sick = endpoint(500).await;
    let checked = pool("s@file", &[good.port, sick.port], Some(fast_check()));
    let unchecked_ep = endpoint(500).await;
    let unchecked = pool("u@file", &[unchecked_ep.port], None);
    let store = Arc::new(Store::new(snapshot(1, vec![checked.clone(), unchecked])));
    let checker = Arc::new(HealthChecker::new(store));
    let (tx, rx) = tokio::sync::watch::channel(false);
    let c = checker.clone();
    let task = tokio::spawn(async move { c.start(rx).await });

    until("sick server down", || !checked.is_up(1)).await;
    assert!(checked.is_up(0));
    let view = checked.health(1).unwrap().view();
    assert_eq!(
        view.reason,
        "health check failed: status 500, expected 2xx/3xx"
    );
    // probed again on its unhealthy interval, not once per tick only
    let seen = sick.hits.load(Ordering::SeqCst);
    until("re-probed", || sick.hits.load(Ordering::SeqCst) >= seen + 2).await;

    sick.status.store(200, Ordering::SeqCst);
    until("server back", || checked.is_up(1)).await;
    assert_eq!(
        checked.health(1).unwrap().view().reason,
        "health check passed"
    );
    assert_eq!(unchecked_ep.hits.load(Ordering::SeqCst), 0);

    tx.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .expect("checker stops on shutdown")
        .unwrap();
}

#[tokio::test]
async fn pools_of_a_reload_are_probed_at_once() {
    let store = Arc::new(Store::new(snapshot(1, Vec::new())));
    let checker = HealthChecker::new(store.clone());
    assert_eq!(checker.start_due(), 0);
    let ep = endpoint(503).await;
    let slow = ActiveCheck {
        interval: Duration::from_secs(3600),
        unhealthy_interval: Duration::from_secs(3600),
        ..fast_check()
    };
    let p = pool("new@file", &[ep.port], Some(slow));
    store.swap(snapshot(2, vec![p.clone()]));
    assert_eq!(checker.start_due(), 1);
    until("new pool probed", || !p.is_up(0)).await;
    until("probe finished", || {
        !p.health(0).unwrap().probing.load(Ordering::Acquire)
    })
    .await;
    // not due again for an hour: further ticks start nothing
    for _ in 0..3 {
        assert_eq!(checker.start_due(), 0);
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(ep.hits.load(Ordering::SeqCst), 1);
}
