//! The `rosetta` client commands against the real server, run as a user runs them: the tables
//! and the JSON they print, their exit codes, and their one-line errors.

use std::process::Output;
use std::time::Duration;

use diesel_async::RunQueryDsl;
use serde_json::Value;

use crate::helpers::{local_source_body, spawn_app, spawn_app_with, stored_secret, TestApp};

/// Runs `rosetta args…` against `url` with `env` (and nothing of the test's environment that
/// would choose a server, a key or a profile), off the test's runtime so that the server keeps
/// serving.
async fn rosetta(url: &str, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut with_url = vec![("ROSETTA_URL", url)];
    with_url.extend_from_slice(env);
    rosetta_with(&with_url, "", args).await
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Asserts the exit code, showing what was printed when it is not the one expected.
fn exits(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        stdout(out),
        stderr(out)
    );
}

async fn run(app: &TestApp, args: &[&str]) -> Output {
    rosetta(&app.address, &[], args).await
}

#[tokio::test]
async fn lists_print_as_tables_and_as_the_apis_json() {
    let app = spawn_app().await;
    let pipeline = app.create_pipeline("orders").await;
    let (id, source, destination) = (
        pipeline["id"].as_i64().unwrap(),
        pipeline["source_id"].as_i64().unwrap(),
        pipeline["destination_id"].as_i64().unwrap(),
    );

    let out = run(&app, &["pipelines", "list", "-o", "table"]).await;
    exits(&out, 0);
    assert_eq!(
        stdout(&out),
        format!(
            "ID  NAME    SOURCE      DESTINATION  ASKED  STATE    PHASE  LAG  CHANGES\n\
             {id:>2}  orders  orders-src  orders-dst   START  RUNNING  -      -          0\n"
        )
    );
    let out = run(&app, &["sources", "list", "--output", "table"]).await;
    exits(&out, 0);
    assert_eq!(
        stdout(&out),
        format!(
            "ID  NAME        SERVER               DATABASE  PUBLICATION  TLS\n\
             {source:>2}  orders-src  db.example.com:5433  shop      shop_pub     prefer\n"
        )
    );
    let out = run(&app, &["destinations", "list", "-o", "table"]).await;
    exits(&out, 0);
    assert_eq!(
        stdout(&out),
        format!(
            "ID  NAME        TYPE      WRITES TO\n\
             {destination:>2}  orders-dst  POSTGRES  warehouse.example.com:5432/dw schema public\n"
        )
    );

    // Without a terminal, JSON: exactly what the API answers.
    for (args, path) in [
        (vec!["pipelines", "list"], "/api/v1/pipelines".to_owned()),
        (vec!["sources", "list"], "/api/v1/sources".to_owned()),
        (
            vec!["destinations", "list"],
            "/api/v1/destinations".to_owned(),
        ),
    ] {
        let out = run(&app, &args).await;
        exits(&out, 0);
        let printed: Value = serde_json::from_str(&stdout(&out)).unwrap();
        assert_eq!(printed, app.get(&path).await.json(), "{args:?}");
    }
    let id_text = id.to_string();
    let out = run(&app, &["pipelines", "get", &id_text, "-o", "json"]).await;
    let printed: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        printed,
        app.get(&format!("/api/v1/pipelines/{id}")).await.json()
    );
    let out = run(&app, &["pipelines", "get", &id_text, "-o", "yaml"]).await;
    exits(&out, 0);
    assert!(
        stdout(&out).starts_with(&format!("id: {id}\nname: orders\n")),
        "{}",
        stdout(&out)
    );
    let out = run(&app, &["pipelines", "get", &id_text, "-o", "table"]).await;
    let text = stdout(&out);
    for line in [
        "name             orders",
        "asked to         START",
        "state            RUNNING",
        "phase            -",
        "last error       -",
    ] {
        assert!(text.contains(line), "{line:?} in\n{text}");
    }
    let out = run(&app, &["pipelines", "tables", &id_text, "-o", "table"]).await;
    assert_eq!(stdout(&out), "(none)\n");
    // The secret is never printed.
    let out = run(&app, &["sources", "get", &source.to_string(), "-o", "json"]).await;
    assert!(!stdout(&out).contains(crate::helpers::SOURCE_PASSWORD));
}

async fn status(app: &TestApp, id: &str) -> Value {
    app.get(&format!("/api/v1/pipelines/{id}")).await.json()["status"].clone()
}

#[tokio::test]
async fn the_lifecycle_and_deletes_ask_first_and_change_the_pipeline() {
    let app = spawn_app().await;
    let pipeline = app.create_pipeline("flow").await;
    let id = pipeline["id"].as_i64().unwrap().to_string();
    let out = run(&app, &["pipelines", "pause", &id, "-o", "table"]).await;
    exits(&out, 0);
    assert_eq!(
        stdout(&out),
        format!("pipeline flow ({id}): asked to PAUSE, PAUSED\n")
    );
    assert_eq!(status(&app, &id).await, "PAUSE");
    exits(&run(&app, &["pipelines", "start", &id]).await, 0);
    assert_eq!(status(&app, &id).await, "START");

    // Without a terminal to ask on, a refresh or a delete needs --yes, and nothing changes.
    let out = run(&app, &["pipelines", "refresh", &id]).await;
    exits(&out, 2);
    assert_eq!(
        stderr(&out),
        format!(
            "rosetta: error: Refresh pipeline flow ({id})? Its tables are copied again from \
             scratch. Not asked without a terminal: add --yes\n"
        )
    );
    assert_eq!(status(&app, &id).await, "START");
    exits(&run(&app, &["pipelines", "refresh", &id, "--yes"]).await, 0);
    assert_eq!(status(&app, &id).await, "REFRESH");
    let source = pipeline["source_id"].as_i64().unwrap().to_string();
    // A source in use: the API's refusal, in one line.
    let out = run(&app, &["sources", "delete", &source, "--yes"]).await;
    exits(&out, 1);
    assert!(
        stderr(&out).starts_with("rosetta: error: ") && stderr(&out).lines().count() == 1,
        "{}",
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("flow"),
        "names the pipeline: {}",
        stderr(&out)
    );
    exits(&run(&app, &["pipelines", "delete", &id]).await, 2);
    let out = run(&app, &["pipelines", "delete", &id, "-y", "-o", "table"]).await;
    exits(&out, 0);
    assert_eq!(stdout(&out), format!("deleted pipeline flow ({id})\n"));
    app.get(&format!("/api/v1/pipelines/{id}"))
        .await
        .expect(404);
    exits(
        &run(&app, &["sources", "delete", &source, "--yes"]).await,
        0,
    );
}

