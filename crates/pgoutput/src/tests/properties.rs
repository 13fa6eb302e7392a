//! Properties over arbitrary messages: every event survives encoding and decoding, and no
//! input, arbitrary, mutated or cut short, makes the decoder panic.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use proptest::collection::vec;
use proptest::prelude::*;
use rosetta_domain::replication::{
    Change, Datum, Lsn, Relation, RelationColumn, RelationId, ReplicaIdentity, Row, StreamEvent,
    TableName,
};

use super::encode::encode;
use crate::{decode, DecodeError, Message};

/// Times whose microseconds since 2000 fit an `Int64` and whose dates `chrono` can hold
/// (±146,000 years around 2000).
fn commit_time() -> impl Strategy<Value = DateTime<Utc>> {
    (-(1_i64 << 62)..(1_i64 << 62)).prop_map(|micros| {
        DateTime::from_timestamp_micros(micros + crate::decode::POSTGRES_EPOCH_UNIX_MICROS).unwrap()
    })
}

fn datum() -> impl Strategy<Value = Datum> {
    prop_oneof![
        Just(Datum::Null),
        Just(Datum::Unchanged),
        vec(any::<u8>(), 0..40).prop_map(|bytes| Datum::Text(Bytes::from(bytes))),
    ]
}

fn row() -> impl Strategy<Value = Row> {
    vec(datum(), 0..8).prop_map(Row)
}

fn relation_id() -> impl Strategy<Value = RelationId> {
    any::<u32>().prop_map(RelationId::new)
}

/// A name as PostgreSQL allows one: any text without NUL. Schemas are never empty (the server
/// writes pg_catalog's name as empty, which decodes to "pg_catalog").
fn name(min: usize) -> impl Strategy<Value = String> {
    vec(
        any::<char>().prop_filter("no NUL in a name", |c| *c != '\0'),
        min..12,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

fn relation() -> impl Strategy<Value = Relation> {
    let identity = prop_oneof![
        Just(ReplicaIdentity::Default),
        Just(ReplicaIdentity::Index),
        Just(ReplicaIdentity::Full),
        Just(ReplicaIdentity::Nothing),
    ];
    let column = (name(0), any::<u32>(), any::<i32>(), any::<bool>()).prop_map(
        |(name, type_oid, type_modifier, key)| RelationColumn {
            name,
            type_oid,
            type_modifier,
            key,
        },
    );
    (relation_id(), name(1), name(0), identity, vec(column, 0..6)).prop_map(
        |(id, schema, table, replica_identity, columns)| Relation {
            id,
            name: TableName::new(schema, table),
            replica_identity,
            columns,
        },
    )
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (relation_id(), row()).prop_map(|(relation, new)| Change::Insert { relation, new }),
        (relation_id(), proptest::option::of(row()), row())
            .prop_map(|(relation, old, new)| Change::Update { relation, old, new }),
        (relation_id(), row()).prop_map(|(relation, old)| Change::Delete { relation, old }),
        (vec(relation_id(), 0..6), any::<bool>()).prop_map(|(relations, restart_identity)| {
            Change::Truncate {
                relations,
                restart_identity,
            }
        }),
    ]
}

/// Every event a pgoutput message can carry.
fn stream_event() -> impl Strategy<Value = StreamEvent> {
    let lsn = || any::<u64>().prop_map(Lsn::new);
    prop_oneof![
        (lsn(), commit_time(), any::<u32>()).prop_map(|(final_lsn, commit_time, xid)| {
            StreamEvent::Begin {
                final_lsn,
                commit_time,
                xid,
            }
        }),
        (lsn(), lsn(), commit_time()).prop_map(|(commit_lsn, end_lsn, commit_time)| {
            StreamEvent::Commit {
                commit_lsn,
                end_lsn,
                commit_time,
            }
        }),
        relation().prop_map(StreamEvent::Relation),
        change().prop_map(StreamEvent::Change),
    ]
}

/// A tag of protocol version 1 most of the time, so that arbitrary bodies get past the tag.
fn tag() -> impl Strategy<Value = u8> {
    prop_oneof![
        9 => proptest::sample::select(b"BCORYIUDTM".to_vec()),
        1 => any::<u8>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn every_event_decodes_to_itself_after_encoding(event in stream_event()) {
        prop_assert_eq!(decode(encode(&event)), Ok(Message::Event(event)));
    }

    #[test]
    fn a_valid_message_cut_anywhere_is_a_truncation(event in stream_event()) {
        let message = encode(&event);
        for cut in 0..message.len() {
            let decoded = decode(message.slice(..cut));
            prop_assert!(
                matches!(decoded, Err(DecodeError::Truncated { .. })),
                "cut at {} of {}: {:?}", cut, message.len(), decoded
            );
        }
    }

    #[test]
    fn a_valid_message_with_bytes_after_it_is_refused(
        event in stream_event(),
        extra in vec(any::<u8>(), 1..8),
    ) {
        let message = encode(&event);
        let mut long = message.to_vec();
        long.extend_from_slice(&extra);
        prop_assert_eq!(
            decode(Bytes::from(long)),
            Err(DecodeError::TrailingBytes {
                message: kind(&event),
                at: message.len(),
                left: extra.len(),
            })
        );
    }
}

proptest! {
    // Cheap cases, and the ones that find what a hand-written test misses: many of them.
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn arbitrary_bytes_never_make_the_decoder_panic(tag in tag(), body in vec(any::<u8>(), 0..96)) {
        let mut message = vec![tag];
        message.extend_from_slice(&body);
        let _ = decode(Bytes::from(message));
    }

    #[test]
    fn a_valid_message_with_bytes_changed_never_makes_the_decoder_panic(
        event in stream_event(),
        edits in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut message = encode(&event).to_vec();
        for (index, byte) in edits {
            let at = index.index(message.len());
            message[at] = byte;
        }
        let _ = decode(Bytes::from(message));
    }
}

/// The message kind that carries `event`, as errors name it.
fn kind(event: &StreamEvent) -> &'static str {
    match event {
        StreamEvent::Begin { .. } => "Begin",
        StreamEvent::Commit { .. } => "Commit",
        StreamEvent::Relation(_) => "Relation",
        StreamEvent::Change(Change::Insert { .. }) => "Insert",
        StreamEvent::Change(Change::Update { .. }) => "Update",
        StreamEvent::Change(Change::Delete { .. }) => "Delete",
        StreamEvent::Change(Change::Truncate { .. }) => "Truncate",
        StreamEvent::Keepalive { .. } => "Keepalive",
    }
}
