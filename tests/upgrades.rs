//! The systemd unit and its zero-downtime binary upgrade (`ExecReload`), run as the unit runs
//! them: `systemd-analyze verify` on the unit, shellcheck on the upgrade script, 10 upgrades in a
//! minute under a steady load with no refused connection and no non-2xx, a 10 s streaming
//! response started before an upgrade completing, and a failed upgrade leaving the old pylon
//! serving. No systemd runs here (no PID 1 in the test container): `$NOTIFY_SOCKET` is a socket
//! of the test's, which records READY=1 / MAINPID= as systemd would.

mod common;

use common::trickle_upstream::TrickleUpstream;
use common::unit::{alive, unit_file, upgrade_script, Unit};
use common::{free_port, route_all_to, TestUpstream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// One entry point with `/ping`, routing everything to `upstream`.
fn config(port: u16, upstream: &str) -> String {
    format!(
        "[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n[ping]\nentryPoint = \"web\"\n{}",
        route_all_to(upstream)
    )
}

#[test]
fn the_unit_passes_systemd_analyze_verify() {
    let probe = Command::new("systemd-analyze").arg("--version").output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!(
            "SKIPPED: systemd-analyze is not installed (scripts/setup.sh installs `systemd`)"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("dir");
    // The installed paths, pointed at this build and this checkout.
    let unit = std::fs::read_to_string(unit_file())
        .expect("read unit")
        .replace("/usr/local/bin/pylon", env!("CARGO_BIN_EXE_pylon"))
        .replace(
            "/usr/local/lib/pylon/pylon-upgrade",
            &upgrade_script().display().to_string(),
        );
    let path = dir.path().join("pylon.service");
    std::fs::write(&path, unit).expect("write unit");
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .expect("run systemd-analyze");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "systemd-analyze verify failed:\n{text}"
    );
    // Unknown keys and bad values are only warnings: there must be none.
    assert!(
        !text.contains("pylon.service"),
        "systemd-analyze verify warns:\n{text}"
    );
    // The sandbox's exposure score, printed for the record; fails without the unit's
    // SystemCallFilter, MemoryDenyWriteExecute, Protect* and UMask lines (it was 4.1; 1.9 with them).
    let out = Command::new("systemd-analyze")
        .args(["security", "--offline=yes", "--no-pager"])
        .arg(&path)
        .output()
        .expect("run systemd-analyze security");
    let report = String::from_utf8_lossy(&out.stdout);
    println!("{report}");
    let score: f64 = report
        .lines()
        .find_map(|l| l.split("pylon.service: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no exposure level in:\n{report}"));
    println!("systemd-analyze security: exposure {score}");
    assert!(score <= 2.0, "exposure {score} above 2.0:\n{report}");
    for expected in ["SystemCallFilter=~@", "MemoryDenyWriteExecute=", "UMask="] {
        let line = report.lines().find(|l| l.contains(expected));
        assert!(
            line.is_some_and(|l| l.trim_start().starts_with('✓')),
            "{expected} is not applied:\n{report}"
        );
    }
}

#[test]
fn the_upgrade_script_is_shellcheck_clean() {
    if Command::new("shellcheck")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("SKIPPED: shellcheck is not installed (scripts/setup.sh installs it)");
        return;
    }
    let out = Command::new("shellcheck")
        .args(["-s", "sh"])
        .arg(upgrade_script())
        .output()
        .expect("run shellcheck");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// Sends GETs until `stop`, one every 5 ms; counts 2xx answers and everything else.
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
            Ok(r) if r.status().is_success() => {
                r.bytes().await.map(|_| ()).map_err(|e| format!("{e:?}"))
            }
            Ok(r) => Err(format!("status {}", r.status())),
            Err(e) => Err(format!("{e:?}")),
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
async fn ten_upgrades_in_a_minute_under_load_refuse_nothing() {
    let upstream = TestUpstream::start("steady").await;
    let port = free_port();
    let mut unit = tokio::task::block_in_place(|| Unit::start(&config(port, &upstream.url())));
    let first = unit.main_pid().expect("main pid");

    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    // Two clients on keep-alive connections, two opening a connection per request.
    let clients: Vec<_> = [false, false, true, true]
        .into_iter()
        .map(|fresh| tokio::spawn(load(port, fresh, stop.clone(), ok.clone(), failed.clone())))
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;

    let started = Instant::now();
    let mut previous = first;
    for i in 1..=10 {
        let reload = tokio::task::block_in_place(|| unit.reload());
        assert!(
            reload.success,
            "upgrade {i} failed after {:?}:\n{}",
            reload.took, reload.output
        );
        eprintln!("upgrade {i} took {:?}", reload.took);
        // The old pylon accepts for 5 s after SIGQUIT: the new one was confirmed ready before.
        assert!(
            reload.took < Duration::from_secs(5),
            "upgrade {i} took {:?}",
            reload.took
        );
        let main = unit.main_pid().expect("main pid");
        assert_ne!(main, previous, "upgrade {i}: systemd's main pid moved on");
        assert_eq!(unit.pid_file_pid(), Some(main), "upgrade {i}: pid file");
        assert!(alive(main), "upgrade {i}: the new pylon runs");
        previous = main;
        // Upgrades every ~3.5 s: the previous process is still in its 5 s hand-over window.
        tokio::time::sleep(Duration::from_millis(3000)).await;
    }
    let elapsed = started.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.expect("client task");
    }
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    assert!(
        elapsed < Duration::from_secs(60),
        "10 upgrades took {elapsed:?}"
    );
    assert_eq!(
        failed,
        0,
        "{failed} of {} requests failed; log:\n{}",
        ok + failed,
        unit.log()
    );
    assert!(ok > 1000, "the load was steady: {ok} requests");
    assert_eq!(unit.pids().len(), 11, "11 distinct pylons served");
    // The first pylon drained and left: 5 s hand-over + 10 s grace + 1 s.
    assert!(!alive(first) || elapsed < Duration::from_secs(17));
    eprintln!("10 upgrades in {elapsed:?}, {ok} requests, 0 failed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ten_second_stream_started_before_an_upgrade_completes() {
    let trickle = TrickleUpstream::start(20, Duration::from_millis(500)).await;
    let port = free_port();
    let mut unit = tokio::task::block_in_place(|| Unit::start(&config(port, &trickle.url())));
    let old = unit.main_pid().expect("main pid");

    let started = Instant::now();
    let mut response = common::client()
        .get(format!("http://127.0.0.1:{port}/stream"))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("stream starts");
    assert_eq!(response.status(), 200);
    let mut body = Vec::new();
    let first = response.chunk().await.expect("first chunk").expect("data");
    body.extend_from_slice(&first);

    let reload = tokio::task::block_in_place(|| unit.reload());
    assert!(reload.success, "upgrade failed:\n{}", reload.output);
    let new = unit.main_pid().expect("main pid");
    assert_ne!(new, old);

    while let Some(chunk) = response.chunk().await.expect("stream goes on") {
        body.extend_from_slice(&chunk);
    }
    let text = String::from_utf8_lossy(&body);
    let expected: String = (0..20).map(|i| format!("tick {i}\n")).collect();
    assert_eq!(text, expected, "log:\n{}", unit.log());
    assert!(started.elapsed() >= Duration::from_millis(9500));
    // Meanwhile new requests went to the new pylon, and it answers /ping.
    let ping = common::client()
        .get(format!("http://127.0.0.1:{port}/ping"))
        .send()
        .await
        .expect("ping");
    assert_eq!(ping.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_upgrade_leaves_the_old_pylon_serving() {
    let upstream = TestUpstream::start("kept").await;
    let port = free_port();
    let mut unit = tokio::task::block_in_place(|| Unit::start(&config(port, &upstream.url())));
    let old = unit.main_pid().expect("main pid");
    let good = std::fs::read_to_string(&unit.config).expect("read config");
    std::fs::write(
        &unit.config,
        format!("{good}\n[http.routers.broken]\nrule = \"Nope(`x`)\"\nservice = \"s\"\n"),
    )
    .expect("break config");

    let reload = tokio::task::block_in_place(|| unit.reload());
    assert!(!reload.success, "a broken configuration is refused");
    assert!(
        reload.output.contains("pylon-upgrade:") && reload.output.contains("keeps serving"),
        "it says why:\n{}",
        reload.output
    );
    assert_eq!(unit.main_pid(), Some(old));
    assert_eq!(unit.pid_file_pid(), Some(old));
    assert!(alive(old));
    let answer = common::client()
        .get(format!("http://127.0.0.1:{port}/still"))
        .send()
        .await
        .expect("old pylon answers");
    assert_eq!(answer.status(), 200);

    // Fixed again, the next upgrade goes through.
    std::fs::write(&unit.config, good).expect("restore config");
    let reload = tokio::task::block_in_place(|| unit.reload());
    assert!(reload.success, "upgrade failed:\n{}", reload.output);
    let second = unit.main_pid().expect("main pid");
    assert_ne!(second, old);

    // A systemd that ignored MAINPID= during the reload passes the old, draining pid: the script
    // goes by the pid file and upgrades the pylon that serves.
    let reload = tokio::task::block_in_place(|| unit.reload_with(old));
    assert!(reload.success, "upgrade failed:\n{}", reload.output);
    let third = unit.main_pid().expect("main pid");
    assert!(
        third != second && third != old,
        "{old} -> {second} -> {third}"
    );
    let answer = common::client()
        .get(format!("http://127.0.0.1:{port}/after"))
        .send()
        .await
        .expect("new pylon answers");
    assert_eq!(answer.status(), 200);
}

#[tokio::test]
async fn explicit_paths_override_the_runtime_directory() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("dir");
    let run = dir.path().join("run");
    std::fs::create_dir(&run).expect("run dir");
    let config = dir.path().join("pylon.toml");
    std::fs::write(
        &config,
        format!("[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n"),
    )
    .expect("write config");
    let pid_file = dir.path().join("custom.pid");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pylon"))
        .arg("--config")
        .arg(&config)
        .arg("--pid-file")
        .arg(&pid_file)
        .env("RUNTIME_DIRECTORY", &run)
        .env_remove("PYLON_PID_FILE")
        .env_remove("NOTIFY_SOCKET")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start pylon");
    let pid = child.id().to_string();
    let written = common::eventually(Duration::from_secs(20), || {
        let pid_file = pid_file.clone();
        async move { std::fs::read_to_string(pid_file).ok() }
    })
    .await;
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(written.as_deref().map(str::trim), Some(pid.as_str()));
    assert!(
        !run.join("pylon.pid").exists(),
        "the flag wins over $RUNTIME_DIRECTORY"
    );
}

/// pylon without flags and without systemd, its `$XDG_RUNTIME_DIR` set to `xdg`.
fn start_without_systemd(config: &std::path::Path, xdg: &std::path::Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_pylon"))
        .arg("--config")
        .arg(config)
        .env("XDG_RUNTIME_DIR", xdg)
        .env_remove("RUNTIME_DIRECTORY")
        .env_remove("PYLON_PID_FILE")
        .env_remove("PYLON_UPGRADE_SOCK")
        .env_remove("NOTIFY_SOCKET")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start pylon")
}

// Fails without src/run_files.rs's private directory: pylon used /tmp/pylon_upgrade.sock and
// /tmp/pylon.pid, names any local user can take first, and followed a planted symlink.
#[tokio::test]
async fn outside_systemd_the_run_files_go_to_a_private_directory() {
    let port = free_port();
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("pylon.toml");
    std::fs::write(
        &config,
        format!("[entryPoints.web]\naddress = \"127.0.0.1:{port}\"\n"),
    )
    .expect("write config");
    // Someone planted a symlink where the private directory goes: pylon refuses to start.
    let planted = dir.path().join("planted");
    std::fs::create_dir(&planted).expect("planted dir");
    let xdg = dir.path().join("xdg");
    std::fs::create_dir(&xdg).expect("xdg");
    std::os::unix::fs::symlink(&planted, xdg.join("pylon")).expect("symlink");
    let mut child = start_without_systemd(&config, &xdg);
    let exited = common::eventually(Duration::from_secs(20), || {
        let status = child.try_wait().ok().flatten();
        async move { status }
    })
    .await;
    if exited.is_none() {
        let _ = child.kill();
    }
    let out = child.wait_with_output().expect("pylon exits");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(exited.and_then(|s| s.code()), Some(2), "{stderr}");
    assert!(stderr.contains("not a directory"), "{stderr}");
    assert_eq!(std::fs::read_dir(&planted).expect("ls").count(), 0);
    // Without it, pylon makes the directory 0700 and puts its pid file there.
    std::fs::remove_file(xdg.join("pylon")).expect("unplant");
    let mut child = start_without_systemd(&config, &xdg);
    let pid_file = xdg.join("pylon").join("pylon.pid");
    let written = common::eventually(Duration::from_secs(20), || {
        let pid_file = pid_file.clone();
        async move { std::fs::read_to_string(pid_file).ok() }
    })
    .await;
    let pid = child.id().to_string();
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(written.as_deref().map(str::trim), Some(pid.as_str()));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(xdg.join("pylon"))
        .expect("private dir")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
}
