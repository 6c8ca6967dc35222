// The only door to the Rust shell: typed wrappers for every IPC command and the "scan-progress" event.
import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type {
  AppError, CounterInfo, IssuedCode, LicenseOutcome, SandboxEnterprise, ScanProgress, ScanResult,
} from './types';
import { isErrorCode } from './errors';

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

async function call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(cmd, args);
  } catch (e) {
    throw asAppError(e);
  }
}

export const counterInfo = () => call<CounterInfo>('counter_info');

export const scan = (scanId: number, payload: string, itemCode: string) =>
  call<ScanResult>('scan', { scanId, payload, itemCode });

export const nextCustomer = () => call<{ bizNum: string }>('next_customer');

export const retryLicense = (licenseCode: string) => call<LicenseOutcome>('retry_license', { licenseCode });

/** The license's annotated copy. A raw tauri::ipc::Response arrives as an ArrayBuffer; a Vec<u8>
 *  serialized as JSON would arrive as number[], so both are accepted. */
export async function licenseFile(licenseCode: string): Promise<Uint8Array> {
  const raw = await call<ArrayBuffer | Uint8Array | number[]>('license_file', { licenseCode });
  if (raw instanceof ArrayBuffer) return new Uint8Array(raw);
  if (raw instanceof Uint8Array) return raw;
  if (Array.isArray(raw)) return Uint8Array.from(raw);
  throw asAppError({ code: 'BAD_RESPONSE', message: '证照文件格式无法识别' });
}

export const sandboxEnterprises = () => call<SandboxEnterprise[]>('sandbox_enterprises');

export const sandboxIssueCode = (uscc: string) => call<IssuedCode>('sandbox_issue_code', { uscc });

export function onScanProgress(handler: (p: ScanProgress) => void): Promise<UnlistenFn> {
  return listen<ScanProgress>('scan-progress', (e) => handler(e.payload));
}
