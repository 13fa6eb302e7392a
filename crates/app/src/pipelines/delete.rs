//! Use case: delete a pipeline, its runtime metadata and its replication slot.

use rosetta_domain::replication::pipeline_slot_name;
use rosetta_domain::PipelineId;

use crate::{AppError, Rosetta};

impl Rosetta {
    /// Deletes a pipeline and its runtime metadata, then drops its replication slot on its
    /// source, so that the slot no longer holds WAL back. When the source cannot be reached
    /// the slot is left there, with a warning in the log naming it; the WAL monitor then lists
    /// it as a slot no pipeline owns.
    ///
    /// # Errors
    ///
    /// [`AppError::NotFound`], [`AppError::Unavailable`], [`AppError::Unknown`] (about the
    /// catalogue only: a slot that cannot be dropped does not fail the delete).
    #[tracing::instrument(skip_all, fields(pipeline_id = %id), err(level = "info"))]
    pub async fn delete_pipeline(&self, id: PipelineId) -> Result<(), AppError> {
        let details = self.find_pipeline(id).await?;
        self.pipelines.delete(id).await?;
        self.catalogue_changed();
        let slot = pipeline_slot_name(details.source.replication_id, id);
        match self.replication.drop_slot(&details.source, &slot).await {
            Ok(dropped) => tracing::info!(%slot, dropped, "dropped the deleted pipeline's slot"),
            Err(error) => tracing::warn!(
                %slot,
                source_id = %details.source.id,
                error = %error,
                "the deleted pipeline's replication slot is left on its source: drop it there \
                 with SELECT pg_drop_replication_slot('{slot}')"
            ),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rosetta_domain::ports::{PipelineRepositoryError, ReplicationError};
    use rosetta_domain::{EntityKind, PipelineId, PipelineStatus};

    use crate::fixtures::{assert_not_found, Mocks};

    /// Pipeline 9 exists and its store deletes it once.
    fn deletable() -> Mocks {
        let mut mocks = Mocks::default().with_pipeline(9, PipelineStatus::Start);
        mocks
            .pipelines
            .expect_delete()
            .withf(|id| *id == PipelineId::new(9))
            .times(1)
            .returning(|_| Ok(()));
        mocks
    }

    #[tokio::test]
    async fn deleting_a_pipeline_deletes_it_in_the_store_and_drops_its_slot() {
        let mut mocks = deletable();
        mocks
            .replication
            .expect_drop_slot()
            .withf(|source, slot| source.id.get() == 1 && slot == "rosetta_1_9")
            .times(1)
            .returning(|_, _| Ok(true));

        let deleted = mocks
            .into_rosetta()
            .delete_pipeline(PipelineId::new(9))
            .await;

        assert!(deleted.is_ok());
    }

    #[tokio::test]
    async fn a_slot_that_cannot_be_dropped_does_not_fail_the_delete() {
        let mut mocks = deletable();
        mocks
            .replication
            .expect_drop_slot()
            .times(1)
            .returning(|_, _| {
                Err(ReplicationError::Connect {
                    host: "db:5432".to_owned(),
                    reason: "connection refused".to_owned(),
                })
            });

        let deleted = mocks
            .into_rosetta()
            .delete_pipeline(PipelineId::new(9))
            .await;

        assert!(deleted.is_ok(), "{deleted:?}");
    }

    #[tokio::test]
    async fn deleting_a_missing_pipeline_is_not_found_and_drops_nothing() {
        let mut mocks = Mocks::default();
        mocks.pipelines.expect_get().returning(|_| Ok(None));
        mocks.pipelines.expect_delete().never();
        mocks.replication.expect_drop_slot().never();

        let error = mocks
            .into_rosetta()
            .delete_pipeline(PipelineId::new(9))
            .await;

        assert_not_found(&error, EntityKind::Pipeline, 9);
    }

    #[tokio::test]
    async fn a_pipeline_deleted_meanwhile_is_not_found() {
        let mut mocks = Mocks::default().with_pipeline(9, PipelineStatus::Start);
        mocks
            .pipelines
            .expect_delete()
            .returning(|id| Err(PipelineRepositoryError::NotFound(id)));
        mocks.replication.expect_drop_slot().never();

        let error = mocks
            .into_rosetta()
            .delete_pipeline(PipelineId::new(9))
            .await;

        assert_not_found(&error, EntityKind::Pipeline, 9);
    }
}
