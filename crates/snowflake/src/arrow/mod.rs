//! A reader of the Arrow IPC streaming format, in which Snowflake (and its emulator) send a
//! query's result (`rowsetBase64`): a schema, then record batches of flat columns, read here
//! into rows of text.
//!
//! Written from the Arrow specification ("Serialization and Interprocess Communication") rather
//! than with the `arrow` crates: Rosetta reads small results of a few flat types, which a few
//! hundred lines cover, against a large dependency tree. Every offset and length read from the
//! input is checked, so malformed input is an error, never a panic.
//!
//! Values are written as Snowflake's JSON rowset writes them, so a caller sees the same text
//! whichever format Snowflake chose: a decimal, or an integer with a `scale` in its field's
//! metadata (Snowflake's `FIXED`, also its `TIME` and `TIMESTAMP` when sent as integers), has
//! exactly `scale` fraction digits (`12.34`, `-0.050`); booleans are `true` and `false`; floats
//! are the shortest text that reads back as the same value; binary values are uppercase hex.

use flatbuffer::{Metadata, Table};

/// The rows of a result: each value as text, `None` for NULL.
pub(crate) type Rows = Vec<Vec<Option<String>>>;

/// Why an Arrow stream cannot be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ArrowError {
    /// The input ends inside a message, or an offset points past the end of its message.
    #[error("truncated Arrow stream: {what} at byte {at} runs past the end of the data")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Where it starts, counted from the start of the stream.
        at: usize,
    },
    /// The input is not a valid Arrow stream.
    #[error("malformed Arrow stream: {0}")]
    Malformed(String),
    /// A column's type is not one this reader turns into text.
    #[error("unsupported column type {kind} (column {column:?}): select it cast to VARCHAR")]
    UnsupportedType {
        /// The column's name.
        column: String,
        /// Its Arrow type, and its Snowflake type when the field's metadata names it.
        kind: String,
    },
    /// The stream uses a feature this reader does not implement.
    #[error("unsupported Arrow stream: {0}")]
    Unsupported(String),
}

/// The marker before each message's length since Arrow 0.15 (absent in the legacy format).
const CONTINUATION: u32 = 0xFFFF_FFFF;
/// `MessageHeader` union members.
const SCHEMA: u8 = 1;
const DICTIONARY_BATCH: u8 = 2;
const RECORD_BATCH: u8 = 3;
/// `MetadataVersion.V4`, the oldest this reader knows (Arrow 0.8, 2017).
const V4: i16 = 3;
/// The largest scale accepted: Snowflake's and `Decimal128`'s largest precision.
const MAX_SCALE: i32 = 38;

/// Reads an Arrow IPC stream, with or without continuation markers, into rows.
///
/// # Errors
///
/// `Truncated` or `Malformed` when the bytes are not a whole, valid stream; `UnsupportedType`
/// for a column that is not text, binary, integer, decimal (up to 128 bits), boolean or a
/// single or double float; `Unsupported` for compression, dictionaries and big-endian data.
pub(crate) fn read_rows(ipc: &[u8]) -> Result<Rows, ArrowError> {
    let mut messages = Messages { ipc, at: 0 };
    let columns = match messages.next()? {
        Some(message) if message.kind == SCHEMA => schema(message.header)?,
        Some(message) => {
            return Err(ArrowError::Malformed(format!(
                "the stream starts with message type {}, not a schema",
                message.kind
            )))
        }
        None => {
            return Err(ArrowError::Malformed(
                "the stream ends before its schema".to_owned(),
            ))
        }
    };
    let mut rows = Vec::new();
    while let Some(message) = messages.next()? {
        match message.kind {
            RECORD_BATCH => record_batch(&message, &columns, &mut rows)?,
            DICTIONARY_BATCH => {
                return Err(ArrowError::Unsupported("dictionary batches".to_owned()))
            }
            other => {
                return Err(ArrowError::Malformed(format!(
                    "message type {other} after the schema"
                )))
            }
        }
    }
    Ok(rows)
}

