//! Use case: change some fields of a source.

use rosetta_domain::{Source, SourceId, SourceUpdate};

use crate::{AppError, Rosetta};

impl Rosetta {
    /// Applies a partial update; omitted fields, the password too, keep their value. An empty
    /// update writes nothing and returns the source as it is.
    ///
    /// # Errors
    ///
    /// [`AppError::NotFound`], [`AppError::Duplicate`] when the new name is taken,
    /// [`AppError::Unavailable`], [`AppError::Unknown`].
    // The update may hold the password: only the id is recorded.
    #[tracing::instrument(skip_all, fields(source_id = %id), err(level = "info"))]
    pub async fn update_source(
        &self,
        id: SourceId,
        update: SourceUpdate,
    ) -> Result<Source, AppError> {
        if update.is_empty() {
            return self.find_source(id).await;
        }
        let updated = self.sources.update(id, update).await?;
        self.catalogue_changed();
        Ok(updated)
    }
}

#[cfg(test)]
mod tests {
    use rosetta_domain::ports::SourceRepositoryError;
    use rosetta_domain::{EntityKind, SourceId, SourceUpdate};

    use crate::fixtures::{assert_duplicate_name, assert_not_found, name, secret, source, Mocks};

    #[tokio::test]
    async fn updating_a_source_writes_only_the_given_fields() {
        let update = SourceUpdate {
            name: Some(name("renamed")),
            pg_password: Some(secret("new-password")),
            ..SourceUpdate::default()
        };
        let expected = update.clone();
        let mut stored = source(4);
        stored.name = name("renamed");
        let returned = stored.clone();
        let mut mocks = Mocks::default();
        mocks
            .sources
            .expect_update()
            .withf(move |id, given| *id == SourceId::new(4) && *given == expected)
            .times(1)
            .returning(move |_, _| Ok(returned.clone()));

        let updated = mocks
            .into_rosetta()
            .update_source(SourceId::new(4), update)
            .await;

        assert_eq!(updated.ok(), Some(stored));
    }

    #[tokio::test]
    async fn an_empty_source_update_returns_the_source_without_writing() {
        let mut mocks = Mocks::default();
        mocks
            .sources
            .expect_get()
            .returning(|_| Ok(Some(source(4))));
        mocks.sources.expect_update().never();

        let updated = mocks
            .into_rosetta()
            .update_source(SourceId::new(4), SourceUpdate::default())
            .await;

        assert_eq!(updated.ok(), Some(source(4)));
    }

    #[tokio::test]
    async fn an_empty_update_of_a_missing_source_is_not_found() {
        let mut mocks = Mocks::default();
        mocks.sources.expect_get().returning(|_| Ok(None));
        mocks.sources.expect_update().never();

        let error = mocks
            .into_rosetta()
            .update_source(SourceId::new(4), SourceUpdate::default())
            .await;

        assert_not_found(&error, EntityKind::Source, 4);
    }

    #[tokio::test]
    async fn renaming_a_source_to_a_taken_name_is_a_duplicate() {
        let mut mocks = Mocks::default();
        mocks
            .sources
            .expect_update()
            .returning(|_, _| Err(SourceRepositoryError::Duplicate(name("taken"))));
        let update = SourceUpdate {
            name: Some(name("taken")),
            ..SourceUpdate::default()
        };

        let error = mocks
            .into_rosetta()
            .update_source(SourceId::new(4), update)
            .await;

        assert_duplicate_name(&error, EntityKind::Source, "taken");
    }

    #[tokio::test]
    async fn updating_a_missing_source_is_not_found() {
        let mut mocks = Mocks::default();
        mocks
            .sources
            .expect_update()
            .returning(|id, _| Err(SourceRepositoryError::NotFound(id)));
        let update = SourceUpdate {
            name: Some(name("renamed")),
            ..SourceUpdate::default()
        };

        let error = mocks
            .into_rosetta()
            .update_source(SourceId::new(9), update)
            .await;

        assert_not_found(&error, EntityKind::Source, 9);
    }
}
