//! Zero-drop proof: under a steady, bounded loopback load, 100 configuration changes (file
//! edits, and containers starting and stopping on a real Docker engine) in under 60 s fail no
//! request and keep an open WebSocket alive.

mod common;

use common::docker::DockerEngine;
use common::{eventually, free_port, TestGateway, TestUpstream};
use futures_util::{SinkExt, StreamExt};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// The file provider's config for change `i`: the stable route, and one that changes each time.
fn dynamic(stable: &str, i: usize) -> String {
    format!(
        "[http.routers.stable]\nrule = \"PathPrefix(`/`)\"\nservice = \"stable\"\n\
         [http.services.stable.loadBalancer]\nservers = [{{ url = \"{stable}\" }}]\n\
         [http.routers.extra]\nrule = \"Host(`extra-{i}.test`)\"\nservice = \"stable\"\nmiddlewares = [\"h\"]\n\
         [http.middlewares.h.headers.customRequestHeaders]\nX-Change = \"{i}\"\n"
    )
}

/// Sends GETs until `stop`, one every `pace`; counts successes and failures.
async fn load(
    port: u16,
    fresh_connections: bool,
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
) {
    let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(10));
    if fresh_connections {
        builder = builder.pool_max_idle_per_host(0);
    }
    let client = builder.build().expect("client");
    while !stop.load(Ordering::Relaxed) {
        let sent = client
            .get(format!("http://127.0.0.1:{port}/steady"))
            .send()
            .await;
        let outcome = match sent {
            Ok(r) if r.status() == 200 => r.bytes().await.map(|_| ()).map_err(|e| e.to_string()),
            Ok(r) => Err(format!("status {}", r.status())),
            Err(e) => Err(e.to_string()),
        };
        match outcome {
            Ok(()) => ok.fetch_add(1, Ordering::Relaxed),
            Err(e) => {
                eprintln!("failed request: {e}");
                failed.fetch_add(1, Ordering::Relaxed)
            }
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_hundred_changes_in_a_minute_drop_nothing() {
    let engine = DockerEngine::shared();
    let upstream = TestUpstream::start("stable").await;
    let port = free_port();
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("dynamic.toml");
    std::fs::write(&file, dynamic(&upstream.url(), 0)).expect("write");
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n[providers.file]\nfilename = \"dynamic.toml\"\n\
         [providers.docker]\nendpoint = \"{}\"\nexposedByDefault = false\n",
        engine.endpoint()
    );
    let gw = TestGateway::start_in(dir, &config, &[port]).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{port}/ws"))
        .await
        .expect("websocket");

    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let clients: Vec<_> = [false, false, true]
        .into_iter()
        .map(|fresh| tokio::spawn(load(port, fresh, stop.clone(), ok.clone(), failed.clone())))
        .collect();

    let started = Instant::now();
    let mut changes = 0;
    let mut running: Option<String> = None;
    for i in 1..=50 {
        // A file edit...
        let tmp = file.with_extension("tmp");
        std::fs::write(&tmp, dynamic(&upstream.url(), i)).expect("write");
        std::fs::rename(&tmp, &file).expect("rename");
        changes += 1;
        // ...and a container starting or stopping.
        let engine_op = match running.take() {
            None => {
                let name = format!("churn-{i}");
                engine.serve_file(&name, "index.html", &name);
                let listen = free_port();
                let rule = format!("Host(`{name}.test`)");
                let port_label = listen.to_string();
                let labels = [
                    ("traefik.enable", "true".to_string()),
                    ("traefik.http.routers.churn.rule", rule),
                    (
                        "traefik.http.services.churn.loadbalancer.server.port",
                        port_label,
                    ),
                ];
                tokio::task::block_in_place(|| engine.run_httpd(&name, listen, &labels, &[]));
                running = Some(name);
                Ok(String::new())
            }
            Some(name) => tokio::task::block_in_place(|| engine.docker(&["rm", "-f", &name])),
        };
        engine_op.expect("docker");
        changes += 1;
        if i % 10 == 0 {
            ws.send(Message::text(format!("alive {i}")))
                .await
                .expect("ws send");
            let echo = ws.next().await.expect("ws open").expect("ws frame");
            assert_eq!(
                echo.into_text().expect("text").as_str(),
                format!("alive {i}")
            );
        }
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let elapsed = started.elapsed();
    // Let the last change settle, then stop the load.
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.expect("client task");
    }
    ws.send(Message::text("last")).await.expect("ws send");
    let echo = ws.next().await.expect("ws open").expect("ws frame");
    assert_eq!(echo.into_text().expect("text").as_str(), "last");

    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    assert_eq!(changes, 100);
    assert!(
        elapsed < Duration::from_secs(60),
        "100 changes took {elapsed:?}"
    );
    assert_eq!(
        failed,
        0,
        "{failed} failed of {}; log:\n{}",
        ok + failed,
        gw.log()
    );
    assert!(ok > 1000, "the load was steady: {ok} requests");
    let reloads = eventually(Duration::from_secs(2), || async {
        let n = gw.log().matches("configuration reloaded").count();
        (n >= 50).then_some(n)
    })
    .await;
    assert!(reloads.is_some(), "changes were applied:\n{}", gw.log());
    eprintln!(
        "{changes} changes in {elapsed:?}, {ok} requests, 0 failed, {} reloads",
        gw.log().matches("configuration reloaded").count()
    );
}
