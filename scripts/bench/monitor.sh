#!/usr/bin/env bash
# The WAL monitor benchmark (`just bench-monitor`): the release build of `rosetta serve` runs one
# monitor cycle over BENCH_SOURCES (1000) sources that all point at the local PostgreSQL, then
# another with 10 of them unreachable (a closed port) and 10 hanging (a listener that accepts
# and never answers), then all of them again over TLS (ssl_mode prefer, the default). For each
# cycle it reports:
#   - the cycle's duration, from the service's `wal monitor cycle finished` log line;
#   - when the last healthy source's sample was read, counted from the cycle's start;
#   - the most probe connections open on the cluster at once (pg_stat_activity, application
#     names `rosetta-probe:%`, sampled every 10 ms by one psql session);
#   - the service's peak RSS (VmHWM) and CPU time;
# and, beside them, how many new connections per second the cluster itself accepts (pgbench -C),
# and rewrites the WAL monitor section of docs/benchmarks.md (BENCH_DOC to write elsewhere).
#
# Settings are the service's defaults (docs/configuration.md) except the interval (an hour, so
# exactly one cycle runs); WAL_MONITOR_* in the environment override them. Results (server logs,
# connection samples): target/bench-monitor/<run>/. Everything it starts is stopped when it ends.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

DB=rosetta_bench_monitor
SOURCES=${BENCH_SOURCES:-1000}
DEAD=10
HANGING=10
DOC=${BENCH_DOC:-docs/benchmarks.md}
TIMEOUT=${WAL_MONITOR_TIMEOUT_SECONDS:-30}
CONCURRENCY=${WAL_MONITOR_CONCURRENCY:-16}
RETRIES=${WAL_MONITOR_MAX_RETRIES:-3}
RUN_ID=$(date -u +%Y%m%d-%H%M%S)
OUT=$ROOT/target/bench-monitor/$RUN_ID
mkdir -p "$OUT"

say() { printf '\n== %s\n' "$*" >&2; }
die() { printf 'bench-monitor: error: %s\n' "$*" >&2; exit 1; }

PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT

say "PostgreSQL and the release build"
scripts/ensure-postgres.sh
command -v python3 >/dev/null || die "python3 is needed to read the service's JSON log"
cargo build --release --locked --bin rosetta
BIN=$ROOT/target/release/rosetta
psql_db() { psql -h 127.0.0.1 -U postgres -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }

say "a fresh metadata database with $SOURCES sources"
psql_db postgres "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
URL=postgres://postgres@127.0.0.1:5432/$DB
DATABASE_URL=$URL "$BIN" migrate >/dev/null
psql_db "$DB" "INSERT INTO sources (name, pg_host, pg_port, pg_database, pg_username,
                                    publication_name, replication_id, ssl_mode)
               SELECT 'bench-' || i, '127.0.0.1', 5432, 'postgres', 'postgres',
                      'bench_pub', i, 'disable'
               FROM generate_series(1, $SOURCES) AS i"

# A port nothing listens on, and a listener that accepts connections and never answers.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
DEAD_PORT=$(free_port)
HANG_PORT_FILE=$OUT/hang.port
python3 - "$HANG_PORT_FILE" <<'EOF' &
import socket, sys
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", 0))
server.listen(256)
with open(sys.argv[1], "w") as f:
    f.write(str(server.getsockname()[1]))
held = []
while True:
    conn, _ = server.accept()
    held.append(conn)  # never read, never answered, never closed
EOF
PIDS+=($!)
for _ in $(seq 50); do [[ -s $HANG_PORT_FILE ]] && break; sleep 0.1; done
HANG_PORT=$(cat "$HANG_PORT_FILE")

