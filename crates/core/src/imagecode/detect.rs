//! The QR reader run over views of the image, cheapest and likeliest first, until a 粤商码 is read.
//!
//! The reader is rxing's port of zxing-cpp's QR detector and decoder, driven step by step here
//! (finder patterns → plausible triples → sampled grid → decoded text) rather than through its
//! `QrReader`, because that one is unbounded on a hostile picture: it keeps every finder pattern it
//! meets, compares each new one with all before it, and samples every triple. A picture tiled with
//! thousands of finder-pattern look-alikes took it minutes; here the patterns and the triples tried
//! are capped, far above what a photo of one or two codes holds.

use super::grey::Grey;
use rxing::common::cpp_essentials::{
    ConcentricPattern, FindLeftGuardBy, FixedPattern, GetPatternRowTP, IsPattern, LocateConcentricPattern, PatternRow,
    PatternView,
};
use rxing::common::{BitMatrix, DetectorRXingResult, GlobalHistogramBinarizer, HybridBinarizer};
use rxing::qrcode::cpp_port::decoder::Decode;
use rxing::qrcode::cpp_port::detector::{GenerateFinderPatternSets, SampleQR};
use rxing::{Binarizer, Luma8Source};
use std::borrow::Cow;
use std::collections::HashSet;
use std::panic::{self, AssertUnwindSafe};

/// The long side of the first view: a screenshot's code stays large, and a 12-megapixel photo's code at
/// a tenth of its width still has 3–4 pixels a module, while noise and moiré average out and the reader
/// runs on a ninth of the pixels.
const WORKING_SIDE: u32 = 1600;
/// A larger view for a small code in a big photo; capped so a 50-megapixel photo stays bounded.
const LARGE_SIDE: u32 = 3200;
/// The smallest QR code is 21 modules wide: a smaller view cannot hold one.
const MIN_SIDE: u32 = 21;
/// Finder patterns kept in one view: each code has three, a cluttered photo adds a few dozen.
const MAX_FINDER_PATTERNS: usize = 300;
/// Triples of finder patterns sampled as a code in one view, the most plausible first.
const MAX_TRIPLES: usize = 300;
/// Rows looked along, one in three (zxing's "try harder"): a finder pattern's centre is 3 modules tall,
/// so even a code of one pixel a module is crossed.
const ROW_STEP: u32 = 3;

/// How grey becomes black and white.
#[derive(Clone, Copy)]
enum Threshold {
    /// zxing's HybridBinarizer: each 8×8 block against its 5×5-block neighbourhood. Fast and right
    /// for most pictures, but it takes a block whose levels differ by 24 or less for background, so
    /// a washed-out code (a dim screen, glare over all of it) falls apart.
    Local,
    /// Darker than the average of a wide square around it: reads codes of low contrast.
    Mean,
    /// One threshold from the histogram: a last try for an evenly lit code.
    Global,
}

/// Every QR code text found in `grey`, in the order found, each once; stops as soon as one is `wanted`.
pub(super) fn codes(grey: &Grey, wanted: impl Fn(&str) -> bool) -> Vec<String> {
    let mut found = Found { texts: Vec::new(), seen: HashSet::new(), wanted: &wanted };
    let working_factor = grey.factor_for(WORKING_SIDE);
    let working = view(grey, working_factor);
    // Most screenshots and photos are read here, as they are or inverted (a dark-mode screen).
    if found.read(&working, Threshold::Local) {
        return found.texts;
    }
    // Half the working size: averaging four pixels into one halves noise, JPEG blocks and moiré, and
    // a code too grainy at the working size is often clean here (and it costs a quarter).
    let small = view(grey, 2 * working_factor);
    if found.read(&small, Threshold::Local) {
        return found.texts;
    }
    let large_factor = grey.factor_for(LARGE_SIDE);
    if large_factor != working_factor && found.read(&view(grey, large_factor), Threshold::Local) {
        return found.texts;
    }
    if found.read(&working, Threshold::Mean) {
        return found.texts;
    }
    found.read(&small, Threshold::Global);
    found.texts
}

fn view(grey: &Grey, factor: u32) -> Cow<'_, Grey> {
    if factor <= 1 { Cow::Borrowed(grey) } else { Cow::Owned(grey.shrunk(factor)) }
}

/// What the views gave so far.
struct Found<'a> {
    texts: Vec<String>,
    seen: HashSet<String>,
    wanted: &'a dyn Fn(&str) -> bool,
}

impl Found<'_> {
    /// Reads one view as it is and, failing a wanted code, inverted (light modules on dark); true
    /// once a wanted code is among the texts.
    fn read(&mut self, grey: &Grey, threshold: Threshold) -> bool {
        if grey.width < MIN_SIDE || grey.height < MIN_SIDE {
            return false;
        }
        let Some(mut matrix) = guarded(|| black_and_white(grey, threshold)).flatten() else { return false };
        self.add(guarded(|| qr_codes(&matrix)).unwrap_or_default());
        if self.done() {
            return true;
        }
        // The same threshold, inverted: cheaper than a second pass over the grey levels.
        matrix.flip_self();
        self.add(guarded(|| qr_codes(&matrix)).unwrap_or_default());
        self.done()
    }

    fn add(&mut self, texts: Vec<String>) {
        for text in texts {
            if self.seen.insert(text.clone()) {
                self.texts.push(text);
            }
        }
    }

    fn done(&self) -> bool {
        self.texts.iter().any(|text| (self.wanted)(text))
    }
}

