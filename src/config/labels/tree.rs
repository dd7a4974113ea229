//! Flat labels → one value tree: prefixes, precedence, case-insensitive paths, indexes.
//!
//! Mirrors traefik/paerser `parser/labels_decode.go` (`DecodeToNode`): keys are sorted, split
//! on `.`, `name[0]` becomes `name` + `[0]`, and each path segment joins an existing sibling
//! whose name is equal ignoring case (`strings.EqualFold`), keeping the first spelling. That
//! holds for map keys too: within one container `routers.Web` and `routers.web` are the same
//! router, named `Web` (byte order sorts capitals first); across containers names stay
//! case-sensitive, as Traefik's merged maps are. `traefik.*` labels are read first, then
//! `pylon.*` ones, so a `pylon.` label replaces the `traefik.` label of the same path.
//! A value beside sub-keys (`sticky.cookie=true` and `sticky.cookie.name=x`) is paerser's
//! `label:"allowEmpty"` form: `true` is dropped for the table, `false` disables the section.

use super::LabelError;
use std::collections::BTreeMap;
use toml::{Table, Value};

/// The labels' tree and, for each value in it, the label that set it.
#[derive(Debug, Default)]
pub struct LabelTree {
    pub root: Table,
    /// Lowercased path segments (`[0]` for indexes) and the label key.
    pub sources: Vec<(Vec<String>, String)>,
}

impl LabelTree {
    /// The label an error at `path` (a model key path such as `http.routers.x.rule` or
    /// `tls.domains[0].main`) is about: the label at that path, else the label whose value
    /// the path is inside, else the first label below it.
    pub fn label_at(&self, path: &str) -> Option<String> {
        let wanted = segments_of(path);
        let find = |keep: &dyn Fn(&[String]) -> bool| {
            self.sources
                .iter()
                .find(|(p, _)| keep(p))
                .map(|(_, l)| l.clone())
        };
        find(&|p| p == wanted.as_slice())
            .or_else(|| find(&|p| wanted.starts_with(p)))
            .or_else(|| find(&|p| p.starts_with(&wanted)))
    }
}

/// `a.b[0].c` → `["a", "b", "[0]", "c"]`, lowercased.
pub fn segments_of(path: &str) -> Vec<String> {
    path.replace('[', ".[")
        .split('.')
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    Traefik,
    Pylon,
}

/// `traefik.x` / `pylon.x` (prefix in any case) → the source and `x`.
fn split_prefix(key: &str) -> Option<(Source, &str)> {
    let (head, rest) = key.split_once('.')?;
    if head.eq_ignore_ascii_case("traefik") {
        Some((Source::Traefik, rest))
    } else if head.eq_ignore_ascii_case("pylon") {
        Some((Source::Pylon, rest))
    } else {
        None
    }
}

fn starts_with_ci(text: &str, prefix: &str) -> bool {
    text.len() >= prefix.len()
        && text.is_char_boundary(prefix.len())
        && text[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// The value of the provider-level label `name` (e.g. `enable`, `docker.network`): the
/// `pylon.` label if any, else the `traefik.` one (keys compared ignoring case).
pub fn provider_label<'a>(
    labels: &'a BTreeMap<String, String>,
    name: &str,
) -> Option<(&'a str, &'a str)> {
    let mut found: Option<(Source, &str, &str)> = None;
    for (key, value) in labels {
        if let Some((source, rest)) = split_prefix(key) {
            if rest.eq_ignore_ascii_case(name) && found.is_none_or(|(s, _, _)| source > s) {
                found = Some((source, key, value));
            }
        }
    }
    found.map(|(_, k, v)| (k, v))
}

#[derive(Debug, Default)]
struct Node {
    name: String,
    leaf: Option<Leaf>,
    children: Vec<Node>,
}

#[derive(Debug)]
struct Leaf {
    value: String,
    label: String,
    source: Source,
}

/// Builds the tree of the dynamic-config labels (`http.*`, `tls.stores.default.*`).
/// `http.serversTransports.*` is ignored (`label:"-"` in Traefik's model). Other `traefik.` labels are provider settings (`enable`, `docker.*`) or are ignored as
/// Traefik ignores them (it decodes only `traefik.http`, `traefik.tcp`, `traefik.udp` and
/// `traefik.tls.stores.default`: pkg/config/label/label.go); UDP is an error (not yet).
pub fn build(
    container: &str,
    labels: &BTreeMap<String, String>,
) -> Result<LabelTree, Vec<LabelError>> {
    build_scoped(container, labels, Scope::Labels)
}

/// Which dynamic keys a source may set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Docker labels: `http.*` and `tls.stores.default.*` (Traefik's label.go).
    Labels,
    /// Key-value stores: `http.*` and every `tls.*` key (Traefik's kv provider decodes the
    /// whole dynamic configuration).
    KeyValue,
}

