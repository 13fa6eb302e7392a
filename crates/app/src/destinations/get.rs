//! Use case: read one destination.

use rosetta_domain::{Destination, DestinationId, EntityKind};

use crate::{AppError, Rosetta};

impl Rosetta {
    /// The destination with this id.
    ///
    /// # Errors
    ///
    /// [`AppError::NotFound`], [`AppError::Unavailable`], [`AppError::Unknown`].
    #[tracing::instrument(skip_all, fields(destination_id = %id), err(level = "info"))]
    pub async fn get_destination(&self, id: DestinationId) -> Result<Destination, AppError> {
        self.find_destination(id).await
    }

    /// The destination with this id, for use cases that need it to exist.
    pub(crate) async fn find_destination(
        &self,
        id: DestinationId,
    ) -> Result<Destination, AppError> {
        self.destinations.get(id).await?.ok_or(AppError::NotFound {
            entity: EntityKind::Destination,
            id: id.get(),
        })
    }
}

#[cfg(test)]
mod tests {
    use anyhow::anyhow;
    use rosetta_domain::ports::DestinationRepositoryError;
    use rosetta_domain::{Destination, DestinationId, EntityKind};

    use crate::fixtures::{assert_not_found, destination, Mocks};
    use crate::AppError;

    async fn get(mocks: Mocks, id: i64) -> Result<Destination, AppError> {
        mocks
            .into_rosetta()
            .get_destination(DestinationId::new(id))
            .await
    }

    #[tokio::test]
    async fn getting_a_destination_returns_the_stored_one() {
        let found = get(Mocks::default().with_destination(2), 2).await;

        assert_eq!(found.ok(), Some(destination(2)));
    }

    #[tokio::test]
    async fn getting_a_missing_destination_is_not_found() {
        let mut mocks = Mocks::default();
        mocks.destinations.expect_get().returning(|_| Ok(None));

        let error = get(mocks, 42).await;

        assert_not_found(&error, EntityKind::Destination, 42);
    }

    #[tokio::test]
    async fn getting_a_destination_while_the_store_is_down_is_unavailable() {
        let mut mocks = Mocks::default();
        mocks
            .destinations
            .expect_get()
            .returning(|_| Err(DestinationRepositoryError::Unavailable(anyhow!("refused"))));

        let error = get(mocks, 2).await;

        assert!(matches!(error, Err(AppError::Unavailable(_))));
    }
}
