//! The counter window as the test sees it through WebDriver: keystrokes sent to the window (not
//! to an element), waits on what the clerk would see, DOM facts and screenshots.

use crate::a11y;
use crate::harness::{Display, out_dir};
use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};
use std::future::Future;
use std::time::{Duration, Instant};

/// WebDriver's codes for the keys the clerk uses.
pub(crate) const ENTER: char = '\u{E007}';
pub(crate) const ESCAPE: char = '\u{E00C}';
pub(crate) const F2: char = '\u{E032}';
pub(crate) const F6: char = '\u{E036}';
pub(crate) const F8: char = '\u{E038}';

/// How long the window may take to show what a step leads to (the gateway answers in ms).
const STEP_TIMEOUT: Duration = Duration::from_secs(20);

/// How long one WebDriver command may take. WebKit waits for a painted frame before it answers
/// key strokes and screenshots: a page that stopped painting would otherwise hang the test, and CI
/// with it, instead of failing it.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// `command`'s result, or a failed test naming `what` once COMMAND_TIMEOUT has passed.
async fn bounded<T>(what: &str, command: impl Future<Output = T>) -> T {
    tokio::time::timeout(COMMAND_TIMEOUT, command).await.unwrap_or_else(|_| {
        panic!("WebDriver did not answer {what} within {COMMAND_TIMEOUT:?}: has the page stopped painting?")
    })
}

pub(crate) struct Window<'d> {
    pub(crate) client: Client,
    display: &'d Display,
    /// Prefix of this session's screenshot files.
    prefix: &'static str,
}

impl<'d> Window<'d> {
    /// Opens a WebDriver session, which starts the app.
    pub(crate) async fn open(
        driver_url: &str,
        app: &std::path::Path,
        display: &'d Display,
        prefix: &'static str,
    ) -> Self {
        let capabilities = json!({
            "browserName": "wry",
            "tauri:options": { "application": app },
        });
        let Value::Object(capabilities) = capabilities else { unreachable!("a JSON object literal") };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(driver_url)
            .await
            .unwrap_or_else(|e| panic!("WebDriver session with the app at {driver_url}: {e}"));
        // A common hall monitor; the layout must fit it.
        client.set_window_rect(0, 0, 1366, 768).await.expect("size the window to 1366×768");
        Window { client, display, prefix }
    }

    pub(crate) async fn close(self) {
        self.client.close().await.expect("end the WebDriver session");
    }

    /// Types `text` as key strokes into the window, wherever focus is, as a keyboard-wedge
    /// scanner does.
    pub(crate) async fn type_keys(&self, text: &str) {
        let mut keys = KeyActions::new("scanner".to_owned());
        for c in text.chars() {
            keys = keys.then(KeyAction::Down { value: c }).then(KeyAction::Up { value: c });
        }
        bounded("key strokes", self.client.perform_actions(keys)).await.expect("send key strokes to the window");
    }

    /// Scans `payload` as the scanner gun would: characters, then Enter.
    pub(crate) async fn scan(&self, payload: &str) {
        self.type_keys(&format!("{payload}{ENTER}")).await;
    }

    /// Runs `script` (a function body) in the page and returns its JSON result.
    pub(crate) async fn js(&self, script: &str) -> Value {
        bounded("a script", self.client.execute(script, vec![]))
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Clicks the first element matching the CSS `selector`, as the mouse would; fails when there is none.
    pub(crate) async fn click(&self, selector: &str) {
        let clicked = self
            .js(&format!(
                r#"const e = document.querySelector('{selector}'); if (!e) return false; e.click(); return true;"#
            ))
            .await;
        assert_eq!(clicked, true, "nothing to click at {selector}");
    }

    /// The text of the first element with this `data-testid`, or `None` when there is none.
    pub(crate) async fn text_of(&self, testid: &str) -> Option<String> {
        let script =
            format!("const e = document.querySelector('[data-testid=\"{testid}\"]'); return e ? e.innerText : null;");
        self.js(&script).await.as_str().map(str::to_owned)
    }

    /// Polls until `check` returns something, or fails the test with `what` and a screenshot.
    pub(crate) async fn until<T, F, Fut>(&self, what: &str, check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        self.until_for(what, STEP_TIMEOUT, check).await
    }

    /// `until` with its own time limit, for what the window does by itself after a while (an idle clear).
    pub(crate) async fn until_for<T, F, Fut>(&self, what: &str, timeout: Duration, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(found) = check().await {
                return found;
            }
            if Instant::now() > deadline {
                self.screenshot("FAILED").await;
                let body = self.js("return document.body.innerText;").await;
                panic!("timed out waiting for {what}; the window shows:\n{}", body.as_str().unwrap_or_default());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until an element with this `data-testid` shows text containing `needle`.
    pub(crate) async fn until_text(&self, testid: &str, needle: &str) -> String {
        self.until(&format!("[{testid}] to contain \"{needle}\""), || async {
            self.text_of(testid).await.filter(|t| t.contains(needle))
        })
        .await
    }

    /// Waits until no element with this `data-testid` is in the DOM.
    pub(crate) async fn until_gone(&self, testid: &str) {
        self.until(&format!("[{testid}] to leave the page"), || async {
            self.text_of(testid).await.is_none().then_some(())
        })
        .await
    }

    /// Saves what the page shows (WebDriver) and the whole screen (Xvfb) under tests/out/window/.
    pub(crate) async fn screenshot(&self, name: &str) {
        // The DOM is ahead of the painted frame: wait for two frames so the picture shows it.
        let painted = bounded(
            "the wait for a painted frame",
            self.client.execute_async(
                "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
                vec![],
            ),
        )
        .await;
        if let Err(e) = painted {
            eprintln!("waiting for a painted frame before {name} failed: {e}");
        }
        let dir = out_dir();
        match bounded("a screenshot", self.client.screenshot()).await {
            Ok(png) => std::fs::write(dir.join(format!("{}-{name}.png", self.prefix)), png).expect("save screenshot"),
            Err(e) => eprintln!("WebDriver screenshot {name} failed: {e}"),
        }
        self.display.screenshot(&dir.join(format!("{}-{name}-screen.png", self.prefix)));
        self.audit(name).await;
    }

    /// axe-core on the page as it is now (`a11y.rs`): fails the test on a serious or critical finding.
    pub(crate) async fn audit(&self, name: &str) {
        let audit = a11y::audit();
        let answer = bounded("the axe audit", self.client.execute_async(&audit.script, vec![audit.rules.clone()]))
            .await
            .unwrap_or_else(|e| panic!("the axe audit at {name} failed: {e}"));
        let Some(findings) = answer["findings"].as_array() else {
            panic!("the axe audit at {name} failed in the page: {answer}");
        };
        let failing = audit.failing(&format!("{}-{name}", self.prefix), findings);
        assert!(
            failing.is_empty(),
            "accessibility (axe-core) at the window screenshot {}-{name}:\n{}",
            self.prefix,
            failing.join("\n")
        );
    }
}
