//! Sample enterprises, licenses and service items of the sandbox (fictional, with valid check characters).
//!
//! Every enterprise, person, address and number here is invented. Identifiers are built with the
//! core crate's own check-character functions, so that the counter's validation accepts them exactly
//! as it would accept real ones. The data is computed once and cloned, so every call gives the same.

use base64::Engine as _;
use std::sync::OnceLock;
use yueshang_core::domain::{license_id, uscc};
use yueshang_core::wire::elicense::WireLicense;

/// One enterprise of the sandbox, with what its consent lets a hall read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleEnterprise {
    pub name: String,
    /// 18 characters with a valid GB 32100 check character.
    pub uscc: String,
    /// Masked as the gateway masks it: `张*`, `欧阳**`.
    pub legal_rep_name: String,
    /// What the sample is for, in Chinese and English.
    pub note: String,
    pub consent: Consent,
    pub licenses: Vec<SampleLicense>,
}

/// What the enterprise answers in its in-app consent when a hall scans its code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consent {
    /// Every license is ticked.
    Granted,
    /// The enterprise refused (errcode 40004).
    Declined,
    /// The enterprise agreed but ticked no license: the authorization is empty.
    NothingTicked,
}

/// A license and the kind of file the issuing system holds for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SampleLicense {
    pub license: WireLicense,
    pub file: FileKind,
}

/// The file behind a license: a generated PDF, a scan of a paper certificate, or a PDF of
/// archival scans (about 1 MB a page: the large files).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    Pdf,
    ScannedJpeg,
    ScannedPdf,
}

/// All sample enterprises, the normal one first; the same on every call.
pub fn enterprises() -> Vec<SampleEnterprise> {
    static SAMPLES: OnceLock<Vec<SampleEnterprise>> = OnceLock::new();
    SAMPLES.get_or_init(build_enterprises).clone()
}

/// The enterprise with this USCC (case and surrounding blanks ignored).
pub fn find(uscc: &str) -> Option<SampleEnterprise> {
    let wanted = uscc.trim().to_ascii_uppercase();
    enterprises().into_iter().find(|e| e.uscc == wanted)
}

