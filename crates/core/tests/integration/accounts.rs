//! Accounts and the shift: sign-in with lockout on a fixed clock, roles, an account disabled while
//! signed in, what a supervisor may change, the operator every event and gateway call names, and
//! a chain that still verifies after all of it.

use std::sync::Arc;
use yueshang_core::ErrorCode;
use yueshang_core::accounts::{Accounts, NewAccount, Role};
use yueshang_core::cache::Cache;
use yueshang_core::clock::{FixedClock, SequenceNonces};
use yueshang_core::station::Station;

struct Setup {
    clock: Arc<FixedClock>,
    station: Arc<Station>,
    accounts: Accounts,
    _dir: tempfile::TempDir,
    file: std::path::PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cache.sqlite3");
    let clock = Arc::new(FixedClock::china(2026, 11, 30, 8, 30, 0));
    // No request is made: the gateway's address only has to parse.
    let settings = yueshang_gateway_sim::sandbox_settings(&"http://127.0.0.1:9/".parse().unwrap());
    let cache = Arc::new(Cache::open(&file, &crate::keys_beside(&file)).unwrap());
    let station =
        Arc::new(Station::new(settings, cache, clock.clone(), Arc::new(SequenceNonces::new("salt"))).unwrap());
    let accounts = Accounts::new(station.clone());
    Setup { clock, station, accounts, _dir: dir, file }
}

const CLERK: NewAccount<'static> =
    NewAccount { account: "clerk01", name: "李晓红", role: Role::Clerk, password: "hall-clerk-01" };
const CHIEF: NewAccount<'static> =
    NewAccount { account: "chief01", name: "陈志强", role: Role::Supervisor, password: "hall-chief-01" };

fn kinds(station: &Station) -> Vec<(String, String, Option<String>)> {
    let events = station.cache().audit_events().unwrap();
    events.into_iter().map(|e| (e.kind, e.operator_account, e.error_code)).collect()
}

#[test]
fn a_counter_without_accounts_acts_as_its_configured_operator() {
    let s = setup();
    assert!(!s.accounts.required().unwrap());
    assert_eq!(s.accounts.acting().unwrap(), None);
    assert_eq!(s.station.operator(), s.station.settings().operator);
    assert_eq!(s.station.audit_context().operator_account, s.station.settings().operator.account);
    let refused = s.accounts.supervisor().unwrap_err();
    assert_eq!(refused.code, ErrorCode::NotPermitted);
    assert!(refused.message.contains("yueshang accounts add"), "{}", refused.message);
}

#[test]
fn the_signed_in_person_is_the_operator_of_events_and_gateway_calls() {
    let s = setup();
    s.accounts.add(&CLERK).unwrap();
    assert!(s.accounts.required().unwrap());
    assert_eq!(s.accounts.acting().unwrap_err().code, ErrorCode::SignInRequired);

    let person = s.accounts.sign_in(" clerk01 ", "hall-clerk-01").unwrap();
    assert_eq!((person.account.as_str(), person.role), ("clerk01", Role::Clerk));
    let operator = s.station.operator();
    assert_eq!((operator.account.as_str(), operator.name.as_str()), ("clerk01", "李晓红"));
    assert_eq!(operator.role, "窗口受理人员");
    // Division and service org stay the configuration's.
    assert_eq!(operator.service_org_code, s.station.settings().operator.service_org_code);
    assert_eq!(s.station.audit_context().operator_account, "clerk01");
    assert_eq!(s.accounts.acting().unwrap().unwrap().account, "clerk01");
    assert_eq!(s.accounts.supervisor().unwrap_err().code, ErrorCode::NotPermitted);

    s.accounts.sign_out().unwrap();
    assert_eq!(s.accounts.acting().unwrap_err().code, ErrorCode::SignInRequired);
    let events = kinds(&s.station);
    let tail: Vec<_> = events.iter().rev().take(2).map(|(k, a, _)| (k.as_str(), a.as_str())).collect();
    assert_eq!(tail, [("sign_out", "clerk01"), ("sign_in", "clerk01")]);
    s.station.cache().verify_chain().unwrap();
}

