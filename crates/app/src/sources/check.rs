//! Use case: check whether a source is ready for a pipeline, probing it once.

use chrono::Utc;
use rosetta_domain::{SourceDiagnostics, SourceId};

use crate::{AppError, Rosetta};

impl Rosetta {
    /// Probes the source once, now, and says whether a pipeline can start on it: reachable,
    /// a supported version, `wal_level = logical`, its publication, a role that may stream, a
    /// free replication slot, and advice beyond those. Nothing is recorded, and a failed probe
    /// is not retried: the user asking sees the failure at once.
    ///
    /// A source that cannot be probed is not an error: its diagnostics say why, in a failing
    /// `reachable` check.
    ///
    /// # Errors
    ///
    /// [`AppError::NotFound`], [`AppError::Unavailable`], [`AppError::Unknown`].
    #[tracing::instrument(skip_all, fields(source_id = %id), err(level = "info"))]
    pub async fn check_source(&self, id: SourceId) -> Result<SourceDiagnostics, AppError> {
        let source = self.find_source(id).await?;
        // The probe's messages name host:port and the driver's reason, never the password.
        let probe = self
            .wal_probe
            .probe(&source)
            .await
            .map_err(|error| error.to_string());
        Ok(SourceDiagnostics::from_probe(&source, probe, Utc::now()))
    }
}

#[cfg(test)]
mod tests {
    use rosetta_domain::ports::WalProbeError;
    use rosetta_domain::{EntityKind, SourceId};

    use rosetta_domain::SourceDiagnostics;

    use crate::fixtures::{assert_not_found, source, wal_reading, Mocks};

    fn mocks_with_source_3() -> Mocks {
        Mocks::default().with_source(3)
    }

    /// Checks source 3, which the mocks must find.
    async fn check_3(mocks: Mocks) -> SourceDiagnostics {
        mocks
            .into_rosetta()
            .check_source(SourceId::new(3))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_source_with_wal_level_replica_is_not_ready_and_the_check_says_why() {
        let mut mocks = mocks_with_source_3();
        let mut reading = wal_reading();
        reading.wal_level = "replica".to_owned();
        let probed = reading.clone();
        mocks
            .wal_probe
            .expect_probe()
            .withf(|probed| *probed == source(3))
            .times(1)
            .returning(move |_| Ok(probed.clone()));

        let diagnostics = check_3(mocks).await;

        assert!(!diagnostics.ready);
        assert_eq!(diagnostics.reading, Some(reading));
        let failing: Vec<_> = diagnostics
            .checks
            .iter()
            .filter(|check| check.required && !check.passed)
            .map(|check| check.name)
            .collect();
        assert_eq!(failing, ["wal_level_logical"]);
        assert!(diagnostics
            .checks
            .iter()
            .any(|check| check.name == "reachable" && check.passed));
    }

    #[tokio::test]
    async fn a_source_set_up_for_logical_replication_is_ready() {
        let mut mocks = mocks_with_source_3();
        mocks
            .wal_probe
            .expect_probe()
            .times(1)
            .returning(|_| Ok(wal_reading()));

        let diagnostics = check_3(mocks).await;

        assert!(diagnostics.ready, "{:?}", diagnostics.checks);
    }

    #[tokio::test]
    async fn an_unreachable_source_fails_one_reachable_check_without_its_password() {
        let mut mocks = mocks_with_source_3();
        mocks.wal_probe.expect_probe().times(1).returning(|_| {
            Err(WalProbeError::Connect {
                host: "db.internal:5432".to_owned(),
                reason: "password authentication failed for user \"replicator\"".to_owned(),
            })
        });

        let diagnostics = check_3(mocks).await;

        assert!(!diagnostics.ready);
        assert_eq!(diagnostics.reading, None);
        assert_eq!(diagnostics.checks.len(), 1);
        let check = &diagnostics.checks[0];
        assert_eq!(check.name, "reachable");
        assert!(!check.passed && check.required);
        assert_eq!(
            check.detail,
            "cannot connect to db.internal:5432: password authentication failed for user \"replicator\""
        );
        // The fixture's password.
        assert!(!check.detail.contains("hunter2"));
    }

    #[tokio::test]
    async fn checking_a_missing_source_probes_nothing() {
        let mut mocks = Mocks::default();
        mocks.sources.expect_get().returning(|_| Ok(None));
        mocks.wal_probe.expect_probe().never();

        let error = mocks.into_rosetta().check_source(SourceId::new(42)).await;

        assert_not_found(&error, EntityKind::Source, 42);
    }
}
