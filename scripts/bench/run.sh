#!/usr/bin/env bash
# The REST API benchmark (`just bench`): the release build of `rosetta serve` on loopback against
# a freshly seeded database `rosetta_bench`, each endpoint loaded by wrk, and beside it the
# database's own ceiling: pgbench running the very statements that endpoint runs, with the same
# 32 connections. Prints a summary and writes docs/benchmarks.md (BENCH_DOC to write elsewhere).
#
# From a fresh Debian machine: installs wrk (and curl, pgbench) with apt-get when missing, starts
# PostgreSQL (scripts/ensure-postgres.sh), builds target/release/rosetta. Idempotent: the database
# is dropped and re-created on every run. Everything it starts is stopped when it ends.
#
# Steps:
#  1. a first server, with `log_statement = 'all'` set on the database, seeds 100 sources,
#     100 destinations and 100 pipelines through the API (wal_metrics: 100,000 rows with SQL),
#     then answers one request per endpoint while the PostgreSQL log is read: the statements
#     each endpoint issues, their number, and the pgbench script running them; then it stops
#     and the logging is turned off;
#  2. a second server, started with the service's settings as the environment gives them
#     (docs/configuration.md; defaults when unset), is loaded endpoint by endpoint: wrk for
#     BENCH_WARMUP s (3) discarded, then BENCH_DURATION s (10) measured; then pgbench likewise.
#     Its RSS is sampled every 0.5 s for the whole of step 2 (VmRSS, and VmHWM at the end), and
#     the CPU time of the server, of its PostgreSQL backends and of the whole machine is read
#     around each measured run.
#
# Results (raw wrk/pgbench output, captured SQL, server log, RSS samples): target/bench/<run>/.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
BENCH_LUA_DIR=$ROOT/scripts/bench
export BENCH_LUA_DIR

DB=rosetta_bench
PG_HOST=127.0.0.1
PG_PORT=5432
PG_USER=postgres
CONNECTIONS=32
THREADS=2
WARMUP=${BENCH_WARMUP:-3}
DURATION=${BENCH_DURATION:-10}
DOC=${BENCH_DOC:-docs/benchmarks.md}
SEED_COUNT=100
WAL_ROWS_PER_SOURCE=1000

RUN_ID=$(date -u +%Y%m%d-%H%M%S)
LOAD_BEFORE=$(cut -d ' ' -f 1-3 /proc/loadavg)
OUT=$ROOT/target/bench/$RUN_ID
mkdir -p "$OUT/sql" "$OUT/raw"
ln -sfn "$RUN_ID" "$ROOT/target/bench/latest"

say() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
    if [[ $apt_updated -eq 0 ]]; then
        as_root apt-get update -qq
        apt_updated=1
    fi
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# ---------------------------------------------------------------------------------------------
say "tools"
command -v wrk >/dev/null || apt_install wrk
command -v curl >/dev/null || apt_install curl
command -v perl >/dev/null || apt_install perl
scripts/ensure-postgres.sh
find_pg_tool() {
    local tool=$1 found
    found=$(ls -1d /usr/lib/postgresql/*/bin/"$tool" 2>/dev/null | sort -V | tail -n 1 || true)
    [[ -z $found ]] && found=$(command -v "$tool" || true)
    echo "$found"
}
PGBENCH=$(find_pg_tool pgbench)
if [[ -z $PGBENCH ]]; then
    apt_install postgresql-contrib
    PGBENCH=$(find_pg_tool pgbench)
fi
[[ -x $PGBENCH ]] || die "pgbench not found, even after apt-get install postgresql-contrib"
PSQL=$(find_pg_tool psql)
[[ -x $PSQL ]] || die "psql not found"

psql_admin() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -At "$@"; }
psql_bench() { "$PSQL" -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$DB" -At "$@"; }

# Where this server writes its log (log_statement's output is read from it).
if [[ -n ${BENCH_PG_LOG:-} ]]; then
    PG_LOG=$BENCH_PG_LOG
else
    PG_LOG=$(psql_admin -c "SELECT CASE WHEN pg_current_logfile() IS NULL THEN '' WHEN pg_current_logfile() LIKE '/%' THEN pg_current_logfile() ELSE current_setting('data_directory') || '/' || pg_current_logfile() END")
    if [[ -z $PG_LOG ]]; then
        major=$(( $(psql_admin -c "SHOW server_version_num") / 10000 ))
        PG_LOG=/var/log/postgresql/postgresql-$major-main.log
    fi
fi
as_root test -r "$PG_LOG" || die "cannot read PostgreSQL's log $PG_LOG (set BENCH_PG_LOG)"

say "release build"
cargo build --release --locked --bin rosetta
BIN=$ROOT/target/release/rosetta

# ---------------------------------------------------------------------------------------------
# Servers, the RSS sampler, and the cleanup that stops them whatever happens.
SERVER_PID=
SAMPLER_PID=
LOG_STATEMENT_ON=0

stop_server() {
    [[ -n $SERVER_PID ]] || return 0
    if kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 70); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.5
        done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
}

stop_sampler() {
    [[ -n $SAMPLER_PID ]] || return 0
    kill "$SAMPLER_PID" 2>/dev/null || true
    wait "$SAMPLER_PID" 2>/dev/null || true
    SAMPLER_PID=
}

logging_off() {
    if [[ $LOG_STATEMENT_ON -eq 1 ]]; then
        psql_admin -c "ALTER DATABASE $DB RESET log_statement" || true
        LOG_STATEMENT_ON=0
    fi
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_sampler
    stop_server
    logging_off
    [[ $rc -eq 0 ]] || echo "bench: failed; the run's files are in $OUT" >&2
    exit "$rc"
}
trap cleanup EXIT INT TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
    local port
    for _ in $(seq 1 100); do
        port=$(( 20000 + RANDOM % 40000 ))
        port_in_use "$port" || { echo "$port"; return 0; }
    done
    die "no free port found"
}

# start_server NAME [VAR=value...]: `rosetta serve` on 127.0.0.1 against the bench database, run
# from the results folder so that no .env of the work tree changes its settings.
start_server() {
    local name=$1
    shift
    PORT=$(free_port)
    BASE=http://127.0.0.1:$PORT
    # The WAL monitor has a benchmark of its own (monitor.sh), and so has the replicator
    # (replication.sh); here they would probe and connect to the seeded sources' made-up hosts in
    # the background of the measurements.
    (cd "$OUT" && exec env DATABASE_URL="postgres://$PG_USER@$PG_HOST:$PG_PORT/$DB" \
        HOST=127.0.0.1 PORT="$PORT" LOG_LEVEL=warn LOG_FORMAT=text \
        WAL_MONITOR_ENABLED="${WAL_MONITOR_ENABLED:-false}" \
        REPLICATOR_ENABLED="${REPLICATOR_ENABLED:-false}" "$@" "$BIN" serve) \
        >"$OUT/server-$name.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 120); do
        curl -fsS -o /dev/null "$BASE/health/live" 2>/dev/null && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$OUT/server-$name.log" >&2; die "the server ($name) exited"; }
        sleep 0.25
    done
    cat "$OUT/server-$name.log" >&2
    die "the server ($name) does not answer on $BASE"
}

# api METHOD PATH [BODY]: one request; fails unless the answer is 2xx. The body goes to $OUT/reply.
api() {
    local method=$1 path=$2 body=${3:-} status
    local args=(-sS -o "$OUT/reply" -w '%{http_code}' -X "$method" -H 'Content-Type: application/json')
    [[ -n $body ]] && args+=(--data "$body")
    status=$(curl "${args[@]}" "$BASE$path") || die "$method $path: no answer"
    [[ $status == 2?? ]] || die "$method $path answered $status: $(head -c 500 "$OUT/reply")"
}

# ---------------------------------------------------------------------------------------------
# The endpoints, in the order they are loaded.
# The insert goes last, so that the rows it adds (and their vacuuming) weigh on nothing else.
KEYS=(sources_list pipeline_get pipelines_list wal_metrics health source_create)
declare -A LABEL=(
    [sources_list]="GET /api/v1/sources?limit=100"
    [pipeline_get]="GET /api/v1/pipelines/{id}"
    [pipelines_list]="GET /api/v1/pipelines?limit=100"
    [wal_metrics]="GET /api/v1/metrics/wal?source_id=1&limit=100"
    [source_create]="POST /api/v1/sources"
    [health]="GET /health"
)
# The first (Python) implementation's figures, requests/s, and the multiple asked of this one.
declare -A FIRST=([sources_list]=65 [pipeline_get]=370 [pipelines_list]=31 [wal_metrics]=146 [source_create]=361 [health]=3168)
declare -A FACTOR=([sources_list]=20 [pipeline_get]=10 [pipelines_list]=20 [wal_metrics]=20 [source_create]=10 [health]=10)
declare -A IS_READ=([sources_list]=1 [pipeline_get]=1 [pipelines_list]=1 [wal_metrics]=1 [source_create]=0 [health]=1)
FIRST_MIB=210

source_body() {
    printf '{"name":"%s","pg_host":"%s","pg_port":5432,"pg_database":"shop","pg_username":"replicator","pg_password":"bench-secret","publication_name":"shop_pub","replication_id":%d}' "$1" "$2" "$3"
}

# ---------------------------------------------------------------------------------------------
say "database $DB (dropped and re-created), statement logging on"
psql_admin -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
psql_admin -c "CREATE DATABASE $DB"
psql_admin -c "ALTER DATABASE $DB SET log_statement = 'all'"
LOG_STATEMENT_ON=1

start_server capture
say "seeding through the API on $BASE: $SEED_COUNT sources, destinations, pipelines"
for i in $(seq 1 $SEED_COUNT); do
    api POST /api/v1/sources "$(source_body "source-$i" "db$i.example.com" "$i")"
done
for i in $(seq 1 $SEED_COUNT); do
    if (( i % 2 )); then
        api POST /api/v1/destinations "{\"name\":\"warehouse-$i\",\"type\":\"POSTGRES\",\"config\":{\"host\":\"dw$i.example.com\",\"port\":5432,\"database\":\"dw\",\"username\":\"loader\",\"schema\":\"cdc\",\"password\":\"bench-secret\"}}"
    else
        api POST /api/v1/destinations "{\"name\":\"snowflake-$i\",\"type\":\"SNOWFLAKE\",\"config\":{\"account\":\"acme-$i\",\"user\":\"LOADER\",\"database\":\"RAW\",\"schema\":\"CDC\",\"role\":\"LOADER_ROLE\",\"warehouse\":\"LOAD_WH\",\"host\":\"acme-$i.snowflakecomputing.com\",\"private_key_path\":\"/keys/loader.p8\",\"private_key_passphrase\":\"bench-secret\"}}"
    fi
done
read -r SRC_MIN SRC_MAX DST_MIN <<<"$(psql_bench -F ' ' -c "SELECT (SELECT min(id) FROM sources), (SELECT max(id) FROM sources), (SELECT min(id) FROM destinations)")"
for i in $(seq 0 $((SEED_COUNT - 1))); do
    status=START
    (( i % 4 == 3 )) && status=PAUSE
    api POST /api/v1/pipelines "{\"name\":\"pipeline-$((i + 1))\",\"source_id\":$((SRC_MIN + i)),\"destination_id\":$((DST_MIN + i)),\"status\":\"$status\"}"
done
read -r PIPE_MIN PIPE_MAX PIPE_COUNT <<<"$(psql_bench -F ' ' -c "SELECT min(id), max(id), count(*) FROM pipelines")"
[[ $SRC_MIN -eq 1 && $((SRC_MAX - SRC_MIN + 1)) -eq $SEED_COUNT ]] || die "source ids are not 1..$SEED_COUNT"
[[ $PIPE_COUNT -eq $SEED_COUNT && $((PIPE_MAX - PIPE_MIN + 1)) -eq $SEED_COUNT ]] || die "pipeline ids are not contiguous"
PIPELINE_ID=$((PIPE_MIN + 41))   # an existing pipeline (not 1, which a LIMIT 1 also binds)

say "seeding wal_metrics with SQL: $WAL_ROWS_PER_SOURCE samples per source, one every 5 minutes"
# Every source sampled every 5 minutes for the last ~3.5 days; sizes wander between 64 MiB and
# ~800 MiB. source_id=1 holds its 1,000 of the 100,000 rows, as each source does.
psql_bench -c "
INSERT INTO wal_metrics (source_id, size_bytes, recorded_at)
SELECT s.id,
       (64 + (s.id % 7) * 96)::bigint * 1048576 + ((g::bigint * 7919 + s.id * 104729) % 268435456),
       now() - make_interval(mins => 5 * ($WAL_ROWS_PER_SOURCE - g)) - make_interval(secs => (s.id % 60)::double precision)
FROM sources s CROSS JOIN generate_series(1, $WAL_ROWS_PER_SOURCE) g"
psql_bench -c "VACUUM ANALYZE"
psql_bench -c "CHECKPOINT"
WAL_ROWS=$(psql_bench -c "SELECT count(*) FROM wal_metrics")
WAL_ROWS_SOURCE1=$(psql_bench -c "SELECT count(*) FROM wal_metrics WHERE source_id = 1")

declare -A METHOD PATHQ
for key in "${KEYS[@]}"; do METHOD[$key]=GET; done
METHOD[source_create]=POST
PATHQ=(
    [sources_list]="/api/v1/sources?limit=100"
    [pipeline_get]="/api/v1/pipelines/$PIPELINE_ID"
    [pipelines_list]="/api/v1/pipelines?limit=100"
    [wal_metrics]="/api/v1/metrics/wal?source_id=1&limit=100"
    [source_create]="/api/v1/sources"
    [health]="/health"
)

log_size() { as_root stat -c %s "$PG_LOG"; }

say "the SQL each endpoint runs (log_statement = 'all', $PG_LOG)"
CAPTURE_NAME=capture-source
declare -A NSTMT NSTMT_TEXT REPREPARED
for key in "${KEYS[@]}"; do
    body=
    warm_body=
    if [[ $key == source_create ]]; then
        warm_body=$(source_body capture-warm db.example.com 7)
        body=$(source_body "$CAPTURE_NAME" db.example.com 7)
    fi
    # One request first, so that the measured one finds a connection opened and just used (no
    # connection set-up, no pre-ping in the log), as under load.
    offset0=$(log_size)
    api "${METHOD[$key]}" "${PATHQ[$key]}" "$warm_body"
    sleep 0.2
    offset=$(log_size)
    api "${METHOD[$key]}" "${PATHQ[$key]}" "$body"
    cp "$OUT/reply" "$OUT/raw/$key.reply.json"
    sleep 0.5
    pids=$(psql_admin -c "SELECT coalesce(string_agg(pid::text, ','), '') FROM pg_stat_activity WHERE datname = '$DB'")
    as_root tail -c "+$((offset0 + 1))" "$PG_LOG" >"$OUT/sql/$key.both.log"
    head -c "$((offset - offset0))" "$OUT/sql/$key.both.log" >"$OUT/sql/$key.warmup.log"
    tail -c "+$((offset - offset0 + 1))" "$OUT/sql/$key.both.log" >"$OUT/sql/$key.log"
    rm "$OUT/sql/$key.both.log"
    perl scripts/bench/statements.pl extract "$pids" <"$OUT/sql/$key.warmup.log" >"$OUT/sql/$key.warmup.tsv"
    perl scripts/bench/statements.pl extract "$pids" <"$OUT/sql/$key.log" >"$OUT/sql/$key.tsv"
    NSTMT[$key]=$(grep -c '^S' "$OUT/sql/$key.tsv" || true)
    [[ ${NSTMT[$key]} -gt 0 ]] || die "no statement of ${LABEL[$key]} found in $PG_LOG (see $OUT/sql/$key.log)"
    # A named statement (tokio-postgres' sN) that the warm-up request did not use either was
    # prepared for this request: the service parses and plans it anew every time.
    REPREPARED[$key]=0
    while IFS=$'\t' read -r tag kind _; do
        [[ $tag == S && $kind == "execute s"* ]] || continue
        grep -q "^S"$'\t'"$kind"$'\t' "$OUT/sql/$key.warmup.tsv" || REPREPARED[$key]=$((REPREPARED[$key] + 1))
    done <"$OUT/sql/$key.tsv"
    NSTMT_TEXT[$key]=${NSTMT[$key]}
    [[ ${REPREPARED[$key]} -gt 0 ]] && NSTMT_TEXT[$key]="${NSTMT[$key]} (${REPREPARED[$key]} prepared anew on every request)"
    printf '%-48s statements per request: %s\n' "${LABEL[$key]}" "${NSTMT_TEXT[$key]}" >&2
    sed -n 's/^S\t\([^\t]*\)\t\(.*\)$/    [\1] \2/p' "$OUT/sql/$key.tsv" | cut -c 1-200 >&2

    # The same statements for pgbench: a random existing pipeline per transaction for the
    # pipeline read, a new unique name per transaction for the insert.
    override=() 
    case $key in
        pipeline_get)
            override=(BENCH_OVERRIDE_VALUE="$PIPELINE_ID" BENCH_OVERRIDE_EXPR=":pipeline_id"
                BENCH_OVERRIDE_SET="\\set pipeline_id random($PIPE_MIN, $PIPE_MAX)") ;;
        source_create)
            override=(BENCH_OVERRIDE_VALUE="$CAPTURE_NAME"
                BENCH_OVERRIDE_EXPR="('bench-pg-' || :client_id || '-' || :name_n)"
                BENCH_OVERRIDE_SET="\\set name_n random(1, 9000000000000000000)") ;;
    esac
    env "${override[@]}" perl scripts/bench/statements.pl pgbench \
        "$OUT/sql/$key.pgbench.sql" "$OUT/sql/$key.defines" <"$OUT/sql/$key.tsv"
done
stop_server
logging_off
[[ $(psql_bench -c "SHOW log_statement") == none ]] || die "log_statement is still on for new sessions of $DB"

# ---------------------------------------------------------------------------------------------
SETTINGS=()
for var in DB_POOL_SIZE DB_MAX_OVERFLOW DB_POOL_TIMEOUT DB_POOL_PRE_PING DB_POOL_RECYCLE HTTP_WORKERS; do
    [[ -n ${!var:-} ]] && SETTINGS+=("$var=${!var}")
done
SETTINGS_TEXT=${SETTINGS[*]:-defaults (DB_POOL_SIZE=20, DB_MAX_OVERFLOW=10, HTTP_WORKERS=$(nproc))}

start_server bench
say "benchmark server pid $SERVER_PID on $BASE, settings: $SETTINGS_TEXT"
RSS_FILE=$OUT/rss.txt
: >"$RSS_FILE"
sample_rss() {
    local pid=$1 key value rest
    while [[ -r /proc/$pid/status ]]; do
        while read -r key value rest; do
            [[ $key == VmRSS: ]] && echo "$EPOCHREALTIME $value"
        done <"/proc/$pid/status"
        sleep 0.5
    done
}
sample_rss "$SERVER_PID" >>"$RSS_FILE" 2>/dev/null &
SAMPLER_PID=$!

declare -A RPS P50 P99 ERRORS ERR_DETAIL TPS PG_ERRORS CPU_BUSY CPU_SERVER CPU_PG CPU_REST CPU_PGBENCH
CLK_TCK=$(getconf CLK_TCK)
NCPU=$(nproc)
# CPU time, in clock ticks: of processes (utime + stime), and of the whole machine (busy time).
proc_ticks() {
    local pid total=0 t
    for pid in "$@"; do
        t=$(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null) || continue
        total=$((total + t))
    done
    echo "$total"
}
machine_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }
# µs of CPU per request from a tick count and a request count.
per_request_us() { awk -v t="$1" -v n="$2" -v hz="$CLK_TCK" 'BEGIN { printf "%.0f", t * 1e6 / hz / n }'; }
backend_pids() { psql_admin -c "SELECT coalesce(string_agg(pid::text, ' '), '') FROM pg_stat_activity WHERE datname = '$DB' AND application_name = 'rosetta'"; }
field() { sed -n "s/.*[[:space:]]$1=\([^[:space:]]*\).*/\1/p" <<<"$2"; }

for key in "${KEYS[@]}"; do
    url=$BASE${PATHQ[$key]}
    script=scripts/bench/report.lua
    [[ $key == source_create ]] && script=scripts/bench/create_source.lua
    say "${LABEL[$key]}"
    if [[ $key == source_create ]]; then
        api POST "${PATHQ[$key]}" "$(source_body check-source db.example.com 7)"
    else
        api GET "${PATHQ[$key]}"
    fi

    BENCH_NONCE=w$RANDOM$RANDOM wrk -c"$CONNECTIONS" -t"$THREADS" -d"${WARMUP}s" -s "$script" "$url" \
        >"$OUT/raw/$key.wrk-warmup.txt" 2>&1
    read -r -a backends <<<"$(backend_pids)"
    server0=$(proc_ticks "$SERVER_PID"); pg0=$(proc_ticks "${backends[@]}"); machine0=$(machine_ticks)
    BENCH_NONCE=m$RANDOM$RANDOM wrk -c"$CONNECTIONS" -t"$THREADS" -d"${DURATION}s" --latency -s "$script" "$url" \
        >"$OUT/raw/$key.wrk.txt" 2>&1
    server1=$(proc_ticks "$SERVER_PID"); pg1=$(proc_ticks "${backends[@]}"); machine1=$(machine_ticks)
    line=$(grep '^BENCH_RESULT' "$OUT/raw/$key.wrk.txt") || die "no wrk result for $key (see $OUT/raw/$key.wrk.txt)"
    RPS[$key]=$(field rps "$line")
    P50[$key]=$(awk -v us="$(field p50_us "$line")" 'BEGIN { printf "%.2f", us / 1000 }')
    P99[$key]=$(awk -v us="$(field p99_us "$line")" 'BEGIN { printf "%.2f", us / 1000 }')
    status_errors=$(field status_errors "$line")
    socket_errors=$(( $(field connect "$line") + $(field read "$line") + $(field write "$line") + $(field timeout "$line") ))
    ERRORS[$key]=$((status_errors + socket_errors))
    ERR_DETAIL[$key]="$status_errors status, $socket_errors socket"
    requests=$(field requests "$line")
    seconds=$(field seconds "$line")
    CPU_BUSY[$key]=$(awk -v t=$((machine1 - machine0)) -v hz="$CLK_TCK" -v s="$seconds" -v n="$NCPU" 'BEGIN { printf "%.0f%%", 100 * t / hz / s / n }')
    CPU_SERVER[$key]=$(per_request_us $((server1 - server0)) "$requests")
    CPU_PG[$key]=$(per_request_us $((pg1 - pg0)) "$requests")
    CPU_REST[$key]=$(per_request_us $((machine1 - machine0 - (server1 - server0) - (pg1 - pg0))) "$requests")
    POOL_CONNECTIONS=${#backends[@]}
    printf 'API:     %s req/s, p50 %s ms, p99 %s ms, errors %s (%s)\n' "${RPS[$key]}" "${P50[$key]}" \
        "${P99[$key]}" "${ERRORS[$key]}" "${ERR_DETAIL[$key]}" >&2

    if [[ $key == source_create ]]; then
        # The rows the API just inserted are vacuumed now rather than during pgbench's run.
        psql_bench -c "VACUUM ANALYZE sources"
        psql_bench -c "CHECKPOINT"
    fi
    defines=()
    while IFS= read -r d; do defines+=(-D "$d"); done <"$OUT/sql/$key.defines"
    pgbench_run() {
        "$PGBENCH" -n -c"$CONNECTIONS" -j"$THREADS" -T"$1" -M prepared -f "$OUT/sql/$key.pgbench.sql" \
            "${defines[@]}" -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" "$DB"
    }
    pgbench_run "$WARMUP" >"$OUT/raw/$key.pgbench-warmup.txt" 2>&1 || true
    rc=0
    machine0=$(machine_ticks)
    pgbench_run "$DURATION" >"$OUT/raw/$key.pgbench.txt" 2>&1 || rc=$?
    machine1=$(machine_ticks)
    TPS[$key]=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p' "$OUT/raw/$key.pgbench.txt")
    [[ -n ${TPS[$key]} ]] || die "no pgbench result for $key (see $OUT/raw/$key.pgbench.txt)"
    failed=$(sed -n 's/^number of failed transactions: \([0-9]*\).*/\1/p' "$OUT/raw/$key.pgbench.txt")
    aborted=$(grep -c 'aborted' "$OUT/raw/$key.pgbench.txt" || true)
    PG_ERRORS[$key]=$(( ${failed:-0} + aborted + (rc != 0 ? 1 : 0) ))
    transactions=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$OUT/raw/$key.pgbench.txt")
    CPU_PGBENCH[$key]=$(per_request_us $((machine1 - machine0)) "${transactions:-1}")
    printf 'CPU per request (µs): server %s, PostgreSQL %s, wrk and the rest %s (machine busy %s); pgbench run: %s per transaction\n' \
        "${CPU_SERVER[$key]}" "${CPU_PG[$key]}" "${CPU_REST[$key]}" "${CPU_BUSY[$key]}" "${CPU_PGBENCH[$key]}" >&2
    printf 'pgbench: %s tps, errors %s\n' "${TPS[$key]}" "${PG_ERRORS[$key]}" >&2
done

HWM_KB=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$SERVER_PID/status")
LOAD_AFTER=$(cut -d ' ' -f 1-3 /proc/loadavg)
stop_sampler
stop_server
RSS_MAX_KB=$(awk 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }' "$RSS_FILE")
RSS_SAMPLES=$(wc -l <"$RSS_FILE")
PEAK_KB=$(( HWM_KB > RSS_MAX_KB ? HWM_KB : RSS_MAX_KB ))
PEAK_MIB=$(awk -v kb="$PEAK_KB" 'BEGIN { printf "%.1f", kb / 1024 }')
RSS_MAX_MIB=$(awk -v kb="$RSS_MAX_KB" 'BEGIN { printf "%.1f", kb / 1024 }')
HWM_MIB=$(awk -v kb="$HWM_KB" 'BEGIN { printf "%.1f", kb / 1024 }')

# ---------------------------------------------------------------------------------------------
# The summary and the verdicts.
fmt_int() { awk -v x="$1" 'BEGIN { s = sprintf("%.0f", x); r = ""; while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) } print s r }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

TABLE="| endpoint | API req/s | p50 ms | p99 ms | errors | pgbench tps | API share of DB ceiling | SQL statements per request |
|---|---:|---:|---:|---:|---:|---:|---:|"
TARGETS="| endpoint | first implementation req/s | target | measured | × first | verdict |
|---|---:|---:|---:|---:|---|"
CEILINGS="| endpoint | API req/s | pgbench tps | share | target | verdict |
|---|---:|---:|---:|---:|---|"
verdict() { if "$@"; then echo "**met**"; else echo "**missed**"; fi; }
for key in "${KEYS[@]}"; do
    share=$(awk -v a="${RPS[$key]}" -v b="${TPS[$key]}" 'BEGIN { printf "%.1f%%", 100 * a / b }')
    errors="${ERRORS[$key]}"
    [[ ${PG_ERRORS[$key]} -ne 0 ]] && errors="$errors (pgbench: ${PG_ERRORS[$key]})"
    TABLE+="
| \`${LABEL[$key]}\` | $(fmt_int "${RPS[$key]}") | ${P50[$key]} | ${P99[$key]} | $errors | $(fmt_int "${TPS[$key]}") | $share | ${NSTMT_TEXT[$key]} |"
    target=$(( FIRST[$key] * FACTOR[$key] ))
    times=$(ratio "${RPS[$key]}" "${FIRST[$key]}")
    v=$(verdict eval "ge ${RPS[$key]} $target && [[ ${ERRORS[$key]} -eq 0 ]]")
    [[ ${ERRORS[$key]} -ne 0 ]] && v="$v (${ERRORS[$key]} errors)"
    TARGETS+="
| \`${LABEL[$key]}\` | $(fmt_int "${FIRST[$key]}") | ≥ ${FACTOR[$key]}× = $(fmt_int "$target") | $(fmt_int "${RPS[$key]}") | ${times}× | $v |"
    if [[ ${IS_READ[$key]} -eq 1 ]]; then
        v=$(verdict ge "${RPS[$key]}" "$(awk -v t="${TPS[$key]}" 'BEGIN { print t / 2 }')")
        CEILINGS+="
| \`${LABEL[$key]}\` | $(fmt_int "${RPS[$key]}") | $(fmt_int "${TPS[$key]}") | $share | ≥ 50% | $v |"
    fi
done
CPU_TABLE="| endpoint | machine CPU busy (API run) | server | PostgreSQL (server's connections) | wrk, kernel, rest | whole machine, pgbench run |
|---|---:|---:|---:|---:|---:|"
for key in "${KEYS[@]}"; do
    CPU_TABLE+="
| \`${LABEL[$key]}\` | ${CPU_BUSY[$key]} | ${CPU_SERVER[$key]} | ${CPU_PG[$key]} | ${CPU_REST[$key]} | ${CPU_PGBENCH[$key]} |"
done
MEM_VERDICT=$(verdict test "$PEAK_KB" -lt 65536)
# The misses, in words.
MISSES=
for key in "${KEYS[@]}"; do
    target=$(( FIRST[$key] * FACTOR[$key] ))
    if ! ge "${RPS[$key]}" "$target" || [[ ${ERRORS[$key]} -ne 0 ]]; then
        MISSES+="- \`${LABEL[$key]}\`: $(fmt_int "${RPS[$key]}") req/s is $(ratio "${RPS[$key]}" "${FIRST[$key]}")× the first implementation; the target is ${FACTOR[$key]}× ($(fmt_int "$target") req/s) with no errors (errors: ${ERRORS[$key]}).
"
    fi
    if [[ ${IS_READ[$key]} -eq 1 ]] && ! ge "${RPS[$key]}" "$(awk -v t="${TPS[$key]}" 'BEGIN { print t / 2 }')"; then
        MISSES+="- \`${LABEL[$key]}\`: $(fmt_int "${RPS[$key]}") req/s is $(awk -v a="${RPS[$key]}" -v b="${TPS[$key]}" 'BEGIN { printf "%.1f%%", 100 * a / b }') of the database's $(fmt_int "${TPS[$key]}") tps; the target is 50%.
"
    fi
done
[[ $PEAK_KB -lt 65536 ]] || MISSES+="- Memory: the server peaked at $PEAK_MIB MiB; the target is under 64 MiB.
"
[[ -n $MISSES ]] || MISSES="None: every target is met.
"
# grep finds nothing when every target is met (or none is): that is a count of 0, not a failure.
MET=$( (grep -o '\*\*met\*\*' <<<"$TARGETS$CEILINGS$MEM_VERDICT" || true) | wc -l)
MISSED=$( (grep -o '\*\*missed\*\*' <<<"$TARGETS$CEILINGS$MEM_VERDICT" || true) | wc -l)

echo
echo "Summary ($CONNECTIONS connections, $THREADS threads, ${DURATION} s after ${WARMUP} s warm-up; server settings: $SETTINGS_TEXT)"
echo
echo "$TABLE"
echo
echo "$TARGETS"
echo
echo "$CEILINGS"
echo
echo "CPU time per request, µs ($NCPU CPUs; the server's pool had $POOL_CONNECTIONS connections open):"
echo
echo "$CPU_TABLE"
echo
echo "Server memory: peak $PEAK_MIB MiB (VmHWM $HWM_MIB MiB, highest of $RSS_SAMPLES VmRSS samples $RSS_MAX_MIB MiB); target < 64 MiB: $MEM_VERDICT (first implementation: about $FIRST_MIB MiB)"
echo "Targets met: $MET, missed: $MISSED."
printf '%s' "$MISSES"
echo "Raw results: $OUT"

# ---------------------------------------------------------------------------------------------
# docs/benchmarks.md
CPU_MODEL=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
MEM_GIB=$(awk '/^MemTotal:/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
PG_VERSION=$(psql_admin -c "SELECT version()")
WRK_VERSION=$({ wrk -v 2>&1 || true; } | head -n 1 | awk '{ print $1, $2 }')
PGBENCH_VERSION=$("$PGBENCH" --version)
RUSTC_VERSION=$(rustc --version)
GIT_REV=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$(git status --porcelain -- crates migrations Cargo.toml Cargo.lock 2>/dev/null | wc -l)
SOURCE_STATE="commit $GIT_REV"
[[ $DIRTY -gt 0 ]] && SOURCE_STATE="$SOURCE_STATE with uncommitted changes in $DIRTY file(s) of the work tree"

sql_section() {
    local key line kind sql n=0
    for key in "${KEYS[@]}"; do
        echo "**\`${LABEL[$key]}\`**: statements per request: ${NSTMT_TEXT[$key]}"
        echo
        echo '```sql'
        while IFS=$'\t' read -r tag kind sql; do
            [[ $tag == S ]] || continue
            echo "-- $kind"
            echo "$sql;"
        done <"$OUT/sql/$key.tsv"
        echo '```'
        echo
    done
}

mkdir -p "$(dirname "$DOC")"
# The other benchmarks' sections (bench-monitor, bench-replication) are kept as they are.
KEPT_SECTIONS=$(for name in monitor replication; do
    section=$(sed -n "/<!-- bench-$name:start -->/,/<!-- bench-$name:end -->/p" "$DOC" 2>/dev/null || true)
    if [[ -n $section ]]; then printf '%s\n\n' "$section"; fi
done)
cat >"$DOC" <<EOF
# Benchmarks

Three benchmarks write this page, each its own part, and each measures Rosetta beside what a user
would use instead: the REST API below (\`just bench\`), the WAL monitor
([\`just bench-monitor\`](#the-wal-monitor-just-bench-monitor)) and the data plane beside
PostgreSQL's own logical replication
([\`just bench-replication\`](#the-data-plane-just-bench-replication)). Each is a plain script
under \`scripts/bench/\` (\`just\` is optional); run one again to refresh its part.

## The REST API (\`just bench\`)

The numbers below come from \`just bench\` (or \`scripts/bench/run.sh\`), a benchmark, not a
test: it loads the release build of \`rosetta serve\` endpoint by endpoint and measures, beside
each endpoint, what the database alone can do with the same statements.

### How it runs

1. Tools: wrk and pgbench (installed with apt-get when missing), PostgreSQL through
   \`scripts/ensure-postgres.sh\`, and \`cargo build --release --locked --bin rosetta\`.
2. The database \`$DB\` is dropped and re-created, then seeded: $SEED_COUNT sources,
   $SEED_COUNT destinations (half PostgreSQL, half Snowflake) and $SEED_COUNT pipelines through the
   API, and $(fmt_int "$WAL_ROWS") \`wal_metrics\` rows with SQL (\`generate_series\`): one sample
   every 5 minutes for each source, so \`source_id=1\` holds $(fmt_int "$WAL_ROWS_SOURCE1") of them.
3. With \`log_statement = 'all'\` set on \`$DB\`, a first server answers one request per endpoint
   (after one unlogged warm-up request, so the connection is open and fresh, as under load), and the
   statements it sends are read from PostgreSQL's log: they are counted (last column of the table)
   and become the endpoint's pgbench script. That server stops and the logging is turned off.
4. A second server (\`LOG_LEVEL=warn\`, on 127.0.0.1, the WAL monitor and the replicator off
   unless \`WAL_MONITOR_ENABLED\` or \`REPLICATOR_ENABLED\` says otherwise (each has its own
   benchmark below), settings:
   $SETTINGS_TEXT) is loaded:
   for each endpoint, \`wrk -c$CONNECTIONS -t$THREADS\` for ${WARMUP} s (discarded), then ${DURATION} s
   with latency; then \`pgbench -n -c$CONNECTIONS -j$THREADS -M prepared\`, ${WARMUP} s discarded,
   then ${DURATION} s, running the endpoint's statements (a random one of the $SEED_COUNT
   pipelines per transaction for the pipeline read, a new unique name per transaction for the
   insert; every other parameter bound with the value the API sent). The insert goes last, and
   the rows the API inserted are vacuumed (\`VACUUM ANALYZE sources\`, \`CHECKPOINT\`) before
   pgbench's turn, outside any measurement.
5. The server's VmRSS is read from \`/proc/<pid>/status\` every 0.5 s for the whole of step 4, and
   its VmHWM at the end.

\`POST /api/v1/sources\` gets a new valid name on every request (\`scripts/bench/create_source.lua\`:
run nonce, wrk thread, counter). Errors are wrk's non-2xx statuses (wrk counts every status
≥ 400; each endpoint is checked to answer 2xx before it is loaded) plus its socket errors
(connect, read, write, timeout). Client, server and database share the machine's CPUs, for the API
run as for pgbench.

### The machine and the run

| | |
|---|---|
| date | $(date -u '+%Y-%m-%d %H:%M UTC') |
| CPUs | $(nproc) × $CPU_MODEL |
| memory | $MEM_GIB GiB |
| kernel | $(uname -r) |
| PostgreSQL | $PG_VERSION |
| tools | $WRK_VERSION, $PGBENCH_VERSION, $RUSTC_VERSION |
| code | $SOURCE_STATE |
| server settings | $SETTINGS_TEXT |
| load average (1, 5, 15 min) | when the script started: $LOAD_BEFORE; at the end of the load: $LOAD_AFTER |

### Results

$CONNECTIONS connections, $THREADS threads, ${DURATION} s per measurement.

$TABLE

Server memory (RSS) over the whole load: peak **$PEAK_MIB MiB** (VmHWM $HWM_MIB MiB; highest of
$RSS_SAMPLES samples $RSS_MAX_MIB MiB).

Where the CPU time goes, in µs per request (per transaction for pgbench), read from
\`/proc/<pid>/stat\` and \`/proc/stat\` around each measured run: the server process, the
PostgreSQL backends of its pool ($POOL_CONNECTIONS connections were open), and the rest of the
machine (wrk, the kernel's loopback work, anything else). With $NCPU CPUs, the machine can spend at
most $NCPU × 1 s per second.

$CPU_TABLE

### Against the targets

Throughput: at least 20× the first implementation on the three lists and the metrics query, at
least 10× on the others.

$TARGETS

Every read endpoint at least half of its database ceiling (pgbench, same statements, same
connections):

$CEILINGS

Memory: under 64 MiB: peak $PEAK_MIB MiB against about $FIRST_MIB MiB for the first
implementation: $MEM_VERDICT.

Targets met: $MET; missed: $MISSED. The misses:

$MISSES
These figures come from one run. On the 2-CPU virtual machine where this benchmark was written,
five full runs of the same build within half an hour differed by up to 1.5× between the
slowest and the fastest on one endpoint (the CPU time per request of the server, and of
pgbench, varied alike, with nothing else running on the machine), and the API's share of the
ceiling moved by up to 23 points: a verdict within a few points of its threshold can flip
from one run to the next, so run it more than once before reading much into one.

### The SQL per request

As captured from PostgreSQL's log. \`execute sN\` is a prepared statement: when the request
before used the same name, the connection prepared it once and reuses it; when it did not, the
service prepared it anew for this request (one more round trip, and a parse and plan, every
time), which the table above notes. \`execute <unnamed>\` is parsed and planned on every request;
\`statement\` is a simple-protocol query. A list of 100 pipelines is one query with its joins,
not 1 + 100.

$(sql_section)
EOF
if [[ -n $KEPT_SECTIONS ]]; then
    printf '\n%s\n' "$KEPT_SECTIONS" >>"$DOC"
fi
echo "wrote $DOC" >&2
# The dashboard's page of 1,000 pipelines beside the API's JSON of the same (its own section).
BENCH_DOC=$DOC scripts/bench/dashboard.sh
