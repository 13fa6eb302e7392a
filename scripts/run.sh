#!/usr/bin/env bash
# Runs Rosetta against the local PostgreSQL with zero configuration: PostgreSQL up, the
# metadata database created and migrated.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-postgres.sh
cargo run --release --locked --bin rosetta -- migrate
