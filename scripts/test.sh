#!/usr/bin/env bash
# The whole test suite, from a fresh machine: PostgreSQL up (the default cluster, and a second
# one with wal_level = logical), the Snowflake emulator (fakesnow) and headless Chromium, then
# every unit, integration, browser and doc test of the workspace (in parallel; each test gets
# its own databases).
set -euo pipefail
cd "$(dirname "$0")/.."
# The server the tests make their databases on (test-support refuses to guess one), and the
# cluster with wal_level = logical the data plane's tests replicate from (made on first use by
# ensure-logical-postgres.sh, beside the machine's default cluster).
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432}"
export LOGICAL_DATABASE_URL="${LOGICAL_DATABASE_URL:-postgres://postgres@127.0.0.1:${LOGICAL_PG_PORT:-5433}}"
scripts/ensure-postgres.sh
# The build installs the browser code it embeds (crates/web-assets) with npm ci.
scripts/ensure-npm.sh
if [[ "$LOGICAL_DATABASE_URL" == *"@127.0.0.1:"* ]]; then
    scripts/ensure-logical-postgres.sh
fi
# Headless Chromium and ChromeDriver for the browser tests (the dashboard, the API docs).
scripts/ensure-chromium.sh
# The Snowflake emulator the Snowflake destination's tests sign in to.
export SNOWFLAKE_EMULATOR_URL="${SNOWFLAKE_EMULATOR_URL:-http://127.0.0.1:${FAKESNOW_PORT:-8971}}"
if [[ "$SNOWFLAKE_EMULATOR_URL" == "http://127.0.0.1:"* ]]; then
    FAKESNOW_PORT="${SNOWFLAKE_EMULATOR_URL##*:}" scripts/ensure-fakesnow.sh
fi
cargo test --workspace --all-features --locked "$@"
