//! The doctor's gateway checks: the clock against the gateway's `Date`, a signed call that changes
//! nothing (a well-formed code that cannot exist: "码无效" proves the signature was accepted), and
//! the e-license login.

use super::network::{self, ProbeFailure};
use super::{Check, Counter, DoctorInput};
use crate::domain::{BizNum, EnterpriseCode};
use crate::error::ErrorCode;
use crate::gateway::GatewayClient;
use crate::signing::WINDOW_SECS;
use chrono::{DateTime, Utc};
use std::time::{Duration, Instant};

/// Beyond this the doctor fails the clock: a third of the gateway's 180 s window, so a counter is
/// put right well before its calls start to bounce.
const CLOCK_FAIL_SECS: i64 = 60;
/// Beyond this the clock passes with a warning: it drifts, and NTP is probably off.
const CLOCK_WARN_SECS: i64 = 10;

/// The code the signature probe exchanges: well-formed (contract §3) and recognisably not a real
/// one, so the gateway answers "码无效" and nothing is authorized, consumed or recorded.
const PROBE_CODE: &str = "YUESHANG-DOCTOR-PROBE-0000000000";

const CLOCK_FIX: &str = "校准本机时间：开启自动对时（NTP）。Linux/UOS/麒麟：sudo timedatectl set-ntp true；\
     Windows：设置 → 时间和语言 → 日期和时间 → 立即同步。网关拒绝与它相差超过 180 秒的请求。";

/// The first HTTP answer of the gateway, as the doctor saw it.
pub(crate) struct Answer {
    pub(crate) date: Option<String>,
    /// Our clock when the answer arrived.
    pub(crate) received: DateTime<Utc>,
    pub(crate) millis: u64,
    /// The leaf certificate (DER) of an HTTPS answer.
    pub(crate) certificate: Option<Vec<u8>>,
    pub(crate) status: u16,
}

/// clock → signature → license_login.
pub(crate) async fn run(
    counter: &Counter,
    input: &DoctorInput,
    answer: Option<Answer>,
    step: Duration,
    emit: &mut impl FnMut(Check),
) {
    let settings = &counter.settings;
    let started = Instant::now();
    let answer = match answer {
        Some(answer) => Ok(answer),
        None => network::probe(&settings.gateway, &settings.gateway.yst_base, step, input).await,
    };
    let skew = match answer {
        Ok(answer) => {
            let (check, skew) = clock(&answer);
            emit(check.timed(started));
            skew
        }
        Err(ProbeFailure { figure, fix }) => {
            emit(Check::fail("clock", format!("网关没有应答：{figure}"), fix).timed(started));
            for id in ["signature", "license_login"] {
                emit(Check::not_tried(id, "网关没有应答"));
            }
            return;
        }
    };
    if let Some(why) = &counter.secrets_missing {
        let because = format!("网关凭据不全（{why}）");
        emit(Check::not_tried("signature", &because));
        emit(Check::not_tried("license_login", &because));
        return;
    }
    let mut quick = settings.clone();
    // One try per call, each within the doctor's step: a diagnosis waits for nothing.
    quick.tuning.request_timeout = step;
    quick.tuning.max_retries = 0;
    let client = match GatewayClient::new(&quick, input.clock.clone(), input.nonces.clone()) {
        Ok(client) => client,
        Err(e) => {
            for id in ["signature", "license_login"] {
                emit(Check::fail(id, e.message.clone(), "按提示改正配置文件后重新检查。"));
            }
            return;
        }
    };
    emit(signature(&client, counter, skew, step).await);
    emit(license_login(&client, step).await);
}

/// The `clock` check: the gateway's `Date` against our clock when the answer arrived.
fn clock(answer: &Answer) -> (Check, Option<i64>) {
    let Some(server) = answer.date.as_deref().and_then(|d| DateTime::parse_from_rfc2822(d.trim()).ok()) else {
        let figure = format!("网关的应答（HTTP {}）没有 Date 头，无法测量", answer.status);
        return (Check::warning("clock", figure, "确认本机已开启自动对时（NTP）。"), None);
    };
    let skew = server.timestamp() - answer.received.timestamp();
    let figure = skew_figure(skew);
    let check = match skew.abs() {
        s if s > CLOCK_FAIL_SECS => Check::fail("clock", figure, CLOCK_FIX),
        s if s > CLOCK_WARN_SECS => Check::warning("clock", figure, CLOCK_FIX),
        _ => Check::pass("clock", figure),
    };
    (check, Some(skew))
}

/// "本机比网关慢 300 秒" (positive skew: the gateway is ahead).
fn skew_figure(skew: i64) -> String {
    match skew {
        s if s.abs() <= 1 => format!("与网关一致（相差 {} 秒以内）", s.abs().max(1)),
        s if s > 0 => format!("本机比网关慢 {s} 秒"),
        s => format!("本机比网关快 {} 秒", -s),
    }
}

