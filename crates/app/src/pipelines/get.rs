//! Use case: read one pipeline with its source, destination and metadata.

use rosetta_domain::{EntityKind, PipelineDetails, PipelineId};

use crate::{AppError, Rosetta};

impl Rosetta {
    /// The pipeline with this id, with its source, destination and runtime metadata.
    ///
    /// # Errors
    ///
    /// [`AppError::NotFound`], [`AppError::Unavailable`], [`AppError::Unknown`].
    #[tracing::instrument(skip_all, fields(pipeline_id = %id), err(level = "info"))]
    pub async fn get_pipeline(&self, id: PipelineId) -> Result<PipelineDetails, AppError> {
        self.find_pipeline(id).await
    }

    /// The pipeline with this id, for use cases that need it to exist.
    pub(crate) async fn find_pipeline(&self, id: PipelineId) -> Result<PipelineDetails, AppError> {
        self.pipelines.get(id).await?.ok_or(AppError::NotFound {
            entity: EntityKind::Pipeline,
            id: id.get(),
        })
    }
}

#[cfg(test)]
mod tests {
    use rosetta_domain::{EntityKind, PipelineId, PipelineStatus};

    use crate::fixtures::{assert_not_found, pipeline_details, Mocks};

    #[tokio::test]
    async fn getting_a_pipeline_returns_it_with_its_details() {
        let mocks = Mocks::default().with_pipeline(9, PipelineStatus::Start);

        let found = mocks.into_rosetta().get_pipeline(PipelineId::new(9)).await;

        assert_eq!(found.ok(), Some(pipeline_details(9, PipelineStatus::Start)));
    }

    #[tokio::test]
    async fn getting_a_missing_pipeline_is_not_found() {
        let mut mocks = Mocks::default();
        mocks.pipelines.expect_get().returning(|_| Ok(None));

        let error = mocks.into_rosetta().get_pipeline(PipelineId::new(42)).await;

        assert_not_found(&error, EntityKind::Pipeline, 42);
    }
}
