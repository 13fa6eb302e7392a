//! The destination repository on PostgreSQL.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rosetta_domain::ports::{DestinationRepository, DestinationRepositoryError};
use rosetta_domain::{
    DeleteMode, Destination, DestinationId, DestinationUpdate, Name, NewDestination, PageRequest,
};

use crate::conn::with_conn;
use crate::crypto::SecretCipher;
use crate::destination_config::{from_json, to_json, RowSecrets};
use crate::endpoints::{delete_endpoint, endpoint_row, Endpoint};
use crate::errors::{Context, DbError, Doing};
use crate::row_ids::{next_id, SecretTable};
use crate::schema::destinations;
use crate::stored::stored;
use crate::DbPool;

/// Destinations stored in the `destinations` table, their configuration as JSONB with its
/// secrets encrypted by `cipher`.
#[derive(Clone)]
pub struct PgDestinationRepository {
    pool: DbPool,
    cipher: Arc<SecretCipher>,
}

impl PgDestinationRepository {
    /// A repository drawing connections from `pool` and encrypting secrets with `cipher`.
    pub fn new(pool: DbPool, cipher: Arc<SecretCipher>) -> Self {
        Self { pool, cipher }
    }

    fn secrets(&self, row: i64) -> RowSecrets<'_> {
        RowSecrets {
            cipher: &self.cipher,
            row,
        }
    }

    fn open(&self, row: DestinationRow) -> Result<Destination, DestinationRepositoryError> {
        Ok(row.into_destination(&self.cipher)?)
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = destinations, check_for_backend(diesel::pg::Pg))]
pub(crate) struct DestinationRow {
    id: i64,
    name: String,
    kind: String,
    config: serde_json::Value,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

endpoint_row!(DestinationRow, destinations, DestinationChanges);

impl DestinationRow {
    /// The destination this row stores, its secrets decrypted; a secret that does not decrypt
    /// is an error naming the row and field, never a wrong value.
    pub(crate) fn into_destination(self, cipher: &SecretCipher) -> anyhow::Result<Destination> {
        let row = self;
        let secrets = RowSecrets {
            cipher,
            row: row.id,
        };
        Ok(Destination {
            id: DestinationId::new(row.id),
            name: stored(Name::parse_owned(row.name), "destinations.name")?,
            config: from_json(&row.kind, row.config, secrets)?,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = destinations)]
struct DestinationInsert<'a> {
    id: i64,
    name: &'a str,
    kind: &'a str,
    config: serde_json::Value,
}

#[derive(AsChangeset)]
#[diesel(table_name = destinations)]
struct DestinationChanges<'a> {
    name: Option<&'a str>,
    kind: Option<&'a str>,
    config: Option<serde_json::Value>,
}

#[async_trait]
impl DestinationRepository for PgDestinationRepository {
    #[tracing::instrument(skip_all, fields(name = %destination.name), err(level = "info"))]
    async fn create(
        &self,
        destination: NewDestination,
    ) -> Result<Destination, DestinationRepositoryError> {
        let doing = Doing::new("inserting a destination").name(&destination.name);
        let row = with_conn(&self.pool, doing, async |conn| {
            let id = next_id(conn, SecretTable::Destinations).await?;
            let insert = DestinationInsert {
                id,
                name: destination.name.as_str(),
                kind: destination.config.destination_type().as_str(),
                config: to_json(&destination.config, self.secrets(id)).map_err(DbError::Other)?,
            };
            Ok(diesel::insert_into(destinations::table)
                .values(insert)
                .returning(DestinationRow::as_returning())
                .get_result(conn)
                .await?)
        })
        .await?;
        self.open(row)
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn get(
        &self,
        id: DestinationId,
    ) -> Result<Option<Destination>, DestinationRepositoryError> {
        let doing = Doing::new("reading a destination").destination(id);
        let row = with_conn(&self.pool, doing, async |conn| {
            DestinationRow::find(conn, id.get()).await
        })
        .await?;
        row.map(|row| self.open(row)).transpose()
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn list(
        &self,
        page: PageRequest,
    ) -> Result<Vec<Destination>, DestinationRepositoryError> {
        let doing = Doing::new("listing destinations");
        let rows = with_conn(&self.pool, doing, async |conn| {
            DestinationRow::page(conn, page).await
        })
        .await?;
        rows.into_iter().map(|row| self.open(row)).collect()
    }

    #[tracing::instrument(skip(self, update), err(level = "info"))]
    async fn update(
        &self,
        id: DestinationId,
        update: DestinationUpdate,
    ) -> Result<Destination, DestinationRepositoryError> {
        let doing = Doing::new("updating a destination")
            .destination(id)
            .name(update.name.as_ref());
        let config = update
            .config
            .as_ref()
            .map(|config| to_json(config, self.secrets(id.get())))
            .transpose()
            .map_err(DbError::Other)
            .while_doing(doing)?;
        let changes = (update != DestinationUpdate::default()).then(|| DestinationChanges {
            name: update.name.as_ref().map(Name::as_str),
            kind: update
                .config
                .as_ref()
                .map(|c| c.destination_type().as_str()),
            config,
        });
        let row = with_conn(&self.pool, doing, async |conn| {
            DestinationRow::updated(conn, id.get(), changes).await
        })
        .await?;
        self.open(row)
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn delete(
        &self,
        id: DestinationId,
        mode: DeleteMode,
    ) -> Result<(), DestinationRepositoryError> {
        Ok(delete_endpoint(&self.pool, Endpoint::Destination(id), mode).await?)
    }
}
