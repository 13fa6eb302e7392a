#!/usr/bin/env bash
# Makes sure a PostgreSQL cluster with `wal_level = logical` answers on 127.0.0.1:5433 (or
# $LOGICAL_PG_PORT), for the data plane's tests, its benchmark and scripts/demo.sh. It is a second
# cluster of the machine's PostgreSQL, `<version>/logical`, made once with pg_createcluster and
# started when stopped, so that the default cluster on 5432 keeps its own settings (logical
# decoding needs a restart to turn on). Trust authentication on loopback, like the default
# cluster of the development machines. Prints nothing when the cluster already runs.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${LOGICAL_PG_PORT:-5433}
host=127.0.0.1
name=logical

ready() { pg_isready -q -h "$host" -p "$port" 2>/dev/null; }
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# The machine's PostgreSQL (installed and started by ensure-postgres.sh when missing).
scripts/ensure-postgres.sh >/dev/null
if ready; then
    exit 0
fi
version=$(ls /etc/postgresql | sort -V | tail -n 1)
if [[ ! -d /etc/postgresql/$version/$name ]]; then
    echo "ensure-logical-postgres: creating the cluster $version/$name on port $port (wal_level = logical)"
    # Enough slots and senders for the tests, which run in parallel with a slot each.
    as_root pg_createcluster "$version" "$name" -p "$port" \
        -o wal_level=logical \
        -o max_replication_slots=64 \
        -o max_wal_senders=64 \
        -- --auth-local=trust --auth-host=trust >/dev/null
fi
echo "ensure-logical-postgres: starting the cluster $version/$name"
as_root pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start \
    || as_root pg_ctlcluster "$version" "$name" start || true
for _ in $(seq 1 30); do
    if ready; then
        level=$(psql -h "$host" -p "$port" -U postgres -Atc 'SHOW wal_level')
        if [[ "$level" != logical ]]; then
            echo "ensure-logical-postgres: the cluster on $port has wal_level = $level, not logical" >&2
            exit 1
        fi
        exit 0
    fi
    sleep 1
done
echo "ensure-logical-postgres: PostgreSQL does not answer on $host:$port" >&2
exit 1
