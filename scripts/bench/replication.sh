#!/usr/bin/env bash
# The data plane benchmark (`just bench-replication`): Rosetta's replicator (the release build of
# `rosetta serve`) side by side with PostgreSQL's own logical replication (CREATE PUBLICATION /
# CREATE SUBSCRIPTION) between the same databases on this machine, one after the other so that
# neither takes CPU from the other:
#
#  1. initial copy of 2 tables × BENCH_ROWS (1,000,000) rows of about 200 bytes: rows/s and MB/s;
#  2. a backlog of BENCH_CHANGES (1,000,000) changes (60 % INSERT, 30 % UPDATE, 10 % DELETE, ten
#     to a transaction) written while the pipeline is paused (the subscription disabled), then
#     drained: changes/s;
#  3. a steady load of BENCH_RATE (5,000) changes/s for BENCH_STEADY_SECONDS (60): the delay from
#     a source commit to the row being visible on the destination, p50 and p99;
#  4. the peak memory of a `rosetta serve` with 10 pipelines copying and then streaming.
#
# After 1, 2 and 3 both destinations are compared with the source, table by table (row count and
# a checksum over every column). Beside each figure: the CPU time that Rosetta, the source cluster
# and the destination cluster spent on it, and during the copies and the drains what the backends
# doing the work were waiting for (pg_stat_activity every 10 ms), which is where the time goes.
# Each measured step starts after a CHECKPOINT on both clusters.
#
# Source: a cluster with wal_level = logical on 127.0.0.1:5433 (scripts/ensure-logical-postgres.sh);
# destinations and Rosetta's metadata: the default cluster on 5432. Everything it makes is dropped
# first and again at the end. Rewrites the data plane section of docs/benchmarks.md (BENCH_DOC to
# write elsewhere). Raw logs: target/bench-replication/<run>/. BENCH_QUICK=1 stops after step 2
# and writes nothing, to try a change. The server logs each batch's gathering, writing and
# commit times (rosetta_app::replicator::apply at debug; BENCH_LOG_LEVEL to change it).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

ROWS=${BENCH_ROWS:-1000000}
CHANGES=${BENCH_CHANGES:-1000000}
RATE=${BENCH_RATE:-5000}
STEADY=${BENCH_STEADY_SECONDS:-60}
PIPELINES=10
DOC=${BENCH_DOC:-docs/benchmarks.md}
SRC_PORT=${LOGICAL_PG_PORT:-5433}
DST_PORT=5432
SRC_DB=rosetta_bench_src
NATIVE_DB=rosetta_bench_native
ROSETTA_DB=rosetta_bench_dst
META_DB=rosetta_bench_repl
MANY_SRC=rosetta_bench_many
RUN_ID=$(date -u +%Y%m%d-%H%M%S)
OUT=$ROOT/target/bench-replication/$RUN_ID
mkdir -p "$OUT"
HZ=$(getconf CLK_TCK)

say() { printf '\n== %s\n' "$*" >&2; }
note() { printf '%s\n' "$*" >&2; }
die() { printf 'bench-replication: error: %s\n' "$*" >&2; exit 1; }

