//! Unit tests of the onboarding kit: configuration → facts, and facts → the cells of each form.

use super::layout::{Cell, Form, Row, Style, spans_fit};
use super::*;
use crate::config::Config;

pub(crate) fn sample_facts(local_addresses: Vec<IpAddr>) -> OnboardingFacts {
    OnboardingFacts {
        configured: Some(Environment::Test),
        test: EnvironmentFacts {
            paasid: Some("yst_counter".into()),
            system_id: Some("sys-001".into()),
            yst_base: Some(Url::parse("https://bs-test.digitalgd.com.cn/ebus/yst_counter").unwrap()),
            ports: vec![443],
        },
        production: EnvironmentFacts {
            paasid: Some("yst_counter_prod".into()),
            ports: vec![443],
            ..Default::default()
        },
        application_name: "天河免证办柜台".into(),
        developer_name: Some("广州某软件有限公司".into()),
        vender_id: Some("91440300708461136T".into()),
        department_name: Some("广州市天河区政务服务数据管理局".into()),
        department_id: Some("11440106MB2C00001N".into()),
        hall: HallFacts {
            code: Some("4401061".into()),
            name: Some("广州市天河区政务服务中心".into()),
            counter: Some("A03".into()),
            city: Some("广州市".into()),
            district: Some("天河区".into()),
            address: Some("广州市天河区天河路 1 号".into()),
            phone: Some("020-12345678".into()),
        },
        service_items: vec![ServiceItem {
            code: "11440106MB2C00001N4440117001000".into(),
            name: "食品经营许可（新办）".into(),
        }],
        local_addresses,
    }
}

fn extranet_pc() -> Vec<IpAddr> {
    vec!["19.16.1.20".parse().unwrap(), "192.168.1.5".parse().unwrap()]
}

/// The `Cells` rows of a form.
fn cell_rows(form: &Form) -> Vec<&[Cell]> {
    form.rows
        .iter()
        .filter_map(|r| match r {
            Row::Cells(cells) => Some(cells.as_slice()),
            _ => None,
        })
        .collect()
}

/// The cell right of the first label with this text.
fn right_of<'a>(form: &'a Form, label: &str) -> &'a Cell {
    cell_rows(form)
        .into_iter()
        .find_map(|cells| {
            let i = cells.iter().position(|c| c.style == Style::Label && c.text == label)?;
            cells.get(i + 1)
        })
        .unwrap_or_else(|| panic!("no label {label} in {}", form.title))
}

/// The table row whose first cell is `first`.
fn row_starting<'a>(form: &'a Form, first: &str) -> Vec<&'a str> {
    let cells = cell_rows(form).into_iter().find(|c| c[0].text == first).unwrap_or_else(|| panic!("no row {first}"));
    cells.iter().map(|c| c.text.as_str()).collect()
}

fn rows_with(form: &Form, text: &str) -> Vec<Vec<String>> {
    cell_rows(form)
        .into_iter()
        .filter(|cells| cells.iter().any(|c| c.text == text))
        .map(|cells| cells.iter().map(|c| c.text.clone()).collect())
        .collect()
}

fn note(form: &Form) -> &str {
    form.rows
        .iter()
        .find_map(|r| match r {
            Row::Note(text) => Some(text.as_str()),
            _ => None,
        })
        .expect("a 说明 row")
}

fn form_titled(facts: &OnboardingFacts, title: &str) -> Form {
    kit(facts).into_iter().find(|f| f.title == title).expect(title)
}

#[test]
fn every_row_covers_its_form_and_the_files_are_numbered_in_the_guides_order() {
    let forms = kit(&sample_facts(extranet_pc()));
    let names: Vec<String> = forms.iter().map(Form::file_name).collect();
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
    for form in &forms {
        assert!(spans_fit(form), "{} has a row that does not cover its columns", form.title);
    }
}

