//! The seam to the pgoutput decoder (`rosetta-pgoutput`): the messages the stream passes on.

use bytes::Bytes;
use rosetta_domain::replication::StreamEvent;
use rosetta_pgoutput::Message;

/// Decodes one pgoutput message: `None` for the messages the stream skips (origins, types,
/// logical decoding messages).
///
/// # Errors
///
/// What is wrong with the message.
pub(crate) fn decode(message: Bytes) -> Result<Option<StreamEvent>, String> {
    match rosetta_pgoutput::decode(message) {
        Ok(Message::Event(event)) => Ok(Some(event)),
        Ok(Message::Ignored(_)) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}
