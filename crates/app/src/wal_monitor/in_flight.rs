//! The claim a probe task holds on its source, so that a source is never probed twice at once.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use rosetta_domain::SourceId;

/// A source being probed; dropping it (when the task ends, whichever way) frees the source.
#[derive(Debug)]
pub(super) struct InFlight {
    set: Arc<Mutex<HashSet<SourceId>>>,
    id: SourceId,
}

impl InFlight {
    /// Claims `id`; `None` when a task already holds it.
    pub(super) fn claim(set: &Arc<Mutex<HashSet<SourceId>>>, id: SourceId) -> Option<Self> {
        let claimed = lock(set).insert(id);
        claimed.then(|| Self {
            set: Arc::clone(set),
            id,
        })
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        lock(&self.set).remove(&self.id);
    }
}

/// The set, even when a panicking thread poisoned it: an insert or remove cannot leave a
/// `HashSet` half-changed, and refusing to touch it would keep sources claimed forever.
fn lock(set: &Mutex<HashSet<SourceId>>) -> std::sync::MutexGuard<'_, HashSet<SourceId>> {
    set.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_is_claimed_once_until_its_claim_is_dropped() {
        let set = Arc::default();
        let first = InFlight::claim(&set, SourceId::new(1));
        assert!(first.is_some());
        assert!(InFlight::claim(&set, SourceId::new(1)).is_none());
        assert!(InFlight::claim(&set, SourceId::new(2)).is_some());

        drop(first);

        assert!(InFlight::claim(&set, SourceId::new(1)).is_some());
    }
}
