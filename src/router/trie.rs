//! A byte trie over request paths, mapping exact paths and path prefixes to route ids.

/// Route ids stored under exact paths and path prefixes.
///
/// `collect` walks the request path once, so its cost depends on the path's
/// length and on how many routes actually share its prefixes, not on how
/// many routes the trie holds.
#[derive(Debug, Clone)]
pub(crate) struct PathTrie {
    nodes: Vec<Node>,
}

#[derive(Debug, Clone, Default)]
struct Node {
    /// (byte, node index), sorted by byte.
    children: Vec<(u8, u32)>,
    /// Routes whose prefix ends here: they apply to every path through this node.
    prefix: Vec<u32>,
    /// Routes whose exact path ends here.
    exact: Vec<u32>,
}

impl Default for PathTrie {
    fn default() -> Self {
        PathTrie {
            nodes: vec![Node::default()],
        }
    }
}

impl PathTrie {
    /// Register `id` for every path starting with `prefix` (`""` = all paths).
    pub(crate) fn insert_prefix(&mut self, prefix: &str, id: u32) {
        let node = self.node_for(prefix);
        push_unique(&mut self.nodes[node].prefix, id);
    }

    /// Register `id` for the path `path` exactly.
    pub(crate) fn insert_exact(&mut self, path: &str, id: u32) {
        let node = self.node_for(path);
        push_unique(&mut self.nodes[node].exact, id);
    }

    /// Append to `out` the ids registered for `path`: those of every prefix of
    /// `path` and those of `path` itself. Ids may repeat across calls.
    pub(crate) fn collect(&self, path: &str, out: &mut impl Extend<u32>) {
        let Some(mut node) = self.nodes.first() else {
            return;
        };
        node.collect_prefix(out);
        for &byte in path.as_bytes() {
            // Children are few per node: a linear scan beats a binary search.
            let next = node
                .children
                .iter()
                .find(|&&(b, _)| b == byte)
                .and_then(|&(_, child)| self.nodes.get(child as usize));
            match next {
                Some(child) => node = child,
                None => return,
            }
            node.collect_prefix(out);
        }
        if !node.exact.is_empty() {
            out.extend(node.exact.iter().copied());
        }
    }

    /// The node reached by `key`, creating missing nodes on the way.
    fn node_for(&mut self, key: &str) -> usize {
        let mut node = 0;
        for &byte in key.as_bytes() {
            let children = &self.nodes[node].children;
            node = match children.binary_search_by_key(&byte, |&(b, _)| b) {
                Ok(i) => children[i].1 as usize,
                Err(i) => {
                    let child = self.nodes.len();
                    self.nodes.push(Node::default());
                    self.nodes[node].children.insert(i, (byte, child as u32));
                    child
                }
            };
        }
        node
    }
}

impl Node {
    fn collect_prefix(&self, out: &mut impl Extend<u32>) {
        if !self.prefix.is_empty() {
            out.extend(self.prefix.iter().copied());
        }
    }
}

fn push_unique(ids: &mut Vec<u32>, id: u32) {
    if !ids.contains(&id) {
        ids.push(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collected(trie: &PathTrie, path: &str) -> Vec<u32> {
        let mut out = Vec::new();
        trie.collect(path, &mut out);
        out.sort_unstable();
        out
    }

    #[test]
    fn prefixes_and_exact_paths() {
        let mut trie = PathTrie::default();
        trie.insert_prefix("/", 0);
        trie.insert_prefix("/api", 1);
        trie.insert_prefix("/api/users", 2);
        trie.insert_exact("/api", 3);
        trie.insert_prefix("", 4);
        assert_eq!(collected(&trie, "/api/users/1"), vec![0, 1, 2, 4]);
        assert_eq!(collected(&trie, "/api"), vec![0, 1, 3, 4]);
        assert_eq!(collected(&trie, "/apis"), vec![0, 1, 4]);
        assert_eq!(collected(&trie, "/ap"), vec![0, 4]);
        assert_eq!(collected(&trie, "x"), vec![4]);
        assert_eq!(collected(&trie, ""), vec![4]);
    }
}