/// One message: its header (a table of the union member `kind`) and its body.
struct Message<'a> {
    kind: u8,
    header: Table<'a>,
    body: &'a [u8],
}

/// The messages of a stream, read one at a time.
struct Messages<'a> {
    ipc: &'a [u8],
    at: usize,
}

impl<'a> Messages<'a> {
    /// The next message; `None` at the end-of-stream marker or at the end of the input.
    fn next(&mut self) -> Result<Option<Message<'a>>, ArrowError> {
        if self.at == self.ipc.len() {
            return Ok(None);
        }
        let mut length = u32::from_le_bytes(self.array("a message length")?);
        if length == CONTINUATION {
            length = u32::from_le_bytes(self.array("a message length")?);
        }
        if length == 0 {
            return Ok(None);
        }
        let length = i32::try_from(length)
            .ok()
            .and_then(|length| usize::try_from(length).ok())
            .ok_or_else(|| ArrowError::Malformed(format!("a negative message length {length}")))?;
        let metadata_at = self.at;
        let message = Metadata::new(self.take(length, "a message")?, metadata_at).root()?;
        let version = message.i16(0, 0)?;
        if version < V4 {
            return Err(ArrowError::Unsupported(format!(
                "metadata version V{}",
                i32::from(version) + 1
            )));
        }
        let kind = message.u8(1, 0)?;
        let header = message
            .table(2)?
            .ok_or_else(|| ArrowError::Malformed("a message without a header".to_owned()))?;
        let body_length = size(message.i64(3, 0)?, "a message's body length")?;
        let body = self.take(body_length, "a message body")?;
        Ok(Some(Message { kind, header, body }))
    }

    fn take(&mut self, length: usize, what: &'static str) -> Result<&'a [u8], ArrowError> {
        let bytes = self
            .at
            .checked_add(length)
            .and_then(|end| self.ipc.get(self.at..end))
            .ok_or(ArrowError::Truncated { what, at: self.at })?;
        self.at += length;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], ArrowError> {
        let at = self.at;
        self.take(N, what)?
            .try_into()
            .map_err(|_| ArrowError::Truncated { what, at })
    }
}

/// A column's name and how its values are laid out.
struct Column {
    name: String,
    layout: Layout,
}

/// The layouts of the column types this reader turns into text.
#[derive(Clone, Copy)]
enum Layout {
    /// UTF-8 text (`Utf8`, or `LargeUtf8` with 64-bit offsets).
    Text { large: bool },
    /// Bytes (`Binary`, or `LargeBinary` with 64-bit offsets), shown as uppercase hex.
    Binary { large: bool },
    /// Little-endian integers of `width` bytes (`Int`, and `Decimal` with its scale).
    Fixed {
        width: usize,
        signed: bool,
        scale: i32,
    },
    /// IEEE 754 floats of `width` (4 or 8) bytes.
    Float { width: usize },
    /// One bit a value.
    Bool,
}

/// The `Type` union's members, by number, to name an unsupported one.
const TYPE_NAMES: [&str; 27] = [
    "NONE",
    "Null",
    "Int",
    "FloatingPoint",
    "Binary",
    "Utf8",
    "Bool",
    "Decimal",
    "Date",
    "Time",
    "Timestamp",
    "Interval",
    "List",
    "Struct",
    "Union",
    "FixedSizeBinary",
    "FixedSizeList",
    "Map",
    "Duration",
    "LargeBinary",
    "LargeUtf8",
    "LargeList",
    "RunEndEncoded",
    "BinaryView",
    "Utf8View",
    "ListView",
    "LargeListView",
];

/// The columns a `Schema` message declares.
fn schema(schema: Table<'_>) -> Result<Vec<Column>, ArrowError> {
    if schema.i16(0, 0)? != 0 {
        return Err(ArrowError::Unsupported("big-endian data".to_owned()));
    }
    let fields = schema.vector(1, 4)?;
    if fields.len() == 0 {
        return Err(ArrowError::Malformed("a schema without columns".to_owned()));
    }
    (0..fields.len())
        .map(|index| column(fields.table(index)?))
        .collect()
}

