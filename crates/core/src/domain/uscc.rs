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

    pub fn as_str(&self) -> &str {
        &self.0
    }
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

    #[test]
    fn check_char_makes_codes_that_validate() {
        let c = check_char("91440101MA5SAMPLE").unwrap_or('?');
        assert_eq!(c, '?', "S is not a USCC character");
        let c = check_char("91440101MA5CXYW12").unwrap();
        check(&format!("91440101MA5CXYW12{c}"), true);
    }
}
