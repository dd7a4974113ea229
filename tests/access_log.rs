//! The access log: Traefik's common and JSON formats, header redaction, filters, reopening on
//! SIGUSR1 (logrotate), and a full disk (`/dev/full`) never stopping the proxying.

mod common;

use common::{client, eventually, free_port, TestGateway, TestUpstream};
use std::path::Path;
use std::time::Duration;

fn config(web: u16, upstream: &str, access_log: &str) -> String {
    format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{web}\"\n{access_log}\n{}",
        common::route_all_to(upstream)
    )
}

async fn lines(path: &Path, at_least: usize) -> Vec<String> {
    eventually(Duration::from_secs(3), || async {
        let text = std::fs::read_to_string(path).ok()?;
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        (lines.len() >= at_least).then_some(lines)
    })
    .await
    .unwrap_or_else(|| {
        panic!(
            "{at_least} line(s) in {}: {:?}",
            path.display(),
            std::fs::read_to_string(path)
        )
    })
}

#[tokio::test]
async fn common_format_lines_as_traefik_writes_them() {
    let up = TestUpstream::start("up").await;
    let web = free_port();
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("access.log");
    let section = format!("[accessLog]\nfilePath = \"{}\"\n", file.display());
    let _gw = TestGateway::start(&config(web, &up.url(), &section), &[web]).await;
    let r = client()
        .get(format!("http://127.0.0.1:{web}/hello?x=1"))
        .header("user-agent", "tester/1")
        .header("referer", "http://ref.example/")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 200);
    let line = lines(&file, 1).await.remove(0);
    assert!(line.starts_with("127.0.0.1 - - ["), "{line}");
    for part in [
        "\"GET /hello?x=1 HTTP/1.1\" 200 ",
        "\"http://ref.example/\" \"tester/1\" 1 \"r@file\"",
        &format!("\"{}\"", up.url()),
    ] {
        assert!(line.contains(part), "{part:?} in {line}");
    }
    assert!(line.ends_with("ms"), "{line}");
}

#[tokio::test]
async fn json_format_redacts_credentials_and_keeps_what_is_named() {
    let up = TestUpstream::start("up").await;
    let web = free_port();
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("access.json");
    let section = format!(
        "[accessLog]\nfilePath = \"{}\"\nformat = \"json\"\n[accessLog.fields.headers]\ndefaultMode = \"keep\"\n[accessLog.fields.headers.names]\nX-Secret-Token = \"redact\"\nX-Noise = \"drop\"\n",
        file.display()
    );
    let _gw = TestGateway::start(&config(web, &up.url(), &section), &[web]).await;
    client()
        .get(format!("http://127.0.0.1:{web}/j"))
        .header("authorization", "Basic dXNlcjpodW50ZXIy")
        .header("cookie", "session=abc")
        .header("x-secret-token", "t0ken")
        .header("x-noise", "n")
        .header("x-request-id", "rid-1")
        .send()
        .await
        .expect("request");
    let line = lines(&file, 1).await.remove(0);
    let v: serde_json::Value = serde_json::from_str(&line).expect("one JSON object per line");
    assert_eq!(v["RequestMethod"], "GET");
    assert_eq!(v["RequestPath"], "/j");
    assert_eq!(v["DownstreamStatus"], 200);
    assert_eq!(v["RouterName"], "r@file");
    assert_eq!(v["ServiceName"], "s@file");
    assert_eq!(v["entryPointName"], "web");
    assert_eq!(v["request_Authorization"], "REDACTED");
    assert_eq!(v["request_Cookie"], "REDACTED");
    assert_eq!(v["request_X-Secret-Token"], "REDACTED");
    assert_eq!(v["request_X-Request-Id"], "rid-1");
    assert!(v.get("request_X-Noise").is_none(), "{line}");
    assert!(!line.contains("dXNlcjpodW50ZXIy") && !line.contains("abc") && !line.contains("t0ken"));
}

