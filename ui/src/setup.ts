// The IT screens' state and rules: the setup form (defaults, the gateway bases per environment, paste from Excel, the steps and
// what each needs, validation as typed), 测试连接 and the doctor's live check lists, 保存, the onboarding forms, and who may open them.
import { reactive } from 'vue';
import type { UnlistenFn } from '@tauri-apps/api/event';
import * as api from './api';
import { state } from './session';
import { isSupervisor } from './shift';
import type {
  AppError, CheckDto, DoctorReportDto, FormsWrittenDto, GatewayBases, SaveSetupDto, ServiceItem, SetupEnvironment, SetupFormDto,
  SetupStateDto,
} from './types';

// ---------- the form ----------

export type FormKey = Exclude<keyof SetupFormDto, 'items'>;
/** The secrets: "" keeps what is stored. */
export type SecretKey = 'token' | 'password' | 'appSecret';
export const SECRET_KEYS: readonly SecretKey[] = ['token', 'password', 'appSecret'];

export function emptyForm(): SetupFormDto {
  return {
    environment: 'sandbox', ystBase: '', licenseBase: '', paasid: '', token: '', systemId: '', venderId: '', departmentId: '',
    account: '', password: '', appKey: '', appSecret: '', caFile: '', proxy: '', operatorAccount: '', operatorName: '',
    divisionCode: '', serviceOrg: '', serviceOrgCode: '', hallCode: '', hallName: '', counter: '', hallCity: '', hallDistrict: '',
    hallAddress: '', hallPhone: '', items: [],
  };
}

/** When the shell sends no defaults (an older one): the official gateways of the seed. */
export const FALLBACK_DEFAULTS: { test: GatewayBases; production: GatewayBases } = {
  test: { ystBase: 'https://bs-test.digitalgd.com.cn/ebus/yst_…', licenseBase: 'https://bs-test.digitalgd.com.cn/ebus/dzzz_convergence-service' },
  production: { ystBase: 'https://zwms3.gdbs.gov.cn/ebus/yst_…', licenseBase: 'https://zwms3.gdbs.gov.cn/ebus/dzzz_convergence-service' },
};

/** The 粤商通 base carries the PaaS ID as its last segment: `${domain}/ebus/${paasid}`. Without a PaaS ID, the default as it is. */
export function ystBaseFor(defaultBase: string, paasid: string): string {
  const id = paasid.trim();
  if (!id) return defaultBase;
  const m = /^(.*\/ebus\/)[^/]*\/?$/.exec(defaultBase);
  if (m) return m[1] + id;
  // A bare domain: the gateway's usual path.
  return /^https?:\/\/[^/]+\/?$/.test(defaultBase) ? `${defaultBase.replace(/\/$/, '')}/ebus/${id}` : defaultBase;
}

// ---------- the steps ----------

export const STEPS = ['environment', 'gateway', 'license', 'hall', 'items', 'finish'] as const;
export type StepId = (typeof STEPS)[number];

export interface FieldSpec {
  key: FormKey;
  /** Not needed to scan (the onboarding forms, the advanced network settings). */
  optional?: boolean;
  secret?: SecretKey;
  /** A whole row (the bases). */
  wide?: boolean;
  mono?: boolean;
  /** A heading over this field's group. */
  group?: string;
  maxlength?: number;
  inputmode?: 'text' | 'numeric' | 'tel' | 'url';
  /** The hint is an example: shown as the placeholder, with no line under the field until there is an error. */
  example?: boolean;
}

