//! Why a pgoutput message could not be decoded: what was being read, and at which byte.

/// Why a pgoutput message could not be decoded. Every variant says what was being read and at
/// which byte of the message (counted from its tag, byte 0), so that a bad message from a server
/// can be told apart from a bug here; the stream adapter adds the host and the slot.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum DecodeError {
    /// The message ends before the field `what` that starts at byte `at` does.
    #[error("the pgoutput message ends inside its {what} (which starts at byte {at})")]
    Truncated {
        /// The field being read.
        what: &'static str,
        /// Where it starts.
        at: usize,
    },
    /// The message's first byte names no message of protocol version 1.
    #[error(
        "unknown pgoutput message tag '{}' (protocol version 1 knows B, C, O, R, Y, I, U, D, T and M)",
        .0.escape_ascii()
    )]
    UnknownTag(u8),
    /// The field `what` at byte `at` holds a value protocol version 1 never sends (a negative
    /// count, an unknown code or flag, a name that is not UTF-8, a time out of range).
    #[error("invalid {what} at byte {at} of the pgoutput message")]
    Invalid {
        /// The field, and what it may hold.
        what: &'static str,
        /// Where it starts.
        at: usize,
    },
    /// A column value in binary form (`'b'`) at byte `at`: Rosetta never asks for binary
    /// mode, so the server was asked for something else than this decoder reads.
    #[error(
        "a column value in binary form at byte {at} of the pgoutput message: the replication \
         stream must be started without the 'binary' option"
    )]
    BinaryValue {
        /// Where the column's kind byte is.
        at: usize,
    },
    /// A complete `message` is followed by more bytes, from byte `at` on.
    #[error("{left} unexpected bytes after a complete pgoutput {message} message, from byte {at}")]
    TrailingBytes {
        /// The kind of message that was complete.
        message: &'static str,
        /// Where the unexpected bytes start.
        at: usize,
        /// How many there are.
        left: usize,
    },
}
