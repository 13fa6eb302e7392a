//! Snowflake's REST protocol, as its drivers speak it: a key-pair sign-in
//! (`/session/v1/login-request`) that returns a session token, then one statement per
//! `/queries/v1/query-request`, with positional text bindings.
//!
//! A session is Snowflake's: its transaction lasts from `BEGIN` to `COMMIT` across requests.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use ring::rand::{SecureRandom, SystemRandom};
use serde::Deserialize;
use serde_json::{json, Map, Value};
use url::Url;

use crate::auth::{JwtIssuer, KeyError};

/// Why talking to Snowflake failed. Messages carry Snowflake's own code, message and query id,
/// and never a token, a key or a passphrase.
#[derive(Debug, thiserror::Error)]
pub enum SnowflakeError {
    /// The private key could not be read or decrypted.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// Snowflake could not be reached (a connection refused, a timeout, a TLS failure).
    #[error("cannot reach {url}: {reason}")]
    Unreachable {
        /// The address tried (no credentials in it).
        url: String,
        /// The cause.
        reason: String,
    },
    /// Snowflake refused the sign-in (a wrong key, an unknown user, a disabled account).
    #[error(
        "Snowflake refused the sign-in of {user} to account {account}: {message} (code {code})"
    )]
    SignIn {
        /// The account signed in to.
        account: String,
        /// The user.
        user: String,
        /// Snowflake's error code (`390144` for a JWT it does not accept).
        code: String,
        /// Snowflake's message.
        message: String,
    },
    /// The session token expired or was refused: signing in again may help.
    #[error("the Snowflake session ended: {message} (code {code})")]
    SessionEnded {
        /// Snowflake's error code (`390112`, `390104`, …).
        code: String,
        /// Snowflake's message.
        message: String,
    },
    /// Snowflake refused a statement.
    #[error("Snowflake refused the statement: {message} (code {code}, SQL state {sql_state}, query id {query_id})")]
    Statement {
        /// Snowflake's error code (`002003`: an object does not exist, `000606`: no warehouse).
        code: String,
        /// The SQL state.
        sql_state: String,
        /// Snowflake's message.
        message: String,
        /// The query's id, to look it up in Snowflake's query history (`unknown` when none).
        query_id: String,
    },
    /// Snowflake answered with a server error or an answer this client does not understand.
    #[error("Snowflake answered {url} with {status}: {message}")]
    Server {
        /// The address (no credentials in it).
        url: String,
        /// The HTTP status.
        status: u16,
        /// What it said, or what was wrong with the answer.
        message: String,
    },
}

impl SnowflakeError {
    /// Whether trying again later, without anyone changing anything, may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unreachable { .. } | Self::SessionEnded { .. } => true,
            Self::Server { status, .. } => *status >= 500 || *status == 429,
            Self::Key(_) | Self::SignIn { .. } | Self::Statement { .. } => false,
        }
    }
}

/// What a session is opened on: the account's address and the names it uses.
#[derive(Debug, Clone)]
pub struct Target {
    /// The account's base URL (see [`crate::endpoint::base_url`]).
    pub base: Url,
    /// The database the session uses.
    pub database: String,
    /// The schema the session uses.
    pub schema: String,
    /// The role to assume; the user's default when `None`.
    pub role: Option<String>,
    /// The warehouse that runs statements; the user's default when `None`.
    pub warehouse: Option<String>,
}

/// Signs in to Snowflake with a key pair; one per destination.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    target: Arc<Target>,
    issuer: Arc<JwtIssuer>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.target.base.as_str())
            .field("account", &self.issuer.account_identifier())
            .finish_non_exhaustive()
    }
}

/// How long a request may take before the account counts as unreachable.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// How long establishing a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Sign-in attempts when Snowflake cannot be reached or answers 5xx, with their pauses.
const SIGN_IN_BACKOFF: [Duration; 3] = [
    Duration::from_millis(250),
    Duration::from_secs(1),
    Duration::from_secs(4),
];

