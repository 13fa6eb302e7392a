//! The source repository on PostgreSQL.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use rosetta_domain::ports::{SourceRepository, SourceRepositoryError};
use rosetta_domain::{
    DeleteMode, Name, NewSource, PageRequest, PortNumber, PublicationName, ReplicationId, Secret,
    Source, SourceId, SourceUpdate, SslMode, Text,
};

use crate::conn::with_conn;
use crate::crypto::{SecretCipher, SecretField};
use crate::endpoints::{delete_endpoint, endpoint_row, Endpoint};
use crate::errors::{Context, DbError, Doing};
use crate::row_ids::{next_id, SecretTable};
use crate::schema::sources;
use crate::stored::stored;
use crate::DbPool;

/// Sources stored in the `sources` table, their passwords encrypted by `cipher`.
#[derive(Clone)]
pub struct PgSourceRepository {
    pool: DbPool,
    cipher: Arc<SecretCipher>,
}

impl PgSourceRepository {
    /// A repository drawing connections from `pool` and encrypting passwords with `cipher`.
    pub fn new(pool: DbPool, cipher: Arc<SecretCipher>) -> Self {
        Self { pool, cipher }
    }

    /// The stored form of a source's password: encrypted with the newest key.
    fn seal(&self, id: i64, password: Option<&Secret>) -> Result<Option<String>, DbError> {
        password
            .map(|p| {
                self.cipher
                    .encrypt(p.expose(), &SecretField::source_password(id))
            })
            .transpose()
            .map_err(|e| DbError::Other(e.into()))
    }

    fn open(&self, row: SourceRow) -> Result<Source, SourceRepositoryError> {
        Ok(row.into_source(&self.cipher)?)
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = sources, check_for_backend(diesel::pg::Pg))]
pub(crate) struct SourceRow {
    id: i64,
    name: String,
    pg_host: String,
    pg_port: i32,
    pg_database: String,
    pg_username: String,
    pg_password: Option<String>,
    publication_name: String,
    replication_id: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    ssl_mode: String,
}

endpoint_row!(SourceRow, sources, SourceChanges);

