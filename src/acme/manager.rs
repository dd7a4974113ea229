//! The ACME background task: watches the configuration in force for the names each resolver
//! must cover, orders what is missing or due for renewal (each domain set on its own, with
//! capped backoff and the CA's `Retry-After`), stores results in acme.json and swaps them live.

use super::account;
use super::http_client::{AcmeHttp, RetryAfter};
use super::live::{self, CertificateStatus, Index, LiveCert, ResolverStatus, Status};
use super::order::{self, OrderError, OrderSpec};
use super::storage::{Storage, StoredAccount, StoredCertificate, StoredDomain};
use crate::config::acme::{AcmeResolver, Challenge};
use crate::config::{ConfigError, ConfigErrors, StaticConfig};
use crate::runtime::Store;
use crate::tls::CertPair;
use base64::Engine;
use instant_acme::Account;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
/// How often the configuration in force and the certificates' ages are looked at.
const TICK: Duration = Duration::from_secs(1);
/// The first retry after a failure; doubled each time, up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(2);
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// Waited after a rate-limit refusal that came without `Retry-After`.
const RATE_LIMIT_WAIT: Duration = Duration::from_secs(3600);
/// How long the CA gets to validate an order and to issue its certificate.
const ORDER_PATIENCE: Duration = Duration::from_secs(120);

/// One configured resolver and its account.
pub struct Resolver {
    pub name: String,
    pub acme: AcmeResolver,
    challenge: Challenge,
    storage: Arc<Mutex<Storage>>,
    account: tokio::sync::Mutex<Option<Account>>,
    retry_after: RetryAfter,
    last_error: Mutex<Option<String>>,
    account_uri: Mutex<Option<String>>,
}

/// Where one domain set stands.
#[derive(Debug, Default)]
struct NameState {
    failures: u32,
    next_attempt: Option<Instant>,
    next_attempt_wall: Option<SystemTime>,
    last_error: Option<String>,
    in_flight: bool,
}

type Key = (String, Vec<String>);

/// Every resolver, and the state of every domain set they are asked for.
pub struct Manager {
    resolvers: BTreeMap<String, Arc<Resolver>>,
    static_config: StaticConfig,
    states: Mutex<HashMap<Key, NameState>>,
    /// The domain sets last asked for, with the config version they came from.
    wanted: Mutex<(u64, super::wanted::Wanted)>,
    orders: prometheus::IntCounterVec,
}

static MANAGER: OnceLock<Arc<Manager>> = OnceLock::new();

/// The manager set up at start, when resolvers are configured.
pub fn global() -> Option<&'static Arc<Manager>> {
    MANAGER.get()
}

