//! Use case: list pipelines, a page at a time, optionally only those in one status.

use rosetta_domain::{PageRequest, PipelineDetails, PipelineStatus};

use crate::{AppError, Rosetta};

impl Rosetta {
    /// A page of pipelines ordered by id, with their details; only those in `status` when given.
    ///
    /// # Errors
    ///
    /// [`AppError::Unavailable`], [`AppError::Unknown`].
    #[tracing::instrument(skip(self), err(level = "info"))]
    pub async fn list_pipelines(
        &self,
        page: PageRequest,
        status: Option<PipelineStatus>,
    ) -> Result<Vec<PipelineDetails>, AppError> {
        Ok(self.pipelines.list(page, status).await?)
    }
}

#[cfg(test)]
mod tests {
    use rosetta_domain::PipelineStatus;

    use crate::fixtures::{page, pipeline_details, Mocks};

    #[tokio::test]
    async fn listing_pipelines_passes_the_page_and_the_status_filter_to_the_store() {
        let mut mocks = Mocks::default();
        mocks
            .pipelines
            .expect_list()
            .withf(|requested, status| {
                *requested == page() && *status == Some(PipelineStatus::Pause)
            })
            .times(1)
            .returning(|_, _| Ok(vec![pipeline_details(3, PipelineStatus::Pause)]));

        let listed = mocks
            .into_rosetta()
            .list_pipelines(page(), Some(PipelineStatus::Pause))
            .await;

        assert_eq!(
            listed.ok(),
            Some(vec![pipeline_details(3, PipelineStatus::Pause)])
        );
    }
}
