//! The destinations: the list, a destination's page with "Run check", typed create and edit
//! forms for PostgreSQL and Snowflake (secrets write-only), and delete.

mod form;

use actix_web::http::StatusCode;
use actix_web::web::{self, Data};
use actix_web::HttpRequest;
use maud::{html, Markup};
use rosetta_app::{AppError, Rosetta};
use rosetta_domain::{DeleteMode, Destination, DestinationConfig, DestinationId, EntityKind};

use crate::error::{PageError, PageResult};
use crate::format;
use crate::forms::{csrf_field, Form};
use crate::layout::{self, Section};
use crate::session::Viewer;

pub(crate) fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/destinations", web::get().to(list))
        .route("/destinations", web::post().to(form::create))
        .route("/destinations/new", web::get().to(form::new))
        .route("/destinations/{id}", web::get().to(show))
        .route("/destinations/{id}", web::post().to(form::update))
        .route("/destinations/{id}/edit", web::get().to(form::edit))
        .route("/destinations/{id}/check", web::post().to(check))
        .route("/destinations/{id}/delete", web::get().to(confirm_delete))
        .route("/destinations/{id}/delete", web::post().to(delete));
}

pub(crate) fn destination_id(raw: &str) -> Result<DestinationId, PageError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(DestinationId::new)
        .ok_or_else(|| PageError::NotFound {
            entity: EntityKind::Destination,
            id: raw.to_owned(),
        })
}

/// Where a destination writes, in a few words.
fn target(destination: &Destination) -> String {
    match &destination.config {
        DestinationConfig::Postgres(c) => format!(
            "{}:{}/{} schema {}",
            c.host.as_str(),
            c.port.get(),
            c.database.as_str(),
            c.schema.as_str()
        ),
        DestinationConfig::Snowflake(c) => format!(
            "{} {}.{} ({})",
            c.account.as_str(),
            c.database.as_str(),
            c.schema.as_str(),
            c.mode.as_str()
        ),
    }
}

async fn list(viewer: Viewer, rosetta: Data<Rosetta>) -> PageResult {
    let destinations = crate::catalogue::destinations(&rosetta).await?;
    let body = html! {
        h1 { "Destinations" }
        div.actions {
            a.button href="/destinations/new?type=postgres" { "Add a PostgreSQL destination" }
            a.button href="/destinations/new?type=snowflake" { "Add a Snowflake destination" }
        }
        @if destinations.is_empty() {
            div.empty {
                p { "No destinations yet. A destination is where a pipeline writes: a PostgreSQL database or a Snowflake schema." }
            }
        } @else {
            div.table-wrap { table.rows {
                caption.muted { (destinations.len()) " destination(s)" }
                thead { tr { th scope="col" { "Name" } th scope="col" { "Type" } th scope="col" { "Writes to" } th scope="col" { "Updated" } } }
                tbody {
                    @for destination in &destinations {
                        tr id={ "destination-" (destination.id) } {
                            td data-label="Name" { a href={ "/destinations/" (destination.id) } { (destination.name.as_str()) } }
                            td data-label="Type" { (destination.config.destination_type().as_str()) }
                            td data-label="Writes to" { (target(destination)) }
                            td data-label="Updated" { (format::time(destination.updated_at)) }
                        }
                    }
                }
            } }
        }
    };
    Ok(layout::page(
        &viewer,
        Section::Destinations,
        "Destinations",
        body,
    ))
}

fn facts(destination: &Destination) -> Markup {
    let stored = |secret: bool| {
        if secret {
            "stored (never shown)"
        } else {
            "none"
        }
    };
    html! {
        dl.facts {
            dt { "Type" } dd { (destination.config.destination_type().as_str()) }
            @match &destination.config {
                DestinationConfig::Postgres(c) => {
                    dt { "Server" } dd { (c.host.as_str()) ":" (c.port.get()) }
                    dt { "Database" } dd { (c.database.as_str()) }
                    dt { "Schema" } dd { (c.schema.as_str()) }
                    dt { "Role" } dd { (c.username.as_str()) }
                    dt { "Password" } dd { (stored(c.password.is_some())) }
                }
                DestinationConfig::Snowflake(c) => {
                    dt { "Account" } dd { (c.account.as_str()) }
                    dt { "User" } dd { (c.user.as_str()) }
                    dt { "Database" } dd { (c.database.as_str()) }
                    dt { "Schema" } dd { (c.schema.as_str()) }
                    dt { "Role" } dd { (c.role.as_ref().map_or("default", |v| v.as_str())) }
                    dt { "Warehouse" } dd { (c.warehouse.as_ref().map_or("default", |v| v.as_str())) }
                    dt { "Host" } dd { (c.host.as_ref().map_or("from the account", |v| v.as_str())) }
                    dt { "Private key file" } dd { (c.private_key_path.as_ref().map_or("none", |v| v.as_str())) }
                    dt { "Key passphrase" } dd { (stored(c.private_key_passphrase.is_some())) }
                    dt { "Mode" } dd { (c.mode.as_str()) }
                }
            }
            dt { "Created" } dd { (format::time(destination.created_at)) }
            dt { "Updated" } dd { (format::time(destination.updated_at)) }
        }
    }
}