/// The sandbox's service items (事项) as `(code, name)`; codes are unique.
///
/// A code is shaped like a Guangdong 实施编码: the implementing department's USCC followed by 13 digits.
pub fn service_items() -> Vec<(String, String)> {
    let items: [(&str, &str, &str); 8] = [
        ("广州市天河区市场监督管理局", "440106", "企业设立登记"),
        ("广州市天河区市场监督管理局", "440106", "食品经营许可（新办）"),
        ("广东省药品监督管理局", "440000", "药品经营许可证变更"),
        ("佛山市禅城区住房和城乡建设局", "440604", "建筑工程施工许可证核发"),
        ("东莞市交通运输局", "441900", "道路货物运输经营许可"),
        ("广州市天河区卫生健康局", "440106", "公共场所卫生许可（新办）"),
        ("汕头市生态环境局", "440500", "排污许可证核发"),
        ("中山市文化广电旅游体育局", "442000", "出版物零售单位设立"),
    ];
    items
        .iter()
        .enumerate()
        .map(|(i, (org, division, name))| {
            let code = format!("{}444{:03}{:04}000", government_uscc(division, org), 117 + i * 3, 1001 + i);
            (code, (*name).to_owned())
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Places and holders

/// A prefecture-level city of Guangdong, with the abbreviations licenses use.
struct City {
    name: &'static str,
    /// One-character abbreviation used in license numbers (穗, 深, 莞 …).
    short: &'static str,
    division_code: &'static str,
    /// Vehicle-plate letter, used in special-equipment registration numbers (粤A = 广州).
    plate: &'static str,
    /// Telephone area code, used in drug-license numbers.
    area_code: &'static str,
}

const GUANGZHOU: City =
    City { name: "广州市", short: "穗", division_code: "440100", plate: "A", area_code: "0200" };
const SHENZHEN: City = City { name: "深圳市", short: "深", division_code: "440300", plate: "B", area_code: "7550" };
const FOSHAN: City = City { name: "佛山市", short: "佛", division_code: "440600", plate: "E", area_code: "7570" };
const DONGGUAN: City = City { name: "东莞市", short: "莞", division_code: "441900", plate: "S", area_code: "7690" };
const ZHUHAI: City = City { name: "珠海市", short: "珠", division_code: "440400", plate: "C", area_code: "7560" };
const SHANTOU: City = City { name: "汕头市", short: "汕", division_code: "440500", plate: "D", area_code: "7540" };
const JIANGMEN: City = City { name: "江门市", short: "江", division_code: "440700", plate: "J", area_code: "7500" };
const ZHONGSHAN: City =
    City { name: "中山市", short: "中", division_code: "442000", plate: "T", area_code: "7600" };

/// The enterprise a license is issued to, with what its face fields repeat.
struct Holder {
    name: &'static str,
    /// The first 17 characters of the USCC; the check character is computed.
    uscc17: &'static str,
    /// The full (fictional) name; the gateway only ever shows it masked.
    legal_rep: &'static str,
    city: &'static City,
    /// Empty for the cities without districts (东莞, 中山).
    district: &'static str,
    division_code: &'static str,
    address: &'static str,
    founded: &'static str,
    capital: &'static str,
    company_type: &'static str,
    business_scope: &'static str,
}

impl Holder {
    fn uscc(&self) -> String {
        complete_uscc(self.uscc17)
    }

    /// `广州市天河区`, or just the city where there are no districts.
    fn division(&self) -> String {
        format!("{}{}", self.city.name, self.district)
    }
}

/// Appends the GB 32100 check character; the sample data is fixed, so a bad body is a bug here.
fn complete_uscc(first17: &str) -> String {
    let check = uscc::check_char(first17).unwrap_or_else(|| panic!("sample USCC body {first17:?} is not valid"));
    format!("{first17}{check}")
}

/// A government body's USCC (category 11), derived from its name so that it is stable and distinct.
fn government_uscc(division_code: &str, org_name: &str) -> String {
    let org_code = fnv1a(org_name.as_bytes()) % 10_000_000;
    complete_uscc(&format!("11{division_code}00{org_code:07}"))
}

/// FNV-1a: a tiny stable hash for deriving invented numbers from names (not for security).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3))
}

/// Masks a legal representative's name as the gateway does: the surname stays, the rest is `*`.
fn mask_name(full: &str) -> String {
    const COMPOUND_SURNAMES: [&str; 6] = ["欧阳", "司马", "上官", "诸葛", "东方", "司徒"];
    let surname_len = if COMPOUND_SURNAMES.iter().any(|s| full.starts_with(s)) { 2 } else { 1 };
    full.chars().enumerate().map(|(i, c)| if i < surname_len { c } else { '*' }).collect()
}

// ---------------------------------------------------------------------------------------------
// Kinds of license

/// The kinds of license in the sandbox; each knows its catalogue, issuer, number format and face.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    BusinessLicense,
    FoodBusiness,
    FoodProduction,
    DrugBusiness,
    MedicalDevice,
    ConstructionQualification,
    SafetyProduction,
    RoadTransport,
    PublicPlaceHygiene,
    PollutantDischarge,
    HazardousChemicals,
    SpecialEquipment,
    Publication,
    HumanResources,
    ConstructionPermit,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::BusinessLicense => "营业执照",
            Kind::FoodBusiness => "食品经营许可证",
            Kind::FoodProduction => "食品生产许可证",
            Kind::DrugBusiness => "药品经营许可证",
            Kind::MedicalDevice => "医疗器械经营许可证",
            Kind::ConstructionQualification => "建筑业企业资质证书",
            Kind::SafetyProduction => "安全生产许可证",
            Kind::RoadTransport => "道路运输经营许可证",
            Kind::PublicPlaceHygiene => "公共场所卫生许可证",
            Kind::PollutantDischarge => "排污许可证",
            Kind::HazardousChemicals => "危险化学品经营许可证",
            Kind::SpecialEquipment => "特种设备使用登记证",
            Kind::Publication => "出版物经营许可证",
            Kind::HumanResources => "人力资源服务许可证",
            Kind::ConstructionPermit => "建筑工程施工许可证",
        }
    }

    /// A construction permit approves one project; the others certify the holder.
    fn license_type(self) -> &'static str {
        match self {
            Kind::ConstructionPermit => "APPROVAL",
            _ => "CERTIFICATE",
        }
    }

    /// The national department that owns the catalogue entry, and the entry's number.
    fn catalogue(self) -> (&'static str, u16) {
        match self {
            Kind::BusinessLicense => ("国家市场监督管理总局", 11),
            Kind::FoodBusiness => ("国家市场监督管理总局", 24),
            Kind::FoodProduction => ("国家市场监督管理总局", 23),
            Kind::SpecialEquipment => ("国家市场监督管理总局", 57),
            Kind::DrugBusiness => ("国家药品监督管理局", 3),
            Kind::MedicalDevice => ("国家药品监督管理局", 12),
            Kind::ConstructionQualification => ("中华人民共和国住房和城乡建设部", 2),
            Kind::SafetyProduction => ("中华人民共和国住房和城乡建设部", 9),
            Kind::ConstructionPermit => ("中华人民共和国住房和城乡建设部", 15),
            Kind::RoadTransport => ("中华人民共和国交通运输部", 6),
            Kind::PublicPlaceHygiene => ("中华人民共和国国家卫生健康委员会", 18),
            Kind::PollutantDischarge => ("中华人民共和国生态环境部", 1),
            Kind::HazardousChemicals => ("中华人民共和国应急管理部", 4),
            Kind::Publication => ("国家新闻出版署", 7),
            Kind::HumanResources => ("中华人民共和国人力资源和社会保障部", 21),
        }
    }

    /// The 21-character license type code of GB/T 36904: catalogue owner's USCC and entry number.
    fn type_code(self) -> String {
        let (owner, entry) = self.catalogue();
        format!("{}{entry:03}", government_uscc("100000", owner))
    }

    /// The issuing body: its name and the division code of its level (province, city or district).
    fn issuer(self, h: &Holder) -> (String, &'static str) {
        let city = |dept: &str| (format!("{}{dept}", h.city.name), h.city.division_code);
        let local = |dept: &str| (format!("{}{dept}", h.division()), h.division_code);
        let province = |dept: &str| (format!("广东省{dept}"), "440000");
        match self {
            Kind::BusinessLicense | Kind::FoodBusiness => local("市场监督管理局"),
            Kind::FoodProduction | Kind::MedicalDevice | Kind::SpecialEquipment => city("市场监督管理局"),
            Kind::DrugBusiness => province("药品监督管理局"),
            Kind::ConstructionQualification | Kind::SafetyProduction => province("住房和城乡建设厅"),
            Kind::ConstructionPermit => local("住房和城乡建设局"),
            Kind::RoadTransport => city("交通运输局"),
            Kind::PublicPlaceHygiene => local("卫生健康局"),
            Kind::PollutantDischarge => city("生态环境局"),
            Kind::HazardousChemicals => local("应急管理局"),
            Kind::Publication => local("文化广电旅游体育局"),
            Kind::HumanResources => city("人力资源和社会保障局"),
        }
    }

    /// The license number (证照号码) in the format each issuer uses.
    fn id_code(self, h: &Holder, spec: &Spec, seq: u32) -> String {
        let year = &spec.issued[..4];
        let (div, short) = (h.division_code, h.city.short);
        match self {
            Kind::BusinessLicense => h.uscc(),
            // JY + 主体业态 digit + division + serial + check digit.
            Kind::FoodBusiness => format!("JY{}{div}{:06}{}", spec.part(2).unwrap_or("2"), 1200 + seq * 7, seq % 10),
            Kind::FoodProduction => format!("SC107{div}{:04}{}", 300 + seq, seq % 10),
            Kind::DrugBusiness => format!("粤CA{}{:03}", h.city.area_code, 100 + seq),
            Kind::MedicalDevice => format!("粤{short}食药监械经营许{year}{:04}", 20 + seq),
            Kind::ConstructionQualification => format!("D244{:06}", 60_000 + seq * 13),
            Kind::SafetyProduction => format!("(粤)JZ安许证字[{year}]{}{:02}", &div[2..], seq),
            Kind::RoadTransport => format!("粤交运管许可{short}字{div}{:06}号", 10_000 + seq),
            Kind::PublicPlaceHygiene => format!("粤卫公证字[{year}]第{}A{:05}号", &div[2..], 100 + seq),
            Kind::PollutantDischarge => format!("{}001V", h.uscc()),
            Kind::HazardousChemicals => {
                let district = h.district.chars().next().map(String::from).unwrap_or_default();
                format!("粤{short}{district}危化经字[{year}]{:06}", 100 + seq)
            }
            Kind::SpecialEquipment => {
                let prefix = spec.part(2).unwrap_or("梯");
                format!("{prefix}11粤{}{:05}({})", h.city.plate, 2000 + seq, &year[2..])
            }
            Kind::Publication => format!("新出发{short}零字第{year}{:04}号", 10 + seq),
            Kind::HumanResources => format!("(粤){}人服证字({year})第{div}{:04}号", h.city.short, 100 + seq),
            Kind::ConstructionPermit => format!("{div}{}{:02}01", spec.issued.replace('-', ""), seq % 100),
        }
    }

    /// The face fields in the order the certificate prints them.
    fn face(self, h: &Holder, spec: &Spec, id_code: &str, issuer: &str) -> Vec<(&'static str, String)> {
        let part = |i: usize| spec.part(i).unwrap_or_default().to_owned();
        let validity = format!("{}至{}", chinese_date(spec.issued), chinese_date(spec.expiry));
        let s = |v: &str| v.to_owned();
        match self {
            Kind::BusinessLicense => vec![
                ("名称", s(h.name)),
                ("统一社会信用代码", h.uscc()),
                ("类型", s(h.company_type)),
                ("法定代表人", s(h.legal_rep)),
                ("注册资本", s(h.capital)),
                ("成立日期", chinese_date(h.founded)),
                ("营业期限", format!("{}至长期", chinese_date(h.founded))),
                ("住所", s(h.address)),
                ("经营范围", s(h.business_scope)),
                ("登记机关", s(issuer)),
                ("登记日期", chinese_date(spec.issued)),
            ],
            Kind::FoodBusiness => vec![
                ("经营者名称", s(h.name)),
                ("社会信用代码（身份证号码）", h.uscc()),
                ("法定代表人（负责人）", s(h.legal_rep)),
                ("住所", s(h.address)),
                ("经营场所", s(h.address)),
                ("主体业态", part(0)),
                ("经营项目", part(1)),
                ("许可证编号", s(id_code)),
                ("日常监督管理机构", format!("{}市场监督管理局", h.division())),
                ("投诉举报电话", s("12315")),
                ("发证机关", s(issuer)),
                ("签发日期", chinese_date(spec.issued)),
                ("有效期至", chinese_date(spec.expiry)),
            ],
            Kind::FoodProduction => vec![
                ("生产者名称", s(h.name)),
                ("社会信用代码（身份证号码）", h.uscc()),
                ("法定代表人（负责人）", s(h.legal_rep)),
                ("住所", s(h.address)),
                ("生产地址", part(1)),
                ("食品类别", part(0)),
                ("许可证编号", s(id_code)),
                ("日常监督管理机构", format!("{}市场监督管理局", h.division())),
                ("发证机关", s(issuer)),
                ("有效期至", chinese_date(spec.expiry)),
            ],
            Kind::DrugBusiness => vec![
                ("企业名称", s(h.name)),
                ("统一社会信用代码", h.uscc()),
                ("法定代表人", s(h.legal_rep)),
                ("企业负责人", s(h.legal_rep)),
                ("质量负责人", part(2)),
                ("注册地址", s(h.address)),
                ("仓库地址", part(3)),
                ("经营方式", part(0)),
                ("经营范围", part(1)),
                ("证号", s(id_code)),
                ("发证机关", s(issuer)),
                ("有效期至", chinese_date(spec.expiry)),
            ],
            Kind::MedicalDevice => vec![
                ("企业名称", s(h.name)),
                ("统一社会信用代码", h.uscc()),
                ("法定代表人", s(h.legal_rep)),
                ("企业负责人", s(h.legal_rep)),
                ("住所", s(h.address)),
                ("经营场所", s(h.address)),
                ("库房地址", part(1)),
                ("经营方式", s("批零兼营")),
                ("经营范围", part(0)),
                ("许可证编号", s(id_code)),
                ("发证部门", s(issuer)),
                ("有效期限", validity),
            ],
            Kind::ConstructionQualification => vec![
                ("企业名称", s(h.name)),
                ("统一社会信用代码", h.uscc()),
                ("法定代表人", s(h.legal_rep)),
                ("注册资本", s(h.capital)),
                ("详细地址", s(h.address)),
                ("经济性质", s(h.company_type)),
                ("资质类别及等级", part(0)),
                ("证书编号", s(id_code)),
                ("发证机关", s(issuer)),
                ("有效期", format!("至{}", chinese_date(spec.expiry))),
            ],
            Kind::SafetyProduction => vec![
                ("单位名称", s(h.name)),
                ("主要负责人", s(h.legal_rep)),
                ("单位地址", s(h.address)),
                ("经济类型", s(h.company_type)),
                ("许可范围", part(0)),
                ("编号", s(id_code)),
                ("有效期", validity),
                ("发证机关", s(issuer)),
            ],
            Kind::RoadTransport => vec![
                ("业户名称", s(h.name)),
                ("地址", s(h.address)),
                ("经济类型", s(h.company_type)),
                ("经营范围", part(0)),
                ("证号", s(id_code)),
                ("有效期至", chinese_date(spec.expiry)),
                ("发证机关", s(issuer)),
            ],
            Kind::PublicPlaceHygiene => vec![
                ("单位名称", s(h.name)),
                ("法定代表人（负责人）", s(h.legal_rep)),
                ("地址", s(h.address)),
                ("许可项目", part(0)),
                ("证号", s(id_code)),
                ("有效期限", validity),
                ("发证机关", s(issuer)),
            ],
            Kind::PollutantDischarge => vec![
                ("单位名称", s(h.name)),
                ("注册地址", s(h.address)),
                ("法定代表人（主要负责人）", s(h.legal_rep)),
                ("生产经营场所地址", part(1)),
                ("行业类别", part(0)),
                ("统一社会信用代码", h.uscc()),
                ("证书编号", s(id_code)),
                ("有效期限", validity),
                ("发证机关", s(issuer)),
            ],
            Kind::HazardousChemicals => vec![
                ("企业名称", s(h.name)),
                ("法定代表人（主要负责人）", s(h.legal_rep)),
                ("注册地址", s(h.address)),
                ("经营方式", s("不带储存经营")),
                ("许可范围", part(0)),
                ("证书编号", s(id_code)),
                ("有效期", validity),
                ("发证机关", s(issuer)),
            ],
            Kind::SpecialEquipment => vec![
                ("使用单位名称", s(h.name)),
                ("使用单位地址", s(h.address)),
                ("设备类别", part(0)),
                ("设备品种", part(1)),
                ("设备代码", part(3)),
                ("单位内编号", part(4)),
                ("登记证编号", s(id_code)),
                ("登记机关", s(issuer)),
                ("登记日期", chinese_date(spec.issued)),
            ],
            Kind::Publication => vec![
                ("单位名称", s(h.name)),
                ("法定代表人（负责人）", s(h.legal_rep)),
                ("经营场所", s(h.address)),
                ("经营范围", part(0)),
                ("经营方式", s("零售")),
                ("许可证编号", s(id_code)),
                ("有效期", validity),
                ("发证机关", s(issuer)),
            ],
            Kind::HumanResources => vec![
                ("机构名称", s(h.name)),
                ("统一社会信用代码", h.uscc()),
                ("法定代表人", s(h.legal_rep)),
                ("住所", s(h.address)),
                ("服务范围", part(0)),
                ("许可证编号", s(id_code)),
                ("有效期", validity),
                ("发证机关", s(issuer)),
            ],
            Kind::ConstructionPermit => vec![
                ("建设单位", s(h.name)),
                ("工程名称", part(0)),
                ("建设地址", part(1)),
                ("建设规模", part(2)),
                ("合同价格", part(3)),
                ("施工单位", part(4)),
                ("合同工期", part(5)),
                ("编号", s(id_code)),
                ("发证机关", s(issuer)),
                ("发证日期", chinese_date(spec.issued)),
            ],
        }
    }
}