/// The HTTP client every session of a process shares: rustls on ring with the webpki roots.
///
/// # Errors
///
/// When TLS cannot be set up (ring always offers the default protocol versions).
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .user_agent(concat!("Rosetta/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

impl Client {
    /// A client of `target` signing in as the issuer's user.
    pub fn new(http: reqwest::Client, target: Target, issuer: JwtIssuer) -> Self {
        Self {
            http,
            target: Arc::new(target),
            issuer: Arc::new(issuer),
        }
    }

    /// The account's base URL.
    pub fn base(&self) -> &Url {
        &self.target.base
    }

    /// The target's names.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The account and user, as Snowflake names them (`XY12345`, `LOADER`).
    pub fn identity(&self) -> (&str, &str) {
        (self.issuer.account_identifier(), self.issuer.user())
    }

    /// Opens a session: signs in with a new JWT, retrying with backoff while Snowflake cannot
    /// be reached or answers with a server error.
    ///
    /// # Errors
    ///
    /// `Key` (the token cannot be signed), `SignIn` (refused), `Unreachable` or `Server` after
    /// the last attempt.
    pub async fn sign_in(&self) -> Result<Session, SnowflakeError> {
        let mut pauses = SIGN_IN_BACKOFF.iter();
        loop {
            match self.sign_in_once().await {
                Err(error) if error.is_transient() => match pauses.next() {
                    Some(pause) => {
                        tracing::info!(%error, retry_in = ?pause, "Snowflake sign-in failed; trying again");
                        tokio::time::sleep(*pause).await;
                    }
                    None => return Err(error),
                },
                outcome => return outcome,
            }
        }
    }

    async fn sign_in_once(&self) -> Result<Session, SnowflakeError> {
        let target = &self.target;
        let mut url = endpoint(&target.base, "session/v1/login-request")?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("databaseName", &target.database);
            query.append_pair("schemaName", &target.schema);
            if let Some(role) = &target.role {
                query.append_pair("roleName", role);
            }
            if let Some(warehouse) = &target.warehouse {
                query.append_pair("warehouse", warehouse);
            }
            query.append_pair("requestId", &request_id());
        }
        let token = self.issuer.token(Utc::now())?;
        let body = json!({
            "data": {
                "CLIENT_APP_ID": "Rosetta",
                "CLIENT_APP_VERSION": env!("CARGO_PKG_VERSION"),
                "ACCOUNT_NAME": self.issuer.account_identifier(),
                "LOGIN_NAME": self.issuer.user(),
                "AUTHENTICATOR": "SNOWFLAKE_JWT",
                "TOKEN": token,
                "SESSION_PARAMETERS": {
                    "AUTOCOMMIT": true,
                    "TIMEZONE": "UTC",
                    "QUERY_TAG": "rosetta",
                },
            }
        });
        let answer = post(&self.http, url, None, &body).await?;
        if !answer.success {
            let (code, message) = answer.code_and_message();
            return Err(SnowflakeError::SignIn {
                account: self.issuer.account_identifier().to_owned(),
                user: self.issuer.user().to_owned(),
                code,
                message,
            });
        }
        let token = answer
            .data
            .as_ref()
            .and_then(|data| data.get("token"))
            .and_then(Value::as_str)
            .ok_or_else(|| SnowflakeError::Server {
                url: target.base.to_string(),
                status: 200,
                message: "the sign-in answer holds no session token".to_owned(),
            })?;
        let master = answer
            .data
            .as_ref()
            .and_then(|data| data.get("masterToken"))
            .and_then(Value::as_str)
            .map(str::to_owned);
        Ok(Session {
            http: self.http.clone(),
            base: target.base.clone(),
            token: token.to_owned(),
            master,
            sequence: 0,
        })
    }
}

/// A signed-in Snowflake session.
pub struct Session {
    http: reqwest::Client,
    base: Url,
    token: String,
    /// The master token Snowflake gives at sign-in (valid for hours), which renews the
    /// session token (valid for one hour) in the same session, its transaction kept.
    master: Option<String>,
    sequence: u64,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("base", &self.base.as_str())
            .field("statements", &self.sequence)
            .finish_non_exhaustive()
    }
}

