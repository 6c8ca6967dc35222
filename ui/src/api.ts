// The only door to the Rust shell: typed wrappers for every IPC command, the "scan-progress", "outbox-changed", "export-progress", "setup-check", "doctor-check" and "gateway-health" events, the folder dialog, and the one place a lost sign-in is noticed.
import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import { open } from '@tauri-apps/plugin-dialog';
import type {
  Account, AppError, AuditFilter, AuditPage, ChainStatus, CheckDto, CopyDto, CounterInfo, DaySummary, DoctorReportDto, Entry, ExportFormat,
  ExportProgress, ExportResult, FormsWrittenDto, HallAuditFilter, HallDaySummary, HallExportResult, IssuedCode, LicenseOutcome, OutboxStatus, PrintedDto, PrinterDto, RecordDto, RecordStatus,
  Role, SandboxEnterprise, SavedDto, SaveSetupDto, ScanProgress, ScanResult, SetupFormDto, SetupStateDto, SignedIn, ValidationDto,
} from './types';
import { isErrorCode } from './errors';
import type { GatewayHealth, PortalOpened } from './types';
import type { ImageText } from './types';

/** Whatever a command rejected with, as an AppError: the contract promises one, but a panic or a
 *  missing command in the shell rejects with a bare string, and the clerk must still see something useful. */
export function asAppError(e: unknown): AppError {
  if (e && typeof e === 'object' && 'code' in e && isErrorCode((e as { code: unknown }).code)) {
    const m = (e as { message?: unknown }).message;
    const f = (e as { fact?: unknown }).fact;
    return { code: (e as AppError).code, message: typeof m === 'string' ? m : '', fact: typeof f === 'string' ? f : null };
  }
  const text = typeof e === 'string' ? e : e instanceof Error ? e.message : String(e);
  return { code: 'BAD_RESPONSE', message: text, fact: text };
}

let signInLost: ((e: AppError) => void) | null = null;

/** Whoever owns the sign-in (shift.ts) hears of every SIGN_IN_REQUIRED, whichever command it came
 *  from, before the caller's own catch runs: the call sites need not know about it. */
export function onSignInRequired(fn: (e: AppError) => void): void {
  signInLost = fn;
}

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    const err = asAppError(e);
    if (err.code === 'SIGN_IN_REQUIRED') signInLost?.(err);
    throw err;
  }
}

export const counterInfo = () => call<CounterInfo>('counter_info');

export const scan = (scanId: number, payload: string, itemCode: string) =>
  call<ScanResult>('scan', { scanId, payload, itemCode });

/** What a typed or scanned line is: a 粤商码 to scan, or a USCC to look up on a ground (nothing goes out). */
export const readEntry = (text: string) => call<Entry>('read_entry', { text });

/** 依职能用证: the licenses of the enterprise with this USCC, on one of the configured grounds; answers as `scan`. */
export const lookup = (scanId: number, uscc: string, ground: string, itemCode: string) =>
  call<ScanResult>('lookup', { scanId, uscc, ground, itemCode });

export const nextCustomer = () => call<{ bizNum: string }>('next_customer');

/** The idle countdown ran out: the same as 下一位, audited as an idle clear; null when the desk had no customer. */
export const idleClear = () => call<{ bizNum: string } | null>('idle_clear');

export const retryLicense = (licenseCode: string) => call<LicenseOutcome>('retry_license', { licenseCode });

/** The license's annotated copy. A raw tauri::ipc::Response arrives as an ArrayBuffer; a Vec<u8>
 *  serialized as JSON would arrive as number[], so both are accepted. */
export async function licenseFile(licenseCode: string): Promise<Uint8Array> {
  return bytesOf(await call<RawBytes>('license_file', { licenseCode }), '证照文件格式无法识别');
}

type RawBytes = ArrayBuffer | Uint8Array | number[];

function bytesOf(raw: RawBytes, what: string): Uint8Array {
  if (raw instanceof ArrayBuffer) return new Uint8Array(raw);
  if (raw instanceof Uint8Array) return raw;
  if (Array.isArray(raw)) return Uint8Array.from(raw);
  throw asAppError({ code: 'BAD_RESPONSE', message: what });
}

// ---------- stamped copies: print and save ----------

