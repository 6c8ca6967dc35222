//! Who handles the case and where: the service item, the operator (clerk) and the hall's counter.

use crate::error::Error;

/// A 事项: the administrative procedure being applied for; licenses are authorized per item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceItem {
    pub code: String,
    pub name: String,
}

impl ServiceItem {
    /// Builds an item from configuration; both code and name are required and trimmed.
    pub fn new(code: &str, name: &str) -> Result<Self, Error> {
        let (code, name) = (code.trim(), name.trim());
        if code.is_empty() {
            return Err(Error::config("service_items.code", "不能为空"));
        }
        if name.is_empty() {
            return Err(Error::config("service_items.name", format!("（事项 {code}）不能为空")));
        }
        Ok(ServiceItem { code: code.to_owned(), name: name.to_owned() })
    }
}

/// The clerk at the counter, as the gateway's audit block wants them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    pub account: String,
    pub name: String,
    pub role: String,
    pub division_code: String,
    pub service_org: String,
    pub service_org_code: String,
}

/// The service hall and the counter (窗口) this PC sits at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counter {
    pub hall_code: String,
    pub hall_name: String,
    /// The counter's number or name within the hall, e.g. `A03`.
    pub counter: String,
}

impl Counter {
    /// The terminal id sent to the gateway: hall code and counter, unique in the province.
    pub fn device_id(&self) -> String {
        format!("{}-{}", self.hall_code, self.counter)
    }
}
