//! A real `rosetta serve` process for the browser: its own metadata database, a free port,
//! the WAL monitor and the replicator on a fast beat; stopped (and startable again on the same
//! port and database) by the test.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rosetta_test_support::TestDb;
use tokio::time::Instant;

/// The encryption key of the test service.
const KEYS: &str = "1:KioqKioqKioqKioqKioqKioqKioqKioqKioqKioqKio=";

pub struct Serve {
    /// Kept for as long as the process runs (dropped with it).
    _db: TestDb,
    pub base: String,
    env: Vec<(String, String)>,
    child: Option<Child>,
}

impl Serve {
    /// Starts the binary with `extra` settings on top of the test ones.
    pub async fn start(extra: &[(&str, &str)]) -> Self {
        let db = TestDb::new().await;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut env: Vec<(String, String)> = [
            ("DATABASE_URL", db.url()),
            ("HOST", "127.0.0.1"),
            ("HTTP_WORKERS", "2"),
            ("ROSETTA_ENCRYPTION_KEYS", KEYS),
            ("LOG_LEVEL", "warn"),
            ("WAL_MONITOR_INTERVAL_SECONDS", "1"),
            ("WAL_MONITOR_TIMEOUT_SECONDS", "5"),
            ("REPLICATOR_POLL_SECONDS", "1"),
            ("REPLICATOR_LEASE_SECONDS", "5"),
            ("REPLICATOR_BATCH_DELAY_MS", "50"),
            ("REPLICATOR_MAX_BACKOFF_SECONDS", "2"),
            ("REPLICATOR_SAMPLE_SECONDS", "1"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        env.push(("PORT".to_owned(), port.to_string()));
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        let mut serve = Self {
            _db: db,
            base: format!("http://127.0.0.1:{port}"),
            env,
            child: None,
        };
        serve.resume().await;
        serve
    }

    /// Starts the process (again) and waits until it answers.
    pub async fn resume(&mut self) {
        let child = Command::new(env!("CARGO_BIN_EXE_rosetta"))
            .arg("serve")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(response) = client
                .get(format!("{}/health/live", self.base))
                .send()
                .await
            {
                if response.status().is_success() {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "rosetta serve never answered on {}",
                self.base
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Stops the process at once, as a crash would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        self.kill();
    }
}
