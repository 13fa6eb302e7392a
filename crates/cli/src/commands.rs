//! The client commands: one subcommand a resource, one action each.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use rosetta_api_types::destinations::{DestinationConfigResponse, DestinationResponse};
use rosetta_api_types::pipelines::PipelineResponse;
use rosetta_api_types::source_wal::{DiagnosticCheckResponse, SlotResponse};
use rosetta_api_types::sources::SourceResponse;
use rosetta_client::Client;
use rosetta_domain::{
    DeleteMode, DestinationId, Limit, PageRequest, PipelineId, PipelineStatus, SourceId, WalBucket,
    WalMetricQuery,
};

use crate::catalogue::{self, Change, Current};
use crate::edit::{
    checked_destination, checked_source, source_changes, DestinationFields, SourceFields,
};
use crate::exit;
use crate::output::{bytes, columns, emit, or_dash, record, spelled};
use crate::remote::{Failure, Format, Remote};

/// The client commands, beside `serve`, `migrate`, ….
#[derive(Debug, Subcommand)]
pub enum Command {
    /// The sources: PostgreSQL databases to replicate from.
    Sources {
        /// What to do.
        #[command(subcommand)]
        action: SourceAction,
        /// The server.
        #[command(flatten)]
        remote: Remote,
    },
    /// The destinations: where pipelines deliver.
    Destinations {
        /// What to do.
        #[command(subcommand)]
        action: DestinationAction,
        /// The server.
        #[command(flatten)]
        remote: Remote,
    },
    /// The pipelines and their lifecycle.
    Pipelines {
        /// What to do.
        #[command(subcommand)]
        action: PipelineAction,
        /// The server.
        #[command(flatten)]
        remote: Remote,
    },
    /// The WAL samples the monitor keeps.
    Metrics {
        /// What to read.
        #[command(subcommand)]
        action: MetricsAction,
        /// The server.
        #[command(flatten)]
        remote: Remote,
    },
    /// Whether the server and its database answer (exit code 1 when unhealthy).
    Health {
        /// The server.
        #[command(flatten)]
        remote: Remote,
    },
    /// Named servers (and their keys) for --profile.
    Profile {
        /// What to do.
        #[command(subcommand)]
        action: crate::profiles::ProfileAction,
        /// The output format.
        #[arg(short, long, value_enum, global = true)]
        output: Option<Format>,
    },
    /// Write the whole catalogue as YAML, without secrets: a file for `plan` and `apply`.
    Export {
        /// The server.
        #[command(flatten)]
        remote: Remote,
    },
    /// Say what applying a catalogue file would create, change and delete.
    Plan {
        /// The catalogue file (YAML; `${VAR}` takes a value from the environment).
        #[arg(short, long)]
        file: PathBuf,
        /// Exit with code 5 when there are changes to apply (0 when none).
        #[arg(long)]
        detailed_exitcode: bool,
        /// Count the secrets of the file as changes (they cannot be compared with the stored
        /// ones).
        #[arg(long)]
        update_secrets: bool,
        /// The server.
        #[command(flatten)]
        remote: Remote,
    },
    /// Make the catalogue what a file says, in dependency order (it shows the plan and asks
    /// first); stops at the first refusal.
    Apply {
        /// The catalogue file (YAML; `${VAR}` takes a value from the environment).
        #[arg(short, long)]
        file: PathBuf,
        /// Send the file's secrets even to entries that do not change otherwise.
        #[arg(long)]
        update_secrets: bool,
        /// Whether to ask first.
        #[command(flatten)]
        confirm: Confirm,
        /// The server.
        #[command(flatten)]
        remote: Remote,
    },
}

/// A page of a list.
#[derive(Debug, Clone, Copy, Args)]
pub struct Paging {
    /// How many to skip.
    #[arg(long, default_value_t = 0)]
    skip: i64,
    /// How many at most (1–1000).
    #[arg(long, default_value_t = 100)]
    limit: i64,
}

impl Paging {
    fn page(self) -> Result<PageRequest, Failure> {
        let limit = Limit::new(self.limit).map_err(|e| Failure::usage(format!("--limit {e}")))?;
        PageRequest::new(self.skip, limit).map_err(|e| Failure::usage(format!("--skip {e}")))
    }
}

