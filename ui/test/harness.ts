// Test-only harness: mocks the Tauri IPC so each browser test scripts command responses and emits "scan-progress" / "outbox-changed" / "setup-check" (any) events; exposes the setup screen's pure rules.
import { mockIPC, mockWindows } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';

/** How a command answers: a value, a rejection, raw bytes, or "pending" (the test settles it later). */
type Spec =
  | { value: unknown; delayMs?: number }
  | { error: { code: string; message: string }; delayMs?: number }
  | { bytesBase64: string }
  | { pending: true };

interface Pending { cmd: string; args: unknown; resolve(v: unknown): void; reject(e: unknown): void }

interface Harness {
  calls: { cmd: string; args: unknown }[];
  pending: Pending[];
  cspViolations: string[];
  setResponse(cmd: string, spec: Spec): void;
  resolve(cmd: string, value: unknown): boolean;
  reject(cmd: string, error: { code: string; message: string }): boolean;
  emitProgress(payload: unknown): Promise<void>;
  emitEvent(name: string, payload: unknown): Promise<void>;
  callsOf(cmd: string): unknown[];
}

declare global {
  interface Window { __scenario?: { responses?: Record<string, Spec> }; __h: Harness }
}

function bytesOf(b64: string): ArrayBuffer {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out.buffer;
}

const responses: Record<string, Spec> = { ...(window.__scenario?.responses ?? {}) };

const h: Harness = {
  calls: [],
  pending: [],
  cspViolations: [],
  setResponse(cmd, spec) {
    responses[cmd] = spec;
  },
  resolve(cmd, value) {
    const i = h.pending.findIndex((p) => p.cmd === cmd);
    if (i < 0) return false;
    h.pending.splice(i, 1)[0].resolve(value);
    return true;
  },
  reject(cmd, error) {
    const i = h.pending.findIndex((p) => p.cmd === cmd);
    if (i < 0) return false;
    h.pending.splice(i, 1)[0].reject(error);
    return true;
  },
  emitProgress(payload) {
    return emit('scan-progress', payload);
  },
  emitEvent(name, payload) {
    return emit(name, payload);
  },
  callsOf(cmd) {
    return h.calls.filter((c) => c.cmd === cmd).map((c) => c.args);
  },
};
window.__h = h;

document.addEventListener('securitypolicyviolation', (e) => {
  h.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

mockIPC(
  async (cmd, args) => {
    // A raw body (read_image's image bytes) is recorded as its bytes.
    const raw = args instanceof Uint8Array ? args : args instanceof ArrayBuffer ? new Uint8Array(args) : null;
    h.calls.push({ cmd, args: raw ? { rawBytes: Array.from(raw) } : JSON.parse(JSON.stringify(args ?? {})) });
    const spec = responses[cmd];
    if (!spec || 'pending' in spec) {
      return new Promise((resolve, reject) => h.pending.push({ cmd, args, resolve, reject }));
    }
    if ('bytesBase64' in spec) return bytesOf(spec.bytesBase64);
    if (spec.delayMs) await sleep(spec.delayMs);
    if ('error' in spec) throw spec.error;
    return structuredClone(spec.value);
  },
  { shouldMockEvents: true },
);

// The app's one webview, so getCurrentWebview() (drag and drop) works; "tauri://drag-*" events are emitted like any other.
mockWindows('main');

void import('../src/main');
// The setup screen's pure rules (paste parsing, bases, steps, local checks), for tests to call as they are.
void import('../src/setup').then((m) => {
  (window as unknown as { __setupRules: unknown }).__setupRules = {
    parseItemsPaste: m.parseItemsPaste, mergeItems: m.mergeItems, ystBaseFor: m.ystBaseFor, localErrors: m.localErrors,
    errorsOfStep: m.errorsOfStep, activeSteps: m.activeSteps, emptyForm: m.emptyForm,
  };
});
