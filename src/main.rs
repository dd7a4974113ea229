//! The `pylon` command line: run (default), check, healthcheck, version.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(
    name = "pylon",
    version,
    about = "An HTTP edge gateway on Pingora, configured like Traefik v3"
)]
struct Cli {
    /// The static configuration file.
    #[arg(
        long,
        short = 'c',
        env = "PYLON_CONFIG",
        default_value = "conf/pylon.toml",
        global = true
    )]
    config: PathBuf,

    /// Take the listening sockets over from a running pylon (zero-downtime binary upgrade).
    #[arg(long, short = 'u')]
    upgrade: bool,

    /// Run in the background.
    #[arg(long, short = 'd')]
    daemon: bool,

    /// The Unix socket the listening sockets pass through on an upgrade [default:
    /// $RUNTIME_DIRECTORY/upgrade.sock, else /tmp/pylon_upgrade.sock].
    #[arg(long, env = "PYLON_UPGRADE_SOCK", global = true)]
    upgrade_sock: Option<PathBuf>,

    /// Written with pylon's pid once it serves [default: $RUNTIME_DIRECTORY/pylon.pid, else
    /// /tmp/pylon.pid].
    #[arg(long, env = "PYLON_PID_FILE", global = true)]
    pid_file: Option<PathBuf>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Start the gateway (the default).
    Run,
    /// Validate the static and file-provider configuration; list every error.
    Check,
    /// Exit 0 when the running pylon's /ping answers 200 (for container health checks).
    Healthcheck {
        /// The ping URL; by default derived from the config's ping entry point.
        #[arg(long)]
        url: Option<String>,
    },
    /// Print the version.
    Version,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command.as_ref().unwrap_or(&Command::Run) {
        Command::Version => {
            println!("pylon {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Command::Check => match pylon::app::prepare(&cli.config) {
            Ok(prepared) => {
                println!(
                    "{}: configuration OK ({})",
                    cli.config.display(),
                    prepared.summary()
                );
                ExitCode::SUCCESS
            }
            Err(errors) => {
                eprintln!("{errors}");
                eprintln!("{}: {} error(s)", cli.config.display(), errors.len());
                ExitCode::from(2)
            }
        },
        Command::Healthcheck { url } => match healthcheck(&cli.config, url.as_deref()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("healthcheck failed: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::Run => run(&cli),
    }
}

fn run(cli: &Cli) -> ExitCode {
    let prepared = match pylon::app::prepare(&cli.config) {
        Ok(p) => p,
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!(
                "pylon: not starting: {} configuration error(s) in {}",
                errors.len(),
                cli.config.display()
            );
            return ExitCode::from(2);
        }
    };
    pylon::app::init_logging(&prepared.static_config);
    if let Err(errors) = prepared.start_observability() {
        eprintln!("{errors}");
        eprintln!("pylon: not starting: cannot set up metrics or the access log");
        return ExitCode::from(2);
    }
    let plan = prepared.into_plan(pylon::app::StartOptions {
        upgrade: cli.upgrade,
        daemon: cli.daemon,
        upgrade_sock: pylon::run_files::upgrade_sock(cli.upgrade_sock.clone()),
        pid_file: pylon::run_files::pid_file(cli.pid_file.clone()),
    });
    match pylon::server::run(plan) {
        Ok(never) => match never {},
        Err(e) => {
            eprintln!("pylon: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Sends `GET /ping` over loopback to the ping entry point and expects 200.
fn healthcheck(config: &std::path::Path, url: Option<&str>) -> Result<()> {
    use std::io::{Read, Write};
    let addr = match url {
        Some(u) => u
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or_default()
            .to_string(),
        None => pylon::app::ping_address(config).context("cannot find the ping entry point")?,
    };
    let mut stream =
        std::net::TcpStream::connect(&addr).with_context(|| format!("connect to {addr}"))?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(3)))?;
    write!(
        stream,
        "GET /ping HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response.split_whitespace().nth(1).unwrap_or("");
    anyhow::ensure!(
        status == "200",
        "ping answered `{}`",
        response.lines().next().unwrap_or("")
    );
    Ok(())
}
