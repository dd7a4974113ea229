//! A real headless Chromium driven over WebDriver (Debian's `chromium` + `chromium-driver`):
//! open a page, run a script in it, read the browser console, take a screenshot.

use base64::Engine as _;
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A chromedriver process with one headless Chromium session.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    _profile: tempfile::TempDir,
}

fn find(candidates: &[&str]) -> Option<String> {
    candidates
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| p.to_string())
}

impl Browser {
    /// Starts chromedriver on a free loopback port and opens a headless session.
    pub async fn start() -> Browser {
        let driver_bin = find(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]).expect(
            "chromedriver is missing: install Debian's chromium-driver (scripts/setup.sh does)",
        );
        let chromium = find(&["/usr/bin/chromium", "/usr/lib/chromium/chromium"])
            .expect("chromium is missing: install Debian's chromium (scripts/setup.sh does)");
        let port = super::free_port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let ready = super::eventually(Duration::from_secs(20), || {
            let url = format!("{base}/status");
            async move {
                let r = reqwest::get(url).await.ok()?;
                let v: Value = serde_json::from_str(&r.text().await.ok()?).ok()?;
                v["value"]["ready"].as_bool().filter(|r| *r).map(|_| ())
            }
        })
        .await;
        assert!(ready.is_some(), "chromedriver did not start within 20 s");
        let profile = tempfile::tempdir().expect("profile dir");
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--no-first-run", "--window-size=1400,1000",
                         format!("--user-data-dir={}", profile.path().display())],
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let mut browser = Browser {
            driver,
            base,
            session: String::new(),
            _profile: profile,
        };
        let created = browser.call("POST", "/session", Some(capabilities)).await;
        browser.session = created["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_string();
        browser
    }

    async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.base);
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        let req = match method {
            "POST" => client
                .post(url)
                .header("content-type", "application/json")
                .body(body.unwrap_or(json!({})).to_string()),
            "DELETE" => client.delete(url),
            _ => client.get(url),
        };
        let text = req
            .send()
            .await
            .expect("WebDriver request")
            .text()
            .await
            .expect("WebDriver answer");
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        v.get("value").cloned().unwrap_or(v)
    }

    fn at(&self, what: &str) -> String {
        format!("/session/{}/{what}", self.session)
    }

    /// Loads `url` and waits for the document to finish loading.
    pub async fn open(&self, url: &str) {
        let r = self
            .call("POST", &self.at("url"), Some(json!({"url": url})))
            .await;
        assert!(r.is_null(), "navigation to {url} failed: {r}");
    }

    /// Runs `script` (a function body; `return` gives the result) in the page.
    pub async fn run(&self, script: &str) -> Value {
        let body = json!({"script": script, "args": []});
        self.call("POST", &self.at("execute/sync"), Some(body))
            .await
    }

    /// The browser console's entries so far (each with `level` and `message`).
    pub async fn console(&self) -> Vec<Value> {
        let v = self
            .call("POST", &self.at("se/log"), Some(json!({"type": "browser"})))
            .await;
        v.as_array().cloned().unwrap_or_default()
    }

    /// A PNG of the viewport.
    pub async fn screenshot(&self) -> Vec<u8> {
        let v = self.call("GET", &self.at("screenshot"), None).await;
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().unwrap_or_default())
            .expect("screenshot is base64")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
