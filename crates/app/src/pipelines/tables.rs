//! Use case: the state of a pipeline's tables, as the data plane reports it.

use rosetta_domain::replication::TableProgress;
use rosetta_domain::PipelineId;

use crate::{AppError, Rosetta};

impl Rosetta {
    /// The tables of a pipeline with their states and row counts, by source table name; empty
    /// until a replicator has run the pipeline.
    ///
    /// # Errors
    ///
    /// [`AppError::NotFound`], [`AppError::Unavailable`], [`AppError::Unknown`].
    #[tracing::instrument(skip_all, fields(pipeline_id = %id), err(level = "info"))]
    pub async fn pipeline_tables(&self, id: PipelineId) -> Result<Vec<TableProgress>, AppError> {
        self.find_pipeline(id).await?;
        Ok(self.runtime.tables(id).await?)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rosetta_domain::replication::{TableName, TableProgress, TableState};
    use rosetta_domain::{EntityKind, PipelineId, PipelineStatus};

    use crate::fixtures::{assert_not_found, Mocks};

    #[tokio::test]
    async fn a_pipelines_tables_are_those_the_data_plane_reported() {
        let mut mocks = Mocks::default().with_pipeline(9, PipelineStatus::Start);
        let table = TableProgress {
            table: TableName::new("public", "orders"),
            state: TableState::Streaming,
            rows_copied: 12,
            error: None,
            updated_at: Utc::now(),
        };
        let reported = vec![table.clone()];
        mocks
            .runtime
            .expect_tables()
            .withf(|id| *id == PipelineId::new(9))
            .returning(move |_| Ok(reported.clone()));

        let tables = mocks
            .into_rosetta()
            .pipeline_tables(PipelineId::new(9))
            .await;

        assert_eq!(tables.ok(), Some(vec![table]));
    }

    #[tokio::test]
    async fn the_tables_of_a_missing_pipeline_are_not_found() {
        let mut mocks = Mocks::default();
        mocks.pipelines.expect_get().returning(|_| Ok(None));
        mocks.runtime.expect_tables().never();

        let tables = mocks
            .into_rosetta()
            .pipeline_tables(PipelineId::new(9))
            .await;

        assert_not_found(&tables, EntityKind::Pipeline, 9);
    }
}
