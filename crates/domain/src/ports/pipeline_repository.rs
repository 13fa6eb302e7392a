//! The store of pipelines and their runtime metadata.

use async_trait::async_trait;

use crate::{
    DestinationId, Name, NewPipeline, PageRequest, PipelineDetails, PipelineId, PipelineRef,
    PipelineStatus, PipelineUpdate, SourceId,
};

/// What can go wrong in a [`PipelineRepository`].
#[derive(Debug, thiserror::Error)]
pub enum PipelineRepositoryError {
    /// No pipeline has this id.
    #[error("pipeline {0} not found")]
    NotFound(PipelineId),
    /// Another pipeline already has this name.
    #[error("a pipeline named '{0}' already exists")]
    Duplicate(Name),
    /// The source named by the pipeline does not exist (it may have just been deleted).
    #[error("source {0} not found")]
    SourceMissing(SourceId),
    /// The destination named by the pipeline does not exist.
    #[error("destination {0} not found")]
    DestinationMissing(DestinationId),
    /// The store cannot be reached.
    #[error("the metadata database is unavailable")]
    Unavailable(#[source] anyhow::Error),
    /// Anything else.
    #[error(transparent)]
    Unknown(#[from] anyhow::Error),
}

/// The store of pipelines. A pipeline and its metadata are always written together.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PipelineRepository: Send + Sync {
    /// Stores a pipeline and its metadata in one transaction.
    ///
    /// # Errors
    ///
    /// `Duplicate`, `SourceMissing`, `DestinationMissing`, `Unavailable`, `Unknown`.
    async fn create(
        &self,
        pipeline: NewPipeline,
    ) -> Result<PipelineDetails, PipelineRepositoryError>;

    /// The pipeline with this id, with its source, destination and metadata.
    ///
    /// # Errors
    ///
    /// `Unavailable`, `Unknown`.
    async fn get(&self, id: PipelineId)
        -> Result<Option<PipelineDetails>, PipelineRepositoryError>;

    /// A page of pipelines ordered by id, only those in `status` when given.
    ///
    /// # Errors
    ///
    /// `Unavailable`, `Unknown`.
    async fn list(
        &self,
        page: PageRequest,
        status: Option<PipelineStatus>,
    ) -> Result<Vec<PipelineDetails>, PipelineRepositoryError>;

    /// Applies a partial update, status change and metadata side effects in one transaction.
    ///
    /// # Errors
    ///
    /// `NotFound`, `Duplicate`, `SourceMissing`, `DestinationMissing`, `Unavailable`, `Unknown`.
    async fn update(
        &self,
        id: PipelineId,
        update: PipelineUpdate,
    ) -> Result<PipelineDetails, PipelineRepositoryError>;

    /// Deletes a pipeline and its metadata.
    ///
    /// # Errors
    ///
    /// `NotFound`, `Unavailable`, `Unknown`.
    async fn delete(&self, id: PipelineId) -> Result<(), PipelineRepositoryError>;

    /// The pipelines that replicate from this source, ordered by id.
    ///
    /// # Errors
    ///
    /// `Unavailable`, `Unknown`.
    async fn using_source(&self, id: SourceId)
        -> Result<Vec<PipelineRef>, PipelineRepositoryError>;

    /// The pipelines that deliver to this destination, ordered by id.
    ///
    /// # Errors
    ///
    /// `Unavailable`, `Unknown`.
    async fn using_destination(
        &self,
        id: DestinationId,
    ) -> Result<Vec<PipelineRef>, PipelineRepositoryError>;
}
