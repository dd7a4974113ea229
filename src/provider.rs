//! Providers: where the dynamic configuration comes from (the file provider, the Docker
//! provider, the Redis and etcd key-value providers), how their names are namespaced
//! (`name@provider`) and how their parts merge.

pub mod docker;
pub mod etcd;
pub mod kv;
pub mod merge;
pub mod namespace;
pub mod redis;

pub use merge::{merge_and_check, Merged, ProviderPart};

use arc_swap::ArcSwapOption;

/// The latest part each dynamic provider published (the file provider is read at each reload).
#[derive(Default)]
pub struct Sources {
    /// `None` until the Docker provider has listed the containers once (or when it is off).
    pub docker: ArcSwapOption<ProviderPart>,
    /// `None` until the Redis provider has read the keys once (or when it is off).
    pub redis: ArcSwapOption<ProviderPart>,
    /// `None` until the etcd provider has read the keys once (or when it is off).
    pub etcd: ArcSwapOption<ProviderPart>,
}

impl Sources {
    /// The parts published so far, each with its provider's name.
    pub fn parts(&self) -> Vec<(&'static str, std::sync::Arc<ProviderPart>)> {
        [
            ("docker", self.docker.load_full()),
            ("redis", self.redis.load_full()),
            ("etcd", self.etcd.load_full()),
        ]
        .into_iter()
        .filter_map(|(name, part)| part.map(|p| (name, p)))
        .collect()
    }
}
