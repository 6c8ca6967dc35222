//! Finding the CJK font that stamped copies are written in.
//!
//! A stamped copy must never show boxes: the font is accepted only when it has glyphs for Latin
//! letters, digits and common Chinese, and `stamp` checks every character of the footer again.
//! krilla does the embedding; this module only reads the few OpenType tables needed to choose
//! a face and to measure a line (`cmap`, `hhea`, `hmtx`, `head`, `name`), because the core's
//! dependencies expose no font parser of their own.

use crate::error::{Error, ErrorCode};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What a usable font must cover: the letters and digits of codes and times, and Chinese.
const PROBE: &str = "证照副本仅供使用经办人号编状态有效核验AZaz09";

/// File names that are almost surely CJK fonts: tried first inside a folder, so that a walk
/// through `/usr/share/fonts` does not read hundreds of Latin fonts before finding one.
const CJK_NAME_HINTS: [&str; 14] = [
    "wqy",
    "noto",
    "cjk",
    "sourcehan",
    "source-han",
    "uming",
    "ukai",
    "droidsansfallback",
    "msyh",
    "simsun",
    "simhei",
    "yahei",
    "kaiti",
    "fangsong",
];

/// How deep a folder is searched; system font folders are two or three levels deep.
const MAX_DEPTH: usize = 6;

/// The font copies are stamped with: one face of a TTF/OTF/TTC file covering Chinese and Latin.
///
/// Cloning is cheap (the bytes and krilla's parsed font are shared), so a caller loads it once
/// and keeps it.
#[derive(Clone)]
pub struct StampFont {
    bytes: Arc<Vec<u8>>,
    index: u32,
    path: PathBuf,
    family: String,
    tables: FaceTables,
    pdf: krilla::text::Font,
}

impl fmt::Debug for StampFont {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StampFont")
            .field("path", &self.path)
            .field("index", &self.index)
            .field("family", &self.family)
            .finish_non_exhaustive()
    }
}

impl StampFont {
    /// The configured font file (`[printing] font`), else the system's CJK font.
    pub fn load(configured: Option<&Path>) -> crate::Result<StampFont> {
        match configured {
            Some(path) => StampFont::configured(path),
            None => StampFont::search(&system_candidates()),
        }
    }

    /// The first usable font among these files/folders (searched recursively), for tests and for `load`.
    pub fn search(candidates: &[PathBuf]) -> crate::Result<StampFont> {
        for candidate in candidates {
            let files = if candidate.is_dir() { font_files_under(candidate) } else { vec![candidate.clone()] };
            if let Some(font) = files.iter().find_map(|file| StampFont::open(file).ok()) {
                return Ok(font);
            }
        }
        let searched: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
        Err(Error::with_fact(ErrorCode::FontMissing, "没有找到同时含中文和英文数字字形的字体。")
            .detail(format!("searched: {}", searched.join(", "))))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn family(&self) -> &str {
        &self.family
    }

    /// The face's index in its file (non-zero only for collections, `.ttc`).
    pub fn index(&self) -> u32 {
        self.index
    }

    /// krilla's handle on the face; cloning it shares the parsed font.
    pub(crate) fn pdf_font(&self) -> krilla::text::Font {
        self.pdf.clone()
    }

    /// The width of `text` set on one line at `size`, in the unit of `size`.
    ///
    /// CJK has no kerning and the footer's Latin runs are codes and times, so the sum of the
    /// advances is what krilla's shaping places, to a fraction of a point.
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        let data = self.bytes.as_slice();
        let units: u32 =
            text.chars().map(|c| u32::from(self.tables.advance(data, self.tables.glyph(data, c).unwrap_or(0)))).sum();
        units as f32 / f32::from(self.tables.units_per_em) * size
    }

    /// The characters of `text` this font has no glyph for (each once, in order).
    pub(crate) fn missing(&self, text: &str) -> Vec<char> {
        let mut missing: Vec<char> = Vec::new();
        for c in text.chars().filter(|c| !c.is_whitespace()) {
            if self.tables.glyph(&self.bytes, c).is_none() && !missing.contains(&c) {
                missing.push(c);
            }
        }
        missing
    }

    /// A font named in the configuration: it must work, or IT is told which path is wrong.
    fn configured(path: &Path) -> crate::Result<StampFont> {
        let found = if path.is_dir() { StampFont::search(&[path.to_path_buf()]) } else { StampFont::open(path) };
        found.map_err(|e| {
            Error::with_fact(
                ErrorCode::FontMissing,
                format!("配置 [printing] font 指定的 {} 不是可用的中文字体。", path.display()),
            )
            .detail(e.detail.unwrap_or(e.message))
        })
    }

