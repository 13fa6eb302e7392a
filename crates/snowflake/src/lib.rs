//! Rosetta's Snowflake destination: the adapter of the domain's
//! [`DestinationWriter`](rosetta_domain::ports::DestinationWriter) port for Snowflake accounts.
//!
//! - **Sign-in** is Snowflake's key-pair authentication: a JWT signed with the destination's RSA
//!   private key (PKCS#8, encrypted or not), sent to `/session/v1/login-request`; the session
//!   token it returns authorises each statement (`/queries/v1/query-request`).
//! - **Where**: `https://<account>.snowflakecomputing.com`, or the destination's `host`
//!   (`host:port`, an `https://` URL, or plain `http://` for a loopback address only, as an
//!   emulator listens).
//! - **Check**: [`SnowflakeWriter`]'s `check` reads the key, signs in, uses the warehouse,
//!   creates the schema when missing, and creates, writes and drops a table.
//!
//! The passphrase and the key never reach a message: errors name the key's path and its public
//! fingerprint only.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod arrow;
mod auth;
mod bookkeeping;
mod client;
mod copy;
mod copytext;
mod endpoint;
mod layout;
mod session;
mod sql;
mod statements;
mod writer;

pub use auth::{JwtIssuer, KeyError, KeyPair};
pub use client::{http_client, Client, Outcome, Session, SnowflakeError, Target};
pub use endpoint::{base_url, EndpointError};
pub use session::SnowflakeSession;
pub use writer::SnowflakeWriter;
