//! Pipelines as code: `export` writes the catalogue as a file, `plan` says what applying a
//! file would create, change and delete, `apply` does it, in dependency order, stopping at the
//! first refusal and saying what it had done.
//!
//! Names identify: an entry of the file is the source, destination or pipeline of that name on
//! the server. Secrets (from `${VAR}`s) are sent when an entry is created, or changed for
//! another reason; an unchanged entry keeps its stored secret unless `--update-secrets`, since
//! a stored secret cannot be read to compare. So applying the same file twice changes nothing.

mod file;

use std::collections::BTreeMap;

use rosetta_api_types::destinations::DestinationResponse;
use rosetta_api_types::pipelines::PipelineResponse;
use rosetta_api_types::sources::SourceResponse;
use rosetta_client::Client;
use rosetta_domain::{
    DeleteMode, DestinationId, DestinationUpdate, Limit, NewDestination, NewPipelineRequest,
    NewSource, PageRequest, PipelineId, PipelineStatus, PipelineUpdateRequest, SourceId,
    SourceUpdate,
};
use serde::Serialize;

pub use file::{parse, CatalogueFile, DestinationSpec, SourceSpec, SECRET_FIELDS};
use file::{shown, wanted_config, PipelineSpec};

use crate::output::spelled;
use crate::remote::Failure;

/// What the server holds now.
pub struct Current {
    sources: Vec<SourceResponse>,
    destinations: Vec<DestinationResponse>,
    pipelines: Vec<PipelineResponse>,
}

/// Every page of a list.
async fn all<T, F, Fut>(mut page: F) -> Result<Vec<T>, Failure>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, rosetta_client::Error>>,
{
    let limit = Limit::new(i64::from(Limit::MAX)).map_err(|e| Failure::error(e.to_string()))?;
    let mut items = Vec::new();
    loop {
        let skip = i64::try_from(items.len()).unwrap_or(i64::MAX);
        let request = PageRequest::new(skip, limit).map_err(|e| Failure::error(e.to_string()))?;
        let got = page(request).await?;
        let done = got.len() < usize::from(Limit::MAX);
        items.extend(got);
        if done {
            return Ok(items);
        }
    }
}

impl Current {
    /// Reads the whole catalogue.
    pub async fn read(client: &Client) -> Result<Self, Failure> {
        Ok(Self {
            sources: all(|p| client.sources(p)).await?,
            destinations: all(|p| client.destinations(p)).await?,
            pipelines: all(|p| client.pipelines(p, None)).await?,
        })
    }

    /// The catalogue as a file, without secrets.
    pub fn export(&self) -> CatalogueFile {
        CatalogueFile {
            sources: self.sources.iter().map(SourceSpec::of).collect(),
            destinations: self.destinations.iter().map(DestinationSpec::of).collect(),
            pipelines: self.pipelines.iter().map(PipelineSpec::of).collect(),
        }
    }
}

/// One change of a plan.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// `create`, `update` or `delete`.
    pub action: &'static str,
    /// `source`, `destination` or `pipeline`.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// For an update, the fields that change.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    #[serde(skip)]
    step: Step,
}

#[derive(Debug, Clone)]
enum Step {
    CreateSource(NewSource),
    UpdateSource(SourceId, SourceUpdate),
    DeleteSource(SourceId),
    CreateDestination(NewDestination),
    UpdateDestination(DestinationId, DestinationUpdate),
    DeleteDestination(DestinationId),
    CreatePipeline {
        spec: PipelineSpec,
        status: rosetta_domain::InitialPipelineStatus,
    },
    UpdatePipeline {
        id: PipelineId,
        spec: PipelineSpec,
        status: Option<PipelineStatus>,
        moves: bool,
    },
    DeletePipeline(PipelineId),
}

impl Change {
    fn new(
        action: &'static str,
        kind: &'static str,
        name: &str,
        fields: Vec<String>,
        step: Step,
    ) -> Self {
        Self {
            action,
            kind,
            name: name.to_owned(),
            fields,
            step,
        }
    }

    /// The line `plan` prints: `+ source orders`, `~ pipeline p (status)`, `- destination d`.
    pub fn line(&self) -> String {
        let sign = match self.action {
            "create" => "+",
            "update" => "~",
            _ => "-",
        };
        if self.fields.is_empty() {
            format!("{sign} {} {}", self.kind, self.name)
        } else {
            format!(
                "{sign} {} {} ({})",
                self.kind,
                self.name,
                self.fields.join(", ")
            )
        }
    }
}

