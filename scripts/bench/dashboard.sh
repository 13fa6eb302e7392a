#!/usr/bin/env bash
# The dashboard part of `just bench` (run.sh runs it last; it runs alone too): how long the
# release build of `rosetta serve` takes to render the pipelines page with 1,000 pipelines,
# against what a user would use instead: the same 1,000 pipelines as JSON from the API
# (`GET /api/v1/pipelines?limit=1000`). Both are read one request at a time (wrk, 1
# connection), so each latency is the server's whole work for one page: the query, the
# rendering, the response. Also reports each response's size, raw and gzipped, and the first
# load of the page (the HTML and every asset it loads, gzipped).
#
# Writes the `dashboard` section of docs/benchmarks.md (BENCH_DOC to write elsewhere). Results
# (raw wrk output, server log): target/bench/dashboard/.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
DOC=${BENCH_DOC:-docs/benchmarks.md}
DB=rosetta_bench_dashboard
PIPELINES=${BENCH_PIPELINES:-1000}
DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-3}
PORT=${BENCH_DASHBOARD_PORT:-8097}
OUT=$ROOT/target/bench/dashboard
mkdir -p "$OUT"

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
command -v wrk >/dev/null || { as_root apt-get update -qq; as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
command -v curl >/dev/null || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null
scripts/ensure-postgres.sh
scripts/ensure-npm.sh
cargo build --release --locked --bin rosetta

PSQL=(psql -h 127.0.0.1 -p 5432 -U postgres -v ON_ERROR_STOP=1 -qAt)
"${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
URL=postgres://postgres@127.0.0.1:5432/$DB
DATABASE_URL=$URL target/release/rosetta migrate >/dev/null

# Sources and destinations through the API would encrypt nothing here (no secrets): SQL is the
# quickest way to a catalogue of this size, with what the data plane would have reported.
"${PSQL[@]}" -d "$DB" <<SQL
INSERT INTO sources (name, pg_host, pg_port, pg_database, pg_username, publication_name, replication_id, ssl_mode)
SELECT 'source-' || g, 'db' || g || '.example.com', 5432, 'shop', 'replicator', 'shop_pub', g, 'prefer'
FROM generate_series(1, 10) g;
INSERT INTO destinations (name, type, config)
SELECT 'warehouse-' || g, 'POSTGRES',
       jsonb_build_object('host', 'dw' || g || '.example.com', 'port', 5432, 'database', 'dw',
                          'username', 'loader', 'schema', 'public')
FROM generate_series(1, 10) g;
INSERT INTO pipelines (name, source_id, destination_id, status)
SELECT 'pipeline-' || g, (SELECT id FROM sources ORDER BY id OFFSET (g % 10) LIMIT 1),
       (SELECT id FROM destinations ORDER BY id OFFSET (g % 10) LIMIT 1),
       CASE WHEN g % 7 = 0 THEN 'PAUSE' ELSE 'START' END
FROM generate_series(1, $PIPELINES) g;
INSERT INTO pipeline_metadata (pipeline_id, status)
SELECT id, CASE WHEN status = 'PAUSE' THEN 'PAUSED' ELSE 'RUNNING' END FROM pipelines;
INSERT INTO pipeline_runtime (pipeline_id, phase, owner, confirmed_lsn, lag_bytes, lag_seconds, rows_copied, changes_applied, last_commit_at)
SELECT id, CASE WHEN status = 'PAUSE' THEN 'paused' ELSE 'streaming' END, 'bench:1:0',
       1000000 + id, id * 4096, id / 100.0, id * 1000, id * 37, now()
FROM pipelines;
-- A week of samples of the first pipeline, one a minute (REPLICATOR_SAMPLE_SECONDS' default),
-- for its page's 7-day charts.
INSERT INTO pipeline_samples (pipeline_id, sampled_at, lag_bytes, lag_seconds, rows_copied, changes_applied)
SELECT (SELECT min(id) FROM pipelines), now() - m * interval '1 minute', (m % 97) * 4096,
       (m % 13) / 10.0, 1000, (10080 - m) * 600
FROM generate_series(0, 10079) m;
SQL

DATABASE_URL=$URL HOST=127.0.0.1 PORT=$PORT REPLICATOR_ENABLED=false WAL_MONITOR_ENABLED=false \
    ROSETTA_ENCRYPTION_KEYS=1:KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio= LOG_LEVEL=warn \
    target/release/rosetta serve >"$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$PORT/health/live" >/dev/null && break
    sleep 0.1
done

measure() { # name path → "p50 p99 max rps"
    local name=$1 path=$2
    wrk -t1 -c1 -d"${WARMUP}s" "http://127.0.0.1:$PORT$path" >/dev/null
    wrk -t1 -c1 -d"${DURATION}s" --latency "http://127.0.0.1:$PORT$path" >"$OUT/$name.txt"
    python3 - "$OUT/$name.txt" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
def ms(value):
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
p50 = ms(re.search(r"50%\s+(\S+)", text).group(1))
p99 = ms(re.search(r"99%\s+(\S+)", text).group(1))
mx = ms(re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", text).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
print(f"{p50:.1f} {p99:.1f} {mx:.1f} {rps:.0f}")
PY
}
size() { # path [gzip] → bytes
    if [[ ${2:-} == gzip ]]; then
        curl -s -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download}' "http://127.0.0.1:$PORT$1"
    else
        curl -s -o /dev/null -w '%{size_download}' "http://127.0.0.1:$PORT$1"
    fi
}

count=$(curl -s "http://127.0.0.1:$PORT/pipelines" | grep -o 'id="pipeline-[0-9]*"' | wc -l)
[[ $count -eq $PIPELINES ]] || { echo "bench: the page shows $count pipelines, not $PIPELINES" >&2; exit 1; }
read -r PAGE_P50 PAGE_P99 PAGE_MAX PAGE_RPS < <(measure page /pipelines)
read -r API_P50 API_P99 API_MAX API_RPS < <(measure api "/api/v1/pipelines?limit=$PIPELINES")
read -r OVER_P50 OVER_P99 OVER_MAX OVER_RPS < <(measure overview /)
FIRST_ID=$("${PSQL[@]}" -d "$DB" -c "SELECT min(id) FROM pipelines")
WEEK="/pipelines/$FIRST_ID?range=7d"
curl -s "http://127.0.0.1:$PORT$WEEK" | grep -q 'data-chart="throughput-chart"' \
    || { echo "bench: $WEEK draws no throughput chart" >&2; exit 1; }
read -r WEEK_P50 WEEK_P99 WEEK_MAX WEEK_RPS < <(measure week "$WEEK")
PAGE_RAW=$(size /pipelines); PAGE_GZ=$(size /pipelines gzip)
API_RAW=$(size "/api/v1/pipelines?limit=$PIPELINES"); API_GZ=$(size "/api/v1/pipelines?limit=$PIPELINES" gzip)
FIRST=$PAGE_GZ
for asset in $(curl -s "http://127.0.0.1:$PORT/pipelines" | grep -o '\(src\|href\)="/assets/[^"]*"' | sed 's/.*="//;s/"$//' | sort -u); do
    FIRST=$((FIRST + $(size "$asset" gzip)))
done
VERDICT=$(python3 -c "print('met' if $PAGE_P99 < 50 else 'missed')")
KIB() { python3 -c "print(f'{$1/1024:.0f} KiB')"; }

SECTION=$(cat <<EOF
<!-- bench-dashboard:start -->
## Dashboard: a page of $PIPELINES pipelines

\`scripts/bench/dashboard.sh\` (the last part of \`just bench\`): the release build serving $PIPELINES
pipelines (10 sources, 10 destinations, each pipeline with what the data plane reports), read
by wrk one request at a time for ${DURATION} s after ${WARMUP} s of warm-up, so that a latency is the
server's whole work for one response (the query, the rendering; wrk asks for no compression).
Run $(date -u +%Y-%m-%d).

| response | p50 | p99 | max | requests/s | size | gzipped |
|---|---|---|---|---|---|---|
| dashboard \`GET /pipelines\` (HTML) | $PAGE_P50 ms | $PAGE_P99 ms | $PAGE_MAX ms | $PAGE_RPS | $(KIB "$PAGE_RAW") | $(KIB "$PAGE_GZ") |
| instead: API \`GET /api/v1/pipelines?limit=$PIPELINES\` (JSON) | $API_P50 ms | $API_P99 ms | $API_MAX ms | $API_RPS | $(KIB "$API_RAW") | $(KIB "$API_GZ") |
| dashboard overview \`GET /\` | $OVER_P50 ms | $OVER_P99 ms | $OVER_MAX ms | $OVER_RPS | | |
| dashboard pipeline page, 7 days of samples (10,080, one a minute) \`GET $WEEK\` | $WEEK_P50 ms | $WEEK_P99 ms | $WEEK_MAX ms | $WEEK_RPS | | |

Target: the page renders in under 50 ms: **$VERDICT** (p99 $PAGE_P99 ms). First load of the page,
gzipped, with every asset it loads (htmx, the dashboard's stylesheet and script): $(KIB "$FIRST")
(target: under 300 KB).
<!-- bench-dashboard:end -->
EOF
)
scripts/bench/write-section.py "$DOC" dashboard "$SECTION"
echo "$SECTION"
