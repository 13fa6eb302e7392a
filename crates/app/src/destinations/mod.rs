//! Use cases on destinations, where pipelines deliver.

mod check;
mod create;
mod delete;
mod get;
mod list;
mod update;
mod writers;

pub use update::{ConfigPatch, DestinationPatch, ReadAgainstStoredType};
pub use writers::WritersByType;
