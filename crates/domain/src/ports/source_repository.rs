//! The store of sources.

use async_trait::async_trait;

use crate::{
    DeleteMode, Name, NewSource, PageRequest, PipelineRef, Source, SourceId, SourceUpdate,
};

/// What can go wrong in a [`SourceRepository`].
#[derive(Debug, thiserror::Error)]
pub enum SourceRepositoryError {
    /// No source has this id.
    #[error("source {0} not found")]
    NotFound(SourceId),
    /// Another source already has this name.
    #[error("a source named '{0}' already exists")]
    Duplicate(Name),
    /// Pipelines use the source and the delete was not a cascade.
    #[error("source {id} is used by {} pipeline(s)", used_by.len())]
    InUse {
        /// The source.
        id: SourceId,
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

/// The store of sources.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SourceRepository: Send + Sync {
    /// Stores a new source.
    ///
    /// # Errors
    ///
    /// `Duplicate` when the name is taken, `Unavailable`, `Unknown`.
    async fn create(&self, source: NewSource) -> Result<Source, SourceRepositoryError>;

    /// The source with this id, if any.
    ///
    /// # Errors
    ///
    /// `Unavailable`, `Unknown`.
    async fn get(&self, id: SourceId) -> Result<Option<Source>, SourceRepositoryError>;

    /// A page of sources ordered by id.
    ///
    /// # Errors
    ///
    /// `Unavailable`, `Unknown`.
    async fn list(&self, page: PageRequest) -> Result<Vec<Source>, SourceRepositoryError>;

    /// Applies a partial update and returns the source as stored.
    ///
    /// # Errors
    ///
    /// `NotFound`, `Duplicate` when the new name is taken, `Unavailable`, `Unknown`.
    async fn update(
        &self,
        id: SourceId,
        update: SourceUpdate,
    ) -> Result<Source, SourceRepositoryError>;

    /// Deletes a source; with [`DeleteMode::Cascade`] the pipelines that use it go too, in the
    /// same transaction.
    ///
    /// # Errors
    ///
    /// `NotFound`, `InUse` when pipelines use it and the mode is `Restrict`, `Unavailable`,
    /// `Unknown`.
    async fn delete(&self, id: SourceId, mode: DeleteMode) -> Result<(), SourceRepositoryError>;
}
