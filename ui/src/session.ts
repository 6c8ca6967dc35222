// The counter's state for the customer in front of it: the scan lifecycle, its cards, errors, and clearing it all for 下一位 (or an idle clear).
import { reactive } from 'vue';
import * as api from './api';
import { adviceFor } from './errors';
import type {
  AppError, Authorization, CounterInfo, Enterprise, FileInfo, License, LicenseOutcome, LicenseStatus,
  LicenseSummary, ScanProgress, ScanResult, ServiceItem,
} from './types';

export type CardPhase = 'loading' | 'ready' | 'failed' | 'retrying';

export interface Card {
  summary: LicenseSummary;
  license: License | null;
  file: FileInfo | null;
  error: AppError | null;
  phase: CardPhase;
}

export type ScanPhase = 'idle' | 'scanning' | 'done' | 'failed';

export interface SessionState {
  counter: CounterInfo | null;
  startError: AppError | null;
  bizNum: string;
  itemCode: string;
  phase: ScanPhase;
  enterprise: Enterprise | null;
  authorization: Authorization | null;
  cards: Card[];
  elapsedMs: number | null;
  error: AppError | null;
  /** The license whose file is open in the viewer. */
  viewing: string | null;
  manualOpen: boolean;
  manualText: string;
  /** A scan came while a dialog of the case was open, and was not used: the dialog says so. */
  scanHeld: boolean;
  /** A USCC was entered: the lookup waits for the clerk to pick a legal ground and confirm. */
  lookupAsk: { uscc: string } | null;
  /** The ground of the customer on screen, when their licenses came by a lookup (依职能), not a code. */
  lookupGround: string | null;
}

const ITEM_KEY = 'yueshang.itemCode';

export const state = reactive<SessionState>({
  counter: null,
  startError: null,
  bizNum: '',
  itemCode: '',
  phase: 'idle',
  enterprise: null,
  authorization: null,
  cards: [],
  elapsedMs: null,
  error: null,
  viewing: null,
  manualOpen: false,
  manualText: '',
  scanHeld: false,
  lookupAsk: null,
  lookupGround: null,
});

/** What other modules (copies, the handling record) clear along with the customer. */
const clearHooks: (() => void)[] = [];

export function onCustomerCleared(fn: () => void): void {
  clearHooks.push(fn);
}

// Module-level, not reactive: the id of the scan whose events and result still count.
let currentScanId = 0;
let nextScanId = 1;

function rememberedItem(items: ServiceItem[]): string {
  let code: string | null = null;
  try {
    code = localStorage.getItem(ITEM_KEY);
  } catch {
    code = null;
  }
  return items.some((i) => i.code === code) ? (code as string) : items[0].code;
}

export function chooseItem(code: string): void {
  state.itemCode = code;
  try {
    localStorage.setItem(ITEM_KEY, code);
  } catch {
    // Without storage the choice still holds until the app restarts.
  }
}

export async function start(): Promise<void> {
  try {
    // Listen before anything can scan, so no event of the first scan is missed.
    await api.onScanProgress(onProgress);
    const info = await api.counterInfo();
    state.counter = info;
    state.bizNum = info.bizNum;
    state.itemCode = rememberedItem(info.serviceItems);
  } catch (e) {
    state.startError = api.asAppError(e);
  }
}

/** Today in China, whatever the PC's time zone: the backend computes status with it too. */
export function chinaToday(): string {
  return new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
}

/** The status to show: the most recent one we got (license detail over summary), never 有效 when
 *  the detail says revoked, and never 有效 past the end of validity (a stale summary must not say so). */
export function effectiveStatus(card: Card): LicenseStatus {
  const reported = card.license?.status ?? card.summary.status;
  if (reported === 'revoked' || card.license?.abolishReason) return 'revoked';
  const until = card.license?.validUntil ?? card.summary.validUntil;
  if (reported === 'valid' && until && until < chinaToday()) return 'expired';
  return reported;
}

function clearCustomer(): void {
  state.enterprise = null;
  state.authorization = null;
  state.cards = [];
  state.elapsedMs = null;
  state.error = null;
  state.viewing = null;
  state.scanHeld = false;
  state.lookupGround = null;
  for (const fn of clearHooks) fn();
}

function cardFor(position: number, licenseCode: string): Card | undefined {
  const byPos = state.cards[position];
  if (byPos && byPos.summary.licenseCode === licenseCode) return byPos;
  return state.cards.find((c) => c.summary.licenseCode === licenseCode);
}

function setCards(licenses: LicenseSummary[]): void {
  state.cards = [...licenses]
    .sort((a, b) => a.position - b.position)
    .map((summary) => ({ summary, license: null, file: null, error: null, phase: 'loading' as CardPhase }));
}

function applyOutcome(card: Card, o: LicenseOutcome): void {
  card.summary = o.summary;
  card.license = o.license;
  card.file = o.file;
  card.error = o.error;
  card.phase = o.error ? 'failed' : 'ready';
}

function onProgress(p: ScanProgress): void {
  if (p.scanId !== currentScanId) return;
  const ev = p.event;
  switch (ev.kind) {
    case 'enterpriseKnown':
      state.bizNum = ev.bizNum;
      state.enterprise = ev.enterprise;
      state.authorization = ev.authorization;
      // The code is spent; its text must not linger in the manual field.
      state.manualText = '';
      setCards(ev.authorization.licenses);
      break;
    case 'licenseArrived': {
      const card = cardFor(ev.license.position, ev.license.licenseCode);
      if (!card) return;
      card.license = ev.license;
      // A revoked license never gets a file, so it is complete on arrival.
      if (ev.license.status === 'revoked' && card.phase === 'loading') card.phase = 'ready';
      break;
    }
    case 'fileArrived': {
      const card = cardFor(ev.position, ev.licenseCode);
      if (!card) return;
      card.file = ev.file;
      card.error = null;
      card.phase = 'ready';
      break;
    }
    case 'licenseFailed': {
      const card = cardFor(ev.position, ev.licenseCode);
      if (!card) return;
      card.error = ev.error;
      card.phase = 'failed';
      break;
    }
  }
}

