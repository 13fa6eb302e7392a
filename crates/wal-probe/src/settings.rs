//! The knobs of a probe: how long it may take at each step.

use std::time::Duration;

/// How long a probe may take. Each bound protects the source or the caller from a different
/// kind of stall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSettings {
    /// How long opening the TCP connection may take (10 s by default).
    pub connect_timeout: Duration,
    /// The `statement_timeout` the server applies to the probe's query (10 s by default), so a
    /// stuck query is cancelled on the source even if the probe has already given up.
    pub statement_timeout: Duration,
    /// How long the whole probe — connect, log in, query — may take before it is abandoned and
    /// its connection dropped (30 s by default).
    pub probe_timeout: Duration,
}

impl Default for ProbeSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            statement_timeout: Duration::from_secs(10),
            probe_timeout: Duration::from_secs(30),
        }
    }
}
