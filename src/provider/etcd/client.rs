//! Talking to etcd: connect to the first member that answers (in `endpoints` order;
//! credentials, TLS, bounded), read every key under `<rootKey>/` with one range get (at most
//! `max_keys`, with the revision read), and open a watch of that prefix from the next revision,
//! so no change between the read and the watch is missed.
//!
//! One member at a time, rather than the client's balancer over all of them: a call the
//! balancer sends to a member that is down fails instead of going to one that is up, so one
//! member down among three would fail reads at random.

use super::tls::TlsMaterial;
use super::EtcdSettings;
use etcd_client::{Client, ConnectOptions, GetOptions, WatchOptions, WatchStream};
use std::collections::BTreeMap;
use std::time::Duration;

/// The longest connecting (and authenticating) or one read may take.
pub const TIMEOUT: Duration = Duration::from_secs(5);
/// HTTP/2 pings on the connection: a member that vanished without closing it (a cut network)
/// is noticed within about interval + timeout, even while only the watch is open.
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(10);
const KEEP_ALIVE_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest response accepted (gRPC's default, 4 MiB, is too small for many keys).
const MAX_MESSAGE: usize = 64 * 1024 * 1024;

/// Why a step failed, naming the member; `Auth` is the operator's to fix (credentials), the
/// rest transient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Auth(String),
    Other(String),
}

impl Failure {
    fn text(&self) -> &str {
        match self {
            Failure::Auth(m) | Failure::Other(m) => m,
        }
    }

    /// The same failure, said of `member`.
    pub fn at(self, member: &str) -> Failure {
        match self {
            Failure::Auth(m) => Failure::Auth(format!("{member}: {m}")),
            Failure::Other(m) => Failure::Other(format!("{member}: {m}")),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.text())?;
        if let Failure::Auth(_) = self {
            f.write_str(
                ": check providers.etcd.username and password (and that the user's role may read the keys under rootKey)",
            )?;
        }
        Ok(())
    }
}

/// A member answering, and what it read.
pub struct Session {
    /// The member's URL.
    pub member: String,
    pub client: Client,
    pub keys: BTreeMap<String, String>,
    /// The store's revision of that read.
    pub revision: i64,
}

/// Reads the keys from the first member that answers; the error names every member tried (an
/// authentication refusal by any of them makes it `Auth`).
pub async fn open(s: &EtcdSettings) -> Result<Session, Failure> {
    let mut failures = Vec::new();
    for member in &s.endpoints {
        let read = async {
            let client = connect(s, member).await?;
            let (keys, revision) = read_keys(&client, &s.root_key, s.max_keys).await?;
            Ok::<_, Failure>(Session {
                member: member.clone(),
                client,
                keys,
                revision,
            })
        };
        match read.await {
            Ok(session) => return Ok(session),
            Err(f) => failures.push(f.at(member)),
        }
    }
    let text = failures
        .iter()
        .map(Failure::text)
        .collect::<Vec<_>>()
        .join("; ");
    match failures.iter().any(|f| matches!(f, Failure::Auth(_))) {
        true => Err(Failure::Auth(text)),
        false => Err(Failure::Other(text)),
    }
}

/// An error of the client, sorted: etcd's authentication refusals are `Auth`.
fn failure(what: &str, e: etcd_client::Error) -> Failure {
    if let etcd_client::Error::GRpcStatus(status) = &e {
        let message = status.message();
        let auth = matches!(
            status.code(),
            tonic::Code::Unauthenticated | tonic::Code::PermissionDenied
        ) || message.contains("authentication failed")
            || message.contains("user name is empty")
            || message.contains("permission denied");
        if auth {
            return Failure::Auth(format!("authentication failed ({message})"));
        }
        return Failure::Other(format!(
            "{what}: {message} ({:?}){}",
            status.code(),
            causes(status)
        ));
    }
    Failure::Other(format!("{what}: {e}{}", causes(&e)))
}

/// `: cause: its cause ...` of `e` (a TLS handshake refused is only said there), at most 4
/// deep, repeats left out.
fn causes(e: &dyn std::error::Error) -> String {
    let mut said: Vec<String> = vec![e.to_string()];
    let mut text = String::new();
    let mut next = e.source();
    while let Some(cause) = next.filter(|_| said.len() <= 4) {
        let shown = cause.to_string();
        if !said.iter().any(|s| s.contains(&shown)) {
            text.push_str(": ");
            text.push_str(&shown);
        }
        said.push(shown);
        next = cause.source();
    }
    text
}