#[test]
fn five_wrong_passwords_lock_the_account_for_five_minutes() {
    let s = setup();
    s.accounts.add(&CLERK).unwrap();
    for left in (1..=4).rev() {
        let err = s.accounts.sign_in("clerk01", "wrong-password").unwrap_err();
        assert_eq!(err.code, ErrorCode::SignInFailed);
        assert!(err.message.starts_with(&format!("还可再试 {left} 次。")), "{}", err.message);
    }
    let locked = s.accounts.sign_in("clerk01", "wrong-password").unwrap_err();
    assert_eq!(locked.code, ErrorCode::AccountLocked);
    assert!(locked.message.starts_with("请在 08:35 后再试。"), "{}", locked.message);

    // The right password does not open a locked account, and says the same.
    s.clock.advance_secs(4 * 60 + 59);
    assert_eq!(s.accounts.sign_in("clerk01", "hall-clerk-01").unwrap_err().code, ErrorCode::AccountLocked);
    assert!(s.accounts.find("clerk01").unwrap().locked_at(s.station.clock().now_china()).is_some());

    // Once it ran out, the count starts again: one wrong password does not lock it anew.
    s.clock.advance_secs(2);
    assert_eq!(s.accounts.sign_in("clerk01", "wrong-password").unwrap_err().code, ErrorCode::SignInFailed);
    s.accounts.sign_in("clerk01", "hall-clerk-01").unwrap();

    let failures: Vec<_> = kinds(&s.station)
        .into_iter()
        .filter(|(k, _, _)| k != "account_change")
        .map(|(k, _, code)| format!("{k}:{}", code.unwrap_or_default()))
        .collect();
    let mut expected = vec!["sign_in_failed:SIGN_IN_FAILED"; 4];
    expected.extend(["account_locked:ACCOUNT_LOCKED", "sign_in_failed:ACCOUNT_LOCKED"]);
    expected.extend(["sign_in_failed:SIGN_IN_FAILED", "sign_in:"]);
    assert_eq!(failures, expected);
    s.station.cache().verify_chain().unwrap();
}

#[test]
fn an_unknown_account_looks_like_a_wrong_password_and_names_nobody() {
    let s = setup();
    s.accounts.add(&CLERK).unwrap();
    let err = s.accounts.sign_in("hall-clerk-01", "clerk01").unwrap_err();
    assert_eq!(err.code, ErrorCode::SignInFailed);
    // No count of tries: that would tell an existing account apart.
    assert_eq!(err.message, ErrorCode::SignInFailed.advice());
    let last = s.station.cache().audit_events().unwrap().pop().unwrap();
    assert_eq!((last.kind.as_str(), last.operator_account.as_str()), ("sign_in_failed", "-"));
    // What was typed into the account field (here: a password) is not written anywhere.
    assert!(!format!("{last:?}").contains("hall-clerk-01"));
}

#[test]
fn an_account_disabled_while_signed_in_ends_the_shift_on_the_record() {
    let s = setup();
    s.accounts.add(&CLERK).unwrap();
    s.accounts.add(&CHIEF).unwrap();
    s.accounts.sign_in("clerk01", "hall-clerk-01").unwrap();

    // A supervisor at another PC (here: IT at the command line) disables it.
    let other = Accounts::new(s.station.clone());
    let disabled = rusqlite::Connection::open(&s.file).unwrap();
    disabled.execute("UPDATE accounts SET disabled = 1 WHERE account = 'clerk01'", []).unwrap();

    let err = other.acting().unwrap_err();
    assert_eq!(err.code, ErrorCode::SignInRequired);
    assert!(err.message.starts_with("账号已被停用。"), "{}", err.message);
    assert_eq!(s.accounts.current(), None);
    let last = s.station.cache().audit_events().unwrap().pop().unwrap();
    assert_eq!((last.kind.as_str(), last.detail.as_deref()), ("sign_out", Some("账号已被停用")));
    // Nothing else changed: the account still exists, disabled, and says so at sign-in.
    assert_eq!(s.accounts.sign_in("clerk01", "hall-clerk-01").unwrap_err().code, ErrorCode::AccountDisabled);
    // A wrong password on a disabled account does not reveal that it is disabled.
    assert_eq!(s.accounts.sign_in("clerk01", "not-the-password").unwrap_err().code, ErrorCode::SignInFailed);

    // Deleted outright while signed in: the same, with its own reason.
    s.accounts.sign_in("chief01", "hall-chief-01").unwrap();
    disabled.execute("DELETE FROM accounts WHERE account = 'chief01'", []).unwrap();
    let err = s.accounts.supervisor().unwrap_err();
    assert_eq!(err.code, ErrorCode::SignInRequired);
    assert!(err.message.starts_with("账号已被删除。"), "{}", err.message);
    s.station.cache().verify_chain().unwrap();
}