/// Asking before deleting.
#[derive(Debug, Clone, Copy, Args)]
pub struct Confirm {
    /// Do not ask.
    #[arg(long, short = 'y')]
    yes: bool,
}

impl Confirm {
    /// Whether to go on: `--yes`, or a yes typed on the terminal.
    fn granted(self, question: &str) -> Result<(), Failure> {
        if self.yes {
            return Ok(());
        }
        if !std::io::stdin().is_terminal() {
            return Err(Failure::usage(format!(
                "{question} Not asked without a terminal: add --yes"
            )));
        }
        eprint!("{question} [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if matches!(answer.trim(), "y" | "Y" | "yes" | "YES" | "Yes") {
            Ok(())
        } else {
            Err(Failure::error("not confirmed; nothing was changed"))
        }
    }
    /// Asks before deleting the `kind` `name` (`id`), and its pipelines too with `cascade`;
    /// the delete mode to ask the API for.
    fn delete(self, kind: &str, name: &str, id: i64, cascade: bool) -> Result<DeleteMode, Failure> {
        let also = if cascade {
            " and the pipelines that use it"
        } else {
            ""
        };
        self.granted(&format!("Delete {kind} {name} ({id}){also}?"))?;
        Ok(if cascade {
            DeleteMode::Cascade
        } else {
            DeleteMode::Restrict
        })
    }
}

/// What to do with sources.
#[derive(Debug, Subcommand)]
pub enum SourceAction {
    /// List the sources.
    List {
        #[command(flatten)]
        paging: Paging,
    },
    /// Show one source.
    Get {
        /// Its id.
        id: i64,
    },
    /// Create a source (its password from --password-stdin or --password-prompt).
    Create {
        #[command(flatten)]
        fields: SourceFields,
    },
    /// Change the fields given; the others, the password too, keep their value.
    Update {
        /// Its id.
        id: i64,
        #[command(flatten)]
        fields: SourceFields,
    },
    /// Delete a source (it asks first).
    Delete {
        /// Its id.
        id: i64,
        /// Delete the pipelines that use it too.
        #[arg(long)]
        cascade: bool,
        #[command(flatten)]
        confirm: Confirm,
    },
    /// Probe the source now: whether it can feed a pipeline (exit code 1 when not ready).
    Check {
        /// Its id.
        id: i64,
    },
    /// The verdict on the source's WAL and its slots (exit code 3 on a warning, 4 when
    /// critical).
    Wal {
        /// Its id.
        id: i64,
    },
}

/// What to do with destinations.
#[derive(Debug, Subcommand)]
pub enum DestinationAction {
    /// List the destinations.
    List {
        #[command(flatten)]
        paging: Paging,
    },
    /// Show one destination.
    Get {
        /// Its id.
        id: i64,
    },
    /// Create a destination: --type and its configuration as --set key=value.
    Create {
        #[command(flatten)]
        fields: DestinationFields,
    },
    /// Change its name or configuration (--set); a secret not given again is kept.
    Update {
        /// Its id.
        id: i64,
        #[command(flatten)]
        fields: DestinationFields,
    },
    /// Delete a destination (it asks first).
    Delete {
        /// Its id.
        id: i64,
        /// Delete the pipelines that use it too.
        #[arg(long)]
        cascade: bool,
        #[command(flatten)]
        confirm: Confirm,
    },
    /// Sign in and try each step a first run takes, now (exit code 1 when not ready).
    Check {
        /// Its id.
        id: i64,
    },
}

