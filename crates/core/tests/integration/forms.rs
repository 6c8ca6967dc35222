//! The onboarding kit written to disk and read back with calamine (an independent XLSX reader): the filled cells where the forms have them, blanks for people, no contact details.

use calamine::{Data, Dimensions, Reader, Xlsx};
use std::net::IpAddr;
use std::path::Path;
use yueshang_core::config::Config;
use yueshang_core::forms::{OnboardingFacts, WrittenForm, write_kit};

const FULL_CONFIG: &str = r#"
mode = "gateway"

[gateway]
environment = "test"
yst_base = "https://bs-test.digitalgd.com.cn/ebus/yst_tianhe"
license_base = "https://bs-test.digitalgd.com.cn/ebus/dzzz_convergence-service"
paasid = "yst_tianhe"
token = "paas-token-value"
system_id = "sys-tianhe-001"
vender_id = "91440300708461136T"
department_id = "11440106MB2C00001N"
account = "hall_440106"
password = "pa55word-value"
app_key = "app-key"
app_secret = "app-secret-value"

[operator]
account = "chenxm"
name = "陈晓敏"
division_code = "440106"
service_org = "广州市天河区政务服务中心"
service_org_code = "11440106MB2C00001N"

[hall]
code = "4401061"
name = "广州市天河区政务服务中心"
counter = "A03"
city = "广州市"
district = "天河区"
address = "广州市天河区天河路 1 号"
phone = "020-12345678"

[onboarding]
application_name = "天河区免证办柜台"
developer_name = "广州某软件有限公司"
department_name = "广州市天河区政务服务数据管理局"
production_paasid = "yst_tianhe_prod"

[[service_items]]
code = "11440106MB2C00001N4440117001000"
name = "食品经营许可（新办）"
"#;

/// A sheet as the reader sees it: text by (row, column) from A1, and its merged regions.
struct Sheet {
    title: String,
    cells: Vec<Vec<String>>,
    merges: Vec<Dimensions>,
}

impl Sheet {
    fn read(form: &WrittenForm) -> Sheet {
        let mut workbook: Xlsx<_> = calamine::open_workbook(&form.path).expect("an XLSX calamine opens");
        let names = workbook.sheet_names();
        assert_eq!(names, std::slice::from_ref(&form.title), "one sheet named after the form");
        let range = workbook.worksheet_range(&form.title).unwrap();
        let merges = workbook.merge_cells_by_sheet_name(&form.title).expect("merge info");
        let (rows, columns) = range.end().map_or((0, 0), |(r, c)| (r + 1, c + 1));
        let cells = (0..rows)
            .map(|r| {
                (0..columns)
                    .map(|c| match range.get_value((r, c)) {
                        Some(Data::String(s)) => s.clone(),
                        Some(Data::Empty) | None => String::new(),
                        Some(other) => panic!("{}: a non-text cell {other:?} at ({r},{c})", form.title),
                    })
                    .collect()
            })
            .collect();
        Sheet { title: form.title.clone(), cells, merges }
    }

    fn merge_at(&self, r: u32, c: u32) -> Option<&Dimensions> {
        self.merges.iter().find(|d| d.start.0 <= r && r <= d.end.0 && d.start.1 <= c && c <= d.end.1)
    }

    /// A row's cells as the form has them: a merged region counts once, by its first cell.
    fn row(&self, r: usize) -> Vec<&str> {
        (0..self.cells[r].len())
            .filter(|&c| self.merge_at(r as u32, c as u32).is_none_or(|d| d.start.1 == c as u32))
            .map(|c| self.cells[r][c].as_str())
            .collect()
    }

    fn find(&self, text: &str) -> (usize, usize) {
        for (r, row) in self.cells.iter().enumerate() {
            if let Some(c) = row.iter().position(|t| t == text) {
                return (r, c);
            }
        }
        panic!("{}: no cell {text:?}", self.title)
    }

    /// The cell right of a label (past the label's merged columns).
    fn right_of(&self, label: &str) -> &str {
        let (r, c) = self.find(label);
        let end = self.merge_at(r as u32, c as u32).map_or(c, |d| d.end.1 as usize);
        &self.cells[r][end + 1]
    }

    /// The first row whose first cell is `first`, as the form's cells.
    fn row_starting(&self, first: &str) -> Vec<&str> {
        let r = self
            .cells
            .iter()
            .position(|row| row[0] == first)
            .unwrap_or_else(|| panic!("{}: no row {first}", self.title));
        self.row(r)
    }

    fn texts(&self) -> impl Iterator<Item = &String> {
        self.cells.iter().flatten()
    }
}

fn write_full_kit(dir: &Path, local_addresses: Vec<IpAddr>) -> Vec<Sheet> {
    let config = Config::parse(FULL_CONFIG).unwrap();
    let facts = OnboardingFacts::from_config(&config, local_addresses);
    let written = write_kit(&facts, dir).unwrap();
    let names: Vec<String> =
        written.iter().map(|w| w.path.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(
        names,
        [
            "0-接入步骤清单.xlsx",
            "1-粤商通免证办接入申请表.xlsx",
            "2-网络策略配置表.xlsx",
            "3-网关申请表.xlsx",
            "4-证照服务申请表.xlsx"
        ]
    );
    written.iter().map(Sheet::read).collect()
}

fn sheet<'a>(sheets: &'a [Sheet], title: &str) -> &'a Sheet {
    sheets.iter().find(|s| s.title == title).unwrap_or_else(|| panic!("no form {title}"))
}

