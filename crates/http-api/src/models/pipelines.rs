//! Pipeline bodies: create, update, the list query, and the response with the pipeline's
//! source, destination and runtime metadata (none of them holding a secret).

use apistos::schemars::{Schema, SchemaGenerator};
use rosetta_app::PipelineUpdateRequest;
use rosetta_domain::{
    DestinationId, InitialPipelineStatus, InvalidValue, Name, PageRequest, PipelineStatus, SourceId,
};

use super::params::PageQuery;
use crate::fields::Fields;
use crate::request::{request_part, RequestValue};

pub use rosetta_api_types::pipelines::{
    InitialPipelineStatusName, PipelineMetadataResponse, PipelineMetadataStatusName,
    PipelineResponse, PipelineStatusName,
};

/// Reads a creation status: `START` or `PAUSE` (`REFRESH` only applies to an existing
/// pipeline).
fn initial_status(value: &str) -> Result<InitialPipelineStatus, InvalidValue> {
    match value.parse::<PipelineStatus>() {
        Ok(status) => InitialPipelineStatus::try_from(status),
        Err(_) => Err(InvalidValue::new(
            "unknown_variant",
            "must be one of START, PAUSE",
        )),
    }
}

/// A creation status: `START` or `PAUSE` (`REFRESH` only applies to an existing pipeline).
impl RequestValue for InitialPipelineStatus {
    fn read(fields: &mut Fields<'_>, name: &str) -> Option<Self> {
        fields.parse_str(name, initial_status)
    }

    fn schema(generator: &mut SchemaGenerator) -> Schema {
        generator.subschema_for::<InitialPipelineStatusName>()
    }
}

request_part! {
    /// A source connected to a destination.
    body struct CreatePipelineBody => NewPipelineRequest {
        /// Unique name: 1–255 of `[A-Za-z0-9_-]`, stored lower-cased.
        #[schemars(example = &"orders-to-dw")]
        required name: Name,
        /// The source to replicate from; it must exist.
        #[schemars(example = 1)]
        required source_id: SourceId,
        /// The destination to deliver to; it must exist.
        #[schemars(example = 1)]
        required destination_id: DestinationId,
        /// `START` (the default): running from now; `PAUSE`: created paused.
        default status: InitialPipelineStatus,
    }
}

/// A valid create body: the domain's own type.
pub use rosetta_domain::NewPipelineRequest;

request_part! {
    /// A partial update of a pipeline: omitted fields keep their value. A status change has the
    /// side effects of the matching action (`start`, `pause`, `refresh`); asking for the current
    /// status changes nothing.
    body struct UpdatePipelineBody => PipelineUpdateRequest {
        /// New unique name.
        #[schemars(example = &"orders-to-dw")]
        optional name: Name,
        /// New source; it must exist.
        #[schemars(example = 2)]
        optional source_id: SourceId,
        /// New destination; it must exist.
        #[schemars(example = 2)]
        optional destination_id: DestinationId,
        /// The status wanted.
        optional status: PipelineStatus,
    }
}

request_part! {
    /// A page of pipelines ordered by id, optionally only those in one status.
    query struct PipelineListQuery => (PageRequest, Option<PipelineStatus>) {
        /// The page.
        flatten page: PageQuery,
        /// Only pipelines in this status.
        optional status: PipelineStatus,
    } with |_| Some((page?, status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipeline_is_created_started_or_paused_only() {
        assert_eq!(initial_status("PAUSE"), Ok(InitialPipelineStatus::Pause));
        assert_eq!(initial_status("START"), Ok(InitialPipelineStatus::Start));
        assert!(initial_status("REFRESH").is_err());
        assert!(initial_status("start").is_err());
    }
}
