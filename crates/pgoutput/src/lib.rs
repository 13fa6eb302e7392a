//! A decoder of PostgreSQL's `pgoutput` logical replication messages, protocol version 1, into
//! the domain's [`StreamEvent`]s.
//!
//! [`decode`] takes one message, the payload of one `XLogData` of a replication stream (or one
//! `data` row of `pg_logical_slot_get_binary_changes`), and returns what it says: a transaction's
//! Begin or Commit, a table's Relation, or a row change. It keeps no state: the stream adapter
//! pairs each change with the latest Relation of its table. Column values stay slices of the
//! message ([`bytes::Bytes::slice`]): decoding a row allocates its `Vec` of values and copies no
//! value. The input comes from the network, so no input makes it panic or loop, and no count in
//! it makes it reserve more memory than the message's own bytes could fill.
//!
//! ```
//! use bytes::Bytes;
//! use rosetta_domain::replication::StreamEvent;
//! use rosetta_pgoutput::{decode, Message};
//!
//! let mut begin = vec![b'B'];
//! begin.extend_from_slice(&0x16_B374_D848_u64.to_be_bytes()); // the commit record's LSN
//! begin.extend_from_slice(&1_000_000_i64.to_be_bytes()); // 2000-01-01 00:00:01 UTC
//! begin.extend_from_slice(&731_u32.to_be_bytes()); // the transaction id
//!
//! let Message::Event(StreamEvent::Begin { final_lsn, commit_time, xid }) =
//!     decode(Bytes::from(begin))?
//! else {
//!     panic!("a Begin message decodes to a Begin event");
//! };
//! assert_eq!(final_lsn.to_string(), "16/B374D848");
//! assert_eq!(commit_time.to_rfc3339(), "2000-01-01T00:00:01+00:00");
//! assert_eq!(xid, 731);
//! # Ok::<(), rosetta_pgoutput::DecodeError>(())
//! ```

mod decode;
mod error;
mod reader;

#[cfg(test)]
mod tests;

use bytes::Bytes;
use rosetta_domain::replication::StreamEvent;

pub use error::DecodeError;

/// What one pgoutput message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// Begin, Commit, Relation, row changes and Truncate, as the domain names them.
    Event(StreamEvent),
    /// A message Rosetta has no use for, named: `"Origin"` (where a replicated transaction
    /// came from), `"Type"` (a non-built-in type's name, before the Relation that uses it) or
    /// `"Message"` (a logical decoding message, sent only when asked for).
    Ignored(&'static str),
}

/// Decodes one pgoutput (protocol version 1) message: the payload of an XLogData message.
///
/// Begin, Commit, Relation, Insert, Update, Delete and Truncate become the domain's
/// [`StreamEvent`]s; Origin, Type and Message are read in full and set aside as
/// [`Message::Ignored`].
///
/// # Errors
///
/// [`DecodeError`] when the message is not one protocol version 1 sends: an unknown tag, a field
/// cut short, a value out of its range, a column value in binary form, or bytes left over after
/// the message is complete.
pub fn decode(message: Bytes) -> Result<Message, DecodeError> {
    decode::message(reader::Reader::new(message))
}
