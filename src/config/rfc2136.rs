//! The `rfc2136` DNS provider's settings, read as lego and Traefik read them: from the
//! environment variables `RFC2136_*`, each also as `<NAME>_FILE` (the value read from that file).

use super::key_file::read_key_file;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

/// lego's defaults.
const DEFAULT_TTL: u32 = 120;
const DEFAULT_PROPAGATION_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_POLLING_INTERVAL: Duration = Duration::from_secs(2);

/// The TSIG algorithms pylon signs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsigAlgorithm {
    HmacSha256,
    HmacSha384,
    HmacSha512,
}

impl TsigAlgorithm {
    /// `hmac-sha256.`, `HMAC-SHA256`, `hmac-sha256` ...; None for the others (hmac-md5, hmac-sha1).
    pub fn parse(text: &str) -> Option<TsigAlgorithm> {
        Some(
            match text
                .trim()
                .trim_end_matches('.')
                .to_ascii_lowercase()
                .as_str()
            {
                "hmac-sha256" => TsigAlgorithm::HmacSha256,
                "hmac-sha384" => TsigAlgorithm::HmacSha384,
                "hmac-sha512" => TsigAlgorithm::HmacSha512,
                _ => return None,
            },
        )
    }
}

/// Where and how DNS UPDATE messages are sent.
#[derive(Clone, PartialEq, Eq)]
pub struct Rfc2136 {
    /// The primary name server of the zones (`RFC2136_NAMESERVER`).
    pub nameserver: SocketAddr,
    /// The TSIG key's name (`RFC2136_TSIG_KEY`).
    pub key_name: String,
    /// The TSIG secret, decoded (`RFC2136_TSIG_SECRET`).
    pub secret: Vec<u8>,
    pub algorithm: TsigAlgorithm,
    /// The TXT record's TTL (`RFC2136_TTL`).
    pub ttl: u32,
    /// How long the record gets to become visible (`RFC2136_PROPAGATION_TIMEOUT`).
    pub propagation_timeout: Duration,
    /// How often visibility is checked (`RFC2136_POLLING_INTERVAL`).
    pub polling_interval: Duration,
}

impl std::fmt::Debug for Rfc2136 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rfc2136")
            .field("nameserver", &self.nameserver)
            .field("key_name", &self.key_name)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// One variable's problem: the variable, what is wrong, how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvProblem {
    pub variable: String,
    pub message: String,
    pub hint: String,
}

impl std::fmt::Display for EnvProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "environment variable `{}` {} ({})",
            self.variable, self.message, self.hint
        )
    }
}

/// Reads the settings from the process's environment.
pub fn from_env() -> Result<Rfc2136, Vec<EnvProblem>> {
    from_vars(|name| std::env::var(name).ok())
}

/// Reads the settings through `get` (the environment, or a map in tests).
/// lego's RFC2136 variables pylon does not act on yet.
const NOT_YET: [&str; 3] = [
    "RFC2136_DNS_TIMEOUT",
    "RFC2136_SEQUENCE_INTERVAL",
    "RFC2136_TSIG_FILE",
];

pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Result<Rfc2136, Vec<EnvProblem>> {
    let mut problems = Vec::new();
    // lego's other RFC2136 variables: refused rather than ignored
    for name in NOT_YET {
        if get(name).is_some_and(|v| !v.is_empty()) || get(&format!("{name}_FILE")).is_some() {
            problems.push(problem(
                name,
                "is not supported yet by pylon",
                "unset it: pylon reads RFC2136_NAMESERVER, _TSIG_KEY, _TSIG_SECRET, \
                 _TSIG_ALGORITHM, _TTL, _PROPAGATION_TIMEOUT and _POLLING_INTERVAL",
            ));
        }
    }
    let mut value = |name: &str, hint: &str| -> Option<String> {
        match read_var(&get, name) {
            Ok(Some(v)) => Some(v),
            Ok(None) => {
                if !hint.is_empty() {
                    problems.push(problem(name, "is not set", hint));
                }
                None
            }
            Err(p) => {
                problems.push(p);
                None
            }
        }
    };
    let nameserver = value(
        "RFC2136_NAMESERVER",
        "set it to the zone's primary name server as host:port, e.g. `ns1.example.com:53`",
    );
    let key_name = value(
        "RFC2136_TSIG_KEY",
        "set it to the TSIG key's name, as in the server's `key \"...\"` statement",
    );
    let secret = value(
        "RFC2136_TSIG_SECRET",
        "set it to the TSIG key's base64 secret (`tsig-keygen -a hmac-sha256 NAME` makes one)",
    );
    let algorithm = value(
        "RFC2136_TSIG_ALGORITHM",
        "set it to `hmac-sha256.` (or hmac-sha384., hmac-sha512.): lego's default hmac-md5 is not supported",
    );
    let ttl = value("RFC2136_TTL", "");
    let timeout = value("RFC2136_PROPAGATION_TIMEOUT", "");
    let interval = value("RFC2136_POLLING_INTERVAL", "");

    let nameserver = nameserver.and_then(|v| match parse_nameserver(&v) {
        Ok(a) => Some(a),
        Err(m) => {
            problems.push(problem(
                "RFC2136_NAMESERVER",
                &m,
                "write host:port, e.g. `127.0.0.1:53`",
            ));
            None
        }
    });
    let key_name = key_name.and_then(|k| {
        let k = k.trim().to_string();
        if k.is_empty() || hickory_proto::rr::Name::from_ascii(&k).is_err() {
            problems.push(problem(
                "RFC2136_TSIG_KEY",
                "is not a DNS name",
                "use the key's name, e.g. `acme-update.`",
            ));
            None
        } else {
            Some(k)
        }
    });
    let secret = secret.and_then(|s| {
        use base64::Engine;
        match base64::engine::general_purpose::STANDARD.decode(s.trim()) {
            Ok(b) if !b.is_empty() => Some(b),
            _ => {
                problems.push(problem(
                    "RFC2136_TSIG_SECRET",
                    "is not base64",
                    "copy the `secret` of the server's key statement exactly",
                ));
                None
            }
        }
    });
    let algorithm = algorithm.and_then(|a| match TsigAlgorithm::parse(&a) {
        Some(alg) => Some(alg),
        None => {
            problems.push(problem(
                "RFC2136_TSIG_ALGORITHM",
                &format!("names `{}`, which pylon does not support", a.trim()),
                "use `hmac-sha256.`, `hmac-sha384.` or `hmac-sha512.` (and a key of that algorithm)",
            ));
            None
        }
    });
    let ttl = match ttl {
        None => Some(DEFAULT_TTL),
        Some(t) => match t.trim().parse::<u32>() {
            Ok(n) if n > 0 => Some(n),
            _ => {
                problems.push(problem(
                    "RFC2136_TTL",
                    &format!("`{}` is not a positive number of seconds", t.trim()),
                    "e.g. `120` (the default)",
                ));
                None
            }
        },
    };
    let mut duration = |name: &str, v: Option<String>, default: Duration| match v {
        None => Some(default),
        Some(t) => match super::duration::parse(&t) {
            Ok(d) if !d.is_zero() => Some(d),
            _ => {
                problems.push(problem(
                    name,
                    &format!("`{}` is not a positive duration", t.trim()),
                    "write a number of seconds, e.g. `60`, or `1m30s`",
                ));
                None
            }
        },
    };
    let propagation_timeout = duration(
        "RFC2136_PROPAGATION_TIMEOUT",
        timeout,
        DEFAULT_PROPAGATION_TIMEOUT,
    );
    let polling_interval = duration(
        "RFC2136_POLLING_INTERVAL",
        interval,
        DEFAULT_POLLING_INTERVAL,
    );
    match (
        nameserver,
        key_name,
        secret,
        algorithm,
        ttl,
        propagation_timeout,
        polling_interval,
    ) {
        (
            Some(nameserver),
            Some(key_name),
            Some(secret),
            Some(algorithm),
            Some(ttl),
            Some(p),
            Some(i),
        ) if problems.is_empty() => Ok(Rfc2136 {
            nameserver,
            key_name,
            secret,
            algorithm,
            ttl,
            propagation_timeout: p,
            polling_interval: i,
        }),
        _ => Err(problems),
    }
}

fn problem(variable: &str, message: &str, hint: &str) -> EnvProblem {
    EnvProblem {
        variable: variable.to_string(),
        message: message.to_string(),
        hint: hint.to_string(),
    }
}

/// `NAME`, or the content of the file `NAME_FILE` names (trailing newline trimmed); both is an error.
fn read_var(
    get: &impl Fn(&str) -> Option<String>,
    name: &str,
) -> Result<Option<String>, EnvProblem> {
    let file_var = format!("{name}_FILE");
    let direct = get(name).filter(|v| !v.is_empty());
    let file = get(&file_var).filter(|v| !v.is_empty());
    match (direct, file) {
        (Some(_), Some(_)) => Err(problem(
            name,
            &format!("and `{file_var}` are both set"),
            "keep one of them",
        )),
        (Some(v), None) => Ok(Some(v)),
        (None, Some(path)) => {
            let bytes = read_key_file(&path)
                .map_err(|e| problem(&file_var, &e.to_string(), "name a readable file"))?;
            let text = String::from_utf8(bytes).map_err(|_| {
                problem(
                    &file_var,
                    &format!("`{path}` is not UTF-8 text"),
                    "name a text file",
                )
            })?;
            let text = text.strip_suffix('\n').unwrap_or(&text);
            let text = text.strip_suffix('\r').unwrap_or(text);
            Ok(Some(text.to_string()).filter(|t| !t.is_empty()))
        }
        (None, None) => Ok(None),
    }
}

