//! Use case: a pipeline's lag and throughput over time, from the samples its runs left.

use rosetta_domain::replication::{PipelineSeriesPoint, PipelineSeriesQuery};
use rosetta_domain::{PipelineId, WalBucket};

use crate::{AppError, Rosetta};

impl Rosetta {
    /// The samples of a pipeline summarized per bucket of `bucket` width (lag, changes applied
    /// and changes per second), newest bucket first, at most `query.limit` buckets; empty
    /// until a replicator has run the pipeline.
    ///
    /// # Errors
    ///
    /// [`AppError::NotFound`], [`AppError::Unavailable`], [`AppError::Unknown`].
    #[tracing::instrument(skip(self), fields(pipeline_id = %id), err(level = "info"))]
    pub async fn pipeline_series(
        &self,
        id: PipelineId,
        query: PipelineSeriesQuery,
        bucket: WalBucket,
    ) -> Result<Vec<PipelineSeriesPoint>, AppError> {
        self.find_pipeline(id).await?;
        Ok(self.runtime.series(id, query, bucket).await?)
    }
}

#[cfg(test)]
mod tests {
    use rosetta_domain::replication::{PipelineSeriesPoint, PipelineSeriesQuery};
    use rosetta_domain::{EntityKind, Limit, PipelineId, PipelineStatus, WalBucket};

    use crate::fixtures::{assert_not_found, long_ago, Mocks};

    fn query() -> PipelineSeriesQuery {
        PipelineSeriesQuery {
            from: Some(long_ago()),
            to: None,
            limit: Limit::new(60).expect("a valid limit"),
        }
    }

    #[tokio::test]
    async fn a_series_passes_the_pipeline_query_and_width_to_the_store() {
        let mut mocks = Mocks::default().with_pipeline(4, PipelineStatus::Start);
        let point = PipelineSeriesPoint {
            bucket_start: long_ago(),
            max_lag_bytes: Some(2048),
            avg_lag_bytes: Some(1024.0),
            max_lag: None,
            changes_applied: 600,
            changes_per_second: 10.0,
            samples: 6,
        };
        let returned = vec![point.clone()];
        mocks
            .runtime
            .expect_series()
            .withf(|id, given, bucket| {
                *id == PipelineId::new(4) && *given == query() && *bucket == WalBucket::Minute
            })
            .times(1)
            .returning(move |_, _, _| Ok(returned.clone()));

        let series = mocks
            .into_rosetta()
            .pipeline_series(PipelineId::new(4), query(), WalBucket::Minute)
            .await;

        assert_eq!(series.ok(), Some(vec![point]));
    }

    #[tokio::test]
    async fn the_series_of_a_missing_pipeline_is_not_found() {
        let mut mocks = Mocks::default();
        mocks.pipelines.expect_get().returning(|_| Ok(None));
        mocks.runtime.expect_series().never();

        let series = mocks
            .into_rosetta()
            .pipeline_series(PipelineId::new(4), query(), WalBucket::Minute)
            .await;

        assert_not_found(&series, EntityKind::Pipeline, 4);
    }
}
