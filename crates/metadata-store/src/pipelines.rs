//! The pipeline repository on PostgreSQL: pipelines and their runtime metadata, always written
//! together and read with their source and destination in one query.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use diesel::dsl::exists;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use rosetta_domain::ports::{PipelineRepository, PipelineRepositoryError};
use rosetta_domain::{
    DestinationId, MetadataChange, Name, NewPipeline, PageRequest, Pipeline, PipelineDetails,
    PipelineId, PipelineMetadata, PipelineMetadataId, PipelineMetadataStatus, PipelineRef,
    PipelineStatus, PipelineUpdate, SourceId,
};

use crate::conn::with_conn;
use crate::crypto::SecretCipher;
use crate::destinations::DestinationRow;
use crate::endpoints::{pipeline_refs, Endpoint};
use crate::errors::{DbError, Doing, PIPELINE_DESTINATION_KEY, PIPELINE_SOURCE_KEY};
use crate::pipeline_runtime::RuntimeRow;
use crate::schema::{destinations, pipeline_metadata, pipeline_runtime, pipelines, sources};
use crate::sources::SourceRow;
use crate::stored::stored;
use crate::DbPool;

/// Pipelines stored in `pipelines`, each with its row in `pipeline_metadata`.
#[derive(Clone)]
pub struct PgPipelineRepository {
    pool: DbPool,
    /// Pipelines are read with their source and destination, whose secrets it decrypts.
    cipher: Arc<SecretCipher>,
}

impl PgPipelineRepository {
    /// A repository drawing connections from `pool`, reading sources' and destinations'
    /// secrets with `cipher`.
    pub fn new(pool: DbPool, cipher: Arc<SecretCipher>) -> Self {
        Self { pool, cipher }
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = pipelines, check_for_backend(diesel::pg::Pg))]
struct PipelineRow {
    id: i64,
    name: String,
    source_id: i64,
    destination_id: i64,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = pipeline_metadata, check_for_backend(diesel::pg::Pg))]
struct MetadataRow {
    id: i64,
    pipeline_id: i64,
    status: String,
    last_error: Option<String>,
    last_error_at: Option<DateTime<Utc>>,
    last_start_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

type DetailsRow = (
    PipelineRow,
    SourceRow,
    DestinationRow,
    MetadataRow,
    Option<RuntimeRow>,
);

fn details(row: DetailsRow, cipher: &SecretCipher) -> anyhow::Result<PipelineDetails> {
    let (pipeline, source, destination, metadata, runtime) = row;
    Ok(PipelineDetails {
        pipeline: Pipeline {
            id: PipelineId::new(pipeline.id),
            name: stored(Name::parse_owned(pipeline.name), "pipelines.name")?,
            source_id: SourceId::new(pipeline.source_id),
            destination_id: DestinationId::new(pipeline.destination_id),
            status: stored(pipeline.status.parse(), "pipelines.status")?,
            created_at: pipeline.created_at,
            updated_at: pipeline.updated_at,
        },
        source: source.into_source(cipher)?,
        destination: destination.into_destination(cipher)?,
        metadata: PipelineMetadata {
            id: PipelineMetadataId::new(metadata.id),
            pipeline_id: PipelineId::new(metadata.pipeline_id),
            status: stored(metadata.status.parse(), "pipeline_metadata.status")?,
            last_error: metadata.last_error,
            last_error_at: metadata.last_error_at,
            last_start_at: metadata.last_start_at,
            created_at: metadata.created_at,
            updated_at: metadata.updated_at,
        },
        progress: runtime.map(RuntimeRow::into_progress).transpose()?,
    })
}

/// Pipelines with their source, destination, metadata and the data plane's last report: one
/// query, whatever the page size.
macro_rules! details_query {
    () => {
        pipelines::table
            .inner_join(sources::table)
            .inner_join(destinations::table)
            .inner_join(pipeline_metadata::table)
            .left_join(pipeline_runtime::table)
            .select((
                PipelineRow::as_select(),
                SourceRow::as_select(),
                DestinationRow::as_select(),
                MetadataRow::as_select(),
                <Option<RuntimeRow>>::as_select(),
            ))
    };
}

async fn load_details(
    conn: &mut AsyncPgConnection,
    id: PipelineId,
    cipher: &SecretCipher,
) -> Result<Option<PipelineDetails>, DbError> {
    let row: Option<DetailsRow> = details_query!()
        .filter(pipelines::id.eq(id.get()))
        .first(conn)
        .await
        .optional()?;
    row.map(|row| details(row, cipher))
        .transpose()
        .map_err(DbError::Other)
}

#[derive(Insertable)]
#[diesel(table_name = pipelines)]
struct PipelineInsert<'a> {
    name: &'a str,
    source_id: i64,
    destination_id: i64,
    status: &'a str,
}

