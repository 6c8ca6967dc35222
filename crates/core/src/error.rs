//! The one error type of the core: a stable code the UI branches on and a Chinese message for the person.

use std::fmt;

/// What went wrong, sorted by what the caller must decide.
///
/// Each variant has a stable code string (`ErrorCode::as_str`) that the UI, the CLI's
/// JSON and the audit log use; the Chinese message says what to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// The scanned text is not a 粤商码; rejected locally, no network call made.
    CodeInvalid,
    CodeUnknown,
    CodeExpired,
    CodeUsed,
    ConsentDeclined,
    /// The service item is not opened for this PaaS ID: a configuration problem for IT.
    ItemNotAllowed,
    /// The gateway rejected the signature or the PaaS credentials.
    GatewayAuthRejected,
    /// The gateway rejected the signature and this PC's clock is off by more than the gateway window.
    ClockSkew,
    /// The PaaS ID is not subscribed to the service (HTTP 403 / 400003).
    GatewayForbidden,
    GatewayTimeout,
    GatewayUnavailable,
    RateLimited,
    BodyTooLarge,
    BadResponse,
    /// The gateway said our request was malformed: a bug on our side.
    RequestRejected,
    /// The e-license account, password, app key or secret was refused.
    LicenseLoginRejected,
    LicenseRevoked,
    AuthCodeExpired,
    AuthCodeNotFound,
    /// This department may not read the license.
    LicenseNotAuthorized,
    ConfigInvalid,
    /// The local cache (SQLite) failed, or a sealed value in it is damaged.
    StorageFailed,
    /// The cache's storage key (master key) is not where the database says it was made: a database
    /// copied from another PC, or a key deleted. IT wipes the sealed cache with `yueshang cache reset`.
    StorageKeyMissing,
    /// The scan was abandoned: the clerk moved to the next customer, or a newer scan replaced it.
    ScanCancelled,
    /// Something about "the current customer" was asked while the counter has none.
    NoCustomer,
    /// A sandbox-only action was asked of a counter connected to a real gateway.
    SandboxOnly,
    /// The license is past its expiry date: never stamped or printed.
    LicenseExpired,
    /// The status re-check before a copy could not reach the gateway: the clerk may go on with the last check.
    StatusUnchecked,
    /// No CJK font to stamp with: IT must install one or name one in `[printing] font`.
    FontMissing,
    /// The cached file cannot be read as a PDF or image (damaged, encrypted, unknown type).
    FileUnreadable,
    /// The print system has no queue at all, or no default where one is needed.
    NoPrinter,
    /// The named queue does not exist.
    PrinterNotFound,
    /// The queue exists but is stopped, paused or not accepting jobs.
    PrinterUnavailable,
    /// The print system could not be reached or refused the job.
    PrintFailed,
    /// The clerk closed the printer picker: nothing was sent.
    PrintCancelled,
    /// A file (a stamped copy, the onboarding forms) could not be written to the chosen folder.
    SaveFailed,
    /// The handling record is incomplete (e.g. REJECTED without a reason); nothing was queued.
    RecordInvalid,
    /// No handling with this number was recorded on this counter.
    BizNumUnknown,
    /// The audit chain, a checkpoint or a signature does not verify: something was altered.
    AuditTampered,
    /// A file given to `audit verify` is not an audit export, or is cut short.
    ExportUnreadable,
    /// The hall service ([hall_service] url) cannot be reached, or answered something that is not
    /// the hall protocol: shipping waits and retries; the hall-wide view cannot be shown.
    HallUnreachable,
    /// The hall service does not know this counter's key: IT enrolls it (`yueshang hall enroll`).
    CounterNotEnrolled,
    /// The hall holds a different event at a `seq` this counter sends: the counter's chain was
    /// rewritten after the hall stored it (or two PCs share one counter database). Named by seq.
    ChainFork,
    /// The hall refused a batch for a reason retrying cannot fix (a signature that does not verify,
    /// a malformed batch): a bug or tampering, for IT.
    HallRefused,
    /// The account or the password is wrong (never said which).
    SignInFailed,
    /// Five wrong passwords in a row: the account is locked for five minutes.
    AccountLocked,
    /// The account exists but was disabled by a supervisor.
    AccountDisabled,
    /// Nobody is signed in, or the signed-in account was disabled or removed meanwhile.
    SignInRequired,
    /// The signed-in account's role may not do this.
    NotPermitted,
    /// An account with this name exists already.
    AccountExists,
    /// No account with this name on this counter.
    AccountNotFound,
    /// The account name, the person's name or the new password does not meet the rules.
    AccountInvalid,
    /// The typed or scanned text looks like a USCC but is not a valid one (its check character,
    /// a letter it may not contain); the message names the position.
    UsccInvalid,
    /// A lookup by USCC (依职能用证) without a legal ground picked from the configured list.
    GroundRequired,
    /// A lookup by USCC found no license of the enterprise this department may use.
    NoLicenses,
    /// The image holds no QR code that could be read (or none that is a 粤商码 at all).
    ImageNoCode,
    /// The file is not an image we read (PNG, JPEG, BMP, GIF, WebP), is damaged, or too large.
    ImageUnreadable,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 57] = [
        ErrorCode::CodeInvalid,
        ErrorCode::CodeUnknown,
        ErrorCode::CodeExpired,
        ErrorCode::CodeUsed,
        ErrorCode::ConsentDeclined,
        ErrorCode::ItemNotAllowed,
        ErrorCode::GatewayAuthRejected,
        ErrorCode::ClockSkew,
        ErrorCode::GatewayForbidden,
        ErrorCode::GatewayTimeout,
        ErrorCode::GatewayUnavailable,
        ErrorCode::RateLimited,
        ErrorCode::BodyTooLarge,
        ErrorCode::BadResponse,
        ErrorCode::RequestRejected,
        ErrorCode::LicenseLoginRejected,
        ErrorCode::LicenseRevoked,
        ErrorCode::AuthCodeExpired,
        ErrorCode::AuthCodeNotFound,
        ErrorCode::LicenseNotAuthorized,
        ErrorCode::ConfigInvalid,
        ErrorCode::StorageFailed,
        ErrorCode::StorageKeyMissing,
        ErrorCode::ScanCancelled,
        ErrorCode::NoCustomer,
        ErrorCode::SandboxOnly,
        ErrorCode::LicenseExpired,
        ErrorCode::StatusUnchecked,
        ErrorCode::FontMissing,
        ErrorCode::FileUnreadable,
        ErrorCode::NoPrinter,
        ErrorCode::PrinterNotFound,
        ErrorCode::PrinterUnavailable,
        ErrorCode::PrintFailed,
        ErrorCode::PrintCancelled,
        ErrorCode::SaveFailed,
        ErrorCode::RecordInvalid,
        ErrorCode::BizNumUnknown,
        ErrorCode::AuditTampered,
        ErrorCode::ExportUnreadable,
        ErrorCode::HallUnreachable,
        ErrorCode::CounterNotEnrolled,
        ErrorCode::ChainFork,
        ErrorCode::HallRefused,
        ErrorCode::SignInFailed,
        ErrorCode::AccountLocked,
        ErrorCode::AccountDisabled,
        ErrorCode::SignInRequired,
        ErrorCode::NotPermitted,
        ErrorCode::AccountExists,
        ErrorCode::AccountNotFound,
        ErrorCode::AccountInvalid,
        ErrorCode::UsccInvalid,
        ErrorCode::GroundRequired,
        ErrorCode::NoLicenses,
        ErrorCode::ImageNoCode,
        ErrorCode::ImageUnreadable,
    ];

    /// The stable code string; never change one once released (UI and audit logs rely on it).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::CodeInvalid => "CODE_INVALID",
            ErrorCode::CodeUnknown => "CODE_UNKNOWN",
            ErrorCode::CodeExpired => "CODE_EXPIRED",
            ErrorCode::CodeUsed => "CODE_USED",
            ErrorCode::ConsentDeclined => "CONSENT_DECLINED",
            ErrorCode::ItemNotAllowed => "ITEM_NOT_ALLOWED",
            ErrorCode::GatewayAuthRejected => "GATEWAY_AUTH_REJECTED",
            ErrorCode::ClockSkew => "CLOCK_SKEW",
            ErrorCode::GatewayForbidden => "GATEWAY_FORBIDDEN",
            ErrorCode::GatewayTimeout => "GATEWAY_TIMEOUT",
            ErrorCode::GatewayUnavailable => "GATEWAY_UNAVAILABLE",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::BodyTooLarge => "BODY_TOO_LARGE",
            ErrorCode::BadResponse => "BAD_RESPONSE",
            ErrorCode::RequestRejected => "REQUEST_REJECTED",
            ErrorCode::LicenseLoginRejected => "LICENSE_LOGIN_REJECTED",
            ErrorCode::LicenseRevoked => "LICENSE_REVOKED",
            ErrorCode::AuthCodeExpired => "AUTH_CODE_EXPIRED",
            ErrorCode::AuthCodeNotFound => "AUTH_CODE_NOT_FOUND",
            ErrorCode::LicenseNotAuthorized => "LICENSE_NOT_AUTHORIZED",
            ErrorCode::ConfigInvalid => "CONFIG_INVALID",
            ErrorCode::StorageFailed => "STORAGE_FAILED",
            ErrorCode::StorageKeyMissing => "STORAGE_KEY_MISSING",
            ErrorCode::ScanCancelled => "SCAN_CANCELLED",
            ErrorCode::NoCustomer => "NO_CUSTOMER",
            ErrorCode::SandboxOnly => "SANDBOX_ONLY",
            ErrorCode::LicenseExpired => "LICENSE_EXPIRED",
            ErrorCode::StatusUnchecked => "STATUS_UNCHECKED",
            ErrorCode::FontMissing => "FONT_MISSING",
            ErrorCode::FileUnreadable => "FILE_UNREADABLE",
            ErrorCode::NoPrinter => "NO_PRINTER",
            ErrorCode::PrinterNotFound => "PRINTER_NOT_FOUND",
            ErrorCode::PrinterUnavailable => "PRINTER_UNAVAILABLE",
            ErrorCode::PrintFailed => "PRINT_FAILED",
            ErrorCode::PrintCancelled => "PRINT_CANCELLED",
            ErrorCode::SaveFailed => "SAVE_FAILED",
            ErrorCode::RecordInvalid => "RECORD_INVALID",
            ErrorCode::BizNumUnknown => "BIZ_NUM_UNKNOWN",
            ErrorCode::AuditTampered => "AUDIT_TAMPERED",
            ErrorCode::ExportUnreadable => "EXPORT_UNREADABLE",
            ErrorCode::HallUnreachable => "HALL_UNREACHABLE",
            ErrorCode::CounterNotEnrolled => "COUNTER_NOT_ENROLLED",
            ErrorCode::ChainFork => "CHAIN_FORK",
            ErrorCode::HallRefused => "HALL_REFUSED",
            ErrorCode::SignInFailed => "SIGN_IN_FAILED",
            ErrorCode::AccountLocked => "ACCOUNT_LOCKED",
            ErrorCode::AccountDisabled => "ACCOUNT_DISABLED",
            ErrorCode::SignInRequired => "SIGN_IN_REQUIRED",
            ErrorCode::NotPermitted => "NOT_PERMITTED",
            ErrorCode::AccountExists => "ACCOUNT_EXISTS",
            ErrorCode::AccountNotFound => "ACCOUNT_NOT_FOUND",
            ErrorCode::AccountInvalid => "ACCOUNT_INVALID",
            ErrorCode::UsccInvalid => "USCC_INVALID",
            ErrorCode::GroundRequired => "GROUND_REQUIRED",
            ErrorCode::NoLicenses => "NO_LICENSES",
            ErrorCode::ImageNoCode => "IMAGE_NO_CODE",
            ErrorCode::ImageUnreadable => "IMAGE_UNREADABLE",
        }
    }

    /// What the clerk (or IT) should do, in plain Chinese.
    pub fn advice(self) -> &'static str {
        match self {
            ErrorCode::CodeInvalid => "扫到的不是粤商码，请让办事人打开粤商通重新出示粤商码后再扫。",
            ErrorCode::CodeUnknown => "码无效，请让办事人刷新粤商码后重扫。",
            ErrorCode::CodeExpired => "码已过期，请让办事人刷新粤商码后重扫。",
            ErrorCode::CodeUsed => "码已使用，请让办事人刷新粤商码后重扫。",
            ErrorCode::ConsentDeclined => {
                "企业未授权本事项使用电子证照，请让办事人在粤商通中同意授权后刷新粤商码重扫。"
            }
            ErrorCode::ItemNotAllowed => "本窗口未开通该事项的免证办服务，请换选事项，或联系IT核对事项配置。",
            ErrorCode::GatewayAuthRejected => "网关拒绝了本机的鉴权信息，请联系IT核对 PaaS ID 和 PaaS Token 配置。",
            ErrorCode::ClockSkew => "本机时间不准，网关拒绝了请求。请联系IT校准本机时间后重试。",
            ErrorCode::GatewayForbidden => "网关未给本系统开通该服务，请联系IT核对服务订阅。",
            ErrorCode::GatewayTimeout => "省网关响应超时，请稍后重试；多次超时请联系IT检查网络。",
            ErrorCode::GatewayUnavailable => "暂时连不上省网关，请稍后重试；持续失败请联系IT检查网络和网关地址。",
            ErrorCode::RateLimited => "请求过于频繁，请稍等片刻再试。",
            ErrorCode::BodyTooLarge => "数据超过网关大小限制，无法传输，请联系IT。",
            ErrorCode::BadResponse => "网关返回的数据无法识别，请重试；持续出现请联系IT。",
            ErrorCode::RequestRejected => "网关认为请求格式有误（程序问题），请联系IT并提供日志。",
            ErrorCode::LicenseLoginRejected => "电子证照系统登录被拒，请联系IT核对电子证照账号、密码和应用密钥。",
            ErrorCode::LicenseRevoked => "该证照已注销，不能作为有效证照使用。",
            ErrorCode::AuthCodeExpired => "本次授权已过期，请让办事人刷新粤商码后重扫。",
            ErrorCode::AuthCodeNotFound => "证照授权码无效，请让办事人刷新粤商码后重扫。",
            ErrorCode::LicenseNotAuthorized => "本部门无权调阅该证照，请联系IT核对用证权限。",
            ErrorCode::ConfigInvalid => "配置有误，请联系IT修正配置文件。",
            ErrorCode::StorageFailed => "本机缓存读写失败，请重试；持续出现请联系IT检查磁盘。",
            ErrorCode::StorageKeyMissing => {
                "本机找不到缓存的存储密钥，加密的证照缓存无法打开。请联系IT：运行 yueshang cache reset 清空加密缓存后重新扫码（审计记录会保留）。"
            }
            ErrorCode::ScanCancelled => "已切换到下一位办事人，上一次查询已取消。",
            ErrorCode::NoCustomer => "当前没有正在办理的企业，请先扫描粤商码。",
            ErrorCode::SandboxOnly => "该功能只在沙箱模式下可用。",
            ErrorCode::LicenseExpired => "该证照已过期，不能出具用证副本；请让办事人到发证机关办理延续后重新授权。",
            ErrorCode::StatusUnchecked => {
                "暂时无法联网核验证照状态。可以继续出具副本，副本上将注明最近一次核验的时间；也可以稍后重试。"
            }
            ErrorCode::FontMissing => {
                "本机没有可用的中文字体，无法生成用证副本。请IT安装中文字体（统信/麒麟/Debian：fonts-wqy-microhei 或 fonts-noto-cjk；Windows：微软雅黑或宋体），或在配置 [printing] font 中指定字体文件。"
            }
            ErrorCode::FileUnreadable => {
                "证照文件已损坏或被加密，无法加盖用证标记。请点“重试”重新获取；仍不行请联系发证机关。"
            }
            ErrorCode::NoPrinter => "本机没有可用的打印机，也没有默认打印机。请联系IT添加打印机，或先“另存为 PDF”。",
            ErrorCode::PrinterNotFound => {
                "找不到所选打印机。请换一台打印机，或联系IT检查打印机配置（[printing] printer）。"
            }
            ErrorCode::PrinterUnavailable => {
                "打印机已暂停、脱机或不接收任务。请检查打印机的电源、纸张和连接，或换一台打印机；持续出现请联系IT。"
            }
            ErrorCode::PrintFailed => {
                "打印任务没有送达打印服务。请重试；持续出现请联系IT检查打印服务（CUPS/打印后台处理程序）。"
            }
            ErrorCode::PrintCancelled => "已取消打印，没有发送任何打印任务。",
            ErrorCode::SaveFailed => "无法把文件保存到所选文件夹。请确认文件夹存在、可写且磁盘有空间，或换一个文件夹。",
            ErrorCode::RecordInvalid => "办结信息不完整，请补全后再提交。",
            ErrorCode::BizNumUnknown => "本机没有这个办件号的记录，请核对办件号。",
            ErrorCode::AuditTampered => {
                "审计记录校验未通过：记录被改动、删除、插入或签名不符。请保留现场并报告值班长和安全管理员，不要再修改数据文件。"
            }
            ErrorCode::ExportUnreadable => {
                "这个文件不是完整的审计导出文件（或已被截断），无法校验。请使用导出时生成的 CSV 或 XLSX 原文件。"
            }
            ErrorCode::HallUnreachable => {
                "连不上大厅服务。本窗口照常办理，审计记录保留在本机，恢复后自动补传；持续出现请联系信息科检查大厅服务和网络。"
            }
            ErrorCode::CounterNotEnrolled => {
                "大厅服务尚未登记本窗口的签名公钥。请信息科用 yueshang audit key --pem 取公钥，再在大厅服务器上执行 yueshang hall enroll 登记。"
            }
            ErrorCode::ChainFork => {
                "本窗口的审计链与大厅已保存的记录不一致（分叉），大厅已拒收并告警。请保留现场，不要再导出或修改本机数据，立即报告值班长和安全管理员。"
            }
            ErrorCode::HallRefused => "大厅服务拒收了本窗口发送的记录。请联系信息科查看本机日志和大厅服务日志。",
            ErrorCode::SignInFailed => "账号或密码不对，请重新输入。忘记密码请找值班长重置。",
            ErrorCode::AccountLocked => "连续 5 次密码错误，账号已锁定 5 分钟。到时自动解锁；着急可请值班长重置密码。",
            ErrorCode::AccountDisabled => "该账号已停用，不能登录。如需恢复请找值班长。",
            ErrorCode::SignInRequired => "请先登录（登录已失效，或账号在登录期间被停用）。",
            ErrorCode::NotPermitted => "只有值班长可以进行这项操作。",
            ErrorCode::AccountExists => "该账号已存在，请换一个账号名。",
            ErrorCode::AccountNotFound => "本机没有这个账号，请核对账号名。",
            ErrorCode::AccountInvalid => "账号信息不符合要求，请按提示修改后再提交。",
            ErrorCode::UsccInvalid => "请核对营业执照上的18位统一社会信用代码后重新输入。",
            ErrorCode::GroundRequired => "依职能查询须选择法定依据并确认，请选择后再查询。",
            ErrorCode::NoLicenses => {
                "该企业没有可用证照。依据已记录；如企业确有证照，请让办事人在粤商通中出示粤商码授权。"
            }
            ErrorCode::ImageNoCode => {
                "图片中没有找到粤商码。请让办事人发送完整、清晰的粤商码截图，或直接出示手机扫码。"
            }
            ErrorCode::ImageUnreadable => {
                "无法读取这个文件。请使用 PNG、JPEG、BMP、GIF 或 WebP 格式、不超过 40 MB 的截图或照片。"
            }
        }
    }

    /// Whether trying the same thing again, unchanged, may succeed.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorCode::GatewayTimeout
                | ErrorCode::GatewayUnavailable
                | ErrorCode::RateLimited
                | ErrorCode::BadResponse
                | ErrorCode::StorageFailed
                | ErrorCode::PrintFailed
                | ErrorCode::HallUnreachable
        )
    }

    pub fn parse(code: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.into_iter().find(|c| c.as_str() == code)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An error of the core: the code for decisions, a message for the person, and a detail for logs.
///
/// The detail never holds a secret (token, password, signature); it is for IT reading a log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Error {
    pub code: ErrorCode,
    pub message: String,
    pub detail: Option<String>,
}

