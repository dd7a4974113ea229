//! The load benchmark's reference: the smallest useful Pingora reverse proxy.
//!
//! Every request goes to one fixed upstream over plain HTTP/1.1 (Pingora's default upstream
//! connection pool), with no routing, no middlewares and no header rewriting, on one worker
//! thread and with the same global allocator as pylon. pylon's CPU cost per request is compared
//! against this (see benches/README.md).
//!
//! Usage: `bare_pingora <listen addr> <upstream addr>`, e.g.
//! `target/release/examples/bare_pingora 127.0.0.1:18081 127.0.0.1:18080`.

use async_trait::async_trait;
use pingora::server::configuration::{Opt, ServerConf};
use pingora::server::Server;
use pingora::upstreams::peer::HttpPeer;
use pingora::Result;
use pingora_proxy::{ProxyHttp, Session};
use std::net::SocketAddr;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Proxies everything to `upstream`.
struct Bare {
    upstream: SocketAddr,
}

#[async_trait]
impl ProxyHttp for Bare {
    type CTX = ();

    fn new_ctx(&self) -> Self::CTX {}

    async fn upstream_peer(&self, _session: &mut Session, _ctx: &mut ()) -> Result<Box<HttpPeer>> {
        Ok(Box::new(HttpPeer::new(self.upstream, false, String::new())))
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(upstream), None) = (args.next(), args.next(), args.next()) else {
        eprintln!("usage: bare_pingora <listen addr> <upstream addr>");
        std::process::exit(2);
    };
    let upstream: SocketAddr = upstream.parse().unwrap_or_else(|e| {
        eprintln!("bare_pingora: bad upstream address {upstream:?}: {e}");
        std::process::exit(2);
    });

    let conf = ServerConf {
        threads: 1,
        upgrade_sock: "/tmp/bare_pingora_upgrade.sock".to_string(),
        pid_file: "/tmp/bare_pingora.pid".to_string(),
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(Opt::default(), conf);
    server.bootstrap();
    let mut proxy = pingora_proxy::http_proxy_service(&server.configuration, Bare { upstream });
    proxy.add_tcp(&listen);
    proxy.threads = Some(1);
    server.add_service(proxy);
    server.run_forever()
}
