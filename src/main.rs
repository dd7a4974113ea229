//! The `pylon` command line: run (default), check, healthcheck, version.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use pylon::config::StaticSource;
use std::path::PathBuf;
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const STATIC_KEYS_HELP: &str = "\
Static configuration keys can also be set outside the file (a later source wins):
  1. the file: --config, PYLON_CONFIG, else the first of pylon.* then traefik.* (.toml, .yaml,
     .yml) found in /etc/pylon/, /etc/traefik/, $XDG_CONFIG_HOME/, $HOME/.config/, the working
     directory, then conf/pylon.toml (else none is needed); .yml/.yaml files are YAML
  2. environment: PYLON_<PATH> or TRAEFIK_<PATH>, segments joined by `_`, any case
       PYLON_ENTRYPOINTS_WEB_ADDRESS=:8000   PYLON_LOG_LEVEL=debug   PYLON_API_INSECURE=true
     PYLON_ wins over TRAEFIK_; <NAME>_FILE=/run/secrets/x reads the value from a file;
     PYLON_CONFIG, PYLON_THREADS and the test/benchmark PYLON_ names in the README are not keys
  3. flags: --<path>[=value], keys separated by `.`, any case; a bare flag is `true`
       --entryPoints.web.address=:8000   --providers.docker.exposedByDefault=false   --api.insecure
Lists are comma-separated; an unknown key is an error naming the variable or flag.";

#[derive(Parser, Debug)]
#[command(
    name = "pylon",
    version,
    about = "An HTTP edge gateway on Pingora, configured like Traefik v3",
    after_help = STATIC_KEYS_HELP
)]
struct Cli {
    /// The static configuration file, TOML or YAML by its extension [default: the first
    /// pylon.* or traefik.* found in Traefik's places, see below].
    #[arg(
        long,
        short = 'c',
        env = "PYLON_CONFIG",
        global = true,
        visible_alias = "configFile"
    )]
    config: Option<PathBuf>,

    /// Take the listening sockets over from a running pylon (zero-downtime binary upgrade).
    #[arg(long, short = 'u')]
    upgrade: bool,

    /// Run in the background.
    #[arg(long, short = 'd')]
    daemon: bool,

    /// The Unix socket the listening sockets pass through on an upgrade [default:
    /// $RUNTIME_DIRECTORY/upgrade.sock, else $XDG_RUNTIME_DIR/pylon/ or /tmp/pylon-<uid>/ (0700)].
    #[arg(long, env = "PYLON_UPGRADE_SOCK", global = true)]
    upgrade_sock: Option<PathBuf>,

    /// Written with pylon's pid once it serves [default: $RUNTIME_DIRECTORY/pylon.pid, else in
    /// the same private directory as the upgrade socket].
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
    let mut args = std::env::args_os();
    let program = args.next().unwrap_or_else(|| "pylon".into());
    let (flags, rest) = pylon::config::overlay::flags::split(args);
    let cli = Cli::parse_from(std::iter::once(program).chain(rest));
    if let Some(Command::Version) = cli.command {
        println!("pylon {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    let source = match static_source(&cli, flags) {
        Ok(s) => s,
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!("pylon: {} error(s) in the environment", errors.len());
            return ExitCode::from(2);
        }
    };
    match cli.command.as_ref().unwrap_or(&Command::Run) {
        Command::Version => ExitCode::SUCCESS,
        Command::Check => match pylon::app::prepare(&source) {
            Ok(prepared) => {
                println!(
                    "{}: configuration OK ({})",
                    source.origin(),
                    prepared.summary()
                );
                ExitCode::SUCCESS
            }
            Err(errors) => {
                eprintln!("{errors}");
                eprintln!("{}: {} error(s)", source.origin(), errors.len());
                ExitCode::from(2)
            }
        },
        Command::Healthcheck { url } => match healthcheck(&source, url.as_deref()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("healthcheck failed: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::Run => run(&cli, &source),
    }
}

/// The static file, then the environment's settings, then the flags'.
fn static_source(
    cli: &Cli,
    flags: Vec<pylon::config::overlay::Setting>,
) -> Result<StaticSource, pylon::config::ConfigErrors> {
    let mut settings = pylon::config::overlay::env::from_process()?;
    settings.extend(flags);
    Ok(StaticSource {
        explicit: cli.config.is_some(),
        path: cli
            .config
            .clone()
            .or_else(pylon::config::default_file::find)
            .unwrap_or_else(|| PathBuf::from(pylon::config::default_file::FALLBACK)),
        settings,
        pruned: Vec::new(),
    })
}

fn run(cli: &Cli, source: &StaticSource) -> ExitCode {
    let prepared = match pylon::app::prepare(source) {
        Ok(p) => p,
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!(
                "pylon: not starting: {} configuration error(s) in {}",
                errors.len(),
                source.origin()
            );
            return ExitCode::from(2);
        }
    };
    pylon::logging::init(&prepared.static_config);
    if source.has_file() {
        log::info!("configuration loaded from file: {}", source.path.display());
    } else {
        log::info!(
            "no configuration file found (none named, none in the default places): the environment and flags configure pylon"
        );
    }
    if let Err(errors) = prepared.start_observability() {
        eprintln!("{errors}");
        eprintln!("pylon: not starting: cannot set up metrics or the access log");
        return ExitCode::from(2);
    }
    let defaults_used = cli.upgrade_sock.is_none() || cli.pid_file.is_none();
    if defaults_used && pylon::run_files::runtime_directory().is_none() {
        let dir = pylon::run_files::private_directory();
        if let Err(e) = pylon::run_files::ensure_private_dir(&dir) {
            eprintln!(
                "pylon: not starting: the directory for the upgrade socket and pid file: {e}"
            );
            eprintln!("  hint: remove it, or set --upgrade-sock and --pid-file (PYLON_UPGRADE_SOCK, PYLON_PID_FILE)");
            return ExitCode::from(2);
        }
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
fn healthcheck(config: &StaticSource, url: Option<&str>) -> Result<()> {
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
