//! What a probe reads from a source server: its WAL position, its replication slots, the WAL
//! directory and the settings that decide how much WAL slots may hold back.

use chrono::{DateTime, Utc};

/// Everything one probe of a source read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalReading {
    /// WAL position in bytes: written on a primary, received (or replayed) on a standby.
    pub position_bytes: i64,
    /// Whether the server is a standby.
    pub in_recovery: bool,
    /// `server_version_num`, such as `150004`.
    pub server_version_num: i32,
    /// When it was read.
    pub read_at: DateTime<Utc>,
    /// The server's `wal_level` (`replica`, `logical`, …).
    pub wal_level: String,
    /// The server's `max_replication_slots`.
    pub max_replication_slots: i32,
    /// `max_slot_wal_keep_size` in bytes; `None` when unlimited (`-1`) or when the server
    /// predates the setting (PostgreSQL 12).
    pub max_slot_wal_keep_size_bytes: Option<i64>,
    /// Size and count of the segments in `pg_wal`; `None` when the role may not call
    /// `pg_ls_waldir()` (it needs `pg_monitor`), which leaves the rest of the reading intact.
    pub wal_directory: Option<WalDirectory>,
    /// Every replication slot of the cluster, ordered by name.
    pub slots: Vec<SlotReading>,
    /// Whether the source's publication exists in its database.
    pub publication_exists: bool,
    /// Whether a slot of one of the source's pipelines exists (a name
    /// `rosetta_<replication_id>_<pipeline id>`, see [`Source::owns_slot`](crate::Source::owns_slot)).
    pub slot_exists: bool,
    /// What the probing role may do.
    pub privileges: RolePrivileges,
}

impl WalReading {
    /// The server's major version (`15` for `150004`; `9` for 9.6's `90624`).
    pub fn major_version(&self) -> i32 {
        self.server_version_num / 10_000
    }
}

/// The segments in the server's `pg_wal` directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalDirectory {
    /// Their total size in bytes.
    pub size_bytes: i64,
    /// How many files there are.
    pub segments: i64,
}

/// The kind of a replication slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SlotType {
    /// Streams WAL to a standby (`physical`).
    Physical,
    /// Decodes changes for a subscriber such as a CDC pipeline (`logical`).
    Logical,
}

impl SlotType {
    /// `physical` or `logical`, as PostgreSQL spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Physical => "physical",
            Self::Logical => "logical",
        }
    }
}

impl std::str::FromStr for SlotType {
    type Err = crate::InvalidValue;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "physical" => Ok(Self::Physical),
            "logical" => Ok(Self::Logical),
            _ => Err(crate::InvalidValue::new(
                "unknown_variant",
                "must be physical or logical",
            )),
        }
    }
}

/// One replication slot as a probe saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotReading {
    /// Its name.
    pub name: String,
    /// Physical or logical.
    pub slot_type: SlotType,
    /// The output plugin of a logical slot (`pgoutput`, …).
    pub plugin: Option<String>,
    /// The database of a logical slot.
    pub database: Option<String>,
    /// Whether a client is streaming from it now.
    pub active: bool,
    /// WAL the slot holds back: current position − `restart_lsn` (`None` while the slot has
    /// reserved nothing).
    pub retained_bytes: Option<i64>,
    /// WAL a logical slot's consumer has not confirmed: current position −
    /// `confirmed_flush_lsn` (`None` for physical slots).
    pub unconfirmed_bytes: Option<i64>,
    /// `reserved`, `extended`, `unreserved` or `lost` (PostgreSQL 13 and later).
    pub wal_status: Option<String>,
    /// How many more bytes of WAL can be written before the slot risks being lost (PostgreSQL
    /// 13 and later, and only when `max_slot_wal_keep_size` is set).
    pub safe_wal_size_bytes: Option<i64>,
}

/// What the probing role may do on the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RolePrivileges {
    /// The role is a superuser.
    pub superuser: bool,
    /// The role has the `REPLICATION` attribute (needed to stream from a slot).
    pub replication: bool,
    /// The role is a member of `pg_monitor` (needed to list the WAL directory).
    pub monitor: bool,
}
