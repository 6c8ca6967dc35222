//! 证照服务申请表: the department and developer with their USCCs, the PaaS IDs of test and production, and the service items that use licenses.

use super::layout::{Cell, Form, Orientation, Row, person_rows};
use super::{ENVIRONMENTS, OnboardingFacts, environment_label, license_service};
use crate::config::Environment;

pub(crate) const TITLE: &str = "证照服务申请表";

/// 环境 | PaaS ID | 系统标识 | 用证服务地址
const WIDTHS: [f64; 4] = [20.0, 34.0, 22.0, 36.0];
const SPANS: [u16; 4] = [1, 1, 1, 1];

fn info(left: &str, left_value: Option<&str>, right: &str, right_value: Option<&str>) -> Row {
    Row::Cells(vec![Cell::label(left), Cell::value(left_value), Cell::label(right), Cell::value(right_value)])
}

fn environment_row(facts: &OnboardingFacts, environment: Environment) -> Row {
    let known = facts.environment(environment);
    Row::Cells(vec![
        Cell::text(environment_label(environment)),
        Cell::value(known.paasid.as_deref()),
        Cell::value(known.system_id.as_deref()),
        Cell::text(&license_service(environment)),
    ])
}

/// The items the counter handles with licenses; one blank row when none is configured yet.
fn item_rows(facts: &OnboardingFacts) -> Vec<Row> {
    if facts.service_items.is_empty() {
        return vec![Row::Cells(vec![Cell::text("1"), Cell::fill(), Cell::fill().span(2)])];
    }
    facts
        .service_items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            Row::Cells(vec![Cell::text(&(i + 1).to_string()), Cell::text(&item.code), Cell::text(&item.name).span(2)])
        })
        .collect()
}

pub(crate) fn form(facts: &OnboardingFacts) -> Form {
    let mut rows = vec![
        Row::Section("一、用证部门".into()),
        info("部门名称", facts.department_name.as_deref(), "统一社会信用代码", facts.department_id.as_deref()),
    ];
    rows.extend(person_rows(&[("联系人", "联系电话")], SPANS));
    rows.push(Row::Section("二、开发商".into()));
    rows.push(info("开发商名称", facts.developer_name.as_deref(), "统一社会信用代码", facts.vender_id.as_deref()));
    rows.extend(person_rows(&[("联系人", "联系电话")], SPANS));
    rows.push(Row::Section("三、应用".into()));
    rows.push(info("应用名称", Some(&facts.application_name), "办理大厅", facts.hall.name.as_deref()));
    rows.push(Row::Cells(["环境", "PaaS ID", "系统标识（system_id）", "用证服务地址"].map(Cell::header).to_vec()));
    rows.extend(ENVIRONMENTS.map(|e| environment_row(facts, e)));
    rows.push(Row::Section("四、用证事项".into()));
    rows.push(Row::Cells(vec![Cell::header("序号"), Cell::header("事项编码"), Cell::header("事项名称").span(2)]));
    rows.extend(item_rows(facts));
    rows.push(Row::Section("五、申请单位意见".into()));
    rows.extend(person_rows(&[("用证部门（盖章）", "日期"), ("开发商（盖章）", "日期")], SPANS));
    rows.push(Row::Note(
        "说明：1. 开发商标识（vender_id）和部门标识（department_id）均为统一社会信用代码；测试和生产环境的 PaaS ID 同时申请。\n\
         2. 电子证照项目组按环境分别发放 token、serviceid、passid、system_id、vender_id、department_id：标识回填到本机配置，token 等凭据不要写在纸面上，由 IT 用 yueshang secrets set 录入本机。\n\
         3. 联系人、电话和盖章请手工填写。"
            .into(),
    ));
    Form {
        number: 4,
        title: TITLE.into(),
        orientation: Orientation::Portrait,
        widths: WIDTHS.to_vec(),
        rows,
        one_page: false,
    }
}
