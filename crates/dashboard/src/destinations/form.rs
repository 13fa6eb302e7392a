//! Typed create and edit forms for destinations: PostgreSQL (server, database, schema, role,
//! password) and Snowflake (account, user, database, schema, role, warehouse, host, private
//! key file and its passphrase, mode). Secrets are never shown; left empty on the edit form,
//! the stored secret is kept.

use actix_web::http::StatusCode;
use actix_web::web::{self, Data};
use actix_web::HttpRequest;
use maud::{html, Markup};
use rosetta_app::Rosetta;
use rosetta_domain::{Destination, DestinationConfig, DestinationType, SnowflakeMode};
use rosetta_http_api::error::ApiError;
use rosetta_http_api::extract::FromBody;
use rosetta_http_api::models::destinations::{CreateDestinationBody, UpdateDestinationBody};
use serde::Deserialize;

use super::destination_id;
use crate::error::{PageError, PageResult};
use crate::forms::{
    csrf_field, general_errors, secret_input, select_input, text_input, BodySpec, Form, FormErrors,
    Input,
};
use crate::layout::{self, Section};
use crate::session::Viewer;

const POSTGRES_FIELDS: [&str; 7] = [
    "name",
    "config.host",
    "config.port",
    "config.database",
    "config.username",
    "config.schema",
    "config.password",
];
const POSTGRES_REQUIRED: [&str; 5] = [
    "name",
    "config.host",
    "config.port",
    "config.database",
    "config.username",
];
const SNOWFLAKE_FIELDS: [&str; 11] = [
    "name",
    "config.account",
    "config.user",
    "config.database",
    "config.schema",
    "config.role",
    "config.warehouse",
    "config.host",
    "config.private_key_path",
    "config.private_key_passphrase",
    "config.mode",
];
const SNOWFLAKE_REQUIRED: [&str; 5] = [
    "name",
    "config.account",
    "config.user",
    "config.database",
    "config.schema",
];
const LABELS: [(&str, &str); 16] = [
    ("name", "Name"),
    ("config.host", "Host"),
    ("config.port", "Port"),
    ("config.database", "Database"),
    ("config.username", "Role"),
    ("config.schema", "Schema"),
    ("config.password", "Password"),
    ("config.account", "Account"),
    ("config.user", "User"),
    ("config.role", "Role"),
    ("config.warehouse", "Warehouse"),
    ("config.private_key_path", "Private key file"),
    ("config.private_key_passphrase", "Key passphrase"),
    ("config.mode", "Mode"),
    ("type", "Type"),
    ("config", "Configuration"),
];
const SECRETS: [&str; 2] = ["config.password", "config.private_key_passphrase"];
const NUMBERS: [&str; 1] = ["config.port"];

fn fields_of(kind: DestinationType) -> &'static [&'static str] {
    match kind {
        DestinationType::Postgres => &POSTGRES_FIELDS,
        DestinationType::Snowflake => &SNOWFLAKE_FIELDS,
    }
}

fn required_of(kind: DestinationType) -> &'static [&'static str] {
    match kind {
        DestinationType::Postgres => &POSTGRES_REQUIRED,
        DestinationType::Snowflake => &SNOWFLAKE_REQUIRED,
    }
}

/// What the form shows.
struct Values {
    kind: DestinationType,
    fields: Vec<(String, String)>,
    secret_stored: bool,
}

impl Values {
    fn blank(kind: DestinationType) -> Self {
        let fields = match kind {
            DestinationType::Postgres => vec![
                ("config.port".to_owned(), "5432".to_owned()),
                ("config.schema".to_owned(), "public".to_owned()),
            ],
            DestinationType::Snowflake => vec![(
                "config.mode".to_owned(),
                SnowflakeMode::default().as_str().to_owned(),
            )],
        };
        Self {
            kind,
            fields,
            secret_stored: false,
        }
    }

