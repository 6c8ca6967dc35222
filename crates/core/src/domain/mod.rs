//! Domain types, parsed once at the edge: codes, USCCs, license identifiers, items, licenses.

pub mod biz_num;
pub mod code;
pub mod counter;
pub mod entry;
pub mod license;
pub mod license_id;
pub mod uscc;

pub use biz_num::BizNum;
pub use code::EnterpriseCode;
pub use counter::{Counter, Operator, ServiceItem};
pub use entry::Entry;
pub use license::{
    Authorization, AuthorizedLicense, Enterprise, FaceFields, IssueState, License, LicenseStatus, LicenseSummary,
};
pub use uscc::Uscc;