    /// Reads one file and picks its first face that covers the probe characters.
    fn open(path: &Path) -> crate::Result<StampFont> {
        let unusable = |why: String| {
            Error::with_fact(ErrorCode::FontMissing, format!("{} 不是可用的中文字体。", path.display())).detail(why)
        };
        let bytes = std::fs::read(path).map_err(|e| unusable(format!("{}: {e}", path.display())))?;
        let bytes = Arc::new(bytes);
        let faces = face_offsets(&bytes).ok_or_else(|| unusable("not a TrueType/OpenType font".to_owned()))?;
        for (index, offset) in faces.into_iter().enumerate() {
            let Some(tables) = FaceTables::read(&bytes, offset) else { continue };
            if PROBE.chars().any(|c| tables.glyph(&bytes, c).is_none()) {
                continue;
            }
            let index = index as u32;
            let Some(pdf) = krilla::text::Font::new(krilla::Data::from(bytes.clone()), index) else { continue };
            let family = family_name(&bytes, offset).unwrap_or_else(|| file_stem(path));
            return Ok(StampFont { bytes, index, path: path.to_path_buf(), family, tables, pdf });
        }
        Err(unusable("no face has glyphs for both Chinese and Latin letters/digits".to_owned()))
    }
}

fn file_stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Where this system keeps a CJK font: well-known files first, in order of preference, then
/// the font folders, searched.
fn system_candidates() -> Vec<PathBuf> {
    if cfg!(windows) {
        let windir = std::env::var_os("WINDIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from(r"C:\Windows"));
        let fonts = windir.join("Fonts");
        let mut candidates: Vec<PathBuf> =
            ["msyh.ttc", "msyh.ttf", "simsun.ttc", "simhei.ttf"].iter().map(|f| fonts.join(f)).collect();
        candidates.push(fonts);
        if let Some(local) = std::env::var_os("LOCALAPPDATA") {
            candidates.push(PathBuf::from(local).join(r"Microsoft\Windows\Fonts"));
        }
        return candidates;
    }
    let mut candidates: Vec<PathBuf> = [
        "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
        "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
        "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
        "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
        "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
        "/usr/share/fonts/opentype/source-han-sans/SourceHanSansSC-Regular.otf",
        "/usr/share/fonts/adobe-source-han-sans/SourceHanSansSC-Regular.otf",
        "/usr/share/fonts/truetype/arphic/uming.ttc",
        "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
        "/usr/share/fonts",
        "/usr/local/share/fonts",
    ]
    .iter()
    .map(PathBuf::from)
    .collect();
    if let Some(home) = std::env::var_os("HOME").map(PathBuf::from) {
        candidates.push(home.join(".local/share/fonts"));
        candidates.push(home.join(".fonts"));
    }
    candidates
}

/// Font files under `dir`, likely CJK fonts first, each group in path order so that the
/// choice is the same on every run.
fn font_files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    collect_font_files(dir, 0, &mut files);
    files.sort_by_key(|path| (!looks_cjk(path), path.clone()));
    files
}

fn collect_font_files(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        // Symlinked folders are not followed: font folders link into each other, which could loop.
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            if depth < MAX_DEPTH {
                collect_font_files(&path, depth + 1, out);
            }
        } else if is_font_file(&path) {
            out.push(path);
        }
    }
}

fn is_font_file(path: &Path) -> bool {
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    matches!(ext.as_str(), "ttf" | "ttc" | "otf" | "otc")
}

fn looks_cjk(path: &Path) -> bool {
    let name = path.file_name().map(|n| n.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    CJK_NAME_HINTS.iter().any(|hint| name.contains(hint))
}

// ---------------------------------------------------------------------------------------------
// The few OpenType tables read here (offsets as in the OpenType specification)

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(data.get(at..at.checked_add(2)?)?.try_into().ok()?))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at.checked_add(4)?)?.try_into().ok()?))
}

/// Where each face's table directory starts: one for a TTF/OTF, several for a collection.
fn face_offsets(data: &[u8]) -> Option<Vec<usize>> {
    match data.get(..4)? {
        b"ttcf" => {
            let count = u32_at(data, 8)? as usize;
            (0..count.min(64)).map(|i| u32_at(data, 12 + 4 * i).map(|o| o as usize)).collect()
        }
        [0, 1, 0, 0] | b"OTTO" | b"true" => Some(vec![0]),
        _ => None,
    }
}

