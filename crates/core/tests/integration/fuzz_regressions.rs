//! The fuzz targets' seeds and findings as ordinary tests: every committed seed under `fuzz/seeds/`
//! and every input that once broke a property, replayed through the very property its target checks
//! (`fuzz/src/lib.rs`, compiled here as a module), plus the generator of the seeds themselves.

use image::{DynamicImage, GrayImage, ImageFormat, Luma, Rgb, RgbImage, Rgba, RgbaImage};
use lopdf::{Document, Object, Stream, dictionary};
use std::io::Cursor;
use std::path::{Path, PathBuf};
use yueshang_core::domain::uscc::check_char;
use yueshang_core::wire::elicense::{self as el, ArchiveData, LicenseEnvelope, LicenseError, LoginData, WireLicense};
use yueshang_core::wire::gateway::{self as gw, GatewayErrorBody};
use yueshang_core::wire::yst::{Code2AuthData, EnterpriseRef, LicenseSummaryRef, SubmitData, YstEnvelope};

/// The fuzz crate's properties, the same file `cargo fuzz` builds its targets from.
#[allow(unreachable_pub, dead_code)]
#[path = "../../../../fuzz/src/lib.rs"]
mod properties;

fn seeds_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds")
}

/// Every seed file goes through its target's property; one named `ok-…` must be accepted (parsed,
/// converted, stamped, a code found), any other refused, so a seed that stops meaning what its name
/// says is noticed.
#[test]
fn every_committed_seed_passes_its_targets_property() {
    for target in properties::TARGETS {
        let dir = seeds_dir().join(target);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|entry| entry.expect("a seed").path())
            .collect();
        files.sort();
        assert!(files.len() >= 3, "{target}: only {} seeds", files.len());
        for file in files {
            let name = file.file_name().and_then(|n| n.to_str()).expect("a seed's name").to_owned();
            let bytes = std::fs::read(&file).expect("a seed file");
            let accepted = properties::check(target, &bytes).expect("a known target");
            assert_eq!(accepted, name.starts_with("ok-"), "{target}/{name}: accepted {accepted}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Findings of the fuzzer: each input that broke a property, as found (also written as a seed).

/// stamp, 2026-11-30: a 175-byte PNG whose header claims 12 × 973 078 544 pixels (the CRC is not
/// checked). krilla decodes a PNG into a buffer of the size the header claims, here 46.7 GB:
/// libFuzzer reported out-of-memory; in the counter the failed allocation aborts the process.
const STAMP_PNG_CLAIMS_46_GB: [u8; 175] = [
    0x02, 0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
    0x00, 0x0c, 0x3a, 0x00, 0x00, 0x10, 0x08, 0x06, 0x00, 0x00, 0x00, 0x22, 0x61, 0x9e, 0x07, 0x00, 0x00, 0x00, 0x9a,
    0x49, 0x44, 0x41, 0x54, 0x78, 0x01, 0xed, 0xc0, 0x03, 0xa0, 0x24, 0x59, 0x96, 0xc6, 0x47, 0x0d, 0x0a, 0x1a, 0x0a,
    0x00, 0x5b, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x10, 0x08, 0x06,
    0x00, 0x00, 0x00, 0x22, 0x61, 0x9e, 0x07, 0x00, 0x00, 0x00, 0x9a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x01, 0xed, 0xc0,
    0x03, 0xa0, 0x24, 0x59, 0x96, 0x54, 0x38, 0xc6, 0xbf, 0x02, 0x15, 0x8e, 0xf1, 0xaf, 0x40, 0x85, 0x63, 0xfc, 0x2b,
    0x50, 0xe1, 0x18, 0xff, 0x0a, 0x54, 0x38, 0xc6, 0xbf, 0x02, 0x15, 0x8e, 0xf1, 0xaf, 0x40, 0x21, 0x85, 0x63, 0xfc,
    0x2b, 0x50, 0xe1, 0x18, 0xff, 0x0a, 0x54, 0x38, 0xc6, 0xbf, 0x02, 0x15, 0x0e, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0xf0, 0x8f, 0xb9, 0xb0, 0xf5, 0x3a, 0x17, 0xbf, 0x27, 0x64, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44,
    0xae, 0x42, 0x60, 0x82,
];

#[test]
fn a_png_claiming_a_huge_size_is_refused_before_it_is_decoded() {
    let refused = |input: &[u8], what: &str| match properties::stamp_input(input).expect("an input") {
        Err(e) => assert_eq!(e.code, yueshang_core::ErrorCode::FileUnreadable, "{what}: {e:?}"),
        Ok(_) => panic!("{what}: stamped"),
    };
    refused(&STAMP_PNG_CLAIMS_46_GB, "as found");
    // The same claim in a well-formed PNG (right CRCs), and sizes just past the limit of 50 megapixels.
    for (width, height) in [(12, 973_078_544), (20_000, 20_000), (50_000_001, 1), (7072, 7072)] {
        refused(&[&[2u8][..], &png_header_claiming(width, height)].concat(), &format!("{width}×{height}"));
    }
    assert!(!properties::stamp(&STAMP_PNG_CLAIMS_46_GB));
}

/// stamp, 2026-11-30: a damaged PDF after four other bytes (`5 \0 \0 \0`); the stamper accepts a
/// header anywhere in the first KiB, as readers do, but appended its update at offsets counted from
/// the first byte, while readers (and lopdf) count from the header: the copy began `5\0\0\0%PDF-`
/// and poppler could not open it (the property "a copy starts with %PDF-" caught it).
const STAMP_PDF_AFTER_OTHER_BYTES: &[u8] = b"\x005\x00\x00\x00%PDF-1.7\n%\xbb\xad\xc0\xde\n1 0 obj\n\
    <</Type/Pages/Kids[5 0 R]/Count 1/Resources 3 0 R/MediaBox[0 0 420 300]>>\nendobj\n2 0 obj\n\
    <</Type/Font/Subtype/Type1/BaseFont/Helvetica>>\nendobj\n\
    3 0 ob\x0e\x00\x00\x00\x00\x00\x00\x00t<</F1 2 0 R>>>>\nendobj\n4 0 obj\n<</Length 68>>stream\n\
    0.9 g 40 40 200 100 re f\x00\x00\x00\x00\x00\x00\x00\x00/F1 18 Tf 60 80 Td (LICENSE 1) Tj ET\n\
    endstream \nendobj\n5 0 obj\n<</Type/Page/Parent 1 0 R/Contents 4 0 R/MediaBox[0 0 595 842]>>\n\
    endobj\n6 0 obj\n<</Type/Catalog/Pages 1 0 R>>\nendo<\x00\x00\x00bj\n7 0 obj\n\
    <</Root 6 0 R/Type/XRef/Size 8/W[1 4 2]/Index[1 7]/Length 49>>stream\n\
    \x01\x00\x00\x00\x0f\x00\x00\x01\x00\x00\x00h\x00\x00\x01\x00\x00\x00\xa7\x00\x00\x00\x01\x05\x00\xcd\x00\x00\
    \x01\x00\x00\x01A\x00\x00\x01\x00\x00\x01\x91\x00\x00\x01\x00\x00\x01\xbe\x00\x00\n\
    endstream \nendobj\n\nstartxref\n446\n%%EOF";

#[test]
fn a_pdf_after_other_bytes_is_stamped_from_its_header_into_a_copy_readers_open() {
    for prefix in [&b"5\0\0\0"[..], b"\xef\xbb\xbf", b"HTTP/1.1 200 OK\r\n\r\n", b""] {
        let source = [prefix, &minimal_pdf(true)].concat();
        let input = [&[0u8][..], &source].concat();
        assert!(properties::stamp(&input), "{prefix:?}: not stamped");
        let copy = properties::stamp_input(&input).expect("an input").expect("stamped");
        assert!(copy.pdf.starts_with(&source[prefix.len()..]), "{prefix:?}: the PDF's own bytes changed");
        assert_eq!(poppler_pages(&copy.pdf), 2, "{prefix:?}: poppler reads the copy");
    }
    // The damaged file as found: poppler cannot read it, lopdf mends it, and its copy now opens.
    assert!(properties::stamp(STAMP_PDF_AFTER_OTHER_BYTES), "the file as found: not stamped");
    let copy = properties::stamp_input(STAMP_PDF_AFTER_OTHER_BYTES).expect("an input").expect("stamped");
    assert_eq!(poppler_pages(&copy.pdf), 1, "the file as found: poppler reads the copy");
}

/// The page count `pdfinfo` (poppler, the reader CUPS's PDF filters use) reads from a PDF.
fn poppler_pages(pdf: &[u8]) -> usize {
    let dir = tempfile::tempdir().expect("a scratch folder");
    let file = dir.path().join("copy.pdf");
    std::fs::write(&file, pdf).expect("the copy written");
    let output = std::process::Command::new("pdfinfo")
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("pdfinfo not runnable ({e}): apt-get install poppler-utils (scripts/install-deps)"));
    let info = String::from_utf8_lossy(&output.stdout);
    info.lines().find_map(|l| l.strip_prefix("Pages:")).map_or(0, |n| n.trim().parse().unwrap_or(0))
}

/// A PNG of one empty 8-bit RGBA image data stream under a header claiming `width` × `height`.
fn png_header_claiming(width: u32, height: u32) -> Vec<u8> {
    let chunk = |kind: &[u8], data: &[u8]| {
        let body = [kind, data].concat();
        [&(data.len() as u32).to_be_bytes()[..], &body, &crc32(&body).to_be_bytes()].concat()
    };
    let header = [&width.to_be_bytes()[..], &height.to_be_bytes(), &[8, 6, 0, 0, 0]].concat();
    // A zlib stream of nothing: the decoder runs out of data, if it ever starts.
    let idat = [0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01];
    [&b"\x89PNG\r\n\x1a\n"[..], &chunk(b"IHDR", &header), &chunk(b"IDAT", &idat), &chunk(b"IEND", &[])].concat()
}

fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |crc, &b| {
        (0..8).fold(crc ^ u32::from(b), |c, _| if c & 1 == 1 { (c >> 1) ^ 0xEDB8_8320 } else { c >> 1 })
    })
}

