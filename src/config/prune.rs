//! Takes one key out of a configuration tree by the path an error names, so the rest can be
//! read again and every error of a file reported in one run.

/// Removes the key at `key_path` (as an error names it: `a.b[0].c`, keys in any case) from
/// `tree`, or when it is absent (a missing key) the nearest enclosing key; false when
/// nothing could be removed (list items are kept, so later errors' indexes stay right).
pub fn remove_key(tree: &mut toml::Value, key_path: &str) -> bool {
    if key_path.is_empty() {
        return false;
    }
    if remove_exact(tree, key_path) {
        return true;
    }
    match key_path.rfind('.') {
        Some(cut) if !key_path[..cut].ends_with(']') => remove_key(tree, &key_path[..cut]),
        _ => false,
    }
}

fn remove_exact(value: &mut toml::Value, path: &str) -> bool {
    match value {
        toml::Value::Table(t) => {
            // Names may hold dots: the longest key that starts the path wins.
            let starts = |k: &str| {
                path.len() >= k.len()
                    && path.is_char_boundary(k.len())
                    && path[..k.len()].eq_ignore_ascii_case(k)
                    && matches!(path[k.len()..].chars().next(), None | Some('.') | Some('['))
            };
            let Some(key) = t
                .keys()
                .filter(|k| starts(k))
                .max_by_key(|k| k.len())
                .cloned()
            else {
                return false;
            };
            let rest = &path[key.len()..];
            if rest.is_empty() {
                return t.remove(&key).is_some();
            }
            let rest = rest.strip_prefix('.').unwrap_or(rest);
            t.get_mut(&key).is_some_and(|v| remove_exact(v, rest))
        }
        toml::Value::Array(items) => {
            let Some((index, rest)) = path.strip_prefix('[').and_then(|p| p.split_once(']')) else {
                return false;
            };
            let rest = rest.strip_prefix('.').unwrap_or(rest);
            match index.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                Some(item) if !rest.is_empty() => remove_exact(item, rest),
                _ => false,
            }
        }
        _ => false,
    }
}
