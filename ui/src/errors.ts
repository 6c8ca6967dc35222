// Every ErrorCode of the contract: what the clerk should do about it (zh-CN and en) and who it is for.
import type { ErrorCode } from './types';

/** Who has to act: the customer (show a fresh code…), the clerk (try again), IT (config, clock),
 *  the supervisor on duty (值班长: accounts, permissions), or it is a fact about one license.
 *  The UI picks icon and colour from it. */
export type ErrorCategory = 'customer' | 'retry' | 'it' | 'supervisor' | 'license';

/** Who acts on a failure of this category: the line above the error's headline (i18n key). */
export const WHO_ACTS = {
  customer: 'error.forCustomer', retry: 'error.forRetry', it: 'error.forIt', supervisor: 'error.forSupervisor', license: 'error.forLicense',
} as const satisfies Record<ErrorCategory, string>;

export interface ErrorAdvice {
  category: ErrorCategory;
  /** Never shown: a scan replaced by a newer one or by 下一位 is not a failure. */
  silent?: boolean;
  zh: string;
  en: string;
}

// A Record over ErrorCode makes the compiler refuse a code the contract adds but this table forgets.
export const ERROR_ADVICE: Record<ErrorCode, ErrorAdvice> = {
  CODE_INVALID: {
    category: 'customer',
    zh: '这不是有效的粤商码。请办事人在粤商通中打开粤商码后重新扫码。',
    en: 'This is not a valid Yueshang code. Ask the customer to open the code in the Yueshangtong app and scan again.',
  },
  CODE_UNKNOWN: {
    category: 'customer',
    zh: '粤商码无法识别。请办事人刷新粤商码后重新扫码。',
    en: 'The code was not recognised. Ask the customer to refresh the Yueshang code and scan again.',
  },
  CODE_EXPIRED: {
    category: 'customer',
    zh: '粤商码已过期。请办事人刷新粤商码后重新扫码。',
    en: 'The code has expired. Ask the customer to refresh the Yueshang code and scan again.',
  },
  CODE_USED: {
    category: 'customer',
    zh: '此粤商码已使用过。请办事人刷新粤商码后重新扫码。',
    en: 'This code has already been used. Ask the customer to refresh the Yueshang code and scan again.',
  },
  CONSENT_DECLINED: {
    category: 'customer',
    zh: '办事人未同意授权。请办事人在粤商通中同意授权后重新扫码。',
    en: 'The customer did not consent. Ask them to approve the authorization in the app, then scan again.',
  },
  ITEM_NOT_ALLOWED: {
    category: 'it',
    zh: '所选事项不能调用这些证照。请确认事项选择正确；如无误，请联系 IT 检查事项配置。',
    en: 'The selected service item may not use these licenses. Check the item; if it is right, ask IT to check the item configuration.',
  },
  GATEWAY_AUTH_REJECTED: {
    category: 'it',
    zh: '网关拒绝了本机的身份认证。请联系 IT 检查网关凭据（PaaS ID / Token）。',
    en: 'The gateway rejected this PC\'s credentials. Ask IT to check the gateway credentials (PaaS ID / token).',
  },
  CLOCK_SKEW: {
    category: 'it',
    zh: '本机时钟不准，网关拒绝请求。请通知 IT 校准这台电脑的时间。',
    en: 'This PC\'s clock is wrong, so the gateway refuses requests. Tell IT to correct the PC\'s time.',
  },
  GATEWAY_FORBIDDEN: {
    category: 'it',
    zh: '网关不允许本机访问该服务。请联系 IT 检查网关授权与网络策略。',
    en: 'The gateway does not allow this PC to use the service. Ask IT to check the gateway permissions and network policy.',
  },
  GATEWAY_TIMEOUT: {
    category: 'retry',
    zh: '网关响应超时。请稍后重试。',
    en: 'The gateway did not answer in time. Please try again.',
  },
  GATEWAY_UNAVAILABLE: {
    category: 'retry',
    zh: '暂时连不上网关。请稍后重试；若持续出现，请联系 IT 检查网络。',
    en: 'The gateway cannot be reached right now. Try again; if it keeps happening, ask IT to check the network.',
  },
  RATE_LIMITED: {
    category: 'retry',
    zh: '请求太频繁，网关暂时限流。请稍等片刻再试。',
    en: 'Too many requests; the gateway is throttling. Wait a moment and try again.',
  },
  BODY_TOO_LARGE: {
    category: 'it',
    zh: '数据超过网关大小限制。请联系 IT 处理。',
    en: 'The data is larger than the gateway allows. Please call IT.',
  },
  BAD_RESPONSE: {
    category: 'retry',
    zh: '收到无法识别的数据。请重试；若反复出现，请联系 IT。',
    en: 'An unreadable response was received. Try again; if it keeps happening, call IT.',
  },
  REQUEST_REJECTED: {
    category: 'it',
    zh: '请求被拒绝。请联系 IT 检查配置。',
    en: 'The request was rejected. Call IT to check the configuration.',
  },
  LICENSE_LOGIN_REJECTED: {
    category: 'it',
    zh: '电子证照系统拒绝登录。请联系 IT 检查证照系统账号配置。',
    en: 'The e-license system refused the login. Call IT to check the e-license account configuration.',
  },
  LICENSE_REVOKED: {
    category: 'license',
    zh: '该证照已注销，不能作为办事依据。',
    en: 'This license has been revoked and cannot be relied on.',
  },
  AUTH_CODE_EXPIRED: {
    category: 'customer',
    zh: '授权已过期。请办事人刷新粤商码，重新扫码授权。',
    en: 'The authorization has expired. Ask the customer to refresh the code and scan again.',
  },
  AUTH_CODE_NOT_FOUND: {
    category: 'customer',
    zh: '找不到此次授权。请办事人刷新粤商码后重新扫码。',
    en: 'The authorization was not found. Ask the customer to refresh the code and scan again.',
  },
  LICENSE_NOT_AUTHORIZED: {
    category: 'license',
    zh: '办事人未授权查看此证照。如需使用，请办事人重新授权后扫码。',
    en: 'The customer has not authorized this license. If it is needed, ask them to authorize it and scan again.',
  },
  CONFIG_INVALID: {
    category: 'it',
    zh: '本机配置有误。请联系 IT 检查配置文件。',
    en: 'This PC\'s configuration is wrong. Call IT to check the configuration file.',
  },
  STORAGE_FAILED: {
    category: 'it',
    zh: '本机无法保存数据。请联系 IT 检查磁盘空间和权限。',
    en: 'This PC cannot save data. Call IT to check disk space and permissions.',
  },
  STORAGE_KEY_MISSING: {
    category: 'it',
    zh: '本机找不到缓存的存储密钥，加密的证照缓存无法打开。请联系 IT 运行 yueshang cache reset 清空加密缓存（审计记录会保留）。',
    en: 'This PC cannot find the storage key of its sealed cache. Call IT to run yueshang cache reset (the audit trail is kept).',
  },
  SCAN_CANCELLED: {
    category: 'retry',
    silent: true,
    zh: '查询已取消。',
    en: 'The lookup was cancelled.',
  },
  NO_CUSTOMER: {
    category: 'retry',
    zh: '当前没有办事企业。请先扫描粤商码。',
    en: 'No enterprise is at the counter. Scan a Yueshang code first.',
  },
  SANDBOX_ONLY: {
    category: 'it',
    zh: '此功能仅在沙箱模式下可用。请联系 IT 确认运行模式。',
    en: 'This works in sandbox mode only. Ask IT to check which mode the app runs in.',
  },
  LICENSE_EXPIRED: {
    category: 'license',
    zh: '该证照已过期，不能出具用证副本。请办事人到发证机关办理延续后重新授权。',
    en: 'This license has expired and cannot be stamped or printed. The holder must renew it with the issuer.',
  },
  STATUS_UNCHECKED: {
    category: 'retry',
    zh: '暂时无法联网核验证照状态。可以继续出具副本，副本上会注明最近一次核验的时间；也可以稍后重试。',
    en: 'The license status could not be re-checked online. You may go on; the copy states when it was last checked. Or try again later.',
  },
  FONT_MISSING: {
    category: 'it',
    zh: '本机没有中文字体，无法生成用证副本。请联系 IT 安装中文字体（如 fonts-wqy-microhei、微软雅黑）。',
    en: 'No Chinese font is installed, so no copy can be made. Ask IT to install one (e.g. fonts-wqy-microhei, Microsoft YaHei).',
  },
  FILE_UNREADABLE: {
    category: 'license',
    zh: '证照文件已损坏或被加密，无法加盖用证标记。请点“重试”重新获取。',
    en: 'The license file is damaged or encrypted and cannot be stamped. Press Retry to fetch it again.',
  },
  NO_PRINTER: {
    category: 'it',
    zh: '本机没有可用的打印机。请联系 IT 添加打印机，或先另存为 PDF。',
    en: 'This PC has no printer. Ask IT to add one, or save the copy as PDF.',
  },
  PRINTER_NOT_FOUND: {
    category: 'it',
    zh: '找不到所选打印机。请换一台打印机，或联系 IT 检查打印机配置。',
    en: 'The chosen printer does not exist. Pick another, or ask IT to check the printer setting.',
  },
  PRINTER_UNAVAILABLE: {
    category: 'retry',
    zh: '打印机已暂停、脱机或不接收任务。请检查打印机电源、纸张和连接，或换一台打印机。',
    en: 'The printer is paused, offline or not accepting jobs. Check power, paper and cable, or pick another printer.',
  },
  PRINT_FAILED: {
    category: 'retry',
    zh: '打印任务没有送达打印服务。请重试；持续出现请联系 IT。',
    en: 'The print job did not reach the print service. Try again; if it persists, tell IT.',
  },
  PRINT_CANCELLED: {
    category: 'retry',
    zh: '已取消打印，没有发送任何打印任务。',
    en: 'Printing was cancelled; nothing was sent.',
  },
  SAVE_FAILED: {
    category: 'retry',
    zh: '无法保存到所选文件夹。请确认文件夹可写且磁盘有空间，或换一个文件夹。',
    en: 'The copy could not be saved there. Check the folder is writable and the disk has space, or pick another folder.',
  },
  RECORD_INVALID: {
    category: 'retry',
    zh: '办结信息不完整，请补全后再提交。',
    en: 'The handling record is incomplete; complete it and submit again.',
  },
  BIZ_NUM_UNKNOWN: {
    category: 'it',
    zh: '本机没有这个办件号的记录，请核对办件号。',
    en: 'This counter has no handling with that number; check the number.',
  },
  AUDIT_TAMPERED: {
    category: 'it',
    zh: '审计记录校验未通过：有记录被改动、删除或插入。请保留现场，报告值班长和安全管理员。',
    en: 'The audit trail does not verify: a record was altered, deleted or inserted. Leave everything as it is and tell the supervisor and the security officer.',
  },
  EXPORT_UNREADABLE: {
    category: 'it',
    zh: '这个文件不是完整的审计导出文件，无法校验。请使用导出时生成的原文件。',
    en: 'This file is not a complete audit export and cannot be verified. Use the file the export wrote.',
  },
  // Never which of the two was wrong: that would tell a stranger which accounts exist.
  SIGN_IN_FAILED: {
    category: 'retry',
    zh: '账号或密码不对，请重新输入。',
    en: 'The account or the password is wrong. Type them again.',
  },
  ACCOUNT_LOCKED: {
    category: 'retry',
    zh: '连续 5 次密码错误，账号已锁定 5 分钟。',
    en: 'Five wrong passwords in a row: the account is locked for 5 minutes.',
  },
  ACCOUNT_DISABLED: {
    category: 'supervisor',
    zh: '账号已停用，请找值班长。',
    en: 'This account is disabled. Ask the supervisor on duty.',
  },
  SIGN_IN_REQUIRED: {
    category: 'retry',
    zh: '登录已失效，请重新登录。',
    en: 'You are no longer signed in. Please sign in again.',
  },
  NOT_PERMITTED: {
    category: 'supervisor',
    zh: '只有值班长可以做这件事。',
    en: 'Only the supervisor on duty may do this.',
  },
  ACCOUNT_EXISTS: {
    category: 'retry',
    zh: '这个账号已存在，请换一个账号名。',
    en: 'This account already exists. Choose another account name.',
  },
  ACCOUNT_NOT_FOUND: {
    category: 'retry',
    zh: '没有这个账号，可能已被删除。请刷新账号列表。',
    en: 'There is no such account; it may have been removed. Reload the account list.',
  },
  ACCOUNT_INVALID: {
    category: 'retry',
    zh: '账号、姓名或密码不合要求，请按提示修改。',
    en: 'The account, name or password does not meet the rules. Correct it as shown.',
  },
  USCC_INVALID: {
    category: 'retry',
    zh: '统一社会信用代码有误。请核对营业执照上的18位代码后重新输入。',
    en: 'This unified social credit code is not valid. Check the 18 characters on the business license and type it again.',
  },
  GROUND_REQUIRED: {
    category: 'retry',
    zh: '依职能查询须选择法定依据并确认。',
    en: 'A lookup by duty needs a legal ground, picked and confirmed.',
  },
  NO_LICENSES: {
    category: 'license',
    zh: '该企业没有可用证照。依据已记录。',
    en: 'This enterprise has no license this department may use. The ground was recorded.',
  },
  IMAGE_NO_CODE: {
    category: 'customer',
    zh: '图片中没有找到粤商码。请让办事人发送完整、清晰的粤商码截图，或直接出示手机扫码。',
    en: 'No Yueshang code was found in the image. Ask for a complete, sharp screenshot, or scan the phone directly.',
  },
  IMAGE_UNREADABLE: {
    category: 'retry',
    zh: '无法读取这个文件。请使用 PNG、JPEG、BMP、GIF 或 WebP 格式、不超过 40 MB 的截图或照片。',
    en: 'This file cannot be read. Use a PNG, JPEG, BMP, GIF or WebP screenshot or photo of at most 40 MB.',
  },
  // 全厅 (the supervisor view's hall scope): the hall service ([hall_service] url) answers for every counter.
  HALL_UNREACHABLE: {
    category: 'it',
    zh: '连不上大厅服务，暂时看不到全厅的数据。请联系信息科检查大厅服务；本窗口的数据不受影响，可切回“本窗口”查看。',
    en: 'The hall service cannot be reached, so the whole hall cannot be shown. Ask IT to check the hall service; this counter\'s own data is unaffected (switch back to “This counter”).',
  },
  COUNTER_NOT_ENROLLED: {
    category: 'it',
    zh: '本窗口尚未在大厅登记，大厅服务不接受它的查询。请信息科用 yueshang hall enroll 登记本窗口的公钥。',
    en: 'This counter is not enrolled with the hall service, which refuses its requests. Ask IT to enroll this counter\'s public key with yueshang hall enroll.',
  },
  CHAIN_FORK: {
    category: 'supervisor',
    zh: '本窗口的审计链与大厅已保存的记录不一致（分叉），大厅已拒收并告警。请保留现场，不要再导出或修改本机数据，立即报告值班长和安全管理员。',
    en: 'This counter\'s audit chain differs from what the hall stored (a fork); the hall refused it and raised an alarm. Keep everything as it is, do not export or change this PC\'s data, and tell the supervisor and the security officer now.',
  },
  HALL_REFUSED: {
    category: 'it',
    zh: '大厅服务拒收了本窗口发送的记录。请联系信息科查看本机日志和大厅服务日志。',
    en: 'The hall service refused what this counter sent. Ask IT to read this PC\'s log and the hall service\'s log.',
  },
};

export const ERROR_CODES = Object.keys(ERROR_ADVICE) as ErrorCode[];

export function isErrorCode(v: unknown): v is ErrorCode {
  return typeof v === 'string' && Object.prototype.hasOwnProperty.call(ERROR_ADVICE, v);
}

export function adviceFor(code: ErrorCode): ErrorAdvice {
  return ERROR_ADVICE[code];
}
