//! Identifiers of the stored entities and the names of their kinds.

use std::fmt;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(i64);

        impl $name {
            /// Wraps a raw id as the database assigned it.
            pub const fn new(raw: i64) -> Self {
                Self(raw)
            }

            /// The raw id.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// The id of a [`Source`](crate::Source).
    SourceId
);
id_type!(
    /// The id of a [`Destination`](crate::Destination).
    DestinationId
);
id_type!(
    /// The id of a [`Pipeline`](crate::Pipeline).
    PipelineId
);
id_type!(
    /// The id of a [`PipelineMetadata`](crate::PipelineMetadata) row.
    PipelineMetadataId
);
id_type!(
    /// The id of a [`WalMetric`](crate::WalMetric) sample.
    WalMetricId
);

/// The kinds of stored entity, spelled as API errors name them (`"Source"`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    /// A PostgreSQL database replicated from.
    Source,
    /// Where a pipeline delivers.
    Destination,
    /// A source connected to a destination.
    Pipeline,
}

impl EntityKind {
    /// The name used in error messages and error details.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Source => "Source",
            Self::Destination => "Destination",
            Self::Pipeline => "Pipeline",
        }
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
