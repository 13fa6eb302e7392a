//! What sources and destinations share as the two ends of pipelines: the pipelines that use them
//! and how deleting them treats those pipelines.

use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use rosetta_domain::{DeleteMode, DestinationId, Name, PipelineId, PipelineRef, SourceId};

use crate::conn::with_conn;
use crate::errors::{DbError, Doing, Failed};
use crate::schema::{destinations, pipelines, sources};
use crate::stored::stored;
use crate::DbPool;

/// The statements that read and update a source's or a destination's row, the same for both
/// tables: `endpoint_row!(SourceRow, sources, SourceChanges)` gives `SourceRow` its `find`,
/// `page` and `updated`. A macro rather than a generic function, because a function generic
/// over the table would need longer Diesel bounds than the statements it runs.
macro_rules! endpoint_row {
    ($row:ident, $table:ident, $changes:ident) => {
        impl $row {
            /// The row of id `id`, if any.
            async fn find(
                conn: &mut diesel_async::AsyncPgConnection,
                id: i64,
            ) -> Result<Option<Self>, crate::errors::DbError> {
                Ok($table::table
                    .find(id)
                    .select(Self::as_select())
                    .first(conn)
                    .await
                    .optional()?)
            }

            /// A page of rows, ordered by id.
            async fn page(
                conn: &mut diesel_async::AsyncPgConnection,
                page: rosetta_domain::PageRequest,
            ) -> Result<Vec<Self>, crate::errors::DbError> {
                Ok($table::table
                    .order($table::id)
                    .offset(page.skip())
                    .limit(page.limit().get().into())
                    .select(Self::as_select())
                    .load(conn)
                    .await?)
            }

            /// Row `id` after `changes`, `updated_at` set to now. Without changes the row is
            /// read as it is, since an empty changeset is not valid SQL. A missing row is
            /// `NotFound` either way.
            async fn updated(
                conn: &mut diesel_async::AsyncPgConnection,
                id: i64,
                changes: Option<$changes<'_>>,
            ) -> Result<Self, crate::errors::DbError> {
                let Some(changes) = changes else {
                    return Self::find(conn, id)
                        .await?
                        .ok_or(crate::errors::DbError::NotFound);
                };
                Ok(diesel::update($table::table.find(id))
                    .set((changes, $table::updated_at.eq(diesel::dsl::now)))
                    .returning(Self::as_returning())
                    .get_result(conn)
                    .await?)
            }
        }
    };
}

pub(crate) use endpoint_row;

/// A source or a destination.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Endpoint {
    Source(SourceId),
    Destination(DestinationId),
}

impl Endpoint {
    /// What deleting it is, as its port's errors say it.
    fn deleting(self) -> Doing<'static> {
        match self {
            Self::Source(id) => Doing::new("deleting a source").source(id),
            Self::Destination(id) => Doing::new("deleting a destination").destination(id),
        }
    }
}

/// The pipelines that use `endpoint`, ordered by id.
pub(crate) async fn pipeline_refs(
    conn: &mut AsyncPgConnection,
    endpoint: Endpoint,
) -> Result<Vec<PipelineRef>, DbError> {
    let query = pipelines::table
        .select((pipelines::id, pipelines::name))
        .order(pipelines::id)
        .into_boxed();
    let query = match endpoint {
        Endpoint::Source(id) => query.filter(pipelines::source_id.eq(id.get())),
        Endpoint::Destination(id) => query.filter(pipelines::destination_id.eq(id.get())),
    };
    let rows: Vec<(i64, String)> = query.load(conn).await?;
    rows.into_iter()
        .map(|(id, name)| {
            Ok(PipelineRef {
                id: PipelineId::new(id),
                name: stored(Name::parse(&name), "pipelines.name").map_err(DbError::Other)?,
            })
        })
        .collect()
}

/// Deletes a source or destination. With [`DeleteMode::Cascade`] its pipelines go first, in the
/// same transaction; otherwise the foreign keys refuse and the pipelines in the way are listed.
pub(crate) async fn delete_endpoint(
    pool: &DbPool,
    endpoint: Endpoint,
    mode: DeleteMode,
) -> Result<(), Failed<'static>> {
    with_conn(pool, endpoint.deleting(), async |conn| {
        delete_with(conn, endpoint, mode).await
    })
    .await
}

/// [`delete_endpoint`] on one connection, which also lists the pipelines in the way when the
/// foreign keys refuse.
async fn delete_with(
    conn: &mut AsyncPgConnection,
    endpoint: Endpoint,
    mode: DeleteMode,
) -> Result<(), DbError> {
    let deleted = conn
        .transaction::<_, DbError, _>(async move |conn| {
            if mode == DeleteMode::Cascade {
                let users = match endpoint {
                    Endpoint::Source(id) => {
                        diesel::delete(pipelines::table.filter(pipelines::source_id.eq(id.get())))
                            .execute(conn)
                            .await
                    }
                    Endpoint::Destination(id) => {
                        diesel::delete(
                            pipelines::table.filter(pipelines::destination_id.eq(id.get())),
                        )
                        .execute(conn)
                        .await
                    }
                };
                users?;
            }
            let deleted = match endpoint {
                Endpoint::Source(id) => {
                    diesel::delete(sources::table.find(id.get()))
                        .execute(conn)
                        .await
                }
                Endpoint::Destination(id) => {
                    diesel::delete(destinations::table.find(id.get()))
                        .execute(conn)
                        .await
                }
            };
            Ok(deleted?)
        })
        .await;
    match deleted {
        Ok(0) => Err(DbError::NotFound),
        Ok(_) => Ok(()),
        Err(DbError::ForeignKey(_)) => Err(DbError::InUse(pipeline_refs(conn, endpoint).await?)),
        Err(other) => Err(other),
    }
}