export const STEP_FIELDS: Record<StepId, FieldSpec[]> = {
  environment: [{ key: 'environment' }],
  gateway: [
    { key: 'paasid', mono: true, maxlength: 64 },
    { key: 'token', secret: 'token', mono: true },
    { key: 'ystBase', wide: true, mono: true, inputmode: 'url' },
    { key: 'licenseBase', wide: true, mono: true, inputmode: 'url' },
    { key: 'caFile', optional: true, wide: true, mono: true, group: 'advanced' },
    { key: 'proxy', optional: true, wide: true, mono: true, group: 'advanced', inputmode: 'url' },
  ],
  license: [
    { key: 'systemId', mono: true, maxlength: 64 },
    { key: 'venderId', mono: true, maxlength: 18 },
    { key: 'departmentId', mono: true, maxlength: 18 },
    { key: 'account', mono: true, maxlength: 64 },
    { key: 'password', secret: 'password' },
    { key: 'appKey', mono: true, maxlength: 128 },
    { key: 'appSecret', secret: 'appSecret', mono: true },
  ],
  hall: [
    { key: 'operatorAccount', group: 'operator', mono: true, maxlength: 32 },
    { key: 'operatorName', group: 'operator', maxlength: 32 },
    { key: 'divisionCode', group: 'org', mono: true, maxlength: 12, inputmode: 'numeric' },
    { key: 'serviceOrg', group: 'org', maxlength: 64 },
    { key: 'serviceOrgCode', group: 'org', mono: true, maxlength: 18 },
    { key: 'hallCode', group: 'hall', mono: true, maxlength: 32 },
    { key: 'hallName', group: 'hall', maxlength: 64 },
    { key: 'counter', group: 'hall', mono: true, maxlength: 16 },
    { key: 'hallCity', group: 'forms', optional: true, example: true, maxlength: 32 },
    { key: 'hallDistrict', group: 'forms', optional: true, example: true, maxlength: 32 },
    { key: 'hallAddress', group: 'forms', optional: true, example: true, maxlength: 128 },
    { key: 'hallPhone', group: 'forms', optional: true, example: true, maxlength: 32, inputmode: 'tel' },
  ],
  items: [],
  finish: [],
};

/** The sandbox needs no gateway and no e-license account. */
export function stepSkipped(step: StepId, env: SetupEnvironment): boolean {
  return env === 'sandbox' && (step === 'gateway' || step === 'license');
}

export function activeSteps(env: SetupEnvironment): StepId[] {
  return STEPS.filter((s) => !stepSkipped(s, env));
}

export function nextStepOf(step: StepId, env: SetupEnvironment): StepId | null {
  const steps = activeSteps(env);
  const i = steps.indexOf(step);
  return i >= 0 && i < steps.length - 1 ? steps[i + 1] : null;
}

export function prevStepOf(step: StepId, env: SetupEnvironment): StepId | null {
  const steps = activeSteps(env);
  const i = steps.indexOf(step);
  return i > 0 ? steps[i - 1] : null;
}

const FIELD_STEP: Record<string, StepId> = Object.fromEntries(
  (Object.entries(STEP_FIELDS) as [StepId, FieldSpec[]][]).flatMap(([step, fields]) => fields.map((f) => [f.key, step])),
);

/** Which step shows a field of the validation ("items.3.code" → items); null for a field no step shows. */
export function stepOfField(field: string): StepId | null {
  if (field === 'items' || field.startsWith('items.')) return 'items';
  return FIELD_STEP[field] ?? null;
}

/** The errors a step shows, in the step's order; for the last step, those no other step shows. */
export function errorsOfStep(step: StepId, errors: Record<string, string>, env: SetupEnvironment): [string, string][] {
  const all = Object.entries(errors);
  if (step === 'finish') return all.filter(([f]) => { const s = stepOfField(f); return s === null || s === 'finish'; });
  if (stepSkipped(step, env)) return [];
  const order = (f: string) => {
    const i = STEP_FIELDS[step].findIndex((s) => s.key === f);
    if (i >= 0) return i;
    const m = /^items\.(\d+)\.(code|name)$/.exec(f);
    return m ? Number(m[1]) * 2 + (m[2] === 'name' ? 1 : 0) : -1;
  };
  return all.filter(([f]) => stepOfField(f) === step).sort((a, b) => order(a[0]) - order(b[0]));
}

