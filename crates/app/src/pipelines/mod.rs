//! Use cases on pipelines: the catalogue operations and the lifecycle actions.

mod change_status;
mod create;
mod delete;
mod get;
mod list;
mod series;
mod tables;
mod update;

pub use update::PipelineUpdateRequest;