/// The offset of a table of the face whose directory starts at `face`.
fn table(data: &[u8], face: usize, tag: &[u8; 4]) -> Option<usize> {
    let count = usize::from(u16_at(data, face + 4)?);
    (0..count).find_map(|i| {
        let record = face + 12 + 16 * i;
        (data.get(record..record + 4)? == tag).then(|| u32_at(data, record + 8).map(|o| o as usize))?
    })
}

/// Where a face's character map and advances are, found once per font.
#[derive(Clone, Copy, Debug)]
struct FaceTables {
    cmap: Cmap,
    hmtx: usize,
    long_metrics: u16,
    units_per_em: u16,
}

/// The character map subtable used: format 12 covers all of Unicode, format 4 the BMP.
#[derive(Clone, Copy, Debug)]
enum Cmap {
    Segments(usize),
    Groups(usize),
}

impl FaceTables {
    fn read(data: &[u8], face: usize) -> Option<FaceTables> {
        let head = table(data, face, b"head")?;
        let hhea = table(data, face, b"hhea")?;
        let hmtx = table(data, face, b"hmtx")?;
        let units_per_em = u16_at(data, head + 18).filter(|u| *u > 0)?;
        let long_metrics = u16_at(data, hhea + 34).filter(|n| *n > 0)?;
        let cmap = unicode_cmap(data, table(data, face, b"cmap")?)?;
        Some(FaceTables { cmap, hmtx, long_metrics, units_per_em })
    }

    /// The glyph for `c`, or `None` where the font would draw its "missing" box.
    fn glyph(&self, data: &[u8], c: char) -> Option<u16> {
        let glyph = match self.cmap {
            Cmap::Segments(at) => segment_glyph(data, at, u32::from(c)),
            Cmap::Groups(at) => group_glyph(data, at, u32::from(c)),
        };
        glyph.filter(|g| *g != 0)
    }

    /// A glyph's advance in font units; glyphs past the long metrics share the last advance.
    fn advance(&self, data: &[u8], glyph: u16) -> u16 {
        let i = usize::from(glyph.min(self.long_metrics - 1));
        u16_at(data, self.hmtx + 4 * i).unwrap_or(0)
    }
}

/// The best Unicode subtable: full-repertoire format 12 where present, else BMP format 4.
fn unicode_cmap(data: &[u8], cmap: usize) -> Option<Cmap> {
    let count = usize::from(u16_at(data, cmap + 2)?);
    let mut best: Option<(u8, Cmap)> = None;
    for i in 0..count {
        let record = cmap + 4 + 8 * i;
        let (platform, encoding) = (u16_at(data, record)?, u16_at(data, record + 2)?);
        let sub = cmap + u32_at(data, record + 4)? as usize;
        let unicode = platform == 0 || (platform == 3 && (encoding == 1 || encoding == 10));
        let found = match u16_at(data, sub) {
            Some(12) if unicode => (2, Cmap::Groups(sub)),
            Some(4) if unicode => (1, Cmap::Segments(sub)),
            _ => continue,
        };
        if best.is_none_or(|(rank, _)| found.0 > rank) {
            best = Some(found);
        }
    }
    best.map(|(_, cmap)| cmap)
}

fn segment_glyph(data: &[u8], sub: usize, c: u32) -> Option<u16> {
    let c = u16::try_from(c).ok()?;
    let seg_x2 = usize::from(u16_at(data, sub + 6)?);
    let ends = sub + 14;
    let starts = ends + seg_x2 + 2;
    let deltas = starts + seg_x2;
    let ranges = deltas + seg_x2;
    // The segments are sorted by end code: the first ending at or after `c` is the only candidate.
    let (mut lo, mut hi) = (0, seg_x2 / 2);
    while lo < hi {
        let mid = (lo + hi) / 2;
        if u16_at(data, ends + 2 * mid)? < c { lo = mid + 1 } else { hi = mid }
    }
    let i = lo;
    if i >= seg_x2 / 2 || u16_at(data, starts + 2 * i)? > c {
        return None;
    }
    let start = u16_at(data, starts + 2 * i)?;
    let delta = u16_at(data, deltas + 2 * i)?;
    let range = usize::from(u16_at(data, ranges + 2 * i)?);
    if range == 0 {
        return Some(c.wrapping_add(delta));
    }
    let glyph = u16_at(data, ranges + 2 * i + range + 2 * usize::from(c - start))?;
    (glyph != 0).then(|| glyph.wrapping_add(delta))
}

