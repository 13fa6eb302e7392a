//! Lists the pipelines of a Rosetta server with their phase and lag, and pauses one by name.
//!
//! ```text
//! cargo run -p rosetta-client --example pipelines -- http://127.0.0.1:8000 [pipeline-to-pause]
//! ```
//!
//! `ROSETTA_API_KEY` is sent as the API key when set.

use rosetta_client::{Client, Error};
use rosetta_domain::PipelineId;

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "http://127.0.0.1:8000".to_owned());
    let mut client = Client::new(&url)?;
    if let Ok(key) = std::env::var("ROSETTA_API_KEY") {
        client = client.with_api_key(key);
    }
    let pipelines = client.pipelines(Default::default(), None).await?;
    for pipeline in &pipelines {
        let metadata = &pipeline.pipeline_metadata;
        println!(
            "{:>4}  {:<24} {:<8} {:<10} lag {} bytes",
            pipeline.id,
            pipeline.name,
            format!("{:?}", metadata.status),
            metadata
                .phase
                .map_or_else(|| "–".to_owned(), |phase| format!("{phase:?}")),
            metadata.lag_bytes.unwrap_or(0),
        );
    }
    if let Some(name) = args.next() {
        match pipelines.iter().find(|p| p.name == name) {
            Some(pipeline) => {
                let paused = client.pause_pipeline(PipelineId::new(pipeline.id)).await?;
                println!("paused {}: asked to {:?}", paused.name, paused.status);
            }
            None => eprintln!("no pipeline named {name}"),
        }
    }
    Ok(())
}
