//! The store of destinations.

use async_trait::async_trait;

use crate::{
    DeleteMode, Destination, DestinationId, DestinationUpdate, Name, NewDestination, PageRequest,
    PipelineRef,
};

/// What can go wrong in a [`DestinationRepository`].
#[derive(Debug, thiserror::Error)]
pub enum DestinationRepositoryError {
    /// No destination has this id.
    #[error("destination {0} not found")]
    NotFound(DestinationId),
    /// Another destination already has this name.
    #[error("a destination named '{0}' already exists")]
    Duplicate(Name),
    /// Pipelines use the destination and the delete was not a cascade.
    #[error("destination {id} is used by {} pipeline(s)", used_by.len())]
    InUse {
        /// The destination.
        id: DestinationId,
        /// The pipelines that use it.
        used_by: Vec<PipelineRef>,
    },
    /// The store cannot be reached (down, refusing connections, pool exhausted).
    #[error("the metadata database is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else.
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// The store of destinations.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait DestinationRepository: Send + Sync {
    /// Stores a new destination.
    ///
    /// # Errors
    ///
    /// `Duplicate` when the name is taken, `Unavailable`, `Unknown`.
    async fn create(
        &self,
        destination: NewDestination,
    ) -> Result<Destination, DestinationRepositoryError>;

    /// The destination with this id, if any.
    ///
    /// # Errors
    ///
    /// `Unavailable`, `Unknown`.
    async fn get(
        &self,
        id: DestinationId,
    ) -> Result<Option<Destination>, DestinationRepositoryError>;

    /// A page of destinations ordered by id.
    ///
    /// # Errors
    ///
    /// `Unavailable`, `Unknown`.
    async fn list(&self, page: PageRequest)
        -> Result<Vec<Destination>, DestinationRepositoryError>;

    /// Applies a partial update and returns the destination as stored.
    ///
    /// # Errors
    ///
    /// `NotFound`, `Duplicate` when the new name is taken, `Unavailable`, `Unknown`.
    async fn update(
        &self,
        id: DestinationId,
        update: DestinationUpdate,
    ) -> Result<Destination, DestinationRepositoryError>;

    /// Deletes a destination; with [`DeleteMode::Cascade`] the pipelines that use it go too, in the
    /// same transaction.
    ///
    /// # Errors
    ///
    /// `NotFound`, `InUse` when pipelines use it and the mode is `Restrict`, `Unavailable`,
    /// `Unknown`.
    async fn delete(
        &self,
        id: DestinationId,
        mode: DeleteMode,
    ) -> Result<(), DestinationRepositoryError>;
}
