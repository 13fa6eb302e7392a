//! Use case: delete a destination, refused while pipelines use it unless the delete cascades.

use rosetta_domain::{DeleteMode, DestinationId, EntityKind};

use crate::{AppError, Rosetta};

impl Rosetta {
    /// Deletes a destination. While pipelines use it, [`DeleteMode::Restrict`] refuses and names
    /// them; [`DeleteMode::Cascade`] deletes them with it.
    ///
    /// # Errors
    ///
    /// [`AppError::InUse`] (restrict only), [`AppError::NotFound`], [`AppError::Unavailable`],
    /// [`AppError::Unknown`].
    #[tracing::instrument(skip_all, fields(destination_id = %id, ?mode), err(level = "info"))]
    pub async fn delete_destination(
        &self,
        id: DestinationId,
        mode: DeleteMode,
    ) -> Result<(), AppError> {
        if mode == DeleteMode::Restrict {
            let used_by = self.pipelines.using_destination(id).await?;
            if !used_by.is_empty() {
                return Err(AppError::InUse {
                    entity: EntityKind::Destination,
                    id: id.get(),
                    used_by,
                });
            }
        }
        // The store refuses too (`InUse`) if a pipeline appeared since the check.
        Ok(self.destinations.delete(id, mode).await?)
    }
}

#[cfg(test)]
mod tests {
    use rosetta_domain::ports::DestinationRepositoryError;
    use rosetta_domain::{DeleteMode, DestinationId, EntityKind, PipelineRef};

    use crate::fixtures::{assert_in_use, pipeline_ref, Mocks};
    use crate::AppError;

    /// Destination 2 is used by `pipelines`.
    fn used_by(pipelines: Vec<PipelineRef>) -> Mocks {
        let mut mocks = Mocks::default();
        mocks
            .pipelines
            .expect_using_destination()
            .withf(|id| *id == DestinationId::new(2))
            .returning(move |_| Ok(pipelines.clone()));
        mocks
    }

    /// The store is asked once to delete destination 2 in `mode`, and does.
    fn deleted_once(mut mocks: Mocks, mode: DeleteMode) -> Mocks {
        mocks
            .destinations
            .expect_delete()
            .withf(move |id, given| *id == DestinationId::new(2) && *given == mode)
            .times(1)
            .returning(|_, _| Ok(()));
        mocks
    }

    async fn delete(mocks: Mocks, mode: DeleteMode) -> Result<(), AppError> {
        mocks
            .into_rosetta()
            .delete_destination(DestinationId::new(2), mode)
            .await
    }

    #[tokio::test]
    async fn deleting_a_destination_in_use_is_refused_naming_its_pipelines() {
        let mut mocks = used_by(vec![pipeline_ref(5, "orders")]);
        mocks.destinations.expect_delete().never();

        let error = delete(mocks, DeleteMode::Restrict).await;

        assert_in_use(
            &error,
            EntityKind::Destination,
            2,
            &[pipeline_ref(5, "orders")],
        );
    }

    #[tokio::test]
    async fn deleting_an_unused_destination_deletes_it() {
        let mocks = deleted_once(used_by(vec![]), DeleteMode::Restrict);

        assert!(delete(mocks, DeleteMode::Restrict).await.is_ok());
    }

    #[tokio::test]
    async fn a_cascading_delete_of_a_destination_in_use_goes_through() {
        let in_use = used_by(vec![pipeline_ref(5, "orders")]);
        let mocks = deleted_once(in_use, DeleteMode::Cascade);

        assert!(delete(mocks, DeleteMode::Cascade).await.is_ok());
    }

    #[tokio::test]
    async fn a_pipeline_created_during_the_delete_still_makes_the_destination_in_use() {
        let mut mocks = used_by(vec![]);
        mocks.destinations.expect_delete().returning(|id, _| {
            Err(DestinationRepositoryError::InUse {
                id,
                used_by: vec![pipeline_ref(7, "late")],
            })
        });

        let error = delete(mocks, DeleteMode::Restrict).await;

        assert_in_use(
            &error,
            EntityKind::Destination,
            2,
            &[pipeline_ref(7, "late")],
        );
    }
}
