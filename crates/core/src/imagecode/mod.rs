//! The 粤商码 read from an image (a screenshot, or a photo of a phone screen): which QR codes it holds, and which one is the 粤商码.
//!
//! `load` turns the file's bytes into grey pixels, refusing what is not a picture or too big before
//! decoding it; `grey` makes smaller views and neighbourhood averages; `detect` runs the QR reader over
//! the views, cheapest and likeliest first. What is read is then parsed like a scanner gun's scan, so an
//! image never brings a code the scanner gun would not.

mod detect;
mod grey;
mod load;

use crate::domain::{EnterpriseCode, Uscc};
use crate::error::{Error, ErrorCode};
use std::fmt;

/// The largest file read at all (the advice of `IMAGE_UNREADABLE` names it): a 50-megapixel phone photo
/// is about 15 MB as a JPEG, so anything bigger is not a picture of a 粤商码 a person sent.
pub const MAX_FILE_BYTES: usize = 40 * 1024 * 1024;

/// What was read from an image: the text of the QR code that is a 粤商码, and how many QR codes the
/// image held (a screenshot of a chat may show several).
///
/// Its `Debug` shows only the text's first characters and length: the code is a bearer credential.
#[derive(Clone, PartialEq, Eq)]
pub struct ImageCode {
    pub text: String,
    pub codes_found: usize,
}

impl fmt::Debug for ImageCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head: String = self.text.chars().take(4).collect();
        write!(f, "ImageCode {{ text: {head}…({}), codes_found: {} }}", self.text.chars().count(), self.codes_found)
    }
}

/// Reads the 粤商码 out of an image file's bytes (PNG, JPEG, BMP, GIF, WebP).
///
/// The first QR code that parses as a 粤商码 (a bare code or a URL carrying one) or as a USCC is taken.
/// Codes found but none a 粤商码: `CODE_INVALID`, as for a scanner gun's scan of a wrong code. No code
/// at all: `IMAGE_NO_CODE`. Not an image, damaged or too big: `IMAGE_UNREADABLE`, saying which.
pub fn read_code(bytes: &[u8]) -> crate::Result<ImageCode> {
    pick(find_codes(bytes)?)
}

/// Every QR code text found in the image, in the order found, each once.
///
/// The reader keeps trying harder views of the image (halved, larger, inverted, other thresholds) until
/// one of the texts is a 粤商码 or every view was tried: at most ten passes over views of at most 3200 px,
/// each with capped candidates, so the work is bounded whatever the picture holds.
pub fn find_codes(bytes: &[u8]) -> crate::Result<Vec<String>> {
    let grey = load::grey(bytes)?;
    Ok(detect::codes(&grey, is_yueshang_code))
}

/// The 粤商码 among the codes found, or why there is none.
fn pick(codes: Vec<String>) -> crate::Result<ImageCode> {
    let codes_found = codes.len();
    if codes_found == 0 {
        return Err(Error::new(ErrorCode::ImageNoCode));
    }
    match codes.into_iter().find(|text| is_yueshang_code(text)) {
        Some(text) => Ok(ImageCode { text, codes_found }),
        None => Err(Error::with_fact(ErrorCode::CodeInvalid, "图片中的二维码不是粤商码。")),
    }
}

/// Whether a scanner gun's scan of this text would be taken: the same parsers decide, so the two ways
/// in never disagree.
fn is_yueshang_code(text: &str) -> bool {
    EnterpriseCode::parse(text).is_ok() || Uscc::parse(text).is_ok()
}

#[cfg(test)]
mod tests;
