//! One ACME order for a set of names: answer each authorization's challenge, finalize with a
//! CSR of a fresh key, download the chain. The challenge answers (served ones, or DNS-01 TXT
//! records) are removed whatever happens.

use super::challenges::{self, Challenges};
use super::{dns, keys};
use crate::config::acme::{Challenge, KeyType};
use crate::config::dns_challenge::DnsSettings;
use instant_acme::{
    Account, AuthorizationStatus, ChallengeType, Identifier, NewOrder, Order, OrderStatus,
    RetryPolicy,
};
use std::time::Duration;

/// A certificate the CA issued, with its key.
pub struct Issued {
    /// The PEM chain, leaf first.
    pub chain_pem: String,
    pub key_pem: String,
}

/// Why an order failed; `problem` is the CA's problem document when it sent one.
#[derive(Debug)]
pub struct OrderError {
    pub message: String,
    /// The CA asked to wait (rate limit).
    pub rate_limited: bool,
}

impl std::fmt::Display for OrderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<instant_acme::Error> for OrderError {
    fn from(e: instant_acme::Error) -> OrderError {
        let rate_limited = matches!(&e, instant_acme::Error::Api(p)
            if p.r#type.as_deref() == Some("urn:ietf:params:acme:error:rateLimited"));
        let message = match &e {
            instant_acme::Error::Api(p) => {
                let subs: Vec<String> = p
                    .subproblems
                    .iter()
                    .map(|s| {
                        format!(
                            "{}: {}",
                            s.identifier
                                .as_ref()
                                .map(|i| format!("{i:?}"))
                                .unwrap_or_default(),
                            s.detail.as_deref().unwrap_or_default()
                        )
                    })
                    .collect();
                format!(
                    "the CA refused: {} ({}){}",
                    p.detail.as_deref().unwrap_or("no detail"),
                    p.r#type.as_deref().unwrap_or("no type"),
                    if subs.is_empty() {
                        String::new()
                    } else {
                        format!("; {}", subs.join("; "))
                    }
                )
            }
            other => other.to_string(),
        };
        OrderError {
            message,
            rate_limited,
        }
    }
}

fn failed(message: impl Into<String>) -> OrderError {
    OrderError {
        message: message.into(),
        rate_limited: false,
    }
}

/// What an order needs besides the names.
pub struct OrderSpec<'a> {
    pub challenge: &'a Challenge,
    pub key_type: KeyType,
    pub profile: Option<&'a str>,
    /// How long the CA gets to validate and to issue.
    pub patience: Duration,
}

/// Answers removed when the order ends, however it ends.
struct Answers {
    tokens: Vec<String>,
    names: Vec<String>,
}

impl Drop for Answers {
    fn drop(&mut self) {
        let c = challenges::global();
        for t in &self.tokens {
            c.remove_http(t);
        }
        for n in &self.names {
            c.remove_tls_alpn(n);
        }
    }
}

/// HTTP-01 or TLS-ALPN-01: the answers are served while the CA validates, removed afterwards.
async fn validate_served(
    order: &mut Order,
    challenge: &Challenge,
    retries: &RetryPolicy,
) -> Result<(), OrderError> {
    let mut answers = Answers {
        tokens: Vec::new(),
        names: Vec::new(),
    };
    let c: &Challenges = challenges::global();
    let kind = match challenge {
        Challenge::Http { .. } => ChallengeType::Http01,
        _ => ChallengeType::TlsAlpn01,
    };
    let mut authorizations = order.authorizations();
    while let Some(authz) = authorizations.next().await {
        let mut authz = authz?;
        match authz.status {
            AuthorizationStatus::Pending => {}
            AuthorizationStatus::Valid => continue,
            other => return Err(failed(format!("authorization is {other:?}"))),
        }
        let mut challenge = authz
            .challenge(kind.clone())
            .ok_or_else(|| failed(format!("the CA offers no {kind:?} challenge")))?;
        let key_auth = challenge.key_authorization();
        match kind {
            ChallengeType::Http01 => {
                c.add_http(&challenge.token, key_auth.as_str());
                answers.tokens.push(challenge.token.clone());
            }
            _ => {
                let name = challenge.identifier().to_string();
                let cert = super::tls_alpn::validation_cert(&name, key_auth.digest().as_ref())
                    .map_err(|e| failed(format!("cannot make the TLS-ALPN-01 certificate: {e}")))?;
                c.add_tls_alpn(&name, std::sync::Arc::new(cert));
                answers.names.push(name);
            }
        }
        challenge.set_ready().await?;
    }
    ready(order, retries).await
}

