//! Fingerprints of config sections: equal fingerprints mean a part can be reused on reload.

use crate::config::dynamic::MiddlewareConfig;
use std::collections::hash_map::DefaultHasher;
use std::fmt::Debug;
use std::hash::{Hash, Hasher};

/// A hash of `value`'s full debug form (maps in the model are ordered, so it is stable).
pub fn fingerprint<T: Debug + ?Sized>(value: &T) -> u64 {
    let mut h = DefaultHasher::new();
    format!("{value:?}").hash(&mut h);
    h.finish()
}

/// What a middleware is built from: its config and the contents of the files it reads (an
/// edited `basicAuth.usersFile` makes a new instance even when the config names the same path).
pub fn middleware_fingerprint(mw: &MiddlewareConfig) -> u64 {
    let mut h = DefaultHasher::new();
    format!("{mw:?}").hash(&mut h);
    for path in mw.files_read() {
        path.hash(&mut h);
        // An unreadable file fails the build, so no instance is reused for it either way.
        std::fs::read(path).ok().hash(&mut h);
    }
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_have_equal_fingerprints() {
        assert_eq!(fingerprint(&("a", 1)), fingerprint(&("a", 1)));
        assert_ne!(fingerprint(&("a", 1)), fingerprint(&("a", 2)));
    }

    #[test]
    fn a_middleware_fingerprint_changes_with_the_files_it_reads() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("users");
        std::fs::write(&file, "a:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=\n").unwrap();
        let mw: MiddlewareConfig = toml::from_str(&format!(
            "[basicAuth]\nusersFile = \"{}\"\n",
            file.display()
        ))
        .unwrap();
        let before = middleware_fingerprint(&mw);
        assert_eq!(before, middleware_fingerprint(&mw));
        std::fs::write(&file, "b:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=\n").unwrap();
        assert_ne!(before, middleware_fingerprint(&mw));
    }
}