/// One `Field` of the schema.
fn column(field: Table<'_>) -> Result<Column, ArrowError> {
    let name = field.string(0)?.unwrap_or_default().to_owned();
    let kind = field.u8(2, 0)?;
    let arrow_type = field.table(3)?;
    let metadata = |wanted: &str| -> Result<Option<&str>, ArrowError> {
        let pairs = field.vector(6, 4)?;
        for index in 0..pairs.len() {
            let pair = pairs.table(index)?;
            if pair.string(0)? == Some(wanted) {
                return pair.string(1);
            }
        }
        Ok(None)
    };
    let unsupported = |arrow: &str| -> Result<Column, ArrowError> {
        let kind = match metadata("logicalType")? {
            Some(snowflake) => format!("{arrow} (Snowflake {snowflake})"),
            None => arrow.to_owned(),
        };
        Err(ArrowError::UnsupportedType {
            column: name.clone(),
            kind,
        })
    };
    if field.table(4)?.is_some() {
        return unsupported("dictionary-encoded");
    }
    let parameters = || {
        arrow_type
            .ok_or_else(|| ArrowError::Malformed(format!("column {name:?} has no type parameters")))
    };
    let malformed = |what: String| Err(ArrowError::Malformed(format!("column {name:?}: {what}")));
    let layout = match kind {
        5 => Layout::Text { large: false },
        20 => Layout::Text { large: true },
        4 => Layout::Binary { large: false },
        19 => Layout::Binary { large: true },
        6 => Layout::Bool,
        2 => {
            let int = parameters()?;
            let bits = int.i32(0, 0)?;
            let scale = match metadata("scale")? {
                None => 0,
                Some(scale) => match scale.parse() {
                    Ok(scale) => scale,
                    Err(_) => return malformed(format!("the scale {scale:?} is not a number")),
                },
            };
            let width = match bits {
                8 => 1,
                16 => 2,
                32 => 4,
                64 => 8,
                _ => return malformed(format!("an integer of {bits} bits")),
            };
            Layout::Fixed {
                width,
                signed: int.bool(1, false)?,
                scale,
            }
        }
        3 => match parameters()?.i16(0, 0)? {
            0 => return unsupported("FloatingPoint HALF"),
            1 => Layout::Float { width: 4 },
            2 => Layout::Float { width: 8 },
            other => return malformed(format!("a float of precision {other}")),
        },
        7 => {
            let decimal = parameters()?;
            let scale = decimal.i32(1, 0)?;
            let width = match decimal.i32(2, 128)? {
                32 => 4,
                64 => 8,
                128 => 16,
                256 => return unsupported("Decimal256"),
                bits => return malformed(format!("a decimal of {bits} bits")),
            };
            Layout::Fixed {
                width,
                signed: true,
                scale,
            }
        }
        other => {
            let kind = TYPE_NAMES
                .get(usize::from(other))
                .map_or_else(|| format!("#{other}"), |name| (*name).to_owned());
            return unsupported(&kind);
        }
    };
    if let Layout::Fixed { scale, .. } = layout {
        if !(-MAX_SCALE..=MAX_SCALE).contains(&scale) {
            return malformed(format!("the scale {scale} is out of range"));
        }
    }
    Ok(Column { name, layout })
}

