//! Sources: the PostgreSQL databases that pipelines replicate from.

use chrono::{DateTime, Utc};

use crate::{Name, PortNumber, PublicationName, ReplicationId, Secret, SourceId, SslMode, Text};

/// A PostgreSQL database that pipelines replicate from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// Its id.
    pub id: SourceId,
    /// Its unique, lower-cased name.
    pub name: Name,
    /// Host name or address of the server.
    pub pg_host: Text,
    /// Port of the server.
    pub pg_port: PortNumber,
    /// Database replicated from.
    pub pg_database: Text,
    /// Role that connects.
    pub pg_username: Text,
    /// Password of that role, if it needs one (write-only: never returned by the API).
    pub pg_password: Option<Secret>,
    /// Publication whose tables are replicated.
    pub publication_name: PublicationName,
    /// Identifies the replication slot (see [`Source::slot_name`]).
    pub replication_id: ReplicationId,
    /// Whether and how connections to the server use TLS.
    pub ssl_mode: SslMode,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// What creating a source needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSource {
    /// Its unique name.
    pub name: Name,
    /// Host name or address of the server.
    pub pg_host: Text,
    /// Port of the server.
    pub pg_port: PortNumber,
    /// Database replicated from.
    pub pg_database: Text,
    /// Role that connects.
    pub pg_username: Text,
    /// Password of that role, if any.
    pub pg_password: Option<Secret>,
    /// Publication whose tables are replicated.
    pub publication_name: PublicationName,
    /// Identifies the replication slot.
    pub replication_id: ReplicationId,
    /// Whether and how connections to the server use TLS.
    pub ssl_mode: SslMode,
}

/// A partial update of a source: `None` keeps the stored value (the password too).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceUpdate {
    /// A new name.
    pub name: Option<Name>,
    /// A new host.
    pub pg_host: Option<Text>,
    /// A new port.
    pub pg_port: Option<PortNumber>,
    /// A new database.
    pub pg_database: Option<Text>,
    /// A new role.
    pub pg_username: Option<Text>,
    /// A new password.
    pub pg_password: Option<Secret>,
    /// A new publication.
    pub publication_name: Option<PublicationName>,
    /// A new replication id.
    pub replication_id: Option<ReplicationId>,
    /// A new TLS mode.
    pub ssl_mode: Option<SslMode>,
}

impl Source {
    /// The beginning of the names of the source's pipelines' slots, `rosetta_<replication_id>_`
    /// (see [`crate::replication::pipeline_slot_name`]).
    pub fn slot_prefix(&self) -> String {
        slot_prefix(self.replication_id)
    }

    /// Whether `slot` is the name of one of the source's pipelines' slots:
    /// `rosetta_<replication_id>_<pipeline id>`.
    pub fn owns_slot(&self, slot: &str) -> bool {
        slot.strip_prefix(&self.slot_prefix())
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
    }

    /// `host:port`, as messages about the source's server name it (never with credentials).
    pub fn address(&self) -> String {
        format!("{}:{}", self.pg_host, self.pg_port.get())
    }
}

/// The beginning of the slot names of the pipelines of sources with `replication_id`:
/// `rosetta_<replication_id>_`.
pub fn slot_prefix(replication_id: ReplicationId) -> String {
    format!("rosetta_{}_", replication_id.get())
}

impl SourceUpdate {
    /// Whether the update changes nothing.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pipelines_slots_carry_the_replication_id() {
        assert_eq!(slot_prefix(ReplicationId::new(7).unwrap()), "rosetta_7_");
        assert_eq!(slot_prefix(ReplicationId::new(0).unwrap()), "rosetta_0_");
        let source = |id| Source {
            id: SourceId::new(1),
            name: Name::parse("orders").unwrap(),
            pg_host: Text::parse("db").unwrap(),
            pg_port: PortNumber::default(),
            pg_database: Text::parse("shop").unwrap(),
            pg_username: Text::parse("replicator").unwrap(),
            pg_password: None,
            publication_name: PublicationName::parse("pub").unwrap(),
            replication_id: ReplicationId::new(id).unwrap(),
            ssl_mode: SslMode::default(),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        };
        assert!(source(7).owns_slot("rosetta_7_42"));
        for other in [
            "rosetta_7",
            "rosetta_7_",
            "rosetta_7_42_sync",
            "rosetta_70_1",
            "x",
        ] {
            assert!(!source(7).owns_slot(other), "{other}");
        }
    }
}