/// What to do with pipelines.
#[derive(Debug, Subcommand)]
pub enum PipelineAction {
    /// List the pipelines with their status, phase and lag.
    List {
        #[command(flatten)]
        paging: Paging,
        /// Only those asked to START, PAUSE or REFRESH.
        #[arg(long, value_parser = parse_status)]
        status: Option<PipelineStatus>,
    },
    /// Show one pipeline.
    Get {
        /// Its id.
        id: i64,
    },
    /// Create a pipeline from a source to a destination (started, unless --paused).
    Create {
        /// Its unique name.
        #[arg(long)]
        name: String,
        /// The id of its source.
        #[arg(long)]
        source: i64,
        /// The id of its destination.
        #[arg(long)]
        destination: i64,
        /// Create it paused.
        #[arg(long)]
        paused: bool,
    },
    /// Rename a pipeline, move it to another source or destination, or change its status.
    Update {
        /// Its id.
        id: i64,
        /// A new name.
        #[arg(long)]
        name: Option<String>,
        /// A new source id.
        #[arg(long)]
        source: Option<i64>,
        /// A new destination id.
        #[arg(long)]
        destination: Option<i64>,
        /// START, PAUSE or REFRESH.
        #[arg(long, value_parser = parse_status)]
        status: Option<PipelineStatus>,
    },
    /// Start a pipeline (again, after an error).
    Start {
        /// Its id.
        id: i64,
    },
    /// Pause a pipeline: it stops and keeps its position.
    Pause {
        /// Its id.
        id: i64,
    },
    /// Copy everything again from scratch (it asks first).
    Refresh {
        /// Its id.
        id: i64,
        #[command(flatten)]
        confirm: Confirm,
    },
    /// Delete a pipeline (it asks first); its slot on the source is dropped.
    Delete {
        /// Its id.
        id: i64,
        #[command(flatten)]
        confirm: Confirm,
    },
    /// Each table's state, as the data plane reports it.
    Tables {
        /// Its id.
        id: i64,
    },
    /// A live view of phase, lag and throughput, redrawn in place (Ctrl-C to stop).
    Watch {
        /// Only this pipeline.
        id: Option<i64>,
        /// Seconds between two readings.
        #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=3600))]
        interval: u64,
        /// Stop after this many readings (for scripts); until Ctrl-C without it.
        #[arg(long)]
        count: Option<u64>,
    },
}

/// What to read of the WAL samples.
#[derive(Debug, Subcommand)]
pub enum MetricsAction {
    /// WAL samples, newest first; with --bucket, summarized per bucket.
    Wal {
        /// Only this source's.
        #[arg(long)]
        source: Option<i64>,
        /// Only samples from this moment on (RFC 3339, e.g. 2026-12-01T00:00:00Z).
        #[arg(long, value_parser = parse_time)]
        from: Option<DateTime<Utc>>,
        /// Only samples before this moment (RFC 3339).
        #[arg(long, value_parser = parse_time)]
        to: Option<DateTime<Utc>>,
        /// Summarize per bucket: 1m, 5m, 1h or 1d.
        #[arg(long, value_parser = parse_bucket)]
        bucket: Option<WalBucket>,
        /// How many samples (or buckets) at most (1–1000).
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
}

fn parse_status(text: &str) -> Result<PipelineStatus, String> {
    text.to_ascii_uppercase()
        .parse()
        .map_err(|_| "must be START, PAUSE or REFRESH".to_owned())
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("not an RFC 3339 time ({e})"))
}

fn parse_bucket(text: &str) -> Result<WalBucket, String> {
    text.parse()
        .map_err(|_| "must be 1m, 5m, 1h or 1d".to_owned())
}

fn id_of(id: i64, what: &str) -> Result<i64, Failure> {
    if id >= 1 {
        Ok(id)
    } else {
        Err(Failure::usage(format!("{what} ids start at 1, not {id}")))
    }
}

impl Command {
    /// Runs the command; the exit code when it ends well.
    pub(crate) async fn run(self) -> Result<u8, Failure> {
        match self {
            Self::Sources { action, remote } => sources(action, &remote).await,
            Self::Destinations { action, remote } => destinations(action, &remote).await,
            Self::Pipelines { action, remote } => pipelines(action, &remote).await,
            Self::Metrics { action, remote } => metrics(action, &remote).await,
            Self::Health { remote } => health(&remote).await,
            Self::Export { remote } => export(&remote).await,
            Self::Profile { action, output } => {
                let format = output.unwrap_or(if std::io::stdout().is_terminal() {
                    Format::Table
                } else {
                    Format::Json
                });
                crate::profiles::run(action, format)
            }
            Self::Plan {
                file,
                detailed_exitcode,
                update_secrets,
                remote,
            } => plan(&file, detailed_exitcode, update_secrets, &remote).await,
            Self::Apply {
                file,
                update_secrets,
                confirm,
                remote,
            } => apply(&file, update_secrets, confirm, &remote).await,
        }
    }
}

