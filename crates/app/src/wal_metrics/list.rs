//! Use case: read the WAL samples kept, newest first.

use rosetta_domain::{WalBucket, WalMetric, WalMetricQuery, WalSeriesPoint};

use crate::{AppError, Rosetta};

impl Rosetta {
    /// WAL samples, newest first: only one source's when the query names it, at most
    /// `query.limit` of them.
    ///
    /// # Errors
    ///
    /// [`AppError::Unavailable`], [`AppError::Unknown`].
    #[tracing::instrument(skip(self), err(level = "info"))]
    pub async fn list_wal_metrics(
        &self,
        query: WalMetricQuery,
    ) -> Result<Vec<WalMetric>, AppError> {
        Ok(self.wal_history.list(query).await?)
    }

    /// The WAL samples summarized per bucket of `bucket` width (min, max, average, last and
    /// count), newest bucket first, at most `query.limit` buckets.
    ///
    /// # Errors
    ///
    /// [`AppError::Unavailable`], [`AppError::Unknown`].
    #[tracing::instrument(skip(self), err(level = "info"))]
    pub async fn list_wal_series(
        &self,
        query: WalMetricQuery,
        bucket: WalBucket,
    ) -> Result<Vec<WalSeriesPoint>, AppError> {
        Ok(self.wal_history.series(query, bucket).await?)
    }
}

#[cfg(test)]
mod tests {
    use anyhow::anyhow;
    use rosetta_domain::ports::WalHistoryError;
    use rosetta_domain::{Limit, SourceId, WalMetric, WalMetricId, WalMetricQuery};

    use crate::fixtures::{long_ago, Mocks};
    use crate::AppError;

    fn query() -> WalMetricQuery {
        WalMetricQuery {
            source_id: Some(SourceId::new(3)),
            limit: Limit::new(10).expect("a valid limit"),
            ..WalMetricQuery::default()
        }
    }

    #[tokio::test]
    async fn listing_wal_metrics_passes_the_query_to_the_store() {
        let metric = WalMetric {
            id: WalMetricId::new(1),
            source_id: SourceId::new(3),
            size_bytes: 1024,
            recorded_at: long_ago(),
        };
        let returned = metric.clone();
        let mut mocks = Mocks::default();
        mocks
            .wal_history
            .expect_list()
            .withf(|given| *given == query())
            .times(1)
            .returning(move |_| Ok(vec![returned.clone()]));

        let listed = mocks.into_rosetta().list_wal_metrics(query()).await;

        assert_eq!(listed.ok(), Some(vec![metric]));
    }

    #[tokio::test]
    async fn a_series_passes_the_query_and_bucket_width_to_the_store() {
        use rosetta_domain::{WalBucket, WalSeriesPoint};
        let point = WalSeriesPoint {
            bucket_start: long_ago(),
            min_bytes: 1,
            max_bytes: 3,
            avg_bytes: 2.0,
            last_bytes: 3,
            samples: 3,
        };
        let returned = point.clone();
        let mut mocks = Mocks::default();
        mocks
            .wal_history
            .expect_series()
            .withf(|given, bucket| *given == query() && *bucket == WalBucket::Hour)
            .times(1)
            .returning(move |_, _| Ok(vec![returned.clone()]));

        let series = mocks
            .into_rosetta()
            .list_wal_series(query(), WalBucket::Hour)
            .await;

        assert_eq!(series.ok(), Some(vec![point]));
    }

    #[tokio::test]
    async fn listing_wal_metrics_while_the_store_is_down_is_unavailable() {
        let mut mocks = Mocks::default();
        mocks
            .wal_history
            .expect_list()
            .returning(|_| Err(WalHistoryError::Unavailable(anyhow!("refused"))));

        let error = mocks.into_rosetta().list_wal_metrics(query()).await;

        assert!(matches!(error, Err(AppError::Unavailable(_))));
    }
}
