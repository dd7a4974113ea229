//! How a request ended, as the host tells plugins that ask (`Plugin::wants_outcome`).

/// The end of one request: what the client got, and whether the upstream failed to answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The status sent to the client (0 when none was: the client went away first).
    pub status: u16,
    /// The upstream could not be reached or failed mid-answer (connection refused or reset,
    /// timeout), or the answer was a 502 or 504 (what oxy's cbreaker counts as network
    /// errors, whoever wrote them).
    pub network_error: bool,
}
