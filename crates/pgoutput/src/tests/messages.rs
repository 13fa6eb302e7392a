//! One test per message kind, over hand-built bytes: what each decodes to, and what each refuses.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use rosetta_domain::replication::{
    Change, Datum, Lsn, Relation, RelationColumn, RelationId, ReplicaIdentity, Row, StreamEvent,
    TableName,
};

use super::encode::{encode, Encoder};
use crate::{decode, DecodeError, Message};

fn text(value: &'static str) -> Datum {
    Datum::Text(Bytes::from_static(value.as_bytes()))
}

fn event(message: Bytes) -> StreamEvent {
    match decode(message) {
        Ok(Message::Event(event)) => event,
        other => panic!("expected an event, got {other:?}"),
    }
}

fn change(message: Bytes) -> Change {
    match event(message) {
        StreamEvent::Change(change) => change,
        other => panic!("expected a change, got {other:?}"),
    }
}

fn invalid(what: &'static str, at: usize) -> Result<Message, DecodeError> {
    Err(DecodeError::Invalid { what, at })
}

fn time(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
}

#[test]
fn a_begin_gives_its_commit_lsn_commit_time_and_transaction_id() {
    let message = Encoder::tag(b'B')
        .u64(0x1999_6BA8)
        .i64(838_080_000_123_456) // 2026-07-23 00:00:00.123456, counted from 2000-01-01
        .u32(743)
        .build();
    assert_eq!(message.len(), 21);
    assert_eq!(
        event(message),
        StreamEvent::Begin {
            final_lsn: Lsn::new(0x1999_6BA8),
            commit_time: time("2026-07-23T00:00:00.123456Z"),
            xid: 743,
        }
    );
}

#[test]
fn a_commit_gives_its_lsns_and_time_and_must_have_no_flags() {
    let message = |flags| {
        Encoder::tag(b'C')
            .u8(flags)
            .u64(0x1996BA8)
            .u64(0x1996BD8)
            .i64(-1)
            .build()
    };
    assert_eq!(message(0).len(), 26);
    assert_eq!(
        event(message(0)),
        StreamEvent::Commit {
            commit_lsn: Lsn::new(0x1996BA8),
            end_lsn: Lsn::new(0x1996BD8),
            commit_time: time("1999-12-31T23:59:59.999999Z"),
        }
    );
    assert_eq!(decode(message(1)), invalid("Commit flags (always 0)", 1));
}

#[test]
fn a_commit_time_beyond_what_a_date_can_hold_is_invalid() {
    let message = Encoder::tag(b'C').u8(0).u64(1).u64(2).i64(i64::MAX).build();
    assert_eq!(decode(message), invalid("Commit time", 18));
}

fn relation_message(namespace: &str, identity: u8, flags: u8) -> Bytes {
    Encoder::tag(b'R')
        .u32(16_395)
        .string(namespace)
        .string("Items é")
        .u8(identity)
        .i16(2)
        .u8(1)
        .string("id")
        .u32(23)
        .i32(-1)
        .u8(flags)
        .string("label")
        .u32(1043)
        .i32(24)
        .build()
}

#[test]
fn a_relation_gives_the_tables_name_identity_and_columns_with_their_key_flags() {
    let expected = |schema: &str, replica_identity| {
        StreamEvent::Relation(Relation {
            id: RelationId::new(16_395),
            name: TableName::new(schema, "Items é"),
            replica_identity,
            columns: vec![
                RelationColumn {
                    name: "id".to_owned(),
                    type_oid: 23,
                    type_modifier: -1,
                    key: true,
                },
                RelationColumn {
                    name: "label".to_owned(),
                    type_oid: 1043,
                    type_modifier: 24,
                    key: false,
                },
            ],
        })
    };
    for (code, identity) in [
        (b'd', ReplicaIdentity::Default),
        (b'i', ReplicaIdentity::Index),
        (b'f', ReplicaIdentity::Full),
        (b'n', ReplicaIdentity::Nothing),
    ] {
        assert_eq!(
            event(relation_message("public", code, 0)),
            expected("public", identity)
        );
    }
    assert_eq!(
        event(relation_message("", b'd', 0)),
        expected("pg_catalog", ReplicaIdentity::Default),
        "the server leaves pg_catalog's name out"
    );
    assert_eq!(
        decode(relation_message("public", b'x', 0)),
        invalid("Relation replica identity (d, n, f or i)", 21)
    );
    assert_eq!(
        decode(relation_message("public", b'd', 2)),
        invalid("Relation column flags (0 or 1)", 36)
    );
}

