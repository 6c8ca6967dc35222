// The supervisor view's state: the scope (本窗口, or 全厅 from the hall service), the chosen day and its summary, the event list's filter and page, the export, the accounts and the audit chain; stale answers dropped.
import { reactive } from 'vue';
import * as api from './api';
import { t } from './i18n';
import { chinaToday, state } from './session';
import { onShiftEnded } from './shift';
import type {
  Account, AppError, AuditFilter, AuditOutcome, AuditPage, ChainStatus, DaySummary, ExportFormat, ExportResult, HallAuditFilter,
  HallDaySummary, HallExportResult, Role,
} from './types';

export type SupervisorTab = 'summary' | 'events' | 'export' | 'accounts' | 'chain';
export const SUPERVISOR_TABS: SupervisorTab[] = ['summary', 'events', 'export', 'accounts', 'chain'];

/** 本窗口 (this counter, its own store) or 全厅 (every counter of the hall, from the hall service). */
export type SupervisorScope = 'counter' | 'hall';
/** Accounts and the audit chain belong to this counter alone: 全厅 has the day, its events and export. */
export const HALL_TABS: SupervisorTab[] = ['summary', 'events', 'export'];

/** The tabs of a scope, in order. */
export function tabsOf(scope: SupervisorScope): SupervisorTab[] {
  return scope === 'hall' ? HALL_TABS : SUPERVISOR_TABS;
}

export const PAGE_SIZE = 100;

export interface EventFilterForm {
  clerk: string;
  item: string;
  outcome: '' | AuditOutcome;
  kind: string;
  bizNum: string;
  uscc: string;
  /** 全厅 only: one counter ('' = every counter). */
  counter: string;
}

export interface SupervisorState {
  /** 'hall' only when the counter has a hall service. */
  scope: SupervisorScope;
  tab: SupervisorTab;
  date: string;
  /** The scope's summary: a HallDaySummary in 全厅 (see hallDay()). */
  summary: DaySummary | HallDaySummary | null;
  summaryLoading: boolean;
  summaryError: AppError | null;
  filter: EventFilterForm;
  page: AuditPage | null;
  /** The offset asked for last (the page on screen may still be the previous one while it loads). */
  offset: number;
  eventsLoading: boolean;
  eventsError: AppError | null;
  exporting: boolean;
  exportFormat: ExportFormat | null;
  exportDir: string | null;
  exportDone: number;
  exportTotal: number;
  exportResult: ExportResult | null;
  /** A 全厅 export's result (one file set per counter). */
  hallExportResult: HallExportResult | null;
  exportError: AppError | null;
  /** The folder picker was closed without a choice. */
  exportNoFolder: boolean;
  accounts: Account[] | null;
  accountsLoading: boolean;
  accountsError: AppError | null;
  /** The account a 停用/启用 is under way for. */
  accountBusy: string | null;
  /** What was just done to an account, said under the list ("已停用 wangxm"). */
  accountsNotice: string | null;
  chain: ChainStatus | null;
  chainLoading: boolean;
  chainError: AppError | null;
}

function emptyFilter(): EventFilterForm {
  return { clerk: '', item: '', outcome: '', kind: '', bizNum: '', uscc: '', counter: '' };
}

function fresh(): SupervisorState {
  return {
    scope: 'counter', tab: 'summary', date: chinaToday(),
    summary: null, summaryLoading: false, summaryError: null,
    filter: emptyFilter(), page: null, offset: 0, eventsLoading: false, eventsError: null,
    exporting: false, exportFormat: null, exportDir: null, exportDone: 0, exportTotal: 0, exportResult: null, hallExportResult: null,
    exportError: null, exportNoFolder: false,
    accounts: null, accountsLoading: false, accountsError: null, accountBusy: null, accountsNotice: null,
    chain: null, chainLoading: false, chainError: null,
  };
}

export const sup = reactive<SupervisorState>(fresh());

/** What the view loads from the shell, each with its `<kind>Loading` and `<kind>Error` in `sup`. */
type Loaded = 'summary' | 'events' | 'accounts' | 'chain';

// Module-level, not reactive: the latest request of each kind; an older answer is dropped.
const latest: Record<Loaded, number> = { summary: 0, events: 0, accounts: 0, chain: 0 };
let exportSeq = 0;

/**
 * Asks the shell for one kind of thing and shows the answer only if no newer request of that kind
 * was made meanwhile; `failed` runs (after the error is set) for an answer that is an error.
 */
async function loadLatest<T>(kind: Loaded, ask: () => Promise<T>, show: (value: T) => void, failed?: () => void): Promise<void> {
  // `ask` runs at once, so it reads the view's state (date, filter, offset) as it is now.
  const seq = ++latest[kind];
  sup[`${kind}Loading`] = true;
  sup[`${kind}Error`] = null;
  try {
    const value = await ask();
    if (seq === latest[kind]) show(value);
  } catch (e) {
    if (seq !== latest[kind]) return;
    sup[`${kind}Error`] = api.asAppError(e);
    failed?.();
  } finally {
    if (seq === latest[kind]) sup[`${kind}Loading`] = false;
  }
}

