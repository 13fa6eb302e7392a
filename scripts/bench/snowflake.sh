#!/usr/bin/env bash
# The Snowflake part of `just bench-replication` (replication.sh runs it last; it runs alone
# too): PostgreSQL and the Snowflake emulator up, the release build, then scripts/bench/snowflake-bench.py
# with the emulator's virtual environment (its Snowflake connector reads the results back).
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/ensure-postgres.sh
LOGICAL_PG_PORT=${LOGICAL_PG_PORT:-5433} scripts/ensure-logical-postgres.sh
scripts/ensure-fakesnow.sh
cargo build --release --locked --bin rosetta
exec target/fakesnow-venv/bin/python scripts/bench/snowflake-bench.py
