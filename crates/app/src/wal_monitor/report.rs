//! Use case: judge a source's WAL from what the monitor last saw of it.

use rosetta_domain::replication::pipeline_slot_name;
use rosetta_domain::{SlotOwner, SourceId, SourceWalReport, WalVerdict};

use crate::{AppError, Rosetta};

impl Rosetta {
    /// The latest probe outcome of a source and the verdict on its WAL and replication slots,
    /// judged against the thresholds set with [`Rosetta::with_wal_thresholds`], with the slot
    /// each of its pipelines owns. A source not probed yet has no status and a
    /// `not_probed_yet` warning.
    ///
    /// # Errors
    ///
    /// [`AppError::NotFound`], [`AppError::Unavailable`], [`AppError::Unknown`].
    #[tracing::instrument(skip_all, fields(source_id = %id), err(level = "info"))]
    pub async fn source_wal_report(&self, id: SourceId) -> Result<SourceWalReport, AppError> {
        // The store answers `None` for unknown sources too; only the catalogue tells them
        // apart from sources not probed yet.
        let source = self.find_source(id).await?;
        let status = self.wal_history.status(id).await?;
        let verdict = WalVerdict::assess(status.as_ref(), self.wal_thresholds);
        let slot_owners = self
            .pipelines
            .using_source(id)
            .await?
            .into_iter()
            .map(|pipeline| SlotOwner {
                slot: pipeline_slot_name(source.replication_id, pipeline.id),
                pipeline,
            })
            .collect();
        Ok(SourceWalReport {
            source_id: id,
            status,
            verdict,
            slot_owners,
        })
    }
}

#[cfg(test)]
mod tests {
    use anyhow::anyhow;
    use rosetta_domain::fixtures::logical_slot;
    use rosetta_domain::ports::WalHistoryError;
    use rosetta_domain::{
        EntityKind, ProbeStatus, ReasonCode, Severity, SlotReading, SourceId, SourceWalReport,
        WalThresholds,
    };

    use crate::fixtures::{assert_not_found, long_ago, pipeline_ref, source, wal_reading, Mocks};
    use crate::{AppError, Rosetta};

    fn status_with_slot(slot: SlotReading) -> ProbeStatus {
        let mut reading = wal_reading();
        reading.slots = vec![slot];
        ProbeStatus {
            source_id: SourceId::new(3),
            probed_at: long_ago(),
            error: None,
            consecutive_failures: 0,
            last_success_at: Some(long_ago()),
            last_reading: Some(reading),
        }
    }

    fn slot(active: bool, retained_bytes: i64) -> SlotReading {
        SlotReading {
            active,
            ..logical_slot("rosetta_1", retained_bytes)
        }
    }

    fn mocks_with_source_3(status: Option<ProbeStatus>) -> Mocks {
        let mut mocks = Mocks::default().with_source(3);
        mocks
            .wal_history
            .expect_status()
            .withf(|id| *id == SourceId::new(3))
            .times(1)
            .returning(move |_| Ok(status.clone()));
        mocks
            .pipelines
            .expect_using_source()
            .withf(|id| *id == SourceId::new(3))
            .returning(|_| Ok(vec![pipeline_ref(7, "orders"), pipeline_ref(9, "billing")]));
        mocks
    }

    #[tokio::test]
    async fn the_report_names_the_slot_each_pipeline_of_the_source_owns() {
        let report = report_3(mocks_with_source_3(None).into_rosetta()).await;

        // Source 3 of the fixtures has replication id 1.
        let owners: Vec<_> = report
            .slot_owners
            .iter()
            .map(|o| (o.slot.as_str(), o.pipeline.id.get()))
            .collect();
        assert_eq!(owners, [("rosetta_1_7", 7), ("rosetta_1_9", 9)]);
    }

    /// The report on source 3, which the mocks must find.
    async fn report_3(rosetta: Rosetta) -> SourceWalReport {
        rosetta.source_wal_report(SourceId::new(3)).await.unwrap()
    }

    #[tokio::test]
    async fn an_inactive_slot_holding_wal_back_is_a_warning() {
        let status = status_with_slot(slot(false, 4096));
        let mocks = mocks_with_source_3(Some(status.clone()));

        let report = report_3(mocks.into_rosetta()).await;

        assert_eq!(report.source_id, SourceId::new(3));
        assert_eq!(report.status, Some(status));
        assert_eq!(report.verdict.severity, Severity::Warning);
        let codes: Vec<_> = report.verdict.reasons.iter().map(|r| r.code).collect();
        assert_eq!(codes, [ReasonCode::SlotInactiveRetaining]);
        assert_eq!(report.verdict.reasons[0].slot.as_deref(), Some("rosetta_1"));
    }

    #[tokio::test]
    async fn the_verdict_uses_the_configured_thresholds() {
        let status = status_with_slot(slot(true, 2_000));
        let mocks = mocks_with_source_3(Some(status));
        let rosetta = mocks.into_rosetta().with_wal_thresholds(WalThresholds {
            warn_bytes: 500,
            critical_bytes: 1_000,
        });

        let report = report_3(rosetta).await;

        assert_eq!(report.verdict.severity, Severity::Critical);
        let codes: Vec<_> = report.verdict.reasons.iter().map(|r| r.code).collect();
        assert_eq!(codes, [ReasonCode::RetainedAboveCritical]);
    }

    #[tokio::test]
    async fn a_source_never_probed_has_no_status_and_says_so() {
        let mocks = mocks_with_source_3(None);

        let report = report_3(mocks.into_rosetta()).await;

        assert_eq!(report.status, None);
        assert_eq!(report.verdict.severity, Severity::Warning);
        assert_eq!(report.verdict.reasons[0].code, ReasonCode::NotProbedYet);
    }

    #[tokio::test]
    async fn the_report_of_a_missing_source_is_not_found() {
        let mut mocks = Mocks::default();
        mocks.sources.expect_get().returning(|_| Ok(None));
        mocks.wal_history.expect_status().never();

        let error = mocks
            .into_rosetta()
            .source_wal_report(SourceId::new(42))
            .await;

        assert_not_found(&error, EntityKind::Source, 42);
    }

    #[tokio::test]
    async fn the_report_while_the_store_is_down_is_unavailable() {
        let mut mocks = Mocks::default();
        mocks
            .sources
            .expect_get()
            .returning(|_| Ok(Some(source(3))));
        mocks
            .wal_history
            .expect_status()
            .returning(|_| Err(WalHistoryError::Unavailable(anyhow!("refused"))));

        let error = mocks
            .into_rosetta()
            .source_wal_report(SourceId::new(3))
            .await;

        assert!(matches!(error, Err(AppError::Unavailable(_))));
    }
}
