//! The create and edit forms of a pipeline: a name, a source and a destination chosen from
//! the catalogue, and (when creating) whether it starts running or paused.

use actix_web::http::StatusCode;
use actix_web::web::{self, Data};
use actix_web::HttpRequest;
use maud::{html, Markup};
use rosetta_app::{AppError, Rosetta};
use rosetta_domain::{Destination, EntityKind, PipelineDetails, Source};
use rosetta_http_api::extract::FromBody;
use rosetta_http_api::models::pipelines::{CreatePipelineBody, UpdatePipelineBody};

use super::pipeline_id;
use crate::error::{PageError, PageResult};
use crate::forms::{
    csrf_field, general_errors, select_input, text_input, BodySpec, Form, FormErrors,
};
use crate::layout::{self, Section};
use crate::session::Viewer;

const FIELDS: [&str; 4] = ["name", "source_id", "destination_id", "status"];
const LABELS: [(&str, &str); 4] = [
    ("name", "Name"),
    ("source_id", "Source"),
    ("destination_id", "Destination"),
    ("status", "When created"),
];
const NUMBERS: [&str; 2] = ["source_id", "destination_id"];

struct Choices {
    sources: Vec<Source>,
    destinations: Vec<Destination>,
}

async fn choices(rosetta: &Rosetta) -> Result<Choices, AppError> {
    Ok(Choices {
        sources: crate::catalogue::sources(rosetta).await?,
        destinations: crate::catalogue::destinations(rosetta).await?,
    })
}

fn form(
    viewer: &Viewer,
    action: &str,
    values: &[(&str, String)],
    choices: &Choices,
    errors: &FormErrors,
    creating: bool,
) -> Markup {
    let value = |name: &str| {
        values
            .iter()
            .find(|(field, _)| *field == name)
            .map_or("", |(_, v)| v.as_str())
    };
    let mut sources = vec![(String::new(), "Choose a source…".to_owned())];
    sources.extend(choices.sources.iter().map(|s| {
        (
            s.id.to_string(),
            format!(
                "{} ({}/{})",
                s.name.as_str(),
                s.pg_host.as_str(),
                s.pg_database.as_str()
            ),
        )
    }));
    let mut destinations = vec![(String::new(), "Choose a destination…".to_owned())];
    destinations.extend(choices.destinations.iter().map(|d| {
        (
            d.id.to_string(),
            format!(
                "{} ({})",
                d.name.as_str(),
                d.config.destination_type().as_str()
            ),
        )
    }));
    let statuses = [
        ("START".to_owned(), "Start now".to_owned()),
        ("PAUSE".to_owned(), "Create it paused".to_owned()),
    ];
    html! {
        @if choices.sources.is_empty() || choices.destinations.is_empty() {
            div.notice {
                p { "A pipeline needs a source and a destination. "
                    @if choices.sources.is_empty() { a href="/sources/new" { "Add a source" } " first. " }
                    @if choices.destinations.is_empty() { a href="/destinations/new" { "Add a destination" } " first." }
                }
            }
        }
        form.stacked method="post" action=(action) novalidate {
            (csrf_field(&viewer.csrf))
            (general_errors(errors, &LABELS))
            (text_input("name", "Name", value("name"), true, "1–255 letters, digits, - or _; stored in lower case.", errors))
            (select_input("source_id", "Source", &sources, value("source_id"), "The PostgreSQL database to replicate from.", errors))
            (select_input("destination_id", "Destination", &destinations, value("destination_id"), "Where the tables and changes go.", errors))
            @if creating {
                (select_input("status", "When created", &statuses, value("status"), "", errors))
            }
            button type="submit" { @if creating { "Create the pipeline" } @else { "Save" } }
        }
    }
}

fn form_page(
    viewer: &Viewer,
    title: &str,
    content: Markup,
    status: StatusCode,
) -> actix_web::HttpResponse {
    let body = html! {
        p.muted { a href="/pipelines" { "Pipelines" } " / " }
        h1 { (title) }
        (content)
    };
    layout::page_with_status(viewer, Section::Pipelines, title, body, status)
}

fn refusal(error: AppError, errors: &mut FormErrors) -> Result<(), PageError> {
    match error {
        AppError::Duplicate { field, value, .. } => {
            errors.add(
                field,
                format!("A pipeline named '{value}' already exists: choose another name."),
            );
            Ok(())
        }
        AppError::NotFound {
            entity: EntityKind::Source,
            id,
        } => {
            errors.add(
                "source_id",
                format!("Source {id} does not exist (any more): choose another."),
            );
            Ok(())
        }
        AppError::NotFound {
            entity: EntityKind::Destination,
            id,
        } => {
            errors.add(
                "destination_id",
                format!("Destination {id} does not exist (any more): choose another."),
            );
            Ok(())
        }
        other => Err(other.into()),
    }
}