fn source_record(source: &SourceResponse) -> String {
    record(&[
        ("id", source.id.to_string()),
        ("name", source.name.clone()),
        ("server", format!("{}:{}", source.pg_host, source.pg_port)),
        ("database", source.pg_database.clone()),
        ("role", source.pg_username.clone()),
        ("publication", source.publication_name.clone()),
        ("replication id", source.replication_id.to_string()),
        ("tls", spelled(&source.ssl_mode)),
        ("created", source.created_at.0.to_rfc3339()),
        ("updated", source.updated_at.0.to_rfc3339()),
    ])
}

fn checks_table(ready: bool, checks: &[DiagnosticCheckResponse]) -> String {
    let rows = checks
        .iter()
        .map(|c| {
            vec![
                c.name.clone(),
                if c.passed { "pass" } else { "FAIL" }.to_owned(),
                if c.required { "required" } else { "advice" }.to_owned(),
                c.detail.clone(),
            ]
        })
        .collect();
    format!(
        "{}\n\n{}",
        if ready { "ready" } else { "NOT READY" },
        columns(&["CHECK", "RESULT", "KIND", "DETAIL"], &[], rows)
    )
}

fn slots_table(slots: &[SlotResponse]) -> String {
    let rows = slots
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                spelled(&s.slot_type),
                if s.active { "yes" } else { "no" }.to_owned(),
                or_dash(s.wal_status.clone()),
                s.retained_bytes.map_or_else(|| "-".to_owned(), bytes),
                s.safe_wal_size_bytes.map_or_else(|| "-".to_owned(), bytes),
            ]
        })
        .collect();
    columns(
        &[
            "SLOT",
            "TYPE",
            "ACTIVE",
            "WAL_STATUS",
            "RETAINED",
            "SAFE_WAL_SIZE",
        ],
        &["RETAINED", "SAFE_WAL_SIZE"],
        rows,
    )
}

async fn sources(action: SourceAction, remote: &Remote) -> Result<u8, Failure> {
    let client = remote.client()?;
    let format = remote.format();
    match action {
        SourceAction::List { paging } => {
            let sources = client.sources(paging.page()?).await?;
            emit(format, &sources, |sources| {
                let rows = sources
                    .iter()
                    .map(|s| {
                        vec![
                            s.id.to_string(),
                            s.name.clone(),
                            format!("{}:{}", s.pg_host, s.pg_port),
                            s.pg_database.clone(),
                            s.publication_name.clone(),
                            spelled(&s.ssl_mode),
                        ]
                    })
                    .collect();
                columns(
                    &["ID", "NAME", "SERVER", "DATABASE", "PUBLICATION", "TLS"],
                    &["ID"],
                    rows,
                )
            })?;
        }
        SourceAction::Get { id } => {
            let source = client.source(SourceId::new(id_of(id, "source")?)).await?;
            emit(format, &source, source_record)?;
        }
        SourceAction::Create { fields } => {
            let wanted = checked_source(&fields.for_create()?)?;
            let source = client.create_source(&wanted).await?;
            emit(format, &source, source_record)?;
        }
        SourceAction::Update { id, fields } => {
            let id = SourceId::new(id_of(id, "source")?);
            let stored = client.source(id).await?;
            let wanted = checked_source(&fields.over(catalogue::SourceSpec::of(&stored))?)?;
            let (update, _) = source_changes(&wanted, &stored);
            if update == rosetta_domain::SourceUpdate::default() {
                emit(format, &stored, |s| {
                    format!("source {} ({}): nothing to change", s.name, s.id)
                })?;
            } else {
                let source = client.update_source(id, &update).await?;
                emit(format, &source, source_record)?;
            }
        }
        SourceAction::Delete {
            id,
            cascade,
            confirm,
        } => {
            let id = SourceId::new(id_of(id, "source")?);
            let source = client.source(id).await?;
            let mode = confirm.delete("source", &source.name, id.get(), cascade)?;
            client.delete_source(id, mode).await?;
            deleted(format, "source", id.get(), &source.name)?;
        }
        SourceAction::Check { id } => {
            let check = client
                .check_source(SourceId::new(id_of(id, "source")?))
                .await?;
            emit(format, &check, |c| checks_table(c.ready, &c.checks))?;
            return Ok(if check.ready { exit::OK } else { exit::ERROR });
        }
        SourceAction::Wal { id } => {
            let report = client
                .source_wal(SourceId::new(id_of(id, "source")?))
                .await?;
            emit(format, &report, |r| {
                let mut text = format!("verdict: {}", spelled(&r.verdict));
                for reason in &r.reasons {
                    text.push_str(&format!(
                        "\n  {}: {}",
                        spelled(&reason.severity),
                        reason.message
                    ));
                }
                text.push_str("\n\n");
                text.push_str(&slots_table(&r.slots));
                text
            })?;
            return Ok(match spelled(&report.verdict).as_str() {
                "critical" => exit::WAL_CRITICAL,
                "warning" => exit::WAL_WARNING,
                _ => exit::OK,
            });
        }
    }
    Ok(exit::OK)
}

