//! Prometheus metrics: Traefik's names and labels, scraped from `/metrics` on the metrics entry
//! point; the seed deployment's four queries (throughput, p95, 5xx by service, share by router)
//! recomputed from two scrapes around known traffic; Traefik's names by default, `prefix = "pylon"` gives pylon's.

mod common;

use common::{client, free_port, TestGateway, TestUpstream};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// One scrape: `name{sorted labels}` → value.
type Samples = BTreeMap<String, f64>;

fn parse(text: &str) -> Samples {
    let mut out = Samples::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (series, value) = line.rsplit_once(' ').expect("`series value`");
        let (name, labels) = match series.split_once('{') {
            Some((n, rest)) => (n, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        let mut pairs: Vec<&str> = labels.split("\",").filter(|p| !p.is_empty()).collect();
        pairs.sort_unstable();
        let labels: Vec<String> = pairs
            .iter()
            .map(|p| p.trim_end_matches('"').to_string() + "\"")
            .collect();
        out.insert(
            format!("{name}{{{}}}", labels.join(",")),
            value.parse().expect("number"),
        );
    }
    out
}

/// Sum of the samples of `name` whose labels include every `key="value"` of `with`, grouped by
/// the value of label `by` (or one group "" without).
fn sum_by(s: &Samples, name: &str, with: &[&str], by: Option<&str>) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for (series, v) in s {
        let Some(labels) = series.strip_prefix(&format!("{name}{{")) else {
            continue;
        };
        if !with.iter().all(|w| labels.contains(w)) {
            continue;
        }
        let group = by
            .and_then(|b| {
                labels
                    .split(',')
                    .find_map(|p| p.strip_prefix(&format!("{b}=\"")))
                    .map(|v| v.trim_end_matches(['"', '}']).to_string())
            })
            .unwrap_or_default();
        *out.entry(group).or_insert(0.0) += v;
    }
    out
}

fn delta(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>) -> BTreeMap<String, f64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0.0)))
        .filter(|(_, v)| *v != 0.0)
        .collect()
}

/// `histogram_quantile(q, ...)` over bucket deltas (upper bound → count), linear interpolation
/// inside the bucket, as Prometheus does.
fn quantile(q: f64, buckets: &BTreeMap<String, f64>) -> f64 {
    let mut bounds: Vec<(f64, f64)> = buckets
        .iter()
        .map(|(le, c)| {
            (
                if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().expect("le")
                },
                *c,
            )
        })
        .collect();
    bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = bounds.last().map_or(0.0, |b| b.1);
    let rank = q * total;
    let mut previous = (0.0, 0.0);
    for (le, count) in bounds {
        if count >= rank {
            if le.is_infinite() {
                return previous.0;
            }
            let in_bucket = count - previous.1;
            let fraction = if in_bucket > 0.0 {
                (rank - previous.1) / in_bucket
            } else {
                0.0
            };
            return previous.0 + (le - previous.0) * fraction;
        }
        previous = (le, count);
    }
    f64::NAN
}

async fn scrape(port: u16) -> (String, Samples) {
    let r = client()
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .expect("scrape");
    assert_eq!(r.status(), 200);
    let text = r.text().await.expect("body");
    let samples = parse(&text);
    (text, samples)
}

fn config(web: u16, admin: u16, up: &str, extra: &str) -> String {
    format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{web}\"\n[entryPoints.traefik]\naddress = \"127.0.0.1:{admin}\"\n\
         [metrics.prometheus]\naddRoutersLabels = true\n{extra}\n\
         [http.routers.ok]\nrule = \"PathPrefix(`/ok`)\"\nservice = \"ok\"\n\
         [http.routers.bad]\nrule = \"PathPrefix(`/bad`)\"\nservice = \"bad\"\n\
         [http.services.ok.loadBalancer]\nservers = [{{ url = \"{up}\" }}]\n\
         [http.services.bad.loadBalancer]\nservers = [{{ url = \"http://127.0.0.1:1\" }}]\n"
    )
}

