//! `loadBalancer.strategy` (issue 19 point 7), end to end: `p2c` and `leasttime` send fewer
//! requests to a slow server, `hrw` keeps each client on one server and moves only the
//! clients of a removed server; an unknown strategy is refused with the list.

mod common;

use common::upstream::UpstreamOptions;
use common::{free_port, TestGateway, TestUpstream};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

fn config(port: u16, strategy: &str, servers: &[&TestUpstream]) -> String {
    let servers: Vec<String> = servers
        .iter()
        .map(|u| format!("{{ url = \"{}\" }}", u.url()))
        .collect();
    format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n\
         [http.routers.r]\nrule = \"PathPrefix(`/`)\"\nservice = \"s\"\n\
         [http.services.s.loadBalancer]\nstrategy = \"{strategy}\"\nservers = [{}]\n",
        servers.join(", ")
    )
}

fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(ip.parse::<std::net::IpAddr>().unwrap())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// `workers` clients sending requests one after another for `run`.
async fn load(port: u16, workers: usize, run: Duration) {
    let until = Instant::now() + run;
    let tasks = (0..workers).map(|_| async move {
        let c = client_from("127.0.0.1");
        while Instant::now() < until {
            let _ = c.get(format!("http://127.0.0.1:{port}/")).send().await;
        }
    });
    futures_util::future::join_all(tasks).await;
}

async fn fast_and_slow() -> (TestUpstream, TestUpstream) {
    let fast = TestUpstream::start("fast").await;
    let slow = TestUpstream::start_with(
        "slow",
        UpstreamOptions {
            delay: Some(Duration::from_millis(300)),
            ..UpstreamOptions::default()
        },
    )
    .await;
    (fast, slow)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p2c_sends_fewer_requests_to_a_busy_server() {
    let (fast, slow) = fast_and_slow().await;
    let port = free_port();
    let _gw = TestGateway::start(&config(port, "p2c", &[&fast, &slow]), &[port]).await;
    load(port, 8, Duration::from_secs(2)).await;
    let (f, s) = (fast.requests().len(), slow.requests().len());
    println!("p2c: fast {f}, slow {s}");
    assert!(
        f > 4 * s.max(1),
        "fast {f}, slow {s}: round robin would share them evenly"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leasttime_prefers_the_server_that_answers_sooner() {
    let (fast, slow) = fast_and_slow().await;
    let port = free_port();
    let _gw = TestGateway::start(&config(port, "leasttime", &[&fast, &slow]), &[port]).await;
    let c = client_from("127.0.0.1");
    for _ in 0..40 {
        assert_eq!(
            c.get(format!("http://127.0.0.1:{port}/"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
    }
    let (f, s) = (fast.requests().len(), slow.requests().len());
    println!("leasttime: fast {f}, slow {s}");
    assert!(s <= 3, "the slow server got {s} of 40 (round robin: 20)");
}

/// Which upstream each client address reached (by the `X-Forwarded-For` pylon sets).
fn seen_by(upstreams: &[&TestUpstream]) -> BTreeMap<String, Vec<usize>> {
    let mut out: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, u) in upstreams.iter().enumerate() {
        for r in u.requests() {
            let client = r.header("x-forwarded-for").unwrap_or("").to_string();
            let servers = out.entry(client).or_default();
            if !servers.contains(&i) {
                servers.push(i);
            }
        }
    }
    out
}

#[tokio::test]
async fn hrw_keeps_clients_on_one_server_and_moves_only_a_removed_servers_clients() {
    let (a, b, c) = (
        TestUpstream::start("a").await,
        TestUpstream::start("b").await,
        TestUpstream::start("c").await,
    );
    let clients: Vec<String> = (10..40).map(|i| format!("127.0.0.{i}")).collect();
    let port = free_port();
    let gw = TestGateway::start(&config(port, "hrw", &[&a, &b, &c]), &[port]).await;
    for ip in &clients {
        let client = client_from(ip);
        for _ in 0..3 {
            let r = client.get(format!("http://127.0.0.1:{port}/")).send().await;
            assert_eq!(r.unwrap().status(), 200);
        }
    }
    drop(gw);
    let before = seen_by(&[&a, &b, &c]);
    assert_eq!(before.len(), clients.len(), "{before:?}");
    assert!(
        before.values().all(|s| s.len() == 1),
        "a client reached two servers: {before:?}"
    );
    let used: std::collections::BTreeSet<usize> = before.values().map(|s| s[0]).collect();
    assert!(used.len() >= 2, "every client on one server: {before:?}");

    // c removed: a new pylon with a and b only
    let (a2, b2) = (a, b);
    let marks = (a2.requests().len(), b2.requests().len());
    let port = free_port();
    let _gw = TestGateway::start(&config(port, "hrw", &[&a2, &b2]), &[port]).await;
    for ip in &clients {
        let r = client_from(ip)
            .get(format!("http://127.0.0.1:{port}/"))
            .send()
            .await;
        assert_eq!(r.unwrap().status(), 200);
    }
    let mut after: BTreeMap<String, usize> = BTreeMap::new();
    for (i, (u, mark)) in [(&a2, marks.0), (&b2, marks.1)].iter().enumerate() {
        for r in &u.requests()[*mark..] {
            after.insert(r.header("x-forwarded-for").unwrap_or("").to_string(), i);
        }
    }
    for (client, servers) in &before {
        if servers[0] < 2 {
            assert_eq!(after.get(client), Some(&servers[0]), "{client} moved");
        }
    }
}

#[test]
fn an_unknown_strategy_is_refused_with_the_list() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pylon.toml");
    let up_url = "http://127.0.0.1:9";
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{}\"\n\
         [http.routers.r]\nrule = \"PathPrefix(`/`)\"\nservice = \"s\"\n\
         [http.services.s.loadBalancer]\nstrategy = \"random\"\nservers = [{{ url = \"{up_url}\" }}]\n",
        free_port()
    );
    std::fs::write(&path, config).unwrap();
    let (code, out) = common::gateway::run_pylon(&["check", "--config", path.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("http.services.s.loadBalancer.strategy"),
        "{out}"
    );
    assert!(out.contains("wrr, p2c, hrw, leasttime"), "{out}");
}