fn deleted(format: Format, kind: &str, id: i64, name: &str) -> Result<(), Failure> {
    let done = serde_json::json!({"deleted": kind, "id": id, "name": name});
    emit(format, &done, |_| format!("deleted {kind} {name} ({id})"))
}

fn destination_target(destination: &DestinationResponse) -> String {
    match &destination.config {
        DestinationConfigResponse::Postgres(c) => {
            format!("{}:{}/{} schema {}", c.host, c.port, c.database, c.schema)
        }
        DestinationConfigResponse::Snowflake(c) => {
            format!("{} {}.{}", c.account, c.database, c.schema)
        }
    }
}

fn print_destination(format: Format, destination: &DestinationResponse) -> Result<(), Failure> {
    emit(format, destination, |d| {
        let mut fields = vec![
            ("id", d.id.to_string()),
            ("name", d.name.clone()),
            ("type", spelled(&d.destination_type)),
        ];
        // In the order the API documents them (a JSON object's order depends on serde_json's
        // features).
        match &d.config {
            DestinationConfigResponse::Postgres(c) => fields.extend([
                ("host", c.host.clone()),
                ("port", c.port.to_string()),
                ("database", c.database.clone()),
                ("username", c.username.clone()),
                ("schema", c.schema.clone()),
            ]),
            DestinationConfigResponse::Snowflake(c) => fields.extend([
                ("account", c.account.clone()),
                ("user", c.user.clone()),
                ("database", c.database.clone()),
                ("schema", c.schema.clone()),
                ("role", or_dash(c.role.clone())),
                ("warehouse", or_dash(c.warehouse.clone())),
                ("host", or_dash(c.host.clone())),
                ("private_key_path", or_dash(c.private_key_path.clone())),
                ("mode", spelled(&c.mode)),
            ]),
        }
        fields.push(("created", d.created_at.0.to_rfc3339()));
        fields.push(("updated", d.updated_at.0.to_rfc3339()));
        record(&fields)
    })
}

async fn destinations(action: DestinationAction, remote: &Remote) -> Result<u8, Failure> {
    let client = remote.client()?;
    let format = remote.format();
    match action {
        DestinationAction::List { paging } => {
            let destinations = client.destinations(paging.page()?).await?;
            emit(format, &destinations, |destinations| {
                let rows = destinations
                    .iter()
                    .map(|d| {
                        vec![
                            d.id.to_string(),
                            d.name.clone(),
                            spelled(&d.destination_type),
                            destination_target(d),
                        ]
                    })
                    .collect();
                columns(&["ID", "NAME", "TYPE", "WRITES TO"], &["ID"], rows)
            })?;
        }
        DestinationAction::Get { id } => {
            let destination = client
                .destination(DestinationId::new(id_of(id, "destination")?))
                .await?;
            print_destination(format, &destination)?;
        }
        DestinationAction::Create { fields } => {
            if fields.name.is_none() || fields.destination_type.is_none() {
                return Err(Failure::usage("a new destination needs --name and --type"));
            }
            let spec = fields.over(catalogue::DestinationSpec {
                name: String::new(),
                destination_type: String::new(),
                config: std::collections::BTreeMap::new(),
            })?;
            let destination = client
                .create_destination(&checked_destination(&spec)?)
                .await?;
            print_destination(format, &destination)?;
        }
        DestinationAction::Update { id, fields } => {
            let id = DestinationId::new(id_of(id, "destination")?);
            let stored = client.destination(id).await?;
            let wanted =
                checked_destination(&fields.over(catalogue::DestinationSpec::of(&stored))?)?;
            let update = rosetta_domain::DestinationUpdate {
                name: (wanted.name.as_str() != stored.name).then_some(wanted.name),
                config: Some(wanted.config),
            };
            let destination = client.update_destination(id, &update).await?;
            print_destination(format, &destination)?;
        }
        DestinationAction::Delete {
            id,
            cascade,
            confirm,
        } => {
            let id = DestinationId::new(id_of(id, "destination")?);
            let destination = client.destination(id).await?;
            let mode = confirm.delete("destination", &destination.name, id.get(), cascade)?;
            client.delete_destination(id, mode).await?;
            deleted(format, "destination", id.get(), &destination.name)?;
        }
        DestinationAction::Check { id } => {
            let check = client
                .check_destination(DestinationId::new(id_of(id, "destination")?))
                .await?;
            emit(format, &check, |c| checks_table(c.ready, &c.checks))?;
            return Ok(if check.ready { exit::OK } else { exit::ERROR });
        }
    }
    Ok(exit::OK)
}

