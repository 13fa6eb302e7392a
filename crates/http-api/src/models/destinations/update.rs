//! The update body: a new name, and a replacement configuration that is read against the
//! given `type`, or the stored one when no `type` is given.

use apistos::schemars::JsonSchema;
use rosetta_domain::{DestinationType, DestinationUpdate, Name};
use serde_json::{json, Map, Value};

use super::config::{config_object, read_config, DestinationConfigBody};
use super::DestinationTypeName;
use crate::error::FieldError;
use crate::extract::FromBody;
use crate::fields::Fields;
use crate::models::NAME_PATTERN;

/// A partial update of a destination. `config` replaces the whole configuration and is read
/// against `type` when given, else against the stored type; a configuration of the same type
/// that leaves its secret out keeps the stored secret. `type` needs a `config` unless it is the
/// stored type.
#[derive(JsonSchema)]
#[schemars(crate = "apistos")]
#[schemars(example = update_example())]
pub struct UpdateDestinationBody {
    /// New unique name.
    #[schemars(length(min = 1, max = 255), pattern(NAME_PATTERN), example = &"warehouse")]
    pub name: Option<String>,
    /// New kind of destination, accepted in any case; requires `config` when it changes.
    #[schemars(rename = "type")]
    pub destination_type: Option<DestinationTypeName>,
    /// Replacement configuration of the (new or stored) type. Unknown fields are refused.
    pub config: Option<DestinationConfigBody>,
}

nesting_component!(UpdateDestinationBody);

fn update_example() -> Value {
    json!({
        "name": "warehouse",
        "config": {
            "host": "replica.example.com",
            "database": "dw",
            "username": "loader"
        }
    })
}

/// An update body whose values are checked, except a `config` that can only be read once the
/// stored destination's type is known. Finish it with [`DestinationPatch::into_update`].
#[derive(Debug)]
pub struct DestinationPatch {
    name: Option<Name>,
    destination_type: Option<DestinationType>,
    config: Option<Map<String, Value>>,
    /// Failing values already found, reported together with those of the `config`.
    pending: Vec<FieldError>,
}

impl DestinationPatch {
    /// Whether [`DestinationPatch::into_update`] needs the stored destination's type: to read a
    /// `config` sent without `type`, or to tell whether a `type` sent alone changes anything.
    pub fn needs_stored_type(&self) -> bool {
        matches!(
            (self.destination_type, &self.config),
            (Some(_), None) | (None, Some(_))
        )
    }

    /// The update, given the stored type when [`DestinationPatch::needs_stored_type`] says so.
    ///
    /// # Errors
    ///
    /// Every failing value of the body, those of the `config` included.
    pub fn into_update(
        self,
        stored: Option<DestinationType>,
    ) -> Result<DestinationUpdate, Vec<FieldError>> {
        let mut errors = self.pending;
        let config = match (self.destination_type, self.config) {
            (given, Some(object)) => match given.or(stored) {
                Some(kind) => read_config(kind, &object)
                    .map_err(|e| errors.extend(e))
                    .ok(),
                // Only when the caller left out the stored type it was asked for.
                None => {
                    errors.push(FieldError::new(
                        &["body", "type"],
                        "missing",
                        "Field required",
                    ));
                    None
                }
            },
            (Some(kind), None) if Some(kind) != stored => {
                errors.push(FieldError::new(
                    &["body", "config"],
                    "missing",
                    "config is required when type is given",
                ));
                None
            }
            // No config, or the stored type repeated: the configuration stays as it is.
            (_, None) => None,
        };
        if errors.is_empty() {
            Ok(DestinationUpdate {
                name: self.name,
                config,
            })
        } else {
            Err(errors)
        }
    }
}

impl FromBody for UpdateDestinationBody {
    type Output = DestinationPatch;

    fn from_body(object: &Map<String, Value>) -> Result<DestinationPatch, Vec<FieldError>> {
        let mut f = Fields::json(object);
        let name = f.parse_str("name", Name::parse);
        let type_given = f.has("type");
        let destination_type = f.parse_enum::<DestinationType>("type");
        let config_given = f.has("config");
        let config = config_object(&mut f).cloned();
        let needs_stored_type = match (destination_type, &config) {
            (Some(_), None) => !config_given,
            (None, Some(_)) => !type_given,
            _ => false,
        };
        let mut errors = f.into_errors();
        if !needs_stored_type {
            // Everything can be checked now, the config against the `type` sent with it.
            if let (Some(kind), Some(object)) = (destination_type, &config) {
                if let Err(config_errors) = read_config(kind, object) {
                    errors.extend(config_errors);
                }
            }
            if !errors.is_empty() {
                return Err(errors);
            }
        }
        Ok(DestinationPatch {
            name,
            destination_type,
            config,
            pending: errors,
        })
    }
}
