//! Checking a PostgreSQL destination on demand: signing in with its stored settings, then each
//! step a pipeline's first run takes there (its schema, a table in it, Rosetta's bookkeeping),
//! stopping at the first that fails. Only the destination's schema may be created; the rest is
//! tried in transactions that are rolled back.

use rosetta_domain::ports::DestinationError;
use rosetta_domain::{DiagnosticCheck, PostgresConfig};
use rosetta_postgres_tls::TlsConnectors;
use tokio_postgres::Client;

use crate::bookkeeping;
use crate::connection::Connector;
use crate::session::create_schema_if_missing;
use crate::sql::ident;
use crate::PgDestinationSettings;

/// The prefix of the table the `create_table` step creates and rolls back.
pub(crate) const PROBE_TABLE_PREFIX: &str = "rosetta_check_";

/// What a step found: the detail of a pass, or of a failure.
type Outcome = Result<String, String>;

/// Runs every step on the destination `config` describes, up to the first that fails.
pub(crate) async fn check(
    config: &PostgresConfig,
    settings: &PgDestinationSettings,
    tls: Option<&TlsConnectors>,
) -> Vec<DiagnosticCheck> {
    let mut checks = Vec::new();
    let connector = Connector::for_check(config, settings, tls);
    // The connect error names host:port and the server's or the OS's reason, never the
    // password.
    let connection = match connector.session().await {
        Ok(connection) => connection,
        Err(error) => {
            checks.push(DiagnosticCheck::required(
                "connect",
                false,
                error.to_string(),
            ));
            return checks;
        }
    };
    checks.push(DiagnosticCheck::required(
        "connect",
        true,
        format!(
            "signed in to database {} on {} as {}",
            config.database, connector.host, config.username
        ),
    ));
    let client = &connection.client;
    let host = connector.host.as_str();
    let schema = config.schema.as_str();
    if !step(
        &mut checks,
        "create_schema",
        create_schema(client, host, config).await,
    ) {
        return checks;
    }
    if !step(
        &mut checks,
        "create_table",
        create_table(client, schema).await,
    ) {
        return checks;
    }
    step(
        &mut checks,
        "bookkeeping",
        keep_books(client, host, config).await,
    );
    checks
}

/// Adds the check of one step; says whether it passed.
fn step(checks: &mut Vec<DiagnosticCheck>, name: &'static str, outcome: Outcome) -> bool {
    let passed = outcome.is_ok();
    let detail = outcome.unwrap_or_else(|failure| failure);
    checks.push(DiagnosticCheck::required(name, passed, detail));
    passed
}

/// The destination schema exists, or is created as the first run would create it.
async fn create_schema(client: &Client, host: &str, config: &PostgresConfig) -> Outcome {
    let schema = &config.schema;
    match create_schema_if_missing(client, host, schema.as_str()).await {
        Ok(false) => Ok(format!("schema {schema} exists")),
        Ok(true) => Ok(format!("created schema {schema}, as the first run would")),
        Err(error) => Err(format!(
            "cannot create schema {schema} (the role needs CREATE on database {}, or the schema \
             created for it): {}",
            config.database,
            reason(&error)
        )),
    }
}

/// The role may create a table in the schema: one is created in a transaction that is rolled
/// back, so nothing remains.
async fn create_table(client: &Client, schema: &str) -> Outcome {
    let table = format!(
        "{PROBE_TABLE_PREFIX}{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_subsec_nanos()
    );
    let sql = format!(
        "BEGIN; CREATE TABLE {}.{} (id int PRIMARY KEY); ROLLBACK;",
        ident(schema),
        ident(&table)
    );
    match client.batch_execute(&sql).await {
        Ok(()) => Ok(format!(
            "may create tables in schema {schema} (tried with {table}, rolled back)"
        )),
        Err(error) => {
            // The failed statement left the transaction open and aborted.
            let _ = client.batch_execute("ROLLBACK").await;
            Err(format!(
                "cannot create a table in schema {schema} (the role needs CREATE on it): {}",
                crate::error::describe(&error)
            ))
        }
    }
}

/// Rosetta's bookkeeping (schema `rosetta`) exists and the role may write it, or the role may
/// create it (tried in a transaction that is rolled back: the first run creates it).
async fn keep_books(client: &Client, host: &str, config: &PostgresConfig) -> Outcome {
    let user = &config.username;
    let may_not_write = || {
        format!(
            "Rosetta's bookkeeping (schema rosetta) exists but role {user} may not write it: \
             grant it USAGE on schema rosetta and SELECT, INSERT, UPDATE, DELETE on \
             rosetta.checkpoints and rosetta.table_syncs"
        )
    };
    // Looking inside a schema the role may not use is an error, not an answer: ask first.
    let usage: Option<bool> = client
        .query_opt(
            "SELECT has_schema_privilege(oid, 'USAGE') FROM pg_namespace \
             WHERE nspname = 'rosetta'",
            &[],
        )
        .await
        .map_err(|e| crate::error::describe(&e))
        .and_then(|row| {
            row.map(|row| row.try_get(0))
                .transpose()
                .map_err(|e| e.to_string())
        })
        .map_err(|error| format!("cannot look for Rosetta's bookkeeping: {error}"))?;
    if usage == Some(false) {
        return Err(may_not_write());
    }
    let exists = usage.is_some()
        && bookkeeping::exists(client, host).await.map_err(|error| {
            format!("cannot look for Rosetta's bookkeeping: {}", reason(&error))
        })?;
    if !exists {
        return match bookkeeping::try_create(client, host).await {
            Ok(()) => Ok(format!(
                "role {user} may create Rosetta's bookkeeping (schema rosetta), which the first \
                 run creates"
            )),
            Err(error) => Err(format!(
                "cannot create Rosetta's bookkeeping in schema rosetta (role {user} needs CREATE \
                 on database {}, or the schema created and granted to it): {}",
                config.database,
                reason(&error)
            )),
        };
    }
    let may_write: bool = client
        .query_one(WRITES_BOOKKEEPING, &[])
        .await
        .map_err(|e| crate::error::describe(&e))
        .and_then(|row| row.try_get(0).map_err(|e| e.to_string()))
        .map_err(|error| format!("cannot read the role's privileges: {error}"))?;
    if may_write {
        Ok(format!(
            "Rosetta's bookkeeping (schema rosetta) exists and role {user} may write it"
        ))
    } else {
        Err(may_not_write())
    }
}

/// Whether the role may use the bookkeeping as a run does. `has_table_privilege` with a list
/// is true when any one is held, hence one call per privilege.
const WRITES_BOOKKEEPING: &str = "\
SELECT has_schema_privilege('rosetta', 'USAGE')
    AND has_table_privilege('rosetta.checkpoints', 'SELECT')
    AND has_table_privilege('rosetta.checkpoints', 'INSERT')
    AND has_table_privilege('rosetta.checkpoints', 'UPDATE')
    AND has_table_privilege('rosetta.table_syncs', 'SELECT')
    AND has_table_privilege('rosetta.table_syncs', 'INSERT')
    AND has_table_privilege('rosetta.table_syncs', 'UPDATE')
    AND has_table_privilege('rosetta.table_syncs', 'DELETE')";

/// The cause a statement failed with, without the destination's name around it.
fn reason(error: &DestinationError) -> String {
    match error {
        DestinationError::Rejected { reason, .. }
        | DestinationError::Lost { reason, .. }
        | DestinationError::Connect { reason, .. }
        | DestinationError::Incompatible { reason, .. } => reason.clone(),
        other => other.to_string(),
    }
}