/// [`build`] for the keys `scope` allows.
pub fn build_scoped(
    container: &str,
    labels: &BTreeMap<String, String>,
    scope: Scope,
) -> Result<LabelTree, Vec<LabelError>> {
    let mut wanted: Vec<(Source, &str, &str, &str)> = Vec::new();
    let mut errors = Vec::new();
    for (key, value) in labels {
        let Some((source, rest)) = split_prefix(key) else {
            continue;
        };
        if starts_with_ci(rest, "udp.") {
            errors.push(LabelError::new(
                container,
                Some(key),
                "UDP routers and services are not supported yet (TCP and HTTP are)",
            ));
        } else if starts_with_ci(rest, "tcp.serverstransports.") {
            errors.push(LabelError::new(
                container,
                Some(key),
                "TCP servers transports are not supported yet",
            ));
        } else if starts_with_ci(rest, "tcp.") {
            wanted.push((source, key, rest, value));
        } else if starts_with_ci(rest, "http.serverstransports.") {
            // `label:"-"` in Traefik's model: not settable from labels, ignored.
        } else if starts_with_ci(rest, "http.")
            || starts_with_ci(rest, "tls.stores.default.")
            || (scope == Scope::KeyValue && starts_with_ci(rest, "tls."))
        {
            wanted.push((source, key, rest, value));
        } else if scope == Scope::KeyValue {
            errors.push(
                LabelError::new(
                    container,
                    Some(key),
                    "not a key of the dynamic configuration",
                )
                .with_hint(
                    "pylon reads `<rootKey>/http/...`, `<rootKey>/tcp/...` and `<rootKey>/tls/...`",
                ),
            );
        }
    }
    // Traefik's labels first, each source in key order.
    wanted.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let mut root = Node::default();
    for (source, key, rest, value) in wanted {
        let result = split_path(rest).and_then(|path| {
            let leaf = Leaf {
                value: value.to_string(),
                label: key.to_string(),
                source,
            };
            insert(&mut root, &path, leaf)
        });
        if let Err((message, hint)) = result {
            let mut e = LabelError::new(container, Some(key), message);
            e.hint = hint;
            errors.push(e);
        }
    }
    let mut tree = LabelTree::default();
    let mut path = Vec::new();
    for child in root.children {
        path.push(child.name.to_ascii_lowercase());
        if let Some((name, value)) =
            to_value(child, &mut path, &mut tree.sources, container, &mut errors)
        {
            tree.root.insert(name, value);
        }
        path.pop();
    }
    if errors.is_empty() {
        Ok(tree)
    } else {
        Err(errors)
    }
}

type Problem = (String, Option<String>);