/// Runs one step of the reader on pixels a stranger chose: rxing is a port of C++ and Java code that
/// indexes arrays with computed positions (its detector says it "can panic"), and a picture that drives
/// it out of bounds must end as "no code here", not as a crashed counter.
fn guarded<T>(step: impl FnOnce() -> T) -> Option<T> {
    panic::catch_unwind(AssertUnwindSafe(step)).ok()
}

fn black_and_white(grey: &Grey, threshold: Threshold) -> Option<BitMatrix> {
    let source = || Luma8Source::new_with_slice(&grey.pixels, grey.width, grey.height).ok();
    match threshold {
        Threshold::Local => HybridBinarizer::new(source()?).get_black_matrix().ok().cloned(),
        Threshold::Mean => below_local_mean(grey),
        Threshold::Global => GlobalHistogramBinarizer::new(source()?).get_black_matrix().ok().cloned(),
    }
}

/// Black where a pixel is darker than the average around it by more than JPEG noise.
///
/// The square is a fortieth of the view's long side (12–48 px): wider than a finder pattern of most
/// photos, so its dark centre is measured against the light ring around it, not against itself.
fn below_local_mean(grey: &Grey) -> Option<BitMatrix> {
    const NOISE: u8 = 2;
    let radius = (grey.long_side() / 40).clamp(12, 48);
    let mean = grey.local_mean(radius);
    let mut matrix = BitMatrix::new(grey.width, grey.height).ok()?;
    let width = grey.width as usize;
    for (i, (&level, &around)) in grey.pixels.iter().zip(&mean).enumerate() {
        if level.saturating_add(NOISE) < around {
            matrix.set((i % width) as u32, (i / width) as u32);
        }
    }
    Some(matrix)
}

/// Every QR code in one black-and-white view: zxing-cpp's `QRCode::Reader::decode` for QR codes only
/// (no Micro QR), with at most `MAX_FINDER_PATTERNS` patterns and `MAX_TRIPLES` triples.
fn qr_codes(matrix: &BitMatrix) -> Vec<String> {
    let mut patterns = finder_patterns(matrix);
    let mut used: Vec<ConcentricPattern> = Vec::new();
    let mut texts = Vec::new();
    for triple in GenerateFinderPatternSets(&mut patterns).into_iter().take(MAX_TRIPLES) {
        // A pattern already part of a decoded code belongs to no other.
        if [triple.bl, triple.tl, triple.tr].iter().any(|p| used.contains(p)) {
            continue;
        }
        let Ok(grid) = SampleQR(matrix, &triple) else { continue };
        let Ok(decoded) = Decode(grid.getBits()) else { continue };
        if decoded.isValid() {
            used.extend([triple.bl, triple.tl, triple.tr]);
            texts.push(decoded.text());
        }
    }
    texts
}

/// The 1:1:3:1:1 dark-light ratio a finder pattern shows on any line through its centre.
const FINDER: FixedPattern<5, 7, false> = FixedPattern::new([1, 1, 3, 1, 1]);

/// zxing-cpp's `FindFinderPatterns` (try harder), stopping at `MAX_FINDER_PATTERNS`.
fn finder_patterns(matrix: &BitMatrix) -> Vec<ConcentricPattern> {
    let mut found: Vec<ConcentricPattern> = Vec::new();
    let mut row = PatternRow::default();
    let mut y = ROW_STEP - 1;
    while y < matrix.height() {
        GetPatternRowTP(matrix, y, &mut row, false);
        let mut next = PatternView::new(&row);
        while let Some(hit) = finder_on_row(next) {
            next = hit;
            let x = f32::from(next.pixelsInFront())
                + f32::from(next[0usize])
                + f32::from(next[1usize])
                + f32::from(next[2usize]) / 2.0;
            let centre = rxing::point(x, y as f32 + 0.5);
            // A hit inside a pattern already found is that pattern again.
            if !found.iter().any(|old| old.p.distance(centre) < old.size as f32 / 2.0) {
                // 3 widths around the hit: room for a very skewed pattern.
                let range = i32::from(next.iter().sum::<u16>()) * 3;
                if let Some(pattern) = LocateConcentricPattern::<true, 5, 7>(matrix, &FINDER.into(), centre, range) {
                    found.push(pattern);
                    if found.len() >= MAX_FINDER_PATTERNS {
                        return found;
                    }
                }
            }
            next.skipPair();
            next.skipPair();
            next.extend();
        }
        y += ROW_STEP;
    }
    found
}

/// The next run of bars on a row in a finder pattern's ratio.
fn finder_on_row(view: PatternView<'_>) -> Option<PatternView<'_>> {
    let looks_like_finder = |bars: &PatternView, space: Option<f32>| {
        let centre = bars[2usize];
        // Quick test first: the centre bar is the widest by far.
        if centre < 3 || centre < 2 * bars[0usize].max(bars[4usize]) || centre < bars[1usize].max(bars[3usize]) {
            return false;
        }
        IsPattern::<true, 5, 7, false>(bars, &FINDER, space, 0.1, 0.0, 0.0) != 0.0
    };
    FindLeftGuardBy::<5, _>(view, 5, looks_like_finder).ok().filter(PatternView::isValid)
}
