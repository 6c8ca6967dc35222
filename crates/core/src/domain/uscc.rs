//! 统一社会信用代码 (USCC, GB 32100-2015): the enterprise's identity, checked before any call.

use crate::domain::code::fold_scanner_noise;
use crate::error::{Error, ErrorCode};
use std::fmt;

/// The 31 characters a USCC may use, in the order of their values (no I, O, Z, S, V).
const ALPHABET: &str = "0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weights of the first 17 characters: 3^i mod 31.
const WEIGHTS: [u32; 17] = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28];

/// A USCC whose check character is right.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uscc(String);

impl Uscc {
    /// Parses a USCC, folding full-width input and lower case, and verifying the check character.
    pub fn parse(input: &str) -> Result<Self, Error> {
        let text = fold_scanner_noise(input).trim().to_ascii_uppercase();
        let invalid = |fact: String| Error::with_fact(ErrorCode::ConfigInvalid, fact).detail(format!("uscc {text:?}"));
        if text.chars().count() != 18 {
            return Err(invalid(format!("统一社会信用代码“{text}”不是 18 位。")));
        }
        if let Some(bad) = text.chars().find(|c| value_of(*c).is_none()) {
            return Err(invalid(format!("统一社会信用代码“{text}”含有不允许的字符“{bad}”。")));
        }
        let expected = check_char(&text[..17]).expect("17 valid characters");
        if !text.ends_with(expected) {
            return Err(invalid(format!("统一社会信用代码“{text}”的校验位不对。")));
        }
        Ok(Uscc(text))
    }

