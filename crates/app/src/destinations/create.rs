//! Use case: create a destination.

use rosetta_domain::{Destination, NewDestination};

use crate::{AppError, Rosetta};

impl Rosetta {
    /// Stores a new destination.
    ///
    /// # Errors
    ///
    /// [`AppError::Duplicate`] when the name is taken, [`AppError::Unavailable`],
    /// [`AppError::Unknown`].
    // The configuration holds a secret: only the name and type are recorded.
    #[tracing::instrument(
        skip_all,
        fields(name = %destination.name, destination_type = %destination.config.destination_type()),
        err(level = "info")
    )]
    pub async fn create_destination(
        &self,
        destination: NewDestination,
    ) -> Result<Destination, AppError> {
        Ok(self.destinations.create(destination).await?)
    }
}

#[cfg(test)]
mod tests {
    use rosetta_domain::ports::DestinationRepositoryError;
    use rosetta_domain::{EntityKind, NewDestination};

    use crate::fixtures::{assert_duplicate_name, destination, name, postgres_config, Mocks};

    fn new_destination() -> NewDestination {
        NewDestination {
            name: name("warehouse"),
            config: postgres_config("dw.internal", Some("s3cr3t")),
        }
    }

    #[tokio::test]
    async fn creating_a_destination_stores_it_as_given() {
        let mut mocks = Mocks::default();
        mocks
            .destinations
            .expect_create()
            .withf(|new| *new == new_destination())
            .times(1)
            .returning(|_| Ok(destination(2)));

        let created = mocks
            .into_rosetta()
            .create_destination(new_destination())
            .await;

        assert_eq!(created.ok(), Some(destination(2)));
    }

    #[tokio::test]
    async fn creating_a_destination_with_a_taken_name_is_a_duplicate() {
        let mut mocks = Mocks::default();
        mocks
            .destinations
            .expect_create()
            .returning(|new| Err(DestinationRepositoryError::Duplicate(new.name)));

        let error = mocks
            .into_rosetta()
            .create_destination(new_destination())
            .await;

        assert_duplicate_name(&error, EntityKind::Destination, "warehouse");
    }
}
