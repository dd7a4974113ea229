//! A `redis-server` of the test's own on a free loopback port (no persistence), killed when
//! dropped, and a client to write keys into it.

use super::{eventually, free_port};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Redis {
    pub port: u16,
    /// `--requirepass`, if the server was started with one.
    pub password: Option<String>,
    child: Child,
}

impl Redis {
    /// Starts one on `port`; `None` (with a note) when the binary is missing outside CI.
    pub async fn start_on(port: u16) -> Option<Redis> {
        Self::start_with(port, None).await
    }

    pub async fn start() -> Option<Redis> {
        Self::start_on(free_port()).await
    }

    /// Starts one on `port` that wants `password` (`--requirepass`) when given.
    pub async fn start_with(port: u16, password: Option<&str>) -> Option<Redis> {
        let mut command = Command::new("redis-server");
        command
            .args([
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .args(["--bind", "127.0.0.1"]);
        if let Some(p) = password {
            command.args(["--requirepass", p]);
        }
        let spawned = command.stdout(Stdio::null()).stderr(Stdio::null()).spawn();
        let child = match spawned {
            Ok(c) => c,
            Err(e) if std::env::var_os("CI").is_none() => {
                eprintln!(
                    "SKIPPED: redis-server cannot be started ({e}); scripts/setup.sh installs it"
                );
                return None;
            }
            Err(e) => panic!("redis-server is required in CI: {e}"),
        };
        let up = eventually(Duration::from_secs(10), || async move {
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .ok()
                .map(|_| ())
        })
        .await;
        assert!(up.is_some(), "redis-server did not listen on {port}");
        Some(Redis {
            port,
            password: password.map(str::to_string),
            child,
        })
    }

    /// A connection to database `db`.
    pub async fn client(&self, db: i64) -> redis::aio::MultiplexedConnection {
        let url = match &self.password {
            Some(p) => format!("redis://:{p}@127.0.0.1:{}/{db}", self.port),
            None => format!("redis://127.0.0.1:{}/{db}", self.port),
        };
        redis::Client::open(url)
            .expect("redis url")
            .get_multiplexed_async_connection()
            .await
            .expect("connect to the test redis")
    }

    /// Stops the server (the port is free again).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `SET key value` for each pair, in one MSET.
pub async fn set(conn: &mut redis::aio::MultiplexedConnection, pairs: &[(&str, &str)]) {
    let mut cmd = redis::cmd("MSET");
    for (k, v) in pairs {
        cmd.arg(*k).arg(*v);
    }
    let () = cmd.query_async(conn).await.expect("MSET");
}

/// `DEL key...`.
pub async fn del(conn: &mut redis::aio::MultiplexedConnection, keys: &[&str]) {
    let _: i64 = redis::cmd("DEL")
        .arg(keys)
        .query_async(conn)
        .await
        .expect("DEL");
}
