//! A headless Chromium driven over the W3C WebDriver protocol (Debian's `chromedriver`): the
//! few commands the tests need, spoken as JSON over HTTP with reqwest, so that no WebDriver
//! crate comes in.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use serde_json::{json, Value};
use tokio::time::Instant;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The key of an element reference in WebDriver's JSON.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Where screenshots go: `target/screenshots/` of the workspace.
pub fn screenshots_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The WebDriver key of Enter.
pub const ENTER: &str = "\u{E007}";
/// The WebDriver key of Tab.
pub const TAB: &str = "\u{E004}";

/// A browser: chromedriver, one session in a fresh profile, gone when dropped.
pub struct Browser {
    driver: Child,
    session: String,
    base: String,
    client: reqwest::Client,
    profile: PathBuf,
    /// Names this browser's failure screenshots.
    pub name: String,
}

impl Browser {
    /// A browser that reaches 127.0.0.1 only: every other host name fails to resolve and
    /// everything else goes to a proxy that does not exist, so a page that needs the internet
    /// shows it.
    pub async fn offline(name: &str, width: u32, height: u32) -> Self {
        for tool in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(tool).exists(),
                "{tool} is missing: run scripts/ensure-chromium.sh (it installs Debian's \
                 chromium and chromium-driver)"
            );
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let ready = client.get(format!("{base}/status")).send().await;
            if let Ok(response) = ready {
                let status: Value = response.json().await.unwrap_or_default();
                if status["value"]["ready"] == true {
                    break;
                }
            }
            assert!(Instant::now() < deadline, "chromedriver never became ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile =
            std::env::temp_dir().join(format!("rosetta-chromium-{}-{port}", std::process::id()));
        let args = vec![
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-quic".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--hide-scrollbars".to_owned(),
            format!("--user-data-dir={}", profile.display()),
            format!("--window-size={width},{height}"),
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1".to_owned(),
            "--proxy-server=http://127.0.0.1:9".to_owned(),
            "--proxy-bypass-list=127.0.0.1".to_owned(),
            "--lang=en-US".to_owned(),
        ];
        let created: Value = client
            .post(format!("{base}/session"))
            .json(&json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
            }}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_owned();
        Self {
            driver,
            session,
            base,
            client,
            profile,
            name: name.to_owned(),
        }
    }

    /// One command; `Err` with WebDriver's message when it fails.
    async fn command(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.client.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply: Value = request
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        match reply["value"].get("error") {
            Some(error) => Err(format!("{error}: {}", reply["value"]["message"])),
            None => Ok(reply["value"].clone()),
        }
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        self.command(reqwest::Method::POST, path, Some(body)).await
    }

    async fn get(&self, path: &str) -> Result<Value, String> {
        self.command(reqwest::Method::GET, path, None).await
    }

    /// Opens `url`; `Err` when the browser cannot load it.
    pub async fn try_goto(&self, url: &str) -> Result<(), String> {
        self.post("/url", json!({"url": url})).await.map(|_| ())
    }

    pub async fn goto(&self, url: &str) {
        self.try_goto(url)
            .await
            .unwrap_or_else(|e| panic!("{url}: {e}"));
    }

    pub async fn url(&self) -> String {
        self.get("/url").await.unwrap().as_str().unwrap().to_owned()
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns its value.
    pub async fn run(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": args}))
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// The first element matching `css`, if any.
    pub async fn find(&self, css: &str) -> Option<String> {
        self.post("/element", json!({"using": "css selector", "value": css}))
            .await
            .ok()
            .and_then(|found| found[ELEMENT].as_str().map(str::to_owned))
    }

    /// Waits up to 20 s for `check` (a script returning a truthy value); fails with what was
    /// awaited, the page's address and a screenshot.
    pub async fn wait_until(&self, what: &str, check: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let seen = self
                .post("/execute/sync", json!({"script": check, "args": []}))
                .await
                .unwrap_or(Value::Null);
            let truthy = !matches!(&seen, Value::Null | Value::Bool(false))
                && seen != json!("")
                && seen != json!(0);
            if truthy {
                return seen;
            }
            if Instant::now() >= deadline {
                let url = self.url().await;
                let shot = format!("{}-failure", self.name);
                self.screenshot(&shot).await;
                panic!("timed out waiting for {what} on {url} (screenshot target/screenshots/{shot}.png)");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Waits for an element matching `css`.
    pub async fn wait_for(&self, css: &str) -> String {
        let check = format!("return document.querySelector({}) !== null", json!(css));
        self.wait_until(&format!("an element {css}"), &check).await;
        self.find(css).await.unwrap()
    }

    /// Waits until the page's text contains `text`.
    pub async fn wait_text(&self, text: &str) {
        let check = format!(
            "return document.body && document.body.innerText.includes({})",
            json!(text)
        );
        self.wait_until(&format!("the text {text:?}"), &check).await;
    }

    pub async fn text(&self, css: &str) -> String {
        let element = self.wait_for(css).await;
        self.get(&format!("/element/{element}/text"))
            .await
            .unwrap()
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn click(&self, css: &str) {
        let element = self.wait_for(css).await;
        self.post(&format!("/element/{element}/click"), json!({}))
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Clears the field `css` and types `text` into it.
    pub async fn fill(&self, css: &str, text: &str) {
        let element = self.wait_for(css).await;
        self.post(&format!("/element/{element}/clear"), json!({}))
            .await
            .unwrap();
        self.post(&format!("/element/{element}/value"), json!({"text": text}))
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Presses and releases `key` on the element that has the focus, as a keyboard would:
    /// one of [`ENTER`], [`TAB`], or a character.
    pub async fn press(&self, key: &str) {
        let actions = json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}
        ]}]});
        self.post("/actions", actions)
            .await
            .unwrap_or_else(|e| panic!("press {key:?}: {e}"));
    }

    /// Chooses the option whose value is `value` in the select `css`.
    pub async fn choose(&self, css: &str, value: &str) {
        self.click(&format!("{css} option[value=\"{value}\"]"))
            .await;
    }

    pub async fn resize(&self, width: u32, height: u32) {
        self.post("/window/rect", json!({"width": width, "height": height}))
            .await
            .unwrap();
    }

    /// Saves `target/screenshots/<name>.png`.
    pub async fn screenshot(&self, name: &str) {
        if let Ok(png) = self.get("/screenshot").await {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(png.as_str().unwrap_or_default())
                .unwrap_or_default();
            std::fs::write(screenshots_dir().join(format!("{name}.png")), bytes).unwrap();
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // Ends the session (chromedriver then closes Chromium) with a plain blocking request:
        // Drop cannot wait on the test's runtime.
        if let Some(address) = self.base.strip_prefix("http://") {
            if let Ok(mut stream) = std::net::TcpStream::connect(address) {
                use std::io::{Read, Write};
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let _ = write!(
                    stream,
                    "DELETE /session/{} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n",
                    self.session
                );
                let _ = stream.read_to_end(&mut Vec::new());
            }
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
