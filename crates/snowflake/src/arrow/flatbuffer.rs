//! A reader of the flatbuffers that messages' metadata is written in: tables through their
//! vtables, vectors, strings and unions, every position checked against the message.
use super::ArrowError;

/// One message's metadata, and where it starts in the stream (for error positions).
#[derive(Clone, Copy)]
pub(super) struct Metadata<'a> {
    bytes: &'a [u8],
    base: usize,
}

/// A table: its position and its vtable's.
#[derive(Clone, Copy)]
pub(super) struct Table<'a> {
    metadata: Metadata<'a>,
    at: usize,
    vtable: usize,
    slots: usize,
}

/// A vector of offsets to tables, or of 16-byte structs of two `long`s.
#[derive(Clone, Copy)]
pub(super) struct Vector<'a> {
    metadata: Metadata<'a>,
    start: usize,
    len: usize,
    element: usize,
}

impl<'a> Metadata<'a> {
    /// The metadata `bytes`, found at byte `base` of the stream.
    pub(super) fn new(bytes: &'a [u8], base: usize) -> Self {
        Self { bytes, base }
    }

    /// The root table.
    pub(super) fn root(self) -> Result<Table<'a>, ArrowError> {
        self.table(self.follow(0)?)
    }

    fn array<const N: usize>(self, at: usize) -> Result<[u8; N], ArrowError> {
        at.checked_add(N)
            .and_then(|end| self.bytes.get(at..end))
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(ArrowError::Truncated {
                what: "a metadata value",
                at: self.base.saturating_add(at),
            })
    }

    fn u16(self, at: usize) -> Result<u16, ArrowError> {
        self.array(at).map(u16::from_le_bytes)
    }

    fn u32(self, at: usize) -> Result<u32, ArrowError> {
        self.array(at).map(u32::from_le_bytes)
    }

    fn i64(self, at: usize) -> Result<i64, ArrowError> {
        self.array(at).map(i64::from_le_bytes)
    }

    /// Where the unsigned offset stored at `at` points.
    fn follow(self, at: usize) -> Result<usize, ArrowError> {
        usize::try_from(self.u32(at)?)
            .ok()
            .and_then(|offset| at.checked_add(offset))
            .ok_or_else(|| self.malformed("an offset", at))
    }

    fn table(self, at: usize) -> Result<Table<'a>, ArrowError> {
        let back = self.array(at).map(i32::from_le_bytes)?;
        let vtable = i64::try_from(at)
            .ok()
            .and_then(|at| at.checked_sub(i64::from(back)))
            .and_then(|vtable| usize::try_from(vtable).ok())
            .ok_or_else(|| self.malformed("a table's vtable", at))?;
        let size = usize::from(self.u16(vtable)?);
        if size < 4 || size % 2 != 0 {
            return Err(self.malformed("a vtable's size", vtable));
        }
        self.array::<2>(vtable + size - 2)?;
        Ok(Table {
            metadata: self,
            at,
            vtable,
            slots: (size - 4) / 2,
        })
    }

    fn malformed(self, what: &str, at: usize) -> ArrowError {
        ArrowError::Malformed(format!(
            "{what} at byte {} is invalid",
            self.base.saturating_add(at)
        ))
    }
}

impl<'a> Table<'a> {
    /// Where field `index` is stored; `None` when absent (its default applies).
    fn field(self, index: usize) -> Result<Option<usize>, ArrowError> {
        if index >= self.slots {
            return Ok(None);
        }
        let offset = self.metadata.u16(self.vtable + 4 + 2 * index)?;
        Ok((offset != 0).then(|| self.at + usize::from(offset)))
    }

    /// A `ubyte` field (a union's type, an enum of one byte).
    pub(super) fn u8(self, index: usize, default: u8) -> Result<u8, ArrowError> {
        match self.field(index)? {
            Some(at) => self.metadata.array(at).map(u8::from_le_bytes),
            None => Ok(default),
        }
    }

    /// A `bool` field.
    pub(super) fn bool(self, index: usize, default: bool) -> Result<bool, ArrowError> {
        Ok(self.u8(index, u8::from(default))? != 0)
    }

    /// A `short` field (an enum of two bytes).
    pub(super) fn i16(self, index: usize, default: i16) -> Result<i16, ArrowError> {
        match self.field(index)? {
            Some(at) => self.metadata.array(at).map(i16::from_le_bytes),
            None => Ok(default),
        }
    }

    /// An `int` field.
    pub(super) fn i32(self, index: usize, default: i32) -> Result<i32, ArrowError> {
        match self.field(index)? {
            Some(at) => self.metadata.array(at).map(i32::from_le_bytes),
            None => Ok(default),
        }
    }

    /// A `long` field.
    pub(super) fn i64(self, index: usize, default: i64) -> Result<i64, ArrowError> {
        match self.field(index)? {
            Some(at) => self.metadata.i64(at),
            None => Ok(default),
        }
    }

    /// A table field, or a union's value.
    pub(super) fn table(self, index: usize) -> Result<Option<Table<'a>>, ArrowError> {
        match self.field(index)? {
            Some(at) => self.metadata.table(self.metadata.follow(at)?).map(Some),
            None => Ok(None),
        }
    }

    /// A string field.
    pub(super) fn string(self, index: usize) -> Result<Option<&'a str>, ArrowError> {
        if self.field(index)?.is_none() {
            return Ok(None);
        }
        let vector = self.vector(index, 1)?;
        let bytes = vector
            .metadata
            .bytes
            .get(vector.start..vector.start + vector.len)
            .unwrap_or_default();
        std::str::from_utf8(bytes)
            .map(Some)
            .map_err(|_| vector.metadata.malformed("a string", vector.start))
    }

    /// A vector field of elements of `element` bytes, empty when absent.
    pub(super) fn vector(self, index: usize, element: usize) -> Result<Vector<'a>, ArrowError> {
        let metadata = self.metadata;
        let empty = Vector {
            metadata,
            start: 0,
            len: 0,
            element,
        };
        let Some(at) = self.field(index)? else {
            return Ok(empty);
        };
        let at = metadata.follow(at)?;
        let len =
            usize::try_from(metadata.u32(at)?).map_err(|_| metadata.malformed("a vector", at))?;
        let start = at + 4;
        let end = len
            .checked_mul(element)
            .and_then(|size| start.checked_add(size));
        if end.is_none_or(|end| end > metadata.bytes.len()) {
            return Err(ArrowError::Truncated {
                what: "a vector",
                at: metadata.base.saturating_add(at),
            });
        }
        Ok(Vector {
            metadata,
            start,
            len,
            element,
        })
    }
}

impl<'a> Vector<'a> {
    /// How many elements it holds.
    pub(super) fn len(self) -> usize {
        self.len
    }

    /// Element `index` of a vector of tables.
    pub(super) fn table(self, index: usize) -> Result<Table<'a>, ArrowError> {
        let at = self.element_at(index)?;
        self.metadata.table(self.metadata.follow(at)?)
    }

    /// Element `index` of a vector of structs of two `long`s (`FieldNode`, `Buffer`).
    pub(super) fn pair(self, index: usize) -> Result<(i64, i64), ArrowError> {
        let at = self.element_at(index)?;
        Ok((self.metadata.i64(at)?, self.metadata.i64(at + 8)?))
    }

    fn element_at(self, index: usize) -> Result<usize, ArrowError> {
        if index >= self.len {
            return Err(self.metadata.malformed("a vector index", self.start));
        }
        Ok(self.start + index * self.element)
    }
}
