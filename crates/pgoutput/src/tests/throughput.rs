//! A one-off measurement of decode throughput, ignored by default: run it in release with
//! `cargo test --release -p rosetta-pgoutput -- --ignored --nocapture decode_throughput`.

use std::time::Instant;

use bytes::Bytes;
use rosetta_domain::replication::{Change, Datum, RelationId, Row, StreamEvent};

use super::encode::encode;
use crate::{decode, Message};

const MESSAGES: usize = 1_000_000;

/// An insert of 5 columns as a typical table sends it: an id, a short text, a number, a
/// timestamp and a NULL (about 70 bytes).
fn insert(i: usize) -> Bytes {
    let text = |value: String| Datum::Text(Bytes::from(value));
    encode(&StreamEvent::Change(Change::Insert {
        relation: RelationId::new(16_395),
        new: Row(vec![
            text(i.to_string()),
            text(format!("customer-{i}@example.com")),
            text(format!("{}.{:02}", i % 10_000, i % 100)),
            text("2026-07-23 10:00:00.123456+00".to_owned()),
            Datum::Null,
        ]),
    }))
}

#[test]
#[ignore = "a measurement, not a test: run it in release with --ignored --nocapture"]
fn decode_throughput() {
    let messages: Vec<Bytes> = (0..MESSAGES).map(insert).collect();
    let bytes: usize = messages.iter().map(Bytes::len).sum();
    let started = Instant::now();
    let mut values = 0;
    for message in messages {
        match decode(message) {
            Ok(Message::Event(StreamEvent::Change(Change::Insert { new, .. }))) => {
                values += new.0.len();
            }
            other => panic!("not an insert: {other:?}"),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(values, 5 * MESSAGES);
    println!(
        "decoded {MESSAGES} insert messages of 5 columns ({:.1} MB) in {seconds:.3} s: \
         {:.0} messages/s, {:.0} MB/s",
        bytes as f64 / 1e6,
        MESSAGES as f64 / seconds,
        bytes as f64 / 1e6 / seconds,
    );
}
