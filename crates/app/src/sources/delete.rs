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
        // A cascade deletes the source's pipelines too.
        self.sources.delete(id, mode).await?;
        self.catalogue_changed();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use rosetta_domain::ports::SourceRepositoryError;
    use rosetta_domain::{DeleteMode, EntityKind, PipelineRef, SourceId};

    use crate::fixtures::{assert_in_use, assert_not_found, pipeline_ref, Mocks};
    use crate::AppError;

    /// Source `id` is used by `pipelines`.
    fn used_by(id: i64, pipelines: Vec<PipelineRef>) -> Mocks {
        let mut mocks = Mocks::default();
        mocks
            .pipelines
            .expect_using_source()
            .withf(move |given| *given == SourceId::new(id))
            .returning(move |_| Ok(pipelines.clone()));
        mocks
    }

    /// The store is asked once to delete source 3 in `mode`, and does.
    fn deleted_once(mut mocks: Mocks, mode: DeleteMode) -> Mocks {
        mocks
            .sources
            .expect_delete()
            .withf(move |id, given| *id == SourceId::new(3) && *given == mode)
            .times(1)
            .returning(|_, _| Ok(()));
        mocks
    }

    async fn delete(mocks: Mocks, id: i64, mode: DeleteMode) -> Result<(), AppError> {
        mocks
            .into_rosetta()
            .delete_source(SourceId::new(id), mode)
            .await
    }

    #[tokio::test]
    async fn deleting_a_source_in_use_is_refused_naming_its_pipelines() {
        let in_use = vec![pipeline_ref(5, "orders"), pipeline_ref(6, "billing")];
        let mut mocks = used_by(3, in_use.clone());
        mocks.sources.expect_delete().never();

        let error = delete(mocks, 3, DeleteMode::Restrict).await;

        assert_in_use(&error, EntityKind::Source, 3, &in_use);
    }

    #[tokio::test]
    async fn deleting_an_unused_source_deletes_it() {
        let mocks = deleted_once(used_by(3, vec![]), DeleteMode::Restrict);

        assert!(delete(mocks, 3, DeleteMode::Restrict).await.is_ok());
    }

    #[tokio::test]
    async fn a_cascading_delete_of_a_source_in_use_goes_through() {
        let in_use = used_by(3, vec![pipeline_ref(5, "orders")]);
        let mocks = deleted_once(in_use, DeleteMode::Cascade);

        assert!(delete(mocks, 3, DeleteMode::Cascade).await.is_ok());
    }

    #[tokio::test]
    async fn a_pipeline_created_during_the_delete_still_makes_it_in_use() {
        let mut mocks = used_by(3, vec![]);
        mocks.sources.expect_delete().returning(|id, _| {
            Err(SourceRepositoryError::InUse {
                id,
                used_by: vec![pipeline_ref(7, "late")],
            })
        });

        let error = delete(mocks, 3, DeleteMode::Restrict).await;

        assert_in_use(&error, EntityKind::Source, 3, &[pipeline_ref(7, "late")]);
    }

    #[tokio::test]
    async fn deleting_a_missing_source_is_not_found() {
        let mut mocks = used_by(8, vec![]);
        mocks
            .sources
            .expect_delete()
            .returning(|id, _| Err(SourceRepositoryError::NotFound(id)));

        let error = delete(mocks, 8, DeleteMode::Restrict).await;

        assert_not_found(&error, EntityKind::Source, 8);
    }
}
