//! Use case: read one source.

use rosetta_domain::{EntityKind, Source, SourceId};

use crate::{AppError, Rosetta};

impl Rosetta {
    /// The source with this id.
    ///
    /// # Errors
    ///
    /// [`AppError::NotFound`], [`AppError::Unavailable`], [`AppError::Unknown`].
    #[tracing::instrument(skip_all, fields(source_id = %id), err(level = "info"))]
    pub async fn get_source(&self, id: SourceId) -> Result<Source, AppError> {
        self.find_source(id).await
    }

    /// The source with this id, for use cases that need it to exist.
    pub(crate) async fn find_source(&self, id: SourceId) -> Result<Source, AppError> {
        self.sources.get(id).await?.ok_or(AppError::NotFound {
            entity: EntityKind::Source,
            id: id.get(),
        })
    }
}

#[cfg(test)]
mod tests {
    use anyhow::anyhow;
    use rosetta_domain::ports::SourceRepositoryError;
    use rosetta_domain::{EntityKind, SourceId};

    use crate::fixtures::{assert_not_found, source, Mocks};
    use crate::AppError;

    #[tokio::test]
    async fn getting_a_source_returns_the_stored_one() {
        let mocks = Mocks::default().with_source(3);

        let found = mocks.into_rosetta().get_source(SourceId::new(3)).await;

        assert_eq!(found.ok(), Some(source(3)));
    }

    #[tokio::test]
    async fn getting_a_missing_source_is_not_found() {
        let mut mocks = Mocks::default();
        mocks.sources.expect_get().returning(|_| Ok(None));

        let error = mocks.into_rosetta().get_source(SourceId::new(42)).await;

        assert_not_found(&error, EntityKind::Source, 42);
    }

    #[tokio::test]
    async fn getting_a_source_while_the_store_is_down_is_unavailable() {
        let mut mocks = Mocks::default();
        mocks
            .sources
            .expect_get()
            .returning(|_| Err(SourceRepositoryError::Unavailable(anyhow!("refused"))));

        let error = mocks.into_rosetta().get_source(SourceId::new(1)).await;

        assert!(matches!(error, Err(AppError::Unavailable(_))));
    }
}
