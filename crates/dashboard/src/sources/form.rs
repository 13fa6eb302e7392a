//! The create and edit forms of a source. What is posted becomes the API's JSON body and is
//! judged by the API's own validation, whose messages are shown next to their fields; the
//! password is never shown, and left empty on the edit form it keeps the stored one.

use actix_web::http::StatusCode;
use actix_web::web::{self, Data};
use actix_web::HttpRequest;
use maud::{html, Markup};
use rosetta_app::{AppError, Rosetta};
use rosetta_domain::{Source, SslMode};
use rosetta_http_api::extract::FromBody;
use rosetta_http_api::models::sources::{CreateSourceBody, UpdateSourceBody};

use super::page::source_id;
use crate::error::{PageError, PageResult};
use crate::forms::{
    csrf_field, general_errors, secret_input, select_input, text_input, BodySpec, Form, FormErrors,
    Input,
};
use crate::layout::{self, Section};
use crate::session::Viewer;

const FIELDS: [&str; 9] = [
    "name",
    "pg_host",
    "pg_port",
    "pg_database",
    "pg_username",
    "pg_password",
    "publication_name",
    "replication_id",
    "ssl_mode",
];

const LABELS: [(&str, &str); 9] = [
    ("name", "Name"),
    ("pg_host", "Host"),
    ("pg_port", "Port"),
    ("pg_database", "Database"),
    ("pg_username", "Role"),
    ("pg_password", "Password"),
    ("publication_name", "Publication"),
    ("replication_id", "Replication id"),
    ("ssl_mode", "TLS"),
];

const SPEC_NUMBERS: [&str; 2] = ["pg_port", "replication_id"];
const SPEC_SECRETS: [&str; 1] = ["pg_password"];
/// Emptied on the edit form, a required field is an error, not "unchanged".
const REQUIRED: [&str; 7] = [
    "name",
    "pg_host",
    "pg_port",
    "pg_database",
    "pg_username",
    "publication_name",
    "replication_id",
];

/// What the form shows: a stored source, or what was posted.
struct Values {
    fields: Vec<(&'static str, String)>,
    password_stored: bool,
}

impl Values {
    fn blank() -> Self {
        Self {
            fields: vec![
                ("pg_port", "5432".to_owned()),
                ("replication_id", "0".to_owned()),
                ("ssl_mode", SslMode::default().as_str().to_owned()),
            ],
            password_stored: false,
        }
    }

    fn of(source: &Source) -> Self {
        Self {
            fields: vec![
                ("name", source.name.as_str().to_owned()),
                ("pg_host", source.pg_host.as_str().to_owned()),
                ("pg_port", source.pg_port.get().to_string()),
                ("pg_database", source.pg_database.as_str().to_owned()),
                ("pg_username", source.pg_username.as_str().to_owned()),
                (
                    "publication_name",
                    source.publication_name.as_str().to_owned(),
                ),
                ("replication_id", source.replication_id.get().to_string()),
                ("ssl_mode", source.ssl_mode.as_str().to_owned()),
            ],
            password_stored: source.pg_password.is_some(),
        }
    }

    fn posted(form: &Form, password_stored: bool) -> Self {
        Self {
            fields: FIELDS
                .iter()
                .filter(|name| !SPEC_SECRETS.contains(name))
                .map(|name| (*name, form.get(name).unwrap_or_default().to_owned()))
                .collect(),
            password_stored,
        }
    }

    fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(field, _)| *field == name)
            .map_or("", |(_, value)| value.as_str())
    }
}

