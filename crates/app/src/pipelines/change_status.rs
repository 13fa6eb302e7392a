//! Use cases: the lifecycle actions start, pause and refresh, each allowed from any state and a
//! no-op when repeated.

use chrono::Utc;
use rosetta_domain::{
    MetadataChange, PipelineDetails, PipelineId, PipelineMetadataStatus, PipelineStatus,
    PipelineUpdate, StatusChange,
};

use crate::{AppError, Rosetta};

impl Rosetta {
    /// Starts a pipeline: status `START`, metadata `RUNNING`, `last_start_at` now, last error
    /// cleared. Starting a started pipeline changes nothing (`last_start_at` stays), unless it
    /// stopped on an error: then it starts again, which makes the data plane retry it.
    ///
    /// # Errors
    ///
    /// [`AppError::NotFound`], [`AppError::Unavailable`], [`AppError::Unknown`].
    #[tracing::instrument(skip_all, fields(pipeline_id = %id), err(level = "info"))]
    pub async fn start_pipeline(&self, id: PipelineId) -> Result<PipelineDetails, AppError> {
        self.change_status(id, PipelineStatus::Start).await
    }

    /// Pauses a pipeline: status `PAUSE`, metadata `PAUSED`. Pausing a paused pipeline changes
    /// nothing.
    ///
    /// # Errors
    ///
    /// [`AppError::NotFound`], [`AppError::Unavailable`], [`AppError::Unknown`].
    #[tracing::instrument(skip_all, fields(pipeline_id = %id), err(level = "info"))]
    pub async fn pause_pipeline(&self, id: PipelineId) -> Result<PipelineDetails, AppError> {
        self.change_status(id, PipelineStatus::Pause).await
    }

    /// Asks for a full re-copy: status `REFRESH`, metadata unchanged. Refreshing a pipeline
    /// already in `REFRESH` changes nothing.
    ///
    /// # Errors
    ///
    /// [`AppError::NotFound`], [`AppError::Unavailable`], [`AppError::Unknown`].
    #[tracing::instrument(skip_all, fields(pipeline_id = %id), err(level = "info"))]
    pub async fn refresh_pipeline(&self, id: PipelineId) -> Result<PipelineDetails, AppError> {
        self.change_status(id, PipelineStatus::Refresh).await
    }

    /// Ends a refresh once the data plane has copied everything again: status `START`,
    /// metadata unchanged (the pipeline did not stop). Nothing happens unless the pipeline is
    /// still in `REFRESH`.
    ///
    /// # Errors
    ///
    /// [`AppError::NotFound`], [`AppError::Unavailable`], [`AppError::Unknown`].
    pub(crate) async fn finish_refresh(&self, id: PipelineId) -> Result<(), AppError> {
        let current = self.find_pipeline(id).await?;
        if current.pipeline.status != PipelineStatus::Refresh {
            return Ok(());
        }
        let update = PipelineUpdate {
            status: Some(StatusChange {
                status: PipelineStatus::Start,
                metadata: MetadataChange::Unchanged,
            }),
            ..PipelineUpdate::default()
        };
        self.pipelines.update(id, update).await?;
        Ok(())
    }

