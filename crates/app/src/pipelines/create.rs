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
        // The store refuses a missing end in the same statement that would write the pipeline
        // (`SourceMissing`, or else `DestinationMissing`): reading both ends first would decrypt
        // them only to drop them, and could not see one deleted meanwhile anyway.
        let pipeline = NewPipeline {
            name,
            source_id,
            destination_id,
            status,
            requested_at: Utc::now(),
        };
        let created = self.pipelines.create(pipeline).await?;
        self.catalogue_changed();
        Ok(created)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rosetta_domain::ports::PipelineRepositoryError;
    use rosetta_domain::{
        DestinationId, EntityKind, InitialPipelineStatus, NewPipeline, PipelineDetails,
        PipelineMetadataStatus, PipelineStatus, SourceId,
    };

    use crate::fixtures::{assert_duplicate_name, assert_not_found, name, pipeline_details, Mocks};
    use crate::AppError;

    /// What the store returns for `new`, as the real one would.
    fn created(new: &NewPipeline) -> PipelineDetails {
        let mut details = pipeline_details(9, new.status.status());
        details.metadata.status = new.status.metadata_status();
        details.metadata.last_start_at = new.last_start_at();
        details
    }

    /// Mocks whose sources and destinations must not be read: the store checks both ends.
    fn mocks() -> Mocks {
        let mut mocks = Mocks::default();
        mocks.sources.expect_get().never();
        mocks.destinations.expect_get().never();
        mocks
    }

    async fn create(
        mocks: Mocks,
        status: InitialPipelineStatus,
    ) -> Result<PipelineDetails, AppError> {
        mocks
            .into_rosetta()
            .create_pipeline(
                name("orders"),
                SourceId::new(1),
                DestinationId::new(2),
                status,
            )
            .await
    }

    #[tokio::test]
    async fn a_pipeline_without_its_source_is_refused_naming_the_source() {
        let mut mocks = mocks();
        mocks
            .pipelines
            .expect_create()
            .times(1)
            .returning(|new| Err(PipelineRepositoryError::SourceMissing(new.source_id)));

        let error = create(mocks, InitialPipelineStatus::Start).await;

        assert_not_found(&error, EntityKind::Source, 1);
    }

    #[tokio::test]
    async fn a_pipeline_without_its_destination_is_refused_naming_the_destination() {
        let mut mocks = mocks();
        mocks.pipelines.expect_create().times(1).returning(|new| {
            Err(PipelineRepositoryError::DestinationMissing(
                new.destination_id,
            ))
        });

        let error = create(mocks, InitialPipelineStatus::Start).await;

        assert_not_found(&error, EntityKind::Destination, 2);
    }

    #[tokio::test]
    async fn a_pipeline_created_started_runs_from_now() {
        let mut mocks = mocks();
        let before = Utc::now();
        mocks
            .pipelines
            .expect_create()
            .withf(move |new| {
                new.name == name("orders")
                    && new.source_id == SourceId::new(1)
                    && new.destination_id == DestinationId::new(2)
                    && new.status == InitialPipelineStatus::Start
                    && (before..=Utc::now()).contains(&new.requested_at)
            })
            .times(1)
            .returning(|new| Ok(created(&new)));

        let created = create(mocks, InitialPipelineStatus::Start).await.unwrap();

        assert_eq!(created.pipeline.status, PipelineStatus::Start);
        assert_eq!(created.metadata.status, PipelineMetadataStatus::Running);
    }

    #[tokio::test]
    async fn a_pipeline_created_paused_has_paused_metadata() {
        let mut mocks = mocks();
        mocks
            .pipelines
            .expect_create()
            .withf(|new| {
                new.status == InitialPipelineStatus::Pause && new.last_start_at().is_none()
            })
            .times(1)
            .returning(|new| Ok(created(&new)));

        let created = create(mocks, InitialPipelineStatus::Pause).await.unwrap();

        assert_eq!(created.pipeline.status, PipelineStatus::Pause);
        assert_eq!(created.metadata.status, PipelineMetadataStatus::Paused);
        assert_eq!(created.metadata.last_start_at, None);
    }

    #[tokio::test]
    async fn a_pipeline_with_a_taken_name_is_a_duplicate() {
        let mut mocks = mocks();
        mocks
            .pipelines
            .expect_create()
            .returning(|new| Err(PipelineRepositoryError::Duplicate(new.name)));

        let error = create(mocks, InitialPipelineStatus::Start).await;

        assert_duplicate_name(&error, EntityKind::Pipeline, "orders");
    }
}
