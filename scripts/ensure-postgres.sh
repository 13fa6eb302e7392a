#!/usr/bin/env bash
# Makes sure the PostgreSQL that Rosetta and its tests use answers on 127.0.0.1:5432:
# starts the local cluster when it is stopped, and installs PostgreSQL with apt-get (trusting
# local connections, as on the development machines) when the machine has none.
# Does nothing when DATABASE_URL points at another server.
set -euo pipefail

host=127.0.0.1
port=5432
if [[ -n "${DATABASE_URL:-}" && "$DATABASE_URL" != *"@127.0.0.1:5432"* && "$DATABASE_URL" != *"@localhost:5432"* ]]; then
    echo "ensure-postgres: DATABASE_URL names another server; leaving it to you"
    exit 0
fi

ready() { pg_isready -q -h "$host" -p "$port" 2>/dev/null; }

if command -v pg_isready >/dev/null && ready; then
    exit 0
fi

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

if ! command -v pg_ctlcluster >/dev/null || [[ -z "$(ls /etc/postgresql 2>/dev/null)" ]]; then
    echo "ensure-postgres: installing PostgreSQL with apt-get"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    hba=/etc/postgresql/$version/main/pg_hba.conf
    # Local development trust, as the machines this project runs on are set up.
    as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\nlocal all all trust' "$hba"
fi

version=$(ls /etc/postgresql | sort -V | tail -n 1)
echo "ensure-postgres: starting PostgreSQL $version"
as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || as_root pg_ctlcluster "$version" main start || true
for _ in $(seq 1 30); do
    ready && exit 0
    sleep 1
done
echo "ensure-postgres: PostgreSQL does not answer on $host:$port" >&2
exit 1