/// What a statement returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The statement's id in Snowflake's query history.
    pub query_id: String,
    /// Its rows, sent as JSON (a DML statement's counts always are) or as Arrow (a query's,
    /// when Snowflake chooses it); each value as text, `None` for NULL.
    pub rows: Vec<Vec<Option<String>>>,
}

impl Outcome {
    /// The first value of the first row as a count (the rows a DML statement changed).
    pub fn count(&self) -> Option<u64> {
        self.rows.first()?.first()?.as_deref()?.parse().ok()
    }
}

/// Snowflake's codes for a query still running: the answer says where to fetch its result.
const QUERY_IN_PROGRESS: [&str; 2] = ["333333", "333334"];
/// Snowflake's codes for a session token that expired or is no longer valid.
const SESSION_GONE: [&str; 4] = ["390104", "390112", "390114", "390103"];
/// Snowflake's code for a session token that expired (the master token renews it).
const TOKEN_EXPIRED: &str = "390112";
/// How long to wait between polls of a running query.
const POLL_PAUSE: Duration = Duration::from_millis(200);

impl Session {
    /// Runs one statement with positional bindings (`?` in `sql`), each bound as text (`None`
    /// binds NULL).
    ///
    /// # Errors
    ///
    /// `Statement` when Snowflake refuses it, `SessionEnded` when the token is no longer valid,
    /// `Unreachable` or `Server` when the request failed: then whether it ran is unknown.
    pub async fn execute(
        &mut self,
        sql: &str,
        bindings: &[Option<&str>],
    ) -> Result<Outcome, SnowflakeError> {
        self.sequence += 1;
        let mut url = endpoint(&self.base, "queries/v1/query-request")?;
        url.query_pairs_mut()
            .append_pair("requestId", &request_id());
        let mut body = json!({
            "sqlText": sql,
            "asyncExec": false,
            "sequenceId": self.sequence,
            "querySubmissionTime": Utc::now().timestamp_millis(),
        });
        if !bindings.is_empty() {
            let bound: Map<String, Value> = bindings
                .iter()
                .enumerate()
                .map(|(i, value)| {
                    (
                        (i + 1).to_string(),
                        json!({ "type": "TEXT", "value": value }),
                    )
                })
                .collect();
            body["bindings"] = Value::Object(bound);
        }
        let mut answer = post(&self.http, url.clone(), Some(&self.token), &body).await?;
        if !answer.success && answer.code.as_deref() == Some(TOKEN_EXPIRED) && self.renew().await {
            answer = post(&self.http, url, Some(&self.token), &body).await?;
        }
        while !answer.success && QUERY_IN_PROGRESS.contains(&answer.code.as_deref().unwrap_or("")) {
            let Some(path) = answer
                .data
                .as_ref()
                .and_then(|data| data.get("getResultUrl"))
                .and_then(Value::as_str)
            else {
                break;
            };
            tokio::time::sleep(POLL_PAUSE).await;
            let url = self.base.join(path).map_err(|e| SnowflakeError::Server {
                url: self.base.to_string(),
                status: 200,
                message: format!("the result address {path:?} does not parse: {e}"),
            })?;
            answer = get(&self.http, url, &self.token).await?;
        }
        answer.into_outcome()
    }