impl SourceRow {
    /// The source this row stores, its password decrypted; a password that does not decrypt
    /// is an error naming the row, never a wrong value.
    pub(crate) fn into_source(self, cipher: &SecretCipher) -> anyhow::Result<Source> {
        let row = self;
        let pg_password = row
            .pg_password
            .map(|stored| cipher.decrypt(&stored, &SecretField::source_password(row.id)))
            .transpose()?;
        Ok(Source {
            id: SourceId::new(row.id),
            name: stored(Name::parse_owned(row.name), "sources.name")?,
            pg_host: stored(Text::parse_owned(row.pg_host), "sources.pg_host")?,
            pg_port: stored(PortNumber::new(row.pg_port.into()), "sources.pg_port")?,
            pg_database: stored(Text::parse_owned(row.pg_database), "sources.pg_database")?,
            pg_username: stored(Text::parse_owned(row.pg_username), "sources.pg_username")?,
            pg_password: pg_password
                .map(|p| stored(Secret::parse_owned(p), "sources.pg_password"))
                .transpose()?,
            publication_name: stored(
                PublicationName::parse_owned(row.publication_name),
                "sources.publication_name",
            )?,
            replication_id: stored(
                ReplicationId::new(row.replication_id),
                "sources.replication_id",
            )?,
            ssl_mode: stored(row.ssl_mode.parse::<SslMode>(), "sources.ssl_mode")?,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[derive(Insertable)]
#[diesel(table_name = sources)]
struct SourceInsert<'a> {
    id: i64,
    name: &'a str,
    pg_host: &'a str,
    pg_port: i32,
    pg_database: &'a str,
    pg_username: &'a str,
    // NULL when absent, so that every insert is the same statement and stays prepared.
    #[diesel(treat_none_as_default_value = false)]
    pg_password: Option<&'a str>,
    publication_name: &'a str,
    replication_id: i64,
    ssl_mode: &'static str,
}

impl<'a> SourceInsert<'a> {
    /// Row `id` for `source`, with its password as stored.
    fn new(id: i64, source: &'a NewSource, pg_password: Option<&'a str>) -> Self {
        Self {
            id,
            name: source.name.as_str(),
            pg_host: source.pg_host.as_str(),
            pg_port: source.pg_port.get().into(),
            pg_database: source.pg_database.as_str(),
            pg_username: source.pg_username.as_str(),
            pg_password,
            publication_name: source.publication_name.as_str(),
            replication_id: source.replication_id.get(),
            ssl_mode: source.ssl_mode.as_str(),
        }
    }
}

#[derive(AsChangeset)]
#[diesel(table_name = sources)]
struct SourceChanges<'a> {
    name: Option<&'a str>,
    pg_host: Option<&'a str>,
    pg_port: Option<i32>,
    pg_database: Option<&'a str>,
    pg_username: Option<&'a str>,
    pg_password: Option<&'a str>,
    publication_name: Option<&'a str>,
    replication_id: Option<i64>,
    ssl_mode: Option<&'static str>,
}

impl<'a> SourceChanges<'a> {
    /// The columns `update` sets, with the password as stored.
    fn new(update: &'a SourceUpdate, pg_password: Option<&'a str>) -> Self {
        Self {
            name: update.name.as_ref().map(Name::as_str),
            pg_host: update.pg_host.as_ref().map(Text::as_str),
            pg_port: update.pg_port.map(|p| p.get().into()),
            pg_database: update.pg_database.as_ref().map(Text::as_str),
            pg_username: update.pg_username.as_ref().map(Text::as_str),
            pg_password,
            publication_name: update
                .publication_name
                .as_ref()
                .map(PublicationName::as_str),
            replication_id: update.replication_id.map(ReplicationId::get),
            ssl_mode: update.ssl_mode.map(SslMode::as_str),
        }
    }
}

#[async_trait]
impl SourceRepository for PgSourceRepository {
    #[tracing::instrument(skip_all, fields(name = %source.name), err(level = "info"))]
    async fn create(&self, source: NewSource) -> Result<Source, SourceRepositoryError> {
        let doing = Doing::new("inserting a source").name(&source.name);
        let row = with_conn(&self.pool, doing, async |conn| {
            let id = next_id(conn, SecretTable::Sources).await?;
            let password = self.seal(id, source.pg_password.as_ref())?;
            Ok(diesel::insert_into(sources::table)
                .values(SourceInsert::new(id, &source, password.as_deref()))
                .returning(SourceRow::as_returning())
                .get_result(conn)
                .await?)
        })
        .await?;
        self.open(row)
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn get(&self, id: SourceId) -> Result<Option<Source>, SourceRepositoryError> {
        let doing = Doing::new("reading a source").source(id);
        let row = with_conn(&self.pool, doing, async |conn| {
            SourceRow::find(conn, id.get()).await
        })
        .await?;
        row.map(|row| self.open(row)).transpose()
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn list(&self, page: PageRequest) -> Result<Vec<Source>, SourceRepositoryError> {
        let rows = with_conn(&self.pool, Doing::new("listing sources"), async |conn| {
            SourceRow::page(conn, page).await
        })
        .await?;
        rows.into_iter().map(|row| self.open(row)).collect()
    }

    #[tracing::instrument(skip(self, update), err(level = "info"))]
    async fn update(
        &self,
        id: SourceId,
        update: SourceUpdate,
    ) -> Result<Source, SourceRepositoryError> {
        let doing = Doing::new("updating a source")
            .source(id)
            .name(update.name.as_ref());
        let password = self
            .seal(id.get(), update.pg_password.as_ref())
            .while_doing(doing)?;
        let changes =
            (!update.is_empty()).then(|| SourceChanges::new(&update, password.as_deref()));
        let row = with_conn(&self.pool, doing, async |conn| {
            SourceRow::updated(conn, id.get(), changes).await
        })
        .await?;
        self.open(row)
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn delete(&self, id: SourceId, mode: DeleteMode) -> Result<(), SourceRepositoryError> {
        Ok(delete_endpoint(&self.pool, Endpoint::Source(id), mode).await?)
    }
}