/// DNS-01: every TXT value published and visible before the CA is told; the caller deletes
/// what `published` holds, whatever happens.
async fn validate_dns01(
    order: &mut Order,
    settings: &DnsSettings,
    published: &mut Vec<dns::Published>,
    retries: &RetryPolicy,
) -> Result<(), OrderError> {
    let mut authorizations = order.authorizations();
    while let Some(authz) = authorizations.next().await {
        let mut authz = authz?;
        match authz.status {
            AuthorizationStatus::Pending => {}
            AuthorizationStatus::Valid => continue,
            other => return Err(failed(format!("authorization is {other:?}"))),
        }
        let challenge = authz
            .challenge(ChallengeType::Dns01)
            .ok_or_else(|| failed("the CA offers no DNS-01 challenge"))?;
        let Identifier::Dns(name) = challenge.identifier().identifier else {
            return Err(failed("DNS-01 for an identifier that is not a DNS name"));
        };
        let value = challenge.key_authorization().dns_value();
        dns::publish(settings, name, &value, published)
            .await
            .map_err(|e| failed(format!("DNS-01: {e}")))?;
    }
    dns::wait(settings, published)
        .await
        .map_err(|e| failed(format!("DNS-01: {e}")))?;
    let mut authorizations = order.authorizations();
    while let Some(authz) = authorizations.next().await {
        let mut authz = authz?;
        if authz.status != AuthorizationStatus::Pending {
            continue;
        }
        if let Some(mut challenge) = authz.challenge(ChallengeType::Dns01) {
            challenge.set_ready().await?;
        }
    }
    ready(order, retries).await
}

async fn ready(order: &mut Order, retries: &RetryPolicy) -> Result<(), OrderError> {
    let status = order.poll_ready(retries).await?;
    if status != OrderStatus::Ready {
        return Err(failed(format!("the order is {status:?}, not ready")));
    }
    Ok(())
}

/// Orders a certificate for `names` from `account`.
pub async fn order(
    account: &Account,
    names: &[String],
    spec: &OrderSpec<'_>,
) -> Result<Issued, OrderError> {
    let identifiers: Vec<Identifier> = names.iter().cloned().map(Identifier::Dns).collect();
    let mut new_order = NewOrder::new(&identifiers);
    if let Some(p) = spec.profile {
        new_order = new_order.profile(p);
    }
    let mut order = account.new_order(&new_order).await?;
    let retries = RetryPolicy::new()
        .initial_delay(Duration::from_millis(250))
        .backoff(1.5)
        .timeout(spec.patience);
    match spec.challenge {
        Challenge::Dns(settings) => {
            let mut published = Vec::new();
            let validated = validate_dns01(&mut order, settings, &mut published, &retries).await;
            dns::clean_up(settings, published).await;
            validated?;
        }
        other => validate_served(&mut order, other, &retries).await?,
    }
    let key = keys::generate(spec.key_type)
        .map_err(|e| failed(format!("cannot generate the key: {e}")))?;
    let csr = keys::csr(names, &key).map_err(|e| failed(format!("cannot build the CSR: {e}")))?;
    order.finalize_csr(&csr).await?;
    let chain_pem = order.poll_certificate(&retries).await?;
    let key_pem = key
        .private_key_to_pem_pkcs8()
        .map_err(|e| failed(e.to_string()))?;
    Ok(Issued {
        chain_pem,
        key_pem: String::from_utf8_lossy(&key_pem).into_owned(),
    })
}