export function isScanning(): boolean {
  return state.phase === 'scanning';
}

/** Every way in (scanner, manual field, image, camera) ends here: a 粤商码 is scanned at once; a
 *  USCC asks for the legal ground first (依职能用证), and nothing goes out until the clerk confirms. */
export async function submitScan(rawPayload: string): Promise<void> {
  const payload = rawPayload.trim();
  if (!payload || !state.counter) return;
  const scanId = nextScanId++;
  currentScanId = scanId;
  // Only a USCC takes the other road; anything else (a mistake in a USCC included) goes to `scan`,
  // which refuses what is not a 粤商码 with the reason and puts the refusal on record.
  const entry = await api.readEntry(payload).catch(() => null);
  if (scanId !== currentScanId) return;
  if (entry?.kind === 'uscc' && entry.uscc) {
    // A USCC is a new customer too: the previous one leaves the screen before the question.
    clearCustomer();
    state.phase = 'idle';
    state.lookupAsk = { uscc: entry.uscc };
    return;
  }
  await run(scanId, null, () => api.scan(scanId, payload, state.itemCode));
}

/** The clerk picked a ground and confirmed: look the enterprise's licenses up as a new customer. */
export async function submitLookup(uscc: string, ground: string): Promise<void> {
  state.lookupAsk = null;
  if (!state.counter) return;
  const scanId = nextScanId++;
  currentScanId = scanId;
  await run(scanId, ground, () => api.lookup(scanId, uscc, ground, state.itemCode));
}

export function cancelLookup(): void {
  state.lookupAsk = null;
}

async function run(scanId: number, ground: string | null, ask: () => Promise<ScanResult>): Promise<void> {
  // A new code is a new customer: nothing of the previous one may stay on screen.
  clearCustomer();
  state.lookupGround = ground;
  state.phase = 'scanning';
  try {
    const result = await ask();
    if (scanId !== currentScanId) return;
    reconcile(result);
  } catch (e) {
    if (scanId !== currentScanId) return;
    const err = api.asAppError(e);
    if (adviceFor(err.code).silent) return;
    fail(err);
  }
}

function fail(err: AppError): void {
  clearCustomer();
  state.error = err;
  state.phase = 'failed';
}

/** The final result is the truth: whatever events were missed or arrived out of order. */
function reconcile(r: ScanResult): void {
  state.bizNum = r.bizNum;
  state.enterprise = r.enterprise;
  state.authorization = r.authorization;
  state.elapsedMs = r.elapsedMs;
  state.manualText = '';
  const outcomes = [...r.licenses].sort((a, b) => a.summary.position - b.summary.position);
  state.cards = outcomes.map((o) => {
    const card: Card = { summary: o.summary, license: null, file: null, error: null, phase: 'loading' };
    applyOutcome(card, o);
    return card;
  });
  state.phase = 'done';
}

export async function retry(licenseCode: string): Promise<void> {
  const card = state.cards.find((c) => c.summary.licenseCode === licenseCode);
  if (!card || card.phase === 'retrying') return;
  const scanId = currentScanId;
  card.phase = 'retrying';
  try {
    const outcome = await api.retryLicense(licenseCode);
    if (scanId !== currentScanId) return;
    const again = state.cards.find((c) => c.summary.licenseCode === licenseCode);
    if (again) applyOutcome(again, outcome);
  } catch (e) {
    if (scanId !== currentScanId) return;
    const again = state.cards.find((c) => c.summary.licenseCode === licenseCode);
    if (again) {
      again.error = api.asAppError(e);
      again.phase = 'failed';
    }
  }
}

/** Nothing of the customer stays: what 下一位 and signing out (or losing the sign-in) both do on screen. */
export function resetCustomer(): void {
  // Stop listening to the old scan before anything else: its late events must not redraw it.
  currentScanId = 0;
  clearCustomer();
  state.lookupAsk = null;
  state.manualText = '';
  state.manualOpen = false;
  state.phase = 'idle';
}

export async function nextCustomer(): Promise<void> {
  resetCustomer();
  try {
    const { bizNum } = await api.nextCustomer();
    state.bizNum = bizNum;
  } catch (e) {
    const err = api.asAppError(e);
    if (!adviceFor(err.code).silent) state.error = err;
  }
}

/** The idle countdown ran out: on screen exactly 下一位; the shell audits it as an idle clear. */
export async function idleClearCustomer(): Promise<void> {
  resetCustomer();
  try {
    const next = await api.idleClear();
    if (next) state.bizNum = next.bizNum;
  } catch (e) {
    const err = api.asAppError(e);
    if (!adviceFor(err.code).silent) state.error = err;
  }
}

export function dismissError(): void {
  state.error = null;
}

export function failureCount(): number {
  return state.cards.filter((c) => c.phase === 'failed').length;
}

export function settledCount(): number {
  return state.cards.filter((c) => c.phase === 'ready' || c.phase === 'failed').length;
}

/** The backend found a license revoked or expired since the scan: its card says so at once. */
export function markLicenseStatus(licenseCode: string, status: LicenseStatus): void {
  const card = state.cards.find((c) => c.summary.licenseCode === licenseCode);
  if (!card) return;
  card.summary.status = status;
  if (card.license) card.license.status = status;
}
