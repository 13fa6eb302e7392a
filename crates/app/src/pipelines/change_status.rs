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
        let updated = self.pipelines.update(id, update).await?;
        self.catalogue_changed();
        Ok(updated)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rosetta_domain::{
        EntityKind, MetadataChange, PipelineDetails, PipelineId, PipelineMetadataStatus,
        PipelineStatus, PipelineUpdate, StatusChange,
    };

    use crate::fixtures::{
        applied, assert_not_found, expect_only_a_start, long_ago, pipeline_details, Mocks,
    };
    use crate::{AppError, Rosetta};

    /// Pipeline 9 exists in `status`.
    fn mocks_with_pipeline(status: PipelineStatus) -> Mocks {
        Mocks::default().with_pipeline(9, status)
    }

    fn only_status(update: &PipelineUpdate, change: StatusChange) -> bool {
        *update
            == PipelineUpdate {
                status: Some(change),
                ..PipelineUpdate::default()
            }
    }

    /// Asks pipeline 9, started, for `change.status`: the store must be asked once for
    /// `change` alone, which it applies like the real one.
    async fn changed_from_started(change: StatusChange) -> PipelineDetails {
        let mut mocks = mocks_with_pipeline(PipelineStatus::Start);
        mocks
            .pipelines
            .expect_update()
            .withf(move |id, update| *id == PipelineId::new(9) && only_status(update, change))
            .times(1)
            .returning(move |_, _| Ok(applied(pipeline_details(9, PipelineStatus::Start), change)));
        act(&mocks.into_rosetta(), change.status)
            .await
            .expect("a status change")
    }

    /// The action that asks for `wanted`, on pipeline 9.
    async fn act(rosetta: &Rosetta, wanted: PipelineStatus) -> Result<PipelineDetails, AppError> {
        let id = PipelineId::new(9);
        match wanted {
            PipelineStatus::Start => rosetta.start_pipeline(id).await,
            PipelineStatus::Pause => rosetta.pause_pipeline(id).await,
            PipelineStatus::Refresh => rosetta.refresh_pipeline(id).await,
        }
    }

    /// Asks pipeline 9, already in `status`, for `status` again: nothing may be written.
    async fn again(status: PipelineStatus) -> Result<PipelineDetails, AppError> {
        let mut mocks = mocks_with_pipeline(status);
        mocks.pipelines.expect_update().never();
        act(&mocks.into_rosetta(), status).await
    }

    #[tokio::test]
    async fn starting_a_paused_pipeline_runs_it_from_now() {
        let mut mocks = mocks_with_pipeline(PipelineStatus::Pause);
        let before = Utc::now();
        expect_only_a_start(&mut mocks, before);

        let started = act(&mocks.into_rosetta(), PipelineStatus::Start)
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
        let started = again(PipelineStatus::Start).await.expect("a no-op");

        assert_eq!(started, pipeline_details(9, PipelineStatus::Start));
        assert_eq!(started.metadata.last_start_at, Some(long_ago()));
    }

    #[tokio::test]
    async fn pausing_a_started_pipeline_pauses_its_metadata() {
        let paused = changed_from_started(StatusChange {
            status: PipelineStatus::Pause,
            metadata: MetadataChange::Pause,
        })
        .await;

        assert_eq!(paused.pipeline.status, PipelineStatus::Pause);
        assert_eq!(paused.metadata.status, PipelineMetadataStatus::Paused);
    }

    #[tokio::test]
    async fn a_change_wakes_the_replicator_of_the_process_and_a_repeat_does_not() {
        use futures_util::FutureExt as _;

        let change = StatusChange {
            status: PipelineStatus::Pause,
            metadata: MetadataChange::Pause,
        };
        let mut mocks = mocks_with_pipeline(PipelineStatus::Start);
        mocks
            .pipelines
            .expect_update()
            .times(1)
            .returning(move |_, _| Ok(applied(pipeline_details(9, PipelineStatus::Start), change)));
        let rosetta = mocks.into_rosetta();
        act(&rosetta, PipelineStatus::Pause).await.expect("paused");
        assert!(
            rosetta.catalogue.notified().now_or_never().is_some(),
            "the pause wakes the replicator"
        );

        let mut mocks = mocks_with_pipeline(PipelineStatus::Pause);
        mocks.pipelines.expect_update().never();
        let rosetta = mocks.into_rosetta();
        act(&rosetta, PipelineStatus::Pause).await.expect("a no-op");
        assert!(
            rosetta.catalogue.notified().now_or_never().is_none(),
            "a pause of a paused pipeline has nothing to say"
        );
    }

    #[tokio::test]
    async fn pausing_a_paused_pipeline_again_changes_nothing() {
        let paused = again(PipelineStatus::Pause).await;

        assert_eq!(
            paused.ok(),
            Some(pipeline_details(9, PipelineStatus::Pause))
        );
    }

    #[tokio::test]
    async fn refreshing_a_pipeline_requests_a_copy_and_leaves_its_metadata_alone() {
        let refreshed = changed_from_started(StatusChange {
            status: PipelineStatus::Refresh,
            metadata: MetadataChange::Unchanged,
        })
        .await;

        assert_eq!(refreshed.pipeline.status, PipelineStatus::Refresh);
        assert_eq!(refreshed.metadata.status, PipelineMetadataStatus::Running);
    }

    #[tokio::test]
    async fn refreshing_a_refreshing_pipeline_again_changes_nothing() {
        let refreshed = again(PipelineStatus::Refresh).await;

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

        for wanted in [
            PipelineStatus::Start,
            PipelineStatus::Pause,
            PipelineStatus::Refresh,
        ] {
            assert_not_found(&act(&rosetta, wanted).await, EntityKind::Pipeline, 9);
        }
    }

    #[tokio::test]
    async fn starting_a_pipeline_that_failed_runs_it_again() {
        let mut failed = pipeline_details(9, PipelineStatus::Start);
        failed.metadata.status = PipelineMetadataStatus::Error;
        failed.metadata.last_error = Some("wal_level is 'replica'".to_owned());
        let mut mocks = Mocks::default();
        let stored = failed.clone();
        mocks
            .pipelines
            .expect_get()
            .returning(move |_| Ok(Some(stored.clone())));
        let before = Utc::now();
        expect_only_a_start(&mut mocks, before);

        let started = mocks
            .into_rosetta()
            .start_pipeline(PipelineId::new(9))
            .await
            .expect("a start");

        assert_eq!(started.metadata.status, PipelineMetadataStatus::Running);
    }

    #[tokio::test]
    async fn the_end_of_a_refresh_sets_start_and_leaves_the_metadata_alone() {
        let mut mocks = mocks_with_pipeline(PipelineStatus::Refresh);
        let change = StatusChange {
            status: PipelineStatus::Start,
            metadata: MetadataChange::Unchanged,
        };
        mocks
            .pipelines
            .expect_update()
            .withf(move |id, update| *id == PipelineId::new(9) && only_status(update, change))
            .times(1)
            .returning(move |_, _| Ok(pipeline_details(9, PipelineStatus::Start)));
        let rosetta = mocks.into_rosetta();
        rosetta.finish_refresh(PipelineId::new(9)).await.unwrap();

        // Not refreshing any more: nothing to end.
        let mut mocks = mocks_with_pipeline(PipelineStatus::Start);
        mocks.pipelines.expect_update().never();
        mocks
            .into_rosetta()
            .finish_refresh(PipelineId::new(9))
            .await
            .unwrap();
    }
}
