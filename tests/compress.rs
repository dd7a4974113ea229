//! The `compress` middleware end to end: gzip, brotli and zstd chosen from Accept-Encoding,
//! bodies that decode to what the upstream sent, `Vary`, and the responses left alone
//! (small, HEAD, no Accept-Encoding, excluded type).

mod common;

use common::{client, free_port, TestGateway, TestUpstream};
use std::io::Read;

fn config(web: u16, upstream: &str) -> String {
    format!(
        r#"[entryPoints.web]
address = "127.0.0.1:{web}"

[http.routers.r]
rule = "PathPrefix(`/`)"
service = "s"
middlewares = ["c"]
[http.routers.plain]
rule = "PathPrefix(`/excluded`)"
service = "s"
middlewares = ["textless"]

[http.middlewares.c.compress]
[http.middlewares.textless.compress]
excludedContentTypes = ["Text/Plain"]

[http.services.s.loadBalancer]
servers = [{{ url = "{upstream}" }}]
"#
    )
}

fn decode(coding: &str, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "gzip" => {
            flate2::read::GzDecoder::new(data)
                .read_to_end(&mut out)
                .unwrap();
        }
        "br" => {
            brotli::Decompressor::new(data, 4096)
                .read_to_end(&mut out)
                .unwrap();
        }
        "zstd" => out = zstd::stream::decode_all(data).unwrap(),
        other => panic!("unexpected coding {other}"),
    }
    out
}

#[tokio::test]
async fn large_bodies_are_compressed_with_the_negotiated_coding() {
    let up = TestUpstream::start("app").await;
    let web = free_port();
    let _gw = TestGateway::start(&config(web, &up.url()), &[web]).await;
    let path = format!("/{}", "abc".repeat(600)); // the upstream answers "app <path>": 1,805 bytes
    let expected = format!("app {path}");
    let cases = [
        ("gzip, deflate", "gzip"),
        ("br;q=1.0, gzip;q=0.8", "br"),
        ("zstd", "zstd"),
        ("gzip;q=0.1, zstd;q=0.9, br;q=0.5", "zstd"),
    ];
    for (accept, coding) in cases {
        let r = client()
            .get(format!("http://127.0.0.1:{web}{path}"))
            .header("accept-encoding", accept)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let h = |n: &str| r.headers().get(n).map(|v| v.to_str().unwrap().to_string());
        assert_eq!(h("content-encoding").as_deref(), Some(coding), "{accept}");
        assert_eq!(h("vary").as_deref(), Some("Accept-Encoding"));
        assert_eq!(h("content-length"), None);
        let body = r.bytes().await.unwrap();
        assert!(
            body.len() < expected.len() / 4,
            "{coding}: {} bytes",
            body.len()
        );
        assert_eq!(decode(coding, &body), expected.as_bytes(), "{coding}");
    }
}

#[tokio::test]
async fn small_head_unaccepted_and_excluded_responses_are_sent_as_is() {
    let up = TestUpstream::start("app").await;
    let web = free_port();
    let _gw = TestGateway::start(&config(web, &up.url()), &[web]).await;
    let long = format!("/{}", "abc".repeat(600));
    let get = |path: String, accept: Option<&'static str>| {
        let mut b = client().get(format!("http://127.0.0.1:{web}{path}"));
        if let Some(a) = accept {
            b = b.header("accept-encoding", a);
        }
        b.send()
    };
    let small = get("/small".into(), Some("gzip")).await.unwrap();
    assert_eq!(small.headers().get("content-encoding"), None);
    assert_eq!(small.text().await.unwrap(), "app /small");
    let none = get(long.clone(), None).await.unwrap();
    assert_eq!(none.headers().get("content-encoding"), None);
    let identity = get(long.clone(), Some("gzip;q=0, identity")).await.unwrap();
    assert_eq!(identity.headers().get("content-encoding"), None);
    let excluded = get(format!("/excluded{long}"), Some("gzip")).await.unwrap();
    assert_eq!(excluded.headers().get("content-encoding"), None);
    assert!(excluded.text().await.unwrap().ends_with("abcabc"));
    let head = client()
        .head(format!("http://127.0.0.1:{web}{long}"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers().get("content-encoding"), None);
}