    /// Renews the session token with the master token, as Snowflake's drivers do when a
    /// statement answers that the session token expired: the session, and its transaction,
    /// go on. Says whether it did; when it did not (no master token, or the master token
    /// expired too), the statement's error stands and the session has ended.
    async fn renew(&mut self) -> bool {
        let Some(master) = self.master.clone() else {
            return false;
        };
        let Ok(mut url) = endpoint(&self.base, "session/token-request") else {
            return false;
        };
        url.query_pairs_mut()
            .append_pair("requestId", &request_id());
        let body = json!({ "oldSessionToken": self.token, "requestType": "RENEW" });
        match post(&self.http, url, Some(&master), &body).await {
            Ok(answer) if answer.success => match renewed_tokens(answer.data.as_ref()) {
                Some((token, master)) => {
                    self.token = token;
                    if let Some(master) = master {
                        self.master = Some(master);
                    }
                    tracing::debug!("renewed the Snowflake session token");
                    true
                }
                None => false,
            },
            Ok(answer) => {
                let (code, message) = answer.code_and_message();
                tracing::info!(%code, %message, "Snowflake refused to renew the session token");
                false
            }
            Err(error) => {
                tracing::info!(%error, "could not renew the Snowflake session token");
                false
            }
        }
    }

    /// Ends the session on Snowflake, which rolls back a transaction left open. Errors are
    /// only logged: the session expires on its own.
    pub async fn close(self) {
        let Ok(mut url) = endpoint(&self.base, "session") else {
            return;
        };
        url.query_pairs_mut().append_pair("delete", "true");
        if let Err(error) = post(&self.http, url, Some(&self.token), &json!({})).await {
            tracing::debug!(%error, "could not end the Snowflake session");
        }
    }
}

/// Snowflake's envelope: `{"data": …, "code": …, "message": …, "success": …}`.
#[derive(Debug, Deserialize)]
struct Answer {
    data: Option<Value>,
    code: Option<String>,
    message: Option<String>,
    #[serde(default)]
    success: bool,
}

impl Answer {
    fn code_and_message(&self) -> (String, String) {
        (
            self.code.clone().unwrap_or_else(|| "unknown".to_owned()),
            self.message
                .clone()
                .unwrap_or_else(|| "no message".to_owned()),
        )
    }