impl Manager {
    /// Opens every resolver's storage (refusing loose permissions or a corrupt file) and
    /// serves the certificates it holds at once. `None` without resolvers.
    pub fn prepare(s: &StaticConfig, origin: &str) -> Result<Option<Arc<Manager>>, ConfigErrors> {
        if s.certificates_resolvers.is_empty() {
            return Ok(None);
        }
        let mut storages: HashMap<PathBuf, Arc<Mutex<Storage>>> = HashMap::new();
        let mut resolvers = BTreeMap::new();
        let mut certs = Vec::new();
        let mut errors = Vec::new();
        let mut http_entrypoints = Vec::new();
        for (name, r) in &s.certificates_resolvers {
            let (Some(acme), key) = (
                &r.acme,
                format!("certificatesResolvers.{name}.acme.storage"),
            ) else {
                continue;
            };
            let challenge = match acme.challenge() {
                Ok(Some(c)) => c,
                Ok(None) => continue,
                Err(problems) => {
                    for (k, message, hint) in problems {
                        errors.push(
                            ConfigError::new(
                                origin,
                                format!("certificatesResolvers.{name}.acme.dnsChallenge.{k}"),
                                message,
                            )
                            .with_hint(hint),
                        );
                    }
                    continue;
                }
            };
            if let Challenge::Http { entry_point } = &challenge {
                http_entrypoints.push(entry_point.clone());
            }
            let path = PathBuf::from(acme.storage());
            let storage = match storages.get(&path) {
                Some(st) => st.clone(),
                None => match Storage::open(&path) {
                    Ok(st) => {
                        let st = Arc::new(Mutex::new(st));
                        storages.insert(path.clone(), st.clone());
                        st
                    }
                    Err(e) => {
                        errors.push(ConfigError::new(origin, key, e.to_string()));
                        continue;
                    }
                },
            };
            if let Ok(st) = storage.lock() {
                if let Some(data) = st.data.get(name) {
                    certs.extend(load_certificates(name, &data.certificates, st.path()));
                }
            }
            resolvers.insert(
                name.clone(),
                Arc::new(Resolver {
                    name: name.clone(),
                    acme: acme.clone(),
                    challenge,
                    storage,
                    account: tokio::sync::Mutex::new(None),
                    retry_after: RetryAfter::default(),
                    last_error: Mutex::new(None),
                    account_uri: Mutex::new(None),
                }),
            );
        }
        if !errors.is_empty() {
            return Err(ConfigErrors(errors));
        }
        let prefix = s
            .metrics
            .as_ref()
            .and_then(|m| m.prometheus.as_ref())
            .map_or("pylon", |p| p.prefix());
        let orders = prometheus::IntCounterVec::new(
            prometheus::Opts::new(
                format!("{prefix}_acme_orders_total"),
                "ACME orders, by resolver and result (success, failure).",
            ),
            &["resolver", "result"],
        )
        .map_err(|e| {
            ConfigErrors(vec![ConfigError::new(
                origin,
                "certificatesResolvers",
                e.to_string(),
            )])
        })?;
        super::challenges::global().set_http_entrypoints(http_entrypoints);
        live::global().index.store(Arc::new(Index::new(certs)));
        let manager = Arc::new(Manager {
            resolvers,
            static_config: s.clone(),
            states: Mutex::default(),
            wanted: Mutex::new((0, Default::default())),
            orders,
        });
        manager.publish_status();
        Ok(Some(manager))
    }

    /// Makes this the process's manager (once, at start).
    pub fn install(self: &Arc<Self>) {
        let _ = MANAGER.set(self.clone());
    }

    /// Runs until `shutdown` turns true.
    pub async fn run(
        self: Arc<Self>,
        store: Arc<Store>,
        mut shutdown: tokio::sync::watch::Receiver<bool>,
    ) {
        if let Some(m) = crate::metrics::global() {
            if let Err(e) = m.registry.register(Box::new(self.orders.clone())) {
                log::warn!("ACME: cannot register the orders counter: {e}");
            }
        }
        let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !*shutdown.borrow() {
            tokio::select! {
                changed = shutdown.changed() => if changed.is_err() { break },
                _ = tick.tick() => self.start_due(&store, &done_tx),
                Some((key, result)) = done_rx.recv() => self.finish(key, result),
            }
        }
    }

