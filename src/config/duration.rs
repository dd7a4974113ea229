//! Durations as Traefik writes them ("10s", "500ms", "1m30s", plain seconds): defined with the
//! middlewares, which read them too (`pylon_plugins::duration`), used by every configuration part.

pub use pylon_plugins::duration::{parse, Duration};