#[test]
fn the_access_application_ticks_system_integration_and_lists_the_hall() {
    let form = form_titled(&sample_facts(extranet_pc()), access::TITLE);
    assert_eq!(right_of(&form, "接入方式").text, access::MODE_TICKED);
    assert!(access::MODE_TICKED.starts_with("☑ 系统对接"));
    assert_eq!(
        row_starting(&form, "1"),
        ["1", "广州市", "天河区", "广州市天河区政务服务中心", "广州市天河区天河路 1 号", "020-12345678"]
    );
    assert_eq!(right_of(&form, "统一社会信用代码").text, "11440106MB2C00001N");
    assert_eq!(right_of(&form, "PaaS ID（测试）").text, "yst_counter");
    assert_eq!(right_of(&form, "PaaS ID（生产）").text, "yst_counter_prod");
    for person in ["联系人", "联系电话", "电子邮箱", "经办人（签字）", "申请单位（盖章）"] {
        assert_eq!(right_of(&form, person).style, Style::Fill, "{person}");
    }
}

#[test]
fn the_network_policy_has_one_row_per_environment_from_this_pcs_extranet_address() {
    let form = form_titled(&sample_facts(extranet_pc()), network::TITLE);
    let test = row_starting(&form, "1");
    assert_eq!(&test[1..5], ["测试环境", "19.16.1.20", "19.15.0.128", "443"]);
    let production = row_starting(&form, "2");
    assert_eq!(&production[1..5], ["生产环境", "19.16.1.20", "19.15.0.100", "443"]);
    assert!(!note(&form).contains(network::NO_EXTRANET_NOTE));
}

#[test]
fn without_an_extranet_address_the_rows_stay_blank_at_the_source_and_the_note_says_no_policy_is_needed() {
    let facts = sample_facts(vec!["192.168.1.5".parse().unwrap()]);
    let form = form_titled(&facts, network::TITLE);
    let test = row_starting(&form, "1");
    assert_eq!(&test[1..5], ["测试环境", "", "19.15.0.128", "443"]);
    assert_eq!(row_starting(&form, "2")[3], "19.15.0.100");
    assert!(note(&form).contains(network::NO_EXTRANET_NOTE), "{}", note(&form));
    assert!(note(&form).contains("192.168.1.5"));
    assert_eq!(right_of(&form, "部署网络").text, "互联网");
}

#[test]
fn the_gateway_application_names_paasid_domain_network_and_server_per_environment() {
    let form = form_titled(&sample_facts(extranet_pc()), gateway::TITLE);
    assert_eq!(
        row_starting(&form, "测试环境")[..5],
        ["测试环境", "yst_counter", "bs-test.digitalgd.com.cn", "政务外网", "19.16.1.20"]
    );
    let production = rows_with(&form, "yst_counter_prod");
    assert_eq!(production[0][..4], ["生产环境", "yst_counter_prod", "zwms3.gdbs.gov.cn", "政务外网"]);
    let yst = rows_with(&form, "https://bs-test.digitalgd.com.cn/ebus/yst_counter");
    assert_eq!(yst.len(), 1, "the configured environment's 粤商通 base is listed once");
    assert_eq!(right_of(&form, "联系人").style, Style::Fill);
}

#[test]
fn the_license_application_names_both_usccs_and_both_paasids() {
    let form = form_titled(&sample_facts(extranet_pc()), license::TITLE);
    let usccs: Vec<&str> = cell_rows(&form)
        .into_iter()
        .flat_map(|cells| cells.windows(2).filter(|w| w[0].text == "统一社会信用代码").map(|w| w[1].text.as_str()))
        .collect();
    assert_eq!(usccs, ["11440106MB2C00001N", "91440300708461136T"]);
    assert_eq!(row_starting(&form, "测试环境")[..3], ["测试环境", "yst_counter", "sys-001"]);
    assert_eq!(row_starting(&form, "生产环境")[..3], ["生产环境", "yst_counter_prod", ""]);
    assert_eq!(row_starting(&form, "1")[1], "11440106MB2C00001N4440117001000");
}

#[test]
fn the_checklist_says_what_comes_back_from_each_step() {
    let form = form_titled(&sample_facts(extranet_pc()), checklist::TITLE);
    assert!(form.one_page);
    let gateway = row_starting(&form, "3");
    assert_eq!(gateway[2], "3-网关申请表");
    assert!(gateway[5].contains("PaaS ID") && gateway[5].contains("Token"));
    let license = row_starting(&form, "4");
    for id in ["token", "system_id", "vender_id", "department_id"] {
        assert!(license[5].contains(id), "{id}");
    }
    assert_eq!(gateway[7], "测试 yst_counter；生产 yst_counter_prod");
}