    /// Starts an order for every wanted domain set that has no certificate in service (or one
    /// due for renewal) and is not waiting after a failure.
    fn start_due(
        self: &Arc<Self>,
        store: &Store,
        done: &tokio::sync::mpsc::UnboundedSender<(Key, Result<LiveCert, OrderError>)>,
    ) {
        let snapshot = store.load();
        let wanted = {
            let Ok(mut w) = self.wanted.lock() else {
                return;
            };
            if w.0 != snapshot.version {
                *w = (
                    snapshot.version,
                    super::wanted::wanted(&self.static_config, &snapshot.dynamic),
                );
            }
            w.1.clone()
        };
        let now = unix_now();
        let index = live::global().index.load();
        let Ok(mut states) = self.states.lock() else {
            return;
        };
        let mut started = false;
        for (resolver_name, sets) in &wanted {
            let Some(resolver) = self.resolvers.get(resolver_name) else {
                continue;
            };
            let window = resolver.acme.certificates_duration().as_secs() as i64 / 3;
            for names in sets {
                let in_service = index
                    .certs
                    .iter()
                    .filter(|c| c.covers(names))
                    .map(|c| c.renew_at(window))
                    .max();
                if in_service.is_some_and(|renew_at| renew_at > now)
                    || covered_by_configured(&snapshot.certificates, names, now)
                {
                    continue;
                }
                let key = (resolver_name.clone(), names.clone());
                let state = states.entry(key.clone()).or_default();
                if state.in_flight || state.next_attempt.is_some_and(|t| t > Instant::now()) {
                    continue;
                }
                state.in_flight = true;
                started = true;
                let why = if in_service.is_some() {
                    "renewing"
                } else {
                    "ordering"
                };
                log::info!(
                    "ACME {resolver_name}: {why} a certificate for {}",
                    names.join(", ")
                );
                let resolver = resolver.clone();
                let done = done.clone();
                tokio::spawn(async move {
                    let result = obtain(&resolver, &key.1).await;
                    let _ = done.send((key, result));
                });
            }
        }
        drop(states);
        if started {
            self.publish_status();
        }
    }

    /// Records an order's end: the certificate goes live, or the failure is retried later.
    fn finish(&self, key: Key, result: Result<LiveCert, OrderError>) {
        let resolver = self.resolvers.get(&key.0);
        let outcome = if result.is_ok() { "success" } else { "failure" };
        self.orders.with_label_values(&[&key.0, outcome]).inc();
        if let Ok(mut states) = self.states.lock() {
            let state = states.entry(key.clone()).or_default();
            state.in_flight = false;
            match result {
                Ok(cert) => {
                    log::info!(
                        "ACME {}: certificate for {} issued, valid until {}",
                        key.0,
                        key.1.join(", "),
                        crate::access_log::time::rfc3339(
                            UNIX_EPOCH + Duration::from_secs(cert.not_after.max(0) as u64)
                        )
                    );
                    *state = NameState::default();
                    let live = live::global();
                    let mut certs: Vec<LiveCert> = live.index.load().certs.clone();
                    certs.retain(|c| !(c.resolver == cert.resolver && c.domains == cert.domains));
                    certs.push(cert);
                    live.index.store(Arc::new(Index::new(certs)));
                }
                Err(e) => {
                    state.failures += 1;
                    let backoff = FIRST_BACKOFF
                        .saturating_mul(1 << (state.failures - 1).min(20))
                        .min(MAX_BACKOFF);
                    let asked = resolver
                        .and_then(|r| r.retry_after.lock().ok().and_then(|mut s| s.take()))
                        .and_then(|t| t.duration_since(SystemTime::now()).ok());
                    let wait = match asked {
                        Some(asked) => asked.max(backoff),
                        None if e.rate_limited => RATE_LIMIT_WAIT.max(backoff),
                        None => backoff,
                    };
                    log::error!(
                        "ACME {}: cannot get a certificate for {}: {e}; next attempt in {}s",
                        key.0,
                        key.1.join(", "),
                        wait.as_secs()
                    );
                    state.next_attempt = Some(Instant::now() + wait);
                    state.next_attempt_wall = Some(SystemTime::now() + wait);
                    state.last_error = Some(e.message);
                }
            }
        }
        self.publish_status();
    }

