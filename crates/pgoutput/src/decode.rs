//! The message kinds of protocol version 1, each read field by field as PostgreSQL 15's
//! "Logical Replication Message Formats" lays it out (and `logicalrep_write_*` in `proto.c`
//! writes it).

use chrono::{DateTime, Utc};
use rosetta_domain::replication::{
    Change, Datum, Lsn, Relation, RelationColumn, RelationId, ReplicaIdentity, Row, StreamEvent,
    TableName,
};

use crate::reader::Reader;
use crate::{DecodeError, Message};

/// Seconds from the Unix epoch to PostgreSQL's, 2000-01-01 00:00:00 UTC.
const POSTGRES_EPOCH_UNIX_SECONDS: i64 = 946_684_800;
/// The same, in microseconds: the unit of PostgreSQL's timestamps.
pub(crate) const POSTGRES_EPOCH_UNIX_MICROS: i64 = POSTGRES_EPOCH_UNIX_SECONDS * 1_000_000;

/// Relation column flag: the column is part of the replica identity.
const COLUMN_IS_KEY: u8 = 1;
/// Truncate option: `CASCADE` (already expanded by the server into the relation list).
const TRUNCATE_CASCADE: u8 = 1;
/// Truncate option: `RESTART IDENTITY`.
const TRUNCATE_RESTART_IDENTITY: u8 = 2;

/// The smallest Relation column: flags, an empty name's NUL, a type id and a modifier.
const MIN_RELATION_COLUMN: usize = 1 + 1 + 4 + 4;
/// The smallest TupleData column: its kind byte (`'n'` and `'u'` carry nothing else).
const MIN_TUPLE_COLUMN: usize = 1;
/// A relation id in a Truncate.
const TRUNCATE_RELATION: usize = 4;

/// Decodes the message whose tag `reader` is on.
pub(crate) fn message(mut reader: Reader) -> Result<Message, DecodeError> {
    let tag = reader.u8("message tag")?;
    let (message, kind) = match tag {
        b'B' => (begin(&mut reader)?, "Begin"),
        b'C' => (commit(&mut reader)?, "Commit"),
        b'R' => (relation(&mut reader)?, "Relation"),
        b'I' => (insert(&mut reader)?, "Insert"),
        b'U' => (update(&mut reader)?, "Update"),
        b'D' => (delete(&mut reader)?, "Delete"),
        b'T' => (truncate(&mut reader)?, "Truncate"),
        b'O' => (origin(&mut reader)?, "Origin"),
        b'Y' => (type_(&mut reader)?, "Type"),
        b'M' => (logical_message(&mut reader)?, "Message"),
        other => return Err(DecodeError::UnknownTag(other)),
    };
    reader.finish(kind)?;
    Ok(message)
}

fn event(event: StreamEvent) -> Message {
    Message::Event(event)
}

fn change(change: Change) -> Message {
    Message::Event(StreamEvent::Change(change))
}

/// A timestamp: microseconds since 2000-01-01 UTC.
fn timestamp(reader: &mut Reader, what: &'static str) -> Result<DateTime<Utc>, DecodeError> {
    let at = reader.position();
    let micros = reader.i64(what)?;
    micros
        .checked_add(POSTGRES_EPOCH_UNIX_MICROS)
        .and_then(DateTime::from_timestamp_micros)
        .ok_or(DecodeError::Invalid { what, at })
}

fn begin(reader: &mut Reader) -> Result<Message, DecodeError> {
    Ok(event(StreamEvent::Begin {
        final_lsn: Lsn::new(reader.u64("Begin final LSN")?),
        commit_time: timestamp(reader, "Begin commit time")?,
        xid: reader.u32("Begin transaction id")?,
    }))
}

fn commit(reader: &mut Reader) -> Result<Message, DecodeError> {
    let at = reader.position();
    if reader.u8("Commit flags")? != 0 {
        return Err(DecodeError::Invalid {
            what: "Commit flags (always 0)",
            at,
        });
    }
    Ok(event(StreamEvent::Commit {
        commit_lsn: Lsn::new(reader.u64("Commit LSN")?),
        end_lsn: Lsn::new(reader.u64("Commit end LSN")?),
        commit_time: timestamp(reader, "Commit time")?,
    }))
}

fn relation(reader: &mut Reader) -> Result<Message, DecodeError> {
    let id = RelationId::new(reader.u32("Relation id")?);
    let schema = reader.string("Relation namespace")?;
    let name = reader.string("Relation name")?;
    let at = reader.position();
    let replica_identity = ReplicaIdentity::from_code(reader.u8("Relation replica identity")?)
        .ok_or(DecodeError::Invalid {
            what: "Relation replica identity (d, n, f or i)",
            at,
        })?;
    let count = reader.count16("Relation column count")?;
    let mut columns = Vec::with_capacity(reader.capacity(count, MIN_RELATION_COLUMN));
    for _ in 0..count {
        let at = reader.position();
        let flags = reader.u8("Relation column flags")?;
        if flags & !COLUMN_IS_KEY != 0 {
            return Err(DecodeError::Invalid {
                what: "Relation column flags (0 or 1)",
                at,
            });
        }
        columns.push(RelationColumn {
            name: reader.string("Relation column name")?,
            type_oid: reader.u32("Relation column type id")?,
            type_modifier: reader.i32("Relation column type modifier")?,
            key: flags == COLUMN_IS_KEY,
        });
    }
    Ok(event(StreamEvent::Relation(Relation {
        id,
        // The server leaves out the name of pg_catalog, its own schema.
        name: TableName::new(
            if schema.is_empty() {
                "pg_catalog".to_owned()
            } else {
                schema
            },
            name,
        ),
        replica_identity,
        columns,
    })))
}

