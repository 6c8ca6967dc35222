// The IPC contract's types, mirroring src-tauri/src/dto.rs: what the Rust shell sends and accepts, and nothing else.

export type ErrorCode =
  | 'CODE_INVALID' | 'CODE_UNKNOWN' | 'CODE_EXPIRED' | 'CODE_USED' | 'CONSENT_DECLINED'
  | 'ITEM_NOT_ALLOWED' | 'GATEWAY_AUTH_REJECTED' | 'CLOCK_SKEW' | 'GATEWAY_FORBIDDEN'
  | 'GATEWAY_TIMEOUT' | 'GATEWAY_UNAVAILABLE' | 'RATE_LIMITED' | 'BODY_TOO_LARGE' | 'BAD_RESPONSE'
  | 'REQUEST_REJECTED' | 'LICENSE_LOGIN_REJECTED' | 'LICENSE_REVOKED' | 'AUTH_CODE_EXPIRED'
  | 'AUTH_CODE_NOT_FOUND' | 'LICENSE_NOT_AUTHORIZED' | 'CONFIG_INVALID' | 'STORAGE_FAILED' | 'STORAGE_KEY_MISSING'
  | 'SCAN_CANCELLED'
  | 'NO_CUSTOMER'
  | 'SANDBOX_ONLY'
  | 'LICENSE_EXPIRED'
  | 'STATUS_UNCHECKED'
  | 'FONT_MISSING'
  | 'FILE_UNREADABLE'
  | 'NO_PRINTER'
  | 'PRINTER_NOT_FOUND'
  | 'PRINTER_UNAVAILABLE'
  | 'PRINT_FAILED'
  | 'PRINT_CANCELLED'
  | 'SAVE_FAILED'
  | 'RECORD_INVALID'
  | 'BIZ_NUM_UNKNOWN'
  | 'AUDIT_TAMPERED'
  | 'EXPORT_UNREADABLE'
  | 'SIGN_IN_FAILED'
  | 'ACCOUNT_LOCKED'
  | 'ACCOUNT_DISABLED'
  | 'SIGN_IN_REQUIRED'
  | 'NOT_PERMITTED'
  | 'ACCOUNT_EXISTS'
  | 'ACCOUNT_NOT_FOUND'
  | 'ACCOUNT_INVALID'
  | 'USCC_INVALID'
  | 'GROUND_REQUIRED'
  | 'NO_LICENSES'
  | 'IMAGE_NO_CODE'
  | 'IMAGE_UNREADABLE'
  | 'HALL_UNREACHABLE'
  | 'COUNTER_NOT_ENROLLED'
  | 'CHAIN_FORK'
  | 'HALL_REFUSED';

/** What every command rejects with; `message` is Chinese and specific, `code` is what the UI branches on. */
/** `message` is the backend's whole Chinese message; `fact` is only what it adds to the code's
 *  standard advice (e.g. "本机时间比网关慢 250 秒。"), absent when there is nothing to add. */
export interface AppError { code: ErrorCode; message: string; fact?: string | null }

export interface ServiceItem { code: string; name: string }

export interface CounterInfo {
  mode: 'sandbox' | 'gateway';
  environment: 'test' | 'production';
  hall: { code: string; name: string };
  counter: string;
  operator: { account: string; name: string };
  serviceItems: ServiceItem[];
  bizNum: string;
  version: string;
  printing: PrintingInfo;
  outbox: OutboxStatus;
  signIn: SignInInfo;
  about: AboutInfo;
  /** NOT in contract 8 (a proposal): the folder IT set for audit exports ([audit] export_dir). When there is
   *  one, 导出 writes there without asking; without it (or without this field) the folder picker asks. */
  audit?: { exportDir: string | null };
  /** [privacy]: when an unattended window clears itself and locks. Absent (an older shell): neither. */
  privacy?: PrivacyInfo;
  /** [lookup] grounds: the legal grounds a lookup by USCC (依职能用证) may be made on. */
  lookupGrounds: string[];
  /** [window] large_type: 大字模式 unless the clerk chose otherwise on this PC. Absent (an older shell): off. */
  largeType?: boolean;
  /** [hall_service] url: the hall's service that keeps every counter's audit events. Absent or null: no 全厅 view. */
  hallService?: HallService | null;
}

export interface HallService { url: string }

/** What a typed or scanned line is: `code` (scan it) or `uscc` (look it up on a ground; the USCC folded). */
export interface Entry {
  kind: 'code' | 'uscc';
  uscc: string | null;
}

