//! The tables a publication replicates, as the source's catalogue and its replication stream
//! describe them.

use std::fmt;

/// A table's object id on its source (`pg_class.oid`), which the replication stream names
/// tables by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RelationId(u32);

impl RelationId {
    /// Wraps an object id.
    pub const fn new(oid: u32) -> Self {
        Self(oid)
    }

    /// The object id.
    pub const fn get(self) -> u32 {
        self.0
    }
}

impl fmt::Display for RelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A table's schema and name, as the source spells them (case kept: these are identifiers,
/// quoted by whoever writes SQL with them).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TableName {
    /// The schema (`public`).
    pub schema: String,
    /// The table's name within it.
    pub name: String,
}

impl TableName {
    /// `schema.name`.
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            schema: schema.into(),
            name: name.into(),
        }
    }
}

impl fmt::Display for TableName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.schema, self.name)
    }
}

/// Which old values the source logs for an UPDATE or DELETE (`pg_class.relreplident`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReplicaIdentity {
    /// The primary key's columns (`d`); none when the table has no primary key.
    Default,
    /// The columns of a unique index chosen with `REPLICA IDENTITY USING INDEX` (`i`).
    Index,
    /// Every column (`f`).
    Full,
    /// Nothing (`n`): such a table cannot publish UPDATE or DELETE.
    Nothing,
}

impl ReplicaIdentity {
    /// The identity `pg_class.relreplident` (and the stream's Relation message) spells `code`.
    pub const fn from_code(code: u8) -> Option<Self> {
        match code {
            b'd' => Some(Self::Default),
            b'i' => Some(Self::Index),
            b'f' => Some(Self::Full),
            b'n' => Some(Self::Nothing),
            _ => None,
        }
    }

    /// How `ALTER TABLE … REPLICA IDENTITY` spells it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Default => "DEFAULT",
            Self::Index => "USING INDEX",
            Self::Full => "FULL",
            Self::Nothing => "NOTHING",
        }
    }
}

/// One replicated column.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Column {
    /// Its name, as the source spells it.
    pub name: String,
    /// Its type's object id on the source (`pg_type.oid`).
    pub type_oid: u32,
    /// Its type modifier (`atttypmod`: a `varchar`'s length, a `numeric`'s precision; -1 for
    /// none).
    pub type_modifier: i32,
    /// Its type as DDL writes it (`character varying(20)`, `numeric(10,2)`, `integer[]`), from
    /// the source's `format_type`.
    pub type_name: String,
    /// Whether it may hold NULL.
    pub nullable: bool,
    /// Whether it is part of the table's key (see [`TableSchema::key`]).
    pub key: bool,
}

/// A replicated table: its columns in the order the replication stream sends them (dropped and
/// generated columns left out, as the stream leaves them out), and its key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableSchema {
    /// Its object id on the source.
    pub id: RelationId,
    /// Its schema and name on the source.
    pub name: TableName,
    /// Which old values the source logs.
    pub replica_identity: ReplicaIdentity,
    /// Its columns.
    pub columns: Vec<Column>,
}

impl TableSchema {
    /// The columns that identify a row, in table order: those of the primary key, or else of
    /// the replica identity index. Empty when the table has neither (then only `FULL` lets its
    /// updates and deletes be replicated, by matching every column).
    pub fn key(&self) -> impl Iterator<Item = &Column> {
        self.columns.iter().filter(|column| column.key)
    }

    /// Whether the table has a key.
    pub fn has_key(&self) -> bool {
        self.columns.iter().any(|column| column.key)
    }

    /// The position of the column named `name`.
    pub fn position(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|column| column.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, key: bool) -> Column {
        Column {
            name: name.to_owned(),
            type_oid: 23,
            type_modifier: -1,
            type_name: "integer".to_owned(),
            nullable: !key,
            key,
        }
    }

    #[test]
    fn a_tables_key_is_its_key_columns_in_table_order() {
        let table = TableSchema {
            id: RelationId::new(16_384),
            name: TableName::new("public", "orders"),
            replica_identity: ReplicaIdentity::Default,
            columns: vec![column("a", false), column("b", true), column("c", true)],
        };
        let key: Vec<_> = table.key().map(|c| c.name.as_str()).collect();
        assert_eq!(key, ["b", "c"]);
        assert!(table.has_key());
        assert_eq!(table.position("c"), Some(2));
        assert_eq!(table.name.to_string(), "public.orders");
    }

    #[test]
    fn replica_identities_read_as_the_catalogue_spells_them() {
        for (code, identity) in [
            (b'd', ReplicaIdentity::Default),
            (b'i', ReplicaIdentity::Index),
            (b'f', ReplicaIdentity::Full),
            (b'n', ReplicaIdentity::Nothing),
        ] {
            assert_eq!(ReplicaIdentity::from_code(code), Some(identity));
        }
        assert_eq!(ReplicaIdentity::from_code(b'x'), None);
    }
}
