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
    use rosetta_domain::{DestinationId, EntityKind};

    use crate::fixtures::{destination, Mocks};
    use crate::AppError;

    #[tokio::test]
    async fn getting_a_destination_returns_the_stored_one() {
        let mut mocks = Mocks::default();
        mocks
            .destinations
            .expect_get()
            .withf(|id| *id == DestinationId::new(2))
            .returning(|_| Ok(Some(destination(2))));

        let found = mocks
            .into_rosetta()
            .get_destination(DestinationId::new(2))
            .await;

        assert_eq!(found.ok(), Some(destination(2)));
    }

    #[tokio::test]
    async fn getting_a_missing_destination_is_not_found() {
        let mut mocks = Mocks::default();
        mocks.destinations.expect_get().returning(|_| Ok(None));

        let error = mocks
            .into_rosetta()
            .get_destination(DestinationId::new(42))
            .await;

        assert!(matches!(
            error,
            Err(AppError::NotFound {
                entity: EntityKind::Destination,
                id: 42
            })
        ));
    }

    #[tokio::test]
    async fn getting_a_destination_while_the_store_is_down_is_unavailable() {
        let mut mocks = Mocks::default();
        mocks
            .destinations
            .expect_get()
            .returning(|_| Err(DestinationRepositoryError::Unavailable(anyhow!("refused"))));

        let error = mocks
            .into_rosetta()
            .get_destination(DestinationId::new(2))
            .await;

        assert!(matches!(error, Err(AppError::Unavailable(_))));
    }
}