/** Re-checks the license's status when the last check is too old, then stamps a copy for this case. */
export const prepareCopy = (licenseCode: string, allowUnchecked: boolean) =>
  call<CopyDto>('prepare_copy', { licenseCode, allowUnchecked });

/** The stamped PDF itself (what will be printed), for the preview. */
export async function copyFile(serial: string): Promise<Uint8Array> {
  return bytesOf(await call<RawBytes>('copy_file', { serial }), '用证副本文件格式无法识别');
}

export const printers = () => call<PrinterDto[]>('printers');

/** `printer` null: the configured (direct-mode) printer. */
export const printCopies = (serials: string[], printer: string | null, copies: number) =>
  call<PrintedDto[]>('print_copies', { serials, printer, copies });

/** The clerk closed the picker without printing (audited as cancelled). */
export const cancelPrint = (serials: string[]) => call<null>('cancel_print', { serials });

/** `dir` null: the configured or remembered folder. */
export const saveCopies = (serials: string[], dir: string | null) => call<SavedDto[]>('save_copies', { serials, dir });

/** The system's folder picker; null when the clerk closes it. */
export async function chooseFolder(title: string): Promise<string | null> {
  try {
    const dir = await open({ directory: true, multiple: false, title });
    return typeof dir === 'string' && dir ? dir : null;
  } catch (e) {
    const text = typeof e === 'string' ? e : e instanceof Error ? e.message : String(e);
    throw { code: 'SAVE_FAILED', message: text, fact: text } satisfies AppError;
  }
}

// ---------- the handling record and the outbox ----------

export const submitRecord = (status: RecordStatus, reason: string | null, licenseCodes: string[]) =>
  call<RecordDto>('submit_record', { status, reason, licenseCodes });

export const outboxStatus = () => call<OutboxStatus>('outbox_status');

export const retryRecord = (bizNum: string) => call<RecordDto>('retry_record', { bizNum });

export const sandboxEnterprises = () => call<SandboxEnterprise[]>('sandbox_enterprises');

export const sandboxIssueCode = (uscc: string) => call<IssuedCode>('sandbox_issue_code', { uscc });

// ---------- sign-in ----------

export const signIn = (account: string, password: string) => call<SignedIn>('sign_in', { account, password });

export const signOut = () => call<null>('sign_out');

/** Nobody touched the window for [privacy] lock_minutes: the session locks and the customer is closed.
 *  `locked` null: nobody was signed in. */
export const lockSession = () => call<{ locked: SignedIn | null; bizNum: string }>('lock_session');

// ---------- the supervisor view (a signed-in 值班长 only; anyone else gets NOT_PERMITTED) ----------

/** `date`: 'YYYY-MM-DD', a day in China time. */
export const daySummary = (date: string) => call<DaySummary>('day_summary', { date });

/** One page of the day's audit events; `limit` ≤ 500. */
export const auditEvents = (date: string, filter: AuditFilter, offset: number, limit: number) =>
  call<AuditPage>('audit_events', { date, filter, offset, limit });

/** Writes the day's events into `dir`; "export-progress" reports while it runs. */
export const exportAudit = (date: string, format: ExportFormat, dir: string) =>
  call<ExportResult>('export_audit', { date, format, dir });

// ---------- 全厅: every counter of the hall, from the hall service ([hall_service]; HALL_UNREACHABLE, COUNTER_NOT_ENROLLED) ----------

/** The hall's day: DaySummary summed over its counters, plus each counter and the alarms. */
export const hallDaySummary = (date: string) => call<HallDaySummary>('hall_day_summary', { date });

/** One page of the hall's events (rows carry `counter`); `filter.counter` null: every counter. */
export const hallEvents = (date: string, filter: HallAuditFilter, offset: number, limit: number) =>
  call<AuditPage>('hall_events', { date, filter, offset, limit });

/** Writes each counter's events of the day into `dir`, one file set per counter. */
export const hallExport = (date: string, format: ExportFormat, dir: string) =>
  call<HallExportResult>('hall_export', { date, format, dir });

export const chainStatus = () => call<ChainStatus>('chain_status');

export const accountsList = () => call<Account[]>('accounts_list');

export const accountAdd = (account: string, name: string, role: Role, password: string) =>
  call<Account>('account_add', { account, name, role, password });

