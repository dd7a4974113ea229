//! Static keys Traefik configs commonly carry (issue 18 point 8), each doing what Traefik's
//! does: `forwardedHeaders.notAppendXForwardedFor`, `entryPoints.<n>.observability`,
//! `allowACMEByPass` and `core.defaultRuleSyntax`.

mod common;

use common::gateway::run_pylon;
use common::{free_port, raw_request, route_all_to, TestGateway, TestUpstream};
use std::time::Duration;

fn status_of(response: &str) -> Option<u16> {
    response.split_whitespace().nth(1)?.parse().ok()
}

async fn get(port: u16, head_extra: &str, path: &str) -> Option<u16> {
    let head = format!("GET {path} HTTP/1.1\r\nHost: a\r\n{head_extra}Connection: close\r\n\r\n");
    status_of(&raw_request(port, head.as_bytes()).await)
}

#[tokio::test]
async fn not_append_x_forwarded_for_leaves_the_header_as_sent() {
    let up = TestUpstream::start("app").await;
    let (plain, kept) = (free_port(), free_port());
    let config = format!(
        "[entryPoints.plain]\naddress = \"127.0.0.1:{plain}\"\n\
         [entryPoints.plain.forwardedHeaders]\ntrustedIPs = [\"127.0.0.1/32\"]\n\
         [entryPoints.kept]\naddress = \"127.0.0.1:{kept}\"\n\
         [entryPoints.kept.forwardedHeaders]\ntrustedIPs = [\"127.0.0.1/32\"]\nnotAppendXForwardedFor = true\n{}",
        route_all_to(&up.url())
    );
    let _gw = TestGateway::start(&config, &[plain, kept]).await;
    let xff = || {
        up.last()
            .and_then(|s| s.header("x-forwarded-for").map(str::to_string))
    };
    assert_eq!(
        get(plain, "X-Forwarded-For: 203.0.113.7\r\n", "/").await,
        Some(200)
    );
    assert_eq!(
        xff().as_deref(),
        Some("203.0.113.7, 127.0.0.1"),
        "default: appended"
    );
    assert_eq!(
        get(kept, "X-Forwarded-For: 203.0.113.7\r\n", "/").await,
        Some(200)
    );
    assert_eq!(xff().as_deref(), Some("203.0.113.7"), "kept as sent");
    assert_eq!(get(kept, "", "/").await, Some(200));
    assert_eq!(xff(), None, "none added when absent");
}

#[tokio::test]
async fn an_entry_point_can_turn_off_its_access_log_and_metrics() {
    let up = TestUpstream::start("app").await;
    let (loud, quiet, admin) = (free_port(), free_port(), free_port());
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("access.log");
    let config = format!(
        "[entryPoints.loud]\naddress = \"127.0.0.1:{loud}\"\n\
         [entryPoints.quiet]\naddress = \"127.0.0.1:{quiet}\"\n\
         [entryPoints.quiet.observability]\naccessLogs = false\nmetrics = false\ntracing = false\n\
         [entryPoints.traefik]\naddress = \"127.0.0.1:{admin}\"\n\
         [metrics.prometheus]\n\
         [accessLog]\nfilePath = \"{}\"\n{}",
        log.display(),
        route_all_to(&up.url())
    );
    let _gw = TestGateway::start_in(dir, &config, &[loud, quiet, admin]).await;
    assert_eq!(get(loud, "", "/heard").await, Some(200));
    assert_eq!(get(quiet, "", "/unheard").await, Some(200));
    let logged = common::eventually(Duration::from_secs(5), || {
        let log = log.clone();
        async move {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            text.contains("/heard").then_some(text)
        }
    })
    .await
    .expect("the loud entry point's request is logged");
    assert!(!logged.contains("/unheard"), "{logged}");
    let metrics = common::client()
        .get(format!("http://127.0.0.1:{admin}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("entrypoint=\"loud\""), "{metrics}");
    assert!(
        !metrics.contains("entrypoint=\"quiet\",method"),
        "{metrics}"
    );
}

#[tokio::test]
async fn allow_acme_bypass_lets_routers_answer_challenge_paths_pylon_is_not_solving() {
    let up = TestUpstream::start("app").await;
    let (strict, open, ca) = (free_port(), free_port(), free_port());
    // the CA is down (nothing listens on `ca`): no challenge is being solved
    let config = format!(
        "[entryPoints.strict]\naddress = \"127.0.0.1:{strict}\"\n\
         [entryPoints.open]\naddress = \"127.0.0.1:{open}\"\nallowACMEByPass = true\n\
         [certificatesResolvers.strict.acme]\nemail = \"ops@pylon.test\"\n\
         caServer = \"https://127.0.0.1:{ca}/dir\"\nstorage = \"strict.json\"\n\
         [certificatesResolvers.strict.acme.httpChallenge]\nentryPoint = \"strict\"\n\
         [certificatesResolvers.open.acme]\nemail = \"ops@pylon.test\"\n\
         caServer = \"https://127.0.0.1:{ca}/dir\"\nstorage = \"open.json\"\n\
         [certificatesResolvers.open.acme.httpChallenge]\nentryPoint = \"open\"\n{}",
        route_all_to(&up.url())
    );
    let _gw = TestGateway::start(&config, &[strict, open]).await;
    let path = "/.well-known/acme-challenge/some-token";
    assert_eq!(get(strict, "", path).await, Some(404), "pylon's answer");
    assert_eq!(get(open, "", path).await, Some(200), "the router's");
    assert_eq!(up.last().unwrap().target, path);
}

#[test]
fn only_the_v3_rule_syntax_is_taken() {
    let dir = tempfile::tempdir().unwrap();
    let check = |syntax: &str| {
        let path = dir.path().join(format!("{syntax}.toml"));
        let config = format!(
            "[core]\ndefaultRuleSyntax = \"{syntax}\"\n[entryPoints.web]\naddress = \"127.0.0.1:{}\"\n",
            free_port()
        );
        std::fs::write(&path, config).unwrap();
        run_pylon(&["check", "--config", path.to_str().unwrap()])
    };
    assert_eq!(check("v3").0, 0, "{}", check("v3").1);
    let (code, out) = check("v2");
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("core.defaultRuleSyntax") && out.contains("v3"),
        "{out}"
    );
}
