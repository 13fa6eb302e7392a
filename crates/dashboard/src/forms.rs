//! Forms: what a browser posts, turned into the JSON body the API would take, so that the
//! API's own validation judges it and its messages are shown next to their fields.

use std::collections::BTreeMap;

use maud::{html, Markup};
use rosetta_http_api::error::FieldError;
use serde::Deserialize;
use serde_json::{Map, Value};

/// The fields of a posted form, in order.
#[derive(Debug, Default, Deserialize)]
#[serde(transparent)]
pub(crate) struct Form(Vec<(String, String)>);

/// Fields of the page's own, never part of a body.
const CONTROL_FIELDS: [&str; 3] = [crate::csrf::CSRF_FIELD, "next", "back"];

impl Form {
    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }

    /// The body the API would receive: each field at its dotted path (`config.host` inside
    /// `config`), values trimmed (secrets as typed), empty fields left out (so the API's
    /// defaults apply and a required field is reported missing), the fields in `numbers` as
    /// numbers when they read as one (else as typed, for the API to refuse), and the fields
    /// in `spec.skip` left out.
    pub(crate) fn body(&self, spec: &BodySpec<'_>) -> Map<String, Value> {
        let mut body = Map::new();
        for (name, raw) in &self.0 {
            let name = name.as_str();
            if CONTROL_FIELDS.contains(&name) || spec.skip.contains(&name) {
                continue;
            }
            let value = if spec.secrets.contains(&name) {
                raw.as_str()
            } else {
                raw.trim()
            };
            if value.is_empty() && !spec.send_empty.contains(&name) {
                continue;
            }
            let json = match value.parse::<i64>() {
                Ok(number) if spec.numbers.contains(&name) => Value::from(number),
                _ => Value::from(value),
            };
            insert(&mut body, name, json);
        }
        body
    }
}

fn insert(body: &mut Map<String, Value>, path: &str, value: Value) {
    match path.split_once('.') {
        None => {
            body.insert(path.to_owned(), value);
        }
        Some((head, rest)) => {
            let inner = body
                .entry(head.to_owned())
                .or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = inner {
                insert(inner, rest, value);
            }
        }
    }
}

/// How a form's fields become a body.
#[derive(Debug, Default)]
pub(crate) struct BodySpec<'a> {
    /// Fields sent as numbers when they read as one.
    pub(crate) numbers: &'a [&'a str],
    /// Fields sent as typed, spaces and all.
    pub(crate) secrets: &'a [&'a str],
    /// Fields sent even when empty (an edit form's required fields: emptied is an error, not
    /// "keep the stored value").
    pub(crate) send_empty: &'a [&'a str],
    /// Fields of the page's own.
    pub(crate) skip: &'a [&'a str],
}

/// The messages of a refused form, by field (dotted path), and those of no one field.
#[derive(Debug, Default)]
pub(crate) struct FormErrors {
    fields: BTreeMap<String, Vec<String>>,
    general: Vec<String>,
}

impl FormErrors {
    /// The API's validation errors, each at the field of its `loc` (after `body`).
    pub(crate) fn from_api(errors: Vec<FieldError>) -> Self {
        let mut out = Self::default();
        for error in errors {
            let path: Vec<&str> = error
                .loc
                .iter()
                .map(String::as_str)
                .skip_while(|part| *part == "body")
                .collect();
            if path.is_empty() {
                out.general.push(error.msg);
            } else {
                out.add(&path.join("."), error.msg);
            }
        }
        out
    }

    /// A message for `field`.
    pub(crate) fn add(&mut self, field: &str, message: impl Into<String>) {
        self.fields
            .entry(field.to_owned())
            .or_default()
            .push(message.into());
    }

    /// Whether nothing is wrong.
    pub(crate) fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.general.is_empty()
    }

    fn of(&self, field: &str) -> &[String] {
        self.fields.get(field).map_or(&[], Vec::as_slice)
    }

    /// Messages for fields the form does not show (moved to the general list when rendering).
    pub(crate) fn keep_only(&mut self, shown: &[&str]) {
        let hidden: Vec<String> = self
            .fields
            .keys()
            .filter(|field| !shown.contains(&field.as_str()))
            .cloned()
            .collect();
        for field in hidden {
            if let Some(messages) = self.fields.remove(&field) {
                for message in messages {
                    self.general.push(format!("{field}: {message}"));
                }
            }
        }
    }
}

fn id_of(name: &str) -> String {
    format!("f-{}", name.replace('.', "-"))
}

/// The summary at the top of a refused form: each problem, linking to its field, named by its
/// label in `labels` (field, label).
pub(crate) fn general_errors(errors: &FormErrors, labels: &[(&str, &str)]) -> Markup {
    let label = |field: &str| {
        labels
            .iter()
            .find(|(name, _)| *name == field)
            .map_or_else(|| field.to_owned(), |(_, label)| (*label).to_owned())
    };
    if errors.is_empty() {
        return html! {};
    }
    let count = errors.fields.values().map(Vec::len).sum::<usize>() + errors.general.len();
    html! {
        div.notice.error role="alert" {
            p { strong { @if count == 1 { "The form has 1 problem." } @else { "The form has " (count) " problems." } } }
            ul {
                @for message in &errors.general { li { (message) } }
                @for (field, messages) in &errors.fields {
                    @for message in messages {
                        li { a href={ "#" (id_of(field)) } { (label(field)) } ": " (message) }
                    }
                }
            }
        }
    }
}