fn actions(viewer: &Viewer, destination: &Destination) -> Markup {
    html! {
        div.actions {
            form method="post" action={ "/destinations/" (destination.id) "/check" } {
                (csrf_field(&viewer.csrf))
                button type="submit" { "Run check" }
            }
            a.button.secondary href={ "/destinations/" (destination.id) "/edit" } { "Edit" }
            a.button.danger href={ "/destinations/" (destination.id) "/delete" } { "Delete" }
        }
    }
}

async fn show(viewer: Viewer, rosetta: Data<Rosetta>, path: web::Path<String>) -> PageResult {
    let id = destination_id(&path)?;
    let destination = rosetta.get_destination(id).await?;
    let name = destination.name.as_str();
    let body = html! {
        p.muted { a href="/destinations" { "Destinations" } " / " }
        h1 { "Destination " (name) }
        (actions(&viewer, &destination))
        (facts(&destination))
    };
    Ok(layout::page(
        &viewer,
        Section::Destinations,
        &format!("Destination {name}"),
        body,
    ))
}

async fn check(
    req: HttpRequest,
    viewer: Viewer,
    rosetta: Data<Rosetta>,
    path: web::Path<String>,
    form: web::Form<Form>,
) -> PageResult {
    viewer.check(&req, &form)?;
    let id = destination_id(&path)?;
    let destination = rosetta.get_destination(id).await?;
    let result = rosetta.check_destination(id).await?;
    let name = destination.name.as_str();
    let body = html! {
        p.muted { a href="/destinations" { "Destinations" } " / " a href={ "/destinations/" (id) } { (name) } " / " }
        h1 { "Check of destination " (name) }
        (crate::pages::checks(result.ready, result.checked_at, &result.checks, "this destination can be written"))
        p { a href={ "/destinations/" (id) } { "Back to the destination" } }
    };
    Ok(layout::page(
        &viewer,
        Section::Destinations,
        &format!("Check of {name}"),
        body,
    ))
}

async fn confirm_delete(
    viewer: Viewer,
    rosetta: Data<Rosetta>,
    path: web::Path<String>,
) -> PageResult {
    let id = destination_id(&path)?;
    let destination = rosetta.get_destination(id).await?;
    let name = destination.name.as_str();
    let body = crate::pages::confirm_delete(
        &viewer,
        "destination",
        name,
        &format!("/destinations/{id}"),
        &[],
        "The tables it holds stay where they are.",
    );
    Ok(layout::page(
        &viewer,
        Section::Destinations,
        &format!("Delete {name}"),
        body,
    ))
}

async fn delete(
    req: HttpRequest,
    viewer: Viewer,
    rosetta: Data<Rosetta>,
    path: web::Path<String>,
    form: web::Form<Form>,
) -> PageResult {
    viewer.check(&req, &form)?;
    let id = destination_id(&path)?;
    let mode = if form.get("cascade") == Some("yes") {
        DeleteMode::Cascade
    } else {
        DeleteMode::Restrict
    };
    match rosetta.delete_destination(id, mode).await {
        Ok(()) => Ok(layout::redirect("/destinations")),
        Err(AppError::InUse { used_by, .. }) => {
            let destination = rosetta.get_destination(id).await?;
            let name = destination.name.as_str();
            let body = crate::pages::confirm_delete(
                &viewer,
                "destination",
                name,
                &format!("/destinations/{id}"),
                &used_by,
                "",
            );
            Ok(layout::page_with_status(
                &viewer,
                Section::Destinations,
                &format!("Delete {name}"),
                body,
                StatusCode::CONFLICT,
            ))
        }
        Err(error) => Err(error.into()),
    }
}