    fn of(destination: &Destination) -> Self {
        let opt = |v: &Option<rosetta_domain::Text>| {
            v.as_ref().map_or(String::new(), |t| t.as_str().to_owned())
        };
        let (fields, secret_stored) = match &destination.config {
            DestinationConfig::Postgres(c) => (
                vec![
                    ("config.host", c.host.as_str().to_owned()),
                    ("config.port", c.port.get().to_string()),
                    ("config.database", c.database.as_str().to_owned()),
                    ("config.username", c.username.as_str().to_owned()),
                    ("config.schema", c.schema.as_str().to_owned()),
                ],
                c.password.is_some(),
            ),
            DestinationConfig::Snowflake(c) => (
                vec![
                    ("config.account", c.account.as_str().to_owned()),
                    ("config.user", c.user.as_str().to_owned()),
                    ("config.database", c.database.as_str().to_owned()),
                    ("config.schema", c.schema.as_str().to_owned()),
                    ("config.role", opt(&c.role)),
                    ("config.warehouse", opt(&c.warehouse)),
                    ("config.host", opt(&c.host)),
                    ("config.private_key_path", opt(&c.private_key_path)),
                    ("config.mode", c.mode.as_str().to_owned()),
                ],
                c.private_key_passphrase.is_some(),
            ),
        };
        let mut fields: Vec<(String, String)> =
            fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        fields.push(("name".to_owned(), destination.name.as_str().to_owned()));
        Self {
            kind: destination.config.destination_type(),
            fields,
            secret_stored,
        }
    }

    fn posted(kind: DestinationType, form: &Form, secret_stored: bool) -> Self {
        Self {
            kind,
            fields: fields_of(kind)
                .iter()
                .filter(|name| !SECRETS.contains(name))
                .map(|name| {
                    (
                        (*name).to_owned(),
                        form.get(name).unwrap_or_default().to_owned(),
                    )
                })
                .collect(),
            secret_stored,
        }
    }

    fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(field, _)| field == name)
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
    let v = |name| values.get(name);
    html! {
        form.stacked method="post" action=(action) novalidate {
            (csrf_field(&viewer.csrf))
            input type="hidden" name="type" value=(values.kind.as_str());
            (general_errors(errors, &LABELS))
            (text_input("name", "Name", v("name"), true, "1–255 letters, digits, - or _; stored in lower case.", errors))
            @match values.kind {
                DestinationType::Postgres => fieldset {
                    legend { "PostgreSQL server" }
                    (text_input("config.host", "Host", v("config.host"), true, "Host name or address.", errors))
                    (Input { name: "config.port", label: "Port", value: v("config.port"), kind: "number", required: true, hint: "1–65535.", }.render(errors))
                    (text_input("config.database", "Database", v("config.database"), true, "", errors))
                    (text_input("config.username", "Role", v("config.username"), true, "A role that can create tables in the schema.", errors))
                    (secret_input("config.password", "Password", errors, values.secret_stored, "Write-only: never shown again."))
                    (text_input("config.schema", "Schema", v("config.schema"), false, "Where the tables are written (default public).", errors))
                },
                DestinationType::Snowflake => fieldset {
                    legend { "Snowflake" }
                    (text_input("config.account", "Account", v("config.account"), true, "The account identifier, e.g. myorg-account1.", errors))
                    (text_input("config.user", "User", v("config.user"), true, "The user whose public key is registered in Snowflake.", errors))
                    (text_input("config.database", "Database", v("config.database"), true, "", errors))
                    (text_input("config.schema", "Schema", v("config.schema"), true, "", errors))
                    (text_input("config.role", "Role", v("config.role"), false, "Empty: the user's default role.", errors))
                    (text_input("config.warehouse", "Warehouse", v("config.warehouse"), false, "Empty: the user's default warehouse.", errors))
                    (text_input("config.host", "Host", v("config.host"), false, "Empty: <account>.snowflakecomputing.com.", errors))
                    (text_input("config.private_key_path", "Private key file", v("config.private_key_path"), false, "Path, on the server running Rosetta, of the PEM private key (PKCS#8) for key-pair sign-in.", errors))
                    (secret_input("config.private_key_passphrase", "Key passphrase", errors, values.secret_stored, "Write-only: never shown again."))
                    (select_input("config.mode", "Mode", &[
                        ("mirror".to_owned(), "mirror: each table kept as the source has it".to_owned()),
                        ("changelog".to_owned(), "changelog: every change appended to LANDING_ tables".to_owned()),
                    ], v("config.mode"), "", errors))
                },
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
        p.muted { a href="/destinations" { "Destinations" } " / " }
        h1 { (title) }
        (content)
    };
    layout::page_with_status(viewer, Section::Destinations, title, body, status)
}

/// Errors of the API's kind: validation and duplicates on the form, the rest the page's.
fn refusal(error: ApiError, errors: &mut FormErrors) -> Result<(), PageError> {
    match error {
        ApiError::Validation(fields) => {
            *errors = FormErrors::from_api(fields);
            Ok(())
        }
        ApiError::Duplicate { field, value, .. } => {
            errors.add(
                field,
                format!("A destination named '{value}' already exists: choose another name."),
            );
            Ok(())
        }
        ApiError::NotFound { entity, id } => Err(PageError::NotFound { entity, id }),
        ApiError::DatabaseUnavailable => Err(PageError::Unavailable),
        _ => Err(PageError::Internal),
    }
}

#[derive(Deserialize)]
pub(super) struct TypeQuery {
    #[serde(rename = "type")]
    kind: Option<String>,
}

fn kind_of(asked: Option<&str>) -> Option<DestinationType> {
    asked.and_then(|kind| kind.parse::<DestinationType>().ok())
}

fn title_of(kind: DestinationType) -> &'static str {
    match kind {
        DestinationType::Postgres => "Add a PostgreSQL destination",
        DestinationType::Snowflake => "Add a Snowflake destination",
    }
}