fn lag(pipeline: &PipelineResponse) -> String {
    let metadata = &pipeline.pipeline_metadata;
    match (metadata.lag_bytes, metadata.lag_seconds) {
        (Some(b), Some(s)) => format!("{} / {s:.1} s", bytes(i64::try_from(b).unwrap_or(i64::MAX))),
        (Some(b), None) => bytes(i64::try_from(b).unwrap_or(i64::MAX)),
        _ => "-".to_owned(),
    }
}

fn phase(pipeline: &PipelineResponse) -> String {
    pipeline
        .pipeline_metadata
        .phase
        .as_ref()
        .map_or_else(|| "-".to_owned(), spelled)
}

fn pipeline_record(p: &PipelineResponse) -> String {
    let m = &p.pipeline_metadata;
    record(&[
        ("id", p.id.to_string()),
        ("name", p.name.clone()),
        ("source", format!("{} ({})", p.source.name, p.source_id)),
        (
            "destination",
            format!("{} ({})", p.destination.name, p.destination_id),
        ),
        ("asked to", spelled(&p.status)),
        ("state", spelled(&m.status)),
        ("phase", phase(p)),
        ("lag", lag(p)),
        ("rows copied", m.rows_copied.to_string()),
        ("changes applied", m.changes_applied.to_string()),
        ("confirmed lsn", or_dash(m.confirmed_lsn.clone())),
        ("last error", or_dash(m.last_error.clone())),
    ])
}