fn insert(reader: &mut Reader) -> Result<Message, DecodeError> {
    let relation = RelationId::new(reader.u32("Insert relation id")?);
    expect(reader, b'N', "Insert new tuple marker (N)")?;
    Ok(change(Change::Insert {
        relation,
        new: tuple(reader)?,
    }))
}

fn update(reader: &mut Reader) -> Result<Message, DecodeError> {
    let relation = RelationId::new(reader.u32("Update relation id")?);
    let at = reader.position();
    let old = match reader.u8("Update tuple marker")? {
        // K: the old key (the key changed, or it holds an external TOAST value); O: the whole
        // old row (REPLICA IDENTITY FULL). Either way, the old values come first.
        b'K' | b'O' => {
            let old = tuple(reader)?;
            expect(reader, b'N', "Update new tuple marker (N)")?;
            Some(old)
        }
        b'N' => None,
        _ => {
            return Err(DecodeError::Invalid {
                what: "Update tuple marker (K, O or N)",
                at,
            })
        }
    };
    Ok(change(Change::Update {
        relation,
        old,
        new: tuple(reader)?,
    }))
}

fn delete(reader: &mut Reader) -> Result<Message, DecodeError> {
    let relation = RelationId::new(reader.u32("Delete relation id")?);
    let at = reader.position();
    if !matches!(reader.u8("Delete tuple marker")?, b'K' | b'O') {
        return Err(DecodeError::Invalid {
            what: "Delete tuple marker (K or O)",
            at,
        });
    }
    Ok(change(Change::Delete {
        relation,
        old: tuple(reader)?,
    }))
}

fn truncate(reader: &mut Reader) -> Result<Message, DecodeError> {
    let count = reader.count32("Truncate relation count")?;
    let at = reader.position();
    let options = reader.u8("Truncate options")?;
    if options & !(TRUNCATE_CASCADE | TRUNCATE_RESTART_IDENTITY) != 0 {
        return Err(DecodeError::Invalid {
            what: "Truncate options (bits 1 and 2 only)",
            at,
        });
    }
    let mut relations = Vec::with_capacity(reader.capacity(count, TRUNCATE_RELATION));
    for _ in 0..count {
        relations.push(RelationId::new(reader.u32("Truncate relation id")?));
    }
    Ok(change(Change::Truncate {
        relations,
        restart_identity: options & TRUNCATE_RESTART_IDENTITY != 0,
    }))
}

/// Origin: where a replicated transaction came from. Read in full, so that a malformed one is
/// still an error, and then set aside.
fn origin(reader: &mut Reader) -> Result<Message, DecodeError> {
    reader.u64("Origin commit LSN")?;
    reader.string("Origin name")?;
    Ok(Message::Ignored("Origin"))
}

/// Type: a non-built-in type's name, sent before the Relation that uses it; the Relation's
/// type ids are all Rosetta needs.
fn type_(reader: &mut Reader) -> Result<Message, DecodeError> {
    reader.u32("Type id")?;
    reader.string("Type namespace")?;
    reader.string("Type name")?;
    Ok(Message::Ignored("Type"))
}

/// Message: what `pg_logical_emit_message` wrote (sent only when the stream asks for it).
fn logical_message(reader: &mut Reader) -> Result<Message, DecodeError> {
    reader.u8("Message flags")?;
    reader.u64("Message LSN")?;
    reader.string("Message prefix")?;
    let len = reader.count32("Message content length")?;
    reader.slice(len, "Message content")?;
    Ok(Message::Ignored("Message"))
}

/// The marker byte `marker` that announces the next part of a message.
fn expect(reader: &mut Reader, marker: u8, what: &'static str) -> Result<(), DecodeError> {
    let at = reader.position();
    if reader.u8(what)? == marker {
        Ok(())
    } else {
        Err(DecodeError::Invalid { what, at })
    }
}

/// TupleData: a row's values, one per column of the table's latest Relation.
fn tuple(reader: &mut Reader) -> Result<Row, DecodeError> {
    let count = reader.count16("TupleData column count")?;
    let mut values = Vec::with_capacity(reader.capacity(count, MIN_TUPLE_COLUMN));
    for _ in 0..count {
        let at = reader.position();
        values.push(match reader.u8("TupleData column kind")? {
            b'n' => Datum::Null,
            b'u' => Datum::Unchanged,
            b't' => {
                let len = reader.count32("TupleData value length")?;
                Datum::Text(reader.slice(len, "TupleData value")?)
            }
            b'b' => return Err(DecodeError::BinaryValue { at }),
            _ => {
                return Err(DecodeError::Invalid {
                    what: "TupleData column kind (n, u or t)",
                    at,
                })
            }
        });
    }
    Ok(Row(values))
}
