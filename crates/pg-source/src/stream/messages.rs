//! The CopyBoth sub-messages of streaming replication: XLogData and primary keepalives from the
//! server, standby status updates and CopyDone from the client.

use std::time::{SystemTime, UNIX_EPOCH};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use rosetta_domain::replication::Lsn;

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01 UTC).
const POSTGRES_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// What a CopyData message from the server carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ServerCopy {
    /// `w`: a piece of the decoded log, here a pgoutput message.
    XLogData {
        /// The end of the server's log as it sent this.
        wal_end: Lsn,
        /// The pgoutput message.
        data: Bytes,
    },
    /// `k`: where the server's log ends, and whether it wants an answer now.
    Keepalive {
        /// The end of the server's log.
        wal_end: Lsn,
        /// Whether the server asks for a status update at once.
        reply_requested: bool,
    },
}

/// Reads a CopyData body from the server.
///
/// # Errors
///
/// A description of what is wrong, for a `Protocol` error.
pub(crate) fn parse(mut body: Bytes) -> Result<ServerCopy, String> {
    match body.first() {
        // Byte1('w') Int64 dataStart Int64 walEnd Int64 sendTime Byte(n) data.
        Some(b'w') if body.len() >= 25 => {
            body.advance(9);
            let wal_end = Lsn::new(body.get_u64());
            body.advance(8);
            Ok(ServerCopy::XLogData {
                wal_end,
                data: body,
            })
        }
        // Byte1('k') Int64 walEnd Int64 sendTime Byte1 reply.
        Some(b'k') if body.len() >= 18 => {
            body.advance(1);
            let wal_end = Lsn::new(body.get_u64());
            body.advance(8);
            Ok(ServerCopy::Keepalive {
                wal_end,
                reply_requested: body.get_u8() != 0,
            })
        }
        Some(&tag) => Err(format!(
            "a replication message '{}' of {} bytes",
            char::from(tag),
            body.len()
        )),
        None => Err("an empty replication message".to_owned()),
    }
}

/// Writes a standby status update saying that everything before `confirmed` was written,
/// flushed and applied (for a logical slot only the flush position counts: it becomes the
/// slot's `confirmed_flush_lsn`).
pub(crate) fn status_update(confirmed: Lsn, out: &mut BytesMut) {
    out.reserve(39);
    out.put_u8(b'd');
    out.put_i32(4 + 34);
    out.put_u8(b'r');
    out.put_u64(confirmed.get());
    out.put_u64(confirmed.get());
    out.put_u64(confirmed.get());
    out.put_i64(postgres_clock());
    // No reply requested: the server's keepalives come on their own.
    out.put_u8(0);
}

/// Writes CopyDone: the client ends the stream.
pub(crate) fn copy_done(out: &mut BytesMut) {
    out.put_u8(b'c');
    out.put_i32(4);
}

/// Now, in microseconds since 2000-01-01 UTC, as status updates carry it.
fn postgres_clock() -> i64 {
    let unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
        .unwrap_or_default();
    unix - POSTGRES_EPOCH_MICROS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xlogdata_yields_its_payload_and_keepalives_their_position() {
        let mut w = BytesMut::new();
        w.put_u8(b'w');
        w.put_u64(1);
        w.put_u64(2);
        w.put_i64(3);
        w.extend_from_slice(b"Bpayload");
        assert_eq!(
            parse(w.freeze()),
            Ok(ServerCopy::XLogData {
                wal_end: Lsn::new(2),
                data: Bytes::from_static(b"Bpayload")
            })
        );
        let mut k = BytesMut::new();
        k.put_u8(b'k');
        k.put_u64(0x16_B374_D848);
        k.put_i64(0);
        k.put_u8(1);
        assert_eq!(
            parse(k.freeze()),
            Ok(ServerCopy::Keepalive {
                wal_end: Lsn::new(0x16_B374_D848),
                reply_requested: true
            })
        );
        assert!(parse(Bytes::from_static(b"k\0\0")).is_err());
        assert!(parse(Bytes::from_static(b"x")).is_err());
        assert!(parse(Bytes::new()).is_err());
    }

    #[test]
    fn a_status_update_reports_the_position_three_times() {
        let mut out = BytesMut::new();
        status_update(Lsn::new(0x0102_0304_0506_0708), &mut out);
        assert_eq!(out.len(), 39);
        assert_eq!(&out[..6], b"d\0\0\0\x26r");
        for field in 0..3 {
            let at = 6 + field * 8;
            assert_eq!(&out[at..at + 8], &[1, 2, 3, 4, 5, 6, 7, 8]);
        }
        assert!(i64::from_be_bytes(out[30..38].try_into().unwrap()) > 0);
        assert_eq!(out[38], 0);
    }
}
