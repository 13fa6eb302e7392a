//! How a probe's reading is kept in `source_probe_status.last_reading` (JSONB).
//!
//! The stored shape is private to the store so that the domain stays free of serialization
//! concerns. Its slot objects double as the input of `wal_slot_samples`: `record_success` expands
//! `reading -> 'slots'` with `jsonb_to_recordset`, so the slot keys below are also column names
//! there. Unknown keys are ignored on reading, so that an instance still running the previous
//! version can read what a newer one wrote during a rolling deployment.

use anyhow::Context as _;
use chrono::{DateTime, SecondsFormat, Utc};
use rosetta_domain::{RolePrivileges, SlotReading, WalDirectory, WalReading};
use serde::{Deserialize, Serialize};

use crate::stored::stored;

#[derive(Serialize, Deserialize)]
struct StoredReading {
    position_bytes: i64,
    in_recovery: bool,
    server_version_num: i32,
    /// RFC 3339 with every fractional digit: chrono's serde support is not enabled in the
    /// workspace, and a string keeps the JSON readable by whoever queries the table.
    read_at: String,
    wal_level: String,
    max_replication_slots: i32,
    max_slot_wal_keep_size_bytes: Option<i64>,
    wal_directory: Option<StoredWalDirectory>,
    slots: Vec<StoredSlot>,
    publication_exists: bool,
    slot_exists: bool,
    privileges: StoredPrivileges,
}

#[derive(Serialize, Deserialize)]
struct StoredWalDirectory {
    size_bytes: i64,
    segments: i64,
}

/// Keys and JSON types must stay in step with the `jsonb_to_recordset` column list in
/// `probe_statements.rs`.
#[derive(Serialize, Deserialize)]
struct StoredSlot {
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

#[derive(Serialize, Deserialize)]
struct StoredPrivileges {
    superuser: bool,
    replication: bool,
    monitor: bool,
}

/// The JSON stored for a reading.
pub(crate) fn to_json(reading: &WalReading) -> anyhow::Result<serde_json::Value> {
    let stored = StoredReading {
        position_bytes: reading.position_bytes,
        in_recovery: reading.in_recovery,
        server_version_num: reading.server_version_num,
        read_at: reading.read_at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        wal_level: reading.wal_level.clone(),
        max_replication_slots: reading.max_replication_slots,
        max_slot_wal_keep_size_bytes: reading.max_slot_wal_keep_size_bytes,
        wal_directory: reading.wal_directory.map(|d| StoredWalDirectory {
            size_bytes: d.size_bytes,
            segments: d.segments,
        }),
        slots: reading
            .slots
            .iter()
            .map(|s| StoredSlot {
                name: s.name.clone(),
                slot_type: s.slot_type.as_str().to_owned(),
                plugin: s.plugin.clone(),
                database: s.database.clone(),
                active: s.active,
                retained_bytes: s.retained_bytes,
                unconfirmed_bytes: s.unconfirmed_bytes,
                wal_status: s.wal_status.clone(),
                safe_wal_size_bytes: s.safe_wal_size_bytes,
            })
            .collect(),
        publication_exists: reading.publication_exists,
        slot_exists: reading.slot_exists,
        privileges: StoredPrivileges {
            superuser: reading.privileges.superuser,
            replication: reading.privileges.replication,
            monitor: reading.privileges.monitor,
        },
    };
    serde_json::to_value(stored).context("serializing a WAL reading")
}

/// The reading a stored JSON stands for.
pub(crate) fn from_json(json: serde_json::Value) -> anyhow::Result<WalReading> {
    let r: StoredReading = serde_json::from_value(json)
        .context("stored source_probe_status.last_reading is malformed")?;
    let read_at = DateTime::parse_from_rfc3339(&r.read_at)
        .context("stored last_reading.read_at is not an RFC 3339 time")?
        .with_timezone(&Utc);
    let slots = r
        .slots
        .into_iter()
        .map(|s| {
            Ok(SlotReading {
                slot_type: stored(s.slot_type.parse(), "last_reading.slots.slot_type")?,
                name: s.name,
                plugin: s.plugin,
                database: s.database,
                active: s.active,
                retained_bytes: s.retained_bytes,
                unconfirmed_bytes: s.unconfirmed_bytes,
                wal_status: s.wal_status,
                safe_wal_size_bytes: s.safe_wal_size_bytes,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(WalReading {
        position_bytes: r.position_bytes,
        in_recovery: r.in_recovery,
        server_version_num: r.server_version_num,
        read_at,
        wal_level: r.wal_level,
        max_replication_slots: r.max_replication_slots,
        max_slot_wal_keep_size_bytes: r.max_slot_wal_keep_size_bytes,
        wal_directory: r.wal_directory.map(|d| WalDirectory {
            size_bytes: d.size_bytes,
            segments: d.segments,
        }),
        slots,
        publication_exists: r.publication_exists,
        slot_exists: r.slot_exists,
        privileges: RolePrivileges {
            superuser: r.privileges.superuser,
            replication: r.privileges.replication,
            monitor: r.privileges.monitor,
        },
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::TimeZone;
    use rosetta_domain::fixtures::{logical_reading, logical_slot};

    use super::*;

    /// A reading with a timestamp to the nanosecond, a WAL directory and a slot whose
    /// unconfirmed bytes are unknown.
    fn reading() -> WalReading {
        let slot = SlotReading {
            unconfirmed_bytes: None,
            ..logical_slot("rosetta_7", 4096)
        };
        WalReading {
            wal_directory: Some(WalDirectory {
                size_bytes: 1 << 30,
                segments: 64,
            }),
            ..logical_reading(
                Utc.timestamp_nanos(1_780_000_000_123_456_789),
                123_456_789,
                vec![slot],
            )
        }
    }

    #[test]
    fn a_reading_survives_its_json_to_the_nanosecond() {
        let reading = reading();
        assert_eq!(from_json(to_json(&reading).unwrap()).unwrap(), reading);
    }

    #[test]
    fn slot_keys_are_the_ones_the_recordset_expansion_names() {
        let json = to_json(&reading()).unwrap();
        let slot = json["slots"][0].as_object().unwrap();
        let mut keys: Vec<_> = slot.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "active",
                "database",
                "name",
                "plugin",
                "retained_bytes",
                "safe_wal_size_bytes",
                "slot_type",
                "unconfirmed_bytes",
                "wal_status",
            ]
        );
    }

    #[test]
    fn malformed_json_is_an_error_not_a_panic() {
        assert!(from_json(serde_json::json!({"position_bytes": "x"})).is_err());
        let mut json = to_json(&reading()).unwrap();
        json["slots"][0]["slot_type"] = "temporary".into();
        assert!(from_json(json).is_err());
        let mut json = to_json(&reading()).unwrap();
        json["read_at"] = "yesterday".into();
        assert!(from_json(json).is_err());
    }
}
