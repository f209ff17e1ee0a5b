//! The OpenAPI operations, one module per tag.

pub(crate) mod feed;
pub(crate) mod health;
pub(crate) mod lists;
pub(crate) mod tasks;

use poem_openapi::Tags;

/// The spec's tags.
#[derive(Tags)]
pub(crate) enum ApiTags {
    /// Create, read, update, complete, move and delete the caller's tasks.
    Tasks,
    /// The caller's lists (projects): create, rename, recolor, reorder and delete them.
    Lists,
    /// Keep a copy of the caller's tasks up to date: pages of changes after a cursor, and a
    /// stream of them as they happen.
    Sync,
    /// Liveness and readiness probes for load balancers and orchestrators.
    Health,
}

#[cfg(test)]
mod tests {
    /// The request time limit is each operation's transform (so that a request over it is still
    /// logged under its route): an operation without it would run unbounded.
    #[test]
    fn every_operation_runs_under_the_time_limit() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/http/api");
        let modules = std::fs::read_dir(dir).expect("the operations' directory");
        for entry in modules.flatten() {
            let module = entry.file_name().to_string_lossy().into_owned();
            let source = std::fs::read_to_string(entry.path()).unwrap_or_default();
            for operation in source.split("#[oai(").skip(1) {
                let attribute = operation.split(")]").next().unwrap_or_default();
                if attribute.contains("operation_id") {
                    assert!(
                        attribute.contains("transform = \"time_limited\""),
                        "{module}: an operation without `transform = \"time_limited\"`: {attribute}"
                    );
                }
            }
        }
    }
}
