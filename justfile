# Rosetta's everyday commands. `just` is optional: each recipe is a plain command.

# Run the service against the local PostgreSQL.
run:
    scripts/run.sh

# Run the whole test suite.
test *ARGS:
    scripts/test.sh {{ARGS}}

# Formatting, lints and tests, as CI runs them.
check:
    .ci/run

# Fuzz the API from its OpenAPI document with schemathesis (FUZZ_MAX_TIME seconds, default 120).
fuzz:
    scripts/fuzz.sh

# Print the OpenAPI document.
openapi:
    cargo run --locked --bin rosetta -- openapi

# Create the metadata database if needed and apply pending migrations.
migrate:
    cargo run --locked --bin rosetta -- migrate

# Drop the cached test template database (it is rebuilt when next needed).
clean-test-dbs:
    psql -h 127.0.0.1 -U postgres -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'rosetta_tpl_%' OR datname LIKE 'rosetta_test_%'" | while read -r db; do psql -h 127.0.0.1 -U postgres -c "ALTER DATABASE \"$db\" IS_TEMPLATE false" -c "DROP DATABASE \"$db\" WITH (FORCE)"; done

# Benchmark the REST API (release build, wrk and pgbench) and rewrite docs/benchmarks.md; its
# last part is the dashboard's page of 1,000 pipelines (bench-dashboard).
bench:
    scripts/bench/run.sh

# Benchmark the dashboard alone: a page of 1,000 pipelines beside the API's JSON of the same.
bench-dashboard:
    scripts/bench/dashboard.sh

# Benchmark the WAL monitor (1,000 sources; then 10 unreachable and 10 hanging) and update
# docs/benchmarks.md.
bench-monitor:
    scripts/bench/monitor.sh

# Benchmark the data plane beside PostgreSQL's own logical replication (initial copy, backlog
# drain, delay under a steady load, memory of 10 pipelines) and update docs/benchmarks.md.
bench-replication:
    scripts/bench/replication.sh
