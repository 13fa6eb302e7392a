//! The data plane's vocabulary: positions in a source's WAL, the tables a publication
//! replicates, the changes a replication stream carries, and what a running pipeline reports.
//!
//! Nothing here knows a wire format: the stream adapter decodes PostgreSQL's `pgoutput`
//! messages into these values and the destination adapter writes them; the use cases in
//! `rosetta-app` decide what to read, what to batch and what to confirm.

mod change;
pub mod fold;
mod lsn;
mod runtime;
mod source_facts;
mod table;

pub use change::{Change, Datum, Relation, RelationColumn, Row, StreamEvent};
pub use lsn::Lsn;
pub use runtime::{
    PipelinePhase, PipelineProgress, PipelineSeriesPoint, PipelineSeriesQuery, TableProgress,
    TableState,
};
pub use source_facts::{PublishedActions, SlotState, SourceFacts};
pub use table::{Column, RelationId, ReplicaIdentity, TableName, TableSchema};

use crate::{PipelineId, ReplicationId};

/// The name of the logical replication slot a pipeline owns on its source:
/// `rosetta_<replication_id>_<pipeline_id>`. The source's `replication_id` keeps the slots of
/// one Rosetta apart from another's on a shared server; the pipeline id keeps two pipelines
/// of one source from sharing a slot (and one's pause from holding back the other).
pub fn pipeline_slot_name(replication_id: ReplicationId, pipeline: PipelineId) -> String {
    format!("{}{}", crate::slot_prefix(replication_id), pipeline.get())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipelines_slot_is_named_by_its_sources_replication_id_and_its_own_id() {
        let id = ReplicationId::new(7).unwrap();
        assert_eq!(pipeline_slot_name(id, PipelineId::new(42)), "rosetta_7_42");
        assert_ne!(
            pipeline_slot_name(id, PipelineId::new(1)),
            pipeline_slot_name(id, PipelineId::new(2))
        );
    }
}