fn group_glyph(data: &[u8], sub: usize, c: u32) -> Option<u16> {
    let groups = u32_at(data, sub + 12)? as usize;
    let (mut lo, mut hi) = (0, groups);
    while lo < hi {
        let mid = (lo + hi) / 2;
        let at = sub + 16 + 12 * mid;
        let (first, last) = (u32_at(data, at)?, u32_at(data, at + 4)?);
        if c < first {
            hi = mid;
        } else if c > last {
            lo = mid + 1;
        } else {
            return u16::try_from(u32_at(data, at + 8)?.checked_add(c - first)?).ok();
        }
    }
    None
}

/// The face's family name for IT to read: the English Windows name where there is one.
fn family_name(data: &[u8], face: usize) -> Option<String> {
    let name = table(data, face, b"name")?;
    let count = usize::from(u16_at(data, name + 2)?);
    let strings = name + usize::from(u16_at(data, name + 4)?);
    let mut best: Option<(u8, String)> = None;
    for i in 0..count {
        let record = name + 6 + 12 * i;
        let (platform, encoding, language, id) =
            (u16_at(data, record)?, u16_at(data, record + 2)?, u16_at(data, record + 4)?, u16_at(data, record + 6)?);
        if id != 1 || platform != 3 || encoding != 1 {
            continue;
        }
        let (len, offset) = (usize::from(u16_at(data, record + 8)?), usize::from(u16_at(data, record + 10)?));
        let raw = data.get(strings + offset..strings + offset + len)?;
        let units: Vec<u16> = raw.chunks_exact(2).map(|p| u16::from_be_bytes([p[0], p[1]])).collect();
        let rank = if language == 0x0409 { 2 } else { 1 };
        if best.as_ref().is_none_or(|(r, _)| rank > *r) {
            best = Some((rank, String::from_utf16_lossy(&units)));
        }
    }
    best.map(|(_, name)| name).filter(|n| !n.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn system_font() -> StampFont {
        StampFont::load(None).unwrap_or_else(|e| panic!("{e} (install fonts-wqy-microhei)"))
    }

    #[test]
    fn an_empty_folder_has_no_font() {
        let dir = tempfile::tempdir().unwrap();
        let err = StampFont::search(&[dir.path().to_path_buf()]).unwrap_err();
        assert_eq!(err.code, ErrorCode::FontMissing);
        assert!(err.message.contains("fonts-wqy-microhei"), "{}", err.message);
        assert!(err.message.contains("[printing] font"), "{}", err.message);
    }

    #[test]
    fn a_configured_file_that_is_no_font_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let bogus = dir.path().join("字体.ttf");
        std::fs::write(&bogus, b"not a font at all").unwrap();
        for path in [bogus.clone(), dir.path().join("missing.ttc")] {
            let err = StampFont::load(Some(&path)).unwrap_err();
            assert_eq!(err.code, ErrorCode::FontMissing);
            assert!(err.message.contains(&path.display().to_string()), "{}", err.message);
        }
    }

    #[test]
    fn the_system_font_covers_chinese_and_latin() {
        let font = system_font();
        assert!(font.missing("证照A0「」·：（），-").is_empty(), "{}", font.family());
        assert!(!font.family().is_empty());
        assert!(font.width("证照", 10.0) > 19.0 && font.width("证照", 10.0) < 21.0);
        assert!(font.width("A0", 10.0) < font.width("证照", 10.0));
    }

    #[test]
    fn a_folder_is_searched_and_the_found_font_is_the_same() {
        let font = system_font();
        let folder = font.path().parent().unwrap().to_path_buf();
        let found = StampFont::search(&[PathBuf::from("/nonexistent-font-dir"), folder]).unwrap();
        assert!(found.missing("证照A0").is_empty());
        let configured = StampFont::load(Some(font.path())).unwrap();
        assert_eq!((configured.path(), configured.index()), (font.path(), font.index()));
    }

    #[test]
    fn truncated_tables_read_as_no_font() {
        assert!(face_offsets(b"").is_none());
        assert!(face_offsets(b"ttcf\0\x01\0\0\0\0\0\x01").is_none(), "a collection whose offsets are cut off");
        assert!(FaceTables::read(&[0, 1, 0, 0, 0, 9], 0).is_none());
    }
}
