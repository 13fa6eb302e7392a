//! Applying changes: batches equal the same changes applied one by one, a failing batch takes
//! everything since the last commit with it, and a commit is what `state()` then reads.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;

use common::*;
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use rosetta_domain::replication::{Change, Datum, TableSchema};
use tokio_postgres::types::ToSql;
use tokio_postgres::Client;

fn keyed() -> TableSchema {
    table(
        16_400,
        "keyed",
        vec![
            column("id", "bigint", true),
            column("a", "text", false),
            column("t", "text", false),
        ],
    )
}

fn keyless() -> TableSchema {
    table(
        16_401,
        "keyless",
        vec![
            column("a", "text", false),
            column("t", "text", false),
            column("j", "json", false),
        ],
    )
}

const A: [Option<&str>; 7] = [
    Some("x"),
    Some("a\tb"),
    Some("line\nbreak\r"),
    Some("back\\slash \\N"),
    Some("é😀"),
    Some(""),
    None,
];
const J: [Option<&str>; 4] = [
    Some(r#"{"k": 1}"#),
    Some(r#"{"k":1}"#),
    Some("[1, 2]"),
    None,
];

type Value = Option<String>;

fn datum(value: &Value) -> Datum {
    value.as_deref().map_or(Datum::Null, text)
}

/// The source: its rows, which the steps change, producing the changes it would stream.
#[derive(Debug, Clone, Default)]
struct Source {
    keyed: BTreeMap<i64, [Value; 2]>,
    keyless: Vec<[Value; 3]>,
}

#[derive(Debug, Clone)]
struct Step {
    kind: u8,
    pick: usize,
    key: i64,
    a: usize,
    t: usize,
    j: usize,
    keep_t: bool,
}

fn step() -> impl Strategy<Value = Step> {
    (
        0..21_u8,
        0..8_usize,
        0..6_i64,
        0..7_usize,
        0..7_usize,
        0..4_usize,
        any::<bool>(),
    )
        .prop_map(|(kind, pick, key, a, t, j, keep_t)| Step {
            kind,
            pick,
            key,
            a,
            t,
            j,
            keep_t,
        })
}

impl Source {
    /// The change `step` makes (inserting where it would change a row that is not there).
    fn change(&mut self, step: &Step) -> Change {
        let (keyed, keyless) = (keyed(), keyless());
        let a = A[step.a].map(str::to_owned);
        let t = A[step.t].map(str::to_owned);
        let j = J[step.j].map(str::to_owned);
        let keyed_row =
            |id: i64, [a, t]: &[Value; 2]| vec![text(&id.to_string()), datum(a), datum(t)];
        let keyless_row = |[a, t, j]: &[Value; 3]| vec![datum(a), datum(t), datum(j)];
        match step.kind {
            5..=11 if !self.keyed.is_empty() => {
                // An update (5-9) or a delete (10-11) of an existing keyed row.
                let keys: Vec<i64> = self.keyed.keys().copied().collect();
                let id = keys[step.pick % keys.len()];
                let before = self.keyed.remove(&id).unwrap_or_default();
                if step.kind >= 10 {
                    return delete(&keyed, &[text(&id.to_string()), Datum::Null, Datum::Null]);
                }
                let target = if self.keyed.contains_key(&step.key) || step.kind == 5 {
                    id
                } else {
                    step.key
                };
                let keep = step.keep_t && before[1].is_some();
                let after = [a, if keep { before[1].clone() } else { t }];
                let mut new = keyed_row(target, &after);
                if keep {
                    new[2] = Datum::Unchanged;
                }
                self.keyed.insert(target, after);
                let old =
                    (target != id).then(|| vec![text(&id.to_string()), Datum::Null, Datum::Null]);
                update(&keyed, old.as_deref(), &new)
            }
            0..=11 => {
                let id = if self.keyed.contains_key(&step.key) {
                    (0..)
                        .find(|k| !self.keyed.contains_key(k))
                        .unwrap_or_default()
                } else {
                    step.key
                };
                let row = [a, t];
                let change = insert(&keyed, &keyed_row(id, &row));
                self.keyed.insert(id, row);
                change
            }
            14..=17 if !self.keyless.is_empty() => {
                // An update (14-16) or a delete (17) of a keyless row, found by its old values.
                let at = step.pick % self.keyless.len();
                let before = self.keyless.remove(at);
                if step.kind == 17 {
                    return delete(&keyless, &keyless_row(&before));
                }
                let keep = step.keep_t && before[1].is_some();
                let after = [a, if keep { before[1].clone() } else { t }, j];
                let mut new = keyless_row(&after);
                if keep {
                    new[1] = Datum::Unchanged;
                }
                self.keyless.push(after);
                update(&keyless, Some(&keyless_row(&before)), &new)
            }
            12..=19 => {
                let row = [a, t, j];
                let change = insert(&keyless, &keyless_row(&row));
                self.keyless.push(row);
                change
            }
            _ => {
                let both = step.pick % 2 == 0;
                self.keyed.clear();
                let mut relations = vec![keyed.id];
                if both {
                    self.keyless.clear();
                    relations.push(keyless.id);
                }
                Change::Truncate {
                    relations,
                    restart_identity: step.keep_t,
                }
            }
        }
    }
}

fn param(datum: &Datum) -> Option<String> {
    match datum {
        Datum::Text(bytes) => Some(String::from_utf8(bytes.to_vec()).unwrap()),
        Datum::Null | Datum::Unchanged => None,
    }
}

/// Applies `change` to the reference tables `reference.keyed` and `reference.keyless`, one
/// statement per change, as a row-at-a-time apply would.
async fn reference(client: &Client, change: &Change) {
    let (keyed, _) = (keyed(), keyless());
    let values = |row: &[Datum]| row.iter().map(param).collect::<Vec<_>>();
    let run = |sql: String, params: Vec<Option<String>>| async move {
        let refs: Vec<&(dyn ToSql + Sync)> =
            params.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        client.execute(sql.as_str(), &refs).await.unwrap();
    };
    let sets = |new: &[Datum], names: &[&str], first: usize| {
        let mut n = first;
        let mut sets = Vec::new();
        let mut params = Vec::new();
        for (datum, name) in new.iter().zip(names) {
            if *datum != Datum::Unchanged {
                n += 1;
                let cast = if *name == "id" {
                    "::text::bigint"
                } else if *name == "j" {
                    "::text::json"
                } else {
                    ""
                };
                sets.push(format!("{name} = ${n}{cast}"));
                params.push(param(datum));
            }
        }
        (sets.join(", "), params)
    };
    const MATCH: &str = "ctid = (SELECT ctid FROM reference.keyless WHERE a IS NOT DISTINCT FROM $1 \
                         AND t IS NOT DISTINCT FROM $2 AND j::text IS NOT DISTINCT FROM $3 LIMIT 1)";
    match change {
        Change::Insert { relation, new } if *relation == keyed.id => {
            run(
                "INSERT INTO reference.keyed VALUES ($1::text::bigint, $2, $3)".into(),
                values(&new.0),
            )
            .await;
        }
        Change::Insert { new, .. } => {
            run(
                "INSERT INTO reference.keyless VALUES ($1, $2, $3::text::json)".into(),
                values(&new.0),
            )
            .await;
        }
        Change::Update { relation, old, new } if *relation == keyed.id => {
            let id = param(&old.as_ref().unwrap_or(new).0[0]);
            let (sets, mut params) = sets(&new.0, &["id", "a", "t"], 1);
            params.insert(0, id);
            run(
                format!("UPDATE reference.keyed SET {sets} WHERE id = $1::text::bigint"),
                params,
            )
            .await;
        }
        Change::Update { old, new, .. } => {
            let (sets, params) = sets(&new.0, &["a", "t", "j"], 3);
            let mut all = values(&old.as_ref().unwrap().0);
            all.extend(params);
            run(
                format!("UPDATE reference.keyless SET {sets} WHERE {MATCH}"),
                all,
            )
            .await;
        }
        Change::Delete { relation, old } if *relation == keyed.id => {
            run(
                "DELETE FROM reference.keyed WHERE id = $1::text::bigint".into(),
                vec![param(&old.0[0])],
            )
            .await;
        }
        Change::Delete { old, .. } => {
            run(
                format!("DELETE FROM reference.keyless WHERE {MATCH}"),
                values(&old.0),
            )
            .await;
        }
        Change::Truncate { relations, .. } => {
            let names: Vec<&str> = relations
                .iter()
                .map(|r| {
                    if *r == keyed.id {
                        "reference.keyed"
                    } else {
                        "reference.keyless"
                    }
                })
                .collect();
            client
                .batch_execute(&format!("TRUNCATE {}", names.join(", ")))
                .await
                .unwrap();
        }
    }
}

/// Rows in one table and not the other, both ways, as multisets.
async fn differences(client: &Client, left: &str, right: &str, columns: &str) -> i64 {
    client
        .query_one(
            &format!(
                "SELECT (SELECT count(*) FROM (SELECT {columns} FROM {left} EXCEPT ALL \
                 SELECT {columns} FROM {right}) l) + (SELECT count(*) FROM (SELECT {columns} \
                 FROM {right} EXCEPT ALL SELECT {columns} FROM {left}) r)"
            ),
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

/// The mirror's tables and the reference's, as the same multisets of text rows.
async fn assert_same(client: &Client) -> Result<(), TestCaseError> {
    let keyed = differences(client, "mirror.keyed", "reference.keyed", "id, a, t").await;
    let keyless = differences(
        client,
        "mirror.keyless",
        "reference.keyless",
        "a, t, j::text",
    )
    .await;
    prop_assert_eq!((keyed, keyless), (0, 0));
    Ok(())
}

#[test]
fn random_change_sequences_apply_as_one_statement_per_change_does() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (db, session, client) = runtime.block_on(async {
        let db = TestDatabase::new().await;
        let mut session = db.open(1).await;
        session.prepare_table(&keyed()).await.unwrap();
        session.prepare_table(&keyless()).await.unwrap();
        let client = db.client().await;
        client
            .batch_execute(
                "CREATE SCHEMA reference; \
                 CREATE TABLE reference.keyed (LIKE mirror.keyed INCLUDING ALL); \
                 CREATE TABLE reference.keyless (LIKE mirror.keyless)",
            )
            .await
            .unwrap();
        (db, tokio::sync::Mutex::new(session), client)
    });
    let strategy = (
        proptest::collection::vec(step(), 0..12),
        proptest::collection::vec(step(), 0..60),
        proptest::collection::vec(1..8_usize, 1..10),
    );
    // PROPTEST_CASES runs more (or fewer) cases than the 96 of an ordinary run.
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|cases| cases.parse().ok())
        .unwrap_or(96);
    let mut runner = TestRunner::new(ProptestConfig::with_cases(cases));
    let end = std::cell::Cell::new(0_u64);
    let result = runner.run(&strategy, |(seed, steps, batches)| {
        end.set(end.get() + 100);
        let end = end.get();
        runtime.block_on(async {
            let mut session = session.lock().await;
            client
                .batch_execute(
                    "TRUNCATE mirror.keyed, mirror.keyless, reference.keyed, reference.keyless",
                )
                .await
                .unwrap();
            // The rows both sides had before the batches: the source's, as a copy left them.
            let mut source = Source::default();
            for step in seed.iter().filter(|s| s.kind < 20) {
                let change = source.change(&Step { kind: if step.kind < 12 { 0 } else { 18 }, ..step.clone() });
                reference(&client, &change).await;
            }
            client
                .batch_execute(
                    "INSERT INTO mirror.keyed SELECT * FROM reference.keyed; \
                     INSERT INTO mirror.keyless SELECT * FROM reference.keyless",
                )
                .await
                .unwrap();
            let changes: Vec<Change> = steps.iter().map(|s| source.change(s)).collect();
            let mut at = 0;
            for (i, size) in batches.iter().cycle().enumerate() {
                if at >= changes.len() {
                    break;
                }
                let batch = &changes[at..(at + size).min(changes.len())];
                session.apply(batch).await.unwrap();
                if i % 2 == 1 {
                    session.commit(checkpoint(end + i as u64)).await.unwrap();
                    session.committed().await.unwrap();
                }
                at += size;
            }
            session.commit(checkpoint(end + 99)).await.unwrap();
            session.committed().await.unwrap();
            for change in &changes {
                reference(&client, change).await;
            }
            assert_same(&client).await?;
            let expected: i64 = i64::try_from(source.keyed.len() + source.keyless.len()).unwrap();
            let count: i64 = client
                .query_one(
                    "SELECT (SELECT count(*) FROM reference.keyed) + (SELECT count(*) FROM reference.keyless)",
                    &[],
                )
                .await
                .unwrap()
                .get(0);
            prop_assert_eq!(count, expected);
            Ok(())
        })
    });
    drop(session);
    drop(db);
    if let Err(e) = result {
        panic!("{e}");
    }
}