#[tokio::test]
async fn the_seed_deployments_four_queries_work_on_pylons_metrics() {
    let up = TestUpstream::start("ok").await;
    let (web, admin) = (free_port(), free_port());
    let _gw = TestGateway::start(&config(web, admin, &up.url(), ""), &[web, admin]).await;
    let (_, before) = scrape(admin).await;
    let started = Instant::now();
    let c = client();
    for _ in 0..5 {
        assert_eq!(
            c.get(format!("http://127.0.0.1:{web}/ok"))
                .send()
                .await
                .expect("ok")
                .status(),
            200
        );
    }
    for _ in 0..2 {
        assert_eq!(
            c.get(format!("http://127.0.0.1:{web}/bad"))
                .send()
                .await
                .expect("bad")
                .status(),
            502
        );
    }
    assert_eq!(
        c.get(format!("http://127.0.0.1:{web}/none"))
            .send()
            .await
            .expect("none")
            .status(),
        404
    );
    // Requests are counted in their logging phase, just after the response: wait for all 8.
    let web_total = |s: &Samples| {
        sum_by(
            s,
            "traefik_entrypoint_requests_total",
            &["entrypoint=\"web\""],
            None,
        )
        .get("")
        .copied()
        .unwrap_or(0.0)
    };
    let before_total = web_total(&before);
    let (text, after) = common::eventually(Duration::from_secs(3), || async {
        let (text, after) = scrape(admin).await;
        (web_total(&after) - before_total >= 8.0).then_some((text, after))
    })
    .await
    .expect("the 8 requests are counted");
    let elapsed = started.elapsed().as_secs_f64();

    // throughput: sum(rate(<prefix>_entrypoint_requests_total[1m]))
    let total = delta(
        &sum_by(
            &before,
            "traefik_entrypoint_requests_total",
            &["entrypoint=\"web\""],
            None,
        ),
        &sum_by(
            &after,
            "traefik_entrypoint_requests_total",
            &["entrypoint=\"web\""],
            None,
        ),
    );
    assert_eq!(total.get(""), Some(&8.0), "{text}");
    let throughput = 8.0 / elapsed;
    assert!(throughput > 0.0);

    // 5xx by service: sum(rate(<prefix>_service_requests_total{code=~"5.."}[5m])) by (service)
    let by_service = |s: &Samples| {
        sum_by(
            s,
            "traefik_service_requests_total",
            &["code=\"5"],
            Some("service"),
        )
    };
    let five_xx = delta(&by_service(&before), &by_service(&after));
    assert_eq!(
        five_xx,
        BTreeMap::from([("bad@file".to_string(), 2.0)]),
        "{text}"
    );

    // share by router: sum(rate(<prefix>_router_requests_total[5m])) by (router)
    let by_router = |s: &Samples| sum_by(s, "traefik_router_requests_total", &[], Some("router"));
    let share = delta(&by_router(&before), &by_router(&after));
    assert_eq!(
        share,
        BTreeMap::from([("bad@file".to_string(), 2.0), ("ok@file".to_string(), 5.0)]),
        "{text}"
    );

    // p95: histogram_quantile(0.95, sum(rate(<prefix>_entrypoint_request_duration_seconds_bucket[5m])) by (le))
    let by_le = |s: &Samples| {
        sum_by(
            s,
            "traefik_entrypoint_request_duration_seconds_bucket",
            &[],
            Some("le"),
        )
    };
    let buckets = delta(&by_le(&before), &by_le(&after));
    assert_eq!(
        buckets.keys().cloned().collect::<Vec<_>>(),
        ["+Inf", "0.1", "0.3", "1.2", "5"],
        "Traefik's default buckets: {text}"
    );
    let p95 = quantile(0.95, &buckets);
    assert!(
        p95 > 0.0 && p95 <= 0.1,
        "local requests are fast: p95 {p95}"
    );

    // The other families are there, with Traefik's labels.
    assert_eq!(
        sum_by(
            &after,
            "traefik_service_server_up",
            &["service=\"ok@file\""],
            None
        )
        .get(""),
        Some(&1.0),
        "{text}"
    );
    assert!(
        after
            .keys()
            .any(|k| k.starts_with("traefik_open_connections{entrypoint=\"web\",protocol=\"TCP\"}")),
        "{text}"
    );
    assert_eq!(
        after.get("traefik_config_last_reload_success{}"),
        Some(&1.0),
        "{text}"
    );
    assert!(
        after
            .get("traefik_config_reloads_total{}")
            .is_some_and(|v| *v >= 1.0),
        "{text}"
    );
    assert!(
        after
            .keys()
            .any(|k| k.starts_with("traefik_entrypoint_requests_bytes_total{")),
        "{text}"
    );
    assert!(
        after
            .keys()
            .any(|k| k.starts_with("traefik_service_responses_bytes_total{")),
        "{text}"
    );
}

