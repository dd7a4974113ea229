//! DNS-01 through RFC 2136 against real servers: Debian's BIND 9 `named` (authoritative for
//! `example.test`, updates allowed with a TSIG key) and pebble resolving through it. pylon adds
//! the `_acme-challenge` TXT records with signed DNS UPDATEs, waits until named serves them, and
//! deletes them afterwards; a plain name and a wildcard are issued and served by SNI, verified
//! against pebble's root.

mod common;

use common::acme::*;
use common::bind9::Bind9;
use common::pebble::{Pebble, Validation};
use common::{TestGateway, TestUpstream};
use std::process::Command;
use std::time::Duration;

const DNS01: &str = "[certificatesResolvers.le.acme.dnsChallenge]\nprovider = \"rfc2136\"\n\
                     propagation.delayBeforeChecks = \"0s\"\n";

fn wildcard_router(upstream: &str) -> String {
    format!(
        r#"
[http.routers.wild]
rule = "Host(`a.example.test`)"
service = "wild"
entryPoints = ["websecure"]
[http.routers.wild.tls]
certResolver = "le"
[[http.routers.wild.tls.domains]]
main = "*.example.test"
[http.services.wild.loadBalancer]
servers = [{{ url = "{upstream}" }}]
"#
    )
}

#[tokio::test]
async fn dns01_issues_a_plain_name_and_a_wildcard_and_deletes_its_records() {
    let named = Bind9::start("example.test").await;
    let up = TestUpstream::start("app").await;
    let p = ports();
    let pebble = Pebble::start_with_dns(
        p.acme,
        Validation {
            http_port: p.http,
            tls_port: p.https,
        },
        Some(named.port),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("acme.json");
    let config = static_config(&p, pebble.https_ca_path(), &storage, DNS01)
        + &router("app", "dns.example.test", &up.url())
        + &wildcard_router(&up.url());
    let env = named.rfc2136_env();
    let gw = TestGateway::start_env(&config, &env, &[p.http, p.https]).await;
    let root = pebble_root(&pebble).await;

    for name in ["dns.example.test", "a.example.test"] {
        assert!(
            wait_for_valid_cert(p.https, name, &root).await,
            "no valid certificate for {name}\npylon:\n{}\npebble:\n{}\nnamed:\n{}",
            gw.log(),
            pebble.log(),
            named.log()
        );
    }
    let json = stored_json(&storage);
    let mains: Vec<String> = json["le"]["Certificates"]
        .as_array()
        .expect("certificates")
        .iter()
        .map(|c| c["domain"]["main"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(mains.contains(&"*.example.test".to_string()), "{mains:?}");
    assert!(mains.contains(&"dns.example.test".to_string()), "{mains:?}");
    // The wildcard covers one label only: b.a.example.test is not served by it.
    assert!(common::certs::served(
        "127.0.0.1",
        p.https,
        Some("b.a.example.test"),
        "b.a.example.test",
        &root,
        TLS13
    )
    .await
    .is_err());
    // The challenge records are gone from the zone.
    let gone = common::eventually(Duration::from_secs(10), || async {
        let left: Vec<String> = [
            "_acme-challenge.dns.example.test",
            "_acme-challenge.example.test",
        ]
        .iter()
        .flat_map(|n| named.dig(n, "TXT"))
        .collect();
        left.is_empty().then_some(())
    })
    .await;
    assert!(
        gone.is_some(),
        "TXT records left in the zone\npylon:\n{}",
        gw.log()
    );
    let log = gw.log();
    assert!(
        log.contains("TXT record `_acme-challenge.example.test.` deleted"),
        "{log}"
    );
}

fn check(config: &str, env: &[(&str, &str)]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pylon.toml");
    std::fs::write(&path, config).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_pylon"));
    cmd.arg("check").arg("--config").arg(&path);
    for (k, _) in std::env::vars() {
        if k.starts_with("RFC2136_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd
        .envs(env.iter().copied())
        .output()
        .expect("run pylon check");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn check_names_missing_and_unsupported_rfc2136_variables() {
    let config = format!(
        "[entryPoints.websecure]\naddress = \"127.0.0.1:8443\"\n[certificatesResolvers.le.acme]\n\
         email = \"ops@pylon.test\"\n{DNS01}"
    );
    let (code, out) = check(
        &config,
        &[
            ("RFC2136_NAMESERVER", "127.0.0.1:53"),
            ("RFC2136_TSIG_KEY", "k."),
            ("RFC2136_TSIG_SECRET", "c2VjcmV0"),
            ("RFC2136_TSIG_ALGORITHM", "hmac-md5.sig-alg.reg.int."),
        ],
    );
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("certificatesResolvers.le.acme.dnsChallenge.provider")
            && out.contains("`RFC2136_TSIG_ALGORITHM` names `hmac-md5.sig-alg.reg.int.`"),
        "{out}"
    );
    let (code, out) = check(&config, &[]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("`RFC2136_NAMESERVER` is not set"), "{out}");
    let other = config.replace("rfc2136", "route53");
    let (code, out) = check(&other, &[]);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains("provider `route53` is not supported yet")
            && out.contains("supported: rfc2136"),
        "{out}"
    );
}

#[tokio::test]
async fn a_wrong_tsig_secret_is_refused_by_named_and_reported() {
    let named = Bind9::start("example.test").await;
    let up = TestUpstream::start("app").await;
    let p = ports();
    let pebble = Pebble::start_with_dns(
        p.acme,
        Validation {
            http_port: p.http,
            tls_port: p.https,
        },
        Some(named.port),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let storage = dir.path().join("acme.json");
    let config = static_config(&p, pebble.https_ca_path(), &storage, DNS01)
        + &router("app", "dns.example.test", &up.url());
    let mut env = named.rfc2136_env();
    for (k, v) in &mut env {
        if *k == "RFC2136_TSIG_SECRET" {
            *v = "d3Jvbmcgc2VjcmV0IG9mIDMyIGJ5dGVzLi4uLi4uLi4=".to_string();
        }
    }
    let gw = TestGateway::start_env(&config, &env, &[p.http, p.https]).await;
    let refused = common::eventually(ISSUE_DEADLINE, || async {
        gw.log()
            .contains("refused to add the TXT record `_acme-challenge.dns.example.test.`")
            .then_some(())
    })
    .await;
    assert!(
        refused.is_some(),
        "pylon:\n{}\nnamed:\n{}",
        gw.log(),
        named.log()
    );
    assert!(named
        .dig("_acme-challenge.dns.example.test", "TXT")
        .is_empty());
}