    async fn change_status(
        &self,
        id: PipelineId,
        wanted: PipelineStatus,
    ) -> Result<PipelineDetails, AppError> {
        let current = self.find_pipeline(id).await?;
        let failed = current.metadata.status == PipelineMetadataStatus::Error;
        let from = if wanted == PipelineStatus::Start && failed {
            // A failed pipeline is not running: START runs it again.
            PipelineStatus::Pause
        } else {
            current.pipeline.status
        };
        let Some(change) = wanted.change_from(from, Utc::now()) else {
            return Ok(current);
        };
        let update = PipelineUpdate {
            status: Some(change),
            ..PipelineUpdate::default()
        };
        Ok(self.pipelines.update(id, update).await?)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rosetta_domain::{
        EntityKind, MetadataChange, PipelineId, PipelineMetadataStatus, PipelineStatus,
        PipelineUpdate, StatusChange,
    };

    use crate::fixtures::{applied, long_ago, pipeline_details, starts_between, Mocks};
    use crate::AppError;

    /// Pipeline 9 exists in `status`; the store applies an update to it like the real one.
    fn mocks_with_pipeline(status: PipelineStatus) -> Mocks {
        let mut mocks = Mocks::default();
        mocks
            .pipelines
            .expect_get()
            .withf(|id| *id == PipelineId::new(9))
            .returning(move |_| Ok(Some(pipeline_details(9, status))));
        mocks
    }

    fn only_status(update: &PipelineUpdate, change: StatusChange) -> bool {
        *update
            == PipelineUpdate {
                status: Some(change),
                ..PipelineUpdate::default()
            }
    }

    #[tokio::test]
    async fn starting_a_paused_pipeline_runs_it_from_now() {
        let mut mocks = mocks_with_pipeline(PipelineStatus::Pause);
        let before = Utc::now();
        mocks
            .pipelines
            .expect_update()
            .withf(move |id, update| {
                *id == PipelineId::new(9)
                    && starts_between(update.status.as_ref(), before, Utc::now())
                    && update.name.is_none()
                    && update.source_id.is_none()
                    && update.destination_id.is_none()
            })
            .times(1)
            .returning(|_, update| {
                let change = update.status.expect("a status change");
                Ok(applied(pipeline_details(9, PipelineStatus::Pause), change))
            });

        let started = mocks
            .into_rosetta()
            .start_pipeline(PipelineId::new(9))
            .await
            .expect("started");

        assert_eq!(started.pipeline.status, PipelineStatus::Start);
        assert_eq!(started.metadata.status, PipelineMetadataStatus::Running);
        assert!(started
            .metadata
            .last_start_at
            .is_some_and(|at| at >= before));
    }

    #[tokio::test]
    async fn starting_a_started_pipeline_again_changes_nothing() {
        let mut mocks = mocks_with_pipeline(PipelineStatus::Start);
        mocks.pipelines.expect_update().never();

        let started = mocks
            .into_rosetta()
            .start_pipeline(PipelineId::new(9))
            .await
            .expect("a no-op");

        assert_eq!(started, pipeline_details(9, PipelineStatus::Start));
        assert_eq!(started.metadata.last_start_at, Some(long_ago()));
    }

    #[tokio::test]
    async fn pausing_a_started_pipeline_pauses_its_metadata() {
        let mut mocks = mocks_with_pipeline(PipelineStatus::Start);
        let pause = StatusChange {
            status: PipelineStatus::Pause,
            metadata: MetadataChange::Pause,
        };
        mocks
            .pipelines
            .expect_update()
            .withf(move |_, update| only_status(update, pause))
            .times(1)
            .returning(move |_, _| Ok(applied(pipeline_details(9, PipelineStatus::Start), pause)));

        let paused = mocks
            .into_rosetta()
            .pause_pipeline(PipelineId::new(9))
            .await
            .expect("paused");

        assert_eq!(paused.pipeline.status, PipelineStatus::Pause);
        assert_eq!(paused.metadata.status, PipelineMetadataStatus::Paused);
    }

    #[tokio::test]
    async fn pausing_a_paused_pipeline_again_changes_nothing() {
        let mut mocks = mocks_with_pipeline(PipelineStatus::Pause);
        mocks.pipelines.expect_update().never();

        let paused = mocks
            .into_rosetta()
            .pause_pipeline(PipelineId::new(9))
            .await;

        assert_eq!(
            paused.ok(),
            Some(pipeline_details(9, PipelineStatus::Pause))
        );
    }

    #[tokio::test]
    async fn refreshing_a_pipeline_requests_a_copy_and_leaves_its_metadata_alone() {
        let mut mocks = mocks_with_pipeline(PipelineStatus::Start);
        let refresh = StatusChange {
            status: PipelineStatus::Refresh,
            metadata: MetadataChange::Unchanged,
        };
        mocks
            .pipelines
            .expect_update()
            .withf(move |_, update| only_status(update, refresh))
            .times(1)
            .returning(move |_, _| {
                Ok(applied(pipeline_details(9, PipelineStatus::Start), refresh))
            });

        let refreshed = mocks
            .into_rosetta()
            .refresh_pipeline(PipelineId::new(9))
            .await
            .expect("refreshed");

        assert_eq!(refreshed.pipeline.status, PipelineStatus::Refresh);
        assert_eq!(refreshed.metadata.status, PipelineMetadataStatus::Running);
    }

    #[tokio::test]
    async fn refreshing_a_refreshing_pipeline_again_changes_nothing() {
        let mut mocks = mocks_with_pipeline(PipelineStatus::Refresh);
        mocks.pipelines.expect_update().never();

        let refreshed = mocks
            .into_rosetta()
            .refresh_pipeline(PipelineId::new(9))
            .await;

        assert_eq!(
            refreshed.ok(),
            Some(pipeline_details(9, PipelineStatus::Refresh))
        );
    }

    #[tokio::test]
    async fn an_action_on_a_missing_pipeline_is_not_found() {
        let mut mocks = Mocks::default();
        mocks.pipelines.expect_get().returning(|_| Ok(None));
        mocks.pipelines.expect_update().never();
        let rosetta = mocks.into_rosetta();

        let results = [
            rosetta.start_pipeline(PipelineId::new(9)).await,
            rosetta.pause_pipeline(PipelineId::new(9)).await,
            rosetta.refresh_pipeline(PipelineId::new(9)).await,
        ];

        for result in results {
            assert!(matches!(
                result,
                Err(AppError::NotFound {
                    entity: EntityKind::Pipeline,
                    id: 9
                })
            ));
        }
    }
}
