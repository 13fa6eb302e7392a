//! The source routes.

mod create;
mod delete;
mod get;
mod list;
mod update;

pub use create::create_source;
pub use delete::delete_source;
pub use get::get_source;
pub use list::list_sources;
pub use update::update_source;