// ---------- local checks: the obvious ones, at once (the shell's word wins) ----------

const USCC_KEYS: FormKey[] = ['venderId', 'departmentId'];

export function localErrors(form: SetupFormDto): Record<string, string> {
  const out: Record<string, string> = {};
  if (form.environment !== 'sandbox') {
    const id = form.paasid.trim();
    if (!id) out.paasid = '请填写网关分配的 PaaS ID。';
    else if (!id.startsWith('yst_')) out.paasid = 'PaaS ID 应以 yst_ 开头，请按网关分配的原样填写。';
    for (const k of USCC_KEYS) {
      const v = form[k].trim();
      if (v && v.length !== 18) out[k] = `统一社会信用代码应为 18 位，现在是 ${v.length} 位。`;
      else if (v && !/^[0-9A-HJ-NPQRTUWXY]{18}$/.test(v)) out[k] = '统一社会信用代码只含数字和大写字母（不含 I、O、Z、S、V）。';
    }
    for (const k of ['ystBase', 'licenseBase'] as const) {
      const v = form[k].trim();
      if (!v) out[k] = '请填写网关地址。';
      else if (!/^https?:\/\/\S+$/.test(v)) out[k] = '网关地址应以 https:// 开头。';
    }
  }
  const seen = new Map<string, number>();
  form.items.forEach((it, i) => {
    const code = it.code.trim();
    const name = it.name.trim();
    if (!code && name) out[`items.${i}.code`] = '请填写事项编码。';
    if (code && !name) out[`items.${i}.name`] = '请填写事项名称。';
    if (code) {
      if (seen.has(code)) out[`items.${i}.code`] = `事项编码与第 ${seen.get(code)! + 1} 行重复。`;
      else seen.set(code, i);
    }
  });
  return out;
}

// ---------- the service items pasted from Excel ----------

export interface PastedItems {
  items: ServiceItem[];
  /** A first line without digits: column titles, left out. */
  headerSkipped: boolean;
  /** Lines with nothing that looks like a code and a name. */
  skipped: number;
}

/** Two columns copied from Excel (事项编码 TAB 事项名称, one row a line); a first line with no digit is a header. Also takes
 *  columns separated by two or more spaces or a full-width space (a table copied from a web page or Word). */
export function parseItemsPaste(text: string): PastedItems {
  const lines = text.split(/\r\n|\n|\r/).map((l) => l.replace(/^\uFEFF/, '')).filter((l) => l.trim() !== '');
  let headerSkipped = false;
  if (lines.length && !/\d/.test(lines[0])) {
    lines.shift();
    headerSkipped = true;
  }
  const items: ServiceItem[] = [];
  let skipped = 0;
  for (const line of lines) {
    const cols = (line.includes('\t') ? line.split('\t') : line.trim().split(/\s{2,}|\u3000+/))
      .map((c) => c.trim().replace(/^"(.*)"$/, '$1').trim())
      .filter((c) => c !== '');
    if (cols.length < 2) {
      skipped++;
      continue;
    }
    items.push({ code: cols[0], name: cols.slice(1).join(' ') });
  }
  return { items, headerSkipped, skipped };
}

/** The pasted items join the list: an empty row goes, a code already there takes the new name, the rest are added in order. */
export function mergeItems(current: ServiceItem[], pasted: ServiceItem[]): { items: ServiceItem[]; added: number; updated: number } {
  const items = current.filter((it) => it.code.trim() || it.name.trim()).map((it) => ({ ...it }));
  let added = 0;
  let updated = 0;
  for (const p of pasted) {
    const same = items.find((it) => it.code.trim() === p.code);
    if (same) {
      if (same.name !== p.name) {
        same.name = p.name;
        updated++;
      }
    } else {
      items.push({ ...p });
      added++;
    }
  }
  return { items, added, updated };
}

// ---------- the check lists (测试连接 and the doctor) ----------