#[test]
fn the_kit_for_a_gateway_counter_reads_back_with_its_filled_values() {
    let dir = tempfile::tempdir().unwrap();
    let sheets = write_full_kit(dir.path(), vec!["19.16.1.20".parse().unwrap(), "192.168.1.5".parse().unwrap()]);
    for s in &sheets {
        assert_eq!(s.cells[0][0], s.title, "the title heads the sheet");
    }

    let access = sheet(&sheets, "粤商通免证办接入申请表");
    assert!(access.right_of("接入方式").starts_with("☑ 系统对接"), "{}", access.right_of("接入方式"));
    assert!(access.right_of("接入方式").contains("☐ 页面嵌入"));
    assert_eq!(
        access.row_starting("1"),
        ["1", "广州市", "天河区", "广州市天河区政务服务中心", "广州市天河区天河路 1 号", "020-12345678"]
    );
    assert_eq!(access.right_of("申请单位"), "广州市天河区政务服务数据管理局");
    assert_eq!(access.right_of("统一社会信用代码"), "11440106MB2C00001N");
    assert_eq!(access.right_of("PaaS ID（测试）"), "yst_tianhe");
    assert_eq!(access.right_of("PaaS ID（生产）"), "yst_tianhe_prod");

    let network = sheet(&sheets, "网络策略配置表");
    assert_eq!(network.row_starting("1")[1..6], ["测试环境", "19.16.1.20", "19.15.0.128", "443", "TCP（HTTPS）"]);
    assert_eq!(network.row_starting("2")[1..6], ["生产环境", "19.16.1.20", "19.15.0.100", "443", "TCP（HTTPS）"]);

    let gateway = sheet(&sheets, "网关申请表");
    assert_eq!(
        gateway.row_starting("测试环境"),
        ["测试环境", "yst_tianhe", "bs-test.digitalgd.com.cn", "政务外网", "19.16.1.20"]
    );
    assert_eq!(
        gateway.row_starting("生产环境"),
        ["生产环境", "yst_tianhe_prod", "zwms3.gdbs.gov.cn", "政务外网", "19.16.1.20"]
    );
    assert_eq!(gateway.right_of("应用名称"), "天河区免证办柜台");

    let license = sheet(&sheets, "证照服务申请表");
    assert_eq!(license.right_of("部门名称"), "广州市天河区政务服务数据管理局");
    assert_eq!(license.right_of("开发商名称"), "广州某软件有限公司");
    let usccs: Vec<&str> = license
        .cells
        .iter()
        .filter_map(|row| row.iter().position(|t| t == "统一社会信用代码").map(|c| row[c + 1].as_str()))
        .collect();
    assert_eq!(usccs, ["11440106MB2C00001N", "91440300708461136T"], "department's, then developer's");
    assert_eq!(
        license.row_starting("测试环境"),
        ["测试环境", "yst_tianhe", "sys-tianhe-001", "https://bs-test.digitalgd.com.cn/ebus/dzzz_convergence-service"]
    );
    assert_eq!(license.row_starting("生产环境")[..3], ["生产环境", "yst_tianhe_prod", ""]);
    assert_eq!(license.row_starting("1")[1..3], ["11440106MB2C00001N4440117001000", "食品经营许可（新办）"]);

    let checklist = sheet(&sheets, "接入步骤清单");
    let steps: Vec<&str> = (1..=6).map(|n| checklist.row_starting(&n.to_string())[2]).collect();
    assert_eq!(steps, ["1-粤商通免证办接入申请表", "2-网络策略配置表", "3-网关申请表", "4-证照服务申请表", "—", "—"]);
    assert!(checklist.row_starting("4")[5].contains("department_id"));
}

#[test]
fn person_fields_stay_blank_and_no_contact_details_or_secrets_appear() {
    let dir = tempfile::tempdir().unwrap();
    let sheets = write_full_kit(dir.path(), vec!["19.16.1.20".parse().unwrap()]);
    for s in sheets.iter().filter(|s| s.title != "接入步骤清单") {
        assert_eq!(s.right_of("联系人"), "", "{}: 联系人 is filled by hand", s.title);
        assert_eq!(s.right_of("联系电话"), "", "{}: 联系电话 is filled by hand", s.title);
    }
    assert_eq!(sheet(&sheets, "粤商通免证办接入申请表").right_of("电子邮箱"), "");
    assert_eq!(sheet(&sheets, "网关申请表").right_of("申请单位（盖章）"), "");
    let forbidden = ["陈晓敏", "chenxm", "hall_440106", "paas-token-value", "pa55word-value", "app-secret-value", "@"];
    for s in &sheets {
        for text in s.texts() {
            for word in forbidden {
                assert!(!text.contains(word), "{}: {word:?} in {text:?}", s.title);
            }
        }
    }
}

#[test]
fn a_pc_without_an_extranet_address_keeps_the_rows_and_says_no_policy_is_needed() {
    let dir = tempfile::tempdir().unwrap();
    let sheets = write_full_kit(dir.path(), vec!["192.168.1.5".parse().unwrap()]);
    let network = sheet(&sheets, "网络策略配置表");
    assert_eq!(network.row_starting("1")[1..5], ["测试环境", "", "19.15.0.128", "443"]);
    assert_eq!(network.row_starting("2")[1..5], ["生产环境", "", "19.15.0.100", "443"]);
    let note = network.texts().find(|t| t.starts_with("说明")).expect("a 说明 row");
    assert!(note.contains("无需开通网络策略"), "{note}");
    assert!(note.contains("192.168.1.5"), "{note}");
    assert_eq!(network.right_of("部署网络"), "互联网");
    assert_eq!(sheet(&sheets, "网关申请表").row_starting("测试环境")[3..], ["互联网", "192.168.1.5"]);
}
