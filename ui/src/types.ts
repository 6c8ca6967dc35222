// The IPC contract's types, mirroring src-tauri/src/dto.rs: what the Rust shell sends and accepts, and nothing else.

export type ErrorCode =
  | 'CODE_INVALID' | 'CODE_UNKNOWN' | 'CODE_EXPIRED' | 'CODE_USED' | 'CONSENT_DECLINED'
  | 'ITEM_NOT_ALLOWED' | 'GATEWAY_AUTH_REJECTED' | 'CLOCK_SKEW' | 'GATEWAY_FORBIDDEN'
  | 'GATEWAY_TIMEOUT' | 'GATEWAY_UNAVAILABLE' | 'RATE_LIMITED' | 'BODY_TOO_LARGE' | 'BAD_RESPONSE'
  | 'REQUEST_REJECTED' | 'LICENSE_LOGIN_REJECTED' | 'LICENSE_REVOKED' | 'AUTH_CODE_EXPIRED'
  | 'AUTH_CODE_NOT_FOUND' | 'LICENSE_NOT_AUTHORIZED' | 'CONFIG_INVALID' | 'STORAGE_FAILED'
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
  | 'EXPORT_UNREADABLE';

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
