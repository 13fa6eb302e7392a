//! Path and query parameters shared by several routes: ids, pages, cascades.

use std::collections::HashMap;

use apistos::schemars::JsonSchema;
use apistos::ApiComponent;
use rosetta_domain::{DeleteMode, InvalidValue, Limit, PageRequest};

use crate::error::FieldError;
use crate::extract::FromParams;
use crate::fields::{Fields, Origin};

/// The id of the entity a route acts on.
#[derive(JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct IdPath {
    /// The entity's id, a positive integer.
    #[schemars(range(min = 1), example = 1)]
    pub id: i64,
}

fn positive(value: i64) -> Result<i64, InvalidValue> {
    if value >= 1 {
        Ok(value)
    } else {
        Err(InvalidValue::new(
            "out_of_range",
            format!("must be a positive integer, got {value}"),
        ))
    }
}

/// Reads a positive id parameter.
pub(crate) fn read_id(fields: &mut Fields<'_>, name: &str) -> Option<i64> {
    fields.parse_int(name, positive)
}

impl FromParams for IdPath {
    type Output = i64;

    fn from_params(params: &HashMap<String, String>) -> Result<i64, Vec<FieldError>> {
        let mut fields = Fields::text(Origin::Path, params);
        let id = fields.required("id", |f| read_id(f, "id"));
        fields.finish(|| id)
    }
}

/// A page of a list ordered by id.
#[derive(JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct PageQuery {
    /// Rows to skip, 0 or more (default 0).
    #[schemars(range(min = 0), example = 0)]
    pub skip: Option<i64>,
    /// Rows to return, 1–1000 (default 100).
    #[schemars(range(min = 1, max = 1000), example = 100)]
    pub limit: Option<i64>,
}

/// Reads `skip` and `limit`.
pub(crate) fn read_page(fields: &mut Fields<'_>) -> Option<PageRequest> {
    let skip = fields.integer("skip").unwrap_or(0);
    let limit = fields.parse_int("limit", Limit::new).unwrap_or_default();
    fields.check("skip", PageRequest::new(skip, limit))
}

impl FromParams for PageQuery {
    type Output = PageRequest;

    fn from_params(params: &HashMap<String, String>) -> Result<PageRequest, Vec<FieldError>> {
        let mut fields = Fields::text(Origin::Query, params);
        let page = read_page(&mut fields);
        fields.finish(|| page)
    }
}

/// How a delete treats the pipelines that use the entity.
#[derive(JsonSchema, ApiComponent)]
#[schemars(crate = "apistos")]
pub struct DeleteQuery {
    /// `true` deletes the pipelines that use it too; otherwise (the default) the delete is
    /// refused with `409 EntityInUseError` while pipelines use it.
    #[schemars(example = false)]
    pub cascade: Option<bool>,
}

impl FromParams for DeleteQuery {
    type Output = DeleteMode;

    fn from_params(params: &HashMap<String, String>) -> Result<DeleteMode, Vec<FieldError>> {
        let mut fields = Fields::text(Origin::Query, params);
        let cascade = fields.boolean("cascade").unwrap_or(false);
        fields.finish(|| {
            Some(if cascade {
                DeleteMode::Cascade
            } else {
                DeleteMode::Restrict
            })
        })
    }
}
