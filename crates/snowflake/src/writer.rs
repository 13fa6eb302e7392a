//! `SnowflakeWriter`: the destination port for Snowflake accounts.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use rosetta_domain::ports::{DestinationError, DestinationSession, DestinationWriter};
use rosetta_domain::{
    Destination, DestinationConfig, DiagnosticCheck, PipelineId, SnowflakeConfig,
};

use crate::auth::{JwtIssuer, KeyPair};
use crate::bookkeeping::Run;
use crate::client::{Client, Session, SnowflakeError, Target};
use crate::endpoint::base_url;
use crate::session::SnowflakeSession;
use crate::sql;

/// Signs in to Snowflake destinations with their key pairs.
#[derive(Debug, Clone)]
pub struct SnowflakeWriter {
    /// Shared by every session (its connections and TLS set-up). Should building it fail (it
    /// cannot with ring), every sign-in reports why.
    http: Result<reqwest::Client, String>,
}

impl Default for SnowflakeWriter {
    fn default() -> Self {
        Self::new()
    }
}

impl SnowflakeWriter {
    /// A writer whose sessions share one HTTP client.
    pub fn new() -> Self {
        let http = crate::client::http_client().map_err(|e| {
            tracing::warn!(error = %e, "TLS is unavailable: Snowflake destinations cannot be reached");
            format!("TLS is unavailable: {e}")
        });
        Self { http }
    }

    /// A client of the destination's account signing with `key`.
    fn client(&self, config: &SnowflakeConfig, key: KeyPair) -> Result<Client, Step> {
        let base = base_url(
            config.account.as_str(),
            config.host.as_ref().map(|h| h.as_str()),
        )
        .map_err(|e| Step::failed("sign_in", e.to_string()))?;
        let target = Target {
            base,
            database: config.database.as_str().to_owned(),
            schema: config.schema.as_str().to_owned(),
            role: config.role.as_ref().map(|r| r.as_str().to_owned()),
            warehouse: config.warehouse.as_ref().map(|w| w.as_str().to_owned()),
        };
        let http = self
            .http
            .clone()
            .map_err(|reason| Step::failed("sign_in", reason))?;
        let issuer = JwtIssuer::new(config.account.as_str(), config.user.as_str(), key);
        Ok(Client::new(http, target, issuer))
    }
}

/// The destination's key, read and decrypted off the async threads (decrypting may take a
/// while by design).
async fn read_key(config: &SnowflakeConfig) -> Result<KeyPair, Step> {
    let path = config.private_key_path.as_ref().ok_or_else(|| {
        Step::failed(
            "private_key",
            "no private_key_path is set: Rosetta signs in to Snowflake with a key pair".to_owned(),
        )
    })?;
    let path = PathBuf::from(path.as_str());
    let passphrase = config
        .private_key_passphrase
        .as_ref()
        .map(|secret| secret.expose().to_owned());
    tokio::task::spawn_blocking(move || KeyPair::read(&path, passphrase.as_deref()))
        .await
        .map_err(|e| Step::failed("private_key", format!("reading the key stopped: {e}")))?
        .map_err(|e| Step::failed("private_key", e.to_string()))
}

/// A sign-in that failed, as the destination port says it: refused (a wrong key, an unknown
/// user) is `Rejected`, since trying again will not help; unreachable is `Connect`.
pub(crate) fn connect_error(host: &str, error: SnowflakeError) -> DestinationError {
    if error.is_transient() {
        DestinationError::Connect {
            host: host.to_owned(),
            reason: error.to_string(),
        }
    } else {
        DestinationError::Rejected {
            table: format!("the sign-in to {host}"),
            reason: error.to_string(),
        }
    }
}

/// A failed step of a check.
struct Step(DiagnosticCheck);

impl Step {
    fn failed(name: &'static str, detail: String) -> Self {
        Self(required(name, false, detail))
    }
}

fn required(name: &'static str, passed: bool, detail: String) -> DiagnosticCheck {
    DiagnosticCheck::required(name, passed, detail)
}

impl SnowflakeWriter {
    async fn run_checks(&self, config: &SnowflakeConfig, checks: &mut Vec<DiagnosticCheck>) {
        let key = match read_key(config).await {
            Ok(key) => key,
            Err(Step(check)) => return checks.push(check),
        };
        let fingerprint = key.fingerprint().to_owned();
        checks.push(required(
            "private_key",
            true,
            format!(
                "read the private key; its public key's fingerprint is {fingerprint} \
                 (Snowflake shows it as the user's RSA_PUBLIC_KEY_FP)"
            ),
        ));
        let client = match self.client(config, key) {
            Ok(client) => client,
            Err(Step(check)) => return checks.push(check),
        };
        let mut session = match client.sign_in().await {
            Ok(session) => session,
            Err(error) => return checks.push(required("sign_in", false, error.to_string())),
        };
        let (account, user) = client.identity();
        checks.push(required(
            "sign_in",
            true,
            format!(
                "signed in to account {account} at {} as {user}",
                client.base()
            ),
        ));
        let outcome = write_checks(&mut session, client.target(), checks).await;
        session.close().await;
        if let Err(Step(check)) = outcome {
            checks.push(check);
        }
    }
}

