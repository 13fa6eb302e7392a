//! Use cases on destinations, where pipelines deliver.

mod create;
mod delete;
mod get;
mod list;
mod update;

pub use update::{ConfigPatch, DestinationPatch, ReadAgainstStoredType};
