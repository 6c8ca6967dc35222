//! 依职能用证 in the real window: a USCC typed into 手工输入 opens the ground picker, the lookup
//! brings the cards with the ground on the enterprise card, and the ground is in the audit trail.

use crate::page::{ENTER, F2, F8, Window};
use crate::{cards, sample};
use std::path::Path;
use yueshang_core::cache::Cache;
use yueshang_core::keystore::KeyStore;

/// Looks `uscc` up as a clerk would (lower case, in groups, through 手工输入) on the second
/// configured ground, and waits for every card; leaves the customer on screen.
pub(crate) async fn lookup_by_duty(window: &Window<'_>, uscc: &str) {
    let enterprise = sample(uscc);
    window.type_keys(&F2.to_string()).await;
    window
        .until("the manual field focused", || async {
            (window.js("return document.activeElement && document.activeElement.id;").await == "manual-input")
                .then_some(())
        })
        .await;
    let typed = format!("{} {}", &uscc[..8], uscc[8..].to_lowercase());
    window.type_keys(&format!("{typed}{ENTER}")).await;
    window.until_text("lookup-dialog", "法定依据").await;
    let shown = window.text_of("lookup-uscc").await.unwrap_or_default().replace(' ', "");
    assert_eq!(shown, uscc, "the dialog shows the USCC folded");
    window.screenshot("10-lookup-ground").await;

    window.type_keys(&format!("2{ENTER}")).await;
    window.until_gone("lookup-dialog").await;
    window.until_text("enterprise-ground", "企业现场书面授权").await;
    window.until_text("enterprise-card", &enterprise.name).await;
    window
        .until("every looked-up card settled", || async {
            let cards = cards(window).await;
            (cards.len() == enterprise.licenses.len() && cards.iter().all(|c| c["state"] != "loading")).then_some(())
        })
        .await;
    window.screenshot("11-lookup-result").await;
    window.type_keys(&F8.to_string()).await;
    window.until_gone("enterprise-card").await;
}

/// The counter's audit trail holds the lookup, asked and answered, each with its ground.
pub(crate) fn expect_the_ground_on_record(config: &Path, data: &Path, uscc: &str) {
    let keys = KeyStore::for_config(Some(config)).expect("the counter's storage key");
    let cache = Cache::open(&data.join("cache.sqlite3"), &keys).expect("the counter's cache");
    let lookups: Vec<_> = cache
        .audit_events()
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "lookup" && e.uscc.as_deref() == Some(uscc))
        .collect();
    let outcomes: Vec<&str> = lookups.iter().map(|e| e.outcome.as_str()).collect();
    assert_eq!(outcomes, ["info", "ok"], "{lookups:?}");
    assert!(lookups.iter().all(|e| e.detail.as_deref().unwrap_or_default().starts_with("依据：企业现场书面授权")));
    assert!(lookups.iter().all(|e| e.operator_account == "e2e_clerk"));
}
