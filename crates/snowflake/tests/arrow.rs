//! Query results Snowflake sends as Arrow (`rowsetBase64`), against the Snowflake emulator
//! (fakesnow, which answers every query so) at `$SNOWFLAKE_EMULATOR_URL`: a session's
//! `execute` returns their rows as text, and a column it cannot read is a clear error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use rosetta_snowflake::{
    base_url, http_client, Client, JwtIssuer, KeyPair, Session, SnowflakeError, Target,
};
use rosetta_test_support::snowflake::{emulator, Keys};

/// Signs in to the emulator with a new key, in a database of this test process's own.
async fn session() -> Session {
    let keys = Keys::new("snowflake-arrow");
    let (plain, _) = keys.pkcs8();
    let key = KeyPair::read(&plain, None).unwrap();
    let target = Target {
        base: base_url("xy12345", Some(&emulator())).unwrap(),
        database: format!("arrow_{}", std::process::id()),
        schema: "raw".to_owned(),
        role: None,
        warehouse: None,
    };
    let client = Client::new(
        http_client().unwrap(),
        target,
        JwtIssuer::new("xy12345", "loader", key),
    );
    client.sign_in().await.unwrap()
}

/// A row from its values, `None` for NULL.
fn row(values: &[Option<&str>]) -> Vec<Option<String>> {
    values
        .iter()
        .map(|value| value.map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_query_returns_its_rows_and_columns_from_the_arrow_result() {
    let mut session = session().await;
    let outcome = session
        .execute(
            "SELECT * FROM (VALUES \
             (1, 'one', 1.5::DOUBLE, 12345678901, -0.05::NUMBER(10,3), FALSE), \
             (2, NULL, NULL, NULL, NULL, NULL), \
             (3, 'três', -2.25::DOUBLE, -9, 123.456::NUMBER(10,3), TRUE)) \
             AS T (ID, NAME, RATIO, BIG, PRICE, FLAG) ORDER BY ID",
            &[],
        )
        .await
        .unwrap();
    assert!(!outcome.query_id.is_empty());
    assert_eq!(
        outcome.rows,
        [
            row(&[
                Some("1"),
                Some("one"),
                Some("1.5"),
                Some("12345678901"),
                Some("-0.050"),
                Some("false"),
            ]),
            row(&[Some("2"), None, None, None, None, None]),
            row(&[
                Some("3"),
                Some("três"),
                Some("-2.25"),
                Some("-9"),
                Some("123.456"),
                Some("true"),
            ]),
        ]
    );
    session.close().await;
}

#[tokio::test]
async fn a_table_written_with_bindings_reads_back_and_an_empty_result_has_no_rows() {
    let mut session = session().await;
    session
        .execute(
            "CREATE OR REPLACE TABLE \"ITEMS\" (\"ID\" NUMBER(38,0), \"NAME\" VARCHAR, \
             \"PRICE\" NUMBER(12,2))",
            &[],
        )
        .await
        .unwrap();
    let inserted = session
        .execute(
            "INSERT INTO \"ITEMS\" SELECT C1::NUMBER(38,0), C2, C3::NUMBER(12,2) \
             FROM (VALUES (?, ?, ?), (?, ?, ?)) AS V (C1, C2, C3)",
            &[
                Some("10"),
                Some("pen"),
                Some("1.5"),
                Some("11"),
                None,
                Some("-1234567890.99"),
            ],
        )
        .await
        .unwrap();
    assert_eq!(inserted.count(), Some(2));
    let items = session
        .execute(
            "SELECT \"ID\", \"NAME\", \"PRICE\" FROM \"ITEMS\" ORDER BY \"ID\"",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        items.rows,
        [
            row(&[Some("10"), Some("pen"), Some("1.50")]),
            row(&[Some("11"), None, Some("-1234567890.99")]),
        ]
    );
    let none = session
        .execute("SELECT \"ID\" FROM \"ITEMS\" WHERE \"ID\" < 0", &[])
        .await
        .unwrap();
    assert!(none.rows.is_empty());
    session.close().await;
}

#[tokio::test]
async fn a_column_the_reader_does_not_know_is_an_error_naming_it_and_the_query() {
    let mut session = session().await;
    let error = session
        .execute("SELECT '2024-01-02 03:04:05'::TIMESTAMP_NTZ AS \"AT\"", &[])
        .await
        .unwrap_err();
    assert!(
        matches!(error, SnowflakeError::Server { status: 200, .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("cannot read the result of query "),
        "{message}"
    );
    assert!(
        message
            .contains("unsupported column type Struct (Snowflake TIMESTAMP_NTZ) (column \"AT\")"),
        "{message}"
    );
    let cast = session
        .execute(
            "SELECT '2024-01-02 03:04:05'::TIMESTAMP_NTZ::VARCHAR AS \"AT\"",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(cast.rows.len(), 1);
    assert!(
        cast.rows[0][0]
            .as_deref()
            .unwrap()
            .starts_with("2024-01-02"),
        "{:?}",
        cast.rows
    );
    session.close().await;
}
