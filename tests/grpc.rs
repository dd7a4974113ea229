//! gRPC through pylon (issue 19 point 3), with a real gRPC server and client (grpcio): unary
//! and streaming calls over TLS (h2 by ALPN) and over an h2c entry point to an `h2c://`
//! server, statuses and messages in trailers passed through, the client's deadline reaching
//! the server, pylon's own errors as gRPC statuses, and `healthCheck.mode = "grpc"`.

mod common;

use common::python::{self, PyServer};
use common::{free_port, get_json, TestGateway};
use std::time::Duration;

/// The lines `grpc_client.py` printed, as (method, status, detail).
fn calls(output: &str) -> Vec<(String, String, String)> {
    output
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ' ');
            Some((
                parts.next()?.to_string(),
                parts.next()?.to_string(),
                parts.next().unwrap_or("").to_string(),
            ))
        })
        .collect()
}

fn call<'a>(calls: &'a [(String, String, String)], method: &str) -> (&'a str, &'a str) {
    let (_, status, detail) = calls
        .iter()
        .find(|(m, _, _)| m == method)
        .unwrap_or_else(|| panic!("no {method} in {calls:?}"));
    (status.as_str(), detail.as_str())
}

/// Routes `test.Echo` calls to `url` (only that service: other paths find no router).
fn grpc_route(url: &str) -> String {
    format!(
        "[http.routers.echo]\nrule = \"PathPrefix(`/test.Echo/`)\"\nservice = \"echo\"\n\
         [http.routers.echo.tls]\n\
         [http.routers.echo_h2c]\nrule = \"PathPrefix(`/test.Echo/`)\"\nservice = \"echo\"\nentryPoints = [\"web\"]\n\
         [http.services.echo.loadBalancer]\nservers = [{{ url = \"{url}\" }}]\n"
    )
}

#[tokio::test]
async fn grpc_calls_pass_through_over_tls_and_h2c() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = common::tls::write_cert(dir.path(), "front", &["grpc.test"]);
    let backend = PyServer::start("grpc_backend.py", free_port(), &[]);
    let (web, secure) = (free_port(), free_port());
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{web}\"\n\
         [entryPoints.websecure]\naddress = \"127.0.0.1:{secure}\"\n\
         [[tls.certificates]]\ncertFile = \"{cert}\"\nkeyFile = \"{key}\"\n{}",
        grpc_route(&format!("h2c://127.0.0.1:{}", backend.port)),
    );
    let gw = TestGateway::start_in(dir, &config, &[web, secure]).await;
    let h2c = format!("127.0.0.1:{web}");
    let tls = format!("127.0.0.1:{secure}");
    for args in [
        vec![h2c.clone(), "calls".to_string()],
        vec![
            tls.clone(),
            "calls".into(),
            cert.clone(),
            "grpc.test".into(),
        ],
    ] {
        let out = tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            python::run("grpc_client.py", &args)
        })
        .await
        .unwrap();
        let got = calls(&out);
        let ctx = format!("{out}\n{}", gw.log());
        assert_eq!(call(&got, "Unary"), ("OK", "echo:hello"), "{ctx}");
        assert_eq!(
            call(&got, "ServerStream"),
            ("OK", "part 0|part 1|part 2|part 3"),
            "{ctx}"
        );
        assert_eq!(call(&got, "ClientStream"), ("OK", "a+b+c"), "{ctx}");
        assert_eq!(call(&got, "Bidi"), ("OK", "re:x|re:y"), "{ctx}");
        // grpc-status and grpc-message travel in the trailers
        assert_eq!(
            call(&got, "Fail"),
            ("INVALID_ARGUMENT", "bad thing happened"),
            "{ctx}"
        );
        // no router: pylon's 404 as a gRPC status with pylon's message (a client maps a bare
        // HTTP 404 to UNIMPLEMENTED too, but with its own text)
        assert_eq!(
            call(&got, "NoRoute"),
            ("UNIMPLEMENTED", "404 page not found"),
            "{ctx}"
        );
    }
}

