//! An async client of Rosetta's REST API (`docs/api.md`): one method per route, taking the
//! domain's own input types (`NewSource`, `SourceUpdate`, `NewDestination`, …, each value
//! validated as the server validates it) and answering the API's own response types from
//! `rosetta-api-types`, the ones the server writes. A refusal is an [`Error::Api`] with the
//! API's code, message and failing fields.
//!
//! The crate has no web framework and no database driver: reqwest (rustls) over tokio.
//!
//! ```no_run
//! use rosetta_client::Client;
//!
//! # async fn run() -> Result<(), rosetta_client::Error> {
//! let client = Client::new("http://127.0.0.1:8000")?.with_api_key("my-key");
//! for pipeline in client.pipelines(Default::default(), None).await? {
//!     println!("{} {:?}", pipeline.name, pipeline.pipeline_metadata.phase);
//! }
//! # Ok(())
//! # }
//! ```
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

mod error;

use std::time::Duration;

pub use error::Error;
pub use rosetta_api_types as types;

use reqwest::{Method, StatusCode};
use rosetta_api_types::destinations::{DestinationDiagnosticsResponse, DestinationResponse};
use rosetta_api_types::error::ErrorBody;
use rosetta_api_types::health::{HealthResponse, LiveResponse};
use rosetta_api_types::pipeline_runtime::PipelineTableResponse;
use rosetta_api_types::pipelines::PipelineResponse;
use rosetta_api_types::requests::{
    CreateDestination, CreatePipeline, CreateSource, UpdateDestination, UpdatePipeline,
    UpdateSource,
};
use rosetta_api_types::source_wal::{SourceCheckResponse, SourceWalResponse};
use rosetta_api_types::sources::SourceResponse;
use rosetta_api_types::wal_metrics::{WalBucketResponse, WalMetricResponse};
use rosetta_domain::{
    DeleteMode, DestinationId, DestinationUpdate, NewDestination, NewPipelineRequest, NewSource,
    PageRequest, PipelineId, PipelineStatus, PipelineUpdateRequest, SourceId, SourceUpdate,
    WalBucket, WalMetricQuery,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use url::Url;

/// How long a call may take, unless [`Client::with_timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A client of one Rosetta server.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    api_key: Option<String>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is a secret: only whether there is one.
        f.debug_struct("Client")
            .field("base", &self.base.as_str())
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// What a list call leaves out: `skip` and `limit` (the server's default page when not
/// given).
pub type Page = PageRequest;

impl Client {
    /// A client of the server at `base_url` (`http://127.0.0.1:8000`, or an `https://`
    /// address; a path prefix is kept, for a server behind a proxy).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUrl`] when `base_url` is not an http(s) URL.
    pub fn new(base_url: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidUrl {
            url: base_url.to_owned(),
            reason: reason.to_owned(),
        };
        let base = Url::parse(base_url).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(invalid("it must be an http:// or https:// address"));
        }
        Ok(Self {
            http: http_client(DEFAULT_TIMEOUT)?,
            base,
            api_key: None,
        })
    }

    /// The same client, sending `key` as its bearer API key.
    #[must_use]
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// The same client, giving up on a call after `timeout`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidUrl`] never; [`Error::Unreachable`] if no HTTP client can be built.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self, Error> {
        self.http = http_client(timeout)?;
        Ok(self)
    }

    /// The server's address.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base.as_str().trim_end_matches('/'))
    }

    fn unreachable(&self, error: &reqwest::Error) -> Error {
        // The innermost cause says it best ("Connection refused", "operation timed out").
        let mut reason = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            reason = cause.to_string();
            source = cause.source();
        }
        if error.is_timeout() {
            reason = format!("no answer in time ({reason})");
        }
        Error::Unreachable {
            url: self.base.to_string(),
            reason,
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&(dyn ErasedBody + Sync)>,
    ) -> Result<(StatusCode, bytes::Bytes), Error> {
        let mut request = self.http.request(method, self.url(path));
        if !query.is_empty() {
            request = request.query(query);
        }
        if let Some(key) = &self.api_key {
            request = request.bearer_auth(key);
        }
        if let Some(body) = body {
            let json = body.to_json().map_err(|e| Error::Unexpected {
                url: self.base.to_string(),
                status: 0,
                detail: format!("the request body cannot be written: {e}"),
            })?;
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(json);
        }
        let response = request.send().await.map_err(|e| self.unreachable(&e))?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(|e| self.unreachable(&e))?;
        Ok((status, bytes))
    }

    /// The API's error from a refusal's body, or what was answered instead.
    fn refusal(&self, status: StatusCode, bytes: &[u8]) -> Error {
        match serde_json::from_slice::<ErrorBody>(bytes) {
            Ok(body) => Error::Api {
                status: status.as_u16(),
                body: Box::new(body),
            },
            Err(_) => Error::Unexpected {
                url: self.base.to_string(),
                status: status.as_u16(),
                detail: excerpt(bytes),
            },
        }
    }

    fn read<T: DeserializeOwned>(&self, status: StatusCode, bytes: &[u8]) -> Result<T, Error> {
        serde_json::from_slice(bytes).map_err(|e| Error::Unexpected {
            url: self.base.to_string(),
            status: status.as_u16(),
            detail: format!("{e}: {}", excerpt(bytes)),
        })
    }

    async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&(dyn ErasedBody + Sync)>,
    ) -> Result<T, Error> {
        let (status, bytes) = self.call(method, path, query, body).await?;
        if !status.is_success() {
            return Err(self.refusal(status, &bytes));
        }
        self.read(status, &bytes)
    }

    async fn no_content(&self, path: &str, query: &[(&str, String)]) -> Result<(), Error> {
        let (status, bytes) = self.call(Method::DELETE, path, query, None).await?;
        if status.is_success() {
            Ok(())
        } else {
            Err(self.refusal(status, &bytes))
        }
    }

    // --- Health -----------------------------------------------------------------------------

    /// `GET /api/v1/health`: the service's health, healthy or not (a `503` answers the same
    /// body, with `status` `unhealthy`).
    ///
    /// # Errors
    ///
    /// [`Error::Unreachable`], [`Error::Api`] (`401` with a wrong key), [`Error::Unexpected`].
    pub async fn health(&self) -> Result<HealthResponse, Error> {
        let (status, bytes) = self.call(Method::GET, "/api/v1/health", &[], None).await?;
        if status.is_success() || status == StatusCode::SERVICE_UNAVAILABLE {
            if let Ok(health) = serde_json::from_slice(&bytes) {
                return Ok(health);
            }
        }
        Err(self.refusal(status, &bytes))
    }

    /// `GET /health/live`: whether the process serves requests.
    ///
    /// # Errors
    ///
    /// [`Error::Unreachable`], [`Error::Unexpected`].
    pub async fn live(&self) -> Result<LiveResponse, Error> {
        self.json(Method::GET, "/health/live", &[], None).await
    }

    // --- Sources ----------------------------------------------------------------------------

    /// `GET /api/v1/sources`: a page of sources, by id.
    ///
    /// # Errors
    ///
    /// [`Error::Api`], [`Error::Unreachable`], [`Error::Unexpected`] (as every call).
    pub async fn sources(&self, page: Page) -> Result<Vec<SourceResponse>, Error> {
        self.json(Method::GET, "/api/v1/sources", &page_query(page), None)
            .await
    }

    /// `GET /api/v1/sources/{id}`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] `EntityNotFoundError` when there is no such source.
    pub async fn source(&self, id: SourceId) -> Result<SourceResponse, Error> {
        self.json(Method::GET, &format!("/api/v1/sources/{id}"), &[], None)
            .await
    }

    /// `POST /api/v1/sources`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] `ValidationError` or `DuplicateEntityError`.
    pub async fn create_source(&self, source: &NewSource) -> Result<SourceResponse, Error> {
        self.json(
            Method::POST,
            "/api/v1/sources",
            &[],
            Some(&CreateSource(source)),
        )
        .await
    }

    /// `PUT /api/v1/sources/{id}`: only the fields `update` sets change (the password too).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] `EntityNotFoundError`, `ValidationError`, `DuplicateEntityError`.
    pub async fn update_source(
        &self,
        id: SourceId,
        update: &SourceUpdate,
    ) -> Result<SourceResponse, Error> {
        self.json(
            Method::PUT,
            &format!("/api/v1/sources/{id}"),
            &[],
            Some(&UpdateSource(update)),
        )
        .await
    }

    /// `DELETE /api/v1/sources/{id}`; with [`DeleteMode::Cascade`], its pipelines too.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] `EntityNotFoundError`, or `EntityInUseError` naming the pipelines.
    pub async fn delete_source(&self, id: SourceId, mode: DeleteMode) -> Result<(), Error> {
        self.no_content(&format!("/api/v1/sources/{id}"), &delete_query(mode))
            .await
    }

    /// `POST /api/v1/sources/{id}/check`: the diagnostics of a probe made now.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] `EntityNotFoundError`.
    pub async fn check_source(&self, id: SourceId) -> Result<SourceCheckResponse, Error> {
        self.json(
            Method::POST,
            &format!("/api/v1/sources/{id}/check"),
            &[],
            None,
        )
        .await
    }

    /// `GET /api/v1/sources/{id}/wal`: the WAL verdict, the latest probe and its slots.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] `EntityNotFoundError`.
    pub async fn source_wal(&self, id: SourceId) -> Result<SourceWalResponse, Error> {
        self.json(Method::GET, &format!("/api/v1/sources/{id}/wal"), &[], None)
            .await
    }

    // --- Destinations -----------------------------------------------------------------------

    /// `GET /api/v1/destinations`: a page of destinations, by id.
    ///
    /// # Errors
    ///
    /// As every call.
    pub async fn destinations(&self, page: Page) -> Result<Vec<DestinationResponse>, Error> {
        self.json(Method::GET, "/api/v1/destinations", &page_query(page), None)
            .await
    }

    /// `GET /api/v1/destinations/{id}`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] `EntityNotFoundError`.
    pub async fn destination(&self, id: DestinationId) -> Result<DestinationResponse, Error> {
        self.json(
            Method::GET,
            &format!("/api/v1/destinations/{id}"),
            &[],
            None,
        )
        .await
    }

    /// `POST /api/v1/destinations`, typed by its configuration.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] `ValidationError` or `DuplicateEntityError`.
    pub async fn create_destination(
        &self,
        destination: &NewDestination,
    ) -> Result<DestinationResponse, Error> {
        self.json(
            Method::POST,
            "/api/v1/destinations",
            &[],
            Some(&CreateDestination(destination)),
        )
        .await
    }

    /// `PUT /api/v1/destinations/{id}`: a new name, and a replacement configuration (one of
    /// the stored type without its secret keeps the stored secret).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] `EntityNotFoundError`, `ValidationError`, `DuplicateEntityError`.
    pub async fn update_destination(
        &self,
        id: DestinationId,
        update: &DestinationUpdate,
    ) -> Result<DestinationResponse, Error> {
        self.json(
            Method::PUT,
            &format!("/api/v1/destinations/{id}"),
            &[],
            Some(&UpdateDestination(update)),
        )
        .await
    }

    /// `DELETE /api/v1/destinations/{id}`; with [`DeleteMode::Cascade`], its pipelines too.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] `EntityNotFoundError`, or `EntityInUseError` naming the pipelines.
    pub async fn delete_destination(
        &self,
        id: DestinationId,
        mode: DeleteMode,
    ) -> Result<(), Error> {
        self.no_content(&format!("/api/v1/destinations/{id}"), &delete_query(mode))
            .await
    }

    /// `POST /api/v1/destinations/{id}/check`: sign in and each step a first run takes, now.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] `EntityNotFoundError`.
    pub async fn check_destination(
        &self,
        id: DestinationId,
    ) -> Result<DestinationDiagnosticsResponse, Error> {
        self.json(
            Method::POST,
            &format!("/api/v1/destinations/{id}/check"),
            &[],
            None,
        )
        .await
    }

    // --- Pipelines --------------------------------------------------------------------------

    /// `GET /api/v1/pipelines`: a page of pipelines, by id; only those asked to be in
    /// `status` when given.
    ///
    /// # Errors
    ///
    /// As every call.
    pub async fn pipelines(
        &self,
        page: Page,
        status: Option<PipelineStatus>,
    ) -> Result<Vec<PipelineResponse>, Error> {
        let mut query = page_query(page);
        if let Some(status) = status {
            query.push(("status", status.as_str().to_owned()));
        }
        self.json(Method::GET, "/api/v1/pipelines", &query, None)
            .await
    }

    /// `GET /api/v1/pipelines/{id}`: the pipeline with its source, destination and runtime
    /// state.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] `EntityNotFoundError`.
    pub async fn pipeline(&self, id: PipelineId) -> Result<PipelineResponse, Error> {
        self.json(Method::GET, &format!("/api/v1/pipelines/{id}"), &[], None)
            .await
    }

    /// `POST /api/v1/pipelines`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] `ValidationError`, `DuplicateEntityError`, or `EntityNotFoundError` for
    /// a missing source or destination.
    pub async fn create_pipeline(
        &self,
        pipeline: &NewPipelineRequest,
    ) -> Result<PipelineResponse, Error> {
        self.json(
            Method::POST,
            "/api/v1/pipelines",
            &[],
            Some(&CreatePipeline(pipeline)),
        )
        .await
    }

    /// `PUT /api/v1/pipelines/{id}`: only the fields `update` sets change; a status change has
    /// the effects of the matching action.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] `EntityNotFoundError`, `ValidationError`, `DuplicateEntityError`.
    pub async fn update_pipeline(
        &self,
        id: PipelineId,
        update: &PipelineUpdateRequest,
    ) -> Result<PipelineResponse, Error> {
        self.json(
            Method::PUT,
            &format!("/api/v1/pipelines/{id}"),
            &[],
            Some(&UpdatePipeline(update)),
        )
        .await
    }

    /// `DELETE /api/v1/pipelines/{id}`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] `EntityNotFoundError`.
    pub async fn delete_pipeline(&self, id: PipelineId) -> Result<(), Error> {
        self.no_content(&format!("/api/v1/pipelines/{id}"), &[])
            .await
    }

    /// `POST /api/v1/pipelines/{id}/start`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] `EntityNotFoundError`.
    pub async fn start_pipeline(&self, id: PipelineId) -> Result<PipelineResponse, Error> {
        self.action(id, "start").await
    }

    /// `POST /api/v1/pipelines/{id}/pause`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] `EntityNotFoundError`.
    pub async fn pause_pipeline(&self, id: PipelineId) -> Result<PipelineResponse, Error> {
        self.action(id, "pause").await
    }

    /// `POST /api/v1/pipelines/{id}/refresh`: copy everything again from scratch.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] `EntityNotFoundError`.
    pub async fn refresh_pipeline(&self, id: PipelineId) -> Result<PipelineResponse, Error> {
        self.action(id, "refresh").await
    }

    async fn action(&self, id: PipelineId, action: &str) -> Result<PipelineResponse, Error> {
        self.json(
            Method::POST,
            &format!("/api/v1/pipelines/{id}/{action}"),
            &[],
            None,
        )
        .await
    }

    /// `GET /api/v1/pipelines/{id}/tables`: each table's state, as the data plane reports it.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] `EntityNotFoundError`.
    pub async fn pipeline_tables(
        &self,
        id: PipelineId,
    ) -> Result<Vec<PipelineTableResponse>, Error> {
        self.json(
            Method::GET,
            &format!("/api/v1/pipelines/{id}/tables"),
            &[],
            None,
        )
        .await
    }

    // --- WAL metrics ------------------------------------------------------------------------

    /// `GET /api/v1/metrics/wal`: WAL samples, newest first.
    ///
    /// # Errors
    ///
    /// As every call.
    pub async fn wal_metrics(
        &self,
        query: &WalMetricQuery,
    ) -> Result<Vec<WalMetricResponse>, Error> {
        self.json(Method::GET, "/api/v1/metrics/wal", &wal_query(query), None)
            .await
    }

    /// `GET /api/v1/metrics/wal?bucket=…`: the samples summarized per bucket of `bucket`
    /// width, newest bucket first.
    ///
    /// # Errors
    ///
    /// As every call.
    pub async fn wal_series(
        &self,
        query: &WalMetricQuery,
        bucket: WalBucket,
    ) -> Result<Vec<WalBucketResponse>, Error> {
        let mut params = wal_query(query);
        params.push(("bucket", bucket.as_str().to_owned()));
        self.json(Method::GET, "/api/v1/metrics/wal", &params, None)
            .await
    }
}

