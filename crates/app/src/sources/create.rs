//! Use case: create a source.

use rosetta_domain::{NewSource, Source};

use crate::{AppError, Rosetta};

impl Rosetta {
    /// Stores a new source.
    ///
    /// # Errors
    ///
    /// [`AppError::Duplicate`] when the name is taken, [`AppError::Unavailable`],
    /// [`AppError::Unknown`].
    // The input holds the password: only its name is recorded.
    #[tracing::instrument(skip_all, fields(name = %source.name), err(level = "info"))]
    pub async fn create_source(&self, source: NewSource) -> Result<Source, AppError> {
        Ok(self.sources.create(source).await?)
    }
}

#[cfg(test)]
mod tests {
    use rosetta_domain::ports::SourceRepositoryError;
    use rosetta_domain::EntityKind;

    use crate::fixtures::{assert_duplicate_name, name, new_source, source, Mocks};

    #[tokio::test]
    async fn creating_a_source_stores_it_as_given() {
        let mut mocks = Mocks::default();
        mocks
            .sources
            .expect_create()
            .withf(|new| *new == new_source("orders"))
            .times(1)
            .returning(|_| Ok(source(1)));

        let created = mocks
            .into_rosetta()
            .create_source(new_source("orders"))
            .await;

        assert_eq!(created.ok(), Some(source(1)));
    }

    #[tokio::test]
    async fn creating_a_source_with_a_taken_name_is_a_duplicate() {
        let mut mocks = Mocks::default();
        mocks
            .sources
            .expect_create()
            .returning(|new| Err(SourceRepositoryError::Duplicate(new.name)));

        let error = mocks
            .into_rosetta()
            .create_source(new_source("orders"))
            .await;

        assert_duplicate_name(&error, EntityKind::Source, name("orders").as_str());
    }
}