/** The doctor's checks, in the order they run. */
export const CHECK_IDS = [
  'config', 'dns', 'tcp', 'tls', 'clock', 'signature', 'license_login', 'data_dir', 'disk', 'font', 'printers', 'logs', 'secrets',
] as const;
/** A counter scans without these (stamping, printing, log files). */
export const NOT_NEEDED_TO_SCAN = ['font', 'printers', 'logs'];

export type CheckState = 'idle' | 'running' | 'ok' | 'warn' | 'fail';
export interface CheckRow { id: string; title: string; state: CheckState; figure: string; fix: string | null; millis: number | null }

export interface CheckRun {
  rows: CheckRow[];
  running: boolean;
  /** From the last finished run; null before one. */
  ready: boolean | null;
  error: AppError | null;
  /** Rows reported so far in this run. */
  done: number;
  /** Which run the rows belong to: a newer run makes an older one's late answers void. */
  seq: number;
}

export function newCheckRun(): CheckRun {
  return { rows: CHECK_IDS.map((id) => idleRow(id)), running: false, ready: null, error: null, done: 0, seq: 0 };
}

function idleRow(id: string): CheckRow {
  return { id, title: '', state: 'idle', figure: '', fix: null, millis: null };
}

export function stateOf(c: CheckDto): CheckState {
  return !c.ok ? 'fail' : c.warn ? 'warn' : 'ok';
}

/** A check's result takes its row (one the list does not know is added at the end). */
export function applyCheck(run: CheckRun, c: CheckDto): void {
  const row: CheckRow = { id: c.id, title: c.title, state: stateOf(c), figure: c.figure, fix: c.fix, millis: c.millis };
  const i = run.rows.findIndex((r) => r.id === c.id);
  if (i >= 0) {
    if (run.rows[i].state === 'running') run.done++;
    run.rows[i] = row;
  } else {
    run.rows.push(row);
    run.done++;
  }
}

/** Not passed (failing); warnings pass. */
export function failing(run: CheckRun): CheckRow[] {
  return run.rows.filter((r) => r.state === 'fail');
}

let runSeq = 0;

/**
 * Runs the doctor into `run`: every row waits (⏳), each event turns its row ✔/⚠/✘ as it comes, and the final report settles
 * them all (an event missed is not a row left waiting). Listens before it starts, so no check is missed.
 */
export async function runChecks(
  run: CheckRun,
  start: () => Promise<DoctorReportDto>,
  listen: (h: (c: CheckDto) => void) => Promise<UnlistenFn>,
): Promise<void> {
  const seq = ++runSeq;
  const mine = () => run.seq === seq;
  run.seq = seq;
  run.running = true;
  run.error = null;
  run.ready = null;
  run.done = 0;
  run.rows = CHECK_IDS.map((id) => ({ ...idleRow(id), state: 'running' as CheckState }));
  let unlisten: UnlistenFn | null = null;
  try {
    unlisten = await listen((c) => {
      if (mine() && run.running) applyCheck(run, c);
    });
    const report = await start();
    if (!mine()) return;
    for (const c of report.checks) applyCheck(run, c);
    run.ready = report.ready;
  } catch (e) {
    if (!mine()) return;
    run.error = api.asAppError(e);
    // What did not report stays unknown, not "checking" forever.
    for (const r of run.rows) if (r.state === 'running') r.state = 'idle';
  } finally {
    unlisten?.();
    if (mine()) run.running = false;
  }
}

// ---------- the setup screen ----------

