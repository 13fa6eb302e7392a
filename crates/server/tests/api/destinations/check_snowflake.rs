//! Checking a Snowflake destination through the API, against the Snowflake emulator (fakesnow)
//! at `$SNOWFLAKE_EMULATOR_URL` that `scripts/test.sh` starts: a key-pair sign-in that works,
//! and one whose passphrase is wrong, reported without the passphrase.

use std::path::PathBuf;
use std::process::Command;

use serde_json::json;

use super::*;

fn emulator() -> String {
    std::env::var("SNOWFLAKE_EMULATOR_URL").expect(
        "SNOWFLAKE_EMULATOR_URL is not set: run the tests with scripts/test.sh, which starts \
         the Snowflake emulator",
    )
}

/// An encrypted PKCS#8 key (passphrase [`SNOWFLAKE_PASSPHRASE`]) in a directory of its own.
struct Key {
    dir: PathBuf,
}

impl Key {
    fn new(test: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("rosetta-api-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pass = format!("pass:{SNOWFLAKE_PASSPHRASE}");
        for args in [
            vec![
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                "k.pem",
            ],
            vec![
                "pkcs8",
                "-topk8",
                "-v2",
                "aes-256-cbc",
                "-in",
                "k.pem",
                "-out",
                "k.p8",
                "-passout",
                &pass,
            ],
        ] {
            let out = Command::new("openssl")
                .args(&args)
                .current_dir(&dir)
                .output()
                .unwrap();
            assert!(out.status.success(), "openssl {args:?}: {out:?}");
        }
        Self { dir }
    }

    fn path(&self) -> String {
        self.dir.join("k.p8").to_str().unwrap().to_owned()
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
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
        .post(PATH, &body(&key, SNOWFLAKE_PASSPHRASE))
        .await
        .expect(201)
        .json();
    let reply = app
        .post_empty(&format!("{}/check", path_of(&destination)))
        .await
        .expect(200);
    assert_no_secrets(&reply.text);
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