/// Appends the rows of a `RecordBatch` message.
fn record_batch(
    message: &Message<'_>,
    columns: &[Column],
    rows: &mut Rows,
) -> Result<(), ArrowError> {
    let batch = message.header;
    if let Some(compression) = batch.table(3)? {
        let codec = match compression.u8(0, 0)? {
            0 => "LZ4_FRAME".to_owned(),
            1 => "ZSTD".to_owned(),
            other => format!("codec {other}"),
        };
        return Err(ArrowError::Unsupported(format!(
            "record batches compressed with {codec}"
        )));
    }
    let batch_length = batch.i64(0, 0)?;
    let length = size(batch_length, "a batch's length")?;
    let nodes = batch.vector(1, 16)?;
    if nodes.len() != columns.len() {
        return Err(ArrowError::Malformed(format!(
            "a record batch of {} columns for a schema of {}",
            nodes.len(),
            columns.len()
        )));
    }
    let mut buffers = Buffers {
        list: batch.vector(2, 16)?,
        next: 0,
        body: message.body,
    };
    let mut values = Vec::with_capacity(columns.len());
    for (index, column) in columns.iter().enumerate() {
        let (node_length, null_count) = nodes.pair(index)?;
        if node_length != batch_length {
            return Err(ArrowError::Malformed(format!(
                "column {:?} has {node_length} values in a batch of {length} rows",
                column.name
            )));
        }
        values.push(read_column(column, length, null_count, &mut buffers)?.into_iter());
    }
    rows.reserve(length);
    for _ in 0..length {
        rows.push(
            values
                .iter_mut()
                .map(|column| column.next().flatten())
                .collect(),
        );
    }
    Ok(())
}

/// A batch's buffers, handed out in order, cut from its message's body.
struct Buffers<'a> {
    list: flatbuffer::Vector<'a>,
    next: usize,
    body: &'a [u8],
}

impl<'a> Buffers<'a> {
    /// The next buffer, which must hold at least `needed` bytes.
    fn next(&mut self, column: &str, needed: usize) -> Result<&'a [u8], ArrowError> {
        let index = self.next;
        if index >= self.list.len() {
            return Err(ArrowError::Malformed(format!(
                "column {column:?} lacks a buffer: the batch has {}",
                self.list.len()
            )));
        }
        self.next += 1;
        let (offset, length) = self.list.pair(index)?;
        let start = size(offset, "a buffer's offset")?;
        let bytes = size(length, "a buffer's length")?
            .checked_add(start)
            .and_then(|end| self.body.get(start..end))
            .ok_or_else(|| {
                ArrowError::Malformed(format!(
                    "buffer {index} ({length} bytes at {offset}) lies outside its body of {} bytes",
                    self.body.len()
                ))
            })?;
        if bytes.len() < needed {
            return Err(ArrowError::Malformed(format!(
                "column {column:?} has a buffer of {} bytes where {needed} are needed",
                bytes.len()
            )));
        }
        Ok(bytes)
    }
}