/// `http.routers.r.tls.domains[0].main` → segments, `[0]` kept as its own segment.
fn split_path(rest: &str) -> Result<Vec<String>, Problem> {
    let mut out = Vec::new();
    for part in rest.split('.') {
        if part.is_empty() {
            return Err(("an empty key between two dots".into(), None));
        }
        if part.starts_with('[') {
            return Err((
                format!("`{part}`: an index `[n]` must follow a name, e.g. `domains[0]`"),
                None,
            ));
        }
        match part.find('[') {
            Some(open) if part.ends_with(']') => {
                let index = &part[open + 1..part.len() - 1];
                if index.parse::<usize>().is_err() {
                    return Err((format!("`{part}`: the index must be a number"), None));
                }
                out.push(part[..open].to_string());
                out.push(format!("[{index}]"));
            }
            _ => out.push(part.to_string()),
        }
    }
    Ok(out)
}

fn insert(node: &mut Node, path: &[String], leaf: Leaf) -> Result<(), Problem> {
    let Some((first, rest)) = path.split_first() else {
        return match &node.leaf {
            None => {
                node.leaf = Some(leaf);
                Ok(())
            }
            Some(old) if old.source < leaf.source || old.value == leaf.value => {
                node.leaf = Some(leaf);
                Ok(())
            }
            Some(old) => Err((
                format!(
                    "sets the same key as label {} (keys are case-insensitive), to another value",
                    old.label
                ),
                Some("keep one of the two labels".into()),
            )),
        };
    };
    let at = match node
        .children
        .iter()
        .position(|c| c.name.eq_ignore_ascii_case(first))
    {
        Some(at) => at,
        None => {
            node.children.push(Node {
                name: first.clone(),
                ..Node::default()
            });
            node.children.len() - 1
        }
    };
    insert(&mut node.children[at], rest, leaf)
}

/// The node as a tree value (recording where each value came from); `None` after an error.
fn to_value(
    node: Node,
    path: &mut Vec<String>,
    sources: &mut Vec<(Vec<String>, String)>,
    container: &str,
    errors: &mut Vec<LabelError>,
) -> Option<(String, Value)> {
    let Node {
        name,
        leaf,
        children,
    } = node;
    if children.is_empty() {
        let leaf = leaf?;
        sources.push((path.clone(), leaf.label));
        return Some((name, Value::String(leaf.value)));
    }
    if let Some(leaf) = leaf {
        match leaf.value.trim().to_ascii_lowercase().as_str() {
            "true" | "" => {}
            "false" => {
                sources.push((path.clone(), leaf.label));
                return Some((name, Value::String(leaf.value)));
            }
            _ => {
                let mut e = LabelError::new(
                    container,
                    Some(&leaf.label),
                    format!(
                        "`{}` has sub-keys, so its own value must be true or false, found `{}`",
                        path.join("."),
                        leaf.value
                    ),
                );
                e.hint = Some("remove this label, or set it to true".into());
                errors.push(e);
                return None;
            }
        }
    }
    let indexed = children.iter().filter(|c| c.name.starts_with('[')).count();
    if indexed > 0 && indexed < children.len() {
        let first = first_label(&children).unwrap_or_default();
        errors.push(LabelError::new(
            container,
            Some(&first),
            format!("`{}` mixes indexes `[n]` with names", path.join(".")),
        ));
        return None;
    }
    let mut items: Vec<(String, Value)> = Vec::new();
    let mut ok = true;
    for child in children {
        path.push(child.name.to_ascii_lowercase());
        match to_value(child, path, sources, container, errors) {
            Some(item) => items.push(item),
            None => ok = false,
        }
        path.pop();
    }
    if !ok {
        return None;
    }
    if indexed > 0 {
        let index = |n: &str| {
            n.trim_matches(|c| c == '[' || c == ']')
                .parse::<usize>()
                .unwrap_or(usize::MAX)
        };
        items.sort_by_key(|(n, _)| index(n));
        let list = items.into_iter().map(|(_, v)| v).collect();
        return Some((name, Value::Array(list)));
    }
    Some((name, Value::Table(items.into_iter().collect())))
}

fn first_label(nodes: &[Node]) -> Option<String> {
    nodes.iter().find_map(|n| {
        n.leaf
            .as_ref()
            .map(|l| l.label.clone())
            .or_else(|| first_label(&n.children))
    })
}