#[test]
fn a_supervisor_manages_accounts_and_never_sees_a_password() {
    let s = setup();
    s.accounts.add(&CHIEF).unwrap();
    s.accounts.sign_in("chief01", "hall-chief-01").unwrap();
    assert_eq!(s.accounts.supervisor().unwrap().account, "chief01");
    let added = s.accounts.add(&CLERK).unwrap();
    assert_eq!((added.role, added.disabled), (Role::Clerk, false));
    assert_eq!(s.accounts.add(&CLERK).unwrap_err().code, ErrorCode::AccountExists);

    // Lock the clerk out, then a reset both sets the new password and unlocks.
    for _ in 0..5 {
        s.accounts.sign_in("clerk01", "guess-guess").unwrap_err();
    }
    s.accounts.sign_in("chief01", "hall-chief-01").unwrap();
    s.accounts.reset_password("clerk01", "new-clerk-pass").unwrap();
    assert_eq!(s.accounts.find("clerk01").unwrap().locked_until, None);

    assert_eq!(s.accounts.set_disabled("chief01", true).unwrap_err().code, ErrorCode::NotPermitted);
    assert!(s.accounts.set_disabled("clerk01", true).unwrap().disabled);
    assert!(!s.accounts.set_disabled("clerk01", false).unwrap().disabled);
    assert_eq!(s.accounts.set_disabled("nobody", true).unwrap_err().code, ErrorCode::AccountNotFound);
    assert_eq!(s.accounts.reset_password("nobody", "long-enough").unwrap_err().code, ErrorCode::AccountNotFound);

    let list = s.accounts.list().unwrap();
    assert_eq!(list.iter().map(|a| a.account.as_str()).collect::<Vec<_>>(), ["chief01", "clerk01"]);
    s.accounts.sign_in("clerk01", "new-clerk-pass").unwrap();

    // What is stored is an Argon2id hash; no password is in the database or the audit trail.
    let db = rusqlite::Connection::open(&s.file).unwrap();
    let hash: String =
        db.query_row("SELECT password_hash FROM accounts WHERE account = 'clerk01'", [], |r| r.get(0)).unwrap();
    assert!(hash.starts_with("$argon2id$v=19$"), "{hash}");
    let trail = format!("{:?}", s.station.cache().audit_events().unwrap());
    for password in ["hall-chief-01", "hall-clerk-01", "new-clerk-pass", "guess-guess"] {
        assert!(!trail.contains(password), "{password} in the audit trail");
    }
    let changes: Vec<_> = s
        .station
        .cache()
        .audit_events()
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "account_change")
        .map(|e| e.detail.unwrap())
        .collect();
    assert_eq!(
        changes,
        [
            "新增账号 chief01（值班长）",
            "新增账号 clerk01（窗口人员）",
            "重置账号 clerk01 的密码",
            "停用账号 clerk01",
            "启用账号 clerk01"
        ]
    );
    s.station.cache().verify_chain().unwrap();
}

#[test]
fn bad_account_details_are_refused_with_what_to_change() {
    let s = setup();
    let cases = [
        (NewAccount { password: "short", ..CLERK }, "密码至少 8 位"),
        (NewAccount { account: "张三", ..CLERK }, "账号只能由字母"),
        (NewAccount { name: "  ", ..CLERK }, "姓名不能为空"),
        (NewAccount { password: "clerk01", account: "clerk01", ..CLERK }, "密码至少 8 位"),
        (NewAccount { password: "clerk0001", account: "clerk0001", ..CLERK }, "密码不能与账号相同"),
    ];
    for (new, says) in cases {
        let err = s.accounts.add(&new).unwrap_err();
        assert_eq!(err.code, ErrorCode::AccountInvalid);
        assert!(err.message.contains(says), "{} should say {says}", err.message);
    }
    assert!(!s.accounts.required().unwrap());
}

#[test]
fn sample_accounts_are_seeded_only_into_a_counter_without_any() {
    let s = setup();
    assert_eq!(s.accounts.seed(&[CLERK, CHIEF]).unwrap(), 2);
    assert_eq!(s.accounts.seed(&[NewAccount { account: "x1", ..CLERK }]).unwrap(), 0);
    assert_eq!(s.accounts.list().unwrap().len(), 2);
}
