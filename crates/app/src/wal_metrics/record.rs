//! Use case: probe a source's WAL position and keep it as a sample.

use rosetta_domain::{NewWalMetric, SourceId, WalMetric};

use crate::{AppError, Rosetta};

impl Rosetta {
    /// Reads the WAL position of a source through the probe and stores it, stamped with the
    /// time the probe read it. A failed probe stores nothing.
    ///
    /// # Errors
    ///
    /// [`AppError::NotFound`] when the source does not exist (or was deleted meanwhile),
    /// [`AppError::ProbeFailed`] when the source database cannot be probed,
    /// [`AppError::Unavailable`], [`AppError::Unknown`].
    #[tracing::instrument(skip_all, fields(source_id = %source_id), err(level = "info"))]
    pub async fn record_wal_metric(&self, source_id: SourceId) -> Result<WalMetric, AppError> {
        let source = self.find_source(source_id).await?;
        let reading = self.wal_probe.probe(&source).await?;
        let metric = NewWalMetric {
            source_id,
            size_bytes: reading.position_bytes,
            recorded_at: reading.read_at,
        };
        Ok(self.wal_metrics.record(metric).await?)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use rosetta_domain::ports::{WalMetricRepositoryError, WalProbeError};
    use rosetta_domain::{EntityKind, NewWalMetric, SourceId, WalMetric, WalMetricId, WalReading};

    use crate::fixtures::{long_ago, source, Mocks};
    use crate::AppError;

    fn reading() -> WalReading {
        WalReading {
            position_bytes: 123_456_789,
            in_recovery: false,
            server_version_num: 160_002,
            read_at: long_ago(),
        }
    }

    /// Source 3 exists.
    fn mocks_with_source() -> Mocks {
        let mut mocks = Mocks::default();
        mocks
            .sources
            .expect_get()
            .withf(|id| *id == SourceId::new(3))
            .returning(|_| Ok(Some(source(3))));
        mocks
    }

    #[tokio::test]
    async fn recording_a_wal_metric_stores_the_probes_reading() {
        let mut mocks = mocks_with_source();
        mocks
            .wal_probe
            .expect_probe()
            .withf(|probed| *probed == source(3))
            .times(1)
            .returning(|_| Ok(reading()));
        mocks
            .wal_metrics
            .expect_record()
            .withf(|metric| {
                *metric
                    == NewWalMetric {
                        source_id: SourceId::new(3),
                        size_bytes: 123_456_789,
                        recorded_at: long_ago(),
                    }
            })
            .times(1)
            .returning(|metric| {
                Ok(WalMetric {
                    id: WalMetricId::new(1),
                    source_id: metric.source_id,
                    size_bytes: metric.size_bytes,
                    recorded_at: metric.recorded_at,
                })
            });

        let recorded = mocks
            .into_rosetta()
            .record_wal_metric(SourceId::new(3))
            .await;

        assert_eq!(
            recorded.ok(),
            Some(WalMetric {
                id: WalMetricId::new(1),
                source_id: SourceId::new(3),
                size_bytes: 123_456_789,
                recorded_at: long_ago(),
            })
        );
    }

    #[tokio::test]
    async fn a_failed_probe_records_nothing() {
        let mut mocks = mocks_with_source();
        mocks.wal_probe.expect_probe().returning(|_| {
            Err(WalProbeError::TimedOut {
                host: "db.internal:5432".into(),
                after: Duration::from_secs(5),
            })
        });
        mocks.wal_metrics.expect_record().never();

        let error = mocks
            .into_rosetta()
            .record_wal_metric(SourceId::new(3))
            .await;

        assert!(matches!(
            error,
            Err(AppError::ProbeFailed(WalProbeError::TimedOut { .. }))
        ));
    }

    #[tokio::test]
    async fn recording_for_a_missing_source_probes_nothing() {
        let mut mocks = Mocks::default();
        mocks.sources.expect_get().returning(|_| Ok(None));
        mocks.wal_probe.expect_probe().never();
        mocks.wal_metrics.expect_record().never();

        let error = mocks
            .into_rosetta()
            .record_wal_metric(SourceId::new(3))
            .await;

        assert!(matches!(
            error,
            Err(AppError::NotFound {
                entity: EntityKind::Source,
                id: 3
            })
        ));
    }

    #[tokio::test]
    async fn a_source_deleted_while_probed_is_not_found() {
        let mut mocks = mocks_with_source();
        mocks.wal_probe.expect_probe().returning(|_| Ok(reading()));
        mocks
            .wal_metrics
            .expect_record()
            .returning(|metric| Err(WalMetricRepositoryError::SourceMissing(metric.source_id)));

        let error = mocks
            .into_rosetta()
            .record_wal_metric(SourceId::new(3))
            .await;

        assert!(matches!(
            error,
            Err(AppError::NotFound {
                entity: EntityKind::Source,
                id: 3
            })
        ));
    }
}
