//! Checking a Snowflake destination through the API, against the Snowflake emulator (fakesnow)
//! at `$SNOWFLAKE_EMULATOR_URL` that `scripts/test.sh` starts: a key-pair sign-in that works,
//! and one whose passphrase is wrong, reported without the passphrase.

use rosetta_test_support::snowflake::{emulator, Keys, PASSPHRASE};
use serde_json::json;

use super::*;

/// An encrypted PKCS#8 key (passphrase [`PASSPHRASE`]).
struct Key {
    _keys: Keys,
    path: String,
}

impl Key {
    fn new(test: &str) -> Self {
        let keys = Keys::new(&format!("api-{test}"));
        let (_, encrypted) = keys.pkcs8();
        let path = encrypted.to_str().unwrap().to_owned();
        Self { _keys: keys, path }
    }

    fn path(&self) -> String {
        self.path.clone()
    }
}

fn body(key: &Key, passphrase: &str) -> Value {
    let mut body = snowflake_destination_body("emulated");
    body["config"]["host"] = json!(emulator());
    body["config"]["database"] = json!(format!("api_check_{}", std::process::id()));
    body["config"]["private_key_path"] = json!(key.path());
    body["config"]["private_key_passphrase"] = json!(passphrase);
    body
}

fn steps(report: &Value) -> Vec<(String, bool)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|check| {
            (
                check["name"].as_str().unwrap().to_owned(),
                check["passed"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_snowflake_destination_with_a_good_key_is_ready() {
    let app = spawn_app().await;
    let key = Key::new("good");
    let destination = app
        .post(PATH, &body(&key, PASSPHRASE))
        .await
        .expect(201)
        .json();
    let reply = app
        .post_empty(&format!("{}/check", path_of(&destination)))
        .await
        .expect(200);
    assert_no_secrets(&reply.text);
    assert!(!reply.text.contains(PASSPHRASE), "{}", reply.text);
    let report = reply.json();
    assert_eq!(report["ready"], true, "{report}");
    let steps = steps(&report);
    let names: Vec<&str> = steps.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "private_key",
            "sign_in",
            "warehouse",
            "create_schema",
            "create_table"
        ],
        "{report}"
    );
    assert!(steps.iter().all(|(_, passed)| *passed), "{report}");
    assert!(
        report["checks"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("SHA256:"),
        "{report}"
    );
}

#[tokio::test]
async fn a_wrong_passphrase_is_reported_without_showing_it() {
    let app = spawn_app().await;
    let key = Key::new("wrong");
    let wrong = "not-the-passphrase-7e1";
    let destination = app.post(PATH, &body(&key, wrong)).await.expect(201).json();
    let reply = app
        .post_empty(&format!("{}/check", path_of(&destination)))
        .await
        .expect(200);
    assert_no_secrets(&reply.text);
    assert!(!reply.text.contains(wrong), "{}", reply.text);
    let report = reply.json();
    assert_eq!(report["ready"], false, "{report}");
    assert_eq!(
        steps(&report),
        [("private_key".to_owned(), false)],
        "{report}"
    );
    assert!(
        report["checks"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("passphrase"),
        "{report}"
    );
}
