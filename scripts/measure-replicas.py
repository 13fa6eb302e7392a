#!/usr/bin/env python3
"""Two `rosetta replicate` processes sharing four pipelines, on this machine: how they spread,
how fast a PAUSE stops, how fast a SIGTERM hands pipelines over and a SIGKILL's are taken over,
how much memory a replicator takes, and that no row is lost or doubled through it all. The
figures of docs/deployment.md#the-data-plane come from it. A measurement, not a test: CI does
not run it.

Usage: scripts/measure-replicas.py [path/to/rosetta]   (default: target/release/rosetta,
built by scripts/build-release.sh)

Needs DATABASE_URL (a server for the metadata and the destination databases, no database in
the URL: postgres://postgres@127.0.0.1:5432) and LOGICAL_DATABASE_URL (a server with
wal_level=logical for the source: scripts/ensure-logical-postgres.sh makes one on 5433), and
psql. It creates the databases rosetta_replicas_{meta,dst} and rosetta_replicas_src, the
publications and the slots of replication ids 9101..9104, and drops them all when done. The
API and the replicators listen on 127.0.0.1:18000..18002.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target/release/rosetta")
PIPELINES = 4
REPLICATION_IDS = [9100 + i for i in range(1, PIPELINES + 1)]
# A throw-away key: the stored passwords are placeholders (the servers trust local connections).
KEY = "1:QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVowMTIzNDU="


def url(name):
    value = os.environ.get(name)
    if not value:
        sys.exit(f"measure-replicas: set {name} (e.g. {name}=postgres://postgres@127.0.0.1:"
                 f"{'5433' if name.startswith('LOGICAL') else '5432'}; for the logical server, run "
                 "scripts/ensure-logical-postgres.sh first)")
    return value.rstrip("/")


SERVER, LOGICAL = url("DATABASE_URL"), url("LOGICAL_DATABASE_URL")
META, DST, SRC = "rosetta_replicas_meta", "rosetta_replicas_dst", "rosetta_replicas_src"
PROCESSES = []
# Every process's log lines, for when something goes wrong.
LOG = os.path.join(tempfile.gettempdir(), "measure-replicas.log")


def psql(server, database, sql):
    return subprocess.run(["psql", f"{server}/{database}", "-Atqc", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


def start(command, port, extra=None):
    env = dict(os.environ, DATABASE_URL=f"{SERVER}/{META}", ROSETTA_ENCRYPTION_KEYS=KEY,
               HOST="127.0.0.1", PORT=str(port), LOG_FORMAT="json", LOG_LEVEL="warn",
               WAL_MONITOR_ENABLED="false", APP_ENV="development", **(extra or {}))
    log = open(LOG, "ab")
    process = subprocess.Popen([BINARY, command], env=env, stdout=log, stderr=log)
    PROCESSES.append(process)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=1).read()
            return process
        except OSError:
            time.sleep(0.1)
    sys.exit(f"measure-replicas: `rosetta {command}` on port {port} did not start")


def api(method, path, body=None):
    request = urllib.request.Request(f"http://127.0.0.1:18000{path}", method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or "null")


def pipelines():
    """Pipeline id -> (pid of its owner or None, phase)."""
    found = {}
    for p in api("GET", "/api/v1/pipelines?limit=100"):
        owner = p["pipeline_metadata"].get("owner")
        found[p["id"]] = (int(owner.split(":")[1]) if owner else None, p["pipeline_metadata"].get("phase"))
    return found


def wait_for(condition, timeout):
    began = time.time()
    while time.time() - began < timeout:
        state = pipelines()
        if condition(state):
            return time.time() - began
        time.sleep(0.05)
    sys.exit(f"measure-replicas: gave up after {timeout} s; pipelines: {pipelines()}")


def all_on(pid):
    return lambda state: all(owner == pid and phase == "streaming" for owner, phase in state.values())


def spread(pids):
    def check(state):
        owners = [owner for owner, phase in state.values() if phase == "streaming"]
        return len(owners) == PIPELINES and all(owners.count(p) == PIPELINES // len(pids) for p in pids)
    return check


def peak_memory(pid):
    with open(f"/proc/{pid}/status") as f:
        status = dict(line.split(":", 1) for line in f if ":" in line)
    return int(status["VmHWM"].split()[0]) / 1024


def clean_up():
    for process in PROCESSES:
        if process.poll() is None:
            process.kill()
            process.wait()
    for database in (META, DST):
        psql(SERVER, "postgres", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    psql(LOGICAL, "postgres", f"DROP DATABASE IF EXISTS {SRC} WITH (FORCE)")
    for rid in REPLICATION_IDS:
        for slot in psql(LOGICAL, "postgres", f"SELECT slot_name FROM pg_replication_slots "
                                              f"WHERE slot_name LIKE 'rosetta\\_{rid}\\_%'").split():
            psql(LOGICAL, "postgres", f"SELECT pg_drop_replication_slot('{slot}')")


def main():
    clean_up()
    open(LOG, "w").close()
    print(f"logs of the processes: {LOG}")
    psql(SERVER, "postgres", f"CREATE DATABASE {DST}")
    psql(LOGICAL, "postgres", f"CREATE DATABASE {SRC}")
    for i in range(1, PIPELINES + 1):
        psql(LOGICAL, SRC, f"CREATE TABLE t{i} (id bigserial PRIMARY KEY, v text NOT NULL); "
                           f"INSERT INTO t{i} (v) SELECT md5(g::text) FROM generate_series(1, 10000) g; "
                           f"CREATE PUBLICATION rosetta_replicas_{i} FOR TABLE t{i}")
    # The API alone: the pipelines run only in the replicators.
    start("serve", 18000, {"REPLICATOR_ENABLED": "false"})
    idle = start("replicate", 18001)
    time.sleep(3)
    print(f"a replicator with no pipeline to run: peak memory {peak_memory(idle.pid):.1f} MiB")
    idle.send_signal(signal.SIGTERM)
    idle.wait()
    host, port = LOGICAL.rsplit("@", 1)[-1].split(":")
    dst_host, dst_port = SERVER.rsplit("@", 1)[-1].split(":")
    destination = api("POST", "/api/v1/destinations", {"name": "dst", "type": "POSTGRES", "config": {
        "host": dst_host, "port": int(dst_port), "database": DST, "username": "postgres", "password": "unused"}})
    for i, rid in enumerate(REPLICATION_IDS, 1):
        source = api("POST", "/api/v1/sources", {
            "name": f"src{i}", "pg_host": host, "pg_port": int(port), "pg_database": SRC,
            "pg_username": "postgres", "pg_password": "unused", "publication_name": f"rosetta_replicas_{i}",
            "replication_id": rid, "ssl_mode": "disable"})
        api("POST", "/api/v1/pipelines", {"name": f"p{i}", "source_id": source["id"],
                                          "destination_id": destination["id"], "status": "START"})

    # Rows keep arriving on every source table throughout.
    stop = threading.Event()

    def write():
        while not stop.is_set():
            psql(LOGICAL, SRC, "; ".join(f"INSERT INTO t{i} (v) VALUES (clock_timestamp()::text)"
                                         for i in range(1, PIPELINES + 1)))
            time.sleep(0.2)
    threading.Thread(target=write, daemon=True).start()

    a, b = start("replicate", 18001), start("replicate", 18002)
    took = wait_for(spread([a.pid, b.pid]), 120)
    print(f"two replicators: {PIPELINES // 2} pipelines each, streaming, {took:.2f} s after the second answered")

    time.sleep(5)
    first = min(pipelines())
    began = time.time()
    api("POST", f"/api/v1/pipelines/{first}/pause")
    wait_for(lambda state: state[first] == (None, "paused"), 30)
    print(f"PAUSE: pipeline {first} stopped, its lease given up, {time.time() - began:.2f} s after the call")
    began = time.time()
    api("POST", f"/api/v1/pipelines/{first}/start")
    wait_for(lambda state: state[first][1] == "streaming", 30)
    print(f"START: pipeline {first} streaming again {time.time() - began:.2f} s after the call")

    # SIGTERM with an idle keep-alive connection open on its listener, as Prometheus keeps one.
    keep_alive = socket.create_connection(("127.0.0.1", 18001))
    keep_alive.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    keep_alive.recv(65536)
    began = time.time()
    a.send_signal(signal.SIGTERM)
    a.wait(timeout=120)
    exited = time.time() - began
    wait_for(all_on(b.pid), 60)
    print(f"SIGTERM: the replicator exited {exited:.2f} s after the signal (status {a.returncode}); "
          f"the other streamed all {PIPELINES} pipelines {time.time() - began:.2f} s after it")
    keep_alive.close()

    c = start("replicate", 18001)
    took = wait_for(spread([b.pid, c.pid]), 60)
    print(f"a new replicator joined: {PIPELINES // 2} each again after {took:.2f} s")

    time.sleep(5)
    began = time.time()
    b.send_signal(signal.SIGKILL)
    b.wait()
    wait_for(all_on(c.pid), 120)
    print(f"SIGKILL: the survivor streamed all {PIPELINES} pipelines {time.time() - began:.2f} s after it "
          f"(REPLICATOR_LEASE_SECONDS: 30)")
    print(f"the survivor, {PIPELINES} pipelines streaming: peak memory {peak_memory(c.pid):.1f} MiB")

    stop.set()
    time.sleep(3)
    same = True
    for i in range(1, PIPELINES + 1):
        digest = f"SELECT count(*), md5(string_agg(id::text || ':' || v, ',' ORDER BY id)) FROM t{i}"
        source, copied = psql(LOGICAL, SRC, digest), psql(SERVER, DST, digest)
        same &= source == copied
        print(f"t{i}: source {source}, destination {copied}: {'same' if source == copied else 'DIFFERENT'}")
    began = time.time()
    c.send_signal(signal.SIGTERM)
    c.wait(timeout=120)
    print(f"SIGTERM of the last replicator ({PIPELINES} pipelines): exited after {time.time() - began:.2f} s; "
          f"phases now {sorted({phase for _, phase in pipelines().values()})}")
    return 0 if same else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        clean_up()
