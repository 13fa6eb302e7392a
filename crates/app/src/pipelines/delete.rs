//! Use case: delete a pipeline and its runtime metadata.

use rosetta_domain::PipelineId;

use crate::{AppError, Rosetta};

impl Rosetta {
    /// Deletes a pipeline and its runtime metadata.
    ///
    /// # Errors
    ///
    /// [`AppError::NotFound`], [`AppError::Unavailable`], [`AppError::Unknown`].
    #[tracing::instrument(skip_all, fields(pipeline_id = %id), err(level = "info"))]
    pub async fn delete_pipeline(&self, id: PipelineId) -> Result<(), AppError> {
        Ok(self.pipelines.delete(id).await?)
    }
}

#[cfg(test)]
mod tests {
    use rosetta_domain::ports::PipelineRepositoryError;
    use rosetta_domain::{EntityKind, PipelineId};

    use crate::fixtures::{assert_not_found, Mocks};

    #[tokio::test]
    async fn deleting_a_pipeline_deletes_it_in_the_store() {
        let mut mocks = Mocks::default();
        mocks
            .pipelines
            .expect_delete()
            .withf(|id| *id == PipelineId::new(9))
            .times(1)
            .returning(|_| Ok(()));

        let deleted = mocks
            .into_rosetta()
            .delete_pipeline(PipelineId::new(9))
            .await;

        assert!(deleted.is_ok());
    }

    #[tokio::test]
    async fn deleting_a_missing_pipeline_is_not_found() {
        let mut mocks = Mocks::default();
        mocks
            .pipelines
            .expect_delete()
            .returning(|id| Err(PipelineRepositoryError::NotFound(id)));

        let error = mocks
            .into_rosetta()
            .delete_pipeline(PipelineId::new(9))
            .await;

        assert_not_found(&error, EntityKind::Pipeline, 9);
    }
}