/** In seconds; null: off. */
export interface PrivacyInfo {
  /** Without a key, a click or a scan for this long, with a customer on screen, the countdown starts. */
  idleClearSeconds: number | null;
  /** Without a key, a click or a scan for this long, the session locks (counters with accounts). */
  lockSeconds: number | null;
  /** The countdown before an idle clear (15). */
  countdownSeconds: number;
}

// ---------- sign-in and roles ----------

export type Role = 'clerk' | 'supervisor';
export interface SignedIn { account: string; name: string; role: Role }
export interface SandboxAccount { account: string; name: string; role: Role; password: string }
export interface SignInInfo {
  /** true: this counter has accounts; nothing but the sign-in screen until someone signs in. */
  required: boolean;
  /** Who is signed in now (null before sign-in, while the session is locked, or when the counter has no accounts). */
  user: SignedIn | null;
  /** Whose session is locked (nobody touched the window for a while): they sign in again to go on. */
  locked?: SignedIn | null;
  /** Sandbox mode only: the sample accounts and their passwords, shown on the sign-in screen; [] otherwise. */
  sandboxAccounts: SandboxAccount[];
}
export interface AboutInfo {
  version: string;
  /** SM3 of the counter's SM2 public key (DER SubjectPublicKeyInfo), lowercase hex, 64 chars. */
  keyFingerprint: string;
  dataDir: string;
  /** The config file in use, null in sandbox mode. */
  configPath: string | null;
  /** Where the sealed cache's storage key is kept (backend `secret-service` | `dpapi` | `file`). */
  storageKey: { backend: string; label: string; location: string };
  /** Gateway secrets the configuration file still carries in plain text, e.g. `gateway.token`. */
  plainSecrets: string[];
}

/** How this counter prints and saves stamped copies ([printing] in the configuration, plus what it remembered). */
export interface PrintingInfo {
  mode: 'picker' | 'direct';
  /** The configured printer (the one `direct` mode prints to). */
  printer: string | null;
  saveDir: string | null;
  lastPrinter: string | null;
  lastCopies: number;
  recheckAfterMinutes: number;
}

export interface Enterprise { name: string; uscc: string; legalRepName: string }

export type LicenseStatus = 'valid' | 'expired' | 'revoked';

export interface LicenseSummary {
  position: number;
  licenseCode: string;
  name: string;
  number: string;
  issuer: string;
  validFrom: string | null;
  validUntil: string | null;
  status: LicenseStatus;
}

export interface Authorization { authId: string; expiresAt: string; licenses: LicenseSummary[] }

export interface License extends LicenseSummary {
  holderName: string;
  issueDate: string | null;
  division: string;
  trustLevel: string;
  abolishReason: string | null;
  faceFields: { name: string; value: string }[];
}

export interface FileInfo { fileName: string; mime: string; size: number; sha256: string }

export interface ScanProgress { scanId: number; event: ScanEvent }
export type ScanEvent =
  | { kind: 'enterpriseKnown'; bizNum: string; enterprise: Enterprise; authorization: Authorization }
  | { kind: 'licenseArrived'; license: License }
  | { kind: 'fileArrived'; position: number; licenseCode: string; file: FileInfo }
  | { kind: 'licenseFailed'; position: number; licenseCode: string; error: AppError };

export interface LicenseOutcome {
  summary: LicenseSummary;
  license: License | null;
  file: FileInfo | null;
  error: AppError | null;
}

export interface ScanResult {
  bizNum: string;
  enterprise: Enterprise;
  authorization: Authorization;
  elapsedMs: number;
  licenses: LicenseOutcome[];
}

export interface SandboxEnterprise { uscc: string; name: string; note: string; licenseCount: number }
export interface IssuedCode { payload: string; qrPng: string; expiresAt: string }

/** A stamped copy (用证副本) made for the current case; `serial` is its 副本编号. */
export interface CopyDto {
  serial: string;
  licenseCode: string;
  licenseName: string;
  pages: number;
  bytes: number;
  sha256: string;
  /** RFC 3339: when the license's status was last confirmed at the gateway. */
  checkedAt: string;
  /** false: the re-check could not be made and the copy states the last check's time. */
  checkFresh: boolean;
  fileName: string;
  sourceSigned: boolean;
}

export type PrinterState = 'idle' | 'printing' | 'stopped';
export interface PrinterDto { name: string; description: string; isDefault: boolean; state: PrinterState; accepting: boolean }
export interface PrintedDto { serial: string; printer: string; jobId: number }
export interface SavedDto { serial: string; path: string }

