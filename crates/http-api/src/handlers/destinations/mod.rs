//! The destination routes.

mod check;
mod create;
mod delete;
mod get;
mod list;
mod update;

pub use check::check_destination;
pub use create::create_destination;
pub use delete::delete_destination;
pub use get::get_destination;
pub use list::list_destinations;
pub use update::update_destination;