/// The `signature` check: a signed code exchange of a code that cannot exist. Any business answer
/// means the gateway accepted the signature and the PaaS credentials.
async fn signature(client: &GatewayClient, counter: &Counter, skew: Option<i64>, step: Duration) -> Check {
    let started = Instant::now();
    let settings = &counter.settings;
    let Some(item) = settings.service_items.first() else {
        return Check::fail("signature", "没有配置事项，无法探测", "在配置文件中至少配置一个 [[service_items]]。");
    };
    let code = match EnterpriseCode::parse(PROBE_CODE) {
        Ok(code) => code,
        Err(e) => return Check::fail("signature", e.message, "这是程序缺陷，请联系开发方。"),
    };
    let biz_num = BizNum::from_existing(format!("DOCTOR-{}", settings.counter.device_id()));
    let call = client.exchange_code(&code, item, &biz_num, &settings.operator, &settings.counter);
    let outcome = match bounded(step, call).await {
        Ok(outcome) => outcome,
        Err(figure) => return Check::fail("signature", figure, "网关没有及时应答：稍后重试。").timed(started),
    };
    let check = match outcome {
        Ok(_) => Check::pass("signature", "网关接受了签名"),
        Err(e) => match e.code {
            ErrorCode::CodeUnknown | ErrorCode::CodeExpired | ErrorCode::CodeUsed | ErrorCode::ConsentDeclined => {
                Check::pass("signature", "网关接受了签名和 PaaS 凭据（探测码答复“码无效”，未改动任何数据）")
            }
            ErrorCode::ItemNotAllowed => Check::warning(
                "signature",
                format!("网关接受了签名，但事项 {} 未对本 PaaS ID 开通", item.code),
                "向粤商通接入方确认该事项已开通，或改正 [[service_items]] 中的事项编码。",
            ),
            ErrorCode::ClockSkew => Check::fail("signature", format!("网关拒绝了签名：{}", e.message), CLOCK_FIX),
            ErrorCode::GatewayAuthRejected => signature_rejected(skew),
            ErrorCode::GatewayForbidden => Check::fail(
                "signature",
                format!("网关拒绝访问：PaaS ID {} 没有订阅该服务", settings.gateway.paasid),
                "核对 [gateway] paasid 与网关分配的一致，并确认网关申请表中已订阅粤商通服务。",
            ),
            ErrorCode::RequestRejected => Check::warning(
                "signature",
                "网关接受了签名，但说请求格式有误",
                "这多半是接口约定不一致：把日志发给开发方。",
            ),
            _ => Check::fail("signature", e.message, "稍后重试；反复失败请把日志发给信息部门。"),
        },
    };
    check.timed(started)
}

/// A 400001 rejection: the clock when our measured skew is beyond the gateway's window, else the
/// credentials.
fn signature_rejected(skew: Option<i64>) -> Check {
    if let Some(skew) = skew.filter(|s| s.abs() > WINDOW_SECS) {
        return Check::fail(
            "signature",
            format!("网关拒绝了签名：本机时间与网关相差 {} 秒，超过网关允许的 {WINDOW_SECS} 秒", skew.abs()),
            CLOCK_FIX,
        );
    }
    Check::fail(
        "signature",
        "网关拒绝了签名（400001 鉴权失败），本机时间正常，问题在凭据",
        "核对 [gateway] paasid，并用 yueshang secrets set token 重新保存网关分配的 PaaS Token（注意测试与生产环境各不相同）。",
    )
}

/// The `license_login` check: a login to the e-license service with the configured account.
async fn license_login(client: &GatewayClient, step: Duration) -> Check {
    let started = Instant::now();
    let outcome = match bounded(step, client.ensure_login()).await {
        Ok(outcome) => outcome,
        Err(figure) => {
            return Check::fail("license_login", figure, "电子证照服务没有及时应答：稍后重试。").timed(started);
        }
    };
    let check = match outcome {
        Ok(()) => Check::pass("license_login", "登录成功"),
        Err(e) if e.code == ErrorCode::LicenseLoginRejected => Check::fail(
            "license_login",
            "电子证照服务拒绝登录",
            "核对 [gateway] account、app_key，并用 yueshang secrets set password / yueshang secrets set app_secret 重新保存电子证照项目组分配的密码和 app_secret。",
        ),
        Err(e) if e.code == ErrorCode::ClockSkew => Check::fail("license_login", e.message, CLOCK_FIX),
        Err(e) => Check::fail("license_login", e.message, "稍后重试；反复失败请把日志发给信息部门。"),
    };
    check.timed(started)
}

/// A gateway call cut off at the doctor's step (plus a moment for the client's own timeout to win).
async fn bounded<T>(step: Duration, call: impl Future<Output = T>) -> Result<T, String> {
    tokio::time::timeout(step + Duration::from_secs(1), call)
        .await
        .map_err(|_| format!("{} 秒内没有应答", step.as_secs_f32()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(date: Option<&str>, received: &str) -> Answer {
        Answer {
            date: date.map(str::to_owned),
            received: DateTime::parse_from_rfc3339(received).unwrap().with_timezone(&Utc),
            millis: 3,
            certificate: None,
            status: 404,
        }
    }

    #[test]
    fn the_clock_fails_beyond_a_minute_and_warns_beyond_ten_seconds() {
        let (ok, skew) = clock(&answer(Some("Sat, 28 Nov 2026 02:00:00 GMT"), "2026-11-28T02:00:00.4Z"));
        assert!(ok.ok && !ok.warn, "{ok:?}");
        assert_eq!(skew, Some(0));
        let (slow, skew) = clock(&answer(Some("Sat, 28 Nov 2026 02:05:00 GMT"), "2026-11-28T02:00:00Z"));
        assert!(!slow.ok && slow.figure.contains("慢 300 秒"), "{slow:?}");
        assert_eq!(skew, Some(300));
        let (fast, _) = clock(&answer(Some("Sat, 28 Nov 2026 01:59:40 GMT"), "2026-11-28T02:00:00Z"));
        assert!(fast.ok && fast.warn && fast.figure.contains("快 20 秒"), "{fast:?}");
        let (unknown, skew) = clock(&answer(None, "2026-11-28T02:00:00Z"));
        assert!(unknown.ok && unknown.warn && skew.is_none());
    }

    #[test]
    fn a_rejection_blames_the_clock_only_beyond_the_window() {
        assert!(signature_rejected(Some(-200)).figure.contains("200 秒"));
        assert!(signature_rejected(Some(30)).fix.unwrap().contains("secrets set token"));
        assert!(EnterpriseCode::parse(PROBE_CODE).is_ok());
    }
}
