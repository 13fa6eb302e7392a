//! The decoder's unit and property tests, over messages built by a test-only encoder.

mod encode;
mod messages;
mod properties;
mod throughput;