    /// Parses what a clerk typed or scanned for a lookup by holder (依职能用证): the caller has
    /// seen [`typed_candidate`] say it is meant as a USCC. Folds case, full-width characters and
    /// spaces; a mistake is `USCC_INVALID` naming the position (a letter a USCC never uses and the
    /// digit it probably was, or the check character it should have).
    pub fn parse_entered(candidate: &str) -> Result<Self, Error> {
        let text = compact(candidate);
        let invalid = |fact: String| Error::with_fact(ErrorCode::UsccInvalid, fact).detail(format!("uscc {text:?}"));
        let count = text.chars().count();
        if count != 18 {
            return Err(invalid(format!("统一社会信用代码应为 18 位，输入的“{text}”是 {count} 位。")));
        }
        if let Some((i, bad)) = text.chars().enumerate().find(|(_, c)| value_of(*c).is_none()) {
            let hint = match likely_meant(bad) {
                Some(meant) => format!("，可能是“{meant}”"),
                None => String::new(),
            };
            return Err(invalid(format!(
                "第 {} 位“{bad}”不会出现在统一社会信用代码中（代码不用字母 I、O、S、V、Z）{hint}。",
                i + 1
            )));
        }
        let expected = check_char(&text[..17]).expect("17 valid characters");
        let given = text.chars().last().expect("18 characters");
        if given != expected {
            return Err(invalid(format!(
                "校验位（第 18 位）按前 17 位算应为“{expected}”，输入的是“{given}”。若第 18 位无误，则前 17 位中有输错的字符。"
            )));
        }
        Ok(Uscc(text))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The typed text without case, full-width forms, spaces or hyphens (how people write a USCC
/// off a business licence: `9144 0101 MA5C …`).
fn compact(input: &str) -> String {
    fold_scanner_noise(input)
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// The character a letter a USCC never uses was most likely meant to be.
fn likely_meant(c: char) -> Option<char> {
    match c {
        'O' => Some('0'),
        'I' => Some('1'),
        'Z' => Some('2'),
        'S' => Some('5'),
        _ => None,
    }
}

/// Whether typed or scanned text is meant as a USCC rather than a 粤商码: 15 to 20 letters and
/// digits (after folding case, spaces and full-width forms) that start as every USCC does — a
/// registration authority, an entity category and a six-digit division code (letters that look
/// like digits counted as digits, so a typo still reads as a USCC and gets its reason). A random
/// one-time code has this shape about once in two million.
pub fn typed_candidate(input: &str) -> Option<String> {
    let text = compact(input);
    let chars: Vec<char> = text.chars().collect();
    if !(15..=20).contains(&chars.len()) || !chars.iter().all(char::is_ascii_alphanumeric) {
        return None;
    }
    let digitish = |c: char| c.is_ascii_digit() || likely_meant(c).is_some();
    let authority = matches!(chars[0], '1'..='9' | 'A'..='G' | 'Y');
    let category = chars[1].is_ascii_digit();
    (authority && category && chars[2..8].iter().all(|c| digitish(*c))).then_some(text)
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn value_of(c: char) -> Option<u32> {
    ALPHABET.find(c).map(|i| i as u32)
}

/// The check character for the first 17 characters, or `None` if they are not 17 valid ones.
///
/// Used to validate, and by the simulator to make sample USCCs.
pub fn check_char(first17: &str) -> Option<char> {
    if first17.chars().count() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, w) in first17.chars().zip(WEIGHTS) {
        sum += value_of(c)? * w;
    }
    let check = (31 - sum % 31) % 31;
    ALPHABET.chars().nth(check as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, valid: bool) {
        assert_eq!(Uscc::parse(input).is_ok(), valid, "{input}");
    }

    #[test]
    fn real_public_uscc_examples_validate() {
        // The example of GB 32100-2015 itself, and well-known companies' published codes.
        check("91350100M000100Y43", true);
        check("91110000600037341L", true);
        check("914403001922038216", true);
        check("91440300708461136T", true);
        // Scanner and typing noise.
        check(" 91440300708461136t\r\n", true);
        check("９１４４０３００７０８４６１１３６Ｔ", true);
    }

    #[test]
    fn wrong_codes_are_rejected() {
        check("91440300708461136A", false); // wrong check character
        check("91440300708461136", false); // 17 characters
        check("9144030070846113600", false); // 19 characters
        check("91440300708461I36T", false); // I is not allowed
        check("", false);
    }

    fn entered(input: &str) -> Result<Uscc, Error> {
        let candidate = typed_candidate(input).unwrap_or_else(|| panic!("{input} should read as a USCC"));
        Uscc::parse_entered(&candidate)
    }

    #[test]
    fn typing_noise_is_folded() {
        for typed in [
            "91440300708461136t",
            "9144 0300 7084 6113 6T",
            "９１４４０３００７０８４６１１３６Ｔ",
            "914403-00708461136T",
        ] {
            assert_eq!(entered(typed).unwrap().as_str(), "91440300708461136T", "{typed}");
        }
    }

    #[test]
    fn mistakes_name_their_position() {
        let message = |input| entered(input).unwrap_err().message;
        let wrong_check = entered("91440300708461136A").unwrap_err();
        assert_eq!(wrong_check.code, ErrorCode::UsccInvalid);
        assert!(wrong_check.message.contains("应为“T”，输入的是“A”"), "{}", wrong_check.message);
        assert!(message("9144O300708461136T").contains("第 5 位“O”"), "letter O");
        assert!(message("9144O300708461136T").contains("可能是“0”"));
        assert!(message("91440300708461V36T").contains("第 15 位“V”"));
        assert!(message("9144030070846113T").contains("17 位"));
    }

    #[test]
    fn one_time_codes_are_not_taken_for_a_uscc() {
        for code in [
            "Yx3kP9qLm2Rt8Vw4Zs6A",
            "abcdefghijklmnop",
            "AB12cd34EF56gh78",
            "ysm_0123456789abcdef",
            "https://x/ysm/91440300708461136T",
        ] {
            assert_eq!(typed_candidate(code), None, "{code}");
        }
    }

    #[test]
    fn check_char_makes_codes_that_validate() {
        let c = check_char("91440101MA5SAMPLE").unwrap_or('?');
        assert_eq!(c, '?', "S is not a USCC character");
        let c = check_char("91440101MA5CXYW12").unwrap();
        check(&format!("91440101MA5CXYW12{c}"), true);
    }
}
