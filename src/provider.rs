//! Providers: where the dynamic configuration comes from (the file provider, the Docker
//! provider), how their names are namespaced (`name@provider`) and how their parts merge.

pub mod docker;
pub mod merge;
pub mod namespace;

pub use merge::{merge_and_check, DockerPart, Merged};

use arc_swap::ArcSwapOption;

/// The latest part each dynamic provider published (the file provider is read at each reload).
#[derive(Default)]
pub struct Sources {
    /// `None` until the Docker provider has listed the containers once (or when it is off).
    pub docker: ArcSwapOption<DockerPart>,
}
