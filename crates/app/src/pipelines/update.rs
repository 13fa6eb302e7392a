//! Use case: change a pipeline's name, source, destination or status (`PUT`), with the same
//! rules as creation and as the lifecycle actions.

use chrono::Utc;
use rosetta_domain::{PipelineDetails, PipelineId, PipelineUpdate};

use crate::{AppError, Rosetta};

/// A partial update of a pipeline as a client asks for it (the domain's type, re-exported here
/// where the use case that takes it is).
pub use rosetta_domain::PipelineUpdateRequest;

impl Rosetta {
    /// Applies a partial update. A new source or destination must exist; a status change has
    /// the side effects of the matching action ([`Rosetta::start_pipeline`], …), and asking for
    /// the current status changes nothing. When nothing is left to write, the pipeline is
    /// returned as it is.
    ///
    /// # Errors
    ///
    /// [`AppError::NotFound`] naming the pipeline, or the new source or destination when it does
    /// not exist (nothing is written then), [`AppError::Duplicate`] when the new name is taken,
    /// [`AppError::Unavailable`], [`AppError::Unknown`].
    #[tracing::instrument(skip(self, id), fields(pipeline_id = %id), err(level = "info"))]
    pub async fn update_pipeline(
        &self,
        id: PipelineId,
        request: PipelineUpdateRequest,
    ) -> Result<PipelineDetails, AppError> {
        let current = self.find_pipeline(id).await?;
        // The current source and destination exist (the store keeps them referenced); only a
        // new one needs checking.
        if let Some(source_id) = request.source_id {
            if source_id != current.pipeline.source_id {
                self.find_source(source_id).await?;
            }
        }
        if let Some(destination_id) = request.destination_id {
            if destination_id != current.pipeline.destination_id {
                self.find_destination(destination_id).await?;
            }
        }
        let update = PipelineUpdate {
            name: request.name,
            source_id: request.source_id,
            destination_id: request.destination_id,
            status: request
                .status
                .and_then(|wanted| wanted.change_from(current.pipeline.status, Utc::now())),
        };
        if update.is_empty() {
            return Ok(current);
        }
        let updated = self.pipelines.update(id, update).await?;
        self.catalogue_changed();
        Ok(updated)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rosetta_domain::{
        DestinationId, EntityKind, PipelineDetails, PipelineId, PipelineStatus, PipelineUpdate,
        SourceId,
    };

    use super::PipelineUpdateRequest;
    use crate::fixtures::{
        assert_not_found, destination, expect_only_a_start, name, pipeline_details, source, Mocks,
    };
    use crate::AppError;

    /// Pipeline 9 exists, from source 1 to destination 2, in `status`.
    fn mocks_with_pipeline(status: PipelineStatus) -> Mocks {
        Mocks::default().with_pipeline(9, status)
    }

    /// The store expects one update of pipeline 9 that `matches`, and answers it started.
    fn expect_one_update(
        mocks: &mut Mocks,
        matches: impl Fn(&PipelineUpdate) -> bool + Send + 'static,
    ) {
        mocks
            .pipelines
            .expect_update()
            .withf(move |id, update| *id == PipelineId::new(9) && matches(update))
            .times(1)
            .returning(|_, _| Ok(pipeline_details(9, PipelineStatus::Start)));
    }

    /// Asks for `request` on pipeline 9.
    async fn update_9(
        mocks: Mocks,
        request: PipelineUpdateRequest,
    ) -> Result<PipelineDetails, AppError> {
        mocks
            .into_rosetta()
            .update_pipeline(PipelineId::new(9), request)
            .await
    }

    #[tokio::test]
    async fn moving_a_pipeline_to_a_missing_source_is_refused_before_any_write() {
        let mut mocks = mocks_with_pipeline(PipelineStatus::Start);
        mocks
            .sources
            .expect_get()
            .withf(|id| *id == SourceId::new(5))
            .returning(|_| Ok(None));
        mocks.pipelines.expect_update().never();
        let request = PipelineUpdateRequest {
            source_id: Some(SourceId::new(5)),
            ..PipelineUpdateRequest::default()
        };

        let error = update_9(mocks, request).await;

        assert_not_found(&error, EntityKind::Source, 5);
    }

    #[tokio::test]
    async fn moving_a_pipeline_to_a_missing_destination_is_refused_before_any_write() {
        let mut mocks = mocks_with_pipeline(PipelineStatus::Start);
        mocks
            .destinations
            .expect_get()
            .withf(|id| *id == DestinationId::new(6))
            .returning(|_| Ok(None));
        mocks.pipelines.expect_update().never();
        let request = PipelineUpdateRequest {
            destination_id: Some(DestinationId::new(6)),
            ..PipelineUpdateRequest::default()
        };

        let error = update_9(mocks, request).await;

        assert_not_found(&error, EntityKind::Destination, 6);
    }

    #[tokio::test]
    async fn moving_a_pipeline_to_existing_ends_writes_them() {
        let mut mocks = mocks_with_pipeline(PipelineStatus::Start);
        mocks
            .sources
            .expect_get()
            .times(1)
            .returning(|_| Ok(Some(source(5))));
        mocks
            .destinations
            .expect_get()
            .times(1)
            .returning(|_| Ok(Some(destination(6))));
        let expected = PipelineUpdate {
            source_id: Some(SourceId::new(5)),
            destination_id: Some(DestinationId::new(6)),
            ..PipelineUpdate::default()
        };
        expect_one_update(&mut mocks, move |update| *update == expected);
        let request = PipelineUpdateRequest {
            source_id: Some(SourceId::new(5)),
            destination_id: Some(DestinationId::new(6)),
            ..PipelineUpdateRequest::default()
        };

        assert!(update_9(mocks, request).await.is_ok());
    }

    #[tokio::test]
    async fn keeping_the_current_source_does_not_look_it_up_again() {
        let mut mocks = mocks_with_pipeline(PipelineStatus::Start);
        mocks.sources.expect_get().never();
        expect_one_update(&mut mocks, |update| {
            update.source_id == Some(SourceId::new(1))
        });
        let request = PipelineUpdateRequest {
            source_id: Some(SourceId::new(1)),
            ..PipelineUpdateRequest::default()
        };

        assert!(update_9(mocks, request).await.is_ok());
    }

    #[tokio::test]
    async fn starting_a_pipeline_through_an_update_runs_it_from_now() {
        let mut mocks = mocks_with_pipeline(PipelineStatus::Pause);
        let before = Utc::now();
        expect_only_a_start(&mut mocks, before);
        let request = PipelineUpdateRequest {
            status: Some(PipelineStatus::Start),
            ..PipelineUpdateRequest::default()
        };

        let updated = update_9(mocks, request).await;

        assert_eq!(
            updated.ok().map(|details| details.pipeline.status),
            Some(PipelineStatus::Start)
        );
    }

    #[tokio::test]
    async fn an_update_asking_for_the_current_status_writes_nothing() {
        let mut mocks = mocks_with_pipeline(PipelineStatus::Start);
        mocks.pipelines.expect_update().never();
        let request = PipelineUpdateRequest {
            status: Some(PipelineStatus::Start),
            ..PipelineUpdateRequest::default()
        };

        let updated = update_9(mocks, request).await;

        assert_eq!(
            updated.ok(),
            Some(pipeline_details(9, PipelineStatus::Start))
        );
    }

    #[tokio::test]
    async fn renaming_a_pipeline_in_its_current_status_writes_only_the_name() {
        let mut mocks = mocks_with_pipeline(PipelineStatus::Start);
        let expected = PipelineUpdate {
            name: Some(name("renamed")),
            ..PipelineUpdate::default()
        };
        expect_one_update(&mut mocks, move |update| *update == expected);
        let request = PipelineUpdateRequest {
            name: Some(name("renamed")),
            status: Some(PipelineStatus::Start),
            ..PipelineUpdateRequest::default()
        };

        assert!(update_9(mocks, request).await.is_ok());
    }

    #[tokio::test]
    async fn updating_a_missing_pipeline_is_not_found() {
        let mut mocks = Mocks::default();
        mocks.pipelines.expect_get().returning(|_| Ok(None));
        mocks.pipelines.expect_update().never();
        let request = PipelineUpdateRequest {
            name: Some(name("renamed")),
            ..PipelineUpdateRequest::default()
        };

        let error = update_9(mocks, request).await;

        assert_not_found(&error, EntityKind::Pipeline, 9);
    }
}
