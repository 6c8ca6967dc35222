//! 接入步骤清单: the onboarding steps in the guide's order on one page — which form, which environment, what comes back, and where this counter stands.

use super::layout::{Cell, Form, Orientation, Row};
use super::{OnboardingFacts, access, environment_label, gateway, license, network};
use crate::config::Environment;

pub(crate) const TITLE: &str = "接入步骤清单";

/// 步骤 | 办理事项 | 用哪张表 | 环境 | 提交给 | 拿回什么 | 回填到本机 | 本机现状
const WIDTHS: [f64; 8] = [6.0, 22.0, 26.0, 16.0, 18.0, 30.0, 32.0, 26.0];
const HEADER: [&str; 8] = ["步骤", "办理事项", "用哪张表", "环境", "提交给", "拿回什么", "回填到本机", "本机现状"];

/// One step of the guide; `status` is where this counter stands on it.
struct Step {
    what: &'static str,
    form: String,
    environments: &'static str,
    to: &'static str,
    returns: &'static str,
    fill_in: &'static str,
    status: String,
}

fn form_file(number: u8, title: &str) -> String {
    format!("{number}-{title}")
}

fn hall_status(facts: &OnboardingFacts) -> String {
    let hall = &facts.hall;
    let missing: Vec<&str> =
        [("地市", &hall.city), ("区县", &hall.district), ("详细地址", &hall.address), ("大厅电话", &hall.phone)]
            .into_iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k)
            .collect();
    if missing.is_empty() {
        "大厅地址和电话已配置".into()
    } else {
        format!("待补 [hall]：{}", missing.join("、"))
    }
}

fn network_status(facts: &OnboardingFacts) -> String {
    let extranet = facts.extranet_addresses();
    if extranet.is_empty() {
        "本机无 19. 开头地址：经互联网接入，无需此步".into()
    } else {
        let list: Vec<String> = extranet.iter().map(ToString::to_string).collect();
        format!("需开通：本机 {}", list.join("、"))
    }
}

fn paasid_status(facts: &OnboardingFacts) -> String {
    let of = |e: Environment| facts.environment(e).paasid.clone().unwrap_or_else(|| "待分配".into());
    format!("测试 {}；生产 {}", of(Environment::Test), of(Environment::Production))
}

fn license_status(facts: &OnboardingFacts) -> String {
    match facts.configured {
        Some(environment) if facts.environment(environment).system_id.is_some() => {
            format!("{}标识已配置；另一环境待分配", environment_label(environment))
        }
        _ => "待分配".into(),
    }
}

fn environment_status(facts: &OnboardingFacts, environment: Environment) -> String {
    match facts.configured {
        Some(e) if e == environment => format!("本机当前为{}", environment_label(environment)),
        Some(_) => String::new(),
        None => "本机为沙箱模式（未接入网关）".into(),
    }
}

fn steps(facts: &OnboardingFacts) -> [Step; 6] {
    [
        Step {
            what: "提交接入申请，登记办理大厅",
            form: form_file(1, access::TITLE),
            environments: "测试、生产一并申请",
            to: "粤商通免证办运营方",
            returns: "接入确认；粤商通免证办接口规范",
            fill_in: "gateway.yst_base；[hall] 地市、区县、地址、电话",
            status: hall_status(facts),
        },
        Step {
            what: "开通网络策略（仅政务外网）",
            form: form_file(2, network::TITLE),
            environments: "测试、生产各一行",
            to: "政务外网管理部门",
            returns: "策略开通确认",
            fill_in: "—",
            status: network_status(facts),
        },
        Step {
            what: "申请网关应用接入",
            form: form_file(3, gateway::TITLE),
            environments: "测试、生产分别申请",
            to: "省统一API网关管理员",
            returns: "PaaS ID（yst_…）、PaaS Token",
            fill_in: "gateway.paasid、[onboarding] 两环境 PaaS ID；Token：yueshang secrets set token",
            status: paasid_status(facts),
        },
        Step {
            what: "申请电子证照用证服务",
            form: form_file(4, license::TITLE),
            environments: "测试、生产分别申请",
            to: "电子证照项目组",
            returns: "token、serviceid、passid、系统标识 system_id、开发商标识 vender_id、部门标识 department_id",
            fill_in: "gateway.system_id、vender_id、department_id、account、app_key；密码和密钥：yueshang secrets set",
            status: license_status(facts),
        },
        Step {
            what: "测试环境联调：扫码、出具副本、回传办件",
            form: "—".into(),
            environments: "测试",
            to: "—",
            returns: "联调通过",
            fill_in: "gateway.environment = \"test\"",
            status: environment_status(facts, Environment::Test),
        },
        Step {
            what: "切换生产环境上线",
            form: "—".into(),
            environments: "生产",
            to: "—",
            returns: "上线确认",
            fill_in: "gateway.environment = \"production\" 及生产环境的标识和凭据",
            status: environment_status(facts, Environment::Production),
        },
    ]
}

fn step_row(number: usize, step: Step) -> Row {
    Row::Cells(vec![
        Cell::text(&number.to_string()),
        Cell::text(step.what),
        Cell::text(&step.form),
        Cell::text(step.environments),
        Cell::text(step.to),
        Cell::text(step.returns),
        Cell::text(step.fill_in),
        Cell::value(Some(&step.status)),
    ])
}

fn counter_name(facts: &OnboardingFacts) -> Option<String> {
    let hall = &facts.hall;
    match (&hall.name, &hall.counter) {
        (Some(name), Some(counter)) => Some(format!("{name} {counter} 窗口")),
        (Some(name), None) => Some(name.clone()),
        _ => None,
    }
}

pub(crate) fn form(facts: &OnboardingFacts) -> Form {
    let configured = facts.configured.map_or("沙箱模式（未接入网关）", environment_label);
    let mut rows = vec![Row::Cells(vec![
        Cell::label("本柜台").span(2),
        Cell::value(counter_name(facts).as_deref()).span(2),
        Cell::label("当前环境"),
        Cell::text(configured),
        Cell::label("部署网络"),
        Cell::text(facts.network_name()),
    ])];
    rows.push(Row::Cells(HEADER.map(Cell::header).to_vec()));
    rows.extend(steps(facts).into_iter().enumerate().map(|(i, step)| step_row(i + 1, step)));
    rows.push(Row::Note(
        "说明：按接入指引的顺序办理；测试和生产环境同时申请、分别配置。各表已按本机配置预填，空白处手工填写。\n\
         本清单和各表不含任何个人联系方式；PaaS Token、密码、密钥等凭据不要写在纸面上，拿到后由 IT 直接录入本机（yueshang secrets set）。"
            .into(),
    ));
    Form {
        number: 0,
        title: TITLE.into(),
        orientation: Orientation::Landscape,
        widths: WIDTHS.to_vec(),
        rows,
        one_page: true,
    }
}
