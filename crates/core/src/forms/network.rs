//! 网络策略配置表: one row per environment from this PC's extranet addresses to the gateway's, and when no policy is needed.

use super::layout::{Cell, Form, Orientation, Row, person_rows};
use super::{ENVIRONMENTS, OnboardingFacts, address_lines, environment_label, gateway_address, gateway_domain};
use crate::config::Environment;

pub(crate) const TITLE: &str = "网络策略配置表";

/// 序号 | 环境 | 源地址 | 目的地址 | 目的端口 | 协议 | 系统关系/访问关系 | 备注
const WIDTHS: [f64; 8] = [6.0, 12.0, 20.0, 16.0, 10.0, 12.0, 36.0, 30.0];
const HEADER: [&str; 8] = ["序号", "环境", "源地址", "目的地址", "目的端口", "协议", "系统关系/访问关系", "备注"];
const SPANS: [u16; 4] = [2, 2, 2, 2];

/// The note for a PC with no extranet address: the rows stay (the PC may move onto the
/// extranet), but on the internet the gateway needs no policy at all.
pub(crate) const NO_EXTRANET_NOTE: &str = "本机未发现政务外网（19. 开头）地址：柜台经互联网访问网关时无需开通网络策略，本表可不提交；如本机将接入政务外网，请在“源地址”栏填写其 19. 开头的地址后提交。";

fn ports(facts: &OnboardingFacts, environment: Environment) -> String {
    let ports: Vec<String> = facts.environment(environment).ports.iter().map(u16::to_string).collect();
    ports.join("、")
}

/// The policy row of one environment: source = this PC's extranet addresses (blank without one).
fn policy_row(number: usize, facts: &OnboardingFacts, environment: Environment) -> Row {
    let source = address_lines(&facts.extranet_addresses());
    Row::Cells(vec![
        Cell::text(&number.to_string()),
        Cell::text(environment_label(environment)),
        Cell::value(source.as_deref()),
        Cell::text(&gateway_address(environment).to_string()),
        Cell::text(&ports(facts, environment)),
        Cell::text("TCP（HTTPS）"),
        Cell::text(&format!(
            "{}（窗口柜台）→ 省统一API网关（{}），单向访问",
            facts.application_name,
            environment_label(environment)
        )),
        Cell::text(&format!("网关域名 {}", gateway_domain(environment))),
    ])
}

fn notes(facts: &OnboardingFacts) -> String {
    let mut lines = vec!["说明：".to_owned()];
    if facts.extranet_addresses().is_empty() {
        let seen = facts.local_addresses.iter().map(ToString::to_string).collect::<Vec<_>>().join("、");
        let seen = if seen.is_empty() { "无".to_owned() } else { seen };
        lines.push(format!("1. {NO_EXTRANET_NOTE}（本机当前地址：{seen}）"));
    } else {
        lines.push("1. 源地址为本机的政务外网地址；如有多台柜台电脑，请逐台列明。".to_owned());
    }
    lines.push(format!(
        "2. 目的地址为省统一API网关的政务外网地址：{} {}，{} {}；访问方向为柜台到网关。",
        environment_label(Environment::Test),
        gateway_address(Environment::Test),
        environment_label(Environment::Production),
        gateway_address(Environment::Production),
    ));
    lines.push("3. 联系人、电话和签字盖章请手工填写。".to_owned());
    lines.join("\n")
}

pub(crate) fn form(facts: &OnboardingFacts) -> Form {
    let info = |l: &str, lv: Option<&str>, r: &str, rv: Option<&str>| {
        Row::Cells(vec![
            Cell::label(l).span(SPANS[0]),
            Cell::value(lv).span(SPANS[1]),
            Cell::label(r).span(SPANS[2]),
            Cell::value(rv).span(SPANS[3]),
        ])
    };
    let mut rows = vec![
        Row::Section("一、申请信息".into()),
        info("申请单位", facts.department_name.as_deref(), "应用名称", Some(&facts.application_name)),
        info("办理大厅", facts.hall.name.as_deref(), "部署网络", Some(facts.network_name())),
    ];
    rows.extend(person_rows(&[("联系人", "联系电话")], SPANS));
    rows.push(Row::Section("二、策略明细（测试、生产各一行）".into()));
    rows.push(Row::Cells(HEADER.map(Cell::header).to_vec()));
    for (i, environment) in ENVIRONMENTS.into_iter().enumerate() {
        rows.push(policy_row(i + 1, facts, environment));
    }
    rows.push(Row::Section("三、申请单位意见".into()));
    rows.extend(person_rows(&[("申请单位（盖章）", "日期")], SPANS));
    rows.push(Row::Note(notes(facts)));
    Form {
        number: 2,
        title: TITLE.into(),
        orientation: Orientation::Landscape,
        widths: WIDTHS.to_vec(),
        rows,
        one_page: false,
    }
}
