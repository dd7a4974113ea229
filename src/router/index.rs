//! The lookup index: narrows a request to the routes whose required Host and Path could match.
//!
//! For each rule we derive a list of alternatives ("the rule can only match if
//! one of these holds"), each an optional set of hosts and an optional set of
//! exact paths / path prefixes. This is an over-approximation: a route is
//! always filed under every alternative it could match through, so the
//! candidates of a request are a superset of the routes that match it, and
//! evaluating them in match order gives the same answer as a linear scan.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use smallvec::SmallVec;

use super::trie::PathTrie;
use crate::rule::matcher::{host_without_port, strip_trailing_dot, with_ascii_lowercase};

/// A `Host` rule name under which a route is filed.
fn is_wildcard(host: &str) -> bool {
    host.starts_with("*.")
}
use crate::rule::{Expr, Matcher, RequestFacts};

/// Above this many alternatives a rule is not worth splitting further.
const MAX_ALTERNATIVES: usize = 32;

/// Candidate route ids; inline up to this many without touching the heap.
pub(crate) type Candidates = SmallVec<[u32; 32]>;

#[derive(Debug, Clone, PartialEq)]
enum PathKey {
    Exact(String),
    Prefix(String),
}

/// One way a rule can match: `None` means "unconstrained".
#[derive(Debug, Clone, Default)]
struct Alternative {
    hosts: Option<Vec<String>>,
    paths: Option<Vec<PathKey>>,
}

/// The alternatives under which `expr` can match.
fn alternatives(expr: &Expr) -> Vec<Alternative> {
    match expr {
        // `Host(`*`)` constrains nothing; `*.example.com` is filed by its suffix
        Expr::Matcher(Matcher::Host(hosts)) if hosts.iter().any(|h| h == "*") => {
            vec![Alternative::default()]
        }
        Expr::Matcher(Matcher::Host(hosts)) => vec![Alternative {
            hosts: Some(hosts.clone()),
            paths: None,
        }],
        Expr::Matcher(Matcher::Path(paths)) => vec![Alternative {
            hosts: None,
            paths: Some(paths.iter().cloned().map(PathKey::Exact).collect()),
        }],
        Expr::Matcher(Matcher::PathPrefix(paths)) => vec![Alternative {
            hosts: None,
            paths: Some(paths.iter().cloned().map(PathKey::Prefix).collect()),
        }],
        // Other matchers and negations constrain nothing we index on.
        Expr::Matcher(_) | Expr::Not(_) => vec![Alternative::default()],
        Expr::Or(items) => {
            let mut all = Vec::new();
            for item in items {
                all.extend(alternatives(item));
                if all.len() > MAX_ALTERNATIVES {
                    return vec![Alternative::default()];
                }
            }
            all
        }
        Expr::And(items) => {
            let mut acc = vec![Alternative::default()];
            for item in items {
                let alts = alternatives(item);
                // Dropping a conjunct only widens the candidate set: still sound.
                if acc.len() * alts.len() > MAX_ALTERNATIVES {
                    continue;
                }
                acc = acc
                    .iter()
                    .flat_map(|a| alts.iter().filter_map(move |b| conjoin(a, b)))
                    .collect();
            }
            acc
        }
    }
}

/// Both `a` and `b` hold. `None` when they cannot (disjoint host sets).
fn conjoin(a: &Alternative, b: &Alternative) -> Option<Alternative> {
    let hosts = match (&a.hosts, &b.hosts) {
        // a wildcard meets names string equality misses: either side alone is still a sound
        // (wider) requirement
        (Some(x), Some(y)) if x.iter().chain(y).any(|h| is_wildcard(h)) => Some(x.clone()),
        (Some(x), Some(y)) => {
            let both: Vec<String> = x.iter().filter(|h| y.contains(h)).cloned().collect();
            if both.is_empty() {
                return None;
            }
            Some(both)
        }
        (x, y) => x.clone().or_else(|| y.clone()),
    };
    // Either side's paths are a valid requirement; keep the first found.
    let paths = a.paths.clone().or_else(|| b.paths.clone());
    Some(Alternative { hosts, paths })
}

/// Route ids filed by required host and path.
#[derive(Debug, Clone, Default)]
pub(crate) struct Index {
    /// Lower-cased host (no port, no trailing dot) → paths of routes requiring it.
    by_host: HashMap<Box<str>, PathTrie, BuildHasherDefault<FxHasher>>,
    /// `*.example.com` routes, by `example.com`: a request host's part after its first label.
    by_wildcard: HashMap<Box<str>, PathTrie, BuildHasherDefault<FxHasher>>,
    /// Routes with a path requirement but no host requirement.
    any_host: PathTrie,
    /// Routes with neither: checked for every request.
    generic: Vec<u32>,
}

impl Index {
    /// Index `rules`, where the i-th rule is route id `i` (its match rank).
    pub(crate) fn build<'a>(rules: impl IntoIterator<Item = &'a Expr>) -> Index {
        let mut index = Index::default();
        for (id, rule) in rules.into_iter().enumerate() {
            let id = u32::try_from(id).unwrap_or(u32::MAX);
            for alt in alternatives(rule) {
                index.file(id, alt);
            }
        }
        index
    }

    fn file(&mut self, id: u32, alt: Alternative) {
        match (alt.hosts, alt.paths) {
            (None, None) => {
                if !self.generic.contains(&id) {
                    self.generic.push(id);
                }
            }
            (None, Some(paths)) => file_paths(&mut self.any_host, &paths, id),
            (Some(hosts), paths) => {
                for host in hosts {
                    let trie = match host.strip_prefix("*.") {
                        Some(suffix) => self.by_wildcard.entry(suffix.into()).or_default(),
                        None => self.by_host.entry(host.into()).or_default(),
                    };
                    match &paths {
                        None => trie.insert_prefix("", id),
                        Some(paths) => file_paths(trie, paths, id),
                    }
                }
            }
        }
    }

    /// Route ids that may match `req`, sorted ascending (match order), unique.
    pub(crate) fn candidates(&self, req: &RequestFacts<'_>, out: &mut Candidates) {
        out.extend(self.generic.iter().copied());
        self.any_host.collect(req.path, out);
        if !self.by_host.is_empty() || !self.by_wildcard.is_empty() {
            let host = strip_trailing_dot(host_without_port(req.host));
            with_ascii_lowercase(host, |key| {
                if let Some(trie) = self.by_host.get(key) {
                    trie.collect(req.path, out);
                }
                let parent = key.split_once('.').filter(|(label, _)| !label.is_empty());
                if let Some(trie) = parent.and_then(|(_, rest)| self.by_wildcard.get(rest)) {
                    trie.collect(req.path, out);
                }
            });
        }
        out.sort_unstable();
        out.dedup();
    }

    /// How many distinct hosts have their own path index.
    pub(crate) fn host_count(&self) -> usize {
        self.by_host.len() + self.by_wildcard.len()
    }
}

fn file_paths(trie: &mut PathTrie, paths: &[PathKey], id: u32) {
    for path in paths {
        match path {
            PathKey::Exact(p) => trie.insert_exact(p, id),
            PathKey::Prefix(p) => trie.insert_prefix(p, id),
        }
    }
}

/// The multiply-rotate hash of rustc's `FxHasher`: much cheaper than SipHash
/// on short host names. Flooding is not a concern: requests only look keys
/// up, and the keys come from configuration.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(SEED);
        }
        for &b in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(SEED);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
