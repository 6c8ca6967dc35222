//! The scanned 粤商码: parsing what a scanner gun or a clerk typed into a one-time code (contract §3).

use crate::error::{Error, ErrorCode};
use std::fmt;

/// Shortest and longest code the contract allows.
const CODE_MIN: usize = 16;
const CODE_MAX: usize = 64;
/// Longest input looked at at all: a scan longer than this is not a 粤商码, whatever it holds.
const INPUT_MAX: usize = 2048;

/// A one-time 粤商码 code, checked to be 16–64 characters of `A-Z a-z 0-9 - _`.
///
/// Its `Debug` shows only the first characters: the code is a bearer credential for its
/// 120-second life and has no place in a log.
#[derive(Clone, PartialEq, Eq)]
pub struct EnterpriseCode(String);

impl EnterpriseCode {
    /// Parses a scan: a bare code or a URL carrying it (query `c` / `code`, or the segment after `/ysm/`).
    ///
    /// Scanner noise is folded away first (surrounding whitespace, trailing CR/LF/Tab,
    /// full-width ASCII typed through an active Chinese input method). Anything else is
    /// rejected here, so a bad scan never reaches the network.
    pub fn parse(scanned: &str) -> Result<Self, Error> {
        if scanned.chars().count() > INPUT_MAX {
            return Err(invalid("扫到的内容过长。"));
        }
        let folded = fold_scanner_noise(scanned);
        let text = folded.trim();
        if text.is_empty() {
            return Err(invalid("没有扫到内容。"));
        }
        let candidate = if looks_like_url(text) { code_from_url(text)? } else { text.to_owned() };
        Self::check(&candidate)?;
        Ok(EnterpriseCode(candidate))
    }

    fn check(code: &str) -> Result<(), Error> {
        if let Some(bad) = code.chars().find(|c| !is_code_char(*c)) {
            return Err(invalid(format!("扫到的内容含有粤商码中不会出现的字符“{}”。", printable(bad))));
        }
        let len = code.len();
        if len < CODE_MIN {
            return Err(invalid(format!("扫到的内容只有 {len} 个字符，粤商码至少 {CODE_MIN} 个。")));
        }
        if len > CODE_MAX {
            return Err(invalid(format!("扫到的内容有 {len} 个字符，粤商码最多 {CODE_MAX} 个。")));
        }
        Ok(())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A short form safe for logs and the audit trail: the first four characters and the length.
    pub fn hint(&self) -> String {
        format!("{}…({})", &self.0[..4], self.0.len())
    }
}

impl fmt::Debug for EnterpriseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EnterpriseCode({})", self.hint())
    }
}

fn invalid(fact: impl AsRef<str>) -> Error {
    Error::with_fact(ErrorCode::CodeInvalid, fact)
}

fn is_code_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// Shows a rejected character so a clerk can read it, naming invisible ones.
fn printable(c: char) -> String {
    match c {
        ' ' => "空格".to_owned(),
        c if c.is_control() || c.is_whitespace() => format!("U+{:04X}", c as u32),
        c => c.to_string(),
    }
}

/// Undoes what a Chinese input method does to a keyboard-wedge scanner's keystrokes.
///
/// Full-width forms (U+FF01–U+FF5E) and the ideographic space fold to ASCII; the Chinese
/// full stop `。` is what the IME types for `.`, and `——` is what it types for `_`.
pub fn fold_scanner_noise(input: &str) -> String {
    let mut out = String::with_capacity(input.len());
    let mut chars = input.chars().peekable();
    while let Some(c) = chars.next() {
        let folded = match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            '\u{3002}' => '.',
            '\u{2014}' if chars.peek() == Some(&'\u{2014}') => {
                chars.next();
                '_'
            }
            c => c,
        };
        out.push(folded);
    }
    out
}

fn looks_like_url(text: &str) -> bool {
    let lower = text.get(..8).unwrap_or(text).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

fn code_from_url(text: &str) -> Result<String, Error> {
    let url = url::Url::parse(text).map_err(|_| invalid("扫到的网址格式不对。"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("扫到的网址格式不对。"));
    }
    let from_query = url.query_pairs().find(|(k, _)| k == "c" || k == "code").map(|(_, v)| v.into_owned());
    if let Some(code) = from_query {
        return Ok(code);
    }
    let segments: Vec<&str> = url.path_segments().map(|s| s.filter(|p| !p.is_empty()).collect()).unwrap_or_default();
    match segments.as_slice() {
        [.., "ysm", code] => Ok((*code).to_owned()),
        _ => Err(invalid("扫到的网址里没有粤商码。")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CODE: &str = "AbCdEf0123456789_-xyz";

    fn check(input: &str, expected: Result<&str, &str>) {
        match (EnterpriseCode::parse(input), expected) {
            (Ok(code), Ok(want)) => assert_eq!(code.as_str(), want, "input {input:?}"),
            (Err(err), Err(fact)) => {
                assert_eq!(err.code, ErrorCode::CodeInvalid, "input {input:?}");
                assert!(err.message.contains(fact), "input {input:?}: message {:?} lacks {fact:?}", err.message);
            }
            (got, want) => panic!("input {input:?}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn accepts_bare_codes_and_urls() {
        check(CODE, Ok(CODE));
        check(&format!("https://yueshangma.sandbox.invalid/ysm/{CODE}"), Ok(CODE));
        check(&format!("HTTPS://x.example/a/b/ysm/{CODE}/"), Ok(CODE));
        check(&format!("http://x.example/scan?c={CODE}"), Ok(CODE));
        check(&format!("https://x.example/scan?from=app&code={CODE}#top"), Ok(CODE));
        check(&"a".repeat(16), Ok(&"a".repeat(16)));
        check(&"Z".repeat(64), Ok(&"Z".repeat(64)));
    }

    #[test]
    fn tolerates_scanner_noise() {
        check(&format!("  {CODE}\r\n"), Ok(CODE));
        check(&format!("{CODE}\t"), Ok(CODE));
        check(&format!("\u{3000}{CODE}\n"), Ok(CODE));
        // The same keystrokes typed while a Chinese input method is active.
        let full_width: String = CODE
            .chars()
            .map(|c| if c.is_ascii_graphic() { char::from_u32(c as u32 + 0xFEE0).unwrap() } else { c })
            .collect();
        check(&full_width, Ok(CODE));
        check(&format!("https：／／x。example／ysm／{CODE}"), Ok(CODE));
        check("abcdefgh——ijklmnop", Ok("abcdefgh_ijklmnop"));
    }

    #[test]
    fn rejects_what_is_not_a_code() {
        check("", Err("没有扫到内容"));
        check(" \r\n", Err("没有扫到内容"));
        check("short", Err("至少 16 个"));
        check(&"a".repeat(65), Err("最多 64 个"));
        check("abcdefghijklmnop qrs", Err("空格"));
        check("abcdefghijklmnop\0", Err("U+0000"));
        check("粤商码粤商码粤商码粤商码粤商码粤商码", Err("粤"));
        check("abcdefghijklmnop;DROP TABLE", Err(";"));
        check("https://x.example/other/abcdefghijklmnopq", Err("网址里没有粤商码"));
        check("https://x.example/scan?c=bad%20code%20here!", Err("空格"));
        check("http://[broken", Err("网址格式不对"));
        check("javascript:alert(1)//abcdefghijkl", Err(":"));
        check(&"A".repeat(5000), Err("过长"));
    }

    #[test]
    fn debug_hides_the_code() {
        let code = EnterpriseCode::parse(CODE).unwrap();
        assert_eq!(format!("{code:?}"), "EnterpriseCode(AbCd…(21))");
    }
}
