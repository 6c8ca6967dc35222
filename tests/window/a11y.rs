//! The accessibility check of every real-window screenshot: axe-core and the UI tests' own in-page
//! audit (`ui/test/a11y-in-page.js`, with the rules and exceptions of `ui/test/a11y-*.json`) run in
//! the WebKitGTK page through WebDriver, so the window is held to exactly what the UI tests hold
//! the page to in Chromium. A serious or critical finding fails the test.

use crate::harness::workspace_root;
use serde_json::Value;
use std::sync::OnceLock;

pub(crate) struct Audit {
    /// One asynchronous WebDriver script: loads axe-core and the in-page audit into the page when
    /// they are not there yet (the first screenshot of a page), then runs the audit with its
    /// argument, the rules, and answers `{findings}` or `{error}`.
    pub(crate) script: String,
    /// `a11y-rules.json`, handed to `__auditA11y`.
    pub(crate) rules: Value,
    exceptions: Vec<Value>,
}

fn read(relative: &str) -> String {
    let path = workspace_root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (axe-core comes with the UI's packages: `npm ci` in ui/, which scripts/test runs)",
            path.display()
        )
    })
}

fn json(relative: &str) -> Value {
    serde_json::from_str(&read(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"))
}

pub(crate) fn audit() -> &'static Audit {
    static AUDIT: OnceLock<Audit> = OnceLock::new();
    AUDIT.get_or_init(|| Audit {
        script: format!(
            "const done = arguments[arguments.length - 1];\n\
             if (typeof window.__auditA11y !== 'function') {{\n{}\n;\n{}\n}}\n\
             window.__auditA11y(arguments[0]).then((f) => done({{ findings: f }}), (e) => done({{ error: String(e) }}));",
            read("ui/node_modules/axe-core/axe.min.js"),
            read("ui/test/a11y-in-page.js")
        ),
        rules: json("ui/test/a11y-rules.json"),
        exceptions: json("ui/test/a11y-exceptions.json").as_array().cloned().unwrap_or_default(),
    })
}

impl Audit {
    fn excepted(&self, finding: &Value) -> bool {
        self.exceptions.iter().any(|e| {
            e["rule"] == finding["rule"]
                && e["target"].as_str().is_none_or(|t| finding["target"].as_str().unwrap_or_default().contains(t))
        })
    }

    /// The findings that fail a test, one paragraph each (rule, element, fix); the others printed.
    pub(crate) fn failing(&self, screenshot: &str, findings: &[Value]) -> Vec<String> {
        let failing_impacts = self.rules["failingImpacts"].as_array().cloned().unwrap_or_default();
        let mut failing = Vec::new();
        for f in findings.iter().filter(|f| !self.excepted(f)) {
            let text = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            if failing_impacts.contains(&f["impact"]) {
                failing.push(format!(
                    "- {} {}: {}\n  element: {}\n  {}\n  fix: {}",
                    text("impact"),
                    text("rule"),
                    text("help"),
                    text("target"),
                    text("html"),
                    text("fix").replace('\n', "\n  ")
                ));
            } else {
                eprintln!(
                    "axe {screenshot}: {} {} at {} ({})",
                    text("impact"),
                    text("rule"),
                    text("target"),
                    text("help")
                );
            }
        }
        failing
    }
}
