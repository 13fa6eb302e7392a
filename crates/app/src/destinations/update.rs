//! Use case: change the name or configuration of a destination, keeping its secret unless a new
//! one is given.

use rosetta_domain::{Destination, DestinationId, DestinationUpdate};

use crate::{AppError, Rosetta};

impl Rosetta {
    /// Applies a partial update. A replacement configuration that leaves its secret out keeps
    /// the stored one (when the type stays the same), so clients never have to send it back. An
    /// empty update writes nothing and returns the destination as it is.
    ///
    /// # Errors
    ///
    /// [`AppError::NotFound`], [`AppError::Duplicate`] when the new name is taken,
    /// [`AppError::Unavailable`], [`AppError::Unknown`].
    // The configuration may hold a secret: only the id is recorded.
    #[tracing::instrument(skip_all, fields(destination_id = %id), err(level = "info"))]
    pub async fn update_destination(
        &self,
        id: DestinationId,
        update: DestinationUpdate,
    ) -> Result<Destination, AppError> {
        let DestinationUpdate { name, config } = update;
        let config = match config {
            Some(config) => {
                let stored = self.find_destination(id).await?;
                Some(config.keeping_secret_of(&stored.config))
            }
            None if name.is_none() => return self.find_destination(id).await,
            None => None,
        };
        Ok(self
            .destinations
            .update(id, DestinationUpdate { name, config })
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use rosetta_domain::ports::DestinationRepositoryError;
    use rosetta_domain::{DestinationId, DestinationUpdate, EntityKind};

    use crate::fixtures::{destination, name, postgres_config, Mocks};
    use crate::AppError;

    /// Destination 2 as stored, with password `s3cr3t`, and a store that expects `expected`.
    fn mocks_expecting(expected: DestinationUpdate) -> Mocks {
        let mut mocks = Mocks::default();
        mocks
            .destinations
            .expect_get()
            .returning(|_| Ok(Some(destination(2))));
        mocks
            .destinations
            .expect_update()
            .withf(move |id, given| *id == DestinationId::new(2) && *given == expected)
            .times(1)
            .returning(|_, given| {
                let mut stored = destination(2);
                if let Some(config) = given.config {
                    stored.config = config;
                }
                Ok(stored)
            });
        mocks
    }

    #[tokio::test]
    async fn a_destination_edit_without_its_secret_keeps_the_stored_secret() {
        let mocks = mocks_expecting(DestinationUpdate {
            name: None,
            config: Some(postgres_config("new-dw.internal", Some("s3cr3t"))),
        });
        let update = DestinationUpdate {
            name: None,
            config: Some(postgres_config("new-dw.internal", None)),
        };

        let updated = mocks
            .into_rosetta()
            .update_destination(DestinationId::new(2), update)
            .await;

        assert_eq!(
            updated.ok().map(|d| d.config),
            Some(postgres_config("new-dw.internal", Some("s3cr3t")))
        );
    }

    #[tokio::test]
    async fn a_destination_edit_with_a_new_secret_replaces_it() {
        let mocks = mocks_expecting(DestinationUpdate {
            name: None,
            config: Some(postgres_config("dw.internal", Some("rotated"))),
        });
        let update = DestinationUpdate {
            name: None,
            config: Some(postgres_config("dw.internal", Some("rotated"))),
        };

        let updated = mocks
            .into_rosetta()
            .update_destination(DestinationId::new(2), update)
            .await;

        assert_eq!(
            updated.ok().map(|d| d.config),
            Some(postgres_config("dw.internal", Some("rotated")))
        );
    }

    #[tokio::test]
    async fn renaming_a_destination_writes_only_the_name() {
        let mocks = mocks_expecting(DestinationUpdate {
            name: Some(name("renamed")),
            config: None,
        });
        let update = DestinationUpdate {
            name: Some(name("renamed")),
            config: None,
        };

        let updated = mocks
            .into_rosetta()
            .update_destination(DestinationId::new(2), update)
            .await;

        assert!(updated.is_ok());
    }

    #[tokio::test]
    async fn a_configuration_edit_of_a_missing_destination_is_not_found_and_writes_nothing() {
        let mut mocks = Mocks::default();
        mocks.destinations.expect_get().returning(|_| Ok(None));
        mocks.destinations.expect_update().never();
        let update = DestinationUpdate {
            name: None,
            config: Some(postgres_config("dw.internal", None)),
        };

        let error = mocks
            .into_rosetta()
            .update_destination(DestinationId::new(7), update)
            .await;

        assert!(matches!(
            error,
            Err(AppError::NotFound {
                entity: EntityKind::Destination,
                id: 7
            })
        ));
    }

    #[tokio::test]
    async fn an_empty_destination_update_returns_the_destination_without_writing() {
        let mut mocks = Mocks::default();
        mocks
            .destinations
            .expect_get()
            .returning(|_| Ok(Some(destination(2))));
        mocks.destinations.expect_update().never();

        let updated = mocks
            .into_rosetta()
            .update_destination(DestinationId::new(2), DestinationUpdate::default())
            .await;

        assert_eq!(updated.ok(), Some(destination(2)));
    }

    #[tokio::test]
    async fn renaming_a_destination_to_a_taken_name_is_a_duplicate() {
        let mut mocks = Mocks::default();
        mocks
            .destinations
            .expect_update()
            .returning(|_, _| Err(DestinationRepositoryError::Duplicate(name("taken"))));
        let update = DestinationUpdate {
            name: Some(name("taken")),
            config: None,
        };

        let error = mocks
            .into_rosetta()
            .update_destination(DestinationId::new(2), update)
            .await;

        assert!(matches!(
            error,
            Err(AppError::Duplicate { entity: EntityKind::Destination, field: "name", ref value })
                if value == "taken"
        ));
    }
}