#[derive(AsChangeset)]
#[diesel(table_name = pipelines)]
struct PipelineChanges<'a> {
    name: Option<&'a str>,
    source_id: Option<i64>,
    destination_id: Option<i64>,
    status: Option<&'a str>,
}

/// Writes what a status change does to the metadata row of `pipeline`.
async fn apply_metadata_change(
    conn: &mut AsyncPgConnection,
    pipeline: i64,
    change: MetadataChange,
) -> Result<(), DbError> {
    let row = pipeline_metadata::table.filter(pipeline_metadata::pipeline_id.eq(pipeline));
    match change {
        MetadataChange::Unchanged => {}
        MetadataChange::Run { started_at } => {
            diesel::update(row)
                .set((
                    pipeline_metadata::status.eq(PipelineMetadataStatus::Running.as_str()),
                    pipeline_metadata::last_start_at.eq(Some(started_at)),
                    pipeline_metadata::last_error.eq(None::<String>),
                    pipeline_metadata::last_error_at.eq(None::<DateTime<Utc>>),
                    pipeline_metadata::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
        }
        MetadataChange::Pause => {
            diesel::update(row)
                .set((
                    pipeline_metadata::status.eq(PipelineMetadataStatus::Paused.as_str()),
                    pipeline_metadata::updated_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
        }
    }
    Ok(())
}

/// Which end of a pipeline is missing, the source first, as the foreign key it violates.
///
/// A refused insert may name only one end (PostgreSQL checks the foreign keys in an order of its
/// own) or only a taken name (checked before either), while the API names a missing source
/// before a missing destination and either before a taken name: asked after the insert failed,
/// so that a pipeline created between existing ends pays nothing for it.
async fn missing_end(
    conn: &mut AsyncPgConnection,
    source: SourceId,
    destination: DestinationId,
) -> Result<Option<DbError>, DbError> {
    let (source_exists, destination_exists): (bool, bool) = diesel::select((
        exists(sources::table.find(source.get())),
        exists(destinations::table.find(destination.get())),
    ))
    .get_result(conn)
    .await?;
    Ok(match (source_exists, destination_exists) {
        (false, _) => Some(DbError::ForeignKey(PIPELINE_SOURCE_KEY.to_owned())),
        (true, false) => Some(DbError::ForeignKey(PIPELINE_DESTINATION_KEY.to_owned())),
        (true, true) => None,
    })
}

fn all_details(
    rows: Vec<DetailsRow>,
    cipher: &SecretCipher,
) -> Result<Vec<PipelineDetails>, PipelineRepositoryError> {
    Ok(rows
        .into_iter()
        .map(|row| details(row, cipher))
        .collect::<anyhow::Result<_>>()?)
}

#[async_trait]
impl PipelineRepository for PgPipelineRepository {
    #[tracing::instrument(skip_all, fields(name = %pipeline.name), err(level = "info"))]
    async fn create(
        &self,
        pipeline: NewPipeline,
    ) -> Result<PipelineDetails, PipelineRepositoryError> {
        let doing = Doing::new("creating a pipeline")
            .name(&pipeline.name)
            .source(pipeline.source_id)
            .destination(pipeline.destination_id);
        let insert = PipelineInsert {
            name: pipeline.name.as_str(),
            source_id: pipeline.source_id.get(),
            destination_id: pipeline.destination_id.get(),
            status: pipeline.status.status().as_str(),
        };
        let status = pipeline.status.metadata_status();
        let last_start_at = pipeline.last_start_at();
        let cipher = &self.cipher;
        Ok(with_conn(&self.pool, doing, async |conn| {
            let created = conn
                .transaction::<_, DbError, _>(async move |conn| {
                    let id: i64 = diesel::insert_into(pipelines::table)
                        .values(insert)
                        .returning(pipelines::id)
                        .get_result(conn)
                        .await?;
                    diesel::insert_into(pipeline_metadata::table)
                        .values((
                            pipeline_metadata::pipeline_id.eq(id),
                            pipeline_metadata::status.eq(status.as_str()),
                            pipeline_metadata::last_start_at.eq(last_start_at),
                        ))
                        .execute(conn)
                        .await?;
                    load_details(conn, PipelineId::new(id), cipher)
                        .await?
                        .ok_or(DbError::NotFound)
                })
                .await;
            match created {
                Err(refused @ (DbError::Unique(_) | DbError::ForeignKey(_))) => {
                    let missing =
                        missing_end(conn, pipeline.source_id, pipeline.destination_id).await?;
                    Err(missing.unwrap_or(refused))
                }
                other => other,
            }
        })
        .await?)
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn get(
        &self,
        id: PipelineId,
    ) -> Result<Option<PipelineDetails>, PipelineRepositoryError> {
        Ok(
            with_conn(&self.pool, Doing::new("reading a pipeline"), async |conn| {
                load_details(conn, id, &self.cipher).await
            })
            .await?,
        )
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn list(
        &self,
        page: PageRequest,
        status: Option<PipelineStatus>,
    ) -> Result<Vec<PipelineDetails>, PipelineRepositoryError> {
        let rows = with_conn(&self.pool, Doing::new("listing pipelines"), async |conn| {
            let mut query = details_query!()
                .order(pipelines::id)
                .offset(page.skip())
                .limit(page.limit().get().into())
                .into_boxed();
            if let Some(status) = status {
                query = query.filter(pipelines::status.eq(status.as_str()));
            }
            Ok(query.load(conn).await?)
        })
        .await?;
        all_details(rows, &self.cipher)
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn update(
        &self,
        id: PipelineId,
        update: PipelineUpdate,
    ) -> Result<PipelineDetails, PipelineRepositoryError> {
        let doing = Doing::new("updating a pipeline")
            .pipeline(id)
            .name(update.name.as_ref())
            .source(update.source_id)
            .destination(update.destination_id);
        let changes = PipelineChanges {
            name: update.name.as_ref().map(Name::as_str),
            source_id: update.source_id.map(SourceId::get),
            destination_id: update.destination_id.map(DestinationId::get),
            status: update.status.map(|change| change.status.as_str()),
        };
        let metadata = update.status.map(|change| change.metadata);
        let empty = update.is_empty();
        let cipher = &self.cipher;
        Ok(with_conn(&self.pool, doing, async |conn| {
            conn.transaction::<_, DbError, _>(async move |conn| {
                if !empty {
                    diesel::update(pipelines::table.find(id.get()))
                        .set((changes, pipelines::updated_at.eq(diesel::dsl::now)))
                        .returning(pipelines::id)
                        .get_result::<i64>(conn)
                        .await?;
                }
                if let Some(change) = metadata {
                    apply_metadata_change(conn, id.get(), change).await?;
                }
                load_details(conn, id, cipher)
                    .await?
                    .ok_or(DbError::NotFound)
            })
            .await
        })
        .await?)
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn delete(&self, id: PipelineId) -> Result<(), PipelineRepositoryError> {
        let doing = Doing::new("deleting a pipeline").pipeline(id);
        Ok(with_conn(&self.pool, doing, async |conn| {
            // The metadata row goes with it (ON DELETE CASCADE).
            match diesel::delete(pipelines::table.find(id.get()))
                .execute(conn)
                .await?
            {
                0 => Err(DbError::NotFound),
                _ => Ok(()),
            }
        })
        .await?)
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn using_source(
        &self,
        id: SourceId,
    ) -> Result<Vec<PipelineRef>, PipelineRepositoryError> {
        self.using(Endpoint::Source(id)).await
    }

    #[tracing::instrument(skip(self), err(level = "info"))]
    async fn using_destination(
        &self,
        id: DestinationId,
    ) -> Result<Vec<PipelineRef>, PipelineRepositoryError> {
        self.using(Endpoint::Destination(id)).await
    }
}

impl PgPipelineRepository {
    async fn using(&self, endpoint: Endpoint) -> Result<Vec<PipelineRef>, PipelineRepositoryError> {
        let doing = Doing::new("listing the pipelines that use a source or destination");
        Ok(with_conn(&self.pool, doing, async |conn| {
            pipeline_refs(conn, endpoint).await
        })
        .await?)
    }
}
