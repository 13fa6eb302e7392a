//! Use case: check whether Rosetta can sign in to a destination and write there.

use chrono::Utc;
use rosetta_domain::{DestinationDiagnostics, DestinationId};

use crate::{AppError, Rosetta};

impl Rosetta {
    /// Checks the destination now, with its stored settings, through the writer of its type:
    /// signing in, then each step a pipeline's first run takes (for PostgreSQL: the schema, a
    /// table there, Rosetta's bookkeeping). Nothing is recorded in the catalogue, and a failed
    /// check is not retried: the user asking sees the failure at once.
    ///
    /// A destination that cannot be reached or written is not an error: its diagnostics say
    /// why, in the failed check that ends them.
    ///
    /// # Errors
    ///
    /// [`AppError::NotFound`], [`AppError::Unavailable`], [`AppError::Unknown`].
    #[tracing::instrument(skip_all, fields(destination_id = %id), err(level = "info"))]
    pub async fn check_destination(
        &self,
        id: DestinationId,
    ) -> Result<DestinationDiagnostics, AppError> {
        let destination = self.find_destination(id).await?;
        let checks = self.writer.check(&destination).await;
        Ok(DestinationDiagnostics::new(checks, Utc::now()))
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use rosetta_domain::{DestinationId, DiagnosticCheck, EntityKind};

    use crate::fixtures::{assert_not_found, destination, long_ago, Mocks};

    #[tokio::test]
    async fn a_destination_passing_every_step_is_ready_and_checked_now() {
        let mut mocks = Mocks::default().with_destination(2);
        mocks
            .writer
            .expect_check()
            .withf(|checked| *checked == destination(2))
            .times(1)
            .returning(|_| {
                vec![
                    DiagnosticCheck::required("connect", true, "signed in"),
                    DiagnosticCheck::required("create_table", true, "may create tables"),
                ]
            });
        let before = Utc::now();

        let diagnostics = mocks
            .into_rosetta()
            .check_destination(DestinationId::new(2))
            .await
            .unwrap();

        assert!(diagnostics.ready);
        assert!(diagnostics.checked_at >= before && diagnostics.checked_at > long_ago());
        let names: Vec<_> = diagnostics.checks.iter().map(|check| check.name).collect();
        assert_eq!(names, ["connect", "create_table"]);
    }

    #[tokio::test]
    async fn a_destination_that_refuses_the_login_is_not_ready_and_the_check_says_why() {
        let mut mocks = Mocks::default().with_destination(2);
        mocks.writer.expect_check().times(1).returning(|_| {
            vec![DiagnosticCheck::required(
                "connect",
                false,
                "cannot connect to dw.internal:5432: password authentication failed",
            )]
        });

        let diagnostics = mocks
            .into_rosetta()
            .check_destination(DestinationId::new(2))
            .await
            .unwrap();

        assert!(!diagnostics.ready);
        assert_eq!(diagnostics.checks.len(), 1);
        assert!(!diagnostics.checks[0].passed);
        assert!(diagnostics.checks[0]
            .detail
            .contains("password authentication failed"));
    }

    #[tokio::test]
    async fn checking_a_missing_destination_checks_nothing() {
        let mut mocks = Mocks::default();
        mocks.destinations.expect_get().returning(|_| Ok(None));
        mocks.writer.expect_check().never();

        let error = mocks
            .into_rosetta()
            .check_destination(DestinationId::new(42))
            .await;

        assert_not_found(&error, EntityKind::Destination, 42);
    }
}