fn posted(form: &Form) -> Vec<(&'static str, String)> {
    FIELDS
        .iter()
        .map(|name| (*name, form.get(name).unwrap_or_default().to_owned()))
        .collect()
}

pub(super) async fn new(viewer: Viewer, rosetta: Data<Rosetta>) -> PageResult {
    let choices = choices(&rosetta).await?;
    let values = [("status", "START".to_owned())];
    let content = form(
        &viewer,
        "/pipelines",
        &values,
        &choices,
        &FormErrors::default(),
        true,
    );
    Ok(form_page(
        &viewer,
        "Create a pipeline",
        content,
        StatusCode::OK,
    ))
}

pub(super) async fn create(
    req: HttpRequest,
    viewer: Viewer,
    rosetta: Data<Rosetta>,
    posted_form: web::Form<Form>,
) -> PageResult {
    viewer.check(&req, &posted_form)?;
    let body = posted_form.body(&BodySpec {
        numbers: &NUMBERS,
        ..BodySpec::default()
    });
    let mut errors = match CreatePipelineBody::from_body(&body) {
        Ok(request) => match rosetta
            .create_pipeline(
                request.name,
                request.source_id,
                request.destination_id,
                request.status,
            )
            .await
        {
            Ok(created) => {
                return Ok(layout::redirect(&format!(
                    "/pipelines/{}",
                    created.pipeline.id
                )))
            }
            Err(error) => {
                let mut errors = FormErrors::default();
                refusal(error, &mut errors)?;
                errors
            }
        },
        Err(errors) => FormErrors::from_api(errors),
    };
    errors.keep_only(&FIELDS);
    let choices = choices(&rosetta).await?;
    let content = form(
        &viewer,
        "/pipelines",
        &posted(&posted_form),
        &choices,
        &errors,
        true,
    );
    Ok(form_page(
        &viewer,
        "Create a pipeline",
        content,
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

fn values_of(details: &PipelineDetails) -> Vec<(&'static str, String)> {
    vec![
        ("name", details.pipeline.name.as_str().to_owned()),
        ("source_id", details.pipeline.source_id.to_string()),
        (
            "destination_id",
            details.pipeline.destination_id.to_string(),
        ),
    ]
}

pub(super) async fn edit(
    viewer: Viewer,
    rosetta: Data<Rosetta>,
    path: web::Path<String>,
) -> PageResult {
    let id = pipeline_id(&path)?;
    let details = rosetta.get_pipeline(id).await?;
    let choices = choices(&rosetta).await?;
    let content = form(
        &viewer,
        &format!("/pipelines/{id}"),
        &values_of(&details),
        &choices,
        &FormErrors::default(),
        false,
    );
    Ok(form_page(
        &viewer,
        &format!("Edit pipeline {}", details.pipeline.name.as_str()),
        content,
        StatusCode::OK,
    ))
}

pub(super) async fn update(
    req: HttpRequest,
    viewer: Viewer,
    rosetta: Data<Rosetta>,
    path: web::Path<String>,
    posted_form: web::Form<Form>,
) -> PageResult {
    viewer.check(&req, &posted_form)?;
    let id = pipeline_id(&path)?;
    let details = rosetta.get_pipeline(id).await?;
    let body = posted_form.body(&BodySpec {
        numbers: &NUMBERS,
        send_empty: &FIELDS,
        skip: &["status"],
        ..BodySpec::default()
    });
    let mut errors = match UpdatePipelineBody::from_body(&body) {
        Ok(request) => match rosetta.update_pipeline(id, request).await {
            Ok(_) => return Ok(layout::redirect(&format!("/pipelines/{id}"))),
            Err(error) => {
                let mut errors = FormErrors::default();
                refusal(error, &mut errors)?;
                errors
            }
        },
        Err(errors) => FormErrors::from_api(errors),
    };
    errors.keep_only(&FIELDS);
    let choices = choices(&rosetta).await?;
    let content = form(
        &viewer,
        &format!("/pipelines/{id}"),
        &posted(&posted_form),
        &choices,
        &errors,
        false,
    );
    Ok(form_page(
        &viewer,
        &format!("Edit pipeline {}", details.pipeline.name.as_str()),
        content,
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}
