//! 网关申请表 (应用接入): per environment the PaaS ID, gateway domain, deployment network and server address, and the services the counter calls.

use super::layout::{Cell, Form, Orientation, Row, person_rows};
use super::{ENVIRONMENTS, OnboardingFacts, address_lines, environment_label, gateway_domain, license_service};
use crate::config::Environment;

pub(crate) const TITLE: &str = "网关申请表";

/// 环境 | PaaS ID | 网关域名 | 部署环境 | 服务器地址
const WIDTHS: [f64; 5] = [18.0, 22.0, 30.0, 14.0, 22.0];
const SPANS: [u16; 4] = [1, 1, 1, 2];

fn info(left: &str, left_value: Option<&str>, right: &str, right_value: Option<&str>) -> Row {
    Row::Cells(vec![Cell::label(left), Cell::value(left_value), Cell::label(right), Cell::value(right_value).span(2)])
}

/// 应用接入 of one environment: what the gateway registers the counter under.
fn access_row(facts: &OnboardingFacts, environment: Environment) -> Row {
    let servers = address_lines(&facts.server_addresses());
    Row::Cells(vec![
        Cell::text(environment_label(environment)),
        Cell::value(facts.environment(environment).paasid.as_deref()),
        Cell::text(gateway_domain(environment)),
        Cell::text(facts.network_name()),
        Cell::value(servers.as_deref()),
    ])
}

/// The published services the counter subscribes to in one environment; the 粤商通 address is
/// known only for the configured environment, the e-license one is the guide's.
fn service_rows(facts: &OnboardingFacts, environment: Environment) -> [Row; 2] {
    let yst = facts.environment(environment).yst_base.as_ref().map(|u| u.as_str().trim_end_matches('/').to_owned());
    let label = environment_label(environment);
    [
        Row::Cells(vec![
            Cell::text(label),
            Cell::text("电子证照用证服务"),
            Cell::text(&license_service(environment)).span(2),
            Cell::text("否"),
        ]),
        Row::Cells(vec![
            Cell::text(label),
            Cell::text("粤商通免证办接口"),
            Cell::value(yst.as_deref()).span(2),
            Cell::text("是（办件回传）"),
        ]),
    ]
}

pub(crate) fn form(facts: &OnboardingFacts) -> Form {
    let mut rows = vec![
        Row::Section("一、申请单位".into()),
        info("应用名称", Some(&facts.application_name), "申请单位", facts.department_name.as_deref()),
        info("开发单位", facts.developer_name.as_deref(), "申请类型", Some("应用接入（调用已发布服务）")),
    ];
    rows.extend(person_rows(&[("联系人", "联系电话"), ("电子邮箱", "备注")], SPANS));
    rows.push(Row::Section("二、应用接入".into()));
    rows.push(Row::Cells(["环境", "PaaS ID", "网关域名", "部署环境", "服务器地址"].map(Cell::header).to_vec()));
    rows.extend(ENVIRONMENTS.map(|e| access_row(facts, e)));
    rows.push(Row::Section("三、订阅服务".into()));
    rows.push(Row::Cells(vec![
        Cell::header("环境"),
        Cell::header("服务"),
        Cell::header("服务地址").span(2),
        Cell::header("申办接口"),
    ]));
    for environment in ENVIRONMENTS {
        rows.extend(service_rows(facts, environment));
    }
    rows.push(Row::Section("四、发布服务/站点".into()));
    rows.push(Row::Cells(vec![
        Cell::label("发布服务/站点"),
        Cell::text("无：本应用只调用网关已发布的服务，不发布服务或站点。").span(4),
    ]));
    rows.push(Row::Section("五、申请单位意见".into()));
    rows.extend(person_rows(&[("申请单位（盖章）", "日期")], SPANS));
    rows.push(Row::Note(
        "说明：1. PaaS ID 由网关分配（yst_ 加应用拼音或英文缩写），空白的请在分配后回填；PaaS Token 由管理员另行发放，不要写在本表或任何纸面上。\n\
         2. 已认证的发布服务经 {网关域名}/ebus/{passid}/{原路径} 访问。\n\
         3. 服务器地址为柜台电脑的地址；联系人、电话、邮箱和签字盖章请手工填写。"
            .into(),
    ));
    Form {
        number: 3,
        title: TITLE.into(),
        orientation: Orientation::Portrait,
        widths: WIDTHS.to_vec(),
        rows,
        one_page: false,
    }
}
