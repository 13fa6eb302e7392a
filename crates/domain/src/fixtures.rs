//! Readings as a healthy source answers them, for the tests of the domain and of the crates built
//! on it (with the `mocks` feature): one declaration of a valid reading, which a test changes
//! where its case differs.

use chrono::{DateTime, Utc};

use crate::{RolePrivileges, SlotReading, SlotType, WalDirectory, WalReading};

/// An active logical slot `name` of `pgoutput` on database `shop`, `reserved`, holding back
/// `retained` bytes, all of them confirmed; its safe WAL size is unknown.
pub fn logical_slot(name: &str, retained: i64) -> SlotReading {
    SlotReading {
        name: name.to_owned(),
        slot_type: SlotType::Logical,
        plugin: Some("pgoutput".to_owned()),
        database: Some("shop".to_owned()),
        active: true,
        retained_bytes: Some(retained),
        unconfirmed_bytes: Some(0),
        wal_status: Some("reserved".to_owned()),
        safe_wal_size_bytes: None,
    }
}

/// What probing a primary set up for logical replication reads at `read_at`: PostgreSQL 16.2 at
/// WAL position `position_bytes`, `wal_level = logical`, 10 slots allowed and no
/// `max_slot_wal_keep_size`, three 16 MiB segments in `pg_wal`, `slots`, the source's
/// publication and slot present, and a role that may replicate and read server statistics.
pub fn logical_reading(
    read_at: DateTime<Utc>,
    position_bytes: i64,
    slots: Vec<SlotReading>,
) -> WalReading {
    WalReading {
        position_bytes,
        in_recovery: false,
        server_version_num: 160_002,
        read_at,
        wal_level: "logical".to_owned(),
        max_replication_slots: 10,
        max_slot_wal_keep_size_bytes: None,
        wal_directory: Some(WalDirectory {
            size_bytes: 3 << 24,
            segments: 3,
        }),
        slots,
        publication_exists: true,
        slot_exists: true,
        privileges: RolePrivileges {
            superuser: false,
            replication: true,
            monitor: true,
        },
    }
}
