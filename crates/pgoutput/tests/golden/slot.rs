//! The slot's side of the golden test: every message it holds, decoded and grouped by
//! transaction, with the framing (Begin, Commit, xids) checked on the way.

use bytes::Bytes;
use chrono::{DateTime, Utc};
use rosetta_domain::replication::{Lsn, StreamEvent};
use rosetta_pgoutput::{decode, Message};
use tokio_postgres::Client;

/// One source transaction as the slot gave it.
pub struct Transaction {
    /// Its transaction id.
    pub xid: u32,
    /// What its Begin says: the commit's LSN and time.
    pub begin: (Lsn, DateTime<Utc>),
    /// What its Commit says: the commit's LSN, its end and its time.
    pub commit: (Lsn, Lsn, DateTime<Utc>),
    /// The `lsn` column of the Commit's row.
    pub commit_row_lsn: Lsn,
    /// Everything between Begin and Commit.
    pub body: Vec<Message>,
}

/// Reads (and consumes) every message the slot holds, grouped by transaction.
pub async fn transactions(db: &Client, name: &str) -> Vec<Transaction> {
    let rows = db
        .query(
            &format!(
                "SELECT lsn::text, xid::text, data FROM pg_logical_slot_get_binary_changes(\
                 '{name}', NULL, NULL, 'proto_version', '1', 'publication_names', '{name}', \
                 'messages', 'true')"
            ),
            &[],
        )
        .await
        .unwrap();
    let mut done = Vec::new();
    let mut open: Option<Transaction> = None;
    for row in rows {
        let lsn: Lsn = row.get::<_, &str>(0).parse().unwrap();
        let xid: u32 = row.get::<_, &str>(1).parse().unwrap();
        let message = decode(Bytes::from(row.get::<_, Vec<u8>>(2)))
            .unwrap_or_else(|e| panic!("the message at {lsn} does not decode: {e}"));
        match message {
            Message::Event(StreamEvent::Begin {
                final_lsn,
                commit_time,
                xid: begin_xid,
            }) => {
                assert!(open.is_none(), "a Begin inside a transaction at {lsn}");
                assert_eq!(begin_xid, xid, "the Begin's xid is its transaction's");
                open = Some(Transaction {
                    xid,
                    begin: (final_lsn, commit_time),
                    commit: (Lsn::ZERO, Lsn::ZERO, commit_time),
                    commit_row_lsn: Lsn::ZERO,
                    body: Vec::new(),
                });
            }
            Message::Event(StreamEvent::Commit {
                commit_lsn,
                end_lsn,
                commit_time,
            }) => {
                let mut transaction = open.take().expect("a Commit after a Begin");
                assert_eq!(transaction.xid, xid);
                transaction.commit = (commit_lsn, end_lsn, commit_time);
                transaction.commit_row_lsn = lsn;
                done.push(transaction);
            }
            other => {
                let transaction = open.as_mut().expect("every message inside a transaction");
                assert_eq!(transaction.xid, xid);
                transaction.body.push(other);
            }
        }
    }
    assert!(open.is_none(), "the last transaction is committed");
    done
}
