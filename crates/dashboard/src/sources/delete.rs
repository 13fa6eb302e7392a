//! Deleting a source: a page that asks first, and the refusal while pipelines use it, which
//! names them and offers to delete them too.

use actix_web::http::StatusCode;
use actix_web::web::{self, Data};
use actix_web::HttpRequest;
use rosetta_app::{AppError, Rosetta};
use rosetta_domain::DeleteMode;

use super::page::source_id;
use crate::error::PageResult;
use crate::forms::Form;
use crate::layout::{self, Section};
use crate::session::Viewer;

pub(super) async fn confirm(
    viewer: Viewer,
    rosetta: Data<Rosetta>,
    path: web::Path<String>,
) -> PageResult {
    let id = source_id(&path)?;
    let source = rosetta.get_source(id).await?;
    let body = crate::pages::confirm_delete(
        &viewer,
        "source",
        source.name.as_str(),
        &format!("/sources/{id}"),
        &[],
        "Its WAL history goes with it. Its replication slots on the server are not dropped.",
    );
    Ok(layout::page(
        &viewer,
        Section::Sources,
        &format!("Delete source {}", source.name.as_str()),
        body,
    ))
}

pub(super) async fn delete(
    req: HttpRequest,
    viewer: Viewer,
    rosetta: Data<Rosetta>,
    path: web::Path<String>,
    form: web::Form<Form>,
) -> PageResult {
    viewer.check(&req, &form)?;
    let id = source_id(&path)?;
    let mode = if form.get("cascade") == Some("yes") {
        DeleteMode::Cascade
    } else {
        DeleteMode::Restrict
    };
    match rosetta.delete_source(id, mode).await {
        Ok(()) => Ok(layout::redirect("/sources")),
        Err(AppError::InUse { used_by, .. }) => {
            let source = rosetta.get_source(id).await?;
            let body = crate::pages::confirm_delete(
                &viewer,
                "source",
                source.name.as_str(),
                &format!("/sources/{id}"),
                &used_by,
                "",
            );
            Ok(layout::page_with_status(
                &viewer,
                Section::Sources,
                &format!("Delete source {}", source.name.as_str()),
                body,
                StatusCode::CONFLICT,
            ))
        }
        Err(error) => Err(error.into()),
    }
}
