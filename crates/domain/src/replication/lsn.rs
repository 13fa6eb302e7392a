//! `Lsn`: a position in a PostgreSQL write-ahead log.

use std::fmt;
use std::str::FromStr;

use crate::InvalidValue;

/// A log sequence number: a byte position in a server's write-ahead log, written as
/// PostgreSQL writes it (`16/B374D848`: the high and low 32 bits in hexadecimal).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Lsn(u64);

impl Lsn {
    /// The start of the log; a replication request from it starts where its slot left off.
    pub const ZERO: Self = Self(0);

    /// The position `raw` bytes into the log.
    pub const fn new(raw: u64) -> Self {
        Self(raw)
    }

    /// The position in bytes.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// How many bytes `self` is ahead of `earlier` (0 when it is not).
    pub const fn bytes_after(self, earlier: Self) -> u64 {
        self.0.saturating_sub(earlier.0)
    }
}

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

impl FromStr for Lsn {
    type Err = InvalidValue;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidValue::new("invalid_lsn", format!("not an LSN: '{value}'"));
        let (high, low) = value.split_once('/').ok_or_else(invalid)?;
        let high = u32::from_str_radix(high, 16).map_err(|_| invalid())?;
        let low = u32::from_str_radix(low, 16).map_err(|_| invalid())?;
        Ok(Self((u64::from(high) << 32) | u64::from(low)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_lsn_reads_and_prints_as_postgresql_writes_it() {
        let lsn: Lsn = "16/B374D848".parse().unwrap();
        assert_eq!(lsn.get(), 0x16_B374_D848);
        assert_eq!(lsn.to_string(), "16/B374D848");
        assert_eq!(Lsn::ZERO.to_string(), "0/0");
        assert_eq!("0/1998A08".parse::<Lsn>().unwrap().to_string(), "0/1998A08");
        for bad in ["", "16", "x/1", "1/", "1/2/3", "100000000/0"] {
            assert!(bad.parse::<Lsn>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_distance_between_positions_never_underflows() {
        let (a, b) = (Lsn::new(100), Lsn::new(40));
        assert_eq!(a.bytes_after(b), 60);
        assert_eq!(b.bytes_after(a), 0);
    }
}
