//! Source bodies: create, update and the response (which never holds the password).

use rosetta_domain::{
    Name, NewSource, PortNumber, PublicationName, ReplicationId, Secret, SourceUpdate, SslMode,
    Text,
};

use crate::request::request_part;

request_part! {
    /// A PostgreSQL database to replicate from.
    body struct CreateSourceBody => NewSource {
        /// Unique name: 1–255 of `[A-Za-z0-9_-]`, stored lower-cased.
        #[schemars(example = &"orders-eu")]
        required name: Name,
        /// Host name or address of the server.
        #[schemars(example = &"db.example.com")]
        required pg_host: Text,
        /// Port of the server, 1–65535 (default 5432).
        #[schemars(example = 5432)]
        default pg_port: PortNumber,
        /// Database to replicate from.
        #[schemars(example = &"shop")]
        required pg_database: Text,
        /// Role that connects.
        #[schemars(example = &"replicator")]
        required pg_username: Text,
        /// Password of that role. Write-only: never returned.
        #[schemars(example = &"s3cret")]
        optional pg_password: Secret,
        /// Publication whose tables are replicated: 1–255 of `[A-Za-z0-9_]`.
        #[schemars(example = &"shop_pub")]
        required publication_name: PublicationName,
        /// Identifies the replication slot, 0 or more.
        #[schemars(example = 1)]
        required replication_id: ReplicationId,
        /// How connections to the server use TLS (default `prefer`).
        default ssl_mode: SslMode,
    }
}

request_part! {
    /// A partial update of a source: every field is optional; omitted fields (the password too)
    /// keep their value.
    body struct UpdateSourceBody => SourceUpdate {
        /// New unique name.
        #[schemars(example = &"orders-eu")]
        optional name: Name,
        /// New host.
        #[schemars(example = &"replica.example.com")]
        optional pg_host: Text,
        /// New port, 1–65535.
        #[schemars(example = 5432)]
        optional pg_port: PortNumber,
        /// New database.
        optional pg_database: Text,
        /// New role.
        optional pg_username: Text,
        /// New password (write-only).
        optional pg_password: Secret,
        /// New publication.
        optional publication_name: PublicationName,
        /// New replication id, 0 or more.
        optional replication_id: ReplicationId,
        /// New TLS mode.
        optional ssl_mode: SslMode,
    }
}

pub use rosetta_api_types::sources::{SourceResponse, SslModeName};
