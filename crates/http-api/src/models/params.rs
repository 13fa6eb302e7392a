//! Path and query parameters shared by several routes: ids, pages, cascades.

use apistos::schemars::{Schema, SchemaGenerator};
use rosetta_domain::{DeleteMode, Limit, PageRequest};

use crate::fields::Fields;
use crate::request::{request_part, EntityId, RequestValue};

request_part! {
    /// The id of the entity a route acts on.
    path struct IdPath => i64 {
        /// The entity's id, a positive integer.
        #[schemars(example = 1)]
        required id: EntityId,
    } with |_| id.map(EntityId::get)
}

/// How many rows a page skips. Checked with the limit, by [`PageRequest::new`].
#[derive(Debug, Clone, Copy, Default)]
pub struct Skip(i64);

impl RequestValue for Skip {
    fn read(fields: &mut Fields<'_>, name: &str) -> Option<Self> {
        fields.integer(name).map(Self)
    }

    fn schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = generator.subschema_for::<i64>();
        schema.insert("minimum".to_owned(), PageRequest::MIN_SKIP.into());
        schema
    }
}

request_part! {
    /// A page of a list ordered by id.
    query struct PageQuery => PageRequest {
        /// Rows to skip, 0 or more (default 0).
        #[schemars(example = 0)]
        default skip: Skip,
        /// Rows to return, 1–1000 (default 100).
        #[schemars(example = 100)]
        default limit: Limit,
    } with |f| f.check("skip", PageRequest::new(skip.0, limit))
}

request_part! {
    /// How a delete treats the pipelines that use the entity.
    query struct DeleteQuery => DeleteMode {
        /// `true` deletes the pipelines that use it too; otherwise (the default) the delete is
        /// refused with `409 EntityInUseError` while pipelines use it.
        #[schemars(example = false)]
        default cascade: DeleteMode = DeleteMode::Restrict,
    } with |_| Some(cascade)
}