/// A request body, whatever its type (so that `call` is not generic over it).
trait ErasedBody {
    fn to_json(&self) -> Result<Vec<u8>, serde_json::Error>;
}

impl<T: Serialize> ErasedBody for T {
    fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        serde_json::to_vec(self)
    }
}

fn http_client(timeout: Duration) -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("rosetta-client/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Unreachable {
            url: String::new(),
            reason: format!("cannot build an HTTP client: {e}"),
        })
}

fn page_query(page: Page) -> Vec<(&'static str, String)> {
    vec![
        ("skip", page.skip().to_string()),
        ("limit", page.limit().get().to_string()),
    ]
}

fn delete_query(mode: DeleteMode) -> Vec<(&'static str, String)> {
    match mode {
        DeleteMode::Restrict => Vec::new(),
        DeleteMode::Cascade => vec![("cascade", "true".to_owned())],
    }
}

fn wal_query(query: &WalMetricQuery) -> Vec<(&'static str, String)> {
    let mut params = vec![("limit", query.limit.get().to_string())];
    if let Some(source) = query.source_id {
        params.push(("source_id", source.get().to_string()));
    }
    let time =
        |at: chrono::DateTime<chrono::Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
    if let Some(from) = query.from {
        params.push(("from", time(from)));
    }
    if let Some(to) = query.to {
        params.push(("to", time(to)));
    }
    params
}

