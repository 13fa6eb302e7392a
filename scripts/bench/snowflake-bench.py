#!/usr/bin/env python3
"""The Snowflake part of `just bench-replication`: what Rosetta sends to Snowflake, per mode.

Run by scripts/bench/snowflake.sh (which starts PostgreSQL and the emulator and builds the
release binary) with the emulator's virtual environment, whose Snowflake connector reads the
results. For each mode (mirror, changelog), against the Snowflake emulator (fakesnow):

  1. the initial copy of BENCH_SF_ROWS (50,000) rows of about 100 bytes: rows/s;
  2. BENCH_SF_CHANGES (10,000) changes (60 % INSERT, 30 % UPDATE, 10 % DELETE, ten to a
     transaction) written while the pipeline streams: changes/s until Snowflake holds them;
  3. every request Rosetta made to Snowflake during 2, counted by a proxy in front of the
     emulator and sorted by what it ran (sign-ins, BEGIN, COMMIT, the checkpoint, writes),
     scaled to 10,000 changes: round trips and statements per 10,000 changes.

Rows/s and changes/s are the emulator's (DuckDB behind a Python HTTP server, one statement at
a time), not Snowflake's: information only. The counts are Rosetta's own and hold for Snowflake.
Rewrites the `snowflake` section of docs/benchmarks.md (BENCH_DOC to write elsewhere); raw
logs in target/bench-snowflake/<run>/.
"""
import http.client
import http.server
import json
import os
import pathlib
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import snowflake.connector

ROOT = pathlib.Path(__file__).resolve().parents[2]
ROWS = int(os.environ.get("BENCH_SF_ROWS", "50000"))
CHANGES = int(os.environ.get("BENCH_SF_CHANGES", "10000"))
SRC_PORT = int(os.environ.get("LOGICAL_PG_PORT", "5433"))
DST_PORT = 5432
FAKESNOW = int(os.environ.get("FAKESNOW_PORT", "8971"))
DOC = pathlib.Path(os.environ.get("BENCH_DOC", ROOT / "docs/benchmarks.md"))
BIN = ROOT / "target/release/rosetta"
RUN = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
OUT = ROOT / "target/bench-snowflake" / RUN
OUT.mkdir(parents=True, exist_ok=True)
SRC_DB = "rosetta_bench_sf_src"


def say(text):
    print(f"\n== {text}", file=sys.stderr, flush=True)


def psql(port, db, sql):
    out = subprocess.run(
        ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(port),
         "-U", "postgres", "-d", db],
        input=sql, capture_output=True, text=True, env={**os.environ, "PGOPTIONS": "-c client_min_messages=warning"},
    )
    if out.returncode != 0:
        sys.exit(f"bench-snowflake: psql on {port}/{db}: {out.stderr.strip()}")
    return out.stdout.strip()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Counting(http.server.BaseHTTPRequestHandler):
    """Forwards each request to the emulator and counts it by what it asks."""

    protocol_version = "HTTP/1.1"
    counts = {}
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def _forward(self, method):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
        kind = self.path.split("?")[0]
        if kind.endswith("query-request"):
            try:
                payload = json.loads(body)
                sql = payload["sqlText"].lstrip().upper()
                bound = len(payload.get("bindings") or {})
            except (ValueError, KeyError):
                sql, bound = "", 0
            if sql.startswith(("BEGIN", "COMMIT", "ROLLBACK")):
                kind = sql.split()[0]
            elif "ROSETTA_CHECKPOINTS" in sql or "ROSETTA_TABLE_SYNCS" in sql:
                kind = "bookkeeping"
            elif sql.startswith(("INSERT", "DELETE", "UPDATE", "MERGE")):
                kind = "write " + sql.split()[0]
            else:
                kind = "other statement"
            with self.lock:
                self.counts["bindings"] = self.counts.get("bindings", 0) + bound
        with self.lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1
        upstream = http.client.HTTPConnection("127.0.0.1", FAKESNOW, timeout=600)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        upstream.request(method, self.path, body=body, headers=headers)
        answer = upstream.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        for key, value in answer.getheaders():
            if key.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        upstream.close()

    def do_POST(self):
        self._forward("POST")

    def do_GET(self):
        self._forward("GET")

    @classmethod
    def take(cls):
        with cls.lock:
            counts, cls.counts = cls.counts, {}
        return counts