async fn pipelines(action: PipelineAction, remote: &Remote) -> Result<u8, Failure> {
    let client = remote.client()?;
    let format = remote.format();
    match action {
        PipelineAction::List { paging, status } => {
            let pipelines = client.pipelines(paging.page()?, status).await?;
            emit(format, &pipelines, |pipelines| {
                let rows = pipelines
                    .iter()
                    .map(|p| {
                        vec![
                            p.id.to_string(),
                            p.name.clone(),
                            p.source.name.clone(),
                            p.destination.name.clone(),
                            spelled(&p.status),
                            spelled(&p.pipeline_metadata.status),
                            phase(p),
                            lag(p),
                            p.pipeline_metadata.changes_applied.to_string(),
                        ]
                    })
                    .collect();
                columns(
                    &[
                        "ID",
                        "NAME",
                        "SOURCE",
                        "DESTINATION",
                        "ASKED",
                        "STATE",
                        "PHASE",
                        "LAG",
                        "CHANGES",
                    ],
                    &["ID", "CHANGES"],
                    rows,
                )
            })?;
        }
        PipelineAction::Get { id } => {
            let pipeline = client.pipeline(pipeline_id(id)?).await?;
            emit(format, &pipeline, pipeline_record)?;
        }
        PipelineAction::Create {
            name,
            source,
            destination,
            paused,
        } => {
            let request = rosetta_domain::NewPipelineRequest {
                name: rosetta_domain::Name::parse(&name)
                    .map_err(|e| Failure::usage(format!("--name: {e}")))?,
                source_id: SourceId::new(id_of(source, "source")?),
                destination_id: DestinationId::new(id_of(destination, "destination")?),
                status: if paused {
                    rosetta_domain::InitialPipelineStatus::Pause
                } else {
                    rosetta_domain::InitialPipelineStatus::Start
                },
            };
            let pipeline = client.create_pipeline(&request).await?;
            emit(format, &pipeline, pipeline_record)?;
        }
        PipelineAction::Update {
            id,
            name,
            source,
            destination,
            status,
        } => {
            let update = rosetta_domain::PipelineUpdateRequest {
                name: name
                    .map(|n| rosetta_domain::Name::parse(&n))
                    .transpose()
                    .map_err(|e| Failure::usage(format!("--name: {e}")))?,
                source_id: source
                    .map(|s| id_of(s, "source").map(SourceId::new))
                    .transpose()?,
                destination_id: destination
                    .map(|d| id_of(d, "destination").map(DestinationId::new))
                    .transpose()?,
                status,
            };
            let pipeline = client.update_pipeline(pipeline_id(id)?, &update).await?;
            emit(format, &pipeline, pipeline_record)?;
        }
        PipelineAction::Start { id } => {
            let pipeline = client.start_pipeline(pipeline_id(id)?).await?;
            changed(format, &pipeline)?;
        }
        PipelineAction::Pause { id } => {
            let pipeline = client.pause_pipeline(pipeline_id(id)?).await?;
            changed(format, &pipeline)?;
        }
        PipelineAction::Refresh { id, confirm } => {
            let id = pipeline_id(id)?;
            let pipeline = client.pipeline(id).await?;
            confirm.granted(&format!(
                "Refresh pipeline {} ({id})? Its tables are copied again from scratch.",
                pipeline.name
            ))?;
            let pipeline = client.refresh_pipeline(id).await?;
            changed(format, &pipeline)?;
        }
        PipelineAction::Delete { id, confirm } => {
            let id = pipeline_id(id)?;
            let pipeline = client.pipeline(id).await?;
            confirm.granted(&format!(
                "Delete pipeline {} ({id})? Its slot on the source is dropped.",
                pipeline.name
            ))?;
            client.delete_pipeline(id).await?;
            deleted(format, "pipeline", id.get(), &pipeline.name)?;
        }
        PipelineAction::Watch {
            id,
            interval,
            count,
        } => {
            let only = id.map(pipeline_id).transpose()?;
            crate::watch::run(&client, format, only, interval, count).await?;
        }
        PipelineAction::Tables { id } => {
            let tables = client.pipeline_tables(pipeline_id(id)?).await?;
            emit(format, &tables, |tables| {
                let rows = tables
                    .iter()
                    .map(|t| {
                        vec![
                            format!("{}.{}", t.schema, t.name),
                            spelled(&t.state),
                            t.rows_copied.to_string(),
                            or_dash(t.error.clone()),
                        ]
                    })
                    .collect();
                columns(
                    &["TABLE", "STATE", "ROWS COPIED", "ERROR"],
                    &["ROWS COPIED"],
                    rows,
                )
            })?;
        }
    }
    Ok(exit::OK)
}

fn pipeline_id(id: i64) -> Result<PipelineId, Failure> {
    id_of(id, "pipeline").map(PipelineId::new)
}

fn changed(format: Format, pipeline: &PipelineResponse) -> Result<(), Failure> {
    emit(format, pipeline, |p| {
        format!(
            "pipeline {} ({}): asked to {}, {}",
            p.name,
            p.id,
            spelled(&p.status),
            spelled(&p.pipeline_metadata.status)
        )
    })
}

async fn metrics(action: MetricsAction, remote: &Remote) -> Result<u8, Failure> {
    let client = remote.client()?;
    let format = remote.format();
    let MetricsAction::Wal {
        source,
        from,
        to,
        bucket,
        limit,
    } = action;
    let query = WalMetricQuery {
        source_id: source
            .map(|id| id_of(id, "source").map(SourceId::new))
            .transpose()?,
        from,
        to,
        limit: Limit::new(limit).map_err(|e| Failure::usage(format!("--limit {e}")))?,
    };
    match bucket {
        Some(bucket) => {
            let buckets = client.wal_series(&query, bucket).await?;
            emit(format, &buckets, |buckets| {
                let rows = buckets
                    .iter()
                    .map(|b| {
                        vec![
                            b.bucket_start.0.to_rfc3339(),
                            bytes(b.min_bytes),
                            bytes(b.max_bytes),
                            bytes(b.last_bytes),
                            b.samples.to_string(),
                        ]
                    })
                    .collect();
                columns(
                    &["BUCKET", "MIN", "MAX", "LAST", "SAMPLES"],
                    &["MIN", "MAX", "LAST", "SAMPLES"],
                    rows,
                )
            })?;
        }
        None => {
            let samples = client.wal_metrics(&query).await?;
            emit(format, &samples, |samples| {
                let rows = samples
                    .iter()
                    .map(|s| {
                        vec![
                            s.id.to_string(),
                            s.source_id.to_string(),
                            bytes(s.size_bytes),
                            s.recorded_at.0.to_rfc3339(),
                        ]
                    })
                    .collect();
                columns(
                    &["ID", "SOURCE", "WAL POSITION", "RECORDED"],
                    &["ID", "SOURCE", "WAL POSITION"],
                    rows,
                )
            })?;
        }
    }
    Ok(exit::OK)
}