/// `2023-05-12` → `2023年05月12日`, the way certificates print dates; `长期` stays.
fn chinese_date(iso: &str) -> String {
    match (iso.get(0..4), iso.get(5..7), iso.get(8..10)) {
        (Some(y), Some(m), Some(d)) if iso.len() == 10 => format!("{y}年{m}月{d}日"),
        _ => iso.to_owned(),
    }
}

/// How one sample license differs from the others of its kind.
struct Spec {
    kind: Kind,
    /// The kind's variable face fields, separated by `|` (经营项目, 许可范围, 设备品种 …);
    /// `Kind::face` and `Kind::id_code` say which part is which.
    detail: &'static str,
    /// Issue date, also the begin of validity, `yyyy-MM-dd`.
    issued: &'static str,
    /// `yyyy-MM-dd` or `长期`.
    expiry: &'static str,
    version: u16,
    /// `(reason, date)` when the issuer abolished it.
    abolished: Option<(&'static str, &'static str)>,
    file: FileKind,
    /// Pages of the issuer's PDF: the certificate, then appendix pages (附页) of the permit's detail.
    pages: u16,
}

impl Spec {
    fn part(&self, i: usize) -> Option<&'static str> {
        self.detail.split('|').nth(i).filter(|p| !p.is_empty())
    }
}

