//! The whole catalogue, page after page: the overview and the forms' choices need every
//! source, destination and pipeline, not the first thousand.

use rosetta_app::{AppError, Rosetta};
use rosetta_domain::{Destination, Limit, PageRequest, PipelineDetails, Source};

/// How many pages are read at most (a million entities): a bound, not a limit anyone meets.
const MAX_PAGES: i64 = 1_000;

fn page(number: i64) -> Result<PageRequest, AppError> {
    let limit = Limit::new(i64::from(Limit::MAX)).map_err(|e| AppError::Unknown(e.into()))?;
    PageRequest::new(number * i64::from(Limit::MAX), limit).map_err(|e| AppError::Unknown(e.into()))
}

macro_rules! all {
    ($name:ident, $item:ty, |$rosetta:ident, $page:ident| $call:expr) => {
        /// Every one, ordered by id.
        pub(crate) async fn $name($rosetta: &Rosetta) -> Result<Vec<$item>, AppError> {
            let mut all = Vec::new();
            for number in 0..MAX_PAGES {
                let $page = page(number)?;
                let batch = $call.await?;
                let last = batch.len() < usize::from(Limit::MAX);
                all.extend(batch);
                if last {
                    break;
                }
            }
            Ok(all)
        }
    };
}

all!(sources, Source, |rosetta, page| rosetta.list_sources(page));
all!(destinations, Destination, |rosetta, page| rosetta
    .list_destinations(page));
all!(pipelines, PipelineDetails, |rosetta, page| rosetta
    .list_pipelines(page, None));
