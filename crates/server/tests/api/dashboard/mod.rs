//! The web dashboard, page by page and action by action, as a browser without JavaScript
//! would use it: cookies kept, forms posted with their anti-forgery token, redirects read.

mod actions;
mod catalogue;
mod pages;
mod security;
mod visitor;