async fn health(remote: &Remote) -> Result<u8, Failure> {
    let client: Client = remote.client()?;
    let health = client.health().await?;
    emit(remote.format(), &health, |h| {
        let yes = |ok: bool| if ok { "ok" } else { "DOWN" }.to_owned();
        record(&[
            ("status", h.status.clone()),
            ("version", h.version.clone()),
            ("database", yes(h.checks.database)),
            ("wal monitor", yes(h.checks.wal_monitor)),
            ("replicator", yes(h.checks.replicator)),
        ])
    })?;
    Ok(if health.checks.database {
        exit::OK
    } else {
        exit::ERROR
    })
}

async fn export(remote: &Remote) -> Result<u8, Failure> {
    let client = remote.client()?;
    let file = Current::read(&client).await?.export();
    if remote.output == Some(Format::Json) {
        emit(Format::Json, &file, |_| String::new())?;
    } else {
        let yaml = yaml_serde::to_string(&file)
            .map_err(|e| Failure::error(format!("cannot write YAML: {e}")))?;
        println!(
            "# The catalogue of {}, exported {}.\n# Secrets are never exported: give them as ${{VARIABLE}}, read from the environment.\n{yaml}",
            remote.target()?.0,
            Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
    }
    Ok(exit::OK)
}

fn read_file(path: &Path) -> Result<catalogue::CatalogueFile, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::error(format!("cannot read {}: {e}", path.display())))?;
    catalogue::parse(&text, &|name| std::env::var(name).ok())
        .map_err(|e| Failure::error(format!("{}: {e}", path.display())))
}

fn summary(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "No changes.".to_owned();
    }
    let count = |action: &str| changes.iter().filter(|c| c.action == action).count();
    let mut lines: Vec<String> = changes.iter().map(Change::line).collect();
    lines.push(format!(
        "Plan: {} to create, {} to change, {} to delete.",
        count("create"),
        count("update"),
        count("delete")
    ));
    lines.join("\n")
}

async fn plan(
    path: &Path,
    detailed: bool,
    update_secrets: bool,
    remote: &Remote,
) -> Result<u8, Failure> {
    let file = read_file(path)?;
    let client = remote.client()?;
    let changes = catalogue::plan(&file, &Current::read(&client).await?, update_secrets)?;
    emit(remote.format(), &changes, |changes| summary(changes))?;
    Ok(if detailed && !changes.is_empty() {
        exit::CHANGES
    } else {
        exit::OK
    })
}

async fn apply(
    path: &Path,
    update_secrets: bool,
    confirm: Confirm,
    remote: &Remote,
) -> Result<u8, Failure> {
    let file = read_file(path)?;
    let client = remote.client()?;
    let current = Current::read(&client).await?;
    let changes = catalogue::plan(&file, &current, update_secrets)?;
    let format = remote.format();
    if changes.is_empty() {
        emit(format, &changes, |_| "No changes.".to_owned())?;
        return Ok(exit::OK);
    }
    eprintln!("{}", summary(&changes));
    confirm.granted(&format!("Apply these {} change(s)?", changes.len()))?;
    let mut done = Vec::new();
    let result = catalogue::apply(&client, &current, &changes, &mut |line| {
        if format == Format::Table {
            println!("{line}");
        }
        done.push(line);
    })
    .await;
    if format != Format::Table {
        emit(format, &done, |_| String::new())?;
    }
    result?;
    if format == Format::Table {
        println!("Applied {} change(s).", changes.len());
    }
    Ok(exit::OK)
}
