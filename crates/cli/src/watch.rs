//! `rosetta pipelines watch`: the pipelines' phase, lag and throughput, read again every few
//! seconds and redrawn in place on a terminal. The throughput is the rise of each pipeline's
//! count of changes applied between two readings, per second.

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use rosetta_api_types::pipelines::PipelineResponse;
use rosetta_client::Client;
use rosetta_domain::{Limit, PageRequest, PipelineId};
use serde::Serialize;

use crate::output::{bytes, columns, spelled};
use crate::remote::{Failure, Format};

/// One pipeline in one reading.
#[derive(Debug, Serialize)]
struct Row {
    id: i64,
    name: String,
    status: String,
    phase: Option<String>,
    lag_bytes: Option<u64>,
    lag_seconds: Option<f64>,
    changes_applied: u64,
    /// Changes per second since the reading before; `null` on the first.
    changes_per_second: Option<f64>,
}

/// One reading.
#[derive(Debug, Serialize)]
struct Reading {
    at: String,
    pipelines: Vec<Row>,
}

/// Reads and shows the pipelines (`only` one) every `interval` seconds, `count` times or until
/// interrupted.
pub async fn run(
    client: &Client,
    format: Format,
    only: Option<PipelineId>,
    interval: u64,
    count: Option<u64>,
) -> Result<(), Failure> {
    let terminal = std::io::stdout().is_terminal();
    let mut before: HashMap<i64, (u64, Instant)> = HashMap::new();
    let mut readings = 0_u64;
    loop {
        let pipelines: Vec<PipelineResponse> = match only {
            Some(id) => vec![client.pipeline(id).await?],
            None => {
                let limit =
                    Limit::new(i64::from(Limit::MAX)).map_err(|e| Failure::error(e.to_string()))?;
                let page = PageRequest::new(0, limit).map_err(|e| Failure::error(e.to_string()))?;
                client.pipelines(page, None).await?
            }
        };
        let now = Instant::now();
        let rows: Vec<Row> = pipelines
            .iter()
            .map(|p| {
                let m = &p.pipeline_metadata;
                let rate = before.get(&p.id).map(|(changes, at)| {
                    let seconds = now.duration_since(*at).as_secs_f64().max(0.001);
                    m.changes_applied.saturating_sub(*changes) as f64 / seconds
                });
                Row {
                    id: p.id,
                    name: p.name.clone(),
                    status: spelled(&m.status),
                    phase: m.phase.as_ref().map(spelled),
                    lag_bytes: m.lag_bytes,
                    lag_seconds: m.lag_seconds,
                    changes_applied: m.changes_applied,
                    changes_per_second: rate,
                }
            })
            .collect();
        before = rows
            .iter()
            .map(|r| (r.id, (r.changes_applied, now)))
            .collect();
        let reading = Reading {
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            pipelines: rows,
        };
        show(format, terminal, &reading, interval);
        readings += 1;
        if count.is_some_and(|count| readings >= count) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_secs(interval)).await;
    }
}

fn show(format: Format, terminal: bool, reading: &Reading, interval: u64) {
    let mut out = std::io::stdout().lock();
    let text = match format {
        // One JSON object a line, a line a reading.
        Format::Json | Format::Yaml => serde_json::to_string(reading).unwrap_or_default(),
        Format::Table => {
            let rows = reading
                .pipelines
                .iter()
                .map(|r| {
                    vec![
                        r.id.to_string(),
                        r.name.clone(),
                        r.status.clone(),
                        r.phase.clone().unwrap_or_else(|| "-".to_owned()),
                        r.lag_bytes.map_or_else(
                            || "-".to_owned(),
                            |b| bytes(i64::try_from(b).unwrap_or(i64::MAX)),
                        ),
                        r.lag_seconds
                            .map_or_else(|| "-".to_owned(), |s| format!("{s:.1} s")),
                        r.changes_applied.to_string(),
                        r.changes_per_second
                            .map_or_else(|| "-".to_owned(), |rate| format!("{rate:.1}")),
                    ]
                })
                .collect();
            let table = columns(
                &[
                    "ID",
                    "NAME",
                    "STATE",
                    "PHASE",
                    "LAG",
                    "LAG TIME",
                    "CHANGES",
                    "CHANGES/S",
                ],
                &["ID", "LAG", "LAG TIME", "CHANGES", "CHANGES/S"],
                rows,
            );
            let heading = format!("{}  (every {interval} s, Ctrl-C to stop)", reading.at);
            if terminal {
                // Home and clear: the view is redrawn in place.
                format!("\x1b[H\x1b[2J{heading}\n\n{table}")
            } else {
                format!("{heading}\n{table}\n")
            }
        }
    };
    let _ = writeln!(out, "{text}");
    let _ = out.flush();
}
