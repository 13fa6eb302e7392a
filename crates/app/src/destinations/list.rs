//! Use case: list destinations, a page at a time.

use rosetta_domain::{Destination, PageRequest};

use crate::{AppError, Rosetta};

impl Rosetta {
    /// A page of destinations ordered by id.
    ///
    /// # Errors
    ///
    /// [`AppError::Unavailable`], [`AppError::Unknown`].
    #[tracing::instrument(skip(self), err(level = "info"))]
    pub async fn list_destinations(&self, page: PageRequest) -> Result<Vec<Destination>, AppError> {
        Ok(self.destinations.list(page).await?)
    }
}

#[cfg(test)]
mod tests {
    use crate::fixtures::{destination, page, Mocks};

    #[tokio::test]
    async fn listing_destinations_asks_the_store_for_the_requested_page() {
        let mut mocks = Mocks::default();
        mocks
            .destinations
            .expect_list()
            .withf(|requested| *requested == page())
            .times(1)
            .returning(|_| Ok(vec![destination(11), destination(12)]));

        let listed = mocks.into_rosetta().list_destinations(page()).await;

        assert_eq!(listed.ok(), Some(vec![destination(11), destination(12)]));
    }
}