#[test]
fn an_insert_gives_null_unchanged_and_text_values_as_slices_of_the_message() {
    let message = Encoder::tag(b'I')
        .u32(7)
        .u8(b'N')
        .i16(4)
        .u8(b't')
        .i32(2)
        .bytes(b"42")
        .u8(b'n')
        .u8(b'u')
        .u8(b't')
        .i32(0)
        .build();
    let range = message.as_ptr_range();
    let Change::Insert { relation, new } = change(message.clone()) else {
        panic!("an insert");
    };
    assert_eq!(relation, RelationId::new(7));
    assert_eq!(
        new,
        Row(vec![text("42"), Datum::Null, Datum::Unchanged, text("")])
    );
    let Datum::Text(value) = &new.0[0] else {
        panic!("text");
    };
    assert!(
        range.contains(&value.as_ptr()),
        "the value is not a copy: it points into the message"
    );
    let no_marker = Encoder::tag(b'I').u32(7).u8(b'K').i16(0).build();
    assert_eq!(decode(no_marker), invalid("Insert new tuple marker (N)", 5));
}

#[test]
fn an_update_has_an_old_row_only_after_a_key_or_old_marker() {
    let new = Row(vec![text("2"), text("b")]);
    let old = Row(vec![text("1"), Datum::Null]);
    let plain = Encoder::tag(b'U').u32(9).u8(b'N').tuple(&new).build();
    assert_eq!(
        change(plain),
        Change::Update {
            relation: RelationId::new(9),
            old: None,
            new: new.clone(),
        }
    );
    for marker in [b'K', b'O'] {
        let message = Encoder::tag(b'U')
            .u32(9)
            .u8(marker)
            .tuple(&old)
            .u8(b'N')
            .tuple(&new)
            .build();
        assert_eq!(
            change(message),
            Change::Update {
                relation: RelationId::new(9),
                old: Some(old.clone()),
                new: new.clone(),
            }
        );
    }
    let twice_old = Encoder::tag(b'U')
        .u32(9)
        .u8(b'K')
        .tuple(&old)
        .u8(b'O')
        .tuple(&new)
        .build();
    assert_eq!(
        decode(twice_old),
        invalid("Update new tuple marker (N)", 15)
    );
    let unknown = Encoder::tag(b'U').u32(9).u8(b'X').tuple(&new).build();
    assert_eq!(
        decode(unknown),
        invalid("Update tuple marker (K, O or N)", 5)
    );
}

#[test]
fn a_delete_gives_the_old_key_or_row_and_needs_one() {
    let old = Row(vec![text("1"), Datum::Null]);
    for marker in [b'K', b'O'] {
        let message = Encoder::tag(b'D').u32(9).u8(marker).tuple(&old).build();
        assert_eq!(
            change(message),
            Change::Delete {
                relation: RelationId::new(9),
                old: old.clone(),
            }
        );
    }
    let new_only = Encoder::tag(b'D').u32(9).u8(b'N').tuple(&old).build();
    assert_eq!(decode(new_only), invalid("Delete tuple marker (K or O)", 5));
}