export interface SetupStore {
  open: boolean;
  loading: boolean;
  loadError: AppError | null;
  /** From setup_state. */
  info: Omit<SetupStateDto, 'form'> | null;
  form: SetupFormDto;
  step: StepId;
  /** The shell's errors (validate_setup); a field typed in since loses its entry until the next answer. */
  serverErrors: Record<string, string>;
  /** The shell's answer is for the form as it is now: only its word counts. */
  serverCurrent: boolean;
  validating: boolean;
  /** Fields typed in (or left with a value): their messages show as typed; the rest after 下一步. */
  touched: Record<string, boolean>;
  /** Steps whose 下一步 was pressed: all their messages show. */
  revealed: Record<string, boolean>;
  /** Why 下一步 / 保存 did not go on. */
  blocked: string | null;
  ystEdited: boolean;
  licenseEdited: boolean;
  /** The form as loaded or last saved (for "unsaved changes"). */
  savedJson: string;
  confirmClose: boolean;
  test: CheckRun;
  saving: boolean;
  saved: SaveSetupDto | null;
  saveError: AppError | null;
  restarting: boolean;
  restartError: AppError | null;
  formsBusy: boolean;
  forms: FormsWrittenDto | null;
  formsDir: string | null;
  formsError: AppError | null;
  /** The last paste into the items' paste area. */
  pasteNote: { added: number; updated: number; headerSkipped: boolean; skipped: number } | null;
}

export const setup = reactive<SetupStore>({
  open: false, loading: false, loadError: null, info: null, form: emptyForm(), step: 'environment', serverErrors: {},
  serverCurrent: false, validating: false, touched: {}, revealed: {}, blocked: null, ystEdited: false, licenseEdited: false,
  savedJson: JSON.stringify(emptyForm()), confirmClose: false, test: newCheckRun(), saving: false, saved: null, saveError: null,
  restarting: false, restartError: null, formsBusy: false, forms: null, formsDir: null, formsError: null, pasteNote: null,
});

/** What the app learnt at start: no configuration at all (the built-in sandbox), so the sandbox screen offers the setup. */
export const firstRun = reactive({ known: false, firstRun: false });

/** Asked once, in sandbox mode: a counter with a configuration never shows the first-run card. */
export async function checkFirstRun(): Promise<void> {
  if (firstRun.known) return;
  firstRun.known = true;
  try {
    firstRun.firstRun = (await api.setupState()).firstRun === true;
  } catch {
    firstRun.firstRun = false;
  }
}

/** The setup changes the PC for everyone: the first run (nothing to protect yet), a counter without accounts, a broken start
 *  (IT at the PC), or a signed-in 值班长. */
export function canSetup(): boolean {
  if (firstRun.firstRun || !state.counter) return true;
  return !state.counter.signIn?.required || isSupervisor();
}

export function defaultsOf(env: SetupEnvironment): GatewayBases | null {
  if (env === 'sandbox') return null;
  return setup.info?.defaults?.[env] ?? FALLBACK_DEFAULTS[env];
}

function sameAsDefault(value: string, kind: 'ystBase' | 'licenseBase', paasid: string): boolean {
  for (const env of ['test', 'production'] as const) {
    const d = setup.info?.defaults?.[env] ?? FALLBACK_DEFAULTS[env];
    if (kind === 'licenseBase' ? value === d.licenseBase : value === d.ystBase || value === ystBaseFor(d.ystBase, paasid)) return true;
  }
  return false;
}

/** The bases follow the environment and the PaaS ID, unless IT typed their own. */
function fillBases(): void {
  const d = defaultsOf(setup.form.environment);
  if (!d) return;
  if (!setup.licenseEdited) setup.form.licenseBase = d.licenseBase;
  if (!setup.ystEdited) setup.form.ystBase = ystBaseFor(d.ystBase, setup.form.paasid);
}

export function isDirty(): boolean {
  return JSON.stringify(setup.form) !== setup.savedJson;
}