/// `host:port` or `host` (port 53); a host name is resolved once, here.
pub fn parse_nameserver(text: &str) -> Result<SocketAddr, String> {
    parse_server(text, true)
}

/// A `dnsChallenge.resolvers` entry: `ip:port` or `ip` (port 53).
pub fn parse_resolver(text: &str) -> Result<SocketAddr, String> {
    parse_server(text, false)
}

fn parse_server(text: &str, names: bool) -> Result<SocketAddr, String> {
    let t = text.trim();
    if let Ok(a) = t.parse::<SocketAddr>() {
        return Ok(a);
    }
    if let Ok(ip) = t
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
    {
        return Ok(SocketAddr::new(ip, 53));
    }
    if !names {
        return Err(format!("`{t}` is not an IP address with an optional port"));
    }
    let with_port = if t
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        t.to_string()
    } else {
        format!("{t}:53")
    };
    with_port
        .to_socket_addrs()
        .ok()
        .and_then(|mut it| it.next())
        .ok_or_else(|| format!("`{t}` does not resolve to an address"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    const GOOD: [(&str, &str); 4] = [
        ("RFC2136_NAMESERVER", "127.0.0.1:5353"),
        ("RFC2136_TSIG_KEY", "acme."),
        ("RFC2136_TSIG_SECRET", "c2VjcmV0c2VjcmV0"),
        ("RFC2136_TSIG_ALGORITHM", "hmac-sha256."),
    ];

    #[test]
    fn complete_settings_are_read_with_lego_defaults() {
        let s = from_vars(vars(&GOOD)).unwrap();
        assert_eq!(s.nameserver, "127.0.0.1:5353".parse().unwrap());
        assert_eq!(s.secret, b"secretsecret");
        assert_eq!(s.algorithm, TsigAlgorithm::HmacSha256);
        assert_eq!(s.ttl, 120);
        assert_eq!(s.propagation_timeout, Duration::from_secs(60));
    }

    #[test]
    fn legos_other_variables_are_refused_not_ignored() {
        let mut pairs = GOOD.to_vec();
        pairs.push(("RFC2136_DNS_TIMEOUT", "10"));
        let problems = from_vars(vars(&pairs)).unwrap_err();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].variable, "RFC2136_DNS_TIMEOUT");
    }

    #[test]
    fn missing_and_bad_variables_are_named() {
        let e = from_vars(vars(&[
            ("RFC2136_TSIG_ALGORITHM", "hmac-md5.sig-alg.reg.int."),
            ("RFC2136_TSIG_SECRET", "not base64!"),
            ("RFC2136_TTL", "soon"),
        ]))
        .unwrap_err();
        let all: Vec<String> = e.iter().map(|p| p.to_string()).collect();
        let all = all.join("\n");
        for wanted in [
            "`RFC2136_NAMESERVER` is not set",
            "`RFC2136_TSIG_KEY` is not set",
            "`RFC2136_TSIG_SECRET` is not base64",
            "`RFC2136_TSIG_ALGORITHM` names `hmac-md5.sig-alg.reg.int.`, which pylon does not support",
            "`RFC2136_TTL` `soon` is not a positive number",
        ] {
            assert!(all.contains(wanted), "missing `{wanted}` in:\n{all}");
        }
    }

    #[test]
    fn a_file_variable_is_read_and_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "c2VjcmV0c2VjcmV0\n").unwrap();
        let mut pairs = GOOD.to_vec();
        pairs.retain(|(k, _)| *k != "RFC2136_TSIG_SECRET");
        let p = path.display().to_string();
        pairs.push(("RFC2136_TSIG_SECRET_FILE", &p));
        assert_eq!(from_vars(vars(&pairs)).unwrap().secret, b"secretsecret");
        pairs.push(("RFC2136_TSIG_SECRET", "eA=="));
        let e = from_vars(vars(&pairs)).unwrap_err();
        assert!(e[0].to_string().contains("are both set"), "{e:?}");
    }
}
