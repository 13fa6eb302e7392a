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
    /// The name of the source's logical replication slot: `rosetta_<replication_id>`, the name
    /// pipelines create it under on the source.
    pub fn slot_name(&self) -> String {
        slot_name(self.replication_id)
    }

    /// `host:port`, as messages about the source's server name it (never with credentials).
    pub fn address(&self) -> String {
        format!("{}:{}", self.pg_host, self.pg_port.get())
    }
}

/// The replication slot name a replication id stands for: `rosetta_<replication_id>`.
pub fn slot_name(replication_id: ReplicationId) -> String {
    format!("rosetta_{}", replication_id.get())
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
    fn the_slot_name_carries_the_replication_id() {
        assert_eq!(slot_name(ReplicationId::new(7).unwrap()), "rosetta_7");
        assert_eq!(slot_name(ReplicationId::new(0).unwrap()), "rosetta_0");
    }
}