export async function openSetup(): Promise<void> {
  closeDoctor();
  setup.open = true;
  setup.loading = true;
  setup.loadError = null;
  setup.step = 'environment';
  setup.serverErrors = {};
  setup.serverCurrent = false;
  setup.touched = {};
  setup.revealed = {};
  setup.blocked = null;
  setup.confirmClose = false;
  setup.test = newCheckRun();
  setup.saved = null;
  setup.saveError = null;
  setup.restartError = null;
  setup.forms = null;
  setup.formsError = null;
  setup.pasteNote = null;
  try {
    const s = await api.setupState();
    const { form, ...info } = s;
    setup.info = info;
    firstRun.firstRun = s.firstRun === true;
    const f: SetupFormDto = { ...emptyForm(), ...form, items: (form.items ?? []).map((it) => ({ code: it.code, name: it.name })) };
    for (const k of SECRET_KEYS) f[k] = '';
    setup.form = f;
    setup.ystEdited = !!f.ystBase && !sameAsDefault(f.ystBase, 'ystBase', f.paasid);
    setup.licenseEdited = !!f.licenseBase && !sameAsDefault(f.licenseBase, 'licenseBase', f.paasid);
    fillBases();
    if (!f.items.length) f.items.push({ code: '', name: '' });
    setup.savedJson = JSON.stringify(setup.form);
    // What the file already holds is checked at once: a wrong value shows red before anyone types.
    for (const [k, v] of Object.entries(f)) if (typeof v === 'string' && v.trim()) setup.touched[k] = true;
    f.items.forEach((it, i) => {
      if (it.code.trim()) setup.touched[`items.${i}.code`] = true;
      if (it.name.trim()) setup.touched[`items.${i}.name`] = true;
    });
  } catch (e) {
    setup.loadError = api.asAppError(e);
  } finally {
    setup.loading = false;
  }
  if (!setup.loadError) void validateNow();
}

export function closeSetup(force = false): void {
  if (!force && isDirty() && !setup.saved) {
    setup.confirmClose = true;
    return;
  }
  clearTimeout(validateTimer);
  validateSeq++;
  setup.open = false;
  setup.confirmClose = false;
  setup.validating = false;
  // No secret stays in memory once the screen is gone.
  for (const k of SECRET_KEYS) setup.form[k] = '';
}

export function chooseEnvironment(env: SetupEnvironment): void {
  if (setup.form.environment === env) return;
  setup.form.environment = env;
  fillBases();
  setup.test = newCheckRun();
  changed('environment');
}

/** A field was typed in: its old answer from the shell goes, the local check shows at once, the shell is asked 250 ms later. */
export function setField(key: FormKey, value: string): void {
  if (key === 'environment') {
    chooseEnvironment(value as SetupEnvironment);
    return;
  }
  setup.form[key] = value;
  if (key === 'ystBase') setup.ystEdited = value.trim() !== '' && !sameAsDefault(value.trim(), 'ystBase', setup.form.paasid);
  if (key === 'licenseBase') setup.licenseEdited = value.trim() !== '' && !sameAsDefault(value.trim(), 'licenseBase', setup.form.paasid);
  if (key === 'paasid' && !setup.ystEdited) {
    fillBases();
    delete setup.serverErrors.ystBase;
  }
  changed(key);
}

export function setItem(i: number, col: 'code' | 'name', value: string): void {
  const it = setup.form.items[i];
  if (!it) return;
  it[col] = value;
  changed(`items.${i}.${col}`);
}

export function addItem(): void {
  setup.form.items.push({ code: '', name: '' });
  changed('items');
}

export function removeItem(i: number): void {
  setup.form.items.splice(i, 1);
  // Rows below moved up: the shell's per-row messages no longer match their rows.
  for (const k of Object.keys(setup.serverErrors)) if (k.startsWith('items.')) delete setup.serverErrors[k];
  const touched: Record<string, boolean> = {};
  for (const [k, v] of Object.entries(setup.touched)) {
    const m = /^items\.(\d+)\.(code|name)$/.exec(k);
    if (!m) touched[k] = v;
    else if (Number(m[1]) < i) touched[k] = v;
    else if (Number(m[1]) > i) touched[`items.${Number(m[1]) - 1}.${m[2]}`] = v;
  }
  setup.touched = touched;
  changed('items');
}

