//! What a pipeline needs of its source before it starts, judged from facts the source adapter
//! reads in one visit.

use super::{Lsn, ReplicaIdentity, TableSchema};
use crate::OLDEST_SUPPORTED_MAJOR_VERSION;

/// Which row changes a publication publishes (`pg_publication.pubinsert`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PublishedActions {
    /// INSERT.
    pub insert: bool,
    /// UPDATE.
    pub update: bool,
    /// DELETE.
    pub delete: bool,
    /// TRUNCATE.
    pub truncate: bool,
}

/// A replication slot as the source shows it (`pg_replication_slots`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotState {
    /// Its name.
    pub name: String,
    /// Its output plugin; `None` for a physical slot.
    pub plugin: Option<String>,
    /// The database it decodes; `None` for a physical slot.
    pub database: Option<String>,
    /// The process streaming from it, when one does.
    pub active_pid: Option<i32>,
    /// Up to where its consumer confirmed.
    pub confirmed_flush: Option<Lsn>,
    /// `reserved`, `extended`, `unreserved` or `lost` (PostgreSQL 13 and later).
    pub wal_status: Option<String>,
}

impl SlotState {
    /// Whether the server invalidated it (`wal_status = lost`): it can only be dropped and made
    /// again, with a new copy.
    pub fn is_lost(&self) -> bool {
        self.wal_status.as_deref() == Some("lost")
    }
}

/// What the source adapter reads about a source for one pipeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFacts {
    /// `server_version_num` (`150004`).
    pub server_version_num: i32,
    /// `wal_level`.
    pub wal_level: String,
    /// Whether the role may open replication connections (superuser or `REPLICATION`).
    pub can_replicate: bool,
    /// `max_replication_slots`.
    pub max_replication_slots: i32,
    /// Slots that exist on the server.
    pub used_replication_slots: i32,
    /// Whether the publication exists.
    pub publication_exists: bool,
    /// What it publishes.
    pub publishes: PublishedActions,
    /// Its tables, with their columns and keys.
    pub tables: Vec<TableSchema>,
    /// The pipeline's slot, when it exists.
    pub slot: Option<SlotState>,
}

