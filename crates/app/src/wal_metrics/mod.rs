//! Use cases on WAL samples: reading the samples kept.

mod list;