const GATEWAY_CONFIG: &str = r#"
mode = "gateway"

[gateway]
environment = "production"
yst_base = "https://zwms3.gdbs.gov.cn:8443/ebus/yst_counter"
license_base = "https://zwms3.gdbs.gov.cn/ebus/dzzz_convergence-service"
paasid = "yst_counter"
system_id = "sys-001"
vender_id = "91440300708461136T"
department_id = "914403001922038216"
account = "hall_4401"
app_key = "app-key"

[operator]
account = "zhangsan"
name = "张三"
division_code = "440100"
service_org = "广州市政务服务中心"
service_org_code = "11440100MB2C00001X"

[hall]
code = "4401001"
name = "广州市政务服务中心"
counter = "A03"
city = "广州市"
address = "天河路 1 号"

[onboarding]
test_paasid = "yst_counter_test"

[[service_items]]
code = "11440100MB2C0000XX4440117001000"
name = "食品经营许可（新办）"
"#;

#[test]
fn a_gateway_configuration_fills_its_own_environment_and_onboarding_the_other() {
    let config = Config::parse(GATEWAY_CONFIG).unwrap();
    let facts = OnboardingFacts::from_config(&config, extranet_pc());
    assert_eq!(facts.configured, Some(Environment::Production));
    assert_eq!(facts.production.paasid.as_deref(), Some("yst_counter"));
    assert_eq!(facts.production.system_id.as_deref(), Some("sys-001"));
    assert_eq!(facts.production.ports, [443, 8443], "an explicit port of the configured base is opened too");
    assert_eq!(facts.test.paasid.as_deref(), Some("yst_counter_test"));
    assert_eq!((facts.test.system_id.as_deref(), facts.test.ports.as_slice()), (None, [443].as_slice()));
    assert_eq!(facts.vender_id.as_deref(), Some("91440300708461136T"));
    assert_eq!(facts.department_id.as_deref(), Some("914403001922038216"));
    assert_eq!(facts.department_name.as_deref(), Some("广州市政务服务中心"), "the operator's service organisation");
    assert_eq!(facts.application_name, DEFAULT_APPLICATION_NAME);
    assert_eq!((facts.hall.city.as_deref(), facts.hall.district.as_deref()), (Some("广州市"), None));
    assert_eq!(facts.service_items.len(), 1);
}

#[test]
fn a_loopback_base_says_nothing_about_the_gateways_port() {
    let local = GATEWAY_CONFIG
        .replace("https://zwms3.gdbs.gov.cn:8443", "http://127.0.0.1:18080")
        .replace("https://zwms3.gdbs.gov.cn", "http://127.0.0.1:18080");
    let facts = OnboardingFacts::from_config(&Config::parse(&local).unwrap(), vec![]);
    assert_eq!(facts.production.ports, [443]);
}

#[test]
fn a_sandbox_configuration_fills_only_what_it_knows() {
    let config =
        Config::parse("[hall]\ncode = \"H\"\nname = \"测试大厅\"\ncounter = \"B1\"\nphone = \"020-1\"\n").unwrap();
    let facts = OnboardingFacts::from_config(&config, vec![]);
    assert_eq!(facts.configured, None);
    assert_eq!(
        (facts.test.paasid.as_ref(), facts.vender_id.as_ref(), facts.department_id.as_ref()),
        (None, None, None)
    );
    assert_eq!(facts.hall.phone.as_deref(), Some("020-1"));
    let forms = kit(&facts);
    assert!(forms.iter().all(spans_fit));
    let license = form_titled(&facts, license::TITLE);
    assert_eq!(right_of(&license, "统一社会信用代码").style, Style::Fill);
}

#[test]
fn no_person_from_the_configuration_reaches_a_form() {
    let config = Config::parse(GATEWAY_CONFIG).unwrap();
    let facts = OnboardingFacts::from_config(&config, extranet_pc());
    for form in kit(&facts) {
        for cell in form.cells() {
            assert!(!cell.text.contains("张三") && !cell.text.contains("zhangsan"), "{}: {}", form.title, cell.text);
        }
    }
}

#[test]
fn this_pcs_addresses_leave_out_loopback() {
    let addresses = local_addresses();
    assert!(addresses.iter().all(|a| !a.is_loopback()), "{addresses:?}");
}