    fn into_outcome(self) -> Result<Outcome, SnowflakeError> {
        let data = self.data.as_ref();
        let text = |field: &str| data.and_then(|d| d.get(field)).and_then(Value::as_str);
        let query_id = text("queryId").unwrap_or("unknown").to_owned();
        if !self.success {
            let (code, message) = self.code_and_message();
            if SESSION_GONE.contains(&code.as_str()) {
                return Err(SnowflakeError::SessionEnded { code, message });
            }
            return Err(SnowflakeError::Statement {
                sql_state: text("sqlState").unwrap_or("unknown").to_owned(),
                code,
                message,
                query_id,
            });
        }
        // A large result comes in chunks fetched from addresses of their own, which this client
        // does not read: Rosetta's queries (its bookkeeping, the catalogue) return a few rows.
        if data
            .and_then(|d| d.get("chunks"))
            .and_then(Value::as_array)
            .is_some_and(|chunks| !chunks.is_empty())
        {
            return Err(SnowflakeError::Server {
                url: "queries/v1/query-request".to_owned(),
                status: 200,
                message: format!(
                    "the result of query {query_id} came in chunks, which this client does not read"
                ),
            });
        }
        // Snowflake sends a result as Arrow when asked to (and fakesnow always does for a
        // query); an empty `rowsetBase64` means no rows. A DML statement's counts stay JSON.
        if let Some(encoded) = text("rowsetBase64").filter(|encoded| !encoded.is_empty()) {
            use base64::Engine as _;
            let rows = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|e| format!("it is not base64: {e}"))
                .and_then(|ipc| crate::arrow::read_rows(&ipc).map_err(|e| e.to_string()))
                .map_err(|why| SnowflakeError::Server {
                    url: "queries/v1/query-request".to_owned(),
                    status: 200,
                    message: format!("cannot read the result of query {query_id}: {why}"),
                })?;
            return Ok(Outcome { query_id, rows });
        }
        let rows = data
            .and_then(|d| d.get("rowset"))
            .and_then(Value::as_array)
            .map(|rows| {
                rows.iter()
                    .map(|row| {
                        row.as_array()
                            .map(|values| values.iter().map(as_text).collect())
                            .unwrap_or_default()
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Outcome { query_id, rows })
    }
}

/// The session token (and the new master token, if any) a renewal answered with.
fn renewed_tokens(data: Option<&Value>) -> Option<(String, Option<String>)> {
    let data = data?;
    let token = data.get("sessionToken")?.as_str()?.to_owned();
    let master = data
        .get("masterToken")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Some((token, master))
}

fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

fn endpoint(base: &Url, path: &str) -> Result<Url, SnowflakeError> {
    base.join(path).map_err(|e| SnowflakeError::Server {
        url: base.to_string(),
        status: 0,
        message: format!("cannot make the address of {path}: {e}"),
    })
}

async fn post(
    http: &reqwest::Client,
    url: Url,
    token: Option<&str>,
    body: &Value,
) -> Result<Answer, SnowflakeError> {
    let mut request = http.post(url.clone()).json(body);
    if let Some(token) = token {
        request = request.header("Authorization", format!("Snowflake Token=\"{token}\""));
    }
    send(request.header("Accept", "application/snowflake"), &url).await
}

async fn get(http: &reqwest::Client, url: Url, token: &str) -> Result<Answer, SnowflakeError> {
    let request = http
        .get(url.clone())
        .header("Authorization", format!("Snowflake Token=\"{token}\""))
        .header("Accept", "application/snowflake");
    send(request, &url).await
}

/// Sends a request and reads Snowflake's envelope. Session errors come back as 401 with an
/// envelope; other statuses without one are server errors.
async fn send(request: reqwest::RequestBuilder, url: &Url) -> Result<Answer, SnowflakeError> {
    let shown = shown(url);
    let response = request
        .send()
        .await
        .map_err(|e| SnowflakeError::Unreachable {
            url: shown.clone(),
            reason: reason(&e),
        })?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| SnowflakeError::Unreachable {
            url: shown.clone(),
            reason: reason(&e),
        })?;
    match serde_json::from_slice::<Answer>(&body) {
        Ok(answer) if status.is_success() || answer.code.is_some() => {
            if status.is_server_error() {
                let (_, message) = answer.code_and_message();
                return Err(SnowflakeError::Server {
                    url: shown,
                    status: status.as_u16(),
                    message,
                });
            }
            Ok(answer)
        }
        _ => Err(SnowflakeError::Server {
            url: shown,
            status: status.as_u16(),
            message: if status.is_success() {
                "the answer is not Snowflake's JSON".to_owned()
            } else {
                status.canonical_reason().unwrap_or("error").to_owned()
            },
        }),
    }
}

/// The address without its query (which holds only request ids, but keep messages short).
fn shown(url: &Url) -> String {
    let mut url = url.clone();
    url.set_query(None);
    url.to_string()
}

/// reqwest's error with its causes, which say what actually failed (refused, timed out, TLS).
fn reason(error: &reqwest::Error) -> String {
    let mut reason = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        reason.push_str(": ");
        reason.push_str(&cause.to_string());
        source = cause.source();
    }
    reason
}