/// The warehouse, schema and table steps, on a signed-in session.
async fn write_checks(
    session: &mut Session,
    target: &Target,
    checks: &mut Vec<DiagnosticCheck>,
) -> Result<(), Step> {
    let fail =
        |name: &'static str| move |error: SnowflakeError| Step::failed(name, error.to_string());
    match &target.warehouse {
        Some(warehouse) => {
            session
                .execute(
                    &format!("USE WAREHOUSE {}", sql::identifier(warehouse)),
                    &[],
                )
                .await
                .map_err(fail("warehouse"))?;
            checks.push(required(
                "warehouse",
                true,
                format!("warehouse {warehouse} is usable"),
            ));
        }
        None => checks.push(DiagnosticCheck::advice(
            "warehouse",
            false,
            "no warehouse is set: loads run on the user's default warehouse, and fail if it \
             has none",
        )),
    }
    let schema = sql::schema(&target.database, &target.schema);
    session
        .execute(&format!("CREATE SCHEMA IF NOT EXISTS {schema}"), &[])
        .await
        .map_err(fail("create_schema"))?;
    checks.push(required(
        "create_schema",
        true,
        format!("schema {schema} exists or was created"),
    ));
    let table = format!(
        "{schema}.{}",
        sql::identifier(&format!("ROSETTA_CHECK_{}", check_suffix()))
    );
    session
        .execute(
            &format!("CREATE TABLE IF NOT EXISTS {table} (\"ID\" NUMBER(38,0))"),
            &[],
        )
        .await
        .map_err(fail("create_table"))?;
    let wrote = session
        .execute(
            &format!("INSERT INTO {table} (\"ID\") VALUES (?)"),
            &[Some("1")],
        )
        .await;
    let dropped = session
        .execute(&format!("DROP TABLE IF EXISTS {table}"), &[])
        .await;
    wrote.map_err(fail("create_table"))?;
    dropped.map_err(fail("create_table"))?;
    checks.push(required(
        "create_table",
        true,
        format!("created, wrote and dropped table {table}"),
    ));
    Ok(())
}

/// A suffix no other check running now uses: this process's id, a counter, and the time.
fn check_suffix() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        chrono::Utc::now().timestamp_subsec_nanos()
    )
}

#[async_trait]
impl DestinationWriter for SnowflakeWriter {
    #[tracing::instrument(skip(self, destination), fields(destination_id = %destination.id))]
    async fn open(
        &self,
        destination: &Destination,
        pipeline: PipelineId,
        epoch: u64,
    ) -> Result<Box<dyn DestinationSession>, DestinationError> {
        let DestinationConfig::Snowflake(config) = &destination.config else {
            return Err(DestinationError::Rejected {
                table: format!("destination {}", destination.name),
                reason: format!(
                    "a {} destination, not a Snowflake one",
                    destination.config.destination_type()
                ),
            });
        };
        let host = config.host.as_ref().map_or_else(
            || config.account.as_str().to_owned(),
            |h| h.as_str().to_owned(),
        );
        let refused = |Step(check): Step| DestinationError::Rejected {
            table: format!("destination {}", destination.name),
            reason: check.detail,
        };
        let key = read_key(config).await.map_err(refused)?;
        let client = self.client(config, key).map_err(refused)?;
        let session = client
            .sign_in()
            .await
            .map_err(|e| connect_error(&host, e))?;
        let run = Run { pipeline, epoch };
        let opened = SnowflakeSession::open(client, session, host, run, config.mode).await?;
        Ok(Box::new(opened))
    }

    #[tracing::instrument(skip(self, destination), fields(destination_id = %destination.id))]
    async fn check(&self, destination: &Destination) -> Vec<DiagnosticCheck> {
        let DestinationConfig::Snowflake(config) = &destination.config else {
            return vec![required(
                "writer",
                false,
                format!(
                    "{} is a {} destination, not a Snowflake one",
                    destination.name,
                    destination.config.destination_type()
                ),
            )];
        };
        let mut checks = Vec::new();
        self.run_checks(config, &mut checks).await;
        checks
    }
}
