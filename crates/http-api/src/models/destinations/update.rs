//! The update body: a new name, and a replacement configuration that is read against the
//! given `type`, or the stored one when no `type` is given.

use rosetta_app::{ConfigPatch, DestinationPatch};
use rosetta_domain::{DestinationConfig, DestinationType, Name};
use serde_json::{json, Value};

use super::config::UncheckedConfig;
use crate::error::{ApiError, FieldError};
use crate::fields::Fields;
use crate::request::request_part;

request_part! {
    /// A partial update of a destination. `config` replaces the whole configuration and is read
    /// against `type` when given, else against the stored type; a configuration of the same type
    /// that leaves its secret out keeps the stored secret. `type` needs a `config` unless it is the
    /// stored type.
    #[schemars(example = update_example())]
    body struct UpdateDestinationBody => DestinationPatch<ApiError> {
        /// New unique name.
        #[schemars(example = &"warehouse")]
        optional name: Name,
        /// New kind of destination, accepted in any case; requires `config` when it changes.
        optional destination_type as "type": DestinationType,
        /// Replacement configuration of the (new or stored) type. Unknown fields are refused.
        optional config: UncheckedConfig,
    } with |f| Some(DestinationPatch {
        name,
        config: config_patch(f, destination_type, config),
    })
}

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

/// What the body does to the configuration. Everything is checked now, except a `config` sent
/// without `type` and a `type` sent alone: those need the stored type, which the use case
/// passes to the reader returned; the failing values found now are reported with the reader's.
fn config_patch(
    f: &mut Fields<'_>,
    given: Option<DestinationType>,
    config: Option<UncheckedConfig>,
) -> ConfigPatch<ApiError> {
    let needs_stored_type = match (given, &config) {
        (Some(_), None) => !f.has("config"),
        (None, Some(_)) => !f.has("type"),
        _ => false,
    };
    if needs_stored_type {
        let pending = f.take_errors();
        return ConfigPatch::AgainstStoredType(Box::new(move |stored| {
            against_stored_type(given, config, stored, pending).map_err(ApiError::Validation)
        }));
    }
    // The config against the `type` sent with it; any other failing value is already recorded.
    match (given, config) {
        (Some(kind), Some(config)) => match config.read_as(kind) {
            Ok(config) => ConfigPatch::Replace(config),
            Err(errors) => {
                f.absorb(errors);
                ConfigPatch::Keep
            }
        },
        _ => ConfigPatch::Keep,
    }
}

/// The replacement configuration once the stored type is known (`None` keeps the stored
/// configuration), or every failing value, `pending` first.
fn against_stored_type(
    given: Option<DestinationType>,
    config: Option<UncheckedConfig>,
    stored: DestinationType,
    pending: Vec<FieldError>,
) -> Result<Option<DestinationConfig>, Vec<FieldError>> {
    let mut errors = pending;
    let config = match (given, config) {
        (given, Some(config)) => config
            .read_as(given.unwrap_or(stored))
            .map_err(|e| errors.extend(e))
            .ok(),
        (Some(kind), None) if kind != stored => {
            errors.push(FieldError::new(
                &["body", "config"],
                "missing",
                "config is required when type is given",
            ));
            None
        }
        // The stored type repeated: the configuration stays as it is.
        (_, None) => None,
    };
    if errors.is_empty() {
        Ok(config)
    } else {
        Err(errors)
    }
}