fn form(
    viewer: &Viewer,
    action: &str,
    values: &Values,
    errors: &FormErrors,
    submit: &str,
) -> Markup {
    let ssl_modes: Vec<(String, String)> = SslMode::ALL
        .iter()
        .map(|mode| (mode.as_str().to_owned(), mode.as_str().to_owned()))
        .collect();
    html! {
        form.stacked method="post" action=(action) novalidate {
            (csrf_field(&viewer.csrf))
            (general_errors(errors, &LABELS))
            (text_input("name", "Name", values.get("name"), true, "1–255 letters, digits, - or _; stored in lower case.", errors))
            fieldset {
                legend { "Server" }
                (text_input("pg_host", "Host", values.get("pg_host"), true, "Host name or address of the PostgreSQL server.", errors))
                (Input { name: "pg_port", label: "Port", value: values.get("pg_port"), kind: "number", required: true, hint: "1–65535.", }.render(errors))
                (text_input("pg_database", "Database", values.get("pg_database"), true, "The database to replicate from.", errors))
                (text_input("pg_username", "Role", values.get("pg_username"), true, "A role with the REPLICATION attribute.", errors))
                (secret_input("pg_password", "Password", errors, values.password_stored, "Write-only: never shown again."))
                (select_input("ssl_mode", "TLS", &ssl_modes, values.get("ssl_mode"), "How the connection uses TLS.", errors))
            }
            fieldset {
                legend { "Replication" }
                (text_input("publication_name", "Publication", values.get("publication_name"), true, "The publication whose tables are replicated: 1–255 letters, digits or _.", errors))
                (Input { name: "replication_id", label: "Replication id", value: values.get("replication_id"), kind: "number", required: true, hint: "Names the pipelines' replication slots; 0 or more.", }.render(errors))
            }
            button type="submit" { (submit) }
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
        p.muted { a href="/sources" { "Sources" } " / " }
        h1 { (title) }
        (content)
    };
    layout::page_with_status(viewer, Section::Sources, title, body, status)
}

/// What the use case refused, as messages on the form; other errors are the page's.
fn refusal(error: AppError, errors: &mut FormErrors) -> Result<(), PageError> {
    match error {
        AppError::Duplicate { field, value, .. } => {
            errors.add(
                field,
                format!("A source named '{value}' already exists: choose another name."),
            );
            Ok(())
        }
        other => Err(other.into()),
    }
}

pub(super) async fn new(viewer: Viewer) -> PageResult {
    let content = form(
        &viewer,
        "/sources",
        &Values::blank(),
        &FormErrors::default(),
        "Create the source",
    );
    Ok(form_page(&viewer, "Add a source", content, StatusCode::OK))
}

pub(super) async fn create(
    req: HttpRequest,
    viewer: Viewer,
    rosetta: Data<Rosetta>,
    posted: web::Form<Form>,
) -> PageResult {
    viewer.check(&req, &posted)?;
    let body = posted.body(&BodySpec {
        numbers: &SPEC_NUMBERS,
        secrets: &SPEC_SECRETS,
        ..BodySpec::default()
    });
    let mut errors = match CreateSourceBody::from_body(&body) {
        Ok(source) => match rosetta.create_source(source).await {
            Ok(created) => return Ok(layout::redirect(&format!("/sources/{}", created.id))),
            Err(error) => {
                let mut errors = FormErrors::default();
                refusal(error, &mut errors)?;
                errors
            }
        },
        Err(errors) => FormErrors::from_api(errors),
    };
    errors.keep_only(&FIELDS);
    let content = form(
        &viewer,
        "/sources",
        &Values::posted(&posted, false),
        &errors,
        "Create the source",
    );
    Ok(form_page(
        &viewer,
        "Add a source",
        content,
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

pub(super) async fn edit(
    viewer: Viewer,
    rosetta: Data<Rosetta>,
    path: web::Path<String>,
) -> PageResult {
    let id = source_id(&path)?;
    let source = rosetta.get_source(id).await?;
    let content = form(
        &viewer,
        &format!("/sources/{id}"),
        &Values::of(&source),
        &FormErrors::default(),
        "Save",
    );
    Ok(form_page(
        &viewer,
        &format!("Edit source {}", source.name.as_str()),
        content,
        StatusCode::OK,
    ))
}

pub(super) async fn update(
    req: HttpRequest,
    viewer: Viewer,
    rosetta: Data<Rosetta>,
    path: web::Path<String>,
    posted: web::Form<Form>,
) -> PageResult {
    viewer.check(&req, &posted)?;
    let id = source_id(&path)?;
    let source = rosetta.get_source(id).await?;
    let body = posted.body(&BodySpec {
        numbers: &SPEC_NUMBERS,
        secrets: &SPEC_SECRETS,
        send_empty: &REQUIRED,
        skip: &[],
    });
    let mut errors = match UpdateSourceBody::from_body(&body) {
        Ok(update) => match rosetta.update_source(id, update).await {
            Ok(_) => return Ok(layout::redirect(&format!("/sources/{id}"))),
            Err(error) => {
                let mut errors = FormErrors::default();
                refusal(error, &mut errors)?;
                errors
            }
        },
        Err(errors) => FormErrors::from_api(errors),
    };
    errors.keep_only(&FIELDS);
    let values = Values::posted(&posted, source.pg_password.is_some());
    let content = form(&viewer, &format!("/sources/{id}"), &values, &errors, "Save");
    Ok(form_page(
        &viewer,
        &format!("Edit source {}", source.name.as_str()),
        content,
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}