/// The parts every field shares: its label, its hint and its messages.
fn field(name: &str, label: &str, errors: &FormErrors, hint: &str, control: Markup) -> Markup {
    let messages = errors.of(name);
    html! {
        div class=(if messages.is_empty() { "field" } else { "field invalid" }) {
            label for=(id_of(name)) { (label) }
            (control)
            @if !hint.is_empty() { p.hint id={ (id_of(name)) "-hint" } { (hint) } }
            @for message in messages {
                p.field-error id={ (id_of(name)) "-error" } { (message) }
            }
        }
    }
}

fn described_by(name: &str, errors: &FormErrors, hint: &str) -> String {
    let id = id_of(name);
    let mut ids = Vec::new();
    if !hint.is_empty() {
        ids.push(format!("{id}-hint"));
    }
    if !errors.of(name).is_empty() {
        ids.push(format!("{id}-error"));
    }
    ids.join(" ")
}

/// A text field (`kind` is the input type: `text`, `number`, …).
pub(crate) struct Input<'a> {
    pub(crate) name: &'a str,
    pub(crate) label: &'a str,
    pub(crate) value: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) required: bool,
    pub(crate) hint: &'a str,
}

impl Input<'_> {
    pub(crate) fn render(&self, errors: &FormErrors) -> Markup {
        let invalid = !errors.of(self.name).is_empty();
        field(
            self.name,
            self.label,
            errors,
            self.hint,
            html! {
                input id=(id_of(self.name)) name=(self.name) type=(self.kind) value=(self.value)
                    required[self.required] aria-invalid=[invalid.then_some("true")]
                    aria-describedby=(described_by(self.name, errors, self.hint))
                    autocomplete="off" spellcheck="false";
            },
        )
    }
}

/// A text field, filled with `value`.
pub(crate) fn text_input(
    name: &str,
    label: &str,
    value: &str,
    required: bool,
    hint: &str,
    errors: &FormErrors,
) -> Markup {
    Input {
        name,
        label,
        value,
        kind: "text",
        required,
        hint,
    }
    .render(errors)
}

/// A secret field: never filled. `stored` says a value is kept, which an empty field leaves
/// unchanged.
pub(crate) fn secret_input(
    name: &str,
    label: &str,
    errors: &FormErrors,
    stored: bool,
    hint: &str,
) -> Markup {
    let hint = if stored {
        format!("{hint} A value is stored: leave this empty to keep it.")
    } else {
        hint.to_owned()
    };
    let hint = hint.trim();
    let invalid = !errors.of(name).is_empty();
    field(
        name,
        label,
        errors,
        hint,
        html! {
            input id=(id_of(name)) name=(name) type="password" value=""
                aria-invalid=[invalid.then_some("true")]
                aria-describedby=(described_by(name, errors, hint))
                autocomplete="new-password";
        },
    )
}

/// A choice among `options` (value, label).
pub(crate) fn select_input(
    name: &str,
    label: &str,
    options: &[(String, String)],
    selected: &str,
    hint: &str,
    errors: &FormErrors,
) -> Markup {
    let invalid = !errors.of(name).is_empty();
    field(
        name,
        label,
        errors,
        hint,
        html! {
            select id=(id_of(name)) name=(name) aria-invalid=[invalid.then_some("true")]
                aria-describedby=(described_by(name, errors, hint)) {
                @for (value, text) in options {
                    option value=(value) selected[value == selected] { (text) }
                }
            }
        },
    )
}

/// The hidden anti-forgery field every form carries.
pub(crate) fn csrf_field(token: &str) -> Markup {
    html! { input type="hidden" name=(crate::csrf::CSRF_FIELD) value=(token); }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(fields: &[(&str, &str)]) -> Form {
        Form(
            fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn a_form_becomes_the_body_the_api_takes() {
        let posted = form(&[
            ("csrf", "t"),
            ("name", " orders "),
            ("type", "POSTGRES"),
            ("config.host", "db"),
            ("config.port", "5433"),
            ("config.password", " keep spaces "),
            ("config.schema", ""),
            ("pg_port", "not-a-number"),
        ]);
        let body = posted.body(&BodySpec {
            numbers: &["config.port", "pg_port"],
            secrets: &["config.password"],
            send_empty: &["type"],
            skip: &[],
        });
        assert_eq!(
            Value::Object(body),
            serde_json::json!({
                "name": "orders",
                "type": "POSTGRES",
                "config": {"host": "db", "port": 5433, "password": " keep spaces "},
                "pg_port": "not-a-number"
            })
        );
    }

    #[test]
    fn api_errors_land_on_their_fields() {
        let mut errors = FormErrors::from_api(vec![
            FieldError::new(&["body", "config", "host"], "missing", "Field required"),
            FieldError::new(&["body"], "bad", "Body must be an object"),
            FieldError::new(&["body", "secret_thing"], "extra", "Unknown field"),
        ]);
        errors.keep_only(&["config.host"]);
        assert_eq!(errors.of("config.host"), ["Field required"]);
        let shown = general_errors(&errors, &[("config.host", "Host")]).into_string();
        assert!(shown.contains("The form has 3 problems."), "{shown}");
        assert!(shown.contains("secret_thing: Unknown field"), "{shown}");
        assert!(
            shown.contains("href=\"#f-config-host\">Host</a>"),
            "{shown}"
        );
    }

    #[test]
    fn secret_fields_are_never_filled() {
        let shown =
            secret_input("pg_password", "Password", &FormErrors::default(), true, "").into_string();
        assert!(shown.contains("value=\"\""), "{shown}");
        assert!(shown.contains("leave this empty to keep it"), "{shown}");
    }
}
