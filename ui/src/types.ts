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
  | 'BIZ_NUM_UNKNOWN';

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
