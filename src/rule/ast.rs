//! The parsed, validated form of a rule: boolean expressions over request matchers.

use std::fmt;

use http::HeaderName;
use ipnet::IpNet;
use regex::Regex;

/// A parsed rule.
///
/// `And` and `Or` are n-ary and flattened: `a && (b && c)` is one `And` of
/// three operands. Each has at least two operands.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A single matcher such as ``Host(`example.com`)``.
    Matcher(Matcher),
    /// `!expr`
    Not(Box<Expr>),
    /// `a && b && ...`
    And(Vec<Expr>),
    /// `a || b || ...`
    Or(Vec<Expr>),
}

/// One matcher with validated, normalized arguments.
///
/// Where several arguments are allowed (Traefik v2 style, e.g.
/// ``Host(`a`, `b`)``), the matcher matches if any of them does.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// ``Host(`example.com`, ...)``: lower-cased, one trailing dot removed.
    Host(Vec<String>),
    /// ``HostRegexp(`^.+\.example\.com$`)``: unanchored, on the lower-cased host without port.
    HostRegexp(Regex),
    /// ``Path(`/exact`, ...)``: each starts with `/`.
    Path(Vec<String>),
    /// ``PathPrefix(`/api`, ...)``: plain string prefixes, each starts with `/`.
    PathPrefix(Vec<String>),
    /// ``PathRegexp(`^/v[0-9]+/`)``: unanchored.
    PathRegexp(Regex),
    /// ``Method(`GET`, ...)``: upper-cased.
    Method(Vec<String>),
    /// ``Header(`X-Key`, `value`)``: exact value of any of the header's values.
    Header { name: HeaderName, value: String },
    /// ``HeaderRegexp(`X-Key`, `regexp`)``: unanchored, on any of the header's values.
    HeaderRegexp { name: HeaderName, regex: Regex },
    /// ``Query(`key`, `value`)``, or ``Query(`key`)`` (`value` = `None`): see
    /// the matcher module for exact semantics.
    Query { key: String, value: Option<String> },
    /// ``QueryRegexp(`key`, `regexp`)``: unanchored, on any decoded value of `key`.
    QueryRegexp { key: String, regex: Regex },
    /// ``ClientIP(`10.0.0.0/8`, `::1`, ...)``: IPv4-mapped IPv6 networks are stored as IPv4.
    ClientIp(Vec<IpNet>),
    /// TCP: ``HostSNI(`db.example.com`, ...)``: lower-cased; `*` matches any connection (TLS
    /// or not).
    HostSni(Vec<String>),
    /// TCP: ``HostSNIRegexp(`^.+\.example\.com$`)``: unanchored, on the lower-cased SNI.
    HostSniRegexp(Regex),
    /// TCP: ``ALPN(`h2`, ...)``: a protocol the client's ClientHello offers.
    Alpn(Vec<String>),
}

/// The matcher names accepted in TCP router rules (case-sensitive), sorted.
pub const TCP_MATCHER_NAMES: [&str; 4] = ["ALPN", "ClientIP", "HostSNI", "HostSNIRegexp"];

/// The matcher names accepted in rules (case-sensitive), sorted.
pub const MATCHER_NAMES: [&str; 11] = [
    "ClientIP",
    "Header",
    "HeaderRegexp",
    "Host",
    "HostRegexp",
    "Method",
    "Path",
    "PathPrefix",
    "PathRegexp",
    "Query",
    "QueryRegexp",
];

impl Matcher {
    /// The name this matcher has in rule text.
    pub fn name(&self) -> &'static str {
        match self {
            Matcher::Host(_) => "Host",
            Matcher::HostRegexp(_) => "HostRegexp",
            Matcher::Path(_) => "Path",
            Matcher::PathPrefix(_) => "PathPrefix",
            Matcher::PathRegexp(_) => "PathRegexp",
            Matcher::Method(_) => "Method",
            Matcher::Header { .. } => "Header",
            Matcher::HeaderRegexp { .. } => "HeaderRegexp",
            Matcher::Query { .. } => "Query",
            Matcher::QueryRegexp { .. } => "QueryRegexp",
            Matcher::ClientIp(_) => "ClientIP",
            Matcher::HostSni(_) => "HostSNI",
            Matcher::HostSniRegexp(_) => "HostSNIRegexp",
            Matcher::Alpn(_) => "ALPN",
        }
    }

    /// The (normalized) arguments, as they would be written back in a rule.
    pub fn args(&self) -> Vec<String> {
        match self {
            Matcher::Host(v)
            | Matcher::Path(v)
            | Matcher::PathPrefix(v)
            | Matcher::Method(v)
            | Matcher::HostSni(v)
            | Matcher::Alpn(v) => v.clone(),
            Matcher::HostRegexp(re) | Matcher::PathRegexp(re) | Matcher::HostSniRegexp(re) => {
                vec![re.as_str().to_owned()]
            }
            Matcher::Header { name, value } => vec![name.as_str().to_owned(), value.clone()],
            Matcher::HeaderRegexp { name, regex } => {
                vec![name.as_str().to_owned(), regex.as_str().to_owned()]
            }
            Matcher::Query { key, value } => {
                let mut args = vec![key.clone()];
                args.extend(value.iter().cloned());
                args
            }
            Matcher::QueryRegexp { key, regex } => vec![key.clone(), regex.as_str().to_owned()],
            Matcher::ClientIp(nets) => nets
                .iter()
                .map(|net| {
                    if net.prefix_len() == net.max_prefix_len() {
                        net.addr().to_string()
                    } else {
                        net.to_string()
                    }
                })
                .collect(),
        }
    }
}

impl Expr {
    /// The host names the rule's `Host` matchers name, except under `!` (which TLS options
    /// apply to which server names, as Traefik reads it).
    pub fn hosts(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_hosts(&mut out);
        out
    }

    fn collect_hosts(&self, out: &mut Vec<String>) {
        match self {
            Expr::Matcher(Matcher::Host(names)) => out.extend(names.iter().cloned()),
            Expr::Matcher(_) | Expr::Not(_) => {}
            Expr::And(all) | Expr::Or(all) => all.iter().for_each(|e| e.collect_hosts(out)),
        }
    }
}

impl PartialEq for Matcher {
    /// Regexes compare by their source text.
    fn eq(&self, other: &Self) -> bool {
        self.name() == other.name() && self.args() == other.args()
    }
}

/// Write `s` as a rule string literal: backticks unless it contains one.
fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    if !s.contains('`') {
        return write!(f, "`{s}`");
    }
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}(", self.name())?;
        for (i, arg) in self.args().iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write_quoted(f, arg)?;
        }
        f.write_str(")")
    }
}

impl fmt::Display for Expr {
    /// Canonical rule text; parsing it yields an equal `Expr`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Matcher(m) => write!(f, "{m}"),
            Expr::Not(inner) => match **inner {
                Expr::Matcher(_) | Expr::Not(_) => write!(f, "!{inner}"),
                _ => write!(f, "!({inner})"),
            },
            Expr::And(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" && ")?;
                    }
                    match item {
                        Expr::Or(_) => write!(f, "({item})")?,
                        _ => write!(f, "{item}")?,
                    }
                }
                Ok(())
            }
            Expr::Or(items) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" || ")?;
                    }
                    write!(f, "{item}")?;
                }
                Ok(())
            }
        }
    }
}