    /// Refreshes what the API shows.
    fn publish_status(&self) {
        let index = live::global().index.load();
        let resolvers = self
            .resolvers
            .values()
            .map(|r| ResolverStatus {
                name: r.name.clone(),
                ca_server: r.acme.ca_server().to_string(),
                challenge: match &r.challenge {
                    Challenge::Http { entry_point } => format!("httpChallenge ({entry_point})"),
                    Challenge::TlsAlpn => "tlsChallenge".to_string(),
                    Challenge::Dns(_) => "dnsChallenge (rfc2136)".to_string(),
                },
                storage: r.acme.storage().to_string(),
                account: r.account_uri.lock().ok().and_then(|a| a.clone()),
                last_error: r.last_error.lock().ok().and_then(|e| e.clone()),
            })
            .collect();
        let mut certificates: Vec<CertificateStatus> = index
            .certs
            .iter()
            .map(|c| {
                let info = crate::tls::cert_info(&c.pair.cert);
                CertificateStatus {
                    resolver: c.resolver.clone(),
                    domains: c.domains.clone(),
                    not_after: Some(rfc3339(c.not_after)),
                    serial: Some(info.serial),
                    ..Default::default()
                }
            })
            .collect();
        if let Ok(states) = self.states.lock() {
            for ((resolver, names), state) in states.iter() {
                let existing = certificates
                    .iter_mut()
                    .find(|c| &c.resolver == resolver && &c.domains == names);
                let entry = match existing {
                    Some(e) => e,
                    None => {
                        certificates.push(CertificateStatus {
                            resolver: resolver.clone(),
                            domains: names.clone(),
                            ..Default::default()
                        });
                        let last = certificates.len() - 1;
                        &mut certificates[last]
                    }
                };
                entry.last_error = state.last_error.clone();
                entry.next_attempt = state
                    .next_attempt_wall
                    .map(crate::access_log::time::rfc3339);
            }
        }
        live::global().status.store(Arc::new(Status {
            resolvers,
            certificates,
        }));
    }
}

/// Whether a `tls.certificates` certificate still valid covers every name.
fn covered_by_configured(configured: &[crate::tls::CertInfo], names: &[String], now: i64) -> bool {
    names.iter().all(|n| {
        configured.iter().any(|c| {
            let sans: Vec<String> = c.sans.split(',').map(str::to_ascii_lowercase).collect();
            c.not_after > now && live::covers_name(&sans, n)
        })
    })
}

/// Gets the resolver's account (registering it the first time), then orders `names`.
async fn obtain(resolver: &Resolver, names: &[String]) -> Result<LiveCert, OrderError> {
    let account = resolver_account(resolver).await.map_err(|message| {
        if let Ok(mut e) = resolver.last_error.lock() {
            *e = Some(message.clone());
        }
        OrderError {
            message,
            rate_limited: false,
        }
    })?;
    let spec = OrderSpec {
        challenge: &resolver.challenge,
        key_type: resolver.acme.key_type(),
        profile: resolver.acme.profile.as_deref(),
        patience: ORDER_PATIENCE,
    };
    let issued = order::order(&account, names, &spec).await?;
    let stored = StoredCertificate {
        domain: StoredDomain {
            main: names[0].clone(),
            sans: names[1..].to_vec(),
        },
        certificate: B64.encode(&issued.chain_pem),
        key: B64.encode(&issued.key_pem),
        store: "default".to_string(),
    };
    let cert = decode(&resolver.name, &stored).map_err(|message| OrderError {
        message: format!("the CA's certificate cannot be used: {message}"),
        rate_limited: false,
    })?;
    let storage = resolver.storage.clone();
    let name = resolver.name.clone();
    let saved = tokio::task::spawn_blocking(move || -> Result<(), String> {
        let mut st = storage.lock().map_err(|e| e.to_string())?;
        let list = &mut st.resolver(&name).certificates;
        list.retain(|c| c.domain.names() != stored.domain.names());
        list.push(stored);
        st.save().map_err(|e| e.to_string())
    })
    .await;
    match saved {
        Ok(Ok(())) => {}
        Ok(Err(e)) => log::error!(
            "ACME {}: {e} (the certificate is served but not kept)",
            resolver.name
        ),
        Err(e) => log::error!("ACME {}: cannot store the certificate: {e}", resolver.name),
    }
    Ok(cert)
}

