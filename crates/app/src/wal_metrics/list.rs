//! Use case: read the WAL samples kept, newest first.

use rosetta_domain::{WalMetric, WalMetricQuery};

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
        Ok(self.wal_metrics.list(query).await?)
    }
}

#[cfg(test)]
mod tests {
    use anyhow::anyhow;
    use rosetta_domain::ports::WalMetricRepositoryError;
    use rosetta_domain::{Limit, SourceId, WalMetric, WalMetricId, WalMetricQuery};

    use crate::fixtures::{long_ago, Mocks};
    use crate::AppError;

    fn query() -> WalMetricQuery {
        WalMetricQuery {
            source_id: Some(SourceId::new(3)),
            limit: Limit::new(10).expect("a valid limit"),
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
            .wal_metrics
            .expect_list()
            .withf(|given| *given == query())
            .times(1)
            .returning(move |_| Ok(vec![returned.clone()]));

        let listed = mocks.into_rosetta().list_wal_metrics(query()).await;

        assert_eq!(listed.ok(), Some(vec![metric]));
    }

    #[tokio::test]
    async fn listing_wal_metrics_while_the_store_is_down_is_unavailable() {
        let mut mocks = Mocks::default();
        mocks
            .wal_metrics
            .expect_list()
            .returning(|_| Err(WalMetricRepositoryError::Unavailable(anyhow!("refused"))));

        let error = mocks.into_rosetta().list_wal_metrics(query()).await;

        assert!(matches!(error, Err(AppError::Unavailable(_))));
    }
}
