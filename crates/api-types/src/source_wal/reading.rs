//! What a probe read from a source: its WAL position, settings, WAL directory, the probing
//! role's privileges, and the replication slots.

use rosetta_domain::{RolePrivileges, SlotOwner, SlotReading, WalDirectory, WalReading};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::SlotTypeName;
use crate::timestamp::Timestamp;

/// The segments in the server's `pg_wal` directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
pub struct WalDirectoryResponse {
    /// Their total size in bytes.
    #[schemars(example = 1_073_741_824_i64)]
    pub size_bytes: i64,
    /// How many files there are.
    #[schemars(example = 64)]
    pub segments: i64,
}

impl From<WalDirectory> for WalDirectoryResponse {
    fn from(directory: WalDirectory) -> Self {
        Self {
            size_bytes: directory.size_bytes,
            segments: directory.segments,
        }
    }
}

/// What the probing role may do on the source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
pub struct RolePrivilegesResponse {
    /// The role is a superuser.
    #[schemars(example = false)]
    pub superuser: bool,
    /// The role has the `REPLICATION` attribute (needed to stream from a slot).
    #[schemars(example = true)]
    pub replication: bool,
    /// The role is a member of `pg_monitor` (needed to list the WAL directory).
    #[schemars(example = true)]
    pub monitor: bool,
}

impl From<RolePrivileges> for RolePrivilegesResponse {
    fn from(privileges: RolePrivileges) -> Self {
        Self {
            superuser: privileges.superuser,
            replication: privileges.replication,
            monitor: privileges.monitor,
        }
    }
}

/// What one probe of a source read (its replication slots are listed apart, as `slots`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct WalReadingResponse {
    /// When it was read (RFC 3339, UTC).
    pub read_at: Timestamp,
    /// WAL position in bytes: written on a primary, received (or replayed) on a standby.
    #[schemars(example = 3_221_225_472_i64)]
    pub position_bytes: i64,
    /// Whether the server is a standby.
    #[schemars(example = false)]
    pub in_recovery: bool,
    /// The server's `server_version_num`, such as `160004` for PostgreSQL 16.4.
    #[schemars(example = 160_004)]
    pub server_version_num: i32,
    /// The server's `wal_level` (`replica`, `logical`, …); logical replication needs
    /// `logical`.
    #[schemars(example = &"logical")]
    pub wal_level: String,
    /// The server's `max_replication_slots`.
    #[schemars(example = 10)]
    pub max_replication_slots: i32,
    /// `max_slot_wal_keep_size` in bytes; `null` when unlimited or when the server predates
    /// the setting (PostgreSQL 12).
    #[schemars(example = 10_737_418_240_i64)]
    pub max_slot_wal_keep_size_bytes: Option<i64>,
    /// The size of `pg_wal`; `null` when the role may not call `pg_ls_waldir()` (it needs
    /// `pg_monitor`).
    pub wal_directory: Option<WalDirectoryResponse>,
    /// Whether the source's publication exists in its database.
    #[schemars(example = true)]
    pub publication_exists: bool,
    /// Whether the source's replication slot (`rosetta_<replication_id>`) exists.
    #[schemars(example = true)]
    pub slot_exists: bool,
    /// What the probing role may do.
    pub privileges: RolePrivilegesResponse,
}

// The nested types are documented as their own schemas.
crate::nesting_component!(WalReadingResponse);

/// One replication slot as a probe saw it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(apistos::ApiComponent))]
pub struct SlotResponse {
    /// Its name.
    #[schemars(example = &"rosetta_1")]
    pub name: String,
    /// `physical` or `logical`.
    pub slot_type: SlotTypeName,
    /// The output plugin of a logical slot (`pgoutput`, …); `null` for a physical slot.
    #[schemars(example = &"pgoutput")]
    pub plugin: Option<String>,
    /// The database of a logical slot; `null` for a physical slot.
    #[schemars(example = &"shop")]
    pub database: Option<String>,
    /// Whether a client is streaming from it now.
    #[schemars(example = false)]
    pub active: bool,
    /// WAL the slot holds back, in bytes (current position − `restart_lsn`); `null` while it
    /// has reserved nothing.
    #[schemars(example = 2_147_483_648_i64)]
    pub retained_bytes: Option<i64>,
    /// WAL a logical slot's consumer has not confirmed, in bytes (current position −
    /// `confirmed_flush_lsn`); `null` for a physical slot.
    #[schemars(example = 2_147_483_648_i64)]
    pub unconfirmed_bytes: Option<i64>,
    /// `reserved`, `extended`, `unreserved` or `lost`; `null` before PostgreSQL 13.
    #[schemars(example = &"extended")]
    pub wal_status: Option<String>,
    /// How many more bytes of WAL can be written before the slot risks being lost; `null`
    /// before PostgreSQL 13 or when `max_slot_wal_keep_size` is unlimited.
    #[schemars(example = 8_589_934_592_i64)]
    pub safe_wal_size_bytes: Option<i64>,
    /// The pipeline of this source that owns the slot; `null` for a slot no pipeline of the
    /// source owns, such as one a deleted pipeline left on an unreachable source (*extension*;
    /// in `GET /sources/{id}/wal`, not in the check).
    #[schemars(example = 1)]
    pub pipeline_id: Option<i64>,
    /// That pipeline's name (*extension*).
    #[schemars(example = &"orders-to-dw")]
    pub pipeline_name: Option<String>,
}

impl SlotResponse {
    fn new(slot: SlotReading, owners: &[SlotOwner]) -> Self {
        let owner = owners.iter().find(|o| o.slot == slot.name);
        Self {
            pipeline_id: owner.map(|o| o.pipeline.id.get()),
            pipeline_name: owner.map(|o| o.pipeline.name.to_string()),
            name: slot.name,
            slot_type: slot.slot_type.into(),
            plugin: slot.plugin,
            database: slot.database,
            active: slot.active,
            retained_bytes: slot.retained_bytes,
            unconfirmed_bytes: slot.unconfirmed_bytes,
            wal_status: slot.wal_status,
            safe_wal_size_bytes: slot.safe_wal_size_bytes,
        }
    }
}

/// A reading split as responses show it: the reading without its slots, and the slots (none
/// without a reading), each with the pipeline among `owners` that owns it.
pub(super) fn reading_and_slots(
    reading: Option<WalReading>,
    owners: &[SlotOwner],
) -> (Option<WalReadingResponse>, Vec<SlotResponse>) {
    let Some(reading) = reading else {
        return (None, Vec::new());
    };
    let slots = reading
        .slots
        .into_iter()
        .map(|slot| SlotResponse::new(slot, owners))
        .collect();
    let response = WalReadingResponse {
        read_at: reading.read_at.into(),
        position_bytes: reading.position_bytes,
        in_recovery: reading.in_recovery,
        server_version_num: reading.server_version_num,
        wal_level: reading.wal_level,
        max_replication_slots: reading.max_replication_slots,
        max_slot_wal_keep_size_bytes: reading.max_slot_wal_keep_size_bytes,
        wal_directory: reading.wal_directory.map(WalDirectoryResponse::from),
        publication_exists: reading.publication_exists,
        slot_exists: reading.slot_exists,
        privileges: reading.privileges.into(),
    };
    (Some(response), slots)
}