export const accountSetDisabled = (account: string, disabled: boolean) =>
  call<Account>('account_set_disabled', { account, disabled });

/** Also unlocks a locked account. */
export const accountResetPassword = (account: string, password: string) =>
  call<null>('account_reset_password', { account, password });

// ---------- the setup screen and the doctor (IT) ----------

/** The user's configuration (secrets never included), where 保存 writes, and the official bases. */
export const setupState = () => call<SetupStateDto>('setup_state');

/** Every field's problem, in Chinese with the reason; {} = the form is valid. */
export const validateSetup = (form: SetupFormDto) => call<ValidationDto>('validate_setup', { form });

/** The doctor on the unsaved form; "setup-check" reports each check as it completes. */
export const testSetup = (form: SetupFormDto) => call<DoctorReportDto>('test_setup', { form });

/** Writes the configuration (readable only by this user) and seals the secrets; CONFIG_INVALID when the form is not valid. */
export const saveSetup = (form: SetupFormDto) => call<SaveSetupDto>('save_setup', { form });

/** Restarts the app, so that the saved configuration takes effect. */
export const restartApp = () => call<null>('restart_app');

/** The doctor on the configuration in force; "doctor-check" reports each check as it completes. */
export const runDoctor = () => call<DoctorReportDto>('run_doctor');

/** The onboarding forms (接入申请材料) of the saved configuration, written into `dir`. */
export const writeForms = (dir: string) => call<FormsWrittenDto>('write_forms', { dir });

// ---------- a 粤商码 read from an image (pasted, dropped, opened) ----------

/** The image's bytes as the request's raw body (not a JSON array of numbers); the text is scanned like the scanner's. */
export async function readImage(bytes: Uint8Array): Promise<ImageText> {
  try {
    return await invoke<ImageText>('read_image', bytes);
  } catch (e) {
    throw asAppError(e);
  }
}

/** An image file by its path (dropped onto the window, or picked with 打开图片). */
export const readImageFile = (path: string) => call<ImageText>('read_image_file', { path });

/** The system's file picker for one image; null when the clerk closes it. */
export async function chooseImage(title: string, filterName: string, extensions: string[]): Promise<string | null> {
  try {
    const file = await open({ directory: false, multiple: false, title, filters: [{ name: filterName, extensions }] });
    return typeof file === 'string' && file ? file : null;
  } catch (e) {
    const text = typeof e === 'string' ? e : e instanceof Error ? e.message : String(e);
    throw { code: 'IMAGE_UNREADABLE', message: text, fact: text } satisfies AppError;
  }
}

// ---------- events ----------

export function onScanProgress(handler: (p: ScanProgress) => void): Promise<UnlistenFn> {
  return listen<ScanProgress>('scan-progress', (e) => handler(e.payload));
}

export function onOutboxChanged(handler: (s: OutboxStatus) => void): Promise<UnlistenFn> {
  return listen<OutboxStatus>('outbox-changed', (e) => handler(e.payload));
}

export function onExportProgress(handler: (p: ExportProgress) => void): Promise<UnlistenFn> {
  return listen<ExportProgress>('export-progress', (e) => handler(e.payload));
}

export function onSetupCheck(handler: (c: CheckDto) => void): Promise<UnlistenFn> {
  return listen<CheckDto>('setup-check', (e) => handler(e.payload));
}

export function onDoctorCheck(handler: (c: CheckDto) => void): Promise<UnlistenFn> {
  return listen<CheckDto>('doctor-check', (e) => handler(e.payload));
}

/** The first screen is drawn and listening: the shell logs the start-up time once (scripts/measure reads it). */
export const windowReady = (pageMs: number) => call<void>('window_ready', { pageMs });

// ---------- the gateway's health and 网页模式 ----------

export const gatewayHealth = () => call<GatewayHealth>('gateway_health');

/** Opens the configured portal (the sandbox's own page in sandbox mode) in the system browser; audited. */
export const openPortal = () => call<PortalOpened>('open_portal');

export function onGatewayHealth(handler: (h: GatewayHealth) => void): Promise<UnlistenFn> {
  return listen<GatewayHealth>('gateway-health', (e) => handler(e.payload));
}