/// What applying `file` to `current` would do, in the order it would be done; or every
/// failing value of the file.
pub fn plan(
    file: &CatalogueFile,
    current: &Current,
    update_secrets: bool,
) -> Result<Vec<Change>, Failure> {
    let mut errors = Vec::new();
    let mut creates = Vec::new();
    let mut updates = Vec::new();
    let mut deletes = Vec::new();
    duplicates(
        "sources",
        file.sources.iter().map(|s| s.name.to_ascii_lowercase()),
        &mut errors,
    );
    duplicates(
        "destinations",
        file.destinations
            .iter()
            .map(|d| d.name.to_ascii_lowercase()),
        &mut errors,
    );
    duplicates(
        "pipelines",
        file.pipelines.iter().map(|p| p.name.to_ascii_lowercase()),
        &mut errors,
    );

    for (i, spec) in file.sources.iter().enumerate() {
        let Some(wanted) = spec.to_new(&format!("sources[{i}]"), &mut errors) else {
            continue;
        };
        let name = wanted.name.as_str().to_owned();
        match current
            .sources
            .iter()
            .find(|s| s.name == wanted.name.as_str())
        {
            None => creates.push(Change::new(
                "create",
                "source",
                &name,
                vec![],
                Step::CreateSource(wanted),
            )),
            Some(have) => {
                let (update, fields) = source_update(&wanted, have, update_secrets);
                if !fields.is_empty() {
                    updates.push(Change::new(
                        "update",
                        "source",
                        &have.name,
                        fields,
                        Step::UpdateSource(SourceId::new(have.id), update),
                    ));
                }
            }
        }
    }
    for (i, spec) in file.destinations.iter().enumerate() {
        let Some(wanted) = spec.to_new(&format!("destinations[{i}]"), &mut errors) else {
            continue;
        };
        let name = wanted.name.as_str().to_owned();
        match current
            .destinations
            .iter()
            .find(|d| d.name == wanted.name.as_str())
        {
            None => creates.push(Change::new(
                "create",
                "destination",
                &name,
                vec![],
                Step::CreateDestination(wanted),
            )),
            Some(have) => {
                let mut fields = Vec::new();
                let have_type = spelled(&have.destination_type);
                if have_type != wanted.config.destination_type().as_str() {
                    fields.push("type".to_owned());
                }
                let mine = wanted_config(&wanted);
                let theirs = shown(&have.config);
                for key in mine.keys().chain(theirs.keys()) {
                    if mine.get(key) != theirs.get(key)
                        && !fields.iter().any(|f| f == &format!("config.{key}"))
                    {
                        fields.push(format!("config.{key}"));
                    }
                }
                if update_secrets && spec.has_secret() {
                    fields.push("secret".to_owned());
                }
                if !fields.is_empty() {
                    let update = DestinationUpdate {
                        name: None,
                        config: Some(wanted.config),
                    };
                    updates.push(Change::new(
                        "update",
                        "destination",
                        &have.name,
                        fields,
                        Step::UpdateDestination(DestinationId::new(have.id), update),
                    ));
                }
            }
        }
    }
    let source_names: Vec<String> = file
        .sources
        .iter()
        .map(|s| s.name.to_ascii_lowercase())
        .collect();
    let destination_names: Vec<String> = file
        .destinations
        .iter()
        .map(|d| d.name.to_ascii_lowercase())
        .collect();
    for (i, spec) in file.pipelines.iter().enumerate() {
        let at = format!("pipelines[{i}]");
        let name = rosetta_domain::Name::parse(&spec.name)
            .map_err(|e| errors.push(format!("{at}.name: {e}")))
            .ok();
        let status = spec.initial_status(&at, &mut errors);
        if !source_names.contains(&spec.source.to_ascii_lowercase()) {
            errors.push(format!(
                "{at}.source: no source named {:?} in the file",
                spec.source
            ));
        }
        if !destination_names.contains(&spec.destination.to_ascii_lowercase()) {
            errors.push(format!(
                "{at}.destination: no destination named {:?} in the file",
                spec.destination
            ));
        }
        let (Some(name), Some(status)) = (name, status) else {
            continue;
        };
        let spec = PipelineSpec {
            name: name.as_str().to_owned(),
            source: spec.source.to_ascii_lowercase(),
            destination: spec.destination.to_ascii_lowercase(),
            status: status.status().as_str().to_owned(),
        };
        match current.pipelines.iter().find(|p| p.name == name.as_str()) {
            None => creates.push(Change::new(
                "create",
                "pipeline",
                name.as_str(),
                vec![],
                Step::CreatePipeline { spec, status },
            )),
            Some(have) => {
                let mut fields = Vec::new();
                if have.source.name != spec.source {
                    fields.push("source".to_owned());
                }
                if have.destination.name != spec.destination {
                    fields.push("destination".to_owned());
                }
                let have_status = PipelineSpec::of(have).status;
                let status_change = (have_status != spec.status).then(|| status.status());
                if status_change.is_some() {
                    fields.push("status".to_owned());
                }
                if !fields.is_empty() {
                    let moves = fields.iter().any(|f| f == "source" || f == "destination");
                    updates.push(Change::new(
                        "update",
                        "pipeline",
                        &have.name,
                        fields,
                        Step::UpdatePipeline {
                            id: PipelineId::new(have.id),
                            spec,
                            status: status_change,
                            moves,
                        },
                    ));
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(Failure::error(format!(
            "the file is not valid, nothing was done: {}",
            errors.join("; ")
        )));
    }
    let wanted_pipelines: Vec<String> = file
        .pipelines
        .iter()
        .map(|p| p.name.to_ascii_lowercase())
        .collect();
    for pipeline in &current.pipelines {
        if !wanted_pipelines.contains(&pipeline.name) {
            deletes.push(Change::new(
                "delete",
                "pipeline",
                &pipeline.name,
                vec![],
                Step::DeletePipeline(PipelineId::new(pipeline.id)),
            ));
        }
    }
    for destination in &current.destinations {
        if !destination_names.contains(&destination.name) {
            deletes.push(Change::new(
                "delete",
                "destination",
                &destination.name,
                vec![],
                Step::DeleteDestination(DestinationId::new(destination.id)),
            ));
        }
    }
    for source in &current.sources {
        if !source_names.contains(&source.name) {
            deletes.push(Change::new(
                "delete",
                "source",
                &source.name,
                vec![],
                Step::DeleteSource(SourceId::new(source.id)),
            ));
        }
    }
    // Sources and destinations before the pipelines that use them, which go before what they
    // leave behind.
    let rank = |c: &Change| match (c.action, c.kind) {
        ("create" | "update", "pipeline") => 1,
        ("create" | "update", _) => 0,
        _ => 2,
    };
    let mut changes: Vec<Change> = creates.into_iter().chain(updates).collect();
    changes.sort_by_key(rank);
    changes.extend(deletes);
    Ok(changes)
}

fn duplicates(what: &str, names: impl Iterator<Item = String>, errors: &mut Vec<String>) {
    let mut seen = BTreeMap::new();
    for name in names {
        *seen.entry(name).or_insert(0) += 1;
    }
    for (name, count) in seen {
        if count > 1 {
            errors.push(format!("{what}: {name:?} is named {count} times"));
        }
    }
}

pub(crate) fn source_update(
    wanted: &NewSource,
    have: &SourceResponse,
    update_secrets: bool,
) -> (SourceUpdate, Vec<String>) {
    let mut update = SourceUpdate::default();
    let mut fields = Vec::new();
    if wanted.pg_host.as_str() != have.pg_host {
        update.pg_host = Some(wanted.pg_host.clone());
        fields.push("pg_host".to_owned());
    }
    if wanted.pg_port.get() != have.pg_port {
        update.pg_port = Some(wanted.pg_port);
        fields.push("pg_port".to_owned());
    }
    if wanted.pg_database.as_str() != have.pg_database {
        update.pg_database = Some(wanted.pg_database.clone());
        fields.push("pg_database".to_owned());
    }
    if wanted.pg_username.as_str() != have.pg_username {
        update.pg_username = Some(wanted.pg_username.clone());
        fields.push("pg_username".to_owned());
    }
    if wanted.publication_name.as_str() != have.publication_name {
        update.publication_name = Some(wanted.publication_name.clone());
        fields.push("publication_name".to_owned());
    }
    if wanted.replication_id.get() != have.replication_id {
        update.replication_id = Some(wanted.replication_id);
        fields.push("replication_id".to_owned());
    }
    if wanted.ssl_mode.as_str() != spelled(&have.ssl_mode) {
        update.ssl_mode = Some(wanted.ssl_mode);
        fields.push("ssl_mode".to_owned());
    }
    // A secret goes with any other change, or alone when asked to.
    if wanted.pg_password.is_some() && (!fields.is_empty() || update_secrets) {
        update.pg_password = wanted.pg_password.clone();
        if fields.is_empty() {
            fields.push("pg_password".to_owned());
        }
    }
    (update, fields)
}

/// Carries out `changes`, planned from `current`, in order, saying each as it is done; stops at the first refusal,
/// saying what was done before it.
pub async fn apply(
    client: &Client,
    current: &Current,
    changes: &[Change],
    say: &mut dyn FnMut(String),
) -> Result<(), Failure> {
    // Ids of what exists by name (as planned from `current`), as the changes create them.
    let mut sources: BTreeMap<String, SourceId> = current
        .sources
        .iter()
        .map(|s| (s.name.clone(), SourceId::new(s.id)))
        .collect();
    let mut destinations: BTreeMap<String, DestinationId> = current
        .destinations
        .iter()
        .map(|d| (d.name.clone(), DestinationId::new(d.id)))
        .collect();
    for (done, change) in changes.iter().enumerate() {
        let outcome = match &change.step {
            Step::CreateSource(new) => client.create_source(new).await.map(|s| {
                sources.insert(s.name.clone(), SourceId::new(s.id));
            }),
            Step::UpdateSource(id, update) => client.update_source(*id, update).await.map(drop),
            Step::DeleteSource(id) => client.delete_source(*id, DeleteMode::Restrict).await,
            Step::CreateDestination(new) => client.create_destination(new).await.map(|d| {
                destinations.insert(d.name.clone(), DestinationId::new(d.id));
            }),
            Step::UpdateDestination(id, update) => {
                client.update_destination(*id, update).await.map(drop)
            }
            Step::DeleteDestination(id) => {
                client.delete_destination(*id, DeleteMode::Restrict).await
            }
            Step::CreatePipeline { spec, status } => {
                let (source, destination) = ends(spec, &sources, &destinations)?;
                let request = NewPipelineRequest {
                    name: rosetta_domain::Name::parse(&spec.name)
                        .map_err(|e| Failure::error(e.to_string()))?,
                    source_id: source,
                    destination_id: destination,
                    status: *status,
                };
                client.create_pipeline(&request).await.map(drop)
            }
            Step::UpdatePipeline {
                id,
                spec,
                status,
                moves,
            } => {
                let (source, destination) = ends(spec, &sources, &destinations)?;
                let update = PipelineUpdateRequest {
                    name: None,
                    source_id: moves.then_some(source),
                    destination_id: moves.then_some(destination),
                    status: *status,
                };
                client.update_pipeline(*id, &update).await.map(drop)
            }
            Step::DeletePipeline(id) => client.delete_pipeline(*id).await,
        };
        match outcome {
            Ok(()) => {
                // create → created, update → updated, delete → deleted.
                say(format!(
                    "{}d {} {}",
                    change.action, change.kind, change.name
                ));
            }
            Err(error) => {
                return Err(Failure::error(format!(
                    "stopped at {} {} {} after {done} of {} change(s): {}",
                    change.action,
                    change.kind,
                    change.name,
                    changes.len(),
                    Failure::from(error).message
                )))
            }
        }
    }
    Ok(())
}

fn ends(
    spec: &PipelineSpec,
    sources: &BTreeMap<String, SourceId>,
    destinations: &BTreeMap<String, DestinationId>,
) -> Result<(SourceId, DestinationId), Failure> {
    let source = sources
        .get(&spec.source)
        .ok_or_else(|| Failure::error(format!("no source named {} on the server", spec.source)))?;
    let destination = destinations.get(&spec.destination).ok_or_else(|| {
        Failure::error(format!(
            "no destination named {} on the server",
            spec.destination
        ))
    })?;
    Ok((*source, *destination))
}
