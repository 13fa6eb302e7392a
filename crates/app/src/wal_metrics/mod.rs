//! Use cases on WAL samples: probing a source and reading the samples kept.

mod list;
mod record;
