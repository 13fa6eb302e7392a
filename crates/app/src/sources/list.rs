//! Use case: list sources, a page at a time.

use rosetta_domain::{PageRequest, Source};

use crate::{AppError, Rosetta};

impl Rosetta {
    /// A page of sources ordered by id.
    ///
    /// # Errors
    ///
    /// [`AppError::Unavailable`], [`AppError::Unknown`].
    #[tracing::instrument(skip(self), err(level = "info"))]
    pub async fn list_sources(&self, page: PageRequest) -> Result<Vec<Source>, AppError> {
        Ok(self.sources.list(page).await?)
    }
}

#[cfg(test)]
mod tests {
    use crate::fixtures::{page, source, Mocks};

    #[tokio::test]
    async fn listing_sources_asks_the_store_for_the_requested_page() {
        let mut mocks = Mocks::default();
        mocks
            .sources
            .expect_list()
            .withf(|requested| *requested == page())
            .times(1)
            .returning(|_| Ok(vec![source(11), source(12)]));

        let listed = mocks.into_rosetta().list_sources(page()).await;

        assert_eq!(listed.ok(), Some(vec![source(11), source(12)]));
    }
}
