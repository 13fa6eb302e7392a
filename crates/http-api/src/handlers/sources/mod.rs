//! The source routes.

mod check;
mod create;
mod delete;
mod get;
mod list;
mod update;
mod wal;

pub use check::check_source;
pub use create::create_source;
pub use delete::delete_source;
pub use get::get_source;
pub use list::list_sources;
pub use update::update_source;
pub use wal::get_source_wal;