def start_proxy():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def api(port, method, path, body=None):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return json.loads(answer.read() or "null")
    except urllib.error.HTTPError as e:
        sys.exit(f"bench-snowflake: {method} {path}: {e.code} {e.read().decode()}")


def workload():
    """CHANGES changes, ten to a transaction: 6 inserts, 3 updates, 1 delete."""
    rng = random.Random(42)
    lines, next_id, updated, deleted = [], ROWS + 1, 1, ROWS
    for _ in range(CHANGES // 10):
        lines.append("BEGIN;")
        for _ in range(6):
            lines.append(f"INSERT INTO items VALUES ({next_id}, md5('{next_id}') || md5('{rng.random()}'), {next_id % 97});")
            next_id += 1
        for _ in range(3):
            lines.append(f"UPDATE items SET n = n + 1, payload = md5(payload) WHERE id = {updated};")
            updated += 1
        lines.append(f"DELETE FROM items WHERE id = {deleted};")
        deleted -= 1
        lines.append("COMMIT;")
    return "\n".join(lines)


def snowflake_rows(database, sql):
    conn = snowflake.connector.connect(
        user="bench", password="unused", account="bench", host="127.0.0.1", port=FAKESNOW,
        protocol="http", database=database, schema="RAW",
    )
    try:
        return conn.cursor().execute(sql).fetchall()
    finally:
        conn.close()


def wait(what, check, seconds, server):
    start = time.monotonic()
    while not check():
        if server.poll() is not None:
            sys.exit(f"bench-snowflake: rosetta serve stopped while waiting for {what}")
        if time.monotonic() - start > seconds:
            sys.exit(f"bench-snowflake: {what} did not happen in {seconds} s")
        time.sleep(0.2)


def run_mode(mode, key, proxy_port, replication_id):
    say(f"{mode}: {ROWS} rows copied, then {CHANGES} changes")
    psql(SRC_PORT, "postgres", f"DROP DATABASE IF EXISTS {SRC_DB} WITH (FORCE); CREATE DATABASE {SRC_DB};")
    psql(SRC_PORT, SRC_DB, f"""
        CREATE TABLE items (id bigint PRIMARY KEY, payload text NOT NULL, n int NOT NULL);
        INSERT INTO items SELECT g, md5(g::text) || md5((g * 7)::text), g % 97 FROM generate_series(1, {ROWS}) g;
        CREATE PUBLICATION bench_sf FOR TABLE items;""")
    meta = f"rosetta_bench_sf_meta_{mode}"
    psql(DST_PORT, "postgres", f"DROP DATABASE IF EXISTS {meta} WITH (FORCE); CREATE DATABASE {meta};")
    env = {**os.environ, "DATABASE_URL": f"postgres://postgres@127.0.0.1:{DST_PORT}/{meta}"}
    subprocess.run([BIN, "migrate"], env=env, check=True, capture_output=True)
    port = free_port()
    log = open(OUT / f"server-{mode}.log", "w")
    server = subprocess.Popen(
        [BIN, "serve"], stdout=log, stderr=log,
        env={**env, "HOST": "127.0.0.1", "PORT": str(port), "LOG_FORMAT": "text",
             "WAL_MONITOR_ENABLED": "false", "ROSETTA_DATA_DIR": str(OUT / f"data-{mode}")},
    )
    try:
        wait("the server to start", lambda: _live(port), 30, server)
        database = f"BENCH_SF_{mode.upper()}_{RUN.replace('-', '_')}"
        source = api(port, "POST", "/sources", {
            "name": "bench", "pg_host": "127.0.0.1", "pg_port": SRC_PORT, "pg_database": SRC_DB,
            "pg_username": "postgres", "pg_password": "unused", "publication_name": "bench_sf",
            "replication_id": replication_id, "ssl_mode": "disable"})
        destination = api(port, "POST", "/destinations", {
            "name": "bench", "type": "SNOWFLAKE", "config": {
                "account": "bench", "user": "loader", "database": database, "schema": "raw",
                "host": f"http://127.0.0.1:{proxy_port}", "private_key_path": str(key), "mode": mode}})
        Counting.take()
        start = time.monotonic()
        pipeline = api(port, "POST", "/pipelines", {
            "name": "bench", "source_id": source["id"], "destination_id": destination["id"]})["id"]
        wait("the copy", lambda: api(port, "GET", f"/pipelines/{pipeline}")["pipeline_metadata"]["phase"] == "streaming",
             3600, server)
        copy_s = time.monotonic() - start
        copy_counts = Counting.take()
        table = "ITEMS" if mode == "mirror" else "LANDING_ITEMS"

        start = time.monotonic()
        psql(SRC_PORT, SRC_DB, workload())
        if mode == "mirror":
            want = [int(v) for v in psql(SRC_PORT, SRC_DB, "SELECT count(*), sum(n) FROM items").split("|")]
            sql = f"SELECT COUNT(*), SUM(N) FROM {table}"
        else:
            want = [ROWS + CHANGES]
            sql = f"SELECT COUNT(*) FROM {table} WHERE OPERATION <> 'TRUNCATE'"

        def arrived():
            return [int(v or 0) for v in snowflake_rows(database, sql)[0]] == want

        wait("the changes to reach Snowflake", arrived, 3600, server)
        drain_s = time.monotonic() - start
        counts = Counting.take()
        return {"copy_s": copy_s, "copy_counts": copy_counts, "drain_s": drain_s, "counts": counts}
    finally:
        server.terminate()
        server.wait()
        psql(SRC_PORT, "postgres", f"DROP DATABASE IF EXISTS {SRC_DB} WITH (FORCE);")
        psql(DST_PORT, "postgres", f"DROP DATABASE IF EXISTS {meta} WITH (FORCE);")


def _live(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/live", timeout=2):
            return True
    except OSError:
        return False


def per(counts, key):
    return round(counts.get(key, 0) * 10000 / CHANGES, 1)


def main():
    key = OUT / "bench.p8"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                    "-out", str(key)], check=True, capture_output=True)
    proxy_port = start_proxy()
    results = {mode: run_mode(mode, key, proxy_port, 70 + i) for i, mode in enumerate(["mirror", "changelog"])}
    (OUT / "results.json").write_text(json.dumps(results, indent=2))
    rows = []
    for mode, r in results.items():
        c = r["counts"]
        statements = sum(v for k, v in c.items() if k not in ("bindings",) and not k.startswith("/session"))
        round_trips = sum(v for k, v in c.items() if k != "bindings")
        writes = sum(v for k, v in c.items() if k.startswith("write "))
        rows.append(
            f"| {mode} | {ROWS / r['copy_s']:,.0f} | {CHANGES / r['drain_s']:,.0f} | "
            f"{round(round_trips * 10000 / CHANGES, 1)} | {round(statements * 10000 / CHANGES, 1)} | "
            f"{per(c, 'BEGIN')} | {per(c, 'COMMIT')} | {round(writes * 10000 / CHANGES, 1)} | "
            f"{per(c, 'bookkeeping')} | {per(c, 'bindings'):,.0f} |")
        print(f"{mode}: copy {r['copy_s']:.1f} s, drain {r['drain_s']:.1f} s, requests {c}", file=sys.stderr)
    section = f"""<!-- bench-snowflake:start -->
## Snowflake destinations (`just bench-replication`, last part)

Run {RUN} on {os.cpu_count()} CPUs against the Snowflake emulator (fakesnow, DuckDB behind a
Python HTTP server): a table of {ROWS:,} rows copied, then {CHANGES:,} changes (60 % INSERT,
30 % UPDATE, 10 % DELETE, ten to a transaction) streamed, in each mode. Every request Rosetta
sent during the changes was counted by a proxy in front of the emulator (scripts/bench/snowflake-bench.py).
Rows/s and changes/s are the emulator's limits, not Rosetta's or Snowflake's (information only);
the counts, per 10,000 changes, are what Rosetta sends and hold for Snowflake.

| mode | copy rows/s | changes/s | round trips | statements | BEGIN | COMMIT | writes | bookkeeping | values bound |
|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

A round trip is one HTTP request (statements, plus sign-ins and session ends). Each batch is one
Snowflake transaction: BEGIN, its set-based writes (mirror: one DELETE of the batch's keys, one
INSERT of its rows, an UPDATE for rows whose unchanged TOAST values Snowflake keeps; changelog:
one INSERT of every change), the fenced checkpoint UPDATE, COMMIT.
<!-- bench-snowflake:end -->"""
    subprocess.run([sys.executable, ROOT / "scripts/bench/write-section.py", DOC, "snowflake", section], check=True)
    print(section)


if __name__ == "__main__":
    main()