/// A client of `member` (authenticated when credentials are set).
async fn connect(s: &EtcdSettings, member: &str) -> Result<Client, Failure> {
    let mut options = ConnectOptions::new()
        .with_connect_timeout(TIMEOUT)
        .with_keep_alive(KEEP_ALIVE_INTERVAL, KEEP_ALIVE_TIMEOUT)
        // Pings only while the watch is open: etcd refuses pings without a stream
        // (`PermitWithoutStream` is off) and closes connections that send them.
        .with_keep_alive_while_idle(false)
        .with_auto_token_refresh(true)
        // A member cut off from the cluster's leader ends the watch (then another is tried)
        // rather than staying silent.
        .with_require_leader(true);
    if let (Some(user), Some(password)) = (&s.username, &s.password) {
        options = options.with_user(user.clone(), password.clone());
    }
    if member.starts_with("https://") {
        options = options.with_tls(TlsMaterial::options_of(s.tls.as_ref()));
    }
    let connect = Client::connect([member], Some(options));
    match tokio::time::timeout(TIMEOUT * 2, connect).await {
        Ok(result) => result.map_err(|e| failure("connecting", e)),
        Err(_) => Err(Failure::Other(format!(
            "no answer within {:?}",
            TIMEOUT * 2
        ))),
    }
}

/// Every key under `<root>/` and its value, and the store's revision of that read. More than
/// `max_keys` keys is an error (nothing of the read applies).
async fn read_keys(
    client: &Client,
    root: &str,
    max_keys: usize,
) -> Result<(BTreeMap<String, String>, i64), Failure> {
    let prefix = format!("{root}/");
    let limit = i64::try_from(max_keys)
        .unwrap_or(i64::MAX)
        .saturating_add(1);
    let options = GetOptions::new().with_prefix().with_limit(limit);
    let mut kv = client.kv_client().max_decoding_message_size(MAX_MESSAGE);
    let response = match tokio::time::timeout(TIMEOUT, kv.get(prefix.as_str(), Some(options))).await
    {
        Ok(result) => result.map_err(|e| failure("reading the keys", e))?,
        Err(_) => {
            return Err(Failure::Other(format!(
                "reading the keys: no answer within {TIMEOUT:?}"
            )))
        }
    };
    if response.kvs().len() > max_keys || response.more() {
        return Err(Failure::Other(format!(
            "more than {max_keys} keys under `{prefix}`: none of this read is applied; remove keys or use another rootKey"
        )));
    }
    let revision = response.header().map_or(0, |h| h.revision());
    let mut pairs = BTreeMap::new();
    for pair in response.kvs() {
        if let Some((key, value)) = text(pair.key(), pair.value()) {
            pairs.insert(key, value);
        }
    }
    Ok((pairs, revision))
}

/// A watch of every key under `<root>/` from the revision after `session`'s read: every change
/// made after that read arrives, none is missed (nor seen twice).
pub async fn watch_after(session: &Session, root: &str) -> Result<WatchStream, Failure> {
    let options = WatchOptions::new()
        .with_prefix()
        .with_start_revision(session.revision + 1);
    let mut watch = session
        .client
        .watch_client()
        .max_decoding_message_size(MAX_MESSAGE);
    let opened = watch.watch(format!("{root}/"), Some(options));
    let opened = match tokio::time::timeout(TIMEOUT, opened).await {
        Ok(result) => result.map_err(|e| failure("watching the keys", e)),
        Err(_) => Err(Failure::Other(format!(
            "watching the keys: no answer within {TIMEOUT:?}"
        ))),
    };
    opened.map_err(|f| f.at(&session.member))
}

/// A key and its value as text; a key that is not UTF-8 is skipped (Traefik's keys are
/// text), a value that is not is read lossily.
pub fn text(key: &[u8], value: &[u8]) -> Option<(String, String)> {
    match std::str::from_utf8(key) {
        Ok(key) => Some((key.to_string(), String::from_utf8_lossy(value).into_owned())),
        Err(e) => {
            log::debug!("etcd provider: skipping a key that is not UTF-8: {e}");
            None
        }
    }
}
