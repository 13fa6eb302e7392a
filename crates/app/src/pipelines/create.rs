//! Use case: create a pipeline between an existing source and an existing destination.

use chrono::Utc;
use rosetta_domain::{
    DestinationId, InitialPipelineStatus, Name, NewPipeline, PipelineDetails, SourceId,
};

use crate::{AppError, Rosetta};

impl Rosetta {
    /// Creates a pipeline and its runtime metadata, consistent with `status` (a started pipeline
    /// is `RUNNING` from now, a paused one `PAUSED`).
    ///
    /// # Errors
    ///
    /// [`AppError::NotFound`] naming the source, or else the destination, when it does not
    /// exist (nothing is written then), [`AppError::Duplicate`] when the name is taken,
    /// [`AppError::Unavailable`], [`AppError::Unknown`].
    #[tracing::instrument(skip_all, fields(%name, %source_id, %destination_id, ?status), err(level = "info"))]
    pub async fn create_pipeline(
        &self,
        name: Name,
        source_id: SourceId,
        destination_id: DestinationId,
        status: InitialPipelineStatus,
    ) -> Result<PipelineDetails, AppError> {
        self.find_source(source_id).await?;
        self.find_destination(destination_id).await?;
        // The store checks both again (`SourceMissing`, …) should one be deleted meanwhile.
        let pipeline = NewPipeline {
            name,
            source_id,
            destination_id,
            initial: status.change(Utc::now()),
        };
        Ok(self.pipelines.create(pipeline).await?)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rosetta_domain::ports::PipelineRepositoryError;
    use rosetta_domain::{
        DestinationId, EntityKind, InitialPipelineStatus, MetadataChange, PipelineStatus, SourceId,
        StatusChange,
    };

    use crate::fixtures::{
        applied, destination, name, pipeline_details, source, starts_between, Mocks,
    };
    use crate::AppError;

    /// Source 1 and destination 2 exist.
    fn mocks_with_source_and_destination() -> Mocks {
        let mut mocks = Mocks::default();
        mocks
            .sources
            .expect_get()
            .returning(|_| Ok(Some(source(1))));
        mocks
            .destinations
            .expect_get()
            .returning(|_| Ok(Some(destination(2))));
        mocks
    }

    #[tokio::test]
    async fn a_pipeline_without_its_source_is_refused_naming_the_source() {
        let mut mocks = Mocks::default();
        mocks
            .sources
            .expect_get()
            .withf(|id| *id == SourceId::new(1))
            .returning(|_| Ok(None));
        mocks
            .destinations
            .expect_get()
            .returning(|_| Ok(Some(destination(2))));
        mocks.pipelines.expect_create().never();

        let error = mocks
            .into_rosetta()
            .create_pipeline(
                name("orders"),
                SourceId::new(1),
                DestinationId::new(2),
                InitialPipelineStatus::Start,
            )
            .await;

        assert!(matches!(
            error,
            Err(AppError::NotFound {
                entity: EntityKind::Source,
                id: 1
            })
        ));
    }

    #[tokio::test]
    async fn a_pipeline_without_its_destination_is_refused_naming_the_destination() {
        let mut mocks = Mocks::default();
        mocks
            .sources
            .expect_get()
            .returning(|_| Ok(Some(source(1))));
        mocks
            .destinations
            .expect_get()
            .withf(|id| *id == DestinationId::new(2))
            .returning(|_| Ok(None));
        mocks.pipelines.expect_create().never();

        let error = mocks
            .into_rosetta()
            .create_pipeline(
                name("orders"),
                SourceId::new(1),
                DestinationId::new(2),
                InitialPipelineStatus::Start,
            )
            .await;

        assert!(matches!(
            error,
            Err(AppError::NotFound {
                entity: EntityKind::Destination,
                id: 2
            })
        ));
    }

    #[tokio::test]
    async fn a_pipeline_missing_both_ends_is_refused_naming_the_source_first() {
        let mut mocks = Mocks::default();
        mocks.sources.expect_get().returning(|_| Ok(None));
        mocks.destinations.expect_get().returning(|_| Ok(None));
        mocks.pipelines.expect_create().never();

        let error = mocks
            .into_rosetta()
            .create_pipeline(
                name("orders"),
                SourceId::new(1),
                DestinationId::new(2),
                InitialPipelineStatus::Start,
            )
            .await;

        assert!(matches!(
            error,
            Err(AppError::NotFound {
                entity: EntityKind::Source,
                id: 1
            })
        ));
    }

    #[tokio::test]
    async fn a_pipeline_created_started_runs_from_now() {
        let mut mocks = mocks_with_source_and_destination();
        let before = Utc::now();
        mocks
            .pipelines
            .expect_create()
            .withf(move |new| {
                new.name == name("orders")
                    && new.source_id == SourceId::new(1)
                    && new.destination_id == DestinationId::new(2)
                    && starts_between(Some(&new.initial), before, Utc::now())
            })
            .times(1)
            .returning(|new| {
                Ok(applied(
                    pipeline_details(9, PipelineStatus::Pause),
                    new.initial,
                ))
            });

        let created = mocks
            .into_rosetta()
            .create_pipeline(
                name("orders"),
                SourceId::new(1),
                DestinationId::new(2),
                InitialPipelineStatus::Start,
            )
            .await;

        assert_eq!(
            created.ok().map(|details| details.pipeline.status),
            Some(PipelineStatus::Start)
        );
    }

    #[tokio::test]
    async fn a_pipeline_created_paused_has_paused_metadata() {
        let mut mocks = mocks_with_source_and_destination();
        mocks
            .pipelines
            .expect_create()
            .withf(|new| {
                new.initial
                    == StatusChange {
                        status: PipelineStatus::Pause,
                        metadata: MetadataChange::Pause,
                    }
            })
            .times(1)
            .returning(|new| {
                Ok(applied(
                    pipeline_details(9, PipelineStatus::Start),
                    new.initial,
                ))
            });

        let created = mocks
            .into_rosetta()
            .create_pipeline(
                name("orders"),
                SourceId::new(1),
                DestinationId::new(2),
                InitialPipelineStatus::Pause,
            )
            .await;

        assert_eq!(
            created.ok().map(|details| details.pipeline.status),
            Some(PipelineStatus::Pause)
        );
    }

    #[tokio::test]
    async fn a_pipeline_with_a_taken_name_is_a_duplicate() {
        let mut mocks = mocks_with_source_and_destination();
        mocks
            .pipelines
            .expect_create()
            .returning(|new| Err(PipelineRepositoryError::Duplicate(new.name)));

        let error = mocks
            .into_rosetta()
            .create_pipeline(
                name("orders"),
                SourceId::new(1),
                DestinationId::new(2),
                InitialPipelineStatus::Start,
            )
            .await;

        assert!(matches!(
            error,
            Err(AppError::Duplicate { entity: EntityKind::Pipeline, field: "name", ref value })
                if value == "orders"
        ));
    }

    #[tokio::test]
    async fn a_source_deleted_while_the_pipeline_is_created_is_not_found() {
        let mut mocks = mocks_with_source_and_destination();
        mocks
            .pipelines
            .expect_create()
            .returning(|new| Err(PipelineRepositoryError::SourceMissing(new.source_id)));

        let error = mocks
            .into_rosetta()
            .create_pipeline(
                name("orders"),
                SourceId::new(1),
                DestinationId::new(2),
                InitialPipelineStatus::Start,
            )
            .await;

        assert!(matches!(
            error,
            Err(AppError::NotFound {
                entity: EntityKind::Source,
                id: 1
            })
        ));
    }
}
