//! Use cases on sources, the PostgreSQL databases that pipelines replicate from.

mod check;
mod create;
mod delete;
mod get;
mod list;
mod update;