/// A random UUID (version 4), as Snowflake wants request ids.
fn request_id() -> String {
    let mut bytes = [0_u8; 16];
    if SystemRandom::new().fill(&mut bytes).is_err() {
        // The OS generator does not fail on Linux; a time-based id is unique enough.
        let nanos = Utc::now().timestamp_nanos_opt().unwrap_or_default();
        bytes[..8].copy_from_slice(&nanos.to_le_bytes());
        bytes[8..].copy_from_slice(&nanos.rotate_left(29).to_le_bytes());
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_version_4_uuids() {
        let id = request_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(id, request_id());
    }

    #[test]
    fn errors_read_snowflakes_envelope() {
        let answer: Answer = serde_json::from_str(
            r#"{"data":{"errorCode":"002003","sqlState":"42S02","queryId":"01b2"},"code":"002003","message":"Table 'T' does not exist","success":false}"#,
        )
        .unwrap();
        let error = answer.into_outcome().unwrap_err();
        assert_eq!(
            error.to_string(),
            "Snowflake refused the statement: Table 'T' does not exist (code 002003, SQL state 42S02, query id 01b2)"
        );
        assert!(!error.is_transient());
        let expired: Answer = serde_json::from_str(
            r#"{"data":null,"code":"390112","message":"Your session has expired. Please login again.","success":false}"#,
        )
        .unwrap();
        assert!(expired.into_outcome().unwrap_err().is_transient());
    }

    #[test]
    fn a_renewal_answers_a_new_session_token_and_maybe_a_new_master_token() {
        let data = json!({"sessionToken": "st-2", "validityInSecondsST": 3600,
                          "masterToken": "mt-2", "validityInSecondsMT": 14400});
        assert_eq!(
            renewed_tokens(Some(&data)),
            Some(("st-2".to_owned(), Some("mt-2".to_owned())))
        );
        let only_session = json!({"sessionToken": "st-3"});
        assert_eq!(
            renewed_tokens(Some(&only_session)),
            Some(("st-3".to_owned(), None))
        );
        assert_eq!(renewed_tokens(Some(&json!({}))), None);
        assert_eq!(renewed_tokens(None), None);
    }

    #[test]
    fn dml_counts_come_from_the_json_rowset() {
        let answer: Answer = serde_json::from_str(
            r#"{"data":{"queryId":"q1","queryResultFormat":"json","rowset":[["3", null]]},"success":true}"#,
        )
        .unwrap();
        let outcome = answer.into_outcome().unwrap();
        assert_eq!(outcome.query_id, "q1");
        assert_eq!(outcome.count(), Some(3));
        assert_eq!(outcome.rows, vec![vec![Some("3".to_owned()), None]]);
    }

    /// pyarrow's Arrow stream of `ID` int32 and `NAME` utf8 holding (1, 'a') and (2, NULL).
    use crate::arrow::tests::SMALL as ARROW_ROWS;

    fn arrow_answer(rowset: &str) -> Answer {
        serde_json::from_value(json!({
            "data": {"queryId": "q2", "queryResultFormat": "arrow", "rowsetBase64": rowset},
            "success": true,
        }))
        .unwrap()
    }

    #[test]
    fn query_rows_come_from_the_arrow_rowset() {
        let outcome = arrow_answer(ARROW_ROWS).into_outcome().unwrap();
        assert_eq!(outcome.query_id, "q2");
        assert_eq!(
            outcome.rows,
            vec![
                vec![Some("1".to_owned()), Some("a".to_owned())],
                vec![Some("2".to_owned()), None],
            ]
        );
        assert_eq!(outcome.count(), Some(1));
        assert!(arrow_answer("").into_outcome().unwrap().rows.is_empty());
    }

    #[test]
    fn an_arrow_rowset_that_cannot_be_read_is_a_server_error_naming_the_query() {
        let error = arrow_answer("not base64!").into_outcome().unwrap_err();
        assert!(matches!(error, SnowflakeError::Server { status: 200, .. }));
        assert!(
            error
                .to_string()
                .contains("cannot read the result of query q2: it is not base64"),
            "{error}"
        );
        let error = arrow_answer(&ARROW_ROWS[..200]).into_outcome().unwrap_err();
        assert!(
            error
                .to_string()
                .contains("cannot read the result of query q2: truncated Arrow stream"),
            "{error}"
        );
        assert!(!error.is_transient());
    }
}