/// A valid license stored as a PDF: the common case.
const fn valid(kind: Kind, detail: &'static str, issued: &'static str, expiry: &'static str) -> Spec {
    Spec { kind, detail, issued, expiry, version: 1, abolished: None, file: FileKind::Pdf, pages: 1 }
}

/// The business license: no end of validity, issued on the latest registration.
const fn business_license(issued: &'static str) -> Spec {
    valid(Kind::BusinessLicense, "", issued, "长期")
}

// ---------------------------------------------------------------------------------------------
// Building the licenses

fn build_license(h: &Holder, spec: &Spec, seq: u32, serial: &str) -> SampleLicense {
    let kind = spec.kind;
    let (issuer, issuer_division_code) = kind.issuer(h);
    let issuer_code = government_uscc(issuer_division_code, &issuer);
    let id_code = kind.id_code(h, spec, seq);
    let license_code = license_id::build(&kind.type_code(), &issuer_code, serial, spec.version)
        .unwrap_or_else(|| panic!("sample license identifier for {} is not buildable", kind.name()));
    let face = kind.face(h, spec, &id_code, &issuer);
    let last_modified = match spec.abolished {
        Some((_, date)) => format!("{date} 16:{:02}:{:02}", seq % 60, (seq * 7) % 60),
        None => format!("{} {:02}:{:02}:{:02}", spec.issued, 9 + seq % 8, (seq * 13) % 60, (seq * 29) % 60),
    };
    let signature = FakeSignature::for_license(&license_code);
    let license = WireLicense {
        name: kind.name().to_owned(),
        license_type: kind.license_type().to_owned(),
        id_code,
        license_item_code: kind.type_code(),
        holder_name: h.name.to_owned(),
        holder_identity_type: "001".to_owned(),
        holder_identity_num: h.uscc(),
        issue_org_name: issuer,
        issue_org_code: issuer_code,
        // The division is where the holder is, whatever the level of the issuer.
        division: h.division(),
        division_code: h.division_code.to_owned(),
        issue_date: spec.issued.to_owned(),
        begin_date: if kind == Kind::BusinessLicense { h.founded.to_owned() } else { spec.issued.to_owned() },
        expiry_date: spec.expiry.to_owned(),
        data_fields: json_object(&face),
        attachment_fields: attachment(spec.file, spec.pages, &license_code),
        trust_level: "A".to_owned(),
        license_status: if spec.abolished.is_some() { "ABOLISHED" } else { "ISSUED" }.to_owned(),
        abolish_reason: spec.abolished.map(|(reason, _)| reason.to_owned()),
        public_key: signature.public_key,
        s_sign_cert: signature.cert,
        algorithm: "SM2".to_owned(),
        s_sign_data: signature.data,
        last_modification_time: last_modified,
        license_code,
    };
    SampleLicense { license, file: spec.file }
}

/// A JSON object written by hand so that the keys keep the certificate's order
/// (serde_json's map would sort them).
fn json_object(pairs: &[(&str, String)]) -> String {
    let members: Vec<String> = pairs.iter().map(|(k, v)| format!("{}:{}", json_string(k), json_string(v))).collect();
    format!("{{{}}}", members.join(","))
}

fn json_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// The attachment list the issuing system reports: one file, PDF or scanned image; a PDF of
/// more than one page also says how many (`page_count`), which the sandbox renders.
fn attachment(file: FileKind, pages: u16, license_code: &str) -> serde_json::Value {
    let (file_type, label) = match file {
        FileKind::Pdf => ("pdf", "电子证照版式文件"),
        FileKind::ScannedJpeg => ("jpg", "纸质证照扫描件"),
        FileKind::ScannedPdf => ("pdf", "纸质证照扫描件（PDF）"),
    };
    let tail = license_code.rsplit('.').nth(2).unwrap_or("0");
    let mut entry =
        serde_json::json!({ "name": label, "file_type": file_type, "file_name": format!("{tail}.{file_type}") });
    if pages > 1 {
        entry["page_count"] = pages.into();
    }
    serde_json::json!([entry])
}

/// Plausible-looking SM2 signing fields; the sandbox signs nothing, it only fills the shape.
struct FakeSignature {
    public_key: String,
    cert: String,
    data: String,
}

