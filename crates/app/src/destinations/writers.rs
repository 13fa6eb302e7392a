//! `WritersByType`: the destination writer of a process, handing each destination to the
//! writer of its type, and refusing the types this build has no writer for.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use rosetta_domain::ports::{DestinationError, DestinationSession, DestinationWriter};
use rosetta_domain::{Destination, DestinationType, DiagnosticCheck, PipelineId};

/// A [`DestinationWriter`] made of one writer per destination type:
///
/// ```
/// # use std::sync::Arc;
/// # use rosetta_app::WritersByType;
/// # use rosetta_domain::{ports::DestinationWriter, DestinationType};
/// # fn wire(postgres: Arc<dyn DestinationWriter>) -> WritersByType {
/// WritersByType::new().with(DestinationType::Postgres, postgres)
/// # }
/// ```
#[derive(Clone, Default)]
pub struct WritersByType {
    writers: HashMap<DestinationType, Arc<dyn DestinationWriter>>,
}

impl WritersByType {
    /// A router with no writer: every destination is refused.
    pub fn new() -> Self {
        Self::default()
    }

    /// The same router, writing destinations of type `kind` with `writer` (replacing the
    /// writer it had for that type).
    #[must_use]
    pub fn with(mut self, kind: DestinationType, writer: Arc<dyn DestinationWriter>) -> Self {
        self.writers.insert(kind, writer);
        self
    }

    /// The writer of `destination`'s type, or why there is none (never a secret).
    fn writer_of(&self, destination: &Destination) -> Result<&dyn DestinationWriter, String> {
        let kind = destination.config.destination_type();
        self.writers.get(&kind).map(AsRef::as_ref).ok_or_else(|| {
            format!("it is a {kind} destination, which this build of Rosetta does not write to yet")
        })
    }
}

// The writers are trait objects without `Debug`: the types they serve say enough.
impl fmt::Debug for WritersByType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut kinds: Vec<_> = self.writers.keys().map(|kind| kind.as_str()).collect();
        kinds.sort_unstable();
        f.debug_struct("WritersByType")
            .field("types", &kinds)
            .finish()
    }
}

#[async_trait]
impl DestinationWriter for WritersByType {
    async fn open(
        &self,
        destination: &Destination,
        pipeline: PipelineId,
        epoch: u64,
    ) -> Result<Box<dyn DestinationSession>, DestinationError> {
        match self.writer_of(destination) {
            Ok(writer) => writer.open(destination, pipeline, epoch).await,
            Err(reason) => Err(DestinationError::Rejected {
                table: format!("destination {}", destination.name),
                reason,
            }),
        }
    }

    async fn check(&self, destination: &Destination) -> Vec<DiagnosticCheck> {
        match self.writer_of(destination) {
            Ok(writer) => writer.check(destination).await,
            Err(reason) => vec![DiagnosticCheck::required("writer", false, reason)],
        }
    }
}

#[cfg(test)]
mod tests {
    use rosetta_domain::ports::{MockDestinationSession, MockDestinationWriter};
    use rosetta_domain::{DestinationConfig, DestinationId};

    use super::*;
    use crate::fixtures::{destination, snowflake_destination};

    /// A writer expecting exactly one check of destination `id`, answering `connect` passed.
    fn checking(id: i64) -> Arc<dyn DestinationWriter> {
        let mut writer = MockDestinationWriter::new();
        writer
            .expect_check()
            .withf(move |d| d.id == DestinationId::new(id))
            .times(1)
            .returning(|_| vec![DiagnosticCheck::required("connect", true, "signed in")]);
        writer.expect_open().never();
        Arc::new(writer)
    }

    /// A writer expecting nothing.
    fn idle() -> Arc<dyn DestinationWriter> {
        let mut writer = MockDestinationWriter::new();
        writer.expect_check().never();
        writer.expect_open().never();
        Arc::new(writer)
    }

    #[tokio::test]
    async fn a_check_goes_to_the_writer_of_the_destinations_type() {
        let writers = WritersByType::new()
            .with(DestinationType::Postgres, checking(2))
            .with(DestinationType::Snowflake, idle());

        let checks = writers.check(&destination(2)).await;

        assert_eq!(
            checks,
            [DiagnosticCheck::required("connect", true, "signed in")]
        );
    }

    #[tokio::test]
    async fn opening_goes_to_the_writer_of_the_destinations_type_with_the_run() {
        let mut postgres = MockDestinationWriter::new();
        postgres
            .expect_open()
            .withf(|d, pipeline, epoch| {
                d.id == DestinationId::new(2) && *pipeline == PipelineId::new(7) && *epoch == 3
            })
            .times(1)
            .returning(|_, _, _| Ok(Box::new(MockDestinationSession::new())));
        let writers = WritersByType::new()
            .with(DestinationType::Snowflake, idle())
            .with(DestinationType::Postgres, Arc::new(postgres));

        let opened = writers.open(&destination(2), PipelineId::new(7), 3).await;

        assert!(opened.is_ok());
    }

    #[tokio::test]
    async fn a_type_without_a_writer_fails_one_writer_check_and_is_refused_when_opened() {
        let writers = WritersByType::new().with(DestinationType::Postgres, idle());
        let snowflake = snowflake_destination(4);
        assert!(matches!(snowflake.config, DestinationConfig::Snowflake(_)));

        let checks = writers.check(&snowflake).await;
        assert_eq!(checks.len(), 1);
        let check = &checks[0];
        assert_eq!(check.name, "writer");
        assert!(!check.passed && check.required);
        assert_eq!(
            check.detail,
            "it is a SNOWFLAKE destination, which this build of Rosetta does not write to yet"
        );

        let refused = writers.open(&snowflake, PipelineId::new(7), 1).await;
        assert!(
            matches!(&refused, Err(DestinationError::Rejected { reason, .. }) if *reason == check.detail),
            "{:?}",
            refused.map(|_| ())
        );
    }

    #[tokio::test]
    async fn a_router_without_writers_refuses_every_destination() {
        let checks = WritersByType::new().check(&destination(2)).await;

        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].name, "writer");
        assert!(!checks[0].passed);
        assert!(
            checks[0].detail.contains("POSTGRES"),
            "{}",
            checks[0].detail
        );
    }

    #[test]
    fn the_router_shows_the_types_it_writes() {
        let writers = WritersByType::new()
            .with(DestinationType::Snowflake, idle())
            .with(DestinationType::Postgres, idle());

        assert_eq!(
            format!("{writers:?}"),
            r#"WritersByType { types: ["POSTGRES", "SNOWFLAKE"] }"#
        );
    }
}