// ---------------------------------------------------------------------------------------------
// The seeds: small valid (and a few nearly valid) inputs of every target, invented data only.
// `cargo test -p yueshang-core --test integration fuzz_regressions::write_seeds -- --ignored`
// writes them again into fuzz/seeds/ (commit the result).

#[test]
#[ignore = "writes fuzz/seeds/: run by hand when the seeds should change"]
fn write_seeds() {
    let root = seeds_dir();
    for target in properties::TARGETS {
        let dir = root.join(target);
        if dir.exists() {
            std::fs::remove_dir_all(&dir).expect("old seeds removed");
        }
        std::fs::create_dir_all(&dir).expect("a seed folder");
    }
    let write = |target: &str, name: &str, bytes: &[u8]| {
        std::fs::write(root.join(target).join(name), bytes).expect("a seed written");
    };
    let code = "Yx3kP9qLm2Rt8Vw4Zs6A";
    let uscc = made_uscc("91440106MA5D7K3Q0");
    let other_uscc = made_uscc("12440000MB2C4F8L1");

    write("scan_payload", "ok-bare", code.as_bytes());
    write("scan_payload", "ok-url-path", format!("https://yueshangma.sandbox.invalid/ysm/{code}\r\n").as_bytes());
    write("scan_payload", "ok-url-query", b"http://x.example/scan?from=app&c=Qw3rTy_uIoP-4sDfGh#top");
    let full_width: String =
        code.chars().map(|c| char::from_u32(c as u32 + 0xFEE0).expect("a full-width form")).collect();
    write("scan_payload", "ok-ime", format!("\u{3000}{full_width}——xyz\t").as_bytes());
    write("scan_payload", "no-short", b"short");
    write("scan_payload", "no-url-without-code", b"https://x.example/other/abcdefghijklmnopq");
    write("scan_payload", "no-space", b"abcdefghijklmnop qrs");

    write("uscc", "ok-plain", uscc.as_bytes());
    write("uscc", "ok-lower-noise", format!(" {}\r\n", other_uscc.to_lowercase()).as_bytes());
    let spaced: String = uscc
        .chars()
        .enumerate()
        .flat_map(|(i, c)| (i > 0 && i % 4 == 0).then_some(' ').into_iter().chain([c]))
        .collect();
    write("uscc", "ok-spaced", spaced.as_bytes());
    write("uscc", "ok-code", code.as_bytes());
    let wrong = format!("{}{}", &uscc[..17], if uscc.ends_with('A') { 'B' } else { 'A' });
    write("uscc", "no-wrong-check", wrong.as_bytes());
    write("uscc", "no-letter-o", format!("9144O{}", &uscc[5..]).as_bytes());
    write("uscc", "no-17", &uscc.as_bytes()[..17]);

    let summaries = vec![
        summary("44010620240001", "食品经营许可证", "2024-01-01", "2029-01-01", "ISSUED"),
        summary("44010620190002", "营业执照", "20190315", "长期", "issued"),
        summary("44010620230003", "卫生许可证", "2023年3月1日", "2025/02/28", "ABOLISHED"),
    ];
    let exchange = Code2AuthData {
        enterprise: EnterpriseRef {
            name: "广州市示例餐饮管理有限公司".to_owned(),
            uscc: uscc.clone(),
            legal_rep_name: "张*".to_owned(),
        },
        auth_id: "AUTH-20261129-000001".to_owned(),
        auth_expires_at: "2026-11-29T10:32:59+08:00".to_owned(),
        auth_codes: (1..=summaries.len()).map(|i| format!("ac-{i:04}-5f1e9b")).collect(),
        licenses: summaries,
    };
    write("wire_yst", "ok-code2auth", &json(&YstEnvelope::ok(exchange)));
    let submit = SubmitData { record_id: "R-4401061-000042".to_owned(), duplicate: true };
    write("wire_yst", "ok-submit", &json(&YstEnvelope::ok(submit)));
    write("wire_yst", "ok-gateway-error", &json(&GatewayErrorBody::of(gw::AUTH_FAILED)));
    write("wire_yst", "no-code-used", &json(&YstEnvelope::<Code2AuthData>::fail(20002, "粤商码已使用")));

    let license = wire_license(
        &uscc,
        r#"{"经营者名称":"广州市示例餐饮管理有限公司","主体业态":"餐饮服务经营者","许可证编号":"JY24401060000001"}"#,
    );
    write("wire_elicense", "ok-license", &json(&success(license.clone(), None)));
    let mut listed =
        wire_license(&uscc, r#"[{"name":"经营场所","value":"广州市天河区示例路1号"},{"key":"面积","value":120.5}]"#);
    listed.license_code = "44010620190002".to_owned();
    listed.expiry_date = "9999-12-31".to_owned();
    let codes = Some(vec!["ac-0001-5f1e9b".to_owned(), "ac-0002-5f1e9b".to_owned()]);
    write("wire_elicense", "ok-license-auth", &json(&success(vec![license, listed], codes)));
    let login = LoginData { access_token: "tok-3c5a9e01".to_owned(), expires_in: 7200 };
    write("wire_elicense", "ok-login", &json(&success(login, None)));
    let pdf = minimal_pdf(false);
    let archive = ArchiveData { file_name: "44010620240001.pdf".to_owned(), file_data: base64_encode(&pdf) };
    write("wire_elicense", "ok-archive", &json(&success(archive, None)));
    let mut refused = success::<LoginData>(LoginData { access_token: String::new(), expires_in: 0 }, None);
    refused.ack_code = el::ACK_FAILURE.to_owned();
    refused.data = None;
    refused.errors =
        vec![LicenseError { code: el::INVALID_ACCESS_TOKEN.to_owned(), message: "token expired".to_owned() }];
    write("wire_elicense", "no-invalid-token", &json(&refused));

    write("config", "ok-empty", b"");
    write(
        "config",
        "ok-sandbox",
        "mode = \"sandbox\"\n\n[hall]\ncode = \"4401061\"\nname = \"测试大厅\"\ncounter = \"B1\"\n".as_bytes(),
    );
    write("config", "ok-gateway", gateway_config(&uscc, &other_uscc).as_bytes());
    write("config", "no-unknown-key", b"[printing]\nrecheck_after_minutes = 10\ncolour = \"red\"\n");
    write("config", "no-retention", b"[audit]\nretention_days = 30\n");

    write("stamp", "ok-pdf", &[&[0u8][..], &pdf].concat());
    write("stamp", "ok-pdf-turned", &[&[0u8][..], &minimal_pdf(true)].concat());
    let photo = RgbImage::from_fn(16, 12, |x, y| Rgb([(x * 15) as u8, (y * 20) as u8, 128]));
    write("stamp", "ok-jpeg", &[&[1u8][..], &encode(DynamicImage::ImageRgb8(photo), ImageFormat::Jpeg)].concat());
    let scan = RgbaImage::from_fn(12, 16, |x, y| Rgba([200, (x * 20) as u8, (y * 15) as u8, 255]));
    write("stamp", "ok-png", &[&[2u8][..], &encode(DynamicImage::ImageRgba8(scan), ImageFormat::Png)].concat());
    write("stamp", "no-pdf-as-png", &[&[2u8][..], &pdf].concat());
    write("stamp", "no-found-png-claims-46-gb", &STAMP_PNG_CLAIMS_46_GB);
    write("stamp", "ok-found-pdf-after-other-bytes", STAMP_PDF_AFTER_OTHER_BYTES);

    let url = format!("https://yueshangma.sandbox.invalid/ysm/{code}");
    write("image", "ok-code.png", &encode(DynamicImage::ImageLuma8(qr(&url, 4)), ImageFormat::Png));
    write("image", "ok-uscc.jpeg", &encode(DynamicImage::ImageLuma8(qr(&uscc, 4)), ImageFormat::Jpeg));
    write(
        "image",
        "no-blank.png",
        &encode(DynamicImage::ImageLuma8(GrayImage::from_pixel(40, 40, Luma([255]))), ImageFormat::Png),
    );
}

/// A USCC from 17 invented characters and their check character.
fn made_uscc(first17: &str) -> String {
    let check = check_char(first17).unwrap_or_else(|| panic!("{first17}: 17 USCC characters"));
    format!("{first17}{check}")
}

fn summary(code: &str, name: &str, begin: &str, expiry: &str, status: &str) -> LicenseSummaryRef {
    LicenseSummaryRef {
        license_code: code.to_owned(),
        name: name.to_owned(),
        license_type: "许可证".to_owned(),
        id_code: format!("JY{code}"),
        issue_org_name: "广州市天河区市场监督管理局".to_owned(),
        begin_date: begin.to_owned(),
        expiry_date: expiry.to_owned(),
        license_status: status.to_owned(),
    }
}

fn wire_license(uscc: &str, data_fields: &str) -> WireLicense {
    WireLicense {
        license_code: "44010620240001".to_owned(),
        name: "食品经营许可证".to_owned(),
        license_type: "许可证".to_owned(),
        id_code: "JY24401060000001".to_owned(),
        license_item_code: "11440106MB2C00001N4440117001000".to_owned(),
        holder_name: "广州市示例餐饮管理有限公司".to_owned(),
        holder_identity_type: "统一社会信用代码".to_owned(),
        holder_identity_num: uscc.to_owned(),
        issue_org_name: "广州市天河区市场监督管理局".to_owned(),
        issue_date: "2024-01-01 09:30:00".to_owned(),
        begin_date: "2024-01-01".to_owned(),
        expiry_date: "2029-01-01".to_owned(),
        data_fields: data_fields.to_owned(),
        attachment_fields: serde_json::json!({"附件": []}),
        trust_level: "A".to_owned(),
        license_status: "ISSUED".to_owned(),
        division: "天河区".to_owned(),
        division_code: "440106".to_owned(),
        ..WireLicense::default()
    }
}

fn success<T>(data: T, auth_codes: Option<Vec<String>>) -> LicenseEnvelope<T> {
    LicenseEnvelope {
        ack_code: el::ACK_SUCCESS.to_owned(),
        errors: Vec::new(),
        timestamp: "2026-11-29 10:03:00".to_owned(),
        correlation_id: String::new(),
        response_id: "resp-0001".to_owned(),
        total_count: auth_codes.as_ref().map_or(1, |c| c.len() as u64),
        data: Some(data),
        auth_codes,
    }
}

fn json(value: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec_pretty(value).expect("a wire value serializes")
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A gateway configuration of invented values, complete enough for `into_settings`.
fn gateway_config(uscc: &str, other_uscc: &str) -> String {
    format!(
        r#"mode = "gateway"

[gateway]
environment = "test"
yst_base = "https://gateway.example.invalid/ebus/yst_counter"
license_base = "https://gateway.example.invalid/ebus/dzzz_convergence-service"
paasid = "yst_counter"
system_id = "sys-0001"
vender_id = "{uscc}"
department_id = "{other_uscc}"
account = "counter01"
app_key = "key-0001"

[operator]
account = "chenxm"
name = "陈晓敏"
role = "窗口受理人员"
division_code = "440106"
service_org = "广州市天河区政务服务中心"
service_org_code = "{other_uscc}"

[hall]
code = "4401061"
name = "广州市天河区政务服务中心"
counter = "A03"

[[service_items]]
code = "11440106MB2C00001N4440117001000"
name = "食品经营许可（新办）"

[printing]
recheck_after_minutes = 10

[privacy]
idle_clear_minutes = 2
lock_minutes = 0
"#
    )
}

/// A small PDF made with lopdf: one A4 page, or (`turned`) two pages of different sizes, the
/// second turned and cropped, its media box inherited from the page tree.
fn minimal_pdf(turned: bool) -> Vec<u8> {
    let mut doc = Document::with_version("1.7");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" });
    let resources = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font } });
    let content = |text: &str| {
        let ops = format!("0.9 g 40 40 200 100 re f 0 g BT /F1 18 Tf 60 80 Td ({text}) Tj ET");
        Stream::new(dictionary! {}, ops.into_bytes())
    };
    let first = doc.add_object(content("LICENSE 1"));
    let mut kids: Vec<Object> = vec![
        doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => first,
            "MediaBox" => box_of([0, 0, 595, 842]),
        })
        .into(),
    ];
    if turned {
        let second = doc.add_object(content("LICENSE 2"));
        kids.push(
            doc.add_object(dictionary! {
                "Type" => "Page", "Parent" => pages_id, "Contents" => vec![Object::Reference(second)],
                "Rotate" => Object::Integer(90),
                "CropBox" => box_of([10, 10, 410, 290]),
            })
            .into(),
        );
    }
    let count = kids.len() as i64;
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => kids, "Count" => count, "Resources" => resources,
            "MediaBox" => box_of([0, 0, 420, 300]),
        }),
    );
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).expect("a PDF written");
    bytes
}

fn box_of(numbers: [i64; 4]) -> Vec<Object> {
    numbers.into_iter().map(Object::Integer).collect()
}

/// A QR code of `text`, `module` pixels a module, with its four-module quiet zone.
fn qr(text: &str, module: u32) -> GrayImage {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M).expect("fits a QR code");
    let modules = code.width() as u32;
    let dark: Vec<bool> = code.to_colors().into_iter().map(|c| c == qrcode::Color::Dark).collect();
    GrayImage::from_fn((modules + 8) * module, (modules + 8) * module, |x, y| {
        let (mx, my) = ((x / module) as i64 - 4, (y / module) as i64 - 4);
        let inside = (0..i64::from(modules)).contains(&mx) && (0..i64::from(modules)).contains(&my);
        Luma([if inside && dark[(my * i64::from(modules) + mx) as usize] { 0 } else { 255 }])
    })
}

fn encode(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    image.write_to(&mut Cursor::new(&mut bytes), format).expect("an image encoded");
    bytes
}
