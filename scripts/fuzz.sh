#!/usr/bin/env bash
# Property-based API testing with schemathesis: starts `rosetta serve` on a fresh database and
# lets schemathesis generate requests from /openapi.json, valid and invalid. It fails on any 5xx
# and on any response that the document does not describe (status, content type, schema,
# headers), and on invalid data that the API accepts.
#   scripts/fuzz.sh            # default time budget
#   FUZZ_MAX_TIME=600 scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/ensure-postgres.sh

venv=target/fuzz-venv
if [[ ! -x $venv/bin/st ]]; then
    python3 -m venv "$venv"
    # schemathesis and everything it pulls in (hypothesis above all) at known versions.
    "$venv/bin/pip" install --quiet "schemathesis==4.32.5" -c scripts/fuzz-constraints.txt
fi

cargo build --locked --bin rosetta
database=rosetta_fuzz
psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $database WITH (FORCE)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp)
# The document requires a bearer key on /api/v1: fuzz the service as documented, with a key
# configured and sent (an open service would "accept" every request that lacks one).
api_key=fuzz-key-0123456789abcdef
# A key of its own, so the run writes no key file into the working tree.
encryption_key=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')
DATABASE_URL="postgres://postgres@127.0.0.1:5432/$database" HOST=127.0.0.1 PORT=$port \
    API_KEYS=$api_key ROSETTA_ENCRYPTION_KEYS="1:$encryption_key" LOG_LEVEL=warn \
    target/debug/rosetta serve 2>"$log" &
server=$!
cleanup() {
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" || true
    rm -f "$log"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
    python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/health/live', timeout=1)" \
        2>/dev/null && break
    sleep 0.2
done

fuzz() {
    "$venv/bin/st" run "http://127.0.0.1:$port/openapi.json" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,negative_data_rejection \
        --max-time "${FUZZ_MAX_TIME:-120}" \
        --workers 2 \
        --header "Authorization: Bearer $api_key" \
        --suppress-health-check too_slow
}
report=$(mktemp)
status=0
fuzz | tee "$report" || status=$?
# A crash inside the tool itself (a "Runtime Error" such as CPython 3.11's spurious
# "AST constructor recursion depth mismatch" in hypothesis), with no failure of the API, says
# nothing about the API: run once more, with a new seed. A failure of the API never reruns.
if [[ $status -ne 0 ]] && grep -q "Runtime Error" "$report" && ! grep -qE "FAILURES|Failures:" "$report"; then
    echo "fuzz: schemathesis itself crashed (no failure of the API); running it once more"
    status=0
    fuzz || status=$?
fi
rm -f "$report"
if [[ $status -ne 0 ]]; then
    echo "--- server log ---"
    cat "$log"
fi
exit $status