#[tokio::test]
async fn errors_are_one_line_with_the_right_exit_code() {
    let app = spawn_app_with(&[("API_KEYS", "cli-key-1234567890abcdef")]).await;
    let key = [("ROSETTA_API_KEY", "cli-key-1234567890abcdef")];
    let out = rosetta(&app.address, &key, &["sources", "get", "424242"]).await;
    exits(&out, 1);
    assert_eq!(
        stderr(&out),
        "rosetta: error: Source with id '424242' not found\n"
    );
    assert!(stdout(&out).is_empty());
    // The key from the environment works; a wrong one, or none, is refused.
    exits(&rosetta(&app.address, &key, &["sources", "list"]).await, 0);
    let out = run(&app, &["sources", "list"]).await;
    exits(&out, 1);
    assert!(
        stderr(&out).starts_with("rosetta: error: "),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out).lines().count(), 1);
    let out = run(&app, &["sources", "list", "--api-key", "wrong-key-000000"]).await;
    exits(&out, 1);
    assert!(
        !stderr(&out).contains("wrong-key-000000"),
        "{}",
        stderr(&out)
    );

    // Usage: exit code 2.
    exits(&run(&app, &["pipelines", "launch", "1"]).await, 2);
    exits(&run(&app, &["pipelines", "get", "zero"]).await, 2);
    let out = rosetta(&app.address, &key, &["metrics", "wal", "--bucket", "2h"]).await;
    exits(&out, 2);
    assert!(
        stderr(&out).contains("must be 1m, 5m, 1h or 1d"),
        "{}",
        stderr(&out)
    );

    // A server that is down.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = rosetta(&format!("http://127.0.0.1:{port}"), &[], &["health"]).await;
    exits(&out, 1);
    assert!(
        stderr(&out).starts_with(&format!(
            "rosetta: error: cannot reach Rosetta at http://127.0.0.1:{port}/: "
        )),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out).lines().count(), 1);
    let out = rosetta("127.0.0.1:8000", &[], &["health"]).await;
    exits(&out, 1);
    assert!(
        stderr(&out).contains("invalid server URL"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn health_metrics_and_checks_print_and_exit_as_documented() {
    let app = spawn_app().await;
    let out = run(&app, &["health", "-o", "table"]).await;
    exits(&out, 0);
    assert!(
        stdout(&out).starts_with("status       healthy\n"),
        "{}",
        stdout(&out)
    );
    let local = app
        .post("/api/v1/sources", &local_source_body(&app, "local"))
        .await
        .expect(201)
        .json();
    let id = local["id"].as_i64().unwrap();
    // The test database has no such publication: not ready, exit code 1, each check printed.
    let out = run(&app, &["sources", "check", &id.to_string(), "-o", "table"]).await;
    exits(&out, 1);
    assert!(stdout(&out).starts_with("NOT READY\n"), "{}", stdout(&out));
    assert!(
        stdout(&out)
            .lines()
            .any(|line| line.starts_with("publication_exists ") && line.contains(" FAIL ")),
        "{}",
        stdout(&out)
    );

    let mut conn = app.db.pool().get().await.unwrap();
    diesel::sql_query(format!(
        "INSERT INTO wal_metrics (source_id, size_bytes, recorded_at)
         VALUES ({id}, 1048576, '2026-01-01T00:00:10Z'), ({id}, 3145728, '2026-01-01T00:00:50Z'),
                ({id}, 5242880, '2026-01-01T00:01:30Z')"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    let args = [
        "metrics",
        "wal",
        "--source",
        &id.to_string(),
        "--from",
        "2026-01-01T00:00:00Z",
        "--to",
        "2026-01-01T01:00:00Z",
        "--bucket",
        "1m",
        "-o",
        "table",
    ];
    let out = run(&app, &args).await;
    exits(&out, 0);
    assert_eq!(
        stdout(&out),
        "BUCKET                         MIN      MAX     LAST  SAMPLES\n\
         2026-01-01T00:01:00+00:00  5.0 MiB  5.0 MiB  5.0 MiB        1\n\
         2026-01-01T00:00:00+00:00  1.0 MiB  3.0 MiB  3.0 MiB        2\n"
    );
    let out = run(
        &app,
        &[
            "metrics",
            "wal",
            "--source",
            &id.to_string(),
            "--limit",
            "2",
        ],
    )
    .await;
    let samples: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(samples.as_array().unwrap().len(), 2);
}

/// The verdict `rosetta sources wal` prints on a server with a slot no pipeline owns, once the
/// monitor (every second, with `thresholds`) has probed it; and its exit code.
async fn wal_verdict(thresholds: &[(&str, &str)], name: &str) -> (String, Option<i32>) {
    let mut settings = vec![
        ("WAL_MONITOR_ENABLED", "true"),
        ("WAL_MONITOR_INTERVAL_SECONDS", "1"),
        ("WAL_MONITOR_TIMEOUT_SECONDS", "5"),
    ];
    settings.extend_from_slice(thresholds);
    let app = spawn_app_with(&settings).await;
    // A slot that reserves WAL at once, inactive, and some WAL written after it.
    let slot = format!("rosetta_cli_{name}_{}", std::process::id());
    // Dropped however the test ends: a slot left behind would hold back the server's WAL for
    // every later test (and fill its disk).
    let _dropped = SlotGuard {
        url: app.db.url().to_owned(),
        slot: slot.clone(),
    };
    let mut conn = app.db.pool().get().await.unwrap();
    for sql in [
        format!("SELECT pg_create_physical_replication_slot('{slot}', true)"),
        "CREATE TABLE wal_filler AS SELECT g FROM generate_series(1, 20000) g".to_owned(),
    ] {
        diesel::sql_query(sql).execute(&mut conn).await.unwrap();
    }
    let local = app
        .post("/api/v1/sources", &local_source_body(&app, "local"))
        .await
        .expect(201)
        .json();
    let id = local["id"].as_i64().unwrap().to_string();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let out = loop {
        let out = run(&app, &["sources", "wal", &id, "-o", "table"]).await;
        // Before the first probe the verdict is a warning too ("not probed yet"): wait for
        // the probe that sees the slot.
        if stdout(&out).contains(&slot) || tokio::time::Instant::now() > deadline {
            break out;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(stdout(&out).contains(&slot), "{}", stdout(&out));
    (stdout(&out), out.status.code())
}

/// Drops a replication slot when dropped (on a thread and runtime of its own: drop cannot
/// await).
struct SlotGuard {
    url: String,
    slot: String,
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        let (url, slot) = (self.url.clone(), self.slot.clone());
        let dropped = std::thread::spawn(move || {
            use diesel_async::{AsyncConnection, AsyncPgConnection};
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let mut conn = AsyncPgConnection::establish(&url).await.ok()?;
                diesel::sql_query(format!(
                    "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots \
                     WHERE slot_name = '{slot}'"
                ))
                .execute(&mut conn)
                .await
                .ok()
            })
        })
        .join();
        if !matches!(dropped, Ok(Some(_))) {
            eprintln!("could not drop the replication slot {}", self.slot);
        }
    }
}

#[tokio::test]
async fn sources_wal_exits_3_on_a_warning_and_4_when_critical() {
    // Default thresholds: an inactive slot is a warning.
    let (printed, code) = wal_verdict(&[], "warn").await;
    assert!(printed.starts_with("verdict: warning\n"), "{printed}");
    assert_eq!(code, Some(3), "{printed}");
    // A slot retaining more than WAL_SLOT_CRITICAL_BYTES is critical.
    let (printed, code) = wal_verdict(
        &[
            ("WAL_SLOT_WARN_BYTES", "1"),
            ("WAL_SLOT_CRITICAL_BYTES", "2"),
        ],
        "crit",
    )
    .await;
    assert!(printed.starts_with("verdict: critical\n"), "{printed}");
    assert_eq!(code, Some(4), "{printed}");
}

/// A catalogue file in a directory of the test's own.
fn catalogue_file(test: &str, yaml: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("rosetta-cli-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("catalogue.yaml");
    std::fs::write(&path, yaml).unwrap();
    path
}

const CATALOGUE: &str = "\
sources:
  - name: orders
    pg_host: db.example.com
    pg_database: shop
    pg_username: replicator
    pg_password: ${ORDERS_PASSWORD}
    publication_name: shop_pub
    replication_id: 7
destinations:
  - name: warehouse
    type: POSTGRES
    config:
      host: dw.example.com
      database: dw
      username: loader
      password: ${DW_PASSWORD}
  - name: lake
    type: SNOWFLAKE
    config:
      account: acme-eu
      user: LOADER
      database: RAW
      schema: CDC
      mode: changelog
pipelines:
  - name: orders-to-dw
    source: orders
    destination: warehouse
  - name: orders-to-lake
    source: orders
    destination: lake
    status: PAUSE
";

const SECRETS: [(&str, &str); 2] = [
    ("ORDERS_PASSWORD", "cli-orders-pw"),
    ("DW_PASSWORD", "cli-dw-pw"),
];

/// The catalogue as the API lists it, without what differs from one database to another.
async fn catalogue_of(app: &TestApp) -> Value {
    let strip = |mut list: Value, keys: &[&str]| {
        for item in list.as_array_mut().unwrap() {
            for key in keys {
                item.as_object_mut().unwrap().remove(*key);
            }
        }
        list
    };
    let pipelines: Vec<Value> = app
        .get("/api/v1/pipelines")
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            serde_json::json!({"name": p["name"], "source": p["source"]["name"],
                "destination": p["destination"]["name"], "status": p["status"]})
        })
        .collect();
    serde_json::json!({
        "sources": strip(app.get("/api/v1/sources").await.json(), &["id", "created_at", "updated_at"]),
        "destinations": strip(app.get("/api/v1/destinations").await.json(), &["id", "created_at", "updated_at"]),
        "pipelines": pipelines,
    })
}

#[tokio::test]
async fn apply_creates_in_order_twice_changes_nothing_and_plan_then_is_empty() {
    let app = spawn_app().await;
    let path = catalogue_file("apply", CATALOGUE);
    let file = path.to_str().unwrap();

    let out = rosetta(
        &app.address,
        &SECRETS,
        &["plan", "-f", file, "--detailed-exitcode", "-o", "table"],
    )
    .await;
    exits(&out, 5);
    assert_eq!(
        stdout(&out),
        "+ source orders\n+ destination warehouse\n+ destination lake\n\
         + pipeline orders-to-dw\n+ pipeline orders-to-lake\n\
         Plan: 5 to create, 0 to change, 0 to delete.\n"
    );
    // Without a terminal to ask on, apply needs --yes; nothing was done.
    exits(
        &rosetta(&app.address, &SECRETS, &["apply", "-f", file]).await,
        2,
    );
    assert_eq!(
        app.get("/api/v1/sources").await.json(),
        serde_json::json!([])
    );
    let out = rosetta(
        &app.address,
        &SECRETS,
        &["apply", "-f", file, "--yes", "-o", "table"],
    )
    .await;
    exits(&out, 0);
    assert_eq!(
        stdout(&out),
        "created source orders\ncreated destination warehouse\ncreated destination lake\n\
         created pipeline orders-to-dw\ncreated pipeline orders-to-lake\nApplied 5 change(s).\n"
    );
    let pipelines = app.get("/api/v1/pipelines").await.json();
    assert_eq!(pipelines[1]["status"], "PAUSE");
    // The secrets came from the environment, and are stored.
    let stored = app.get("/api/v1/sources").await.json()[0]["id"]
        .as_i64()
        .unwrap();
    assert_eq!(
        stored_secret(&app, "sources", "pg_password", stored).await,
        "cli-orders-pw"
    );

    // Twice: nothing to do.
    let out = rosetta(
        &app.address,
        &SECRETS,
        &["plan", "-f", file, "--detailed-exitcode", "-o", "table"],
    )
    .await;
    exits(&out, 0);
    assert_eq!(stdout(&out), "No changes.\n");
    let before = catalogue_of(&app).await;
    let out = rosetta(
        &app.address,
        &SECRETS,
        &["apply", "-f", file, "-o", "table"],
    )
    .await;
    exits(&out, 0);
    assert_eq!(stdout(&out), "No changes.\n");
    assert_eq!(catalogue_of(&app).await, before);

    // A changed file: an update, a status change and a deletion, deletes last.
    let changed = CATALOGUE
        .replace("db.example.com", "db2.example.com")
        .replace("    status: PAUSE\n", "")
        .replace(
            "  - name: orders-to-dw\n    source: orders\n    destination: warehouse\n",
            "",
        );
    let changed = changed.replace(
        "  - name: warehouse\n    type: POSTGRES\n    config:\n      host: dw.example.com\n      database: dw\n      username: loader\n      password: ${DW_PASSWORD}\n",
        "",
    );
    let path = catalogue_file("apply-changed", &changed);
    let out = rosetta(
        &app.address,
        &SECRETS,
        &["plan", "-f", path.to_str().unwrap(), "-o", "table"],
    )
    .await;
    exits(&out, 0);
    assert_eq!(
        stdout(&out),
        "~ source orders (pg_host)\n~ pipeline orders-to-lake (status)\n\
         - pipeline orders-to-dw\n- destination warehouse\n\
         Plan: 0 to create, 2 to change, 2 to delete.\n"
    );
    exits(
        &rosetta(
            &app.address,
            &SECRETS,
            &["apply", "-f", path.to_str().unwrap(), "-y"],
        )
        .await,
        0,
    );
    let now = catalogue_of(&app).await;
    assert_eq!(now["sources"][0]["pg_host"], "db2.example.com");
    assert_eq!(now["destinations"].as_array().unwrap().len(), 1);
    assert_eq!(
        now["pipelines"],
        serde_json::json!([{"name": "orders-to-lake", "source": "orders", "destination": "lake", "status": "START"}])
    );
}

#[tokio::test]
async fn export_then_apply_into_an_empty_database_reproduces_the_catalogue() {
    let first = spawn_app().await;
    let path = catalogue_file("export", CATALOGUE);
    exits(
        &rosetta(
            &first.address,
            &SECRETS,
            &["apply", "-f", path.to_str().unwrap(), "--yes"],
        )
        .await,
        0,
    );
    let out = rosetta(&first.address, &[], &["export"]).await;
    exits(&out, 0);
    let exported = stdout(&out);
    assert!(exported.starts_with("# The catalogue of "), "{exported}");
    for secret in ["cli-orders-pw", "cli-dw-pw", "password"] {
        assert!(!exported.contains(secret), "{secret} in\n{exported}");
    }
    let copy = catalogue_file("export-copy", &exported);

    let second = spawn_app().await;
    let out = rosetta(
        &second.address,
        &[],
        &["apply", "-f", copy.to_str().unwrap(), "--yes"],
    )
    .await;
    exits(&out, 0);
    assert_eq!(catalogue_of(&second).await, catalogue_of(&first).await);
    let out = rosetta(
        &second.address,
        &[],
        &["plan", "-f", copy.to_str().unwrap(), "--detailed-exitcode"],
    )
    .await;
    exits(&out, 0);
}

#[tokio::test]
async fn a_file_with_errors_or_missing_variables_changes_nothing() {
    let app = spawn_app().await;
    let path = catalogue_file("missing", CATALOGUE);
    let out = rosetta(
        &app.address,
        &[("ORDERS_PASSWORD", "x")],
        &["apply", "-f", path.to_str().unwrap(), "--yes"],
    )
    .await;
    exits(&out, 1);
    assert!(stderr(&out).contains("DW_PASSWORD"), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("ORDERS_PASSWORD"),
        "{}",
        stderr(&out)
    );
    let bad = catalogue_file(
        "bad",
        "sources:\n  - name: bad name\n    pg_host: h\n    pg_port: 70000\n    pg_database: d\n    pg_username: u\n    publication_name: p\n    replication_id: 1\n\
         pipelines:\n  - name: p\n    source: nowhere\n    destination: none\n",
    );
    let out = rosetta(
        &app.address,
        &[],
        &["apply", "-f", bad.to_str().unwrap(), "--yes"],
    )
    .await;
    exits(&out, 1);
    let message = stderr(&out);
    assert_eq!(message.lines().count(), 1, "{message}");
    for place in [
        "sources[0].name",
        "sources[0].pg_port",
        "pipelines[0].source",
        "pipelines[0].destination",
    ] {
        assert!(message.contains(place), "{place} in {message}");
    }
    assert_eq!(
        app.get("/api/v1/sources").await.json(),
        serde_json::json!([])
    );
    let out = rosetta(
        &app.address,
        &[],
        &["plan", "-f", "/nonexistent/catalogue.yaml"],
    )
    .await;
    exits(&out, 1);
    assert!(
        stderr(&out).contains("cannot read /nonexistent/catalogue.yaml"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn shell_completions_complete_the_client_commands() {
    let script = rosetta("http://127.0.0.1:1", &[], &["completions", "bash"]).await;
    exits(&script, 0);
    // Bash, given the script, completes `rosetta pipelines pa` to `pause`.
    let dir = std::env::temp_dir().join(format!("rosetta-completions-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rosetta.bash");
    std::fs::write(&path, &script.stdout).unwrap();
    let completed = tokio::task::spawn_blocking(move || {
        std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source {}; COMP_WORDS=(rosetta pipelines pa); COMP_CWORD=2; \
                 COMP_LINE='rosetta pipelines pa'; COMP_POINT=${{#COMP_LINE}}; \
                 _rosetta rosetta pa pipelines; echo \"${{COMPREPLY[@]}}\"",
                path.display()
            ))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert_eq!(stdout(&completed).trim(), "pause", "{}", stderr(&completed));
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let out = rosetta("http://127.0.0.1:1", &[], &["completions", shell]).await;
        exits(&out, 0);
        assert!(stdout(&out).contains("pipelines"), "{shell}");
    }
    exits(
        &rosetta("http://127.0.0.1:1", &[], &["completions", "tcsh"]).await,
        2,
    );
}

/// Runs `rosetta args…` against `url` with `input` on its standard input.
async fn rosetta_fed(url: &str, input: &str, args: &[&str]) -> Output {
    rosetta_with(&[("ROSETTA_URL", url)], input, args).await
}

#[tokio::test]
async fn entries_are_created_and_updated_from_flags_with_secrets_from_standard_input() {
    let app = spawn_app().await;
    let url = app.address.clone();
    let out = rosetta_fed(
        &url,
        "src-secret-1\n",
        &[
            "sources",
            "create",
            "--name",
            "orders",
            "--host",
            "db.example.com",
            "--database",
            "shop",
            "--user",
            "replicator",
            "--publication",
            "shop_pub",
            "--replication-id",
            "3",
            "--password-stdin",
            "-o",
            "json",
        ],
    )
    .await;
    exits(&out, 0);
    let source: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let id = source["id"].as_i64().unwrap();
    assert_eq!(
        source,
        app.get(&format!("/api/v1/sources/{id}")).await.json()
    );
    assert_eq!(
        stored_secret(&app, "sources", "pg_password", id).await,
        "src-secret-1"
    );
    // An update changes what is given, and keeps the password.
    let out = run(
        &app,
        &[
            "sources",
            "update",
            &id.to_string(),
            "--host",
            "db2.example.com",
            "--port",
            "6432",
            "-o",
            "json",
        ],
    )
    .await;
    exits(&out, 0);
    let updated: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        (updated["pg_host"].as_str(), updated["pg_port"].as_i64()),
        (Some("db2.example.com"), Some(6432))
    );
    assert_eq!(updated["pg_database"], "shop");
    assert_eq!(
        stored_secret(&app, "sources", "pg_password", id).await,
        "src-secret-1"
    );
    let out = run(
        &app,
        &[
            "sources",
            "update",
            &id.to_string(),
            "--host",
            "db2.example.com",
            "-o",
            "table",
        ],
    )
    .await;
    assert_eq!(
        stdout(&out),
        format!("source orders ({id}): nothing to change\n")
    );
    // What is missing or wrong is named; nothing is created.
    let out = run(&app, &["sources", "create", "--name", "x"]).await;
    exits(&out, 2);
    assert_eq!(
        stderr(&out),
        "rosetta: error: a new source needs --host, --database, --user, --publication, --replication-id\n"
    );
    let out = run(
        &app,
        &["sources", "update", &id.to_string(), "--port", "70000"],
    )
    .await;
    exits(&out, 1);
    assert!(stderr(&out).contains("source.pg_port"), "{}", stderr(&out));

    // Destinations: typed by --type, configured with --set, the secret from standard input.
    let out = rosetta_fed(
        &url,
        "dst-secret-1\n",
        &[
            "destinations",
            "create",
            "--name",
            "warehouse",
            "--type",
            "postgres",
            "--set",
            "host=dw.example.com",
            "--set",
            "port=5433",
            "--set",
            "database=dw",
            "--set",
            "username=loader",
            "--password-stdin",
            "-o",
            "json",
        ],
    )
    .await;
    exits(&out, 0);
    let destination: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let dst = destination["id"].as_i64().unwrap();
    assert_eq!(destination["config"]["port"], 5433);
    assert_eq!(
        stored_secret(&app, "destinations", "config.password", dst).await,
        "dst-secret-1"
    );
    let out = run(
        &app,
        &[
            "destinations",
            "update",
            &dst.to_string(),
            "--set",
            "schema=cdc",
            "-o",
            "json",
        ],
    )
    .await;
    exits(&out, 0);
    let updated: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        (
            updated["config"]["schema"].as_str(),
            updated["config"]["host"].as_str()
        ),
        (Some("cdc"), Some("dw.example.com"))
    );
    assert_eq!(
        stored_secret(&app, "destinations", "config.password", dst).await,
        "dst-secret-1"
    );
    // A secret never goes on the command line.
    let out = run(
        &app,
        &[
            "destinations",
            "update",
            &dst.to_string(),
            "--set",
            "password=oops",
        ],
    )
    .await;
    exits(&out, 2);
    assert!(
        stderr(&out).contains("--password-stdin"),
        "{}",
        stderr(&out)
    );

    // Pipelines.
    let out = run(
        &app,
        &[
            "pipelines",
            "create",
            "--name",
            "flow",
            "--source",
            &id.to_string(),
            "--destination",
            &dst.to_string(),
            "--paused",
            "-o",
            "json",
        ],
    )
    .await;
    exits(&out, 0);
    let pipeline: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(pipeline["status"], "PAUSE");
    let pid = pipeline["id"].as_i64().unwrap().to_string();
    let out = run(
        &app,
        &[
            "pipelines",
            "update",
            &pid,
            "--name",
            "flow-eu",
            "--status",
            "start",
            "-o",
            "json",
        ],
    )
    .await;
    exits(&out, 0);
    let pipeline: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        (pipeline["name"].as_str(), pipeline["status"].as_str()),
        (Some("flow-eu"), Some("START"))
    );
    let out = run(
        &app,
        &[
            "pipelines",
            "create",
            "--name",
            "orphan",
            "--source",
            "424242",
            "--destination",
            &dst.to_string(),
        ],
    )
    .await;
    exits(&out, 1);
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
}

#[tokio::test]
async fn pipelines_watch_reads_again_and_computes_the_throughput() {
    let app = spawn_app().await;
    let pipeline = app.create_pipeline("watched").await;
    let id = pipeline["id"].as_i64().unwrap();
    let mut conn = app.db.pool().get().await.unwrap();
    diesel::sql_query(format!(
        "INSERT INTO pipeline_runtime (pipeline_id, phase, lag_bytes, lag_seconds, changes_applied)
         VALUES ({id}, 'streaming', 2048, 0.5, 100)"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    // The changes rise between the first reading and the second: the test waits for the
    // first line before changing them, and the watch for its interval before reading again.
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_rosetta"));
    command
        .args([
            "pipelines",
            "watch",
            "--interval",
            "2",
            "--count",
            "3",
            "-o",
            "json",
        ])
        .env("ROSETTA_URL", &app.address)
        .env_remove("ROSETTA_API_KEY")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped());
    let (first_line, first_seen) = tokio::sync::oneshot::channel();
    let (changed, on_change) = std::sync::mpsc::channel::<()>();
    let watching = tokio::task::spawn_blocking(move || {
        use std::io::BufRead as _;
        let mut child = command.spawn().unwrap();
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let first = lines.next().unwrap().unwrap();
        first_line.send(()).unwrap();
        on_change.recv().unwrap();
        let mut all = vec![first];
        all.extend(lines.map(Result::unwrap));
        assert!(child.wait().unwrap().success());
        all
    });
    first_seen.await.unwrap();
    diesel::sql_query(format!(
        "UPDATE pipeline_runtime SET changes_applied = 400 WHERE pipeline_id = {id}"
    ))
    .execute(&mut conn)
    .await
    .unwrap();
    changed.send(()).unwrap();
    let lines = watching.await.unwrap();
    let readings: Vec<Value> = lines
        .iter()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(readings.len(), 3, "{lines:?}");
    let first = &readings[0]["pipelines"][0];
    assert_eq!(
        (first["name"].as_str(), first["phase"].as_str()),
        (Some("watched"), Some("streaming"))
    );
    assert_eq!(first["changes_applied"], 100);
    assert!(first["changes_per_second"].is_null());
    // 300 more changes over the two seconds between the readings (and what a reading takes).
    let rate = readings[1]["pipelines"][0]["changes_per_second"]
        .as_f64()
        .unwrap();
    assert!((100.0..=150.0).contains(&rate), "{rate}");
    assert_eq!(readings[2]["pipelines"][0]["changes_per_second"], 0.0);

    // As a table, one reading after another when the output is not a terminal.
    let id_text = id.to_string();
    let out = run(
        &app,
        &[
            "pipelines",
            "watch",
            &id_text,
            "--interval",
            "1",
            "--count",
            "2",
            "-o",
            "table",
        ],
    )
    .await;
    exits(&out, 0);
    let text = stdout(&out);
    assert_eq!(
        text.matches("(every 1 s, Ctrl-C to stop)").count(),
        2,
        "{text}"
    );
    assert!(text.contains("ID  NAME     STATE    PHASE      "), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "no terminal, no escape codes: {text:?}"
    );
    exits(
        &run(&app, &["pipelines", "watch", "424242", "--count", "1"]).await,
        1,
    );
}

/// Runs `rosetta args…` with only `env` to choose a server, a key or a profile, and `input`
/// on its standard input.
async fn rosetta_with(env: &[(&str, &str)], input: &str, args: &[&str]) -> Output {
    use std::io::Write as _;
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_rosetta"));
    command
        .args(args)
        .env_remove("ROSETTA_URL")
        .env_remove("ROSETTA_API_KEY")
        .env_remove("ROSETTA_PROFILE")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let input = input.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut child = command.spawn().unwrap();
        let _ = child.stdin.take().unwrap().write_all(input.as_bytes());
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn profiles_keep_a_server_and_its_key_and_never_a_key_from_the_environment() {
    let key = "profile-key-1234567890abcdef";
    let app = spawn_app_with(&[("API_KEYS", key)]).await;
    let dir = std::env::temp_dir().join(format!("rosetta-profiles-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = dir.to_str().unwrap().to_owned();
    let env = [("ROSETTA_CONFIG_DIR", config.as_str())];

    let out = rosetta_with(
        &env,
        &format!("{key}\n"),
        &[
            "profile",
            "set",
            "staging",
            "--url",
            &app.address,
            "--password-stdin",
            "-o",
            "table",
        ],
    )
    .await;
    exits(&out, 0);
    let file = dir.join("profiles.yaml");
    assert!(
        stdout(&out).starts_with("saved profile staging in "),
        "{}",
        stdout(&out)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    // A key in the environment (or a flag) is never what profile set keeps.
    let with_key = [
        ("ROSETTA_CONFIG_DIR", config.as_str()),
        ("ROSETTA_API_KEY", "env-key-never-written"),
    ];
    exits(
        &rosetta_with(
            &with_key,
            "",
            &["profile", "set", "bare", "--url", "http://127.0.0.1:1"],
        )
        .await,
        0,
    );
    let kept = std::fs::read_to_string(&file).unwrap();
    assert!(!kept.contains("env-key-never-written"), "{kept}");
    assert!(
        kept.contains(key),
        "the key given on standard input is kept: {kept}"
    );

    let out = rosetta_with(&env, "", &["profile", "list", "-o", "table"]).await;
    exits(&out, 0);
    assert!(!stdout(&out).contains(key), "{}", stdout(&out));
    assert!(stdout(&out).contains("staging  "), "{}", stdout(&out));
    assert!(stdout(&out).contains("stored"), "{}", stdout(&out));

    // The profile's server and key, by flag or by variable.
    let out = rosetta_with(
        &env,
        "",
        &["sources", "list", "--profile", "staging", "-o", "json"],
    )
    .await;
    exits(&out, 0);
    assert_eq!(stdout(&out).trim(), "[]");
    let by_variable = [
        ("ROSETTA_CONFIG_DIR", config.as_str()),
        ("ROSETTA_PROFILE", "staging"),
    ];
    exits(
        &rosetta_with(&by_variable, "", &["health", "-o", "json"]).await,
        0,
    );
    // --api-key wins over the profile's.
    let out = rosetta_with(
        &env,
        "",
        &[
            "sources",
            "list",
            "--profile",
            "staging",
            "--api-key",
            "wrong-key-0000000",
        ],
    )
    .await;
    exits(&out, 1);
    let out = rosetta_with(&env, "", &["sources", "list", "--profile", "nope"]).await;
    exits(&out, 2);
    assert!(
        stderr(&out).contains("no profile named \"nope\""),
        "{}",
        stderr(&out)
    );
    exits(
        &rosetta_with(&env, "", &["profile", "remove", "staging"]).await,
        0,
    );
    assert!(!std::fs::read_to_string(&file).unwrap().contains("staging"));
    exits(
        &rosetta_with(&env, "", &["profile", "remove", "staging"]).await,
        2,
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn apply_stops_at_the_first_refusal_says_what_it_did_and_resumes() {
    let app = spawn_app().await;
    // The metadata database refuses pipelines named "refused" (as a failing server would).
    crate::helpers::execute_sql(
        &app,
        "CREATE FUNCTION refuse_pipeline() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN IF NEW.name = 'refused' THEN RAISE EXCEPTION 'no'; END IF; RETURN NEW; END $$;
         CREATE TRIGGER refuse_pipeline BEFORE INSERT ON pipelines
         FOR EACH ROW EXECUTE FUNCTION refuse_pipeline();",
    )
    .await;
    let yaml = CATALOGUE
        .replace("name: orders-to-lake", "name: refused")
        .replace("    status: PAUSE\n", "");
    let path = catalogue_file("refused", &yaml);
    let file = path.to_str().unwrap();
    let out = rosetta(
        &app.address,
        &SECRETS,
        &["apply", "-f", file, "--yes", "-o", "table"],
    )
    .await;
    exits(&out, 1);
    assert_eq!(
        stdout(&out),
        "created source orders\ncreated destination warehouse\ncreated destination lake\n\
         created pipeline orders-to-dw\n"
    );
    // The plan (on standard error, before the question it would ask), then the error, in one
    // line.
    let error = stderr(&out);
    assert!(error.starts_with("+ source orders\n"), "{error}");
    assert!(
        error.lines().last().unwrap().starts_with(
            "rosetta: error: stopped at create pipeline refused after 4 of 5 change(s): "
        ),
        "{error}"
    );
    // What was done is there; applying again does only what is left.
    crate::helpers::execute_sql(&app, "DROP TRIGGER refuse_pipeline ON pipelines").await;
    let out = rosetta(&app.address, &SECRETS, &["plan", "-f", file, "-o", "table"]).await;
    assert_eq!(
        stdout(&out),
        "+ pipeline refused\nPlan: 1 to create, 0 to change, 0 to delete.\n"
    );
    exits(
        &rosetta(&app.address, &SECRETS, &["apply", "-f", file, "--yes"]).await,
        0,
    );
    assert_eq!(
        app.get("/api/v1/pipelines")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

/// `text` without its `created` and `updated` lines, which depend on when the test ran.
fn timeless(text: &str) -> String {
    text.lines()
        .filter(|line| !line.starts_with("created ") && !line.starts_with("updated "))
        .map(|line| format!("{line}\n"))
        .collect()
}

#[tokio::test]
async fn one_entry_prints_as_a_record() {
    let app = spawn_app().await;
    let pipeline = app.create_pipeline("shown").await;
    let source = pipeline["source_id"].as_i64().unwrap();
    let destination = pipeline["destination_id"].as_i64().unwrap();
    let out = run(
        &app,
        &["sources", "get", &source.to_string(), "-o", "table"],
    )
    .await;
    exits(&out, 0);
    assert_eq!(
        timeless(&stdout(&out)),
        format!(
            "id              {source}\nname            shown-src\nserver          db.example.com:5433\n\
             database        shop\nrole            replicator\npublication     shop_pub\n\
             replication id  3\ntls             prefer\n"
        )
    );
    let out = run(
        &app,
        &[
            "destinations",
            "get",
            &destination.to_string(),
            "-o",
            "table",
        ],
    )
    .await;
    exits(&out, 0);
    assert_eq!(
        timeless(&stdout(&out)),
        format!(
            "id        {destination}\nname      shown-dst\ntype      POSTGRES\n\
             host      warehouse.example.com\nport      5432\ndatabase  dw\nusername  loader\n\
             schema    public\n"
        )
    );
    let id = pipeline["id"].as_i64().unwrap();
    let out = run(&app, &["pipelines", "get", &id.to_string(), "-o", "table"]).await;
    assert_eq!(
        stdout(&out),
        format!(
            "id               {id}\nname             shown\nsource           shown-src ({source})\n\
             destination      shown-dst ({destination})\nasked to         START\n\
             state            RUNNING\nphase            -\nlag              -\n\
             rows copied      0\nchanges applied  0\nconfirmed lsn    -\nlast error       -\n"
        )
    );
}

#[tokio::test]
async fn password_prompt_asks_on_the_terminal() {
    // `script` (util-linux) gives the command a terminal, and types the secret into it.
    let dir = std::env::temp_dir().join(format!("rosetta-prompt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let command = format!(
        "{} profile set prompted --url http://127.0.0.1:1 --password-prompt -o table",
        env!("CARGO_BIN_EXE_rosetta")
    );
    let config = dir.to_str().unwrap().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        use std::io::Write as _;
        let mut child = std::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .env("ROSETTA_CONFIG_DIR", &config)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"prompted-key-4321\n")
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    exits(&out, 0);
    assert!(stdout(&out).contains("API key: "), "{}", stdout(&out));
    let kept = std::fs::read_to_string(dir.join("profiles.yaml")).unwrap();
    assert!(kept.contains("api_key: prompted-key-4321"), "{kept}");
    // Without a terminal, the prompt is refused and says what to use instead.
    let out = rosetta_with(
        &[("ROSETTA_CONFIG_DIR", dir.to_str().unwrap())],
        "",
        &[
            "profile",
            "set",
            "x",
            "--url",
            "http://127.0.0.1:1",
            "--password-prompt",
        ],
    )
    .await;
    exits(&out, 2);
    assert!(
        stderr(&out).contains("--password-stdin"),
        "{}",
        stderr(&out)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs `rosetta args…` on a terminal of its own (`script`), typing `typed` into it.
async fn on_a_terminal(url: &str, args: &[&str], typed: &str) -> Output {
    use std::io::Write as _;
    let command = std::iter::once(env!("CARGO_BIN_EXE_rosetta").to_owned())
        .chain(args.iter().map(|a| (*a).to_owned()))
        .collect::<Vec<_>>()
        .join(" ");
    let (url, typed) = (url.to_owned(), typed.to_owned());
    tokio::task::spawn_blocking(move || {
        let mut child = std::process::Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .env("ROSETTA_URL", url)
            .env_remove("ROSETTA_API_KEY")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(typed.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn on_a_terminal_a_delete_asks_and_only_yes_deletes() {
    let app = spawn_app().await;
    let pipeline = app.create_pipeline("asked").await;
    let id = pipeline["id"].as_i64().unwrap().to_string();
    let out = on_a_terminal(&app.address, &["pipelines", "delete", &id], "n\n").await;
    exits(&out, 1);
    assert!(
        stdout(&out).contains("Delete pipeline asked"),
        "{}",
        stdout(&out)
    );
    assert!(stdout(&out).contains("[y/N]"), "{}", stdout(&out));
    app.get(&format!("/api/v1/pipelines/{id}"))
        .await
        .expect(200);
    let out = on_a_terminal(&app.address, &["pipelines", "delete", &id], "y\n").await;
    exits(&out, 0);
    // On a terminal, a table.
    assert!(
        stdout(&out).contains(&format!("deleted pipeline asked ({id})")),
        "{}",
        stdout(&out)
    );
    app.get(&format!("/api/v1/pipelines/{id}"))
        .await
        .expect(404);
}
