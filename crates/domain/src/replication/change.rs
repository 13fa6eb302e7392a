//! What a replication stream carries: transactions in commit order, each a run of row changes
//! between its begin and its commit, the tables' descriptions, and the server's position.

use bytes::Bytes;
use chrono::{DateTime, Utc};

use super::{Lsn, RelationId, ReplicaIdentity, TableName};

/// One column's value in a changed row, in PostgreSQL's text output form.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Datum {
    /// SQL NULL.
    Null,
    /// A large (TOASTed) value the change did not touch and the stream did not repeat: the
    /// destination keeps the value it has.
    Unchanged,
    /// The value as the type's output function writes it (`42`, `2026-12-01 10:00:00+00`,
    /// `{1,2}`), in the source database's encoding.
    Text(Bytes),
}

impl Datum {
    /// The bytes it holds (0 for `Null` and `Unchanged`), to size batches with.
    pub fn len(&self) -> usize {
        match self {
            Self::Text(bytes) => bytes.len(),
            Self::Null | Self::Unchanged => 0,
        }
    }

    /// Whether it holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A row's values, one per column of its table's latest [`Relation`], in that order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Row(pub Vec<Datum>);

impl Row {
    /// The bytes its values hold.
    pub fn size(&self) -> usize {
        self.0.iter().map(Datum::len).sum()
    }
}

/// A column as the stream describes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RelationColumn {
    /// Its name.
    pub name: String,
    /// Its type's object id on the source.
    pub type_oid: u32,
    /// Its type modifier (-1 for none).
    pub type_modifier: i32,
    /// Whether the source logs it as part of the row's identity (old values of updates and
    /// deletes).
    pub key: bool,
}

/// A table as the stream describes it before its first change in a session, and again after
/// its definition changes: the layout of every [`Row`] of its changes until the next one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Relation {
    /// Its object id on the source.
    pub id: RelationId,
    /// Its schema and name.
    pub name: TableName,
    /// Which old values the source logs.
    pub replica_identity: ReplicaIdentity,
    /// Its replicated columns, in row order.
    pub columns: Vec<RelationColumn>,
}

/// A row change, in the order the source made it within its transaction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Change {
    /// A new row.
    Insert {
        /// Its table.
        relation: RelationId,
        /// The row.
        new: Row,
    },
    /// A row changed.
    Update {
        /// Its table.
        relation: RelationId,
        /// Its old identity when the key changed (other columns `Null`), or its whole old
        /// row under `REPLICA IDENTITY FULL`; `None` when the key did not change.
        old: Option<Row>,
        /// The row as it is now (with `Unchanged` for untouched TOASTed values).
        new: Row,
    },
    /// A row deleted.
    Delete {
        /// Its table.
        relation: RelationId,
        /// Its identity (other columns `Null`), or its whole row under `FULL`.
        old: Row,
    },
    /// Tables emptied, all at once.
    Truncate {
        /// The tables, `CASCADE` already expanded by the source.
        relations: Vec<RelationId>,
        /// Whether `RESTART IDENTITY` was asked for.
        restart_identity: bool,
    },
}

impl Change {
    /// The bytes its rows hold, to size batches with.
    pub fn size(&self) -> usize {
        match self {
            Self::Insert { new, .. } => new.size(),
            Self::Update { old, new, .. } => new.size() + old.as_ref().map_or(0, Row::size),
            Self::Delete { old, .. } => old.size(),
            Self::Truncate { relations, .. } => relations.len() * 4,
        }
    }
}

/// What a replication stream delivers, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamEvent {
    /// A source transaction begins; its changes follow, then its [`StreamEvent::Commit`].
    Begin {
        /// Where its commit record is.
        final_lsn: Lsn,
        /// When it committed on the source.
        commit_time: DateTime<Utc>,
        /// Its transaction id.
        xid: u32,
    },
    /// A table's layout, for the changes that follow.
    Relation(Relation),
    /// A row change of the current transaction.
    Change(Change),
    /// The current transaction committed.
    Commit {
        /// Where its commit record starts.
        commit_lsn: Lsn,
        /// Where its commit record ends: the position to confirm once it is applied.
        end_lsn: Lsn,
        /// When it committed on the source.
        commit_time: DateTime<Utc>,
    },
    /// The server's news between transactions: how far its log goes. With nothing received
    /// in between, every change before `wal_end` that the stream had to send has been sent.
    Keepalive {
        /// The end of the server's log as it sent this.
        wal_end: Lsn,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_sized_by_the_bytes_their_values_hold() {
        let row = Row(vec![
            Datum::Text(Bytes::from_static(b"42")),
            Datum::Null,
            Datum::Unchanged,
            Datum::Text(Bytes::from_static(b"hello")),
        ]);
        assert_eq!(row.size(), 7);
        let update = Change::Update {
            relation: RelationId::new(1),
            old: Some(Row(vec![Datum::Text(Bytes::from_static(b"41"))])),
            new: row,
        };
        assert_eq!(update.size(), 9);
        assert!(Datum::Null.is_empty());
    }
}
