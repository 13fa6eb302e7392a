//! Timestamps in responses: RFC 3339 in UTC, spelled exactly as chrono's serde support spells
//! them, written without chrono's general formatting machinery, which cost a large share of
//! the CPU of list responses (two timestamps per row); read back as chrono reads them.

use chrono::{DateTime, Datelike, SecondsFormat, Timelike, Utc};
use schemars::JsonSchema;
use serde::ser::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A moment in UTC, serialized as `2026-11-26T01:40:45.298908Z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, JsonSchema)]
#[schemars(transparent)]
pub struct Timestamp(pub DateTime<Utc>);

impl From<DateTime<Utc>> for Timestamp {
    fn from(value: DateTime<Utc>) -> Self {
        Self(value)
    }
}

struct Buffer {
    bytes: [u8; 32],
    len: usize,
}

impl Buffer {
    fn push(&mut self, byte: u8) {
        self.bytes[self.len] = byte;
        self.len += 1;
    }

    fn digits(&mut self, value: u32, width: u32) {
        for place in (0..width).rev() {
            self.push(b'0' + (value / 10_u32.pow(place) % 10) as u8);
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (date, time) = (self.0.date_naive(), self.0.time());
        let nanos = time.nanosecond();
        let Ok(year) = u32::try_from(date.year()) else {
            return serializer.serialize_str(&self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true));
        };
        if year > 9999 || nanos >= 1_000_000_000 {
            // Years past 9999 and leap seconds: chrono knows how to spell them.
            return serializer.serialize_str(&self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true));
        }
        let mut out = Buffer {
            bytes: [0; 32],
            len: 0,
        };
        out.digits(year, 4);
        out.push(b'-');
        out.digits(date.month(), 2);
        out.push(b'-');
        out.digits(date.day(), 2);
        out.push(b'T');
        out.digits(time.hour(), 2);
        out.push(b':');
        out.digits(time.minute(), 2);
        out.push(b':');
        out.digits(time.second(), 2);
        // As chrono's AutoSi: no fraction, or 3, 6 or 9 digits, whichever is exact.
        if nanos != 0 {
            out.push(b'.');
            if nanos % 1_000_000 == 0 {
                out.digits(nanos / 1_000_000, 3);
            } else if nanos % 1_000 == 0 {
                out.digits(nanos / 1_000, 6);
            } else {
                out.digits(nanos, 9);
            }
        }
        out.push(b'Z');
        let text = std::str::from_utf8(&out.bytes[..out.len]).map_err(S::Error::custom)?;
        serializer.serialize_str(text)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        DateTime::<Utc>::deserialize(deserializer).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn timestamps_are_spelled_as_chrono_spells_them() {
        let samples = [
            Utc.with_ymd_and_hms(2026, 11, 26, 1, 40, 45).single(),
            Utc.timestamp_opt(1_795_656_550, 298_908_000).single(),
            Utc.timestamp_opt(1_795_656_550, 120_000_000).single(),
            Utc.timestamp_opt(1_795_656_550, 1).single(),
            Utc.timestamp_opt(0, 0).single(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).single(),
            Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).single(),
            Utc.with_ymd_and_hms(-1, 1, 1, 0, 0, 0).single(),
        ];
        for moment in samples.into_iter().flatten() {
            let ours = serde_json::to_string(&Timestamp(moment)).unwrap();
            let chronos = serde_json::to_string(&moment).unwrap();
            assert_eq!(ours, chronos);
            let read: Timestamp = serde_json::from_str(&ours).unwrap();
            assert_eq!(read, Timestamp(moment));
        }
    }
}