export PGOPTIONS='-c client_min_messages=warning'
src() { psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$SRC_PORT" -U postgres -d "${DBNAME:-$SRC_DB}" "$@"; }
dst() { local db=$1; shift; psql -X -q -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$DST_PORT" -U postgres -d "$db" "$@"; }
calc() { python3 -c "print($*)"; }

SERVER=
SAMPLERS=()
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}" "${SAMPLERS[@]}" $SERVER; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

say "PostgreSQL (5432, and $SRC_PORT with wal_level = logical) and the release build"
scripts/ensure-postgres.sh
LOGICAL_PG_PORT=$SRC_PORT scripts/ensure-logical-postgres.sh
for tool in python3 curl pgbench; do command -v "$tool" >/dev/null || die "$tool is needed"; done
cargo build --release --locked --bin rosetta
BIN=$ROOT/target/release/rosetta
PG_VERSION=$(DBNAME=postgres src -c "SELECT split_part(current_setting('server_version'), ' ', 1)")

# CPU time (seconds) of a whole cluster so far: its postmaster, the children it has reaped
# (cutime, cstime) and the children that still run.
cluster_pid() { # the postmaster: the parent of the cluster's checkpointer
    ps -o ppid= -p "$(psql -X -At -h 127.0.0.1 -p "$1" -U postgres -d postgres \
        -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'")" | tr -d ' '
}
SRC_PM=$(cluster_pid "$SRC_PORT")
DST_PM=$(cluster_pid "$DST_PORT")
cluster_cpu() {
    local pm=$1 ticks
    ticks=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pm/stat")
    for child in $(pgrep -P "$pm"); do
        ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$child/stat" 2>/dev/null || echo 0)))
    done
    calc "round($ticks / $HZ, 2)"
}
process_cpu() { awk -v hz="$HZ" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# "rosetta source destination" CPU seconds, to subtract one reading from another.
cpu_now() { echo "$(if [[ -n $SERVER ]]; then process_cpu "$SERVER"; else echo 0; fi) $(cluster_cpu "$SRC_PM") $(cluster_cpu "$DST_PM")"; }
cpu_since() { # cpu_since "r s d": prints "rosetta source destination" seconds since that reading
    local r s d nr ns nd
    read -r r s d <<<"$1"
    read -r nr ns nd <<<"$(cpu_now)"
    echo "$(calc "round($nr - $r, 1)") $(calc "round($ns - $s, 1)") $(calc "round($nd - $d, 1)")"
}
now() { date +%s.%N; }
# Before each measured step: a checkpoint on both clusters, so that none falls in the middle of
# one side's measurement because of the WAL the other side's step wrote.
settle() {
    DBNAME=postgres src -c CHECKPOINT
    dst postgres -c CHECKPOINT
}

drop_everything() {
    DBNAME=postgres src -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
                         WHERE database IN ('$SRC_DB', '$MANY_SRC') AND NOT active" >/dev/null
    for db in "$NATIVE_DB"; do
        if [[ $(dst postgres -c "SELECT count(*) FROM pg_database WHERE datname = '$db'") == 1 ]]; then
            # A subscription's slot lives on the source; dropping it there needs it detached here.
            dst "$db" -c "DO \$\$ DECLARE s record; BEGIN
                FOR s IN SELECT subname FROM pg_subscription WHERE subdbid = (SELECT oid FROM pg_database WHERE datname = current_database()) LOOP
                  EXECUTE format('ALTER SUBSCRIPTION %I DISABLE', s.subname);
                  EXECUTE format('ALTER SUBSCRIPTION %I SET (slot_name = NONE)', s.subname);
                  EXECUTE format('DROP SUBSCRIPTION %I', s.subname);
                END LOOP; END \$\$"
        fi
    done
    DBNAME=postgres src -c "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots
                         WHERE database IN ('$SRC_DB', '$MANY_SRC') AND active" >/dev/null
    sleep 0.5
    DBNAME=postgres src -c "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots
                         WHERE database IN ('$SRC_DB', '$MANY_SRC')" >/dev/null
    DBNAME=postgres src -c "DROP DATABASE IF EXISTS $SRC_DB WITH (FORCE)" -c "DROP DATABASE IF EXISTS $MANY_SRC WITH (FORCE)"
    for db in "$NATIVE_DB" "$ROSETTA_DB" "$META_DB" "${META_DB}_many" $(seq -f "${MANY_SRC}_%g" 1 $PIPELINES); do
        dst postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
    done
}

# Rosetta's API on the server started by start_server.
api() { # api METHOD PATH [JSON]: prints the body, fails on an error status
    local args=(-sS --fail-with-body -X "$1" -H 'content-type: application/json') body
    if [[ -n ${3:-} ]]; then args+=(--data "$3"); fi
    body=$(curl "${args[@]}" "$API$2") || die "$1 $2: $body"
    printf '%s\n' "$body"
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
start_server() { # start_server NAME METADATA_DB
    local name=$1 db=$2 port
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    API=http://127.0.0.1:$port/api/v1
    DATABASE_URL=postgres://postgres@127.0.0.1:$DST_PORT/$db "$BIN" migrate >/dev/null
    env DATABASE_URL="postgres://postgres@127.0.0.1:$DST_PORT/$db" HOST=127.0.0.1 PORT="$port" \
        LOG_LEVEL="${BENCH_LOG_LEVEL:-info,rosetta_app::replicator::apply=debug}" \
        LOG_FORMAT=text WAL_MONITOR_ENABLED=false \
        ROSETTA_DATA_DIR="$OUT/data-$name" "$BIN" serve >"$OUT/server-$name.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 100); do
        curl -fsS -o /dev/null "http://127.0.0.1:$port/health/live" 2>/dev/null && return 0
        kill -0 "$SERVER" 2>/dev/null || break
        sleep 0.1
    done
    die "rosetta serve did not start: $(tail -n 5 "$OUT/server-$name.log")"
}
stop_server() {
    kill "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    SERVER=
}
peak_mib() { awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
phase_of() { api GET "/pipelines/$1" | json 'd["pipeline_metadata"]["phase"]'; }
wait_phase() { # wait_phase PIPELINE PHASE SECONDS
    local phase
    for _ in $(seq 1 $(($3 * 10))); do
        phase=$(phase_of "$1")
        [[ $phase == "$2" ]] && return 0
        [[ $phase == error ]] && die "pipeline $1 failed: $(api GET "/pipelines/$1")"
        sleep 0.1
    done
    die "pipeline $1 is $phase, not $2, after $3 s"
}
# Waits until a query on a destination database returns t; prints the seconds it took since START.
wait_until() { # wait_until DB SQL START SECONDS
    local deadline
    deadline=$(calc "$3 + $4")
    until [[ $(dst "$1" -c "$2" 2>/dev/null || true) == t ]]; do
        [[ $(calc "int($(now) > $deadline)") == 1 ]] && die "$1: '$2' still false after $4 s"
        if [[ -n $SERVER ]] && ! kill -0 "$SERVER" 2>/dev/null; then die "rosetta serve stopped"; fi
        sleep 0.05
    done
    calc "round($(now) - $3, 2)"
}

# Row count and a checksum over every column, per table, in one line.
TABLES="items_a items_b probe"
fingerprint() { # fingerprint PORT DB
    local sql="" sep=""
    for t in $TABLES; do
        sql+="${sep}SELECT '$t', count(*), coalesce(sum(('x' || left(md5(t::text), 15))::bit(60)::bigint), 0) FROM $t t"
        sep=" UNION ALL "
    done
    psql -X -q -At -h 127.0.0.1 -p "$1" -U postgres -d "$2" -c "$sql ORDER BY 1" | tr '\n' ' '
}
compare() { # compare STEP: both destinations against the source
    local want native rosetta
    want=$(fingerprint "$SRC_PORT" "$SRC_DB")
    native=$(fingerprint "$DST_PORT" "$NATIVE_DB")
    rosetta=$(fingerprint "$DST_PORT" "$ROSETTA_DB")
    [[ $native == "$want" ]] || die "$1: the native subscriber differs from the source: $native vs $want"
    [[ $rosetta == "$want" ]] || die "$1: Rosetta's destination differs from the source: $rosetta vs $want"
    note "$1: both destinations equal the source ($want)"
}

say "a source with 2 tables × $ROWS rows, an empty native subscriber and an empty Rosetta destination"
drop_everything
DBNAME=postgres src -c "CREATE DATABASE $SRC_DB"
TABLE_DDL="
CREATE TABLE items_a (id bigint PRIMARY KEY, account integer NOT NULL, status text NOT NULL,
                      amount numeric(12,2) NOT NULL, note text NOT NULL, updated_at timestamptz NOT NULL);
CREATE TABLE items_b (LIKE items_a INCLUDING ALL);
CREATE TABLE probe (id bigint PRIMARY KEY, sent_at timestamptz NOT NULL);"
src -c "$TABLE_DDL"
for t in items_a items_b; do
    src -c "INSERT INTO $t SELECT i, i % 10007, (ARRAY['new','paid','sent','done'])[1 + i % 4],
                   (i % 100000) / 100.0, repeat(md5(i::text), 4) || ' ' || i, '2026-01-01'::timestamptz + i * interval '1 s'
            FROM generate_series(1, $ROWS) AS i"
done
src -c "CREATE SEQUENCE load_ids START $((ROWS * 2 + 1))" -c "CREATE SEQUENCE probe_ids" \
    -c "CREATE PUBLICATION bench_pub FOR TABLE items_a, items_b, probe" -c "VACUUM ANALYZE"
read -r ROW_BYTES TABLE_BYTES < <(src -F ' ' -c "SELECT round(avg(pg_column_size(t.*))), pg_table_size('items_a') + pg_table_size('items_b') FROM items_a t")
TABLE_MB=$(calc "round($TABLE_BYTES / 1e6)")
note "rows of $ROW_BYTES bytes on average; the two tables take $TABLE_MB MB"
dst postgres -c "CREATE DATABASE $NATIVE_DB" -c "CREATE DATABASE $ROSETTA_DB"
dst "$NATIVE_DB" -c "$TABLE_DDL"
SRC_CONN="host=127.0.0.1 port=$SRC_PORT dbname=$SRC_DB user=postgres"

# What the backends that do the work are doing, every 10 ms, while a drain runs: on CPU (no
# wait event), waiting for their client or their peer, or for something else.
sample() { # sample NAME PORT WHERE: one psql session sampling pg_stat_activity in the background
    (while true; do
        echo "SELECT coalesce(wait_event, 'CPU') FROM pg_stat_activity WHERE $3;"
        sleep 0.01
    done) | psql -X -q -At -h 127.0.0.1 -p "$2" -U postgres -d postgres >"$OUT/sample-$1" 2>/dev/null &
    SAMPLERS+=($!)
}
samples_stop() {
    for pid in "${SAMPLERS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait "${SAMPLERS[@]}" 2>/dev/null || true
    SAMPLERS=()
}
# A measured step: a checkpoint, the destination's and the source's backends sampled (NAME-dst
# and NAME-src, each with its pg_stat_activity condition), the CPU read and the clock (T0)
# started. step_end stops the samplers and leaves the CPU each side used in STEP_CPU.
step_begin() { # step_begin NAME DESTINATION_WHERE SOURCE_WHERE
    settle
    sample "$1-dst" "$DST_PORT" "$2"
    sample "$1-src" "$SRC_PORT" "$3"
    STEP_CPU=$(cpu_now)
    T0=$(now)
}
step_end() {
    STEP_CPU=$(cpu_since "$STEP_CPU")
    samples_stop
}
# "62% CPU, 35% ClientRead, 3% other" of a sample file.
shares() {
    python3 - "$OUT/sample-$1" <<'PY'
import collections, sys
seen = collections.Counter(line.strip() for line in open(sys.argv[1]) if line.strip())
total = sum(seen.values()) or 1
top = seen.most_common(3)
rest = total - sum(n for _, n in top)
parts = [f"{100 * n / total:.0f} % {name}" for name, n in top]
if rest:
    parts.append(f"{100 * rest / total:.0f} % other")
print(", ".join(parts))
PY
}

share_of() { # share_of NAME EVENT: the percentage of NAME's samples that were EVENT
    python3 - "$OUT/sample-$1" "$2" <<'PY'
import sys
lines = [line.strip() for line in open(sys.argv[1]) if line.strip()]
print(round(100 * sum(line == sys.argv[2] for line in lines) / max(len(lines), 1)))
PY
}

say "1. initial copy: native"
step_begin native-copy "backend_type = 'logical replication worker' AND datname = '$NATIVE_DB'" \
    "datname = '$SRC_DB' AND query LIKE 'COPY%'"
dst "$NATIVE_DB" -c "CREATE SUBSCRIPTION bench_native CONNECTION '$SRC_CONN' PUBLICATION bench_pub"
N_COPY=$(wait_until "$NATIVE_DB" "SELECT count(*) = 3 AND bool_and(srsubstate = 'r') FROM pg_subscription_rel" "$T0" 1800)
step_end
read -r _ N_COPY_SRC N_COPY_DST <<<"$STEP_CPU"
N_COPY_WAITS=$(shares native-copy-dst)
N_COPY_SOURCE_WAITS=$(shares native-copy-src)
note "native: ${N_COPY} s (CPU: source $N_COPY_SRC s, subscriber $N_COPY_DST s)"
note "  subscriber's workers: $N_COPY_WAITS; source's COPY backends: $N_COPY_SOURCE_WAITS"

say "1. initial copy: Rosetta"
start_server single "$META_DB"
SOURCE_ID=$(api POST /sources "{\"name\": \"bench\", \"pg_host\": \"127.0.0.1\", \"pg_port\": $SRC_PORT,
    \"pg_database\": \"$SRC_DB\", \"pg_username\": \"postgres\", \"pg_password\": \"unused\",
    \"publication_name\": \"bench_pub\", \"replication_id\": 1, \"ssl_mode\": \"disable\"}" | json 'd["id"]')
DEST_ID=$(api POST /destinations "{\"name\": \"bench\", \"type\": \"POSTGRES\", \"config\": {\"host\": \"127.0.0.1\",
    \"port\": $DST_PORT, \"database\": \"$ROSETTA_DB\", \"username\": \"postgres\", \"password\": \"unused\"}}" | json 'd["id"]')
step_begin rosetta-copy \
    "application_name LIKE 'rosetta-pipeline:%' AND datname = '$ROSETTA_DB' AND query LIKE 'COPY%'" \
    "datname = '$SRC_DB' AND query LIKE 'COPY%'"
PIPELINE=$(api POST /pipelines "{\"name\": \"bench\", \"source_id\": $SOURCE_ID, \"destination_id\": $DEST_ID}" | json 'd["id"]')
# curl and grep rather than a JSON parser, so that polling as often as the native side's psql
# costs little CPU.
streaming=0
for _ in $(seq 1 36000); do
    states=$(curl -sS "$API/pipelines/$PIPELINE/tables" | grep -o '"state":"[a-z]*"' || true)
    streaming=$(grep -c streaming <<<"$states" || true)
    [[ $streaming == 3 ]] && break
    [[ $states == *error* ]] && die "a table failed: $(api GET "/pipelines/$PIPELINE/tables")"
    sleep 0.05
done
[[ $streaming == 3 ]] || die "the copy did not end: $states"
R_COPY=$(calc "round($(now) - $T0, 2)")
step_end
read -r R_COPY_ROS R_COPY_SRC R_COPY_DST <<<"$STEP_CPU"
R_COPY_WAITS=$(shares rosetta-copy-dst)
R_COPY_SOURCE_WAITS=$(shares rosetta-copy-src)
note "Rosetta: ${R_COPY} s (CPU: rosetta $R_COPY_ROS s, source $R_COPY_SRC s, destination $R_COPY_DST s)"
note "  destination's COPY sessions: $R_COPY_WAITS; source's COPY backends: $R_COPY_SOURCE_WAITS"
compare "after the initial copy"

say "2. a backlog of $CHANGES changes written while both are paused"
dst "$NATIVE_DB" -c "ALTER SUBSCRIPTION bench_native DISABLE"
api POST "/pipelines/$PIPELINE/pause" >/dev/null
wait_phase "$PIPELINE" paused 60
for _ in $(seq 1 100); do
    [[ $(src -c "SELECT count(*) FROM pg_replication_slots WHERE database = '$SRC_DB' AND active") == 0 ]] && break
    sleep 0.1
done
# Ten changes per transaction: 6 inserts, 3 updates, 1 delete, on one table or the other.
src <<SQL
CREATE PROCEDURE backlog(transactions integer) LANGUAGE plpgsql AS \$\$
DECLARE m bigint;
BEGIN
  FOR i IN 0 .. transactions - 1 LOOP
    m := i / 2;
    IF i % 2 = 0 THEN
      INSERT INTO items_a SELECT j, j % 10007, 'new', 1.00, repeat(md5(j::text), 4) || ' ' || j, clock_timestamp()
        FROM generate_series($ROWS + m * 6 + 1, $ROWS + m * 6 + 6) AS j;
      UPDATE items_a SET amount = amount + 1, status = 'paid', updated_at = clock_timestamp() WHERE id BETWEEN m * 3 + 1 AND m * 3 + 3;
      DELETE FROM items_a WHERE id = $ROWS - 1 - m;
    ELSE
      INSERT INTO items_b SELECT j, j % 10007, 'new', 1.00, repeat(md5(j::text), 4) || ' ' || j, clock_timestamp()
        FROM generate_series($ROWS + m * 6 + 1, $ROWS + m * 6 + 6) AS j;
      UPDATE items_b SET amount = amount + 1, status = 'paid', updated_at = clock_timestamp() WHERE id BETWEEN m * 3 + 1 AND m * 3 + 3;
      DELETE FROM items_b WHERE id = $ROWS - 1 - m;
    END IF;
    COMMIT;
  END LOOP;
END \$\$;
SQL
BACKLOG_TX=$((CHANGES / 10))
T0=$(now)
src -c "SET synchronous_commit = off" -c "CALL backlog($BACKLOG_TX)"
WRITE_S=$(calc "round($(now) - $T0, 1)")
LAST_M=$(( (BACKLOG_TX - 1) / 2 ))
LAST_TABLE=$([[ $(( (BACKLOG_TX - 1) % 2 )) == 0 ]] && echo items_a || echo items_b)
MARK="SELECT count(*) = 1 FROM $LAST_TABLE WHERE id = $((ROWS + LAST_M * 6 + 6))"
BACKLOG_MB=$(src -c "SELECT round((pg_current_wal_lsn() - confirmed_flush_lsn) / 1e6) FROM pg_replication_slots WHERE slot_name = 'bench_native'")
note "written in $WRITE_S s; $BACKLOG_MB MB of WAL behind the slots"

say "2. draining it: native"
step_begin native-drain "backend_type = 'logical replication worker' AND datname = '$NATIVE_DB'" \
    "backend_type = 'walsender' AND datname = '$SRC_DB'"
dst "$NATIVE_DB" -c "ALTER SUBSCRIPTION bench_native ENABLE"
N_DRAIN=$(wait_until "$NATIVE_DB" "$MARK" "$T0" 3600)
step_end
read -r _ N_DRAIN_SRC N_DRAIN_DST <<<"$STEP_CPU"
N_APPLY_WAITS=$(shares native-drain-dst)
N_APPLY_CPU=$(share_of native-drain-dst CPU)
N_SENDER_WAITS=$(shares native-drain-src)
note "native: ${N_DRAIN} s (CPU: source $N_DRAIN_SRC s, subscriber $N_DRAIN_DST s)"
note "  apply worker: $N_APPLY_WAITS; walsender: $N_SENDER_WAITS"
dst "$NATIVE_DB" -c "ALTER SUBSCRIPTION bench_native DISABLE"

say "2. draining it: Rosetta"
LOG_BEFORE=$(wc -l <"$OUT/server-single.log")
step_begin rosetta-drain "application_name LIKE 'rosetta-pipeline:%' AND datname = '$ROSETTA_DB'" \
    "backend_type = 'walsender' AND datname = '$SRC_DB'"
api POST "/pipelines/$PIPELINE/start" >/dev/null
R_DRAIN=$(wait_until "$ROSETTA_DB" "$MARK" "$T0" 3600)
step_end
read -r R_DRAIN_ROS R_DRAIN_SRC R_DRAIN_DST <<<"$STEP_CPU"
R_APPLY_WAITS=$(shares rosetta-drain-dst)
R_APPLY_IDLE=$(share_of rosetta-drain-dst ClientRead)
R_SENDER_BLOCKED=$(share_of rosetta-drain-src WalSenderWriteData)
R_SENDER_WAITS=$(shares rosetta-drain-src)
note "Rosetta: ${R_DRAIN} s (CPU: rosetta $R_DRAIN_ROS s, source $R_DRAIN_SRC s, destination $R_DRAIN_DST s)"
# The drain's batches, from the server's debug lines: "count gather_ms write_ms commit_ms" (means).
read -r R_BATCHES R_GATHER_MS R_WRITE_MS R_COMMIT_MS < <(python3 - "$OUT/server-single.log" "$LOG_BEFORE" <<'PY'
import re, sys
rows = []
for line in list(open(sys.argv[1]))[int(sys.argv[2]):]:
    if "batch committed" in line:
        fields = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", line))
        rows.append(fields)
n = max(len(rows), 1)
mean = lambda key: round(sum(r.get(key, 0) for r in rows) / n, 1)
print(len(rows), mean("gathered_ms"), mean("written_ms"), mean("committed_ms"))
PY
)
note "  $R_BATCHES batches: on average ${R_GATHER_MS} ms gathering, ${R_WRITE_MS} ms writing, ${R_COMMIT_MS} ms committing"
note "  destination session: $R_APPLY_WAITS; walsender: $R_SENDER_WAITS"
compare "after the backlog"
if [[ -n ${BENCH_QUICK:-} ]]; then
    note "BENCH_QUICK: copy ${N_COPY} s native, ${R_COPY} s Rosetta; drain ${N_DRAIN} s native, ${R_DRAIN} s Rosetta (nothing written)"
    stop_server
    drop_everything
    exit 0
fi

# The steady load: BENCH_RATE changes/s as transactions of 10 (6 inserts, 3 updates, 1 delete),
# and apart from it one probe row 50 times a second from a single client, so that probes commit
# in the order of their ids; a function on the destination polls for new probes every 2 ms and
# takes the delay from each probe's commit on the source to the moment it is visible there.
cat >"$OUT/load.sql" <<'SQL'
\set u random(:lo, :hi)
BEGIN;
INSERT INTO items_a SELECT nextval('load_ids'), 7, 'new', 1.00, repeat(md5(random()::text), 4), clock_timestamp() FROM generate_series(1, 6);
UPDATE items_b SET amount = amount + 1, updated_at = clock_timestamp() WHERE id BETWEEN :u AND :u + 2;
DELETE FROM items_a WHERE id = :u + 3;
END;
SQL
cat >"$OUT/probe.sql" <<'SQL'
INSERT INTO probe VALUES (nextval('probe_ids'), clock_timestamp());
SQL
WATCH_SQL="
CREATE FUNCTION pg_temp.watch(seconds float8, skip float8) RETURNS TABLE (probes bigint, p50 float8, p99 float8, worst float8)
LANGUAGE plpgsql AS \$\$
DECLARE
  last bigint := coalesce((SELECT max(id) FROM probe), 0);
  started timestamptz := clock_timestamp();
  delays float8[] := '{}';
  r record;
BEGIN
  WHILE clock_timestamp() < started + seconds * interval '1 s' LOOP
    FOR r IN SELECT id, sent_at FROM probe WHERE id > last ORDER BY id LOOP
      IF r.sent_at > started + skip * interval '1 s' THEN
        delays := delays || extract(epoch FROM clock_timestamp() - r.sent_at)::float8;
      END IF;
      last := r.id;
    END LOOP;
    PERFORM pg_sleep(0.002);
  END LOOP;
  RETURN QUERY SELECT count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY d),
                      percentile_cont(0.99) WITHIN GROUP (ORDER BY d), max(d) FROM unnest(delays) AS d;
END \$\$;"
WARM=10
steady() { # steady DB NAME: prints "achieved_changes_per_s probes p50_ms p99_ms max_ms"
    local db=$1 name=$2 before after tx_rate watch
    tx_rate=$((RATE / 10))
    before=$(src -c "SELECT sum(n_tup_ins + n_tup_upd + n_tup_del) FROM pg_stat_user_tables")
    dst "$db" -F ' ' -c "$WATCH_SQL" -c "SELECT * FROM pg_temp.watch($((STEADY + WARM + 2)), $WARM)" >"$OUT/watch-$name" &
    watch=$!
    sleep 0.5
    pgbench -h 127.0.0.1 -p "$SRC_PORT" -U postgres -n -c 4 -j 2 -R "$tx_rate" -T $((STEADY + WARM)) \
        -D lo=$((ROWS / 5 + 1)) -D hi=$((ROWS * 9 / 10)) \
        -f "$OUT/load.sql" "$SRC_DB" >"$OUT/pgbench-load-$name" 2>&1 &
    local load=$!
    pgbench -h 127.0.0.1 -p "$SRC_PORT" -U postgres -n -c 1 -R 50 -T $((STEADY + WARM)) \
        -f "$OUT/probe.sql" "$SRC_DB" >"$OUT/pgbench-probe-$name" 2>&1
    wait "$load" || die "the load failed: $(tail -n 3 "$OUT/pgbench-load-$name")"
    after=$(src -c "SELECT sum(n_tup_ins + n_tup_upd + n_tup_del) FROM pg_stat_user_tables")
    wait "$watch" || die "the watcher failed: $(cat "$OUT/watch-$name")"
    read -r probes p50 p99 worst <"$OUT/watch-$name"
    echo "$(calc "round(($after - $before) / ($STEADY + $WARM))") $probes $(calc "round($p50 * 1000)") $(calc "round($p99 * 1000)") $(calc "round($worst * 1000)")"
}
caught_up() { # caught_up DB: a marker committed after everything else is visible there
    local marker
    marker=$(src -c "INSERT INTO probe VALUES (nextval('probe_ids'), clock_timestamp()) RETURNING id")
    wait_until "$1" "SELECT count(*) = 1 FROM probe WHERE id = $marker" "$(now)" 900 >/dev/null
}

say "3. a steady $RATE changes/s for $STEADY s (after $WARM s of warm-up): Rosetta"
settle
CPU=$(cpu_now)
read -r R_RATE R_PROBES R_P50 R_P99 R_MAX <<<"$(steady "$ROSETTA_DB" rosetta)"
read -r R_ST_ROS R_ST_SRC R_ST_DST <<<"$(cpu_since "$CPU")"
note "Rosetta: $R_RATE changes/s, $R_PROBES probes: p50 $R_P50 ms, p99 $R_P99 ms, max $R_MAX ms (CPU: rosetta $R_ST_ROS s, source $R_ST_SRC s, destination $R_ST_DST s)"
caught_up "$ROSETTA_DB"
R_PEAK_SINGLE=$(peak_mib "$SERVER")

say "3. the same load: native"
api POST "/pipelines/$PIPELINE/pause" >/dev/null
wait_phase "$PIPELINE" paused 60
dst "$NATIVE_DB" -c "ALTER SUBSCRIPTION bench_native ENABLE"
caught_up "$NATIVE_DB"
settle
CPU=$(cpu_now)
read -r N_RATE N_PROBES N_P50 N_P99 N_MAX <<<"$(steady "$NATIVE_DB" native)"
read -r _ N_ST_SRC N_ST_DST <<<"$(cpu_since "$CPU")"
note "native: $N_RATE changes/s, $N_PROBES probes: p50 $N_P50 ms, p99 $N_P99 ms, max $N_MAX ms (CPU: source $N_ST_SRC s, subscriber $N_ST_DST s)"
caught_up "$NATIVE_DB"
api POST "/pipelines/$PIPELINE/start" >/dev/null
caught_up "$ROSETTA_DB"
compare "after the steady load"
stop_server
dst "$NATIVE_DB" -c "DROP SUBSCRIPTION bench_native"

say "4. $PIPELINES pipelines in one process"
drop_everything
DBNAME=postgres src -c "CREATE DATABASE $MANY_SRC"
DBNAME=$MANY_SRC src -c "CREATE TABLE events (id bigint PRIMARY KEY, kind text NOT NULL, payload text NOT NULL, at timestamptz NOT NULL)" \
    -c "INSERT INTO events SELECT i, 'seed', repeat(md5(i::text), 5), now() FROM generate_series(1, 100000) AS i" \
    -c "CREATE SEQUENCE event_ids START 100001" -c "CREATE PUBLICATION many_pub FOR TABLE events"
start_server many "${META_DB}_many"
MANY_SOURCE=$(api POST /sources "{\"name\": \"many\", \"pg_host\": \"127.0.0.1\", \"pg_port\": $SRC_PORT,
    \"pg_database\": \"$MANY_SRC\", \"pg_username\": \"postgres\", \"pg_password\": \"unused\",
    \"publication_name\": \"many_pub\", \"replication_id\": 2, \"ssl_mode\": \"disable\"}" | json 'd["id"]')
MANY=()
for i in $(seq 1 $PIPELINES); do
    dst postgres -c "CREATE DATABASE ${MANY_SRC}_$i"
    dest=$(api POST /destinations "{\"name\": \"many-$i\", \"type\": \"POSTGRES\", \"config\": {\"host\": \"127.0.0.1\",
        \"port\": $DST_PORT, \"database\": \"${MANY_SRC}_$i\", \"username\": \"postgres\", \"password\": \"unused\"}}" | json 'd["id"]')
    MANY+=("$(api POST /pipelines "{\"name\": \"many-$i\", \"source_id\": $MANY_SOURCE, \"destination_id\": $dest}" | json 'd["id"]')")
done
(while kill -0 "$SERVER" 2>/dev/null; do awk '/^VmRSS/ {print $2}' "/proc/$SERVER/status" 2>/dev/null; sleep 0.5; done) >"$OUT/rss-many" &
PIDS+=($!)
for id in "${MANY[@]}"; do wait_phase "$id" streaming 600; done
MANY_COPY_PEAK=$(peak_mib "$SERVER")
note "all $PIPELINES copied 100,000 rows and stream; peak so far $MANY_COPY_PEAK MiB"
cat >"$OUT/many.sql" <<'SQL'
\set u random(1, 100000)
BEGIN;
INSERT INTO events SELECT nextval('event_ids'), 'new', repeat(md5(random()::text), 5), clock_timestamp() FROM generate_series(1, 6);
UPDATE events SET kind = 'changed', at = clock_timestamp() WHERE id BETWEEN :u AND :u + 2;
DELETE FROM events WHERE id = :u + 3;
END;
SQL
MANY_RATE=1000
pgbench -h 127.0.0.1 -p "$SRC_PORT" -U postgres -n -c 2 -j 2 -R $((MANY_RATE / 10)) -T "$STEADY" \
    -f "$OUT/many.sql" "$MANY_SRC" >"$OUT/pgbench-many" 2>&1 || die "the load failed: $(tail -n 3 "$OUT/pgbench-many")"
LAST_EVENT=$(DBNAME=$MANY_SRC src -c "SELECT max(id) FROM events")
fingerprint_events() { psql -X -q -At -h 127.0.0.1 -p "$1" -U postgres -d "$2" -c "SELECT count(*), sum(('x' || left(md5(t::text), 15))::bit(60)::bigint) FROM events t"; }
WANT=$(fingerprint_events "$SRC_PORT" "$MANY_SRC")
for i in $(seq 1 $PIPELINES); do
    wait_until "${MANY_SRC}_$i" "SELECT count(*) = 1 FROM events WHERE id = $LAST_EVENT" "$(now)" 600 >/dev/null
    got=$(fingerprint_events "$DST_PORT" "${MANY_SRC}_$i")
    [[ $got == "$WANT" ]] || die "pipeline $i's destination differs: $got vs $WANT"
done
MANY_PEAK=$(peak_mib "$SERVER")
MANY_END=$(awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$SERVER/status")
MANY_CPU=$(process_cpu "$SERVER")
note "$PIPELINES pipelines: peak $MANY_PEAK MiB (during the copies $MANY_COPY_PEAK MiB), $MANY_END MiB at the end; every destination equals the source"
stop_server
drop_everything

# Figures and verdicts.
rate() { calc "round($1 / $2)"; }
N_COPY_ROWS=$(rate $((ROWS * 2)) "$N_COPY"); R_COPY_ROWS=$(rate $((ROWS * 2)) "$R_COPY")
N_COPY_MBS=$(calc "round($TABLE_BYTES / 1e6 / $N_COPY, 1)"); R_COPY_MBS=$(calc "round($TABLE_BYTES / 1e6 / $R_COPY, 1)")
N_DRAIN_RATE=$(rate "$CHANGES" "$N_DRAIN"); R_DRAIN_RATE=$(rate "$CHANGES" "$R_DRAIN")
COPY_X=$(calc "round($N_COPY / $R_COPY, 2)"); DRAIN_X=$(calc "round($N_DRAIN / $R_DRAIN, 2)")
verdict() { python3 -c "print('met' if $1 else '**missed**')"; }
V_COPY=$(verdict "$COPY_X >= 1.0"); V_DRAIN=$(verdict "$DRAIN_X >= 1.5")
V_DELAY=$(verdict "$R_P99 < 1000 and $R_RATE >= 0.95 * $RATE"); V_MEM=$(verdict "$MANY_PEAK < 64")
fmt() { python3 -c "print(f'{$1:,}')"; }

SECTION=$(cat <<EOF
<!-- bench-replication:start -->
## The data plane (\`just bench-replication\`)

Run $RUN_ID on $(nproc) CPUs, PostgreSQL $PG_VERSION: the release build of \`rosetta serve\`
(default replicator settings) and, in the same run,
PostgreSQL's own logical replication (\`CREATE SUBSCRIPTION\` with its defaults) between the same
databases, one after the other. The source is a cluster with \`wal_level = logical\` on port
$SRC_PORT; the native subscriber, Rosetta's destination and its metadata database are on the
default cluster (5432) of the same machine, so every process shares the same $(nproc) CPUs.
After each step both destinations were compared with the source, table by table (row count and a
checksum over every column): equal every time.

| step | native logical replication | Rosetta | Rosetta ÷ native | target |
|---|---:|---:|---:|---|
| initial copy, 2 × $(fmt "$ROWS") rows ($ROW_BYTES B each, $TABLE_MB MB) | ${N_COPY} s: $(fmt "$N_COPY_ROWS") rows/s, $N_COPY_MBS MB/s | ${R_COPY} s: $(fmt "$R_COPY_ROWS") rows/s, $R_COPY_MBS MB/s | ${COPY_X}× | ≥ 1.0×: $V_COPY |
| backlog of $(fmt "$CHANGES") changes (60/30/10 % insert/update/delete, 10 per transaction) | ${N_DRAIN} s: $(fmt "$N_DRAIN_RATE") changes/s | ${R_DRAIN} s: $(fmt "$R_DRAIN_RATE") changes/s | ${DRAIN_X}× | ≥ 1.5×: $V_DRAIN |
| steady load (asked $(fmt "$RATE") changes/s), commit to visible | $(fmt "$N_RATE") changes/s: p50 $N_P50 ms, p99 $N_P99 ms (max $N_MAX) | $(fmt "$R_RATE") changes/s: p50 $R_P50 ms, p99 $R_P99 ms (max $R_MAX) | | p99 < 1 s: $V_DELAY |
| peak memory, $PIPELINES pipelines copying 100,000 rows each, then streaming $(fmt "$MANY_RATE") changes/s | | $MANY_PEAK MiB ($MANY_COPY_PEAK MiB by the end of the copies; $MANY_END MiB at the end) | | < 64 MiB: $V_MEM |

Where the time goes, in CPU seconds over each step (the source cluster decodes the WAL for
either; "destination" is the whole default cluster, Rosetta's metadata database included):

| step | native: source | native: subscriber | Rosetta: source | Rosetta: the process | Rosetta: destination |
|---|---:|---:|---:|---:|---:|
| initial copy | $N_COPY_SRC | $N_COPY_DST | $R_COPY_SRC | $R_COPY_ROS | $R_COPY_DST |
| backlog drain | $N_DRAIN_SRC | $N_DRAIN_DST | $R_DRAIN_SRC | $R_DRAIN_ROS | $R_DRAIN_DST |
| steady load, $((STEADY + WARM)) s | $N_ST_SRC | $N_ST_DST | $R_ST_SRC | $R_ST_ROS | $R_ST_DST |

What the backends doing the work were doing, sampled every 10 ms from \`pg_stat_activity\`
(\`CPU\`: no wait event; \`ClientRead\`: waiting for the client's next message;
\`WalSenderWriteData\`: waiting for the client to take what was sent; \`LogicalApplyMain\`: the
native apply worker waiting for its stream):

| step | native | Rosetta |
|---|---|---|
| copy: the destination's COPY | $N_COPY_WAITS (its table sync workers) | $R_COPY_WAITS (the COPY sessions) |
| copy: the source's COPY | $N_COPY_SOURCE_WAITS | $R_COPY_SOURCE_WAITS |
| drain: the destination | $N_APPLY_WAITS (the apply worker) | $R_APPLY_WAITS (the pipeline's session) |
| drain: the source's walsender | $N_SENDER_WAITS | $R_SENDER_WAITS |

Reading them: the native apply worker is on CPU $N_APPLY_CPU % of its drain, applying row by row
in one process. Rosetta keeps one batch in flight: while the destination runs a batch's
statements and commit, the pipeline reads the next batch and folds and encodes it. Its
destination session still waits for Rosetta $R_APPLY_IDLE % of its drain, and the walsender
waits for Rosetta to read $R_SENDER_BLOCKED % of it. Its $R_BATCHES batches took on average
${R_GATHER_MS} ms to gather (read from the stream), ${R_WRITE_MS} ms to write (folded to their net
effect and encoded, the previous batch's commit waited for, the new rows' and the staged rows'
COPYs and the delete and update statements sent) and ${R_COMMIT_MS} ms from sending their commit to its reply, while
the next batch was gathered (from the server's debug lines, \`batch committed\`). The one-pipeline process peaked at
$R_PEAK_SINGLE MiB over the copy, the drain and the steady load; the ten-pipeline process used
$MANY_CPU CPU seconds in all.

How it is measured:

- **Copy**: from \`CREATE SUBSCRIPTION\` until every table is \`r\` (ready) in
  \`pg_subscription_rel\`; from \`POST /pipelines\` until \`GET /pipelines/{id}/tables\` shows every
  table \`streaming\` (polled every 50 ms, like the native side; the replicator of the process
  that served the request takes the pipeline up at once). MB are the two tables' heap and TOAST (\`pg_table_size\`). Both copy two
  tables at a time (native: \`max_sync_workers_per_subscription\` 2; Rosetta:
  \`REPLICATOR_COPY_CONCURRENCY\` 4, of which two have a table). Rosetta copies in COPY's
  binary format (every column has a built-in type), the native table sync in text (its
  \`binary\` option is for PostgreSQL 16 publishers and off by default).
- **Backlog**: $(fmt "$BACKLOG_TX") transactions written in $WRITE_S s with both paused
  (\`ALTER SUBSCRIPTION … DISABLE\`, \`POST /pipelines/{id}/pause\`), $BACKLOG_MB MB of WAL; then
  from \`ENABLE\` or \`POST …/start\` until the last transaction's row is visible on the destination
  (polled every 50 ms; both apply in commit order, so everything before it is there).
- **Delay**: pgbench at $((RATE / 10)) transactions/s of 10 changes each, on 4 connections, with the
  other side paused; one more client inserts a probe row with its \`clock_timestamp()\` 50 times a
  second, and a function on the destination polls for new probes every 2 ms and takes the delay
  from the probe's insert (just before its commit) to the moment it is visible there. The first
  $WARM s are not counted; "changes/s" is what the source actually did (\`pg_stat_user_tables\`).
- Before each measured step both clusters run \`CHECKPOINT\`, so that neither side's step
  pays for a checkpoint that the other side's WAL brought on.
- **Memory**: VmHWM of the process, which ran only the $PIPELINES pipelines (one source, one
  destination database each).

Raw logs: \`target/bench-replication/<run>/\`.
<!-- bench-replication:end -->
EOF
)
scripts/bench/write-section.py "$DOC" replication "$SECTION"
printf '%s\n' "$SECTION" >"$OUT/section.md"
echo "wrote $DOC" >&2

# Snowflake destinations: what each mode sends to Snowflake (its own section of the page).
BENCH_DOC=$DOC scripts/bench/snowflake.sh