export function pasteItems(text: string): boolean {
  const p = parseItemsPaste(text);
  if (!p.items.length) {
    setup.pasteNote = { added: 0, updated: 0, headerSkipped: p.headerSkipped, skipped: p.skipped };
    return false;
  }
  const m = mergeItems(setup.form.items, p.items);
  setup.form.items = m.items;
  for (const k of Object.keys(setup.serverErrors)) if (k.startsWith('items.')) delete setup.serverErrors[k];
  m.items.forEach((_, i) => {
    setup.touched[`items.${i}.code`] = true;
    setup.touched[`items.${i}.name`] = true;
  });
  setup.pasteNote = { added: m.added, updated: m.updated, headerSkipped: p.headerSkipped, skipped: p.skipped };
  changed('items');
  return true;
}

function changed(field: string): void {
  setup.touched[field] = true;
  delete setup.serverErrors[field];
  setup.serverCurrent = false;
  setup.blocked = null;
  setup.saveError = null;
  scheduleValidate();
}

// ---------- validation as typed ----------

export const VALIDATE_DEBOUNCE_MS = 250;
/** 下一步 waits this long for the shell's answer at most; then the local checks decide. */
const VALIDATE_WAIT_MS = 3000;
let validateTimer: ReturnType<typeof setTimeout> | undefined;
let validateSeq = 0;

function scheduleValidate(): void {
  clearTimeout(validateTimer);
  validateTimer = setTimeout(() => void validateNow(), VALIDATE_DEBOUNCE_MS);
}

/** Asks the shell about the form as it is now; a newer question makes an older answer void. */
export function validateNow(): Promise<void> {
  clearTimeout(validateTimer);
  const seq = ++validateSeq;
  const sent = JSON.stringify(setup.form);
  const form = JSON.parse(sent) as SetupFormDto;
  setup.validating = true;
  const p = api.validateSetup(form).then(
    (res) => {
      if (seq !== validateSeq) return;
      setup.serverErrors = { ...(res?.errors ?? {}) };
      setup.serverCurrent = JSON.stringify(setup.form) === sent;
    },
    () => {
      // No answer from the shell (an older one without the command): the local checks stand alone.
      if (seq !== validateSeq) return;
      setup.serverCurrent = false;
    },
  ).finally(() => {
    if (seq === validateSeq) setup.validating = false;
  });
  return p;
}

/** The answer for the form as it is now, or the local checks after a while without one. */
async function settledValidation(): Promise<void> {
  if (setup.serverCurrent && !setup.validating) return;
  await Promise.race([validateNow(), new Promise((r) => setTimeout(r, VALIDATE_WAIT_MS))]);
}

/** Every field's message now: the shell's answer when it is for this form, else the local checks under the shell's last word. */
export function currentErrors(): Record<string, string> {
  if (setup.serverCurrent) return setup.serverErrors;
  return { ...localErrors(setup.form), ...setup.serverErrors };
}

/** The message shown under a field: after it was typed in, or after 下一步 on its step. */
export function shownError(field: string): string | null {
  const msg = currentErrors()[field];
  if (!msg) return null;
  const step = stepOfField(field);
  // A half-filled item row says what it lacks as soon as either cell is typed in.
  const row = /^items\.(\d+)\./.exec(field);
  const rowTouched = !!row && (setup.touched[`items.${row[1]}.code`] || setup.touched[`items.${row[1]}.name`]);
  return setup.touched[field] || rowTouched || (step && setup.revealed[step]) || setup.revealed.finish ? msg : null;
}

export function stepProblems(step: StepId): [string, string][] {
  return errorsOfStep(step, currentErrors(), setup.form.environment);
}