pub(super) async fn new(viewer: Viewer, query: web::Query<TypeQuery>) -> PageResult {
    let Some(kind) = kind_of(query.kind.as_deref()) else {
        let body = html! {
            p.muted { a href="/destinations" { "Destinations" } " / " }
            h1 { "Add a destination" }
            p { "Which kind of destination?" }
            div.actions {
                a.button href="/destinations/new?type=postgres" { "PostgreSQL" }
                a.button href="/destinations/new?type=snowflake" { "Snowflake" }
            }
        };
        return Ok(layout::page(
            &viewer,
            Section::Destinations,
            "Add a destination",
            body,
        ));
    };
    let content = form(
        &viewer,
        "/destinations",
        &Values::blank(kind),
        &FormErrors::default(),
        "Create the destination",
    );
    Ok(form_page(&viewer, title_of(kind), content, StatusCode::OK))
}

pub(super) async fn create(
    req: HttpRequest,
    viewer: Viewer,
    rosetta: Data<Rosetta>,
    posted: web::Form<Form>,
) -> PageResult {
    viewer.check(&req, &posted)?;
    let kind = kind_of(posted.get("type")).unwrap_or(DestinationType::Postgres);
    let body = posted.body(&BodySpec {
        numbers: &NUMBERS,
        secrets: &SECRETS,
        ..BodySpec::default()
    });
    let mut errors = FormErrors::default();
    match CreateDestinationBody::from_body(&body) {
        Ok(destination) => match rosetta.create_destination(destination).await {
            Ok(created) => return Ok(layout::redirect(&format!("/destinations/{}", created.id))),
            Err(error) => refusal(ApiError::from(error), &mut errors)?,
        },
        Err(fields) => errors = FormErrors::from_api(fields),
    }
    errors.keep_only(fields_of(kind));
    let content = form(
        &viewer,
        "/destinations",
        &Values::posted(kind, &posted, false),
        &errors,
        "Create the destination",
    );
    Ok(form_page(
        &viewer,
        title_of(kind),
        content,
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}

pub(super) async fn edit(
    viewer: Viewer,
    rosetta: Data<Rosetta>,
    path: web::Path<String>,
) -> PageResult {
    let id = destination_id(&path)?;
    let destination = rosetta.get_destination(id).await?;
    let content = form(
        &viewer,
        &format!("/destinations/{id}"),
        &Values::of(&destination),
        &FormErrors::default(),
        "Save",
    );
    Ok(form_page(
        &viewer,
        &format!("Edit destination {}", destination.name.as_str()),
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
    let id = destination_id(&path)?;
    let destination = rosetta.get_destination(id).await?;
    // The type is the stored one: changing it means a new destination.
    let kind = destination.config.destination_type();
    let mut body = posted.body(&BodySpec {
        numbers: &NUMBERS,
        secrets: &SECRETS,
        send_empty: required_of(kind),
        skip: &["type"],
    });
    body.insert("type".to_owned(), kind.as_str().into());
    body.entry("config")
        .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    let mut errors = FormErrors::default();
    match UpdateDestinationBody::from_body(&body) {
        Ok(patch) => match rosetta.update_destination::<ApiError>(id, patch).await {
            Ok(_) => return Ok(layout::redirect(&format!("/destinations/{id}"))),
            Err(error) => refusal(error, &mut errors)?,
        },
        Err(fields) => errors = FormErrors::from_api(fields),
    }
    errors.keep_only(fields_of(kind));
    let secret_stored = Values::of(&destination).secret_stored;
    let content = form(
        &viewer,
        &format!("/destinations/{id}"),
        &Values::posted(kind, &posted, secret_stored),
        &errors,
        "Save",
    );
    Ok(form_page(
        &viewer,
        &format!("Edit destination {}", destination.name.as_str()),
        content,
        StatusCode::UNPROCESSABLE_ENTITY,
    ))
}
