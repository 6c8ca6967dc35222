//! The TIF gateway's own answers (contract §1): signature headers and gateway-level error bodies.

use serde::{Deserialize, Serialize};

pub const HEADER_PAASID: &str = "x-tif-paasid";
pub const HEADER_TIMESTAMP: &str = "x-tif-timestamp";
pub const HEADER_NONCE: &str = "x-tif-nonce";
pub const HEADER_SIGNATURE: &str = "x-tif-signature";

/// The gateway's error body: `{"code":400001,"msg":"…"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayErrorBody {
    pub code: i64,
    pub msg: String,
}

/// A header is missing (HTTP 500).
pub const AUTH_INCOMPLETE: (i64, &str) = (400001, "鉴权参数不完整，请求不合法。");
/// Bad signature, timestamp outside the window, or a replayed nonce (HTTP 500).
pub const AUTH_FAILED: (i64, &str) = (400001, "鉴权失败，鉴权信息有误。");
/// Unknown PaaS ID or service not subscribed (HTTP 403).
pub const FORBIDDEN: (i64, &str) = (400003, "无权访问该服务");
/// Request body over the environment's limit (HTTP 413).
pub const TOO_LARGE: (i64, &str) = (400013, "请求包体超过限制");
/// Rate limit (HTTP 429, with `Retry-After`).
pub const RATE_LIMITED: (i64, &str) = (400029, "请求过于频繁");
/// The backend did not answer in time (HTTP 504).
pub const BACKEND_TIMEOUT: (i64, &str) = (400504, "后端服务超时");

impl GatewayErrorBody {
    pub fn of((code, msg): (i64, &str)) -> Self {
        GatewayErrorBody { code, msg: msg.to_owned() }
    }
}
