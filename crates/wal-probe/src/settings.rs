//! The knobs of a probe: how long it may take at each step.

use std::time::Duration;

/// The longest a probe waits for one step (connecting, a statement), however long the whole
/// probe may take.
const MAX_STEP: Duration = Duration::from_secs(10);

/// How long a probe may take. Each bound protects the source or the caller from a different
/// kind of stall.
///
/// They all follow from the whole probe's deadline, through [`ProbeSettings::within`]: in the
/// service that is the monitor's `WAL_MONITOR_TIMEOUT_SECONDS`, whose default the monitor's
/// settings own, so the probe has no default of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeSettings {
    /// How long opening the TCP connection may take.
    pub connect_timeout: Duration,
    /// The `statement_timeout` the server applies to the probe's query, so a stuck query is
    /// cancelled on the source even if the probe has already given up.
    pub statement_timeout: Duration,
    /// How long the whole probe — connect, log in, query — may take before it is abandoned and
    /// its connection dropped.
    pub probe_timeout: Duration,
}

impl ProbeSettings {
    /// The whole probe within `probe_timeout`, each step within at most 10 seconds of it.
    pub fn within(probe_timeout: Duration) -> Self {
        let step = probe_timeout.min(MAX_STEP);
        Self {
            connect_timeout: step,
            statement_timeout: step,
            probe_timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_step_gets_at_most_ten_seconds_of_the_probe_timeout() {
        let long = ProbeSettings::within(Duration::from_secs(30));
        assert_eq!(long.connect_timeout, Duration::from_secs(10));
        assert_eq!(long.statement_timeout, Duration::from_secs(10));
        assert_eq!(long.probe_timeout, Duration::from_secs(30));
        let short = ProbeSettings::within(Duration::from_secs(4));
        assert_eq!(short.connect_timeout, Duration::from_secs(4));
        assert_eq!(short.statement_timeout, Duration::from_secs(4));
    }
}