/// The `length` values of one column, as text.
fn read_column(
    column: &Column,
    length: usize,
    null_count: i64,
    buffers: &mut Buffers<'_>,
) -> Result<Vec<Option<String>>, ArrowError> {
    let name = column.name.as_str();
    let bitmap = length.div_ceil(8);
    let validity = buffers.next(name, if null_count == 0 { 0 } else { bitmap })?;
    let valid = |row: usize| null_count == 0 || bit(validity, row);
    let too_long = || ArrowError::Malformed(format!("column {name:?} is too long"));
    let values = match column.layout {
        Layout::Fixed {
            width,
            signed,
            scale,
        } => {
            let data = buffers.next(name, length.checked_mul(width).ok_or_else(too_long)?)?;
            data.chunks_exact(width)
                .take(length)
                .enumerate()
                .map(|(row, bytes)| valid(row).then(|| scaled(integer(bytes, signed), scale)))
                .collect()
        }
        Layout::Float { width } => {
            let data = buffers.next(name, length.checked_mul(width).ok_or_else(too_long)?)?;
            data.chunks_exact(width)
                .take(length)
                .enumerate()
                .map(|(row, bytes)| valid(row).then(|| float(bytes)))
                .collect()
        }
        Layout::Bool => {
            let data = buffers.next(name, bitmap)?;
            (0..length)
                .map(|row| valid(row).then(|| bit(data, row).to_string()))
                .collect()
        }
        Layout::Text { large } | Layout::Binary { large } => {
            let width = if large { 8 } else { 4 };
            // `length + 1` offsets, which a writer may leave out for an empty column.
            let needed = match length {
                0 => Some(0),
                _ => length.checked_add(1).and_then(|n| n.checked_mul(width)),
            };
            let offsets = buffers.next(name, needed.ok_or_else(too_long)?)?;
            let data = buffers.next(name, 0)?;
            let offsets: Vec<i64> = offsets
                .chunks_exact(width)
                .take(length.saturating_add(1))
                .map(|bytes| integer(bytes, true).try_into().unwrap_or(-1))
                .collect();
            offsets
                .iter()
                .zip(offsets.iter().skip(1))
                .enumerate()
                .map(|(row, (&start, &end))| {
                    if !valid(row) {
                        return Ok(None);
                    }
                    let bytes = usize::try_from(start)
                        .ok()
                        .zip(usize::try_from(end).ok())
                        .and_then(|(start, end)| data.get(start..end))
                        .ok_or_else(|| {
                            ArrowError::Malformed(format!(
                                "column {name:?} row {row}: offsets {start}..{end} outside its {} bytes",
                                data.len()
                            ))
                        })?;
                    if matches!(column.layout, Layout::Binary { .. }) {
                        return Ok(Some(bytes.iter().map(|b| format!("{b:02X}")).collect()));
                    }
                    std::str::from_utf8(bytes).map(|text| Some(text.to_owned())).map_err(|e| {
                        ArrowError::Malformed(format!("column {name:?} row {row} is not UTF-8: {e}"))
                    })
                })
                .collect::<Result<_, _>>()?
        }
    };
    Ok(values)
}

/// A count or offset read from the input, which must not be negative.
fn size(value: i64, what: &str) -> Result<usize, ArrowError> {
    usize::try_from(value).map_err(|_| ArrowError::Malformed(format!("{what} is {value}")))
}

/// Bit `index` of an Arrow bitmap (least significant bit first).
fn bit(bitmap: &[u8], index: usize) -> bool {
    bitmap
        .get(index / 8)
        .is_some_and(|byte| byte >> (index % 8) & 1 == 1)
}

/// A little-endian integer of up to 16 bytes, sign-extended when `signed`.
fn integer(bytes: &[u8], signed: bool) -> i128 {
    let negative = signed && bytes.last().is_some_and(|byte| byte & 0x80 != 0);
    let mut wide = [if negative { 0xFF } else { 0 }; 16];
    for (to, from) in wide.iter_mut().zip(bytes) {
        *to = *from;
    }
    i128::from_le_bytes(wide)
}

/// `value` × 10^-`scale` as decimal text with exactly `scale` fraction digits.
fn scaled(value: i128, scale: i32) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let digits = value.unsigned_abs().to_string();
    match usize::try_from(scale) {
        Ok(0) => format!("{sign}{digits}"),
        Ok(scale) => {
            let digits = format!("{digits:0>width$}", width = scale + 1);
            let (whole, fraction) = digits.split_at(digits.len() - scale);
            format!("{sign}{whole}.{fraction}")
        }
        Err(_) if value == 0 => digits,
        Err(_) => {
            let zeros = usize::try_from(scale.unsigned_abs()).unwrap_or_default();
            format!("{sign}{digits}{}", "0".repeat(zeros))
        }
    }
}

/// A little-endian IEEE 754 float of 4 or 8 bytes as its shortest exact text.
fn float(bytes: &[u8]) -> String {
    if let Ok(bytes) = <[u8; 8]>::try_from(bytes) {
        f64::from_le_bytes(bytes).to_string()
    } else if let Ok(bytes) = <[u8; 4]>::try_from(bytes) {
        f32::from_le_bytes(bytes).to_string()
    } else {
        String::new()
    }
}

mod flatbuffer;
#[cfg(test)]
pub(crate) mod tests;
