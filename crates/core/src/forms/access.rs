//! 粤商通免证办接入申请表: the applicant, system-integration mode ticked, both environments, and the halls 粤商通 lists.

use super::layout::{Cell, Form, Orientation, Row, person_rows};
use super::{OnboardingFacts, environment_label};
use crate::config::Environment;

pub(crate) const TITLE: &str = "粤商通免证办接入申请表";

/// The counter calls the interfaces itself (系统对接); it embeds no 粤商通 page.
pub(crate) const MODE_TICKED: &str = "☑ 系统对接    ☐ 页面嵌入";

/// Blank hall rows under the configured one, for the other halls of the same application.
const SPARE_HALL_ROWS: usize = 3;

/// 序号 | 地市 | 区县 | 大厅名称 | 详细地址 (2) | 大厅电话
const WIDTHS: [f64; 7] = [8.0, 14.0, 14.0, 30.0, 20.0, 30.0, 18.0];

/// Label, blank, label, blank: the same columns as [`pair`].
const PERSON_SPANS: [u16; 4] = [3, 1, 1, 2];

fn pair(left: &str, left_value: Option<&str>, right: &str, right_value: Option<&str>) -> Row {
    Row::Cells(vec![
        Cell::label(left).span(3),
        Cell::value(left_value),
        Cell::label(right),
        Cell::value(right_value).span(2),
    ])
}

fn wide(label: &str, value: &str) -> Row {
    Row::Cells(vec![Cell::label(label).span(3), Cell::text(value).span(4)])
}

fn applicant(facts: &OnboardingFacts) -> Vec<Row> {
    let mut rows = vec![
        Row::Section("一、申请单位".into()),
        pair("申请单位", facts.department_name.as_deref(), "统一社会信用代码", facts.department_id.as_deref()),
        pair("应用（系统）名称", Some(&facts.application_name), "开发单位", facts.developer_name.as_deref()),
        pair("开发单位统一社会信用代码", facts.vender_id.as_deref(), "部署网络", Some(facts.network_name())),
    ];
    rows.extend(person_rows(&[("联系人", "联系电话"), ("电子邮箱", "职务")], PERSON_SPANS));
    rows
}

fn paasid_of(facts: &OnboardingFacts, environment: Environment) -> Option<&str> {
    facts.environment(environment).paasid.as_deref()
}

fn mode(facts: &OnboardingFacts) -> Vec<Row> {
    vec![
        Row::Section("二、接入方式".into()),
        wide("接入方式", MODE_TICKED),
        wide(
            "接入说明",
            "窗口人员扫描企业出示的粤商码，柜台系统经省统一API网关调用粤商通免证办接口和电子证照用证接口，办结后回传办件信息（申办接口）。",
        ),
        wide("申请环境", "☑ 测试环境    ☑ 生产环境（同时申请，分别配置）"),
        pair(
            "PaaS ID（测试）",
            paasid_of(facts, Environment::Test),
            "PaaS ID（生产）",
            paasid_of(facts, Environment::Production),
        ),
    ]
}

fn halls(facts: &OnboardingFacts) -> Vec<Row> {
    let hall = &facts.hall;
    let header = ["序号", "地市", "区县", "大厅名称"].map(Cell::header);
    let mut header = header.to_vec();
    header.push(Cell::header("详细地址").span(2));
    header.push(Cell::header("大厅电话"));
    let mut rows = vec![
        Row::Section("三、办理大厅（粤商通以列表和地图展示，请核对地址和电话）".into()),
        Row::Cells(header),
        Row::Cells(vec![
            Cell::text("1"),
            Cell::value(hall.city.as_deref()),
            Cell::value(hall.district.as_deref()),
            Cell::value(hall.name.as_deref()),
            Cell::value(hall.address.as_deref()).span(2),
            Cell::value(hall.phone.as_deref()),
        ]),
    ];
    for n in 2..=SPARE_HALL_ROWS + 1 {
        let mut cells = vec![Cell::text(&n.to_string())];
        cells.extend([Cell::fill(), Cell::fill(), Cell::fill(), Cell::fill().span(2), Cell::fill()]);
        rows.push(Row::Cells(cells));
    }
    rows
}

pub(crate) fn form(facts: &OnboardingFacts) -> Form {
    let mut rows = applicant(facts);
    rows.extend(mode(facts));
    rows.extend(halls(facts));
    rows.push(Row::Section("四、申请单位意见".into()));
    rows.extend(person_rows(&[("经办人（签字）", "日期"), ("申请单位（盖章）", "日期")], PERSON_SPANS));
    rows.push(Row::Note(format!(
        "说明：1. 本表由“{}”按本机配置预填，空白处请手工填写；联系人、电话、邮箱和签字盖章一律手填，系统不预填任何个人联系方式。\n\
         2. 大厅信息在粤商通中以列表和地图展示，地址请写到门牌号，电话写大厅对外咨询电话。\n\
         3. {}与{}同时申请、分别配置；PaaS ID 由网关分配后回填。",
        super::DEFAULT_APPLICATION_NAME,
        environment_label(Environment::Test),
        environment_label(Environment::Production),
    )));
    Form {
        number: 1,
        title: TITLE.into(),
        orientation: Orientation::Landscape,
        widths: WIDTHS.to_vec(),
        rows,
        one_page: false,
    }
}
