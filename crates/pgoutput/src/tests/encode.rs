//! A test-only pgoutput v1 encoder: builds the bytes a server would send for a domain event,
//! and the fields of any message by hand, so that tests can state messages as values.

use bytes::Bytes;
use rosetta_domain::replication::{Change, Datum, ReplicaIdentity, Row, StreamEvent};

use crate::decode::POSTGRES_EPOCH_UNIX_MICROS;

/// A message under construction.
#[derive(Default)]
pub(crate) struct Encoder(Vec<u8>);

impl Encoder {
    /// A message that starts with `tag`.
    pub(crate) fn tag(tag: u8) -> Self {
        Self(vec![tag])
    }

    pub(crate) fn u8(mut self, value: u8) -> Self {
        self.0.push(value);
        self
    }

    pub(crate) fn i16(mut self, value: i16) -> Self {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub(crate) fn i32(mut self, value: i32) -> Self {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub(crate) fn u32(mut self, value: u32) -> Self {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub(crate) fn u64(mut self, value: u64) -> Self {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    pub(crate) fn i64(mut self, value: i64) -> Self {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// A NUL-terminated string.
    pub(crate) fn string(mut self, value: &str) -> Self {
        self.0.extend_from_slice(value.as_bytes());
        self.0.push(0);
        self
    }

    pub(crate) fn bytes(mut self, value: &[u8]) -> Self {
        self.0.extend_from_slice(value);
        self
    }

    /// A timestamp, as microseconds since 2000-01-01 UTC.
    pub(crate) fn time(self, value: chrono::DateTime<chrono::Utc>) -> Self {
        self.i64(value.timestamp_micros() - POSTGRES_EPOCH_UNIX_MICROS)
    }

    /// TupleData.
    pub(crate) fn tuple(self, row: &Row) -> Self {
        let count = i16::try_from(row.0.len()).unwrap();
        row.0
            .iter()
            .fold(self.i16(count), |encoder, datum| match datum {
                Datum::Null => encoder.u8(b'n'),
                Datum::Unchanged => encoder.u8(b'u'),
                Datum::Text(text) => encoder
                    .u8(b't')
                    .i32(i32::try_from(text.len()).unwrap())
                    .bytes(text),
            })
    }

    pub(crate) fn build(self) -> Bytes {
        Bytes::from(self.0)
    }
}

/// The code a Relation message spells `identity` with.
pub(crate) fn identity_code(identity: ReplicaIdentity) -> u8 {
    match identity {
        ReplicaIdentity::Default => b'd',
        ReplicaIdentity::Index => b'i',
        ReplicaIdentity::Full => b'f',
        ReplicaIdentity::Nothing => b'n',
    }
}

/// The message a server sends for `event`; an old row is sent as a key (`K`) tuple, the way
/// the decoder reads `O` too. Keepalives are not pgoutput messages and panic.
pub(crate) fn encode(event: &StreamEvent) -> Bytes {
    match event {
        StreamEvent::Begin {
            final_lsn,
            commit_time,
            xid,
        } => Encoder::tag(b'B')
            .u64(final_lsn.get())
            .time(*commit_time)
            .u32(*xid),
        StreamEvent::Commit {
            commit_lsn,
            end_lsn,
            commit_time,
        } => Encoder::tag(b'C')
            .u8(0)
            .u64(commit_lsn.get())
            .u64(end_lsn.get())
            .time(*commit_time),
        StreamEvent::Relation(relation) => {
            let count = i16::try_from(relation.columns.len()).unwrap();
            let head = Encoder::tag(b'R')
                .u32(relation.id.get())
                .string(&relation.name.schema)
                .string(&relation.name.name)
                .u8(identity_code(relation.replica_identity))
                .i16(count);
            relation.columns.iter().fold(head, |encoder, column| {
                encoder
                    .u8(u8::from(column.key))
                    .string(&column.name)
                    .u32(column.type_oid)
                    .i32(column.type_modifier)
            })
        }
        StreamEvent::Change(Change::Insert { relation, new }) => {
            Encoder::tag(b'I').u32(relation.get()).u8(b'N').tuple(new)
        }
        StreamEvent::Change(Change::Update { relation, old, new }) => {
            let head = Encoder::tag(b'U').u32(relation.get());
            match old {
                Some(old) => head.u8(b'K').tuple(old),
                None => head,
            }
            .u8(b'N')
            .tuple(new)
        }
        StreamEvent::Change(Change::Delete { relation, old }) => {
            Encoder::tag(b'D').u32(relation.get()).u8(b'K').tuple(old)
        }
        StreamEvent::Change(Change::Truncate {
            relations,
            restart_identity,
        }) => {
            let head = Encoder::tag(b'T')
                .i32(i32::try_from(relations.len()).unwrap())
                .u8(if *restart_identity { 2 } else { 0 });
            relations
                .iter()
                .fold(head, |encoder, id| encoder.u32(id.get()))
        }
        StreamEvent::Keepalive { .. } => panic!("a keepalive is not a pgoutput message"),
    }
    .build()
}
