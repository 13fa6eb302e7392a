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

use crate::crypto::SecretCipher;
use crate::destination_config::{from_json, to_json, RowSecrets};
use crate::endpoints::{delete_endpoint, Endpoint};
use crate::errors::{is_name_key, Context, DbError};
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

fn to_port_error(
    error: DbError,
    id: Option<DestinationId>,
    name: Option<&Name>,
) -> DestinationRepositoryError {
    match (error, id, name) {
        (DbError::Unique(constraint), _, Some(name)) if is_name_key(&constraint) => {
            DestinationRepositoryError::Duplicate(name.clone())
        }
        (DbError::NotFound, Some(id), _) => DestinationRepositoryError::NotFound(id),
        (DbError::InUse(used_by), Some(id), _) => DestinationRepositoryError::InUse { id, used_by },
        (DbError::Unavailable(e), ..) => DestinationRepositoryError::Unavailable(e),
        (DbError::Other(e), ..) => DestinationRepositoryError::Unknown(e),
        (other, ..) => {
            DestinationRepositoryError::Unknown(anyhow::anyhow!("unexpected: {other:?}"))
        }
    }
}

#[async_trait]
impl DestinationRepository for PgDestinationRepository {
    #[tracing::instrument(skip_all, fields(name = %destination.name), err(level = "info"))]
    async fn create(
        &self,
        destination: NewDestination,
    ) -> Result<Destination, DestinationRepositoryError> {
        let result: Result<DestinationRow, DbError> = async {
            let mut conn = self.pool.get().await?;
            let id = next_id(&mut conn, SecretTable::Destinations).await?;
            let insert = DestinationInsert {
                id,
                name: destination.name.as_str(),
                kind: destination.config.destination_type().as_str(),
                config: to_json(&destination.config, self.secrets(id)).map_err(DbError::Other)?,
            };
            Ok(diesel::insert_into(destinations::table)
                .values(insert)
                .returning(DestinationRow::as_returning())
                .get_result(&mut conn)
                .await?)
        }
        .await
        .while_doing("inserting a destination");
        let row = result.map_err(|e| to_port_error(e, None, Some(&destination.name)))?;
        self.open(row)
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn get(
        &self,
        id: DestinationId,
    ) -> Result<Option<Destination>, DestinationRepositoryError> {
        let result: Result<Option<DestinationRow>, DbError> = async {
            let mut conn = self.pool.get().await?;
            Ok(destinations::table
                .find(id.get())
                .select(DestinationRow::as_select())
                .first(&mut conn)
                .await
                .optional()?)
        }
        .await
        .while_doing("reading a destination");
        let row = result.map_err(|e| to_port_error(e, Some(id), None))?;
        row.map(|row| self.open(row)).transpose()
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn list(
        &self,
        page: PageRequest,
    ) -> Result<Vec<Destination>, DestinationRepositoryError> {
        let result: Result<Vec<DestinationRow>, DbError> = async {
            let mut conn = self.pool.get().await?;
            Ok(destinations::table
                .order(destinations::id)
                .offset(page.skip())
                .limit(page.limit().get().into())
                .select(DestinationRow::as_select())
                .load(&mut conn)
                .await?)
        }
        .await
        .while_doing("listing destinations");
        let rows = result.map_err(|e| to_port_error(e, None, None))?;
        rows.into_iter().map(|row| self.open(row)).collect()
    }

    #[tracing::instrument(skip(self, update), err(level = "info"))]
    async fn update(
        &self,
        id: DestinationId,
        update: DestinationUpdate,
    ) -> Result<Destination, DestinationRepositoryError> {
        let result: Result<DestinationRow, DbError> = async {
            let changes = DestinationChanges {
                name: update.name.as_ref().map(Name::as_str),
                kind: update
                    .config
                    .as_ref()
                    .map(|c| c.destination_type().as_str()),
                config: update
                    .config
                    .as_ref()
                    .map(|config| to_json(config, self.secrets(id.get())))
                    .transpose()
                    .map_err(DbError::Other)?,
            };
            let mut conn = self.pool.get().await?;
            if update == DestinationUpdate::default() {
                return Ok(destinations::table
                    .find(id.get())
                    .select(DestinationRow::as_select())
                    .first(&mut conn)
                    .await?);
            }
            Ok(diesel::update(destinations::table.find(id.get()))
                .set((changes, destinations::updated_at.eq(diesel::dsl::now)))
                .returning(DestinationRow::as_returning())
                .get_result(&mut conn)
                .await?)
        }
        .await
        .while_doing("updating a destination");
        let row = result.map_err(|e| to_port_error(e, Some(id), update.name.as_ref()))?;
        self.open(row)
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn delete(
        &self,
        id: DestinationId,
        mode: DeleteMode,
    ) -> Result<(), DestinationRepositoryError> {
        delete_endpoint(&self.pool, Endpoint::Destination(id), mode)
            .await
            .while_doing("deleting a destination")
            .map_err(|e| to_port_error(e, Some(id), None))
    }
}
