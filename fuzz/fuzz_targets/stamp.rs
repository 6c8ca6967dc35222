//! Fuzzes the PDF stamper `print::stamp::stamp` on any file: the first byte picks the type (PDF,
//! JPEG, PNG), the rest is the file. It never panics and gives a PDF (an original PDF's bytes
//! untouched) or FILE_UNREADABLE (`yueshang_fuzz::stamp`). A panic the stamper itself catches
//! (it wraps the PDF parser in `catch_unwind`) is handled, not a crash: it is noted on stderr once
//! per place, as `handled panic`.
#![no_main]

use std::collections::HashSet;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{Mutex, Once};

/// The last panic's place and message (on any thread), kept by the hook until the input is done.
static LAST_PANIC: Mutex<Option<(String, String)>> = Mutex::new(None);

fn take_last_panic() -> Option<(String, String)> {
    LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()).take()
}

/// libfuzzer-sys's hook aborts at once, before the stamper's own `catch_unwind` could turn a
/// parser panic into FILE_UNREADABLE as it does in the counter; this hook only remembers it.
fn remember_panics() {
    panic::set_hook(Box::new(|info| {
        let place = info.location().map(|l| format!("{}:{}", l.file(), l.line())).unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        *LAST_PANIC.lock().unwrap_or_else(|e| e.into_inner()) = Some((place, message));
    }));
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    static HOOK: Once = Once::new();
    static SEEN: Mutex<Option<HashSet<String>>> = Mutex::new(None);
    HOOK.call_once(remember_panics);
    let _ = yueshang_fuzz::stamp_font();
    take_last_panic();
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| yueshang_fuzz::stamp(data)));
    let last = take_last_panic();
    match (outcome, last) {
        (Ok(_), None) => {}
        (Ok(_), Some((place, message))) => {
            let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
            if seen.get_or_insert_with(HashSet::new).insert(place.clone()) {
                eprintln!("handled panic (the stamper caught it: FILE_UNREADABLE) at {place}: {message}");
            }
        }
        (Err(_), last) => {
            let (place, message) = last.unwrap_or_default();
            eprintln!("panicked at {place}:\n{message}");
            std::process::abort();
        }
    }
});
