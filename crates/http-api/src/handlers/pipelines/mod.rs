//! The pipeline routes: the catalogue operations and the lifecycle actions.

mod create;
mod delete;
mod get;
mod list;
mod pause;
mod refresh;
mod start;
mod tables;
mod update;

pub use create::create_pipeline;
pub use delete::delete_pipeline;
pub use get::get_pipeline;
pub use list::list_pipelines;
pub use pause::pause_pipeline;
pub use refresh::refresh_pipeline;
pub use start::start_pipeline;
pub use tables::list_pipeline_tables;
pub use update::update_pipeline;
