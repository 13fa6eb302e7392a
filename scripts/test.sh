#!/usr/bin/env bash
# The whole test suite, from a fresh machine: PostgreSQL up, then every unit, integration and
# doc test of the workspace (in parallel; each test gets its own database).
set -euo pipefail
cd "$(dirname "$0")/.."
# The server the tests make their databases on (test-support refuses to guess one).
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432}"
scripts/ensure-postgres.sh
cargo test --workspace --all-features --locked "$@"
