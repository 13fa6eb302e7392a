//! Decoding the replication slots, which the reading statement returns as one JSON array.

use anyhow::Context as _;
use rosetta_domain::{SlotReading, SlotType};
use serde::Deserialize;

/// One element of the array, named as the statement's `json_build_object` names it.
#[derive(Debug, Deserialize)]
struct SlotRow {
    name: String,
    slot_type: String,
    plugin: Option<String>,
    database: Option<String>,
    active: bool,
    retained_bytes: Option<i64>,
    unconfirmed_bytes: Option<i64>,
    wal_status: Option<String>,
    safe_wal_size_bytes: Option<i64>,
}

/// The slots in `json`, in the order the server sent them (by name).
pub(crate) fn decode(json: &str) -> anyhow::Result<Vec<SlotReading>> {
    let rows: Vec<SlotRow> = serde_json::from_str(json).context("decoding slots")?;
    rows.into_iter()
        .map(|row| {
            let slot_type: SlotType = row
                .slot_type
                .parse()
                .with_context(|| format!("decoding the type of slot {}", row.name))?;
            Ok(SlotReading {
                name: row.name,
                slot_type,
                plugin: row.plugin,
                database: row.database,
                active: row.active,
                retained_bytes: row.retained_bytes,
                unconfirmed_bytes: row.unconfirmed_bytes,
                wal_status: row.wal_status,
                safe_wal_size_bytes: row.safe_wal_size_bytes,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_slots_is_an_empty_list() {
        assert_eq!(decode("[]").unwrap(), Vec::new());
    }

    #[test]
    fn physical_and_logical_slots_decode_with_their_nulls() {
        let json = r#"[
            {"name": "a_standby", "slot_type": "physical", "plugin": null, "database": null,
             "active": true, "retained_bytes": 4096, "unconfirmed_bytes": null,
             "wal_status": "reserved", "safe_wal_size_bytes": null},
            {"name": "rosetta_7", "slot_type": "logical", "plugin": "pgoutput",
             "database": "shop", "active": false, "retained_bytes": 9000000000,
             "unconfirmed_bytes": 12, "wal_status": null, "safe_wal_size_bytes": 1048576}
        ]"#;

        let slots = decode(json).unwrap();

        assert_eq!(
            slots,
            vec![
                SlotReading {
                    name: "a_standby".into(),
                    slot_type: SlotType::Physical,
                    plugin: None,
                    database: None,
                    active: true,
                    retained_bytes: Some(4096),
                    unconfirmed_bytes: None,
                    wal_status: Some("reserved".into()),
                    safe_wal_size_bytes: None,
                },
                SlotReading {
                    name: "rosetta_7".into(),
                    slot_type: SlotType::Logical,
                    plugin: Some("pgoutput".into()),
                    database: Some("shop".into()),
                    active: false,
                    retained_bytes: Some(9_000_000_000),
                    unconfirmed_bytes: Some(12),
                    wal_status: None,
                    safe_wal_size_bytes: Some(1_048_576),
                },
            ]
        );
    }

    #[test]
    fn an_unknown_slot_type_is_an_error_naming_the_slot() {
        let json = r#"[{"name": "odd", "slot_type": "quantum", "plugin": null,
            "database": null, "active": false, "retained_bytes": null,
            "unconfirmed_bytes": null, "wal_status": null, "safe_wal_size_bytes": null}]"#;

        let error = decode(json).unwrap_err();

        assert!(format!("{error:#}").contains("slot odd"), "{error:#}");
    }
}