impl Error {
    /// An error whose message is the code's standard advice.
    pub fn new(code: ErrorCode) -> Self {
        Error { code, message: code.advice().to_owned(), detail: None }
    }

    /// An error whose message adds a specific fact before the standard advice.
    pub fn with_fact(code: ErrorCode, fact: impl AsRef<str>) -> Self {
        Error { code, message: format!("{}{}", fact.as_ref(), code.advice()), detail: None }
    }

    /// Adds a technical detail for the log; not shown to the clerk as the message.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    pub fn config(key: &str, problem: impl AsRef<str>) -> Self {
        Error::with_fact(ErrorCode::ConfigInvalid, format!("配置项 {key} {}。", problem.as_ref()))
    }

    pub fn storage(err: impl fmt::Display) -> Self {
        Error::new(ErrorCode::StorageFailed).detail(err.to_string())
    }

    pub fn bad_response(detail: impl Into<String>) -> Self {
        Error::new(ErrorCode::BadResponse).detail(detail)
    }
}

impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Self {
        Error::storage(err)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate code {code}");
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
            assert!(!code.advice().is_empty());
        }
    }

    #[test]
    fn fact_comes_before_advice() {
        let err = Error::config("gateway.paasid", "不能为空");
        assert_eq!(err.code, ErrorCode::ConfigInvalid);
        assert!(err.message.starts_with("配置项 gateway.paasid 不能为空。"));
        assert!(err.message.ends_with(ErrorCode::ConfigInvalid.advice()));
    }
}