impl FakeSignature {
    fn for_license(license_code: &str) -> Self {
        let bytes = |label: &str, n: usize| -> Vec<u8> {
            let mut state = fnv1a(format!("{label}{license_code}").as_bytes());
            (0..n)
                .map(|_| {
                    state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                    (state >> 56) as u8
                })
                .collect()
        };
        let b64 = |v: Vec<u8>| base64::engine::general_purpose::STANDARD.encode(v);
        // An uncompressed SM2 point, a DER certificate header and a DER (r, s) signature header.
        let public_key = format!("04{}", hex_upper(&bytes("pk", 64)));
        let cert = b64([vec![0x30, 0x82, 0x01, 0xb6, 0x30, 0x82, 0x01, 0x5a, 0xa0, 0x03], bytes("cert", 428)].concat());
        let data = b64([vec![0x30, 0x44, 0x02, 0x20], bytes("r", 32), vec![0x02, 0x20], bytes("s", 32)].concat());
        FakeSignature { public_key, cert, data }
    }
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

fn sample(h: &Holder, note: &str, consent: Consent, specs: &[Spec], first_seq: u32) -> SampleEnterprise {
    let mut serials: Vec<(Kind, String)> = Vec::new();
    let mut licenses = Vec::new();
    for (spec, seq) in specs.iter().zip(first_seq..) {
        // One serial per certificate (division, year and a running number), so identifiers are unique;
        // a reissued certificate (version 2 or later) keeps the serial of the one it replaces.
        let replaced = serials.iter().rev().find(|(kind, _)| *kind == spec.kind && spec.version > 1);
        let serial = match replaced {
            Some((_, serial)) => serial.clone(),
            None => format!("{}{}{:05}", h.division_code, &spec.issued[..4], 100 + seq),
        };
        licenses.push(build_license(h, spec, seq, &serial));
        serials.push((spec.kind, serial));
    }
    SampleEnterprise {
        name: h.name.to_owned(),
        uscc: h.uscc(),
        legal_rep_name: mask_name(h.legal_rep),
        note: note.to_owned(),
        consent,
        licenses,
    }
}

// ---------------------------------------------------------------------------------------------
// The sample set

fn build_enterprises() -> Vec<SampleEnterprise> {
    let mut seq = 1;
    let mut out = Vec::new();
    for (holder, note, consent, specs) in sample_set() {
        let count = specs.len() as u32;
        out.push(sample(&holder, &note, consent, &specs, seq));
        seq += count;
    }
    out
}

fn sample_set() -> Vec<(Holder, String, Consent, Vec<Spec>)> {
    let many = many_licenses();
    vec![
        (normal_restaurant(), "常规：3 张有效证照 (normal)".to_owned(), Consent::Granted, normal_licenses()),
        (retail_group(), format!("证照多：{} 张 (many licenses)", many.len()), Consent::Granted, many),
        (builder(), "含已注销证照 (revoked license)".to_owned(), Consent::Granted, revoked_licenses()),
        (logistics(), "含已过期证照 (expired license)".to_owned(), Consent::Granted, expired_licenses()),
        (tech_firm(), "拒绝授权 (consent declined)".to_owned(), Consent::Declined, declined_licenses()),
        (toy_maker(), "授权清单为空 (nothing authorized)".to_owned(), Consent::NothingTicked, toy_licenses()),
        (pharmacy(), "含扫描件 JPEG (scanned image)".to_owned(), Consent::Granted, scanned_licenses()),
        (bookshop(), "常规：书店 3 张有效证照 (normal, bookshop)".to_owned(), Consent::Granted, bookshop_licenses()),
        (
            plating(),
            format!("长文件：排污许可证 PDF 共 {LONG_FILE_PAGES} 页 (long PDF)"),
            Consent::Granted,
            plating_licenses(),
        ),
        (
            convenience_chain(),
            format!("连锁门店：{CHAIN_STORES} 家门店，{} 张证照 (chain, 40 licenses)", CHAIN_STORES + 1),
            Consent::Granted,
            chain_licenses(),
        ),
        (
            machinery(),
            format!("大文件：约 100 KB、1 MB、{LARGE_SCAN_PAGES} MB 的 PDF (large files)"),
            Consent::Granted,
            machinery_licenses(),
        ),
    ]
}

/// Pages of the largest sample file, a PDF of archival scans at about 1 MB a page.
pub const LARGE_SCAN_PAGES: u16 = 8;

fn machinery() -> Holder {
    Holder {
        name: "佛山市顺德区粤晟机电设备有限公司",
        uscc17: "91440606MA4W7JK3P",
        legal_rep: "梁志豪",
        city: &FOSHAN,
        district: "顺德区",
        division_code: "440606",
        address: "佛山市顺德区北滘镇粤晟工业园3号厂房",
        founded: "2017-05-22",
        capital: "人民币伍仟万元",
        company_type: "有限责任公司（自然人投资或控股）",
        business_scope: "通用设备制造；机械电气设备制造；特种设备安装改造修理；货物进出口。\
            （依法须经批准的项目，经相关部门批准后方可开展经营活动）",
    }
}

/// Files of three sizes for the viewer's re-open figures: the discharge permit with its outlets'
/// appendix, generated (about 100 KB); a boiler's registration scanned on one page (about 1 MB);
/// a pressure vessel's registration scanned with its inspection reports, eight pages (about 8 MB).
fn machinery_licenses() -> Vec<Spec> {
    vec![
        Spec {
            pages: 32,
            ..valid(
                Kind::PollutantDischarge,
                "金属结构制造；涂装|佛山市顺德区北滘镇粤晟工业园3号厂房",
                "2024-01-15",
                "2029-01-14",
            )
        },
        Spec {
            file: FileKind::ScannedPdf,
            ..valid(
                Kind::SpecialEquipment,
                "锅炉|承压蒸汽锅炉|锅|21104406062021050118|GL-02",
                "2021-05-18",
                "2027-05-17",
            )
        },
        // Kept on paper with its inspection reports until the issuer scanned its archive.
        Spec {
            file: FileKind::ScannedPdf,
            pages: LARGE_SCAN_PAGES,
            ..valid(
                Kind::SpecialEquipment,
                "压力容器|固定式压力容器|容|23104406062020110057|RQ-03",
                "2020-11-20",
                "2030-11-19",
            )
        },
    ]
}

/// The stores of the convenience chain, each with its own food business license: with the
/// business license, 40 licenses, as many as one authorization brings (for the concurrency tests).
const CHAIN_STORES: usize = 39;

fn convenience_chain() -> Holder {
    Holder {
        name: "广州市禾穗便利连锁有限公司",
        uscc17: "91440101MA5CW8NB4",
        legal_rep: "何嘉俊",
        city: &GUANGZHOU,
        district: "越秀区",
        division_code: "440104",
        address: "广州市越秀区禾穗街28号首层",
        founded: "2016-02-18",
        capital: "人民币贰仟万元",
        company_type: "有限责任公司（自然人投资或控股）",
        business_scope: "便利店零售；预包装食品销售；日用百货销售；鲜花零售；代收代缴服务。\
            （依法须经批准的项目，经相关部门批准后方可开展经营活动）",
    }
}

fn chain_licenses() -> Vec<Spec> {
    let streets = ["禾穗街", "东风中路", "环市东路", "中山五路", "北京路", "解放北路", "农林下路", "建设六马路"];
    let mut specs = vec![business_license("2016-02-18")];
    specs.extend((1..=CHAIN_STORES).map(|store| {
        let street = streets[store % streets.len()];
        let number = 10 + store * 7;
        // Specs hold static text; these few lines are made once, when the samples are (`OnceLock`).
        let detail = format!("食品销售经营者（便利店）|预包装食品销售；散装食品销售；自制饮品制售（第{store}号门店：{street}{number}号）|3");
        valid(
            Kind::FoodBusiness,
            detail.leak(),
            "2024-03-01",
            "2029-02-28",
        )
    }));
    specs
}

fn normal_restaurant() -> Holder {
    Holder {
        name: "广州禾岸餐饮管理有限公司",
        uscc17: "91440106MA5D2H7K3",
        legal_rep: "陈志明",
        city: &GUANGZHOU,
        district: "天河区",
        division_code: "440106",
        address: "广州市天河区禾岸路18号二层201房",
        founded: "2017-04-21",
        capital: "人民币伍佰万元",
        company_type: "有限责任公司（自然人投资或控股）",
        business_scope: "餐饮管理；餐饮服务；食品销售；外卖递送服务；会议及展览服务。（依法须经批准的项目，经相关部门批准后方可开展经营活动）",
    }
}

fn normal_licenses() -> Vec<Spec> {
    vec![
        business_license("2023-05-12"),
        valid(
            Kind::FoodBusiness,
            "餐饮服务经营者（中型餐馆）|热食类食品制售；冷食类食品制售；自制饮品制售（不含自酿酒）|2",
            "2024-08-16",
            "2029-08-15",
        ),
        valid(Kind::SpecialEquipment, "锅炉|承压蒸汽锅炉|锅|21104401062023070156|GL-01", "2023-07-20", "2029-07-19"),
    ]
}

fn retail_group() -> Holder {
    Holder {
        name: "深圳市鹏岚商业连锁集团有限公司",
        uscc17: "91440300MA5F8LQ26",
        legal_rep: "欧阳子谦",
        city: &SHENZHEN,
        district: "南山区",
        division_code: "440305",
        address: "深圳市南山区粤海街道鹏岚路66号鹏岚商业中心1栋101",
        founded: "2018-09-03",
        capital: "人民币伍仟万元",
        company_type: "有限责任公司",
        business_scope: "日用百货、服装鞋帽、家用电器、图书报刊的零售；供应链管理；普通货物仓储；人力资源服务；\
            食品销售；药品零售；第三类医疗器械经营；出版物零售；道路货物运输（不含危险货物）。\
            （依法须经批准的项目，经相关部门批准后方可开展经营活动）",
    }
}

fn many_licenses() -> Vec<Spec> {
    vec![
        business_license("2024-03-18"),
        valid(
            Kind::FoodBusiness,
            "食品销售经营者（大型超市）|预包装食品（含冷藏冷冻食品）销售；散装食品（含冷藏冷冻食品）销售；\
             特殊食品销售（保健食品、婴幼儿配方乳粉）；热食类食品制售|1",
            "2024-06-11",
            "2029-06-10",
        ),
        valid(
            Kind::FoodProduction,
            "糕点；速冻食品；熟肉制品|深圳市南山区西丽街道鹏岚路88号中央厨房A栋",
            "2025-01-09",
            "2030-01-08",
        ),
        valid(
            Kind::DrugBusiness,
            "零售连锁总部|处方药、甲类非处方药、乙类非处方药：中药饮片、中成药、化学药、生物制品（除疫苗）|\
             罗婉清|深圳市南山区西丽街道鹏岚路88号物流中心3层",
            "2025-04-02",
            "2030-04-01",
        ),
        valid(
            Kind::MedicalDevice,
            "Ⅲ类：6815注射穿刺器械，6864医用卫生材料及敷料，6866医用高分子材料及制品；\
             Ⅱ类：6820普通诊察器械，6826物理治疗及康复设备|深圳市南山区西丽街道鹏岚路88号物流中心3层",
            "2024-11-27",
            "2029-11-26",
        ),
        valid(
            Kind::HazardousChemicals,
            "乙醇[无水]、乙醇溶液[按体积含乙醇大于24%]、丙酮、液化石油气（限瓶装，不设储存）、油漆（限零售）",
            "2024-10-15",
            "2030-10-14",
        ),
        valid(Kind::RoadTransport, "道路普通货物运输；货物专用运输（冷藏保鲜）", "2025-03-05", "2031-03-04"),
        valid(Kind::Publication, "图书、报纸、期刊、音像制品、电子出版物零售", "2024-05-20", "2029-05-19"),
        valid(
            Kind::HumanResources,
            "为劳动者介绍用人单位；为用人单位推荐劳动者；为用人单位和个人提供职业介绍信息服务；组织开展现场招聘会",
            "2024-12-02",
            "2029-12-01",
        ),
        valid(Kind::PublicPlaceHygiene, "商场（超市）", "2025-02-14", "2029-02-13"),
        valid(
            Kind::PollutantDischarge,
            "餐饮配送服务；肉制品及副产品加工|深圳市南山区西丽街道鹏岚路88号中央厨房A栋",
            "2025-06-30",
            "2030-06-29",
        ),
        valid(
            Kind::SpecialEquipment,
            "电梯|曳引驱动乘客电梯|梯|31104403052018090321|KT-01",
            "2024-09-09",
            "2030-09-08",
        ),
        valid(Kind::SpecialEquipment, "电梯|自动扶梯|梯|33104403052018090322|FT-02", "2024-09-09", "2030-09-08"),
    ]
}

fn builder() -> Holder {
    Holder {
        name: "佛山市禅晟建筑工程有限公司",
        uscc17: "91440604MA4UK2R7X",
        legal_rep: "梁国栋",
        city: &FOSHAN,
        district: "禅城区",
        division_code: "440604",
        address: "佛山市禅城区季华六路12号禅晟大厦9楼",
        founded: "2014-11-06",
        capital: "人民币叁仟万元",
        company_type: "有限责任公司（自然人投资或控股）",
        business_scope: "房屋建筑工程施工；市政公用工程施工；建筑装修装饰工程；地基基础工程；建筑劳务分包。\
            （依法须经批准的项目，经相关部门批准后方可开展经营活动）",
    }
}

fn revoked_licenses() -> Vec<Spec> {
    let safety = "建筑施工";
    vec![
        business_license("2022-08-30"),
        valid(
            Kind::ConstructionQualification,
            "建筑工程施工总承包贰级；市政公用工程施工总承包叁级；地基基础工程专业承包叁级",
            "2024-01-15",
            "2029-01-14",
        ),
        // The old certificate, abolished when the issuer reissued it as version 2.
        Spec {
            abolished: Some(("企业申请换发新证，原证照依法注销作废", "2026-03-16")),
            ..valid(Kind::SafetyProduction, safety, "2023-06-01", "2026-05-31")
        },
        Spec { version: 2, ..valid(Kind::SafetyProduction, safety, "2026-03-16", "2029-03-15") },
    ]
}

fn logistics() -> Holder {
    Holder {
        name: "东莞市莞骏物流有限公司",
        uscc17: "91441900MA51JN4P0",
        legal_rep: "黄晓东",
        city: &DONGGUAN,
        district: "",
        division_code: "441900",
        address: "东莞市长安镇莞骏路3号1号楼",
        founded: "2016-02-25",
        capital: "人民币壹仟万元",
        company_type: "有限责任公司（自然人投资或控股）",
        business_scope: "道路货物运输（不含危险货物）；国内货物运输代理；普通货物仓储服务；装卸搬运。\
            （依法须经批准的项目，经相关部门批准后方可开展经营活动）",
    }
}

fn expired_licenses() -> Vec<Spec> {
    vec![
        business_license("2021-06-08"),
        // Its term ended on 2025-06-30 and was never renewed: the issuer still says ISSUED.
        valid(Kind::RoadTransport, "道路普通货物运输；货物专用运输（集装箱）", "2021-07-01", "2025-06-30"),
        valid(
            Kind::SpecialEquipment,
            "场（厂）内专用机动车辆|叉车|车|51104419002022110087|CC-03",
            "2022-11-18",
            "2030-11-17",
        ),
    ]
}

fn tech_firm() -> Holder {
    Holder {
        name: "珠海澳琴数字科技有限公司",
        uscc17: "91440400MA55C8WT1",
        legal_rep: "何嘉慧",
        city: &ZHUHAI,
        district: "香洲区",
        division_code: "440402",
        address: "珠海市横琴新区澳琴路168号2301办公",
        founded: "2020-10-12",
        capital: "人民币贰佰万元",
        company_type: "有限责任公司（港澳台投资、非独资）",
        business_scope: "软件开发；信息技术咨询服务；人力资源服务（不含职业中介活动、劳务派遣服务）。\
            （除依法须经批准的项目外，凭营业执照依法自主开展经营活动）",
    }
}

fn declined_licenses() -> Vec<Spec> {
    vec![
        business_license("2024-02-26"),
        valid(
            Kind::HumanResources,
            "人力资源供求信息的收集和发布；就业和创业指导；人力资源管理咨询；人力资源测评",
            "2024-04-08",
            "2029-04-07",
        ),
    ]
}

fn toy_maker() -> Holder {
    Holder {
        name: "汕头市潮韵玩具实业有限公司",
        uscc17: "91440515MA4X6QD83",
        legal_rep: "林泽鸿",
        city: &SHANTOU,
        district: "澄海区",
        division_code: "440515",
        address: "汕头市澄海区莲下镇潮韵工业区3号",
        founded: "2015-05-19",
        capital: "人民币捌佰万元",
        company_type: "有限责任公司（自然人投资或控股）",
        business_scope: "玩具制造；玩具销售；塑料制品制造；货物进出口。\
            （除依法须经批准的项目外，凭营业执照依法自主开展经营活动）",
    }
}

fn toy_licenses() -> Vec<Spec> {
    vec![
        business_license("2023-09-04"),
        valid(Kind::PollutantDischarge, "塑料玩具制造|汕头市澄海区莲下镇潮韵工业区3号", "2024-07-22", "2029-07-21"),
        valid(
            Kind::ConstructionPermit,
            "潮韵玩具二期厂房|汕头市澄海区莲下镇潮韵工业区5号|建筑面积18650平方米，地上五层|人民币肆仟叁佰陆拾万元|\
             佛山市禅晟建筑工程有限公司|540日历天",
            "2026-05-08",
            "2029-05-07",
        ),
    ]
}

fn pharmacy() -> Holder {
    Holder {
        name: "江门市侨乡康健大药房连锁有限公司",
        uscc17: "91440703MA52RT6H9",
        legal_rep: "李卓",
        city: &JIANGMEN,
        district: "蓬江区",
        division_code: "440703",
        address: "江门市蓬江区侨康路21号首层",
        founded: "2012-03-14",
        capital: "人民币壹仟伍佰万元",
        company_type: "有限责任公司（自然人投资或控股）",
        business_scope: "药品零售；第三类医疗器械经营；第二类医疗器械销售；保健食品（预包装）销售；\
            化妆品零售。（依法须经批准的项目，经相关部门批准后方可开展经营活动）",
    }
}

fn scanned_licenses() -> Vec<Spec> {
    vec![
        business_license("2022-12-05"),
        // Issued on paper before the issuer went electronic; the system only holds a scan.
        Spec {
            file: FileKind::ScannedJpeg,
            ..valid(
                Kind::DrugBusiness,
                "零售连锁总部|中药饮片、中成药、化学药、生物制品（除疫苗）|冯秀琴|江门市蓬江区侨康路23号仓库二层",
                "2025-09-01",
                "2030-08-31",
            )
        },
        valid(
            Kind::MedicalDevice,
            "Ⅲ类：6815注射穿刺器械，6866医用高分子材料及制品；Ⅱ类：6820普通诊察器械|江门市蓬江区侨康路23号仓库一层",
            "2025-10-20",
            "2030-10-19",
        ),
    ]
}

fn bookshop() -> Holder {
    Holder {
        name: "中山市香山文汇书店有限公司",
        uscc17: "91442000MA53HW5D2",
        legal_rep: "郑雅雯",
        city: &ZHONGSHAN,
        district: "",
        division_code: "442000",
        address: "中山市石岐街道文汇路9号1-2层",
        founded: "2019-07-30",
        capital: "人民币叁佰万元",
        company_type: "有限责任公司（自然人独资）",
        business_scope: "出版物零售；文具用品零售；咖啡饮品制售；文化活动策划。\
            （依法须经批准的项目，经相关部门批准后方可开展经营活动）",
    }
}

fn bookshop_licenses() -> Vec<Spec> {
    vec![
        business_license("2025-03-03"),
        valid(Kind::Publication, "图书、报纸、期刊、电子出版物零售", "2025-04-15", "2030-04-14"),
        valid(Kind::PublicPlaceHygiene, "书店（阅览室）", "2025-05-06", "2029-05-05"),
    ]
}

/// The pages of the long sample file: what the stamping benchmark and tests measure.
pub const LONG_FILE_PAGES: u16 = 20;

fn plating() -> Holder {
    Holder {
        name: "东莞市莞泓表面处理科技有限公司",
        uscc17: "91441900MA55XK8R2",
        legal_rep: "钟伟杰",
        city: &DONGGUAN,
        district: "",
        division_code: "441900",
        address: "东莞市麻涌镇莞泓环保产业园B区6号",
        founded: "2019-04-16",
        capital: "人民币贰仟万元",
        company_type: "有限责任公司（自然人投资或控股）",
        business_scope: "金属表面处理及热处理加工；电镀加工；污水处理及其再生利用。\
            （依法须经批准的项目，经相关部门批准后方可开展经营活动）",
    }
}

fn plating_licenses() -> Vec<Spec> {
    vec![
        business_license("2024-10-21"),
        // An electroplating plant's permit lists every discharge outlet and its limits: the
        // issuer's PDF runs to many pages, which is what a long file at the counter looks like.
        Spec {
            pages: LONG_FILE_PAGES,
            ..valid(
                Kind::PollutantDischarge,
                "电镀；金属表面处理及热处理加工|东莞市麻涌镇莞泓环保产业园B区6号",
                "2025-08-18",
                "2030-08-17",
            )
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use std::collections::HashSet;
    use yueshang_core::domain::license::{FaceFields, IssueState, LicenseStatus, parse_license_date};
    use yueshang_core::domain::uscc::Uscc;

    fn all_licenses() -> Vec<(SampleEnterprise, WireLicense)> {
        enterprises()
            .into_iter()
            .flat_map(|e| e.licenses.iter().map(|l| (e.clone(), l.license.clone())).collect::<Vec<_>>())
            .collect()
    }

    fn status(l: &WireLicense) -> LicenseStatus {
        let today = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let begin = parse_license_date(&l.begin_date).unwrap();
        let expiry = parse_license_date(&l.expiry_date).unwrap();
        LicenseStatus::of(&IssueState::parse(&l.license_status), begin, expiry, today)
    }

    fn by_note(fragment: &str) -> SampleEnterprise {
        enterprises().into_iter().find(|e| e.note.contains(fragment)).unwrap()
    }

    #[test]
    fn every_uscc_is_valid() {
        for (e, l) in all_licenses() {
            assert!(Uscc::parse(&e.uscc).is_ok(), "{}", e.uscc);
            assert_eq!(l.holder_identity_num, e.uscc);
            assert!(Uscc::parse(&l.issue_org_code).is_ok(), "{}", l.issue_org_code);
            assert!(l.issue_org_code.starts_with("1144"), "{}", l.issue_org_code);
        }
    }

    #[test]
    fn every_license_code_is_valid_and_unique() {
        let mut seen = HashSet::new();
        for (_, l) in all_licenses() {
            assert!(license_id::is_valid(&l.license_code), "{}", l.license_code);
            assert!(seen.insert(l.license_code.clone()), "duplicate {}", l.license_code);
        }
    }

    #[test]
    fn the_set_is_broad_enough() {
        let all = enterprises();
        assert!(all.len() >= 7);
        let kinds: HashSet<String> = all_licenses().into_iter().map(|(_, l)| l.name).collect();
        assert!(kinds.len() >= 12, "{kinds:?}");
        assert!(by_note("many").licenses.len() >= 12);
        let names: HashSet<&str> = all.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names.len(), all.len());
    }

    #[test]
    fn consents_and_files_are_as_intended() {
        assert_eq!(by_note("normal").consent, Consent::Granted);
        assert_eq!(by_note("declined").consent, Consent::Declined);
        let nothing = by_note("nothing authorized");
        assert_eq!(nothing.consent, Consent::NothingTicked);
        assert!(!nothing.licenses.is_empty());
        let scanned = by_note("scanned");
        assert!(scanned.licenses.iter().any(|l| l.file == FileKind::ScannedJpeg));
        let jpegs = enterprises().into_iter().flat_map(|e| e.licenses).filter(|l| l.file == FileKind::ScannedJpeg);
        assert_eq!(jpegs.count(), 1);
    }

    #[test]
    fn statuses_are_exactly_the_intended_ones() {
        for e in enterprises() {
            for l in &e.licenses {
                let l = &l.license;
                let want = if e.note.contains("revoked") && l.license_status == "ABOLISHED" {
                    LicenseStatus::Revoked
                } else if e.note.contains("expired") && l.expiry_date.starts_with("2025") {
                    LicenseStatus::Expired
                } else {
                    LicenseStatus::Valid
                };
                assert_eq!(status(l), want, "{} {}", e.name, l.name);
            }
        }
        let revoked = by_note("revoked");
        let abolished: Vec<_> =
            revoked.licenses.iter().filter(|l| status(&l.license) == LicenseStatus::Revoked).collect();
        assert_eq!(abolished.len(), 1);
        assert!(abolished[0].license.abolish_reason.is_some());
        assert!(revoked.licenses.iter().any(|l| status(&l.license) == LicenseStatus::Valid));
        let expired = by_note("expired");
        assert_eq!(expired.licenses.iter().filter(|l| status(&l.license) == LicenseStatus::Expired).count(), 1);
        assert!(expired.licenses.iter().any(|l| status(&l.license) == LicenseStatus::Valid));
        let others = enterprises().into_iter().filter(|e| !e.note.contains("revoked") && !e.note.contains("expired"));
        assert!(others.flat_map(|e| e.licenses).all(|l| status(&l.license) == LicenseStatus::Valid));
    }

    #[test]
    fn face_fields_parse_and_keep_the_certificate_order() {
        for (e, l) in all_licenses() {
            let face = FaceFields::parse(&l.data_fields).unwrap_or_else(|err| panic!("{}: {err}", l.name));
            assert!(!face.0.is_empty(), "{}", l.name);
            assert!(face.0.iter().all(|(_, v)| !v.is_empty()), "{} has an empty field: {}", l.name, l.data_fields);
            if l.name == "营业执照" {
                assert!(l.data_fields.starts_with("{\"名称\":"), "{}", l.data_fields);
                assert_eq!(face.get("统一社会信用代码"), Some(e.uscc.as_str()));
                assert_eq!(l.id_code, e.uscc);
            }
        }
    }

    #[test]
    fn wire_fields_have_the_expected_shapes() {
        let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok();
        for (_, l) in all_licenses() {
            assert!(date(&l.issue_date) && date(&l.begin_date), "{}", l.name);
            assert!(date(&l.expiry_date) || (l.expiry_date == "长期" && l.name == "营业执照"), "{}", l.name);
            assert!(chrono::NaiveDateTime::parse_from_str(&l.last_modification_time, "%Y-%m-%d %H:%M:%S").is_ok());
            assert_eq!((l.trust_level.as_str(), l.algorithm.as_str()), ("A", "SM2"));
            assert_eq!(l.holder_identity_type, "001");
            assert!(["CERTIFICATE", "APPROVAL"].contains(&l.license_type.as_str()));
            assert_eq!(l.division_code.len(), 6);
            assert!(!l.id_code.is_empty() && !l.division.is_empty());
        }
    }

    #[test]
    fn a_reissued_certificate_keeps_the_serial_and_bumps_the_version() {
        let revoked = by_note("revoked");
        let safety: Vec<&WireLicense> =
            revoked.licenses.iter().map(|l| &l.license).filter(|l| l.name == "安全生产许可证").collect();
        let parts = |l: &WireLicense| l.license_code.rsplit('.').skip(1).take(2).map(str::to_owned).collect::<Vec<_>>();
        let (old, new) = (parts(safety[0]), parts(safety[1]));
        assert_eq!((old[0].as_str(), new[0].as_str()), ("001", "002"));
        assert_eq!(old[1], new[1], "same serial");
        assert_eq!(safety[0].license_status, "ABOLISHED");
    }

    #[test]
    fn masked_names_keep_only_the_surname() {
        assert_eq!(mask_name("李卓"), "李*");
        assert_eq!(mask_name("陈志明"), "陈**");
        assert_eq!(mask_name("欧阳子谦"), "欧阳**");
        assert!(enterprises().iter().all(|e| e.legal_rep_name.contains('*')));
    }

    /// The long PDF comes first among the multi-page files (the stamping benchmark and tests take
    /// the first); the others are the large-files sample's.
    #[test]
    fn the_long_and_the_large_files_are_where_the_notes_say() {
        let multi_page: Vec<(String, u64)> = all_licenses()
            .into_iter()
            .filter_map(|(e, l)| Some((e.uscc, l.attachment_fields[0].get("page_count")?.as_u64()?)))
            .collect();
        let (long, large) = (by_note("long PDF").uscc, by_note("large files").uscc);
        let large_scan = u64::from(LARGE_SCAN_PAGES);
        assert_eq!(multi_page, [(long, u64::from(LONG_FILE_PAGES)), (large.clone(), 32), (large, large_scan)]);
        assert_eq!(by_note("long PDF").licenses.iter().filter(|l| l.file == FileKind::Pdf).count(), 2);
        let files: Vec<FileKind> = by_note("large files").licenses.iter().map(|l| l.file).collect();
        assert_eq!(files, [FileKind::Pdf, FileKind::ScannedPdf, FileKind::ScannedPdf]);
    }

    #[test]
    fn find_and_determinism() {
        let first = enterprises();
        assert_eq!(first, enterprises());
        let normal = &first[0];
        assert_eq!(find(&normal.uscc.to_lowercase()).as_ref(), Some(normal));
        assert_eq!(find(" 91440300708461136T "), None);
    }

    #[test]
    fn service_item_codes_are_unique_and_shaped() {
        let items = service_items();
        assert!(items.len() >= 6);
        let codes: HashSet<&str> = items.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(codes.len(), items.len());
        for (code, name) in &items {
            assert_eq!(code.len(), 31, "{code}");
            assert!(Uscc::parse(&code[..18]).is_ok(), "{code}");
            assert!(!name.is_empty());
        }
    }
}
