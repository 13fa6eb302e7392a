#!/usr/bin/env bash
# Watch data move, on this machine, in a minute: a source database `rosetta_demo_shop` with two
# tables and a publication on a PostgreSQL cluster with wal_level = logical (127.0.0.1:5433,
# made by ensure-logical-postgres.sh beside the default cluster), a destination database
# `rosetta_demo_dw` on the default cluster (5432), and `rosetta serve` on 127.0.0.1:8001 with its
# own metadata database `rosetta_demo`; then the source, destination and pipeline are created
# through the API, and rows written to the source are shown arriving on the destination.
#
# Everything it makes is dropped first, so it can run again. It stops the server at the end;
# `scripts/demo.sh --keep` leaves it running (the API at http://127.0.0.1:8001/docs) and says
# how to stop it. Needs python3 (for the HTTP calls) and psql, which PostgreSQL brings.
set -euo pipefail
cd "$(dirname "$0")/.."

keep=false
[[ "${1:-}" == "--keep" ]] && keep=true
PORT=${DEMO_PORT:-8001}
SRC_PORT=${LOGICAL_PG_PORT:-5433}
API=http://127.0.0.1:$PORT/api/v1
LOG=target/demo/rosetta.log

if [[ -t 1 ]]; then
    say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
    say() { printf '\n== %s\n' "$*"; }
fi
src() { psql -X -q -h 127.0.0.1 -p "$SRC_PORT" -U postgres -d rosetta_demo_shop "$@"; }
dst() { psql -X -q -h 127.0.0.1 -p 5432 -U postgres -d rosetta_demo_dw "$@"; }
api() { # api METHOD PATH [JSON]: prints the response body, fails on an error status
    python3 - "$1" "$API$2" "${3:-}" <<'PY'
import json, sys, urllib.request
method, url, body = sys.argv[1], sys.argv[2], sys.argv[3]
request = urllib.request.Request(url, method=method, data=body.encode() if body else None,
                                 headers={"content-type": "application/json"})
try:
    with urllib.request.urlopen(request, timeout=10) as response:
        print(response.read().decode())
except urllib.error.HTTPError as e:
    sys.exit(f"{method} {url}: {e.code} {e.read().decode()}")
except OSError as e:
    sys.exit(f"{method} {url}: {e}")
PY
}
field() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

say "PostgreSQL: the default cluster (5432) and one with wal_level = logical ($SRC_PORT)"
scripts/ensure-postgres.sh
LOGICAL_PG_PORT=$SRC_PORT scripts/ensure-logical-postgres.sh

say "Building rosetta"
cargo build --locked --bin rosetta
mkdir -p target/demo

say "A source database with two tables and a publication, and an empty destination"
psql -X -q -h 127.0.0.1 -p "$SRC_PORT" -U postgres -d postgres <<'SQL'
SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
 WHERE database = 'rosetta_demo_shop';
DROP DATABASE IF EXISTS rosetta_demo_shop WITH (FORCE);
CREATE DATABASE rosetta_demo_shop;
SQL
for db in rosetta_demo_dw rosetta_demo; do
    psql -X -q -h 127.0.0.1 -p 5432 -U postgres -d postgres \
        -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
done
psql -X -q -h 127.0.0.1 -p 5432 -U postgres -d postgres -c "CREATE DATABASE rosetta_demo_dw"
src <<'SQL'
CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL, city text);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers,
                     amount numeric(10,2), placed_at timestamptz DEFAULT now());
INSERT INTO customers VALUES (1, 'Ada', 'London'), (2, 'Grace', 'New York'), (3, 'Edsger', 'Austin');
INSERT INTO orders (id, customer_id, amount) VALUES (1, 1, 19.99), (2, 2, 5.00), (3, 1, 42.00);
CREATE PUBLICATION shop FOR TABLE customers, orders;
SQL