/** 下一步: only when the step has no error; otherwise all its messages show and the first bad field is named. */
export async function goNext(): Promise<StepId | null> {
  const from = setup.step;
  await settledValidation();
  if (setup.step !== from || !setup.open) return null;
  const problems = stepProblems(from);
  if (problems.length) {
    setup.revealed[from] = true;
    setup.blocked = problems.length === 1 ? `还有 1 项需要修改：${problems[0][1]}` : `还有 ${problems.length} 项需要修改，请按红字提示改正后再继续。`;
    return null;
  }
  const next = nextStepOf(from, setup.form.environment);
  if (next) {
    setup.blocked = null;
    setup.step = next;
  }
  return next;
}

export function goBack(): void {
  const prev = prevStepOf(setup.step, setup.form.environment);
  if (prev) {
    setup.blocked = null;
    setup.step = prev;
  }
}

/** From the stepper: back at once; forward only over steps without errors (stops at the first with one). */
export async function goTo(target: StepId): Promise<void> {
  if (stepSkipped(target, setup.form.environment)) return;
  const steps = activeSteps(setup.form.environment);
  if (steps.indexOf(target) <= steps.indexOf(setup.step)) {
    setup.blocked = null;
    setup.step = target;
    return;
  }
  while (setup.step !== target) {
    if (!(await goNext())) return;
  }
}

// ---------- 测试连接 and 保存 ----------

export function testConnection(): Promise<void> {
  const form = JSON.parse(JSON.stringify(setup.form)) as SetupFormDto;
  return runChecks(setup.test, () => api.testSetup(form), api.onSetupCheck);
}

/** 保存: the whole form must be valid (the shell refuses otherwise); the secrets typed are forgotten once sealed. */
export async function save(): Promise<boolean> {
  if (setup.saving) return false;
  setup.saveError = null;
  await settledValidation();
  const problems = Object.entries(currentErrors()).filter(([f]) => {
    const s = stepOfField(f);
    return !s || !stepSkipped(s, setup.form.environment);
  });
  if (problems.length) {
    for (const s of STEPS) setup.revealed[s] = true;
    setup.blocked = `还有 ${problems.length} 项需要修改，请先改正（见下方列表）。`;
    return false;
  }
  setup.blocked = null;
  setup.saving = true;
  try {
    const form = JSON.parse(JSON.stringify(setup.form)) as SetupFormDto;
    const res = await api.saveSetup(form);
    setup.saved = res;
    if (setup.info) {
      if (form.token) setup.info.hasToken = true;
      if (form.password) setup.info.hasPassword = true;
      if (form.appSecret) setup.info.hasAppSecret = true;
    }
    for (const k of SECRET_KEYS) setup.form[k] = '';
    setup.savedJson = JSON.stringify(setup.form);
    return true;
  } catch (e) {
    setup.saveError = api.asAppError(e);
    return false;
  } finally {
    setup.saving = false;
  }
}

export async function restart(): Promise<void> {
  if (setup.restarting) return;
  setup.restarting = true;
  setup.restartError = null;
  try {
    await api.restartApp();
  } catch (e) {
    setup.restartError = api.asAppError(e);
  } finally {
    setup.restarting = false;
  }
}

/** 生成接入申请材料: a folder from the system's picker, then the forms of the saved configuration into it. */
export async function generateForms(pickTitle: string): Promise<void> {
  if (setup.formsBusy) return;
  setup.formsError = null;
  setup.formsBusy = true;
  try {
    const dir = await api.chooseFolder(pickTitle);
    if (!dir) return;
    setup.formsDir = dir;
    setup.forms = await api.writeForms(dir);
  } catch (e) {
    setup.formsError = api.asAppError(e);
  } finally {
    setup.formsBusy = false;
  }
}

// ---------- the doctor (诊断) ----------

export const doctor = reactive<{ open: boolean; run: CheckRun }>({ open: false, run: newCheckRun() });

export function openDoctor(): void {
  doctor.open = true;
  void recheck();
}

export function recheck(): Promise<void> {
  return runChecks(doctor.run, api.runDoctor, api.onDoctorCheck);
}

export function closeDoctor(): void {
  doctor.open = false;
}
