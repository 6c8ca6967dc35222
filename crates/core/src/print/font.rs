//! Finding the CJK font that stamped copies are written in.
//!
//! A stamped copy must never show boxes: the font is accepted only when it has glyphs for Latin
//! letters, digits and common Chinese, and `stamp` checks every character of the footer again.
//! krilla does the embedding; skrifa (the font reader krilla itself uses) answers which glyphs
//! a face has, how wide a line is and what the family is called.

use crate::error::{Error, ErrorCode};
use skrifa::instance::{LocationRef, Size};
use skrifa::raw::FileRef;
use skrifa::raw::TableProvider;
use skrifa::{FontRef, GlyphId, MetadataProvider, string::StringId};
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
    units_per_em: f32,
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
        let Some(face) = self.face() else { return 0.0 };
        let charmap = face.charmap();
        let metrics = face.glyph_metrics(Size::unscaled(), LocationRef::default());
        let units: f32 =
            text.chars().map(|c| metrics.advance_width(charmap.map(c).unwrap_or(GlyphId::NOTDEF)).unwrap_or(0.0)).sum();
        units / self.units_per_em * size
    }

    /// The characters of `text` this font has no glyph for (each once, in order).
    pub(crate) fn missing(&self, text: &str) -> Vec<char> {
        let Some(face) = self.face() else { return text.chars().collect() };
        let charmap = face.charmap();
        let mut missing: Vec<char> = Vec::new();
        for c in text.chars().filter(|c| !c.is_whitespace()) {
            if charmap.map(c).is_none() && !missing.contains(&c) {
                missing.push(c);
            }
        }
        missing
    }

    /// The face, read again from the shared bytes (reading is a few bounds checks, no copy).
    fn face(&self) -> Option<FontRef<'_>> {
        FontRef::from_index(&self.bytes, self.index).ok()
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
        let faces = covering_faces(&bytes, path).map_err(unusable)?;
        for (index, family, units_per_em) in faces {
            let Some(pdf) = krilla::text::Font::new(krilla::Data::from(bytes.clone()), index) else { continue };
            return Ok(StampFont { bytes, index, path: path.to_path_buf(), family, units_per_em, pdf });
        }
        Err(unusable("no face has glyphs for both Chinese and Latin letters/digits".to_owned()))
    }
}

/// The faces of a font file that cover the probe characters: index, family name, units per em.
fn covering_faces(bytes: &[u8], path: &Path) -> Result<Vec<(u32, String, f32)>, String> {
    let file = FileRef::new(bytes).map_err(|e| format!("not a TrueType/OpenType font: {e}"))?;
    let faces = file.fonts().enumerate().filter_map(|(index, face)| {
        let face = face.ok()?;
        let charmap = face.charmap();
        if PROBE.chars().any(|c| charmap.map(c).is_none()) {
            return None;
        }
        let units_per_em = Some(f32::from(face.head().ok()?.units_per_em())).filter(|u| *u > 0.0)?;
        let family = face
            .localized_strings(StringId::FAMILY_NAME)
            .english_or_first()
            .map(|name| name.to_string())
            .unwrap_or_else(|| file_stem(path));
        Some((index as u32, family, units_per_em))
    });
    Ok(faces.collect())
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
    fn truncated_fonts_are_no_font() {
        let dir = tempfile::tempdir().unwrap();
        let real = std::fs::read(system_font().path()).unwrap();
        for (name, bytes) in [("empty.ttf", &b""[..]), ("cut.ttc", &real[..64]), ("half.ttc", &real[..real.len() / 2])]
        {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            assert_eq!(StampFont::load(Some(&path)).unwrap_err().code, ErrorCode::FontMissing, "{name}");
        }
    }
}