// ---------- the scope: 本窗口 or 全厅 ----------

/** The counter is configured with a hall service ([hall_service] url): the view offers 全厅. */
export function hasHall(): boolean {
  return !!state.counter?.hallService?.url;
}

/** 全厅 is on screen (and still possible). */
export function inHall(): boolean {
  return sup.scope === 'hall' && hasHall();
}

/** The 全厅 summary on screen, with its counters and alarms; null in 本窗口 or while it loads. */
export function hallDay(): HallDaySummary | null {
  const s = sup.summary;
  return inHall() && s && 'counters' in s ? s : null;
}

/** Switches the view between 本窗口 and 全厅: what is on screen is forgotten and the current tab asks the other side;
 *  an answer still on its way from the old scope is dropped (`latest`). */
export function setScope(scope: SupervisorScope): void {
  if (scope === sup.scope || (scope === 'hall' && !hasHall())) return;
  sup.scope = scope;
  sup.summary = null;
  sup.page = null;
  // One counter's store has no other counters to pick.
  if (sup.filter.counter) sup.filter = { ...sup.filter, counter: '' };
  clearExportResult();
  if (!tabsOf(scope).includes(sup.tab)) sup.tab = 'summary';
  void loadSummary();
  loadTab(sup.tab);
}

/** An RFC 3339 time as China's wall clock: its day and HH:MM (whatever offset the shell wrote). */
export function chinaClock(iso: string): { date: string; hhmm: string } | null {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return null;
  const s = new Date(ms + 8 * 3600_000).toISOString();
  return { date: s.slice(0, 10), hhmm: s.slice(11, 16) };
}

// ---------- the day ----------

/** 'YYYY-MM-DD' plus `n` days (calendar arithmetic in UTC, so no time zone or DST shifts it). */
export function addDays(date: string, n: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

export function isToday(date: string): boolean {
  return date >= chinaToday();
}

/** Opening the view: the day's summary (its clerks and items feed the event filters), fetched again each time. */
export function enter(): void {
  void ensureListening();
  void loadSummary();
  loadTab(sup.tab);
}

export function chooseTab(tab: SupervisorTab): void {
  sup.tab = tab;
  loadTab(tab);
}

function loadTab(tab: SupervisorTab): void {
  if (tab === 'events') void loadEvents(0);
  else if (tab === 'accounts') void loadAccounts();
  else if (tab === 'chain' && !sup.chain) void loadChain();
}

export function setDate(date: string): void {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) return;
  // No day after today has anything to show.
  const day = date > chinaToday() ? chinaToday() : date;
  if (day === sup.date) return;
  sup.date = day;
  sup.summary = null;
  sup.page = null;
  // A result of another day's export is not this day's.
  clearExportResult();
  void loadSummary();
  if (sup.tab === 'events') void loadEvents(0);
}

export function loadSummary(): Promise<void> {
  return loadLatest(
    'summary',
    (): Promise<DaySummary | HallDaySummary> => (inHall() ? api.hallDaySummary(sup.date) : api.daySummary(sup.date)),
    (s) => (sup.summary = s),
    () => (sup.summary = null),
  );
}

// ---------- the event list ----------

export function auditFilter(f: EventFilterForm = sup.filter): AuditFilter {
  const text = (s: string) => s.trim() || null;
  return {
    clerk: f.clerk || null,
    item: f.item || null,
    outcome: f.outcome || null,
    kind: f.kind || null,
    bizNum: text(f.bizNum),
    uscc: text(f.uscc)?.toUpperCase() ?? null,
  };
}

/** 全厅's filter: the same, plus the 窗口 chosen (null: every counter). */
export function hallFilter(f: EventFilterForm = sup.filter): HallAuditFilter {
  return { ...auditFilter(f), counter: f.counter || null };
}

/** One page from the shell (or the hall service), never the whole day; only the newest request's answer is shown. */
export function loadEvents(offset: number): Promise<void> {
  sup.offset = Math.max(0, offset);
  return loadLatest(
    'events',
    () => (inHall()
      ? api.hallEvents(sup.date, hallFilter(), sup.offset, PAGE_SIZE)
      : api.auditEvents(sup.date, auditFilter(), sup.offset, PAGE_SIZE)),
    (page) => (sup.page = page),
  );
}

/** Any filter change starts again at the first page. */
export function setFilters(patch: Partial<EventFilterForm>): void {
  const changed = (Object.keys(patch) as (keyof EventFilterForm)[]).filter((k) => patch[k] !== undefined && patch[k] !== sup.filter[k]);
  if (!changed.length) return;
  sup.filter = { ...sup.filter, ...patch };
  void loadEvents(0);
}

export function clearFilter(): void {
  sup.filter = emptyFilter();
  void loadEvents(0);
}

export function nextPage(): void {
  const p = sup.page;
  if (p && p.offset + PAGE_SIZE < p.total) void loadEvents(p.offset + PAGE_SIZE);
}

export function prevPage(): void {
  const p = sup.page;
  if (p && p.offset > 0) void loadEvents(p.offset - PAGE_SIZE);
}

