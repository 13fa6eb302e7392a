//! A cursor over one message: big-endian integers, NUL-terminated strings and zero-copy slices,
//! each read checked against the bytes left, so that no input can make it panic.

use bytes::Bytes;

use crate::DecodeError;

/// Reads the fields of one message in order.
pub(crate) struct Reader {
    message: Bytes,
    at: usize,
}

impl Reader {
    /// A cursor on the first byte of `message`.
    pub(crate) fn new(message: Bytes) -> Self {
        Self { message, at: 0 }
    }

    /// Where the next field starts.
    pub(crate) fn position(&self) -> usize {
        self.at
    }

    /// How many bytes are left.
    pub(crate) fn left(&self) -> usize {
        self.message.len() - self.at
    }

    /// The next `N` bytes.
    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DecodeError> {
        let at = self.at;
        let bytes = self
            .message
            .get(at..)
            .and_then(|rest| rest.first_chunk::<N>())
            .ok_or(DecodeError::Truncated { what, at })?;
        self.at += N;
        Ok(*bytes)
    }

    /// An `Int8` or `Byte1`.
    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        self.array::<1>(what).map(|[byte]| byte)
    }

    /// An `Int16` that counts something: negative counts are invalid.
    pub(crate) fn count16(&mut self, what: &'static str) -> Result<usize, DecodeError> {
        let at = self.at;
        let count = i16::from_be_bytes(self.array(what)?);
        usize::try_from(count).map_err(|_| DecodeError::Invalid { what, at })
    }

    /// An `Int32` that counts something (or a length): negative counts are invalid.
    pub(crate) fn count32(&mut self, what: &'static str) -> Result<usize, DecodeError> {
        let at = self.at;
        let count = i32::from_be_bytes(self.array(what)?);
        usize::try_from(count).map_err(|_| DecodeError::Invalid { what, at })
    }

    /// An `Int32` read as unsigned (object ids, transaction ids).
    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        self.array(what).map(u32::from_be_bytes)
    }

    /// An `Int32` read as signed (type modifiers).
    pub(crate) fn i32(&mut self, what: &'static str) -> Result<i32, DecodeError> {
        self.array(what).map(i32::from_be_bytes)
    }

    /// An `Int64` read as unsigned (LSNs).
    pub(crate) fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        self.array(what).map(u64::from_be_bytes)
    }

    /// An `Int64` read as signed (timestamps).
    pub(crate) fn i64(&mut self, what: &'static str) -> Result<i64, DecodeError> {
        self.array(what).map(i64::from_be_bytes)
    }

    /// The next `len` bytes, as a slice of the message (no copy).
    pub(crate) fn slice(&mut self, len: usize, what: &'static str) -> Result<Bytes, DecodeError> {
        let at = self.at;
        if len > self.left() {
            return Err(DecodeError::Truncated { what, at });
        }
        self.at += len;
        Ok(self.message.slice(at..self.at))
    }

    /// A `String`: UTF-8 bytes up to a NUL, which is consumed and left out. Names (schemas,
    /// tables, columns) are copied out: they come with Relation messages, which are rare.
    pub(crate) fn string(&mut self, what: &'static str) -> Result<String, DecodeError> {
        let at = self.at;
        let rest = self.message.get(at..).unwrap_or_default();
        let len = rest
            .iter()
            .position(|&byte| byte == 0)
            .ok_or(DecodeError::Truncated { what, at })?;
        let text =
            std::str::from_utf8(&rest[..len]).map_err(|_| DecodeError::Invalid { what, at })?;
        self.at += len + 1;
        Ok(text.to_owned())
    }

    /// Ends the message: anything left after a complete `message` is an error.
    pub(crate) fn finish(self, message: &'static str) -> Result<(), DecodeError> {
        match self.left() {
            0 => Ok(()),
            left => Err(DecodeError::TrailingBytes {
                message,
                at: self.at,
                left,
            }),
        }
    }

    /// How many of `count` items to reserve room for when each takes at least `min_size`
    /// bytes of what is left: a count read from the network never reserves more memory than
    /// the message's own bytes could fill.
    pub(crate) fn capacity(&self, count: usize, min_size: usize) -> usize {
        capacity(count, self.left(), min_size)
    }
}

/// `count`, capped by how many items of at least `min_size` bytes fit in `left` bytes.
pub(crate) fn capacity(count: usize, left: usize, min_size: usize) -> usize {
    count.min(left / min_size.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_room_never_exceeds_what_the_bytes_left_can_fill() {
        assert_eq!(capacity(32_767, 3, 1), 3);
        assert_eq!(capacity(usize::MAX, 40, 10), 4);
        assert_eq!(capacity(2, 1_000, 4), 2);
        assert_eq!(capacity(5, 0, 0), 0);
    }

    #[test]
    fn every_read_past_the_end_is_a_truncation_at_the_fields_start() {
        let mut reader = Reader::new(Bytes::from_static(&[1, 2, 3]));
        assert_eq!(reader.u8("tag"), Ok(1));
        assert_eq!(
            reader.u32("relation id"),
            Err(DecodeError::Truncated {
                what: "relation id",
                at: 1
            })
        );
        assert_eq!(reader.position(), 1, "a failed read consumes nothing");
        assert_eq!(
            reader.string("name"),
            Err(DecodeError::Truncated {
                what: "name",
                at: 1
            })
        );
        assert!(reader.slice(3, "value").is_err());
        assert_eq!(
            reader.slice(2, "value").unwrap(),
            Bytes::from_static(&[2, 3])
        );
        assert!(reader.finish("test").is_ok());
    }

    #[test]
    fn negative_counts_and_names_that_are_not_utf8_are_invalid() {
        let mut reader = Reader::new(Bytes::from_static(&[0xFF, 0xFF, 0xC3, 0x28, 0]));
        assert_eq!(
            reader.count16("column count"),
            Err(DecodeError::Invalid {
                what: "column count",
                at: 0
            })
        );
        assert_eq!(
            reader.string("name"),
            Err(DecodeError::Invalid {
                what: "name",
                at: 2
            })
        );
    }
}