# One cycle: starts the service, waits for its cycle, stops it. Prints
# "elapsed_s last_healthy_s succeeded failed max_connections peak_mib cpu_s".
run_cycle() {
    local label=$1 healthy=$2
    psql_db "$DB" "DELETE FROM wal_monitor_cycles; TRUNCATE wal_metrics, wal_slot_samples, source_probe_status"
    local samples=$OUT/$label.connections log=$OUT/$label.log
    (while true; do
        echo "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'rosetta-probe:%';"
        sleep 0.01
    done) | psql -h 127.0.0.1 -U postgres -X -q -At -d postgres >"$samples" 2>/dev/null &
    local poller=$!
    PIDS+=("$poller")
    env DATABASE_URL="$URL" HOST=127.0.0.1 PORT=0 LOG_FORMAT=json LOG_LEVEL=info \
        WAL_MONITOR_INTERVAL_SECONDS=3600 WAL_MONITOR_TIMEOUT_SECONDS="$TIMEOUT" \
        WAL_MONITOR_CONCURRENCY="$CONCURRENCY" WAL_MONITOR_MAX_RETRIES="$RETRIES" \
        "$BIN" serve >"$log" 2>&1 &
    local server=$!
    PIDS+=("$server")
    local waited=0
    until grep -q 'wal monitor cycle finished' "$log"; do
        kill -0 "$server" 2>/dev/null || die "the service stopped: $(tail -n 5 "$log")"
        sleep 0.1
        waited=$((waited + 1))
        [[ $waited -lt 3000 ]] || die "no cycle finished within 300 s ($log)"
    done
    local peak_kib cpu_s
    peak_kib=$(awk '/^VmHWM/ {print $2}' "/proc/$server/status")
    # utime + stime of the service, in clock ticks.
    cpu_s=$(awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$server/stat")
    kill "$server"
    wait "$server" 2>/dev/null || true
    kill "$poller" 2>/dev/null || true
    wait "$poller" 2>/dev/null || true
    local last_healthy recorded
    last_healthy=$(psql_db "$DB" "SELECT round(extract(epoch FROM max(m.recorded_at) - c.started_at)::numeric, 2)
                                  FROM wal_metrics m, wal_monitor_cycles c GROUP BY c.started_at")
    recorded=$(psql_db "$DB" "SELECT count(DISTINCT source_id) FROM wal_metrics")
    [[ $recorded -eq $healthy ]] || die "$label: $recorded of $healthy healthy sources recorded"
    python3 - "$log" "$samples" "$peak_kib" "$last_healthy" "$cpu_s" <<'EOF'
import json, sys
log, samples, peak_kib, last_healthy, cpu_s = sys.argv[1:6]
for line in open(log):
    if "wal monitor cycle finished" in line:
        record = json.loads(line)
        fields = record.get("fields", record)
counts = [int(l) for l in open(samples) if l.strip().isdigit()]
print(f'{fields["elapsed_ms"] / 1000:.2f} {last_healthy} {fields["succeeded"]} {fields["failed"]} '
      f'{max(counts, default=0)} {int(peak_kib) / 1024:.1f} {cpu_s}')
EOF
}

say "cycle 1: $SOURCES healthy sources"
read -r H_ELAPSED H_LAST H_OK H_FAILED H_CONN H_MIB H_CPU < <(run_cycle healthy "$SOURCES")
echo "cycle ${H_ELAPSED}s, last healthy sample at ${H_LAST}s, $H_OK ok, $H_FAILED failed, $H_CONN connections at most, peak ${H_MIB} MiB, service CPU ${H_CPU}s" >&2

say "cycle 2: $DEAD unreachable and $HANGING hanging among them"
psql_db "$DB" "UPDATE sources SET pg_port = $DEAD_PORT WHERE id IN (SELECT id FROM sources ORDER BY id LIMIT $DEAD)"
psql_db "$DB" "UPDATE sources SET pg_port = $HANG_PORT WHERE id IN (SELECT id FROM sources ORDER BY id OFFSET $DEAD LIMIT $HANGING)"
HEALTHY=$((SOURCES - DEAD - HANGING))
read -r F_ELAPSED F_LAST F_OK F_FAILED F_CONN F_MIB F_CPU < <(run_cycle faulty "$HEALTHY")
echo "cycle ${F_ELAPSED}s, last healthy sample at ${F_LAST}s, $F_OK ok, $F_FAILED failed, $F_CONN connections at most, peak ${F_MIB} MiB, service CPU ${F_CPU}s" >&2

say "cycle 3: $SOURCES healthy sources over TLS (ssl_mode prefer, the default)"
psql_db "$DB" "UPDATE sources SET pg_port = 5432, ssl_mode = 'prefer'"
read -r T_ELAPSED T_LAST T_OK T_FAILED T_CONN T_MIB T_CPU < <(run_cycle tls "$SOURCES")
echo "cycle ${T_ELAPSED}s, last healthy sample at ${T_LAST}s, $T_OK ok, $T_FAILED failed, $T_CONN connections at most, peak ${T_MIB} MiB, service CPU ${T_CPU}s" >&2
psql_db postgres "DROP DATABASE IF EXISTS $DB WITH (FORCE)"

say "the cluster's own ceiling: new connections per second (pgbench -C, SELECT 1)"
PGBENCH=$(ls -1d /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | sort -V | tail -n 1 || true)
[[ -z $PGBENCH ]] && PGBENCH=$(command -v pgbench || true)
if [[ -n $PGBENCH ]]; then
    echo 'SELECT 1;' >"$OUT/select1.sql"
    CONN_PER_S=$(PGSSLMODE=disable "$PGBENCH" -h 127.0.0.1 -U postgres -n -C -c "$CONCURRENCY" -j 2 -T 5 \
        -f "$OUT/select1.sql" postgres 2>/dev/null | awk '/^tps/ {printf "%d", $3}')
    SECONDS_ALONE=$(python3 -c "print(f'{$SOURCES / max($CONN_PER_S, 1):.1f}')")
    CEILING="PostgreSQL itself opens about $CONN_PER_S plain connections per second here (pgbench -C running SELECT 1 on $CONCURRENCY clients), so $SOURCES new connections alone take $SECONDS_ALONE s of the cycle."
else
    CEILING="(pgbench was not found, so the cluster's connection ceiling was not measured.)"
fi
echo "$CEILING" >&2

# The cycle with dead sources may end once the hanging probes time out and the refused ones
# have used their retries: one probe timeout plus the backoff (2 + 4 + … seconds).
BACKOFF=$(( (1 << (RETRIES + 1)) - 2 ))
BOUND=$((TIMEOUT + BACKOFF + 1))
verdict() { python3 -c "import sys; print('met' if $1 else 'missed')"; }
V_HEALTHY=$(verdict "$H_ELAPSED < 3")
V_FAULTY_SAMPLES=$(verdict "$F_LAST < 3")
V_FAULTY_END=$(verdict "$F_ELAPSED <= $BOUND")
V_CONN=$(verdict "max($H_CONN, $F_CONN, $T_CONN) <= $CONCURRENCY")
V_MEM=$(verdict "max($H_MIB, $F_MIB, $T_MIB) < 64")

SECTION=$(cat <<EOF
<!-- bench-monitor:start -->
## The WAL monitor (\`just bench-monitor\`)

Run $RUN_ID on $(nproc) CPUs: the release build of \`rosetta serve\` with the default monitor
settings (concurrency $CONCURRENCY, $RETRIES retries, probe timeout ${TIMEOUT} s), one cycle over
$SOURCES sources that all point at the local PostgreSQL (loopback, \`ssl_mode\` \`disable\`), then
one with $DEAD of them on a closed port and $HANGING on a listener that never answers, and last
all of them healthy again over TLS. The first
implementation needed about 8 s for 1,000 local sources, and one dead source stretched every
cycle past 14 s.

| cycle | duration | last healthy sample read at | probes ok / failed | probe connections at most | peak RSS | service CPU |
|---|---:|---:|---:|---:|---:|---:|
| $SOURCES healthy | ${H_ELAPSED} s | ${H_LAST} s | $H_OK / $H_FAILED | $H_CONN | ${H_MIB} MiB | ${H_CPU} s |
| $DEAD unreachable, $HANGING hanging | ${F_ELAPSED} s | ${F_LAST} s | $F_OK / $F_FAILED | $F_CONN | ${F_MIB} MiB | ${F_CPU} s |
| $SOURCES healthy over TLS (\`prefer\`) | ${T_ELAPSED} s | ${T_LAST} s | $T_OK / $T_FAILED | $T_CONN | ${T_MIB} MiB | ${T_CPU} s |

| target | verdict |
|---|---|
| a healthy cycle completes in under 3 s | $V_HEALTHY (${H_ELAPSED} s) |
| with dead and hanging sources, every healthy sample is recorded within 3 s | $V_FAULTY_SAMPLES (${F_LAST} s) |
| … and the cycle ends within one probe timeout plus the retry backoff (${BOUND} s) | $V_FAULTY_END (${F_ELAPSED} s) |
| never more than $CONCURRENCY probe connections at once | $V_CONN |
| the service stays under 64 MiB | $V_MEM |

Where the time goes: a probe costs the source a backend start and its statements, Rosetta
little (the service's CPU time for the whole cycle is in the last column). $CEILING
The targets are for the first two cycles, on plain TCP as loopback needs no encryption; the
third shows what TLS (the default \`ssl_mode\`, \`prefer\`, against a server with \`ssl = on\`)
adds: a handshake per probe, paid mostly by the source.

Probe connections are counted from \`pg_stat_activity\` every 10 ms; "read at" is the time of the
last healthy probe's reading after the cycle's start as the metadata database recorded it.
Raw logs: \`target/bench-monitor/<run>/\`.
<!-- bench-monitor:end -->
EOF
)
scripts/bench/write-section.py "$DOC" monitor "$SECTION"
echo "wrote $DOC" >&2
