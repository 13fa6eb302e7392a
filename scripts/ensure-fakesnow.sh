#!/usr/bin/env bash
# The Snowflake emulator the Snowflake destination's tests sign in to: fakesnow (PyPI), which
# speaks Snowflake's session and query protocol over DuckDB. Installs it, with every Python
# package pinned (scripts/fakesnow/requirements.txt), in a virtual environment under target/,
# and starts it on 127.0.0.1:${FAKESNOW_PORT:-8971} unless something already answers there.
# Prints nothing on success; the server's log is target/fakesnow.log.
set -euo pipefail
cd "$(dirname "$0")/.."
port=${FAKESNOW_PORT:-8971}
venv=target/fakesnow-venv
requirements=scripts/fakesnow/requirements.txt

answers() {
    python3 - "$port" <<'PY'
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(urllib.request.Request(
        f"http://127.0.0.1:{sys.argv[1]}/session", method="POST", data=b"{}"), timeout=2)
except urllib.error.HTTPError as e:
    sys.exit(0 if e.code == 401 else 1)   # fakesnow: no token, 401 with Snowflake's envelope
except Exception:
    sys.exit(1)
PY
}

if answers; then
    exit 0
fi
if ! cmp -s "$requirements" "$venv/requirements.txt" 2>/dev/null; then
    rm -rf "$venv"
    if ! python3 -m venv "$venv" 2>/dev/null; then
        # Debian's own python3 keeps venv in a package of its own.
        apt-get install -y -qq python3-venv >/dev/null
        python3 -m venv "$venv"
    fi
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$venv/requirements.txt"
fi
mkdir -p target
nohup "$venv/bin/python" -m fakesnow -s --port "$port" >target/fakesnow.log 2>&1 &
for _ in $(seq 1 60); do
    if answers; then
        exit 0
    fi
    sleep 0.5
done
echo "fakesnow did not start on port $port; its log:" >&2
cat target/fakesnow.log >&2
exit 1