/// The account, restored or registered once; the registration is written to the storage.
async fn resolver_account(resolver: &Resolver) -> Result<Account, String> {
    let mut slot = resolver.account.lock().await;
    if let Some(account) = slot.as_ref() {
        return Ok(account.clone());
    }
    let mut http = AcmeHttp::new(&resolver.acme, Path::new("."))?;
    http.retry_after = resolver.retry_after.clone();
    let stored: Option<StoredAccount> = resolver
        .storage
        .lock()
        .ok()
        .and_then(|st| st.data.get(&resolver.name).and_then(|d| d.account.clone()));
    let (account, new_record) =
        account::load_or_register(&resolver.acme, http, stored.as_ref()).await?;
    if let Some(record) = new_record {
        let mut st = resolver.storage.lock().map_err(|e| e.to_string())?;
        st.resolver(&resolver.name).account = Some(record);
        st.save().map_err(|e| e.to_string())?;
    }
    if let Ok(mut uri) = resolver.account_uri.lock() {
        *uri = Some(account.id().to_string());
    }
    if let Ok(mut e) = resolver.last_error.lock() {
        *e = None;
    }
    *slot = Some(account.clone());
    Ok(account)
}

/// The usable certificates of one resolver's stored list (a broken entry is logged and kept
/// in the file untouched).
fn load_certificates(resolver: &str, stored: &[StoredCertificate], path: &Path) -> Vec<LiveCert> {
    stored
        .iter()
        .filter_map(|c| match decode(resolver, c) {
            Ok(cert) => Some(cert),
            Err(e) => {
                log::error!(
                    "ACME {resolver}: certificate for {} in `{}` cannot be used: {e}",
                    c.domain.names().join(", "),
                    path.display()
                );
                None
            }
        })
        .collect()
}

/// A stored certificate as served: base64 PEM chain and key.
fn decode(resolver: &str, c: &StoredCertificate) -> Result<LiveCert, String> {
    let chain_pem = B64
        .decode(c.certificate.trim())
        .map_err(|e| format!("certificate: {e}"))?;
    let key_pem = B64.decode(c.key.trim()).map_err(|e| format!("key: {e}"))?;
    let mut chain =
        openssl::x509::X509::stack_from_pem(&chain_pem).map_err(|e| format!("certificate: {e}"))?;
    if chain.is_empty() {
        return Err("no certificate in the PEM".into());
    }
    let leaf = chain.remove(0);
    let key =
        openssl::pkey::PKey::private_key_from_pem(&key_pem).map_err(|e| format!("key: {e}"))?;
    if !leaf.public_key().is_ok_and(|pk| pk.public_eq(&key)) {
        return Err("the key does not belong to the certificate".into());
    }
    let not_before = unix(leaf.not_before());
    let not_after = unix(leaf.not_after());
    Ok(LiveCert {
        resolver: resolver.to_string(),
        domains: c
            .domain
            .names()
            .iter()
            .map(|n| n.to_ascii_lowercase())
            .collect(),
        pair: Arc::new(CertPair::new(leaf, chain, key)),
        not_before,
        not_after,
    })
}

fn unix(t: &openssl::asn1::Asn1TimeRef) -> i64 {
    openssl::asn1::Asn1Time::from_unix(0)
        .and_then(|epoch| epoch.diff(t))
        .map_or(0, |d| i64::from(d.days) * 86_400 + i64::from(d.secs))
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn rfc3339(unix: i64) -> String {
    crate::access_log::time::rfc3339(UNIX_EPOCH + Duration::from_secs(unix.max(0) as u64))
}

/// The manager as a Pingora background service, reading the configuration in force from `store`.
pub struct AcmeService {
    pub manager: Arc<Manager>,
    pub store: Arc<Store>,
}

#[async_trait::async_trait]
impl pingora::services::background::BackgroundService for AcmeService {
    async fn start(&self, shutdown: pingora::server::ShutdownWatch) {
        self.manager.clone().run(self.store.clone(), shutdown).await;
    }
}