say "rosetta serve on 127.0.0.1:$PORT (log: $LOG)"
DATABASE_URL=postgres://postgres@127.0.0.1:5432/rosetta_demo HOST=127.0.0.1 PORT=$PORT \
    WAL_MONITOR_INTERVAL_SECONDS=10 REPLICATOR_POLL_SECONDS=1 ROSETTA_DATA_DIR=target/demo \
    "${CARGO_TARGET_DIR:-target}/debug/rosetta" serve >"$LOG" 2>&1 &
server=$!
stop() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; }
$keep || trap stop EXIT
up=false
for _ in $(seq 1 60); do
    kill -0 "$server" 2>/dev/null || break
    if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/health/live', timeout=1)" \
        2>/dev/null; then
        up=true
        break
    fi
    sleep 0.5
done
$up || { echo "rosetta serve did not start:"; tail -n 20 "$LOG"; exit 1; }

say "The source, the destination and the pipeline, through the API"
source_id=$(api POST /sources "{\"name\": \"shop\", \"pg_host\": \"127.0.0.1\", \"pg_port\": $SRC_PORT,
    \"pg_database\": \"rosetta_demo_shop\", \"pg_username\": \"postgres\", \"pg_password\": \"unused\",
    \"publication_name\": \"shop\", \"replication_id\": 1, \"ssl_mode\": \"disable\"}" | field '["id"]')
destination_id=$(api POST /destinations '{"name": "dw", "type": "POSTGRES", "config": {"host": "127.0.0.1",
    "port": 5432, "database": "rosetta_demo_dw", "username": "postgres", "password": "unused"}}' | field '["id"]')
pipeline_id=$(api POST /pipelines "{\"name\": \"shop-to-dw\", \"source_id\": $source_id,
    \"destination_id\": $destination_id}" | field '["id"]')
echo "source $source_id, destination $destination_id, pipeline $pipeline_id"

say "Waiting for the pipeline to copy its tables and stream"
phase=
for _ in $(seq 1 120); do
    phase=$(api GET "/pipelines/$pipeline_id" | field '["pipeline_metadata"]["phase"]')
    [[ "$phase" == streaming ]] && break
    sleep 0.5
done
[[ "$phase" == streaming ]] || { echo "the pipeline is $phase; see $LOG"; api GET "/pipelines/$pipeline_id"; exit 1; }
echo "phase: $phase"
echo "On the destination, copied:"
dst -c "SELECT * FROM customers ORDER BY id" -c "SELECT id, customer_id, amount FROM orders ORDER BY id"

say "Writing to the source: a new customer, an order, a change and a delete"
src <<'SQL'
INSERT INTO customers VALUES (4, 'Barbara', 'Boston');
INSERT INTO orders (id, customer_id, amount) VALUES (4, 4, 99.50);
UPDATE customers SET city = 'Cambridge' WHERE id = 1;
DELETE FROM orders WHERE id = 2;
SQL
for _ in $(seq 1 60); do
    [[ $(dst -At -c "SELECT count(*) FROM customers WHERE id = 4") == 1 &&
       $(dst -At -c "SELECT count(*) FROM orders WHERE id = 2") == 0 ]] && break
    sleep 0.25
done
echo "On the destination, streamed:"
dst -c "SELECT * FROM customers ORDER BY id" -c "SELECT id, customer_id, amount FROM orders ORDER BY id"
echo "The pipeline's state:"
api GET "/pipelines/$pipeline_id" | python3 -c '
import json, sys
m = json.load(sys.stdin)["pipeline_metadata"]
for key in ("status", "phase", "confirmed_lsn", "lag_bytes", "rows_copied", "changes_applied", "owner"):
    print(f"  {key}: {m[key]}")'

if $keep; then
    say "rosetta serve runs on http://127.0.0.1:$PORT (documentation at /docs); stop it with: kill $server"
    echo "Write to the source:  psql -h 127.0.0.1 -p $SRC_PORT -U postgres rosetta_demo_shop"
    echo "Read the destination: psql -h 127.0.0.1 -p 5432 -U postgres rosetta_demo_dw"
else
    say "Done (scripts/demo.sh --keep leaves the server running)"
fi
