//! Where the contract's routes are served in the sandbox (the routes themselves are `yueshang_core::contract::Route`).

use yueshang_core::contract::Contract;

/// The path prefix of the e-license use service behind the gateway (contract §2).
pub const LICENSE_SERVICE_PREFIX: &str = "/ebus/dzzz_convergence-service";

pub use yueshang_core::contract::Route;

/// The axum path pattern of a route under the given contract.
pub(crate) fn pattern(route: Route, contract: &Contract) -> String {
    let path = route.path(contract);
    if route.is_yst() { format!("/ebus/{{paasid}}{path}") } else { format!("{LICENSE_SERVICE_PREFIX}{path}") }
}