#[tokio::test]
async fn prefix_pylon_gives_pylons_names_and_the_web_entry_point_has_no_metrics() {
    let up = TestUpstream::start("ok").await;
    let (web, admin) = (free_port(), free_port());
    let _gw = TestGateway::start(
        &config(web, admin, &up.url(), "prefix = \"pylon\""),
        &[web, admin],
    )
    .await;
    client()
        .get(format!("http://127.0.0.1:{web}/ok"))
        .send()
        .await
        .expect("ok");
    // The request is counted when its logging phase runs, just after the response is sent.
    let wanted = "pylon_entrypoint_requests_total{code=\"200\",entrypoint=\"web\",method=\"GET\",protocol=\"http\"}";
    let counted = common::eventually(Duration::from_secs(2), || async {
        let (text, samples) = scrape(admin).await;
        samples
            .keys()
            .any(|k| k.starts_with(wanted))
            .then_some((text, samples))
    })
    .await;
    let (text, samples) = counted.unwrap_or_else(|| panic!("{wanted} never showed"));
    assert!(
        samples
            .keys()
            .any(|k| k.starts_with("pylon_router_requests_total{")),
        "{text}"
    );
    assert!(!samples.keys().any(|k| k.starts_with("traefik_")), "{text}");
    // /metrics belongs to the metrics entry point only: on `web` it is an ordinary path (404).
    let r = client()
        .get(format!("http://127.0.0.1:{web}/metrics"))
        .send()
        .await
        .expect("web");
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn reloads_are_counted_and_a_refused_one_shows() {
    let up = TestUpstream::start("ok").await;
    let (web, admin) = (free_port(), free_port());
    let dir = tempfile::tempdir().expect("dir");
    let dynamic = dir.path().join("dynamic.toml");
    std::fs::write(&dynamic, common::route_all_to(&up.url())).expect("write");
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{web}\"\n[entryPoints.traefik]\naddress = \"127.0.0.1:{admin}\"\n\
         [metrics.prometheus]\n[providers.file]\nfilename = \"dynamic.toml\"\n"
    );
    let gw = TestGateway::start_in(dir, &config, &[web, admin]).await;
    std::fs::write(
        &dynamic,
        "[http.routers.r]\nrule = \"Host(`a`\"\nservice = \"s\"\n",
    )
    .expect("write bad");
    let refused = common::eventually(Duration::from_secs(3), || async {
        let (_, s) = scrape(admin).await;
        (s.get("traefik_config_last_reload_success{}") == Some(&0.0)).then_some(s)
    })
    .await
    .unwrap_or_else(|| panic!("a refused reload shows; log:\n{}", gw.log()));
    assert!(refused
        .get("traefik_config_reloads_failure_total{}")
        .is_some_and(|v| *v >= 1.0));
}

#[tokio::test]
async fn certificate_expiry_is_exported_per_configured_certificate() {
    let up = TestUpstream::start("ok").await;
    let (web, admin) = (free_port(), free_port());
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) =
        pylon::tls::self_signed::generate("shop.test", &["shop.test", "www.shop.test"]).unwrap();
    std::fs::write(dir.path().join("shop.crt"), cert.to_pem().unwrap()).unwrap();
    std::fs::write(
        dir.path().join("shop.key"),
        key.private_key_to_pem_pkcs8().unwrap(),
    )
    .unwrap();
    let extra = format!(
        "[[tls.certificates]]\ncertFile = \"{}\"\nkeyFile = \"{}\"\n",
        dir.path().join("shop.crt").display(),
        dir.path().join("shop.key").display()
    );
    let config = config(web, admin, &up.url(), &extra);
    let _gw = TestGateway::start_in(dir, &config, &[web, admin]).await;
    let (text, _) = scrape(admin).await;
    let line = text
        .lines()
        .find(|l| l.starts_with("traefik_tls_certs_not_after{"))
        .unwrap_or_else(|| panic!("no tls_certs_not_after:\n{text}"));
    assert!(
        line.contains("cn=\"shop.test\"") && line.contains("sans=\"shop.test,www.shop.test\""),
        "{line}"
    );
    let value: f64 = line.rsplit(' ').next().unwrap().parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!(value > now, "expiry {value} is in the future");
}