/** The handling record's result (申办状态): 收件 / 受理 / 办结 / 不予受理. */
export type RecordStatus = 'RECEIVED' | 'ACCEPTED' | 'DONE' | 'REJECTED';
/** queued: waits in the outbox and is resent on its own; sent: the gateway has it; refused: 需处理. */
export type RecordState = 'queued' | 'sent' | 'refused';

export interface RecordDto {
  bizNum: string;
  status: RecordStatus;
  reason: string | null;
  licenseCodes: string[];
  state: RecordState;
  recordId: string | null;
  duplicate: boolean;
  attempts: number;
  error: AppError | null;
  submittedAt: string;
}

export interface OutboxStatus { waiting: number; refused: number; current: RecordDto | null }

// ---------- the gateway's health (header) and 网页模式 ----------

export type HealthLevel = 'unknown' | 'ok' | 'degraded' | 'down';
/** gateway_health and the "gateway-health" event; times are ISO 8601 in China time. */
export interface GatewayHealth {
  level: HealthLevel;
  lastSuccessAt: string | null;
  /** Failures within the last five minutes. */
  recentFailures: number;
  consecutiveFailures: number;
  lastFailureCode: ErrorCode | null;
  lastFailureAt: string | null;
  /** The core's Chinese advice for the last failure. */
  advice: string | null;
  clockSkewSecs: number | null;
}
/** What open_portal opened (the configured portal; the sandbox's own page in sandbox mode). */
export interface PortalOpened { url: string; host: string }

// ---------- the supervisor view: the day, the audit events, export, accounts, the chain ----------

export interface CountRow { key: string; label: string; count: number }
/** 24 rows, hour 0..23. */
export interface HourRow { hour: number; events: number; scans: number; failures: number }
export interface DaySummary {
  date: string;
  events: number;
  /** Distinct handling numbers whose exchange succeeded. */
  customers: number;
  /** Codes scanned (incl. rejected ones). */
  scans: number;
  /** Scans that ended with every license fetched. */
  scansOk: number;
  /** scansOk / scans, 0..1; null when scans = 0. */
  successRate: number | null;
  licensesFetched: number;
  licensesFailed: number;
  copiesPrinted: number;
  recordsSubmitted: number;
  medianScanMs: number | null;
  slowestScanMs: number | null;
  slowestBizNum: string | null;
  /** key = ErrorCode, label = Chinese reason; sorted by count desc. */
  failuresByReason: CountRow[];
  byHour: HourRow[];
  /** key = item code, label = item name (or the code). */
  byItem: CountRow[];
  /** key = account, label = name (or the account). */
  byClerk: CountRow[];
}

export type AuditOutcome = 'ok' | 'failed' | 'info';
export interface AuditFilter {
  clerk?: string | null;
  item?: string | null;
  outcome?: AuditOutcome | null;
  kind?: string | null;
  bizNum?: string | null;
  uscc?: string | null;
}
export interface AuditRow {
  seq: number;
  /** RFC 3339, +08:00. */
  at: string;
  kind: string;
  kindLabel: string;
  outcome: AuditOutcome;
  outcomeLabel: string;
  errorCode: string | null;
  reason: string | null;
  operator: string;
  itemCode: string | null;
  bizNum: string | null;
  uscc: string | null;
  licenseCode: string | null;
  detail: string | null;
  /** The counter the event came from: only in hall_events' rows (全厅). */
  counter?: string;
}
export interface AuditPage { total: number; offset: number; rows: AuditRow[] }

/** The kinds a filter may pick, in this order (labels in the i18n tables, `audit.kind.*`). */
export const AUDIT_KINDS = [
  'scan_rejected', 'scan', 'exchange', 'license_fetch', 'scan_done', 'submit', 'submit_queued', 'case_closed',
  'license_recheck', 'copy_stamp', 'copy_print', 'copy_save', 'audit_export', 'sign_in', 'sign_in_failed',
  'account_locked', 'sign_out', 'account_change', 'idle_clear', 'session_lock', 'cache_purge', 'storage_reset', 'secret_change',
  'lookup', 'portal_open',
] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

export type ExportFormat = 'csv' | 'xlsx' | 'both';
export interface ExportResult { events: number; firstSeq: number | null; lastSeq: number | null; head: string | null; files: string[] }
// ---------- 全厅: every counter of the hall, read from the hall service ----------

