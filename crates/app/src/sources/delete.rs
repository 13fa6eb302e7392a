//! Use case: delete a source, refused while pipelines use it unless the delete cascades.

use rosetta_domain::{DeleteMode, EntityKind, SourceId};

use crate::{AppError, Rosetta};

impl Rosetta {
    /// Deletes a source. While pipelines use it, [`DeleteMode::Restrict`] refuses and names them;
    /// [`DeleteMode::Cascade`] deletes them with it.
    ///
    /// # Errors
    ///
    /// [`AppError::InUse`] (restrict only), [`AppError::NotFound`], [`AppError::Unavailable`],
    /// [`AppError::Unknown`].
    #[tracing::instrument(skip_all, fields(source_id = %id, ?mode), err(level = "info"))]
    pub async fn delete_source(&self, id: SourceId, mode: DeleteMode) -> Result<(), AppError> {
        if mode == DeleteMode::Restrict {
            let used_by = self.pipelines.using_source(id).await?;
            if !used_by.is_empty() {
                return Err(AppError::InUse {
                    entity: EntityKind::Source,
                    id: id.get(),
                    used_by,
                });
            }
        }
        // The store refuses too (`InUse`) if a pipeline appeared since the check.
        Ok(self.sources.delete(id, mode).await?)
    }
}

#[cfg(test)]
mod tests {
    use rosetta_domain::ports::SourceRepositoryError;
    use rosetta_domain::{DeleteMode, EntityKind, SourceId};

    use crate::fixtures::{pipeline_ref, Mocks};
    use crate::AppError;

    #[tokio::test]
    async fn deleting_a_source_in_use_is_refused_naming_its_pipelines() {
        let mut mocks = Mocks::default();
        mocks
            .pipelines
            .expect_using_source()
            .withf(|id| *id == SourceId::new(3))
            .returning(|_| Ok(vec![pipeline_ref(5, "orders"), pipeline_ref(6, "billing")]));
        mocks.sources.expect_delete().never();

        let error = mocks
            .into_rosetta()
            .delete_source(SourceId::new(3), DeleteMode::Restrict)
            .await;

        assert!(matches!(
            error,
            Err(AppError::InUse { entity: EntityKind::Source, id: 3, ref used_by })
                if *used_by == vec![pipeline_ref(5, "orders"), pipeline_ref(6, "billing")]
        ));
    }

    #[tokio::test]
    async fn deleting_an_unused_source_deletes_it() {
        let mut mocks = Mocks::default();
        mocks
            .pipelines
            .expect_using_source()
            .returning(|_| Ok(vec![]));
        mocks
            .sources
            .expect_delete()
            .withf(|id, mode| *id == SourceId::new(3) && *mode == DeleteMode::Restrict)
            .times(1)
            .returning(|_, _| Ok(()));

        let deleted = mocks
            .into_rosetta()
            .delete_source(SourceId::new(3), DeleteMode::Restrict)
            .await;

        assert!(deleted.is_ok());
    }

    #[tokio::test]
    async fn a_cascading_delete_of_a_source_in_use_goes_through() {
        let mut mocks = Mocks::default();
        mocks
            .pipelines
            .expect_using_source()
            .returning(|_| Ok(vec![pipeline_ref(5, "orders")]));
        mocks
            .sources
            .expect_delete()
            .withf(|id, mode| *id == SourceId::new(3) && *mode == DeleteMode::Cascade)
            .times(1)
            .returning(|_, _| Ok(()));

        let deleted = mocks
            .into_rosetta()
            .delete_source(SourceId::new(3), DeleteMode::Cascade)
            .await;

        assert!(deleted.is_ok());
    }

    #[tokio::test]
    async fn a_pipeline_created_during_the_delete_still_makes_it_in_use() {
        let mut mocks = Mocks::default();
        mocks
            .pipelines
            .expect_using_source()
            .returning(|_| Ok(vec![]));
        mocks.sources.expect_delete().returning(|id, _| {
            Err(SourceRepositoryError::InUse {
                id,
                used_by: vec![pipeline_ref(7, "late")],
            })
        });

        let error = mocks
            .into_rosetta()
            .delete_source(SourceId::new(3), DeleteMode::Restrict)
            .await;

        assert!(matches!(
            error,
            Err(AppError::InUse { entity: EntityKind::Source, id: 3, ref used_by })
                if *used_by == vec![pipeline_ref(7, "late")]
        ));
    }

    #[tokio::test]
    async fn deleting_a_missing_source_is_not_found() {
        let mut mocks = Mocks::default();
        mocks
            .pipelines
            .expect_using_source()
            .returning(|_| Ok(vec![]));
        mocks
            .sources
            .expect_delete()
            .returning(|id, _| Err(SourceRepositoryError::NotFound(id)));

        let error = mocks
            .into_rosetta()
            .delete_source(SourceId::new(8), DeleteMode::Restrict)
            .await;

        assert!(matches!(
            error,
            Err(AppError::NotFound {
                entity: EntityKind::Source,
                id: 8
            })
        ));
    }
}