#[test]
fn a_truncate_lists_its_tables_and_says_whether_identities_restart() {
    let message = |options| {
        Encoder::tag(b'T')
            .i32(2)
            .u8(options)
            .u32(16_395)
            .u32(16_402)
            .build()
    };
    let relations = vec![RelationId::new(16_395), RelationId::new(16_402)];
    for (options, restart_identity) in [(0, false), (1, false), (2, true), (3, true)] {
        assert_eq!(
            change(message(options)),
            Change::Truncate {
                relations: relations.clone(),
                restart_identity,
            },
            "options {options}: CASCADE is already expanded into the list"
        );
    }
    assert_eq!(
        decode(message(4)),
        invalid("Truncate options (bits 1 and 2 only)", 5)
    );
    let negative = Encoder::tag(b'T').i32(-1).u8(0).build();
    assert_eq!(decode(negative), invalid("Truncate relation count", 1));
}

#[test]
fn origin_type_and_logical_messages_are_read_in_full_and_set_aside_by_name() {
    let origin = Encoder::tag(b'O').u64(0xAABBCC).string("rosetta").build();
    let type_ = Encoder::tag(b'Y')
        .u32(16_391)
        .string("public")
        .string("mood")
        .build();
    let message = Encoder::tag(b'M')
        .u8(1)
        .u64(0x199AE48)
        .string("rosetta")
        .i32(2)
        .bytes(b"hi")
        .build();
    for (bytes, name) in [(origin, "Origin"), (type_, "Type"), (message, "Message")] {
        assert_eq!(decode(bytes.clone()), Ok(Message::Ignored(name)));
        assert!(matches!(
            decode(bytes.slice(..bytes.len() - 1)),
            Err(DecodeError::Truncated { .. })
        ));
    }
}

#[test]
fn binary_values_and_unknown_column_kinds_are_refused_where_they_are() {
    let binary = Encoder::tag(b'I')
        .u32(7)
        .u8(b'N')
        .i16(2)
        .u8(b'n')
        .u8(b'b')
        .i32(1)
        .u8(1)
        .build();
    assert_eq!(decode(binary), Err(DecodeError::BinaryValue { at: 9 }));
    let unknown = Encoder::tag(b'I').u32(7).u8(b'N').i16(1).u8(b'x').build();
    assert_eq!(
        decode(unknown),
        invalid("TupleData column kind (n, u or t)", 8)
    );
}

#[test]
fn unknown_tags_empty_messages_and_trailing_bytes_are_errors() {
    assert_eq!(
        decode(Bytes::from_static(b"S")),
        Err(DecodeError::UnknownTag(b'S'))
    );
    assert_eq!(
        DecodeError::UnknownTag(0).to_string(),
        "unknown pgoutput message tag '\\x00' (protocol version 1 knows B, C, O, R, Y, I, U, D, T and M)"
    );
    assert_eq!(
        decode(Bytes::new()),
        Err(DecodeError::Truncated {
            what: "message tag",
            at: 0
        })
    );
    let truncate = StreamEvent::Change(Change::Truncate {
        relations: vec![RelationId::new(1)],
        restart_identity: false,
    });
    let mut long = encode(&truncate).to_vec();
    long.extend_from_slice(b"xy");
    assert_eq!(
        decode(Bytes::from(long)),
        Err(DecodeError::TrailingBytes {
            message: "Truncate",
            at: 10,
            left: 2
        })
    );
}

#[test]
fn counts_larger_than_the_message_end_in_a_truncation_not_a_huge_reservation() {
    let columns = Encoder::tag(b'I').u32(7).u8(b'N').i16(i16::MAX).build();
    assert_eq!(
        decode(columns),
        Err(DecodeError::Truncated {
            what: "TupleData column kind",
            at: 8
        })
    );
    let relations = Encoder::tag(b'T').i32(i32::MAX).u8(0).u32(1).build();
    assert_eq!(
        decode(relations),
        Err(DecodeError::Truncated {
            what: "Truncate relation id",
            at: 10
        })
    );
    let value = Encoder::tag(b'I')
        .u32(7)
        .u8(b'N')
        .i16(1)
        .u8(b't')
        .i32(i32::MAX)
        .build();
    assert_eq!(
        decode(value),
        Err(DecodeError::Truncated {
            what: "TupleData value",
            at: 13
        })
    );
}