/// The start of an answer that could not be read, for the error message.
fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    if text.is_empty() {
        return "an empty body".to_owned();
    }
    let mut cut: String = text.chars().take(200).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_addresses_are_servers() {
        assert!(Client::new("http://127.0.0.1:8000").is_ok());
        assert!(Client::new("https://rosetta.example.com/prefix/").is_ok());
        for bad in ["127.0.0.1:8000", "ftp://example.com", "not a url", ""] {
            assert!(
                matches!(Client::new(bad), Err(Error::InvalidUrl { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn paths_keep_the_servers_prefix() {
        let client = Client::new("https://example.com/rosetta/").unwrap();
        assert_eq!(
            client.url("/api/v1/sources"),
            "https://example.com/rosetta/api/v1/sources"
        );
    }

    #[test]
    fn the_api_key_never_shows_in_debug() {
        let client = Client::new("http://127.0.0.1:8000")
            .unwrap()
            .with_api_key("super-secret-key");
        let shown = format!("{client:?}");
        assert!(!shown.contains("super-secret-key"), "{shown}");
        assert!(shown.contains("<set>"), "{shown}");
    }

    #[test]
    fn an_answer_that_cannot_be_read_is_quoted_briefly() {
        assert_eq!(excerpt(b"  "), "an empty body");
        let long = "x".repeat(500);
        assert_eq!(excerpt(long.as_bytes()).chars().count(), 201);
    }
}
