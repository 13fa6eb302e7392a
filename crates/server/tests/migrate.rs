//! `rosetta migrate` as a user runs it, against the real PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Output};

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use rosetta_metadata_store::migrations::quote_identifier;
use rosetta_test_support::database_url;

fn migrate(database_url: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rosetta"))
        .arg("migrate")
        .env("DATABASE_URL", database_url)
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Drops the database when the test ends, however it ends.
struct Dropped(String);

impl Drop for Dropped {
    fn drop(&mut self) {
        let name = self.0.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let mut conn = AsyncPgConnection::establish(&database_url("postgres").unwrap())
                    .await
                    .unwrap();
                conn.batch_execute(&format!(
                    "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                    quote_identifier(&name)
                ))
                .await
                .unwrap();
            });
        })
        .join()
        .unwrap();
    }
}

#[test]
fn migrate_creates_the_database_and_schema_then_does_nothing() {
    let name = format!("rosetta_test_migrate_{}", std::process::id());
    let _cleanup = Dropped(name.clone());
    let url = database_url(&name).unwrap();

    let first = migrate(&url);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let out = text(&first.stdout);
    assert!(
        out.contains(&format!("created database 127.0.0.1:5432/{name}")),
        "{out}"
    );
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../migrations"))
        .unwrap()
        .filter(|entry| entry.as_ref().unwrap().path().is_dir())
        .count();
    assert!(
        out.contains(&format!("applied {migrations} migration(s)")),
        "{out}"
    );

    let second = migrate(&url);
    assert!(second.status.success(), "{}", text(&second.stderr));
    let out = text(&second.stdout);
    assert!(out.contains("is up to date"), "{out}");
    assert!(!out.contains("created"), "{out}");
}

fn assert_one_clear_line(output: &Output, expected: &[&str]) {
    assert!(!output.status.success());
    let err = text(&output.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.starts_with("rosetta: error: "), "{err}");
    for part in expected {
        assert!(err.contains(part), "{err} should mention {part}");
    }
    for leak in ["s3cret", "panicked", "backtrace", "RUST_BACKTRACE"] {
        assert!(!err.contains(leak), "{err} contains {leak}");
    }
}

#[test]
fn an_unreachable_server_ends_with_one_line_naming_the_host() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = migrate(&format!(
        "postgres://postgres:s3cret@127.0.0.1:{port}/rosetta"
    ));
    assert_one_clear_line(&output, &[&format!("127.0.0.1:{port}"), "refused"]);
}

#[test]
fn a_refused_login_ends_with_one_line_naming_the_host_and_the_cause() {
    let output = migrate("postgres://no_such_role_rosetta:s3cret@127.0.0.1:5432/rosetta");
    assert_one_clear_line(&output, &["127.0.0.1:5432", "no_such_role_rosetta"]);
}

#[test]
fn a_malformed_url_ends_with_one_line_without_repeating_it() {
    let output = migrate("postgres//user:s3cret@nowhere");
    assert_one_clear_line(&output, &["DATABASE_URL"]);
}
