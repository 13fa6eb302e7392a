#!/usr/bin/env bash
# Runs Rosetta against the local PostgreSQL with zero configuration: PostgreSQL up, the
# metadata database `rosetta` created and migrated, the API on http://127.0.0.1:8000
# (documentation at /docs). Settings come from the environment or .env (docs/configuration.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-postgres.sh
scripts/ensure-npm.sh
exec cargo run --release --locked --bin rosetta -- serve