/** One counter as the hall service knows it on the chosen day. */
export interface HallCounterRow {
  hall: string;
  counter: string;
  events: number;
  /** The highest seq the hall service has confirmed. */
  ackedSeq: number;
  /** RFC 3339 of the last event shipped; null: none. */
  lastAt: string | null;
  /** Missing seq ranges. */
  gaps: number;
}
export type HallAlarmKind = 'fork' | 'bad_signature' | 'gap' | 'unenrolled';
/** Something the hall service found wrong with a counter's audit chain. */
export interface HallAlarm {
  hall: string;
  counter: string;
  seq: number;
  kind: HallAlarmKind;
  /** RFC 3339 of when the hall service recorded it. */
  at: string;
  /** Chinese, for people. */
  message: string;
}
/** hall_day_summary: the hall's day, summed over its counters, with each counter and the alarms. */
export interface HallDaySummary extends DaySummary {
  counters: HallCounterRow[];
  alarms: HallAlarm[];
}
/** hall_events' filter: AuditFilter plus one counter (null: every counter). */
export interface HallAuditFilter extends AuditFilter { counter?: string | null }
/** hall_export: one file set per counter. */
export interface HallExportResult { counters: number; events: number; files: string[] }

/** The "export-progress" event: events written so far / in range. */
export interface ExportProgress { done: number; total: number }

export interface ChainStatus {
  intact: boolean;
  events: number;
  head: string | null;
  /** After retention removed old days, the chain starts later than 1. */
  firstSeq: number | null;
  /** RFC 3339 of the newest checkpoint. */
  lastSignedAt: string | null;
  checkpoints: number;
  /** When intact = false. */
  problem: { seq: number | null; message: string } | null;
}

export interface Account {
  account: string;
  name: string;
  role: Role;
  disabled: boolean;
  /** RFC 3339 while locked. */
  lockedUntil: string | null;
  lastSignInAt: string | null;
}

// ---------- the setup screen and the doctor (IT) ----------

export type SetupEnvironment = 'sandbox' | 'test' | 'production';

/** The form of the setup screen: what 保存 writes. Secrets ("" = keep what is stored) never come back from the shell. */
export interface SetupFormDto {
  environment: SetupEnvironment;
  ystBase: string;
  licenseBase: string;
  /** Must start with yst_. */
  paasid: string;
  token: string;
  systemId: string;
  /** 开发商统一社会信用代码 (18 characters with its check character). */
  venderId: string;
  /** 部门统一社会信用代码. */
  departmentId: string;
  account: string;
  password: string;
  appKey: string;
  appSecret: string;
  caFile: string;
  proxy: string;
  operatorAccount: string;
  operatorName: string;
  divisionCode: string;
  serviceOrg: string;
  serviceOrgCode: string;
  hallCode: string;
  hallName: string;
  counter: string;
  /** Optional: for the onboarding forms. */
  hallCity: string;
  hallDistrict: string;
  hallAddress: string;
  hallPhone: string;
  items: ServiceItem[];
}

export interface GatewayBases { ystBase: string; licenseBase: string }

export interface SetupStateDto {
  /** The user's configuration as it is, secrets always "". */
  form: SetupFormDto;
  hasToken: boolean;
  hasPassword: boolean;
  hasAppSecret: boolean;
  /** Where 保存 writes. */
  userFile: string;
  /** The machine-wide configuration file, when there is one. */
  machineFile: string | null;
  /** No configuration file at all: the app runs its own sandbox. */
  firstRun: boolean;
  /** The official bases of each environment. */
  defaults: { test: GatewayBases; production: GatewayBases };
}

/** field = a SetupFormDto key, or `items.3.code`; the message is Chinese and says why. Empty: valid. */
export interface ValidationDto { errors: Record<string, string> }

/** One check of the doctor. ids in order: config dns tcp tls clock signature license_login data_dir disk font printers logs secrets. */
export interface CheckDto {
  id: string;
  title: string;
  ok: boolean;
  /** Passed, but IT should look. */
  warn: boolean;
  figure: string;
  fix: string | null;
  millis: number | null;
}
export interface DoctorReportDto { checks: CheckDto[]; ready: boolean }

export interface SaveSetupDto {
  path: string;
  /** Which secrets went into the sealed store, e.g. "gateway.token". */
  secretsSealed: string[];
  /** The new configuration takes effect after a restart. */
  restart: boolean;
}

export interface FormsWrittenDto { forms: { title: string; path: string }[] }

/** What read_image / read_image_file found in an image: the text to scan (a bearer code: never logged or kept). */
export interface ImageText { text: string }