// ---------- export ----------

let listening: Promise<void> | null = null;

/** "export-progress" is heard before the first export starts, once for the app's life. */
function ensureListening(): Promise<void> {
  listening ??= api
    .onExportProgress((p) => {
      if (!sup.exporting) return;
      sup.exportDone = p.done;
      sup.exportTotal = p.total;
    })
    .then(() => undefined, () => undefined);
  return listening;
}

/** The folder IT configured for exports, if the shell says there is one. */
export function configuredExportDir(): string | null {
  return state.counter?.audit?.exportDir || null;
}

/** What the last export said, unless one is still running (its answer is still to come). */
function clearExportResult(): void {
  if (sup.exporting) return;
  sup.exportResult = null;
  sup.hallExportResult = null;
  sup.exportError = null;
  sup.exportNoFolder = false;
}

/** The day's events into a folder: this counter's (export_audit), or in 全厅 each counter's own file set (hall_export). */
export async function runExport(format: ExportFormat): Promise<void> {
  if (sup.exporting) return;
  const seq = ++exportSeq;
  const date = sup.date;
  const hall = inHall();
  sup.exportError = null;
  sup.exportNoFolder = false;
  let dir: string | null = configuredExportDir();
  try {
    dir ??= await api.chooseFolder(t('export.chooseFolder'));
  } catch (e) {
    if (seq === exportSeq) sup.exportError = api.asAppError(e);
    return;
  }
  if (seq !== exportSeq) return;
  if (!dir) {
    sup.exportNoFolder = true;
    return;
  }
  await ensureListening();
  Object.assign(sup, {
    exporting: true, exportFormat: format, exportDir: dir, exportDone: 0, exportTotal: 0, exportResult: null, hallExportResult: null,
  });
  try {
    const r = hall ? await api.hallExport(date, format, dir) : await api.exportAudit(date, format, dir);
    if (seq !== exportSeq) return;
    if ('counters' in r) sup.hallExportResult = r;
    else sup.exportResult = r;
    sup.exportDone = sup.exportTotal = r.events;
  } catch (e) {
    if (seq !== exportSeq) return;
    sup.exportError = api.asAppError(e);
  } finally {
    if (seq === exportSeq) sup.exporting = false;
  }
}

// ---------- accounts ----------

export function loadAccounts(): Promise<void> {
  return loadLatest('accounts', api.accountsList, (list) => (sup.accounts = list));
}

function putAccount(a: Account): void {
  const list = sup.accounts ?? [];
  const i = list.findIndex((x) => x.account === a.account);
  sup.accounts = i < 0 ? [...list, a] : list.map((x, j) => (j === i ? a : x));
}

/** Adds an account; resolves to the error to show in the form, or null when it was added. */
export async function addAccount(account: string, name: string, role: Role, password: string): Promise<AppError | null> {
  try {
    const a = await api.accountAdd(account, name, role, password);
    putAccount(a);
    sup.accountsNotice = t('accounts.added', { account: a.account });
    return null;
  } catch (e) {
    return api.asAppError(e);
  }
}

export async function setDisabled(account: string, disabled: boolean): Promise<void> {
  if (sup.accountBusy) return;
  sup.accountBusy = account;
  sup.accountsError = null;
  sup.accountsNotice = null;
  try {
    const a = await api.accountSetDisabled(account, disabled);
    putAccount(a);
    sup.accountsNotice = t(a.disabled ? 'accounts.disabledNotice' : 'accounts.enabledNotice', { account: a.account });
  } catch (e) {
    sup.accountsError = api.asAppError(e);
  } finally {
    sup.accountBusy = null;
  }
}

/** Resolves to the error to show in the dialog, or null once the password was set (which also unlocks). */
export async function resetPassword(account: string, password: string): Promise<AppError | null> {
  try {
    await api.accountResetPassword(account, password);
    sup.accountsNotice = t('accounts.resetNotice', { account });
    // The lock is gone with the new password: the list shows it.
    void loadAccounts();
    return null;
  } catch (e) {
    return api.asAppError(e);
  }
}

export const MIN_PASSWORD = 8;

/** What is wrong with a new password typed twice, checked before anything is sent (the shell checks again). */
export function passwordProblem(password: string, again: string): 'accounts.pwShort' | 'accounts.pwMismatch' | null {
  if ([...password].length < MIN_PASSWORD) return 'accounts.pwShort';
  if (password !== again) return 'accounts.pwMismatch';
  return null;
}

/** Locked now (a lock whose time has passed is no lock). */
export function lockedNow(a: Account): boolean {
  return !!a.lockedUntil && Date.parse(a.lockedUntil) > Date.now();
}

// ---------- the audit chain ----------

export function loadChain(): Promise<void> {
  return loadLatest('chain', api.chainStatus, (c) => (sup.chain = c));
}

// The next person to sign in starts from a clean view: nothing of the last one's look at the audit stays in memory.
onShiftEnded(() => {
  for (const kind of Object.keys(latest) as Loaded[]) latest[kind]++;
  exportSeq++;
  Object.assign(sup, fresh());
});