#[tokio::test]
async fn filters_keep_only_matching_requests() {
    let up = TestUpstream::start("up").await;
    let web = free_port();
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("errors.log");
    let section = format!(
        "[accessLog]\nfilePath = \"{}\"\n[accessLog.filters]\nstatusCodes = [\"404\", \"500-599\"]\n",
        file.display()
    );
    let dynamic = format!(
        "[http.routers.r]\nrule = \"PathPrefix(`/ok`)\"\nservice = \"s\"\n[http.services.s.loadBalancer]\nservers = [{{ url = \"{}\" }}]\n",
        up.url()
    );
    let cfg = format!("[entryPoints.web]\naddress = \"127.0.0.1:{web}\"\n{section}\n{dynamic}");
    let _gw = TestGateway::start(&cfg, &[web]).await;
    let c = client();
    for path in ["/ok", "/missing", "/ok"] {
        c.get(format!("http://127.0.0.1:{web}{path}"))
            .send()
            .await
            .expect("request");
    }
    let logged = lines(&file, 1).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let logged_later = std::fs::read_to_string(&file).expect("log");
    assert_eq!(logged.len(), 1, "{logged:?}");
    assert_eq!(logged_later.lines().count(), 1, "{logged_later}");
    assert!(
        logged[0].contains("\"GET /missing HTTP/1.1\" 404"),
        "{}",
        logged[0]
    );
}

#[tokio::test]
async fn sigusr1_reopens_the_file_after_logrotate() {
    let up = TestUpstream::start("up").await;
    let web = free_port();
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("access.log");
    let section = format!("[accessLog]\nfilePath = \"{}\"\n", file.display());
    let gw = TestGateway::start(&config(web, &up.url(), &section), &[web]).await;
    let c = client();
    c.get(format!("http://127.0.0.1:{web}/before"))
        .send()
        .await
        .expect("request");
    lines(&file, 1).await;
    let rotated = dir.path().join("access.log.1");
    std::fs::rename(&file, &rotated).expect("rotate");
    let status = std::process::Command::new("kill")
        .args(["-USR1", &gw.pid().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let reopened = eventually(Duration::from_secs(3), || async {
        c.get(format!("http://127.0.0.1:{web}/after"))
            .send()
            .await
            .ok()?;
        let text = std::fs::read_to_string(&file).ok()?;
        text.contains("/after").then_some(())
    })
    .await;
    assert!(
        reopened.is_some(),
        "no new file after SIGUSR1; log:\n{}",
        gw.log()
    );
    let old = std::fs::read_to_string(&rotated).expect("rotated");
    assert!(old.contains("/before"));
}

#[tokio::test]
async fn a_full_disk_does_not_stop_proxying() {
    let up = TestUpstream::start("up").await;
    let web = free_port();
    let section = "[accessLog]\nfilePath = \"/dev/full\"\n";
    let gw = TestGateway::start(&config(web, &up.url(), section), &[web]).await;
    let c = client();
    for _ in 0..50 {
        let r = c
            .get(format!("http://127.0.0.1:{web}/x"))
            .send()
            .await
            .expect("request");
        assert_eq!(r.status(), 200);
    }
    let reported = eventually(Duration::from_secs(3), || async {
        gw.log().contains("access log: cannot write").then_some(())
    })
    .await;
    assert!(
        reported.is_some(),
        "the write error is logged:\n{}",
        gw.log()
    );
    assert_eq!(
        gw.log().matches("access log: cannot write").count(),
        1,
        "logged once per outage, not per line"
    );
}

#[tokio::test]
async fn internal_requests_are_logged_only_with_add_internals() {
    let up = TestUpstream::start("up").await;
    for add_internals in [false, true] {
        let web = free_port();
        let dir = tempfile::tempdir().expect("dir");
        let file = dir.path().join("access.log");
        let section = format!(
            "[ping]\nentryPoint = \"web\"\n[accessLog]\nfilePath = \"{}\"\naddInternals = {add_internals}\n",
            file.display()
        );
        let _gw = TestGateway::start(&config(web, &up.url(), &section), &[web]).await;
        let ping = client()
            .get(format!("http://127.0.0.1:{web}/ping"))
            .send()
            .await
            .expect("ping");
        assert_eq!(ping.status(), 200);
        let routed = client()
            .get(format!("http://127.0.0.1:{web}/routed"))
            .send()
            .await
            .expect("request");
        assert_eq!(routed.status(), 200);
        let expected = if add_internals { 2 } else { 1 };
        let written = lines(&file, expected).await;
        // The routed request's line is written after the ping's: once it is there, a ping
        // line would be too.
        assert!(
            written.iter().any(|l| l.contains("GET /routed")),
            "{written:?}"
        );
        let pings = written.iter().filter(|l| l.contains("GET /ping")).count();
        assert_eq!(
            pings,
            usize::from(add_internals),
            "addInternals = {add_internals}: {written:?}"
        );
    }
}