#[tokio::test]
async fn deadlines_reach_the_server_and_pylons_errors_are_grpc_statuses() {
    let backend = PyServer::start("grpc_backend.py", free_port(), &[]);
    let dead = free_port();
    let web = free_port();
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{web}\"\n\
         [http.routers.echo]\nrule = \"PathPrefix(`/test.Echo/`)\"\nservice = \"echo\"\n\
         [http.services.echo.loadBalancer]\nservers = [{{ url = \"h2c://127.0.0.1:{}\" }}]\n\
         [http.routers.down]\nrule = \"PathPrefix(`/`)\"\nservice = \"down\"\npriority = 1\n\
         [http.services.down.loadBalancer]\nservers = [{{ url = \"h2c://127.0.0.1:{dead}\" }}]\n",
        backend.port
    );
    let gw = TestGateway::start(&config, &[web]).await;
    let target = format!("127.0.0.1:{web}");
    let started = std::time::Instant::now();
    let out =
        tokio::task::spawn_blocking(move || python::run("grpc_client.py", &[&target, "deadline"]))
            .await
            .unwrap();
    let got = calls(&out);
    let ctx = format!("{out}\n{}", gw.log());
    assert_eq!(call(&got, "Slow").0, "DEADLINE_EXCEEDED", "{ctx}");
    assert!(started.elapsed() < Duration::from_secs(10), "{ctx}");
    // the server saw the client's 0.5 s deadline (grpc-timeout), not an open-ended call
    let (status, remaining) = call(&got, "DeadlineSeen");
    assert_eq!(status, "OK", "{ctx}");
    let remaining: f64 = remaining.parse().unwrap_or_else(|_| panic!("{ctx}"));
    assert!(remaining > 0.0 && remaining <= 0.5, "{ctx}");
    // the catch-all router's server is down: pylon's 502 reaches the client as UNAVAILABLE
    let target = format!("127.0.0.1:{web}");
    let out =
        tokio::task::spawn_blocking(move || python::run("grpc_client.py", &[&target, "calls"]))
            .await
            .unwrap();
    assert_eq!(
        call(&calls(&out), "NoRoute"),
        ("UNAVAILABLE", "Bad Gateway"),
        "{out}"
    );
}

#[tokio::test]
async fn grpc_health_checks_follow_the_servers_serving_status() {
    let backend = PyServer::start("grpc_backend.py", free_port(), &[]);
    let (web, admin) = (free_port(), free_port());
    let url = format!("h2c://127.0.0.1:{}", backend.port);
    let config = format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{web}\"\n\
         [entryPoints.traefik]\naddress = \"127.0.0.1:{admin}\"\n[api]\ninsecure = true\n\
         [http.routers.echo]\nrule = \"PathPrefix(`/test.Echo/`)\"\nservice = \"echo\"\n\
         [http.services.echo.loadBalancer]\nservers = [{{ url = \"{url}\" }}]\n\
         [http.services.echo.loadBalancer.healthCheck]\nmode = \"grpc\"\ninterval = \"200ms\"\ntimeout = \"2s\"\n"
    );
    let gw = TestGateway::start(&config, &[web, admin]).await;
    let status = |want: &'static str| {
        let api = format!("http://127.0.0.1:{admin}/api/http/services/echo@file");
        let url = url.clone();
        async move {
            common::eventually(Duration::from_secs(10), || async {
                let (_, svc) = get_json(api.clone()).await;
                (svc["serverStatus"][&url] == want).then_some(())
            })
            .await
        }
    };
    assert!(status("UP").await.is_some(), "{}", gw.log());
    let control = format!("127.0.0.1:{}", backend.port);
    let set = move |to: &'static str| {
        let control = control.clone();
        tokio::task::spawn_blocking(move || {
            python::run("grpc_client.py", &[&control, "health", to])
        })
    };
    assert!(set("NOT_SERVING").await.unwrap().contains("OK"));
    assert!(status("DOWN").await.is_some(), "{}", gw.log());
    assert!(
        gw.log().contains("NOT_SERVING"),
        "the reason is logged: {}",
        gw.log()
    );
    assert!(set("SERVING").await.unwrap().contains("OK"));
    assert!(status("UP").await.is_some(), "{}", gw.log());
    drop(backend);
    assert!(status("DOWN").await.is_some(), "{}", gw.log());
}
