//! Writing lines off the request path: a bounded queue to one writer thread. A full queue drops
//! the line and counts it (a slow disk never slows requests); write errors (disk full) are
//! counted and logged once per burst, and proxying goes on. `reopen()` (SIGUSR1) makes the
//! thread open the file again, for logrotate.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::Duration;

/// The sending side, shared by every request.
pub struct Writer {
    tx: SyncSender<String>,
    reopen: Arc<AtomicBool>,
    /// Lines dropped because the queue was full.
    pub dropped: Arc<AtomicU64>,
    /// Lines that could not be written (I/O errors).
    pub failed: Arc<AtomicU64>,
    /// Lines queued, and lines the writer has handled (written and flushed, or failed): equal
    /// when nothing is pending (see [`Writer::wait_written`]).
    queued: AtomicU64,
    handled: Arc<AtomicU64>,
}

enum Sink {
    Stdout,
    File(String, BufWriter<File>),
}

fn open(path: &str) -> std::io::Result<BufWriter<File>> {
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    Ok(BufWriter::with_capacity(64 * 1024, file))
}

impl Writer {
    /// Starts the writer thread for `path` (stdout when `None`), with a queue of `queue` lines.
    pub fn start(path: Option<String>, queue: usize) -> Result<Writer, String> {
        let mut sink = match path.filter(|p| !p.is_empty()) {
            None => Sink::Stdout,
            Some(p) => {
                let file =
                    open(&p).map_err(|e| format!("accessLog.filePath: cannot open {p}: {e}"))?;
                Sink::File(p, file)
            }
        };
        let (tx, rx) = sync_channel::<String>(queue);
        let reopen = Arc::new(AtomicBool::new(false));
        let (dropped, failed) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let (flag, failures) = (reopen.clone(), failed.clone());
        let handled = Arc::new(AtomicU64::new(0));
        let done = handled.clone();
        std::thread::Builder::new()
            .name("access-log".into())
            .spawn(move || {
                let mut failing = false;
                // An outage is logged once: at its first failed write or flush; it ends when a
                // flush succeeds (the lines reached the file).
                let mut report = |result: std::io::Result<()>, flushed: bool| match result {
                    Ok(()) if flushed => failing = false,
                    Ok(()) => {}
                    Err(e) => {
                        failures.fetch_add(1, Ordering::Relaxed);
                        if !failing {
                            log::error!("access log: cannot write: {e}; requests are still served");
                            failing = true;
                        }
                    }
                };
                loop {
                    match rx.recv_timeout(Duration::from_millis(200)) {
                        Ok(line) => {
                            // Write the whole burst, then flush once.
                            report(sink.write(&line), false);
                            let mut lines = 1;
                            while let Ok(more) = rx.try_recv() {
                                report(sink.write(&more), false);
                                lines += 1;
                            }
                            report(sink.flush(), true);
                            done.fetch_add(lines, Ordering::Release);
                        }
                        Err(RecvTimeoutError::Timeout) => {}
                        Err(RecvTimeoutError::Disconnected) => {
                            report(sink.flush(), true);
                            break;
                        }
                    }
                    if flag.swap(false, Ordering::Relaxed) {
                        sink.reopen();
                    }
                }
            })
            .map_err(|e| format!("accessLog: cannot start the writer thread: {e}"))?;
        Ok(Writer {
            tx,
            reopen,
            dropped,
            failed,
            queued: AtomicU64::new(0),
            handled,
        })
    }

    /// Queues a line; never blocks.
    pub fn send(&self, line: String) {
        match self.tx.try_send(line) {
            Ok(()) => {
                self.queued.fetch_add(1, Ordering::Release);
            }
            Err(TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Disconnected(_)) => {}
        }
    }

    /// Waits (at most `timeout`) until every queued line has been written: before the process
    /// exits, so the last requests' lines are not lost.
    pub fn wait_written(&self, timeout: Duration) {
        let deadline = std::time::Instant::now() + timeout;
        while self.handled.load(Ordering::Acquire) < self.queued.load(Ordering::Acquire)
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Asks the writer to open its file again (after logrotate moved it).
    pub fn reopen(&self) {
        self.reopen.store(true, Ordering::Relaxed);
    }
}

impl Sink {
    fn write(&mut self, line: &str) -> std::io::Result<()> {
        match self {
            Sink::Stdout => std::io::stdout().lock().write_all(line.as_bytes()),
            Sink::File(_, w) => w.write_all(line.as_bytes()),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Stdout => std::io::stdout().lock().flush(),
            Sink::File(_, w) => w.flush(),
        }
    }

    /// Opens the file again (logrotate moved the old one away).
    fn reopen(&mut self) {
        if let Sink::File(path, w) = self {
            let _ = w.flush();
            match open(path) {
                Ok(fresh) => *w = fresh,
                Err(e) => log::error!("access log: cannot reopen {path}: {e}"),
            }
        }
    }
}