impl SourceFacts {
    /// Every requirement the source misses for a pipeline whose slot is `slot`, replicating
    /// database `database`, each as a sentence saying what to fix. Empty when the pipeline can
    /// start.
    pub fn problems(&self, publication: &str, slot: &str, database: &str) -> Vec<String> {
        let mut problems = Vec::new();
        let major = self.server_version_num / 10_000;
        if major < OLDEST_SUPPORTED_MAJOR_VERSION {
            problems.push(format!(
                "the source runs PostgreSQL {major}; Rosetta needs {OLDEST_SUPPORTED_MAJOR_VERSION} or later"
            ));
        }
        if self.wal_level != "logical" {
            problems.push(format!(
                "wal_level is '{}': set wal_level = logical in postgresql.conf and restart the source",
                self.wal_level
            ));
        }
        if !self.can_replicate {
            problems.push(
                "the role may not replicate: ALTER ROLE … REPLICATION (or use a superuser)"
                    .to_owned(),
            );
        }
        match &self.slot {
            Some(existing) if existing.plugin.as_deref() != Some("pgoutput") => {
                problems.push(format!(
                    "a replication slot named {slot} exists but is not a pgoutput logical slot: drop it (SELECT pg_drop_replication_slot('{slot}'))"
                ));
            }
            Some(existing) if existing.database.as_deref() != Some(database) => {
                problems.push(format!(
                    "the replication slot {slot} belongs to database {}, not {database}: another source of this server (perhaps of another Rosetta) has the same replication_id; give this source one of its own",
                    existing.database.as_deref().unwrap_or("(none)")
                ));
            }
            Some(_) => {}
            None if self.used_replication_slots >= self.max_replication_slots => {
                problems.push(format!(
                    "no free replication slot: all {} of max_replication_slots are used; raise it (and restart) or drop an unused slot",
                    self.max_replication_slots
                ));
            }
            None => {}
        }
        if !self.publication_exists {
            problems.push(format!(
                "the publication {publication} does not exist: CREATE PUBLICATION {publication} FOR TABLE …"
            ));
            return problems;
        }
        if self.tables.is_empty() {
            problems.push(format!(
                "the publication {publication} has no tables: ALTER PUBLICATION {publication} ADD TABLE …"
            ));
        }
        if self.publishes.update || self.publishes.delete {
            for table in &self.tables {
                let identified = match table.replica_identity {
                    ReplicaIdentity::Full => true,
                    ReplicaIdentity::Nothing => false,
                    ReplicaIdentity::Default | ReplicaIdentity::Index => table.has_key(),
                };
                if !identified {
                    problems.push(format!(
                        "table {} has no primary key and no usable replica identity, and {publication} publishes updates or deletes: add a primary key, or ALTER TABLE {} REPLICA IDENTITY FULL (or USING INDEX …)",
                        table.name, table.name
                    ));
                }
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replication::{Column, RelationId, TableName};

    fn table(name: &str, identity: ReplicaIdentity, keyed: bool) -> TableSchema {
        TableSchema {
            id: RelationId::new(16_400),
            name: TableName::new("public", name),
            replica_identity: identity,
            columns: vec![Column {
                name: "id".to_owned(),
                type_oid: 20,
                type_modifier: -1,
                type_name: "bigint".to_owned(),
                nullable: !keyed,
                key: keyed,
            }],
        }
    }

    fn ready() -> SourceFacts {
        SourceFacts {
            server_version_num: 150_004,
            wal_level: "logical".to_owned(),
            can_replicate: true,
            max_replication_slots: 10,
            used_replication_slots: 2,
            publication_exists: true,
            publishes: PublishedActions {
                insert: true,
                update: true,
                delete: true,
                truncate: true,
            },
            tables: vec![table("orders", ReplicaIdentity::Default, true)],
            slot: None,
        }
    }

    #[test]
    fn a_ready_source_has_no_problem() {
        assert!(ready().problems("pub", "rosetta_1_1", "shop").is_empty());
    }

    #[test]
    fn every_missing_requirement_is_named_with_its_fix() {
        let facts = SourceFacts {
            server_version_num: 110_000,
            wal_level: "replica".to_owned(),
            can_replicate: false,
            used_replication_slots: 10,
            ..ready()
        };
        let problems = facts.problems("pub", "rosetta_1_1", "shop");
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(problems[0].contains("PostgreSQL 11"));
        assert!(problems[1].contains("wal_level = logical"));
        assert!(problems[2].contains("REPLICATION"));
        assert!(problems[3].contains("max_replication_slots"));
    }

    #[test]
    fn an_existing_slot_needs_no_free_one_but_must_be_pgoutput() {
        let slot = SlotState {
            name: "rosetta_1_1".to_owned(),
            plugin: Some("pgoutput".to_owned()),
            database: Some("shop".to_owned()),
            active_pid: None,
            confirmed_flush: Some(Lsn::new(1)),
            wal_status: Some("reserved".to_owned()),
        };
        let facts = SourceFacts {
            used_replication_slots: 10,
            slot: Some(slot.clone()),
            ..ready()
        };
        assert!(facts.problems("pub", "rosetta_1_1", "shop").is_empty());
        let facts = SourceFacts {
            slot: Some(SlotState {
                plugin: Some("test_decoding".to_owned()),
                ..slot.clone()
            }),
            ..ready()
        };
        assert!(facts.problems("pub", "rosetta_1_1", "shop")[0].contains("not a pgoutput"));
        let facts = SourceFacts {
            slot: Some(SlotState {
                database: Some("other".to_owned()),
                ..slot
            }),
            ..ready()
        };
        let problems = facts.problems("pub", "rosetta_1_1", "shop");
        assert!(
            problems[0].contains("belongs to database other"),
            "{problems:?}"
        );
    }

    #[test]
    fn tables_publishing_updates_need_a_key_or_full_identity() {
        let facts = SourceFacts {
            tables: vec![
                table("keyed", ReplicaIdentity::Default, true),
                table("full", ReplicaIdentity::Full, false),
                table("bare", ReplicaIdentity::Default, false),
                table("nothing", ReplicaIdentity::Nothing, true),
            ],
            ..ready()
        };
        let problems = facts.problems("pub", "s", "shop");
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("public.bare"));
        assert!(problems[1].contains("public.nothing"));
        let inserts_only = SourceFacts {
            publishes: PublishedActions {
                insert: true,
                ..PublishedActions::default()
            },
            ..facts
        };
        assert!(inserts_only.problems("pub", "s", "shop").is_empty());
    }

    #[test]
    fn a_missing_or_empty_publication_is_a_problem() {
        let missing = SourceFacts {
            publication_exists: false,
            ..ready()
        };
        assert!(missing.problems("pub", "s", "shop")[0].contains("CREATE PUBLICATION pub"));
        let empty = SourceFacts {
            tables: Vec::new(),
            ..ready()
        };
        assert!(empty.problems("pub", "s", "shop")[0].contains("has no tables"));
    }

    #[test]
    fn a_lost_slot_says_so() {
        let slot = SlotState {
            name: "s".to_owned(),
            plugin: Some("pgoutput".to_owned()),
            database: None,
            active_pid: None,
            confirmed_flush: None,
            wal_status: Some("lost".to_owned()),
        };
        assert!(slot.is_lost());
    }
}
