//! Starts Pingora: one listening service per entry point, all sharing the Snapshot store.

use crate::lifecycle::{Lifecycle, Signals};
use crate::listener::EntryPointApp;
use crate::proxy::Gateway;
use crate::runtime::Store;
use crate::tls::TlsTerminator;
use pingora::apps::HttpServerOptions;
use pingora::server::configuration::{Opt, ServerConf};
use pingora::server::{RunArgs, Server};
use pingora::services::listening::Service;
use std::sync::Arc;
use std::time::Duration;

/// The longest an idle keep-alive connection stays open once shutting down (capped by the grace
/// period): a client that sends within it gets an answer and `Connection: close` instead of a
/// connection closed under its request.
const IDLE_KEEPALIVE_LINGER: Duration = Duration::from_secs(2);

pub use crate::runtime::Listening;

/// Everything needed to start serving, compiled and validated before any socket is opened.
pub struct StartPlan {
    pub listening: Vec<Listening>,
    /// Hot reload (file watch, SIGHUP); `None` for a fixed config.
    pub reload: Option<crate::reload::ReloadPlan>,
    /// Routes and certificates, swapped together on reload.
    pub store: Arc<Store>,
    /// The host names of server URLs, looked up again as their answers expire.
    pub dns: Arc<crate::upstream::dns::Resolver>,
    /// Worker threads per entry point service.
    pub threads: usize,
    /// How long in-flight requests get after SIGTERM.
    pub grace: Duration,
    /// How long requests are still accepted after SIGTERM (while /ping answers 503).
    pub accept_grace: Duration,
    /// Idle upstream connections kept per entry point.
    pub keepalive_pool_size: usize,
    /// Take the listening sockets over from a running pylon (zero-downtime upgrade).
    pub upgrade: bool,
    pub daemon: bool,
    /// Where the listening sockets pass on an upgrade (see [`crate::run_files`]).
    pub upgrade_sock: std::path::PathBuf,
    /// Written with this process's pid once it serves (see [`crate::readiness`]).
    pub pid_file: std::path::PathBuf,
}

/// Builds the Pingora server and runs it until a shutdown signal; never returns.
pub fn run(plan: StartPlan) -> Result<std::convert::Infallible, String> {
    let opt = Opt {
        upgrade: plan.upgrade,
        daemon: plan.daemon,
        ..Opt::default()
    };
    let conf = ServerConf {
        threads: plan.threads,
        // SIGTERM: listeners close at once, in-flight requests get up to `graceTimeOut` (the
        // process exits as soon as none is left: `crate::drain`), then the runtimes get one
        // more second to wind down.
        grace_period_seconds: Some(plan.grace.as_secs()),
        graceful_shutdown_timeout_seconds: Some(1),
        upstream_keepalive_pool_size: plan.keepalive_pool_size,
        upgrade_sock: plan.upgrade_sock.to_string_lossy().into_owned(),
        pid_file: plan.pid_file.to_string_lossy().into_owned(),
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(opt, conf);
    server.bootstrap();
    let tls = TlsTerminator::new(plan.store.clone(), Duration::from_secs(10))
        .map_err(|e| format!("cannot set up TLS: {e}"))?;
    let tls = Arc::new(tls);
    let lifecycle = Arc::new(Lifecycle::default());
    // Idle keep-alive connections get this long after a shutdown or upgrade starts to send one
    // more request (answered with `Connection: close`) before they are closed.
    let idle_linger = plan.grace.min(IDLE_KEEPALIVE_LINGER);
    let mut entrypoints = Vec::new();
    for listening in plan.listening {
        let name = listening.entrypoint.name.clone();
        let limits = listening.entrypoint.clients;
        let proxy_protocol = listening.entrypoint.proxy_protocol.clone();
        let index = listening.entrypoint.index;
        let gateway = Gateway::new(listening.entrypoint, plan.store.clone(), lifecycle.clone());
        let mut proxy = pingora_proxy::http_proxy(&server.configuration, gateway);
        let mut options = HttpServerOptions::default();
        // HTTP/1 keep-alive (idle, request cap) is run by `listener::h1`; this is for HTTP/2
        options.h2_idle_timeout = limits.idle;
        // h2c with prior knowledge: the listener sends only connections opening with the
        // HTTP/2 preface to `process_new` unencrypted (see `listener::h2c`)
        options.h2c = true;
        proxy.server_options = Some(options);
        let app = EntryPointApp::new(proxy, tls.clone(), &name, limits)
            .with_idle_linger(idle_linger)
            .with_proxy_protocol(proxy_protocol)
            .with_tcp_routers(plan.store.clone(), index);
        let mut service = Service::new(format!("entrypoint {name}"), app);
        for bind in &listening.binds {
            service.add_tcp(bind);
        }
        service.threads = Some(plan.threads);
        entrypoints.push(server.add_service(service));
    }
    let readiness = server.add_service(pingora::services::background::background_service(
        "readiness",
        crate::readiness::Readiness::new(server.watch_execution_phase(), plan.pid_file.clone()),
    ));
    for entrypoint in &entrypoints {
        readiness.add_dependency(entrypoint);
    }
    server.add_service(pingora::services::background::background_service(
        "exit when drained",
        crate::drain::ExitWhenDrained::new(server.watch_execution_phase()),
    ));
    if let Some(log) = crate::access_log::global() {
        server.add_service(pingora::services::background::background_service(
            "access log reopen",
            crate::access_log::reopen::ReopenOnSignal(log.clone()),
        ));
    }
    if let Some(acme) = crate::acme::manager::global() {
        server.add_service(pingora::services::background::background_service(
            "acme",
            crate::acme::manager::AcmeService {
                manager: acme.clone(),
                store: plan.store.clone(),
            },
        ));
    }
    server.add_service(pingora::services::background::background_service(
        "upstream DNS",
        crate::upstream::dns::refresh::Refresher {
            resolver: plan.dns.clone(),
        },
    ));
    server.add_service(pingora::services::background::background_service(
        "health checks",
        crate::upstream::checker::HealthChecker::new(plan.store.clone()),
    ));
    if let Some(reload) = plan.reload {
        let reload = Arc::new(reload);
        if let Some(settings) = reload.compiler.docker.clone() {
            server.add_service(pingora::services::background::background_service(
                "docker provider",
                crate::provider::docker::watch::DockerWatcher {
                    settings,
                    plan: reload.clone(),
                },
            ));
        }
        if let Some(settings) = reload.compiler.redis.clone() {
            server.add_service(pingora::services::background::background_service(
                "redis provider",
                crate::provider::redis::watch::RedisWatcher {
                    settings,
                    plan: reload.clone(),
                },
            ));
        }
        if let Some(settings) = reload.compiler.etcd.clone() {
            server.add_service(pingora::services::background::background_service(
                "etcd provider",
                crate::provider::etcd::watch::EtcdWatcher {
                    settings,
                    plan: reload.clone(),
                },
            ));
        }
        let service = crate::reload::watch::ReloadService::for_plan(reload);
        server.add_service(pingora::services::background::background_service(
            "config reload",
            service,
        ));
    }
    server.run(RunArgs {
        shutdown_signal: Box::new(Signals {
            lifecycle,
            accept_grace: plan.accept_grace,
        }),
    });
    std::process::exit(0)
}
