//! The OpenAPI document's frame (title, description, tags) and the rendering of schemas that
//! nest other documented types.

use apistos::info::Info;
use apistos::spec::Spec;
use apistos::tag::Tag;

/// Where the document is served.
pub const OPENAPI_PATH: &str = "/openapi.json";

fn tag(name: &str, description: &str) -> Tag {
    Tag {
        name: name.to_owned(),
        description: Some(description.to_owned()),
        ..Tag::default()
    }
}

/// The document's metadata; apistos adds every route, body, parameter and response.
pub fn spec() -> Spec {
    Spec {
        info: Info {
            title: "Rosetta".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            description: Some(
                "The control plane for PostgreSQL change-data-capture pipelines: the catalogue of \
                 sources, destinations and pipelines, each pipeline's lifecycle, and the WAL of \
                 every source. Every error answers `{\"error\", \"message\", \"details\"}`. When the \
                 server has API keys (`API_KEYS`), every `/api/v1` route except `/api/v1/health` \
                 needs `Authorization: Bearer <key>` and answers `401` without it."
                    .to_owned(),
            ),
            ..Info::default()
        },
        tags: vec![
            tag("sources", "PostgreSQL databases to replicate from"),
            tag(
                "destinations",
                "Where pipelines deliver: Snowflake or PostgreSQL",
            ),
            tag(
                "pipelines",
                "A source connected to a destination, and its lifecycle",
            ),
            tag("metrics", "WAL samples of the sources"),
            tag("health", "Whether the service and its database answer"),
        ],
        ..Spec::default()
    }
}
