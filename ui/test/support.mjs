// Shared test support: serves the harness build under the production CSP, drives headless Chromium, and holds the fixtures.
import { after, before } from 'node:test';
import { createServer } from 'node:http';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { auditPage } from './a11y.mjs';

export const UI_DIR = fileURLToPath(new URL('..', import.meta.url));
export const SHOTS_DIR = join(UI_DIR, '..', 'tests', 'out', 'ui');

/** Exactly the CSP the Tauri shell sets: the tests prove the built app lives with it. */
export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self' data: blob:; " +
  "worker-src 'self' blob:; connect-src ipc: http://ipc.localhost; object-src 'none'; base-uri 'none'; form-action 'none'";

const MIME = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.wasm': 'application/wasm', '.png': 'image/png', '.svg': 'image/svg+xml', '.ttf': 'font/ttf', '.pfb': 'application/octet-stream',
  '.bcmap': 'application/octet-stream', '.icc': 'application/octet-stream', '.json': 'application/json',
};

export function startServer(root = join(UI_DIR, 'test-dist'), entry = 'test/harness.html') {
  if (!existsSync(join(root, entry))) {
    throw new Error(`${join(root, entry)} is not built. Run \`npm test\` (it builds it), \`npm run build\` or \`npm run build:harness\`.`);
  }
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^([/\\])+/, '');
    const file = join(root, path);
    if (path === 'favicon.ico') {
      // Chromium asks for it on its own; the app has none, and a 404 would read as an error in the console.
      res.writeHead(204, { 'Content-Security-Policy': CSP });
      res.end();
      return;
    }
    if (!file.startsWith(root) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Security-Policy': CSP });
      res.end('not found');
      return;
    }
    res.writeHead(200, {
      'Content-Type': MIME[extname(file)] ?? 'application/octet-stream',
      'Content-Security-Policy': CSP,
      'Cache-Control': 'no-store',
    });
    res.end(readFileSync(file));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({ url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(r)) });
    });
  });
}

/** `extraArgs`: Chromium switches one test file needs (image.test.mjs: a fake camera playing a file). */
export async function launchBrowser(extraArgs = []) {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(
      `Chromium not found at ${executablePath}. Install it (apt-get install chromium) or set CHROMIUM=/path/to/chromium. ` +
        'The UI tests need a real browser and do not skip.',
    );
  }
  return chromium.launch({
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', ...extraArgs],
  });
}

/** One browser and one server for a test file. */
export async function setup({ browserArgs = [] } = {}) {
  const server = await startServer();
  const browser = await launchBrowser(browserArgs);
  return {
    server,
    browser,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}

/** One browser and server for a whole test file: filled in before its first test, closed after
 *  its last. */
export function sharedBrowser(options = {}) {
  const env = {};
  before(async () => {
    Object.assign(env, await setup(options));
  });
  after(async () => {
    await env.close?.();
  });
  return env;
}

/** Opens the harness with scripted responses; returns once the counter header is on screen. */
export async function openApp(env, { responses = {}, viewport = { width: 1366, height: 768 }, storage = {}, waitFor = 'counter-header', freezePrototype = true, initScripts = [] } = {}) {
  const context = await env.browser.newContext({ viewport, deviceScaleFactor: 1, locale: 'zh-CN' });
  // Fail fast: every wait here is for something local that takes milliseconds.
  context.setDefaultTimeout(5000);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  // What the shell's "freezePrototype": true injects before any of the app's scripts.
  if (freezePrototype) await page.addInitScript(() => Object.freeze(Object.prototype));
  // A test's own probes (functions run in the page), before any of the app's scripts.
  for (const script of initScripts) await page.addInitScript(script);
  await page.addInitScript(
    ({ responses, storage }) => {
      window.__scenario = { responses };
      for (const [k, v] of Object.entries(storage)) localStorage.setItem(k, v);
    },
    // Every line is a 粤商码 unless a test says it is a USCC (read_entry decides in the core).
    { responses: { counter_info: { value: counterInfo() }, read_entry: { value: { kind: 'code', uscc: null } }, ...responses }, storage },
  );
  await page.goto(`${env.server.url}/test/harness.html`);
  if (waitFor) await page.getByTestId(waitFor).waitFor();
  page.errors = errors;
  return page;
}

export async function closePage(page) {
  await page.context().close();
}

/** Saves what the page shows under tests/out/ui/, then checks it with axe-core (a11y.mjs). */
export async function shot(page, name) {
  mkdirSync(SHOTS_DIR, { recursive: true });
  await page.screenshot({ path: join(SHOTS_DIR, `${name}.png`) });
  await auditPage(page, name);
}

// ---------- harness access ----------

export const calls = (page, cmd) => page.evaluate((cmd) => window.__h.callsOf(cmd), cmd);

export async function waitForCall(page, cmd, count = 1) {
  await page.waitForFunction(([cmd, count]) => window.__h.callsOf(cmd).length >= count, [cmd, count]);
  return calls(page, cmd);
}

export async function waitForPending(page, cmd) {
  await page.waitForFunction((cmd) => window.__h.pending.some((p) => p.cmd === cmd), cmd);
}

export const resolvePending = (page, cmd, value) => page.evaluate(([cmd, value]) => window.__h.resolve(cmd, value), [cmd, value]);
export const rejectPending = (page, cmd, error) => page.evaluate(([cmd, error]) => window.__h.reject(cmd, error), [cmd, error]);
export const emitProgress = (page, scanId, event) => page.evaluate((p) => window.__h.emitProgress(p), { scanId, event });
export const setResponse = (page, cmd, spec) => page.evaluate(([cmd, spec]) => window.__h.setResponse(cmd, spec), [cmd, spec]);
export const emitOutbox = (page, status) => page.evaluate((s) => window.__h.emitEvent('outbox-changed', s), status);

/** What a keyboard-wedge scanner does: characters then Enter, with nothing focused. */
export async function scanWithGun(page, payload) {
  await page.evaluate(() => {
    if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
  });
  await page.keyboard.type(payload);
  await page.keyboard.press('Enter');
}

/** A scanner's burst into whatever has the focus: trusted key events (real text input) stamped 4 ms apart, as a
 *  scanner sends them (or a test driver's key actions: a '\t' in `text` is the Tab key). page.keyboard.type waits a round trip per key, and on a loaded 2-core machine spaces keys
 *  as slowly as a person types; the window reads a key's time from its timestamp, which these carry. */
export async function gunBurst(page, text, { enter = true, gapMs = 4 } = {}) {
  const cdp = await page.context().newCDPSession(page);
  let at = Date.now() / 1000;
  const stamp = () => (at += gapMs / 1000);
  const sends = [];
  for (const ch of text) {
    if (ch === '\t') {
      // Tab moves the focus, as WebDriver's key actions do between fields.
      const tab = { key: 'Tab', code: 'Tab', windowsVirtualKeyCode: 9 };
      sends.push(cdp.send('Input.dispatchKeyEvent', { type: 'rawKeyDown', ...tab, timestamp: stamp() }));
      sends.push(cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', ...tab, timestamp: at }));
      continue;
    }
    sends.push(cdp.send('Input.dispatchKeyEvent', { type: 'keyDown', key: ch, text: ch, unmodifiedText: ch, timestamp: stamp() }));
    sends.push(cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', key: ch, timestamp: at }));
  }
  if (enter) {
    sends.push(cdp.send('Input.dispatchKeyEvent', { type: 'keyDown', key: 'Enter', code: 'Enter', windowsVirtualKeyCode: 13, text: '\r', timestamp: stamp() }));
    sends.push(cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', key: 'Enter', code: 'Enter', windowsVirtualKeyCode: 13, timestamp: at }));
  }
  await Promise.all(sends);
  await cdp.detach();
}

/** Key events as a scanner produces them behind an IME in full-width mode: keydowns whose key is the full-width character
 *  (page.keyboard.type would insert such characters as text, without any key event). */
export async function typeKeyEvents(page, text) {
  const cdp = await page.context().newCDPSession(page);
  for (const ch of text) {
    await cdp.send('Input.dispatchKeyEvent', { type: 'keyDown', key: ch, text: ch, unmodifiedText: ch });
    await cdp.send('Input.dispatchKeyEvent', { type: 'keyUp', key: ch });
  }
  await cdp.detach();
}

/** Scans and waits until the UI has called `scan`; returns the scanId it chose. */
export async function startScan(page, payload = PAYLOAD) {
  const before = (await calls(page, 'scan')).length;
  await scanWithGun(page, payload);
  const all = await waitForCall(page, 'scan', before + 1);
  return all[all.length - 1].scanId;
}

// ---------- fixtures ----------

export const PAYLOAD = 'YSM:v1:91440101MA5CXXXX1A:8f3k2j9d0a';

export function counterInfo(over = {}) {
  return {
    mode: 'sandbox',
    environment: 'test',
    hall: { code: '440106001', name: '广州市天河区政务服务中心' },
    counter: 'A03',
    operator: { account: 'wangxm', name: '王小明' },
    serviceItems: [
      { code: 'SP-001', name: '食品经营许可（新办）' },
      { code: 'SP-002', name: '食品经营许可（变更）' },
      { code: 'GS-010', name: '企业登记信息变更' },
    ],
    bizNum: 'YS-440106001-A03-20261128-0007',
    version: '0.1.0',
    printing: printingInfo(),
    outbox: { waiting: 0, refused: 0, current: null },
    // A counter without accounts: no sign-in screen (the tests of the counter itself start there).
    signIn: { required: false, user: null, locked: null, sandboxAccounts: [] },
    about: aboutInfo(),
    // Off, so that no test but the idle tests' ever sees the window clear itself or lock.
    privacy: { idleClearSeconds: null, lockSeconds: null, countdownSeconds: 15 },
    lookupGrounds: ['依职能核验', '企业现场书面授权', '部门间协查'],
    ...over,
  };
}

export const KEY_FINGERPRINT = '3f2a9c1b7d40e85a6b2c0f19d3e7a8b45c6d1e2f3a4b5c6d7e8f9a0b1c2d3e4f';

export function aboutInfo(over = {}) {
  return {
    version: '0.1.0',
    keyFingerprint: KEY_FINGERPRINT,
    dataDir: '/home/guitai/.local/share/yueshang-counter',
    configPath: null,
    storageKey: { backend: 'file', label: '仅本用户可读的密钥文件', location: '/home/guitai/.config/yueshang-counter/keys/storage-key-9a1f.key' },
    plainSecrets: [],
    ...over,
  };
}

export const CLERK = { account: 'wangxm', name: '王小明', role: 'clerk' };
export const SUPERVISOR = { account: 'lizh', name: '李志华', role: 'supervisor' };

export const SANDBOX_ACCOUNTS = [
  { account: 'clerk01', name: '张晓燕', role: 'clerk', password: 'sandbox-clerk-01' },
  { account: 'clerk02', name: '陈伟', role: 'clerk', password: 'sandbox-clerk-02' },
  { account: 'duty01', name: '李志华', role: 'supervisor', password: 'sandbox-duty-01' },
];

/** A counter with accounts: `user` null shows the sign-in screen; a user starts signed in. */
export function signedCounter(user = null, over = {}) {
  return counterInfo({
    operator: user ? { account: user.account, name: user.name } : { account: 'wangxm', name: '王小明' },
    signIn: { required: true, user, locked: null, sandboxAccounts: [] },
    ...over,
  });
}

export function printingInfo(over = {}) {
  return { mode: 'picker', printer: null, saveDir: null, lastPrinter: null, lastCopies: 1, recheckAfterMinutes: 10, ...over };
}

/** The handling number a scanResult() gives the case. */
export const CASE_BIZ_NUM = 'YS-440106001-A03-20261128-0008';

/** A stamped copy of a summary's license, as prepare_copy returns it. */
export function copyOf(summary, n = 1, over = {}) {
  const serial = `P-440106001-A03-20261128-${String(n).padStart(4, '0')}`;
  return {
    serial,
    licenseCode: summary.licenseCode,
    licenseName: summary.name,
    pages: 2,
    bytes: 4321,
    sha256: 'cd'.repeat(32),
    checkedAt: '2026-11-28T10:15:00+08:00',
    checkFresh: true,
    fileName: `${CASE_BIZ_NUM}-${summary.name}-${serial}.pdf`,
    sourceSigned: false,
    ...over,
  };
}

export const PRINTERS = [
  { name: 'HP-A03', description: '一楼 A 区 HP LaserJet', isDefault: false, state: 'idle', accepting: true },
  { name: 'Canon-Hall', description: '大厅公共打印机', isDefault: true, state: 'idle', accepting: true },
  { name: 'Brother-Old', description: '旧打印机', isDefault: false, state: 'stopped', accepting: false },
];

/** A handling record as submit_record / outbox_status return it. */
export function recordOf(over = {}) {
  return {
    bizNum: CASE_BIZ_NUM,
    status: 'ACCEPTED',
    reason: null,
    licenseCodes: ['LC-44-1000'],
    state: 'sent',
    recordId: 'REC-20261128-000123',
    duplicate: false,
    attempts: 1,
    error: null,
    submittedAt: '2026-11-28T10:20:00+08:00',
    ...over,
  };
}

export const ENTERPRISE = { name: '广州市天河区星河餐饮管理有限公司', uscc: '91440101MA5CXXXX1A', legalRepName: '陈*' };

const NAMES = [
  ['营业执照', '广州市天河区市场监督管理局'],
  ['食品经营许可证', '广州市天河区市场监督管理局'],
  ['公共场所卫生许可证', '广州市天河区卫生健康局'],
  ['排污许可证', '广州市生态环境局'],
  ['消防安全检查合格证', '广州市消防救援支队'],
  ['酒类商品零售许可证', '广州市商务局'],
  ['烟草专卖零售许可证', '广州市烟草专卖局'],
  ['税务登记证', '国家税务总局广州市天河区税务局'],
  ['城镇污水排入排水管网许可证', '广州市水务局'],
  ['户外广告设置许可', '广州市城市管理和综合执法局'],
  ['特种设备使用登记证', '广州市市场监督管理局'],
  ['道路运输经营许可证', '广州市交通运输局'],
  ['人力资源服务许可证', '广州市人力资源和社会保障局'],
];

/** 13 licenses: mostly valid, #3 and #8 expired, #5 revoked, #0 and #7 without an end date. */
export function summaries(n = 13) {
  return NAMES.slice(0, n).map(([name, issuer], i) => ({
    position: i,
    licenseCode: `LC-44-${String(1000 + i)}`,
    name,
    number: `JY1440106${String(12345 + i).padStart(7, '0')}`,
    issuer,
    validFrom: '2024-01-01',
    validUntil: i === 0 || i === 7 ? null : i === 3 || i === 8 ? '2025-06-30' : '2029-12-31',
    status: i === 3 || i === 8 ? 'expired' : i === 5 ? 'revoked' : 'valid',
  }));
}

export function authorization(n = 13) {
  return { authId: 'AUTH-20261128-0001', expiresAt: '2026-11-28T16:30:00+08:00', licenses: summaries(n) };
}

export function license(summary, over = {}) {
  return {
    ...summary,
    holderName: ENTERPRISE.name,
    issueDate: summary.validFrom,
    division: '440106',
    trustLevel: 'A',
    abolishReason: summary.status === 'revoked' ? '企业申请注销' : null,
    faceFields: [
      { name: '经营者名称', value: ENTERPRISE.name },
      { name: '统一社会信用代码', value: ENTERPRISE.uscc },
      { name: '法定代表人', value: '陈*' },
      { name: '住所', value: '广州市天河区天河路 100 号 5 楼' },
      { name: '经营项目', value: '热食类食品制售；冷食类食品制售；预包装食品销售' },
    ],
    ...over,
  };
}

export function fileInfo(summary, mime = 'application/pdf') {
  return { fileName: `${summary.licenseCode}.pdf`, mime, size: 1234, sha256: 'ab'.repeat(32) };
}

export function outcome(summary, kind = 'ok') {
  if (kind === 'failed') {
    return { summary, license: null, file: null, error: { code: 'GATEWAY_TIMEOUT', message: '电子证照系统 15 秒内未响应。', fact: '电子证照系统 15 秒内未响应。' } };
  }
  const lic = license(summary);
  return { summary, license: lic, file: summary.status === 'revoked' ? null : fileInfo(summary), error: null };
}

export function scanResult({ n = 13, failed = [], bizNum = 'YS-440106001-A03-20261128-0008', elapsedMs = 412 } = {}) {
  const auth = authorization(n);
  return {
    bizNum,
    enterprise: ENTERPRISE,
    authorization: auth,
    elapsedMs,
    licenses: auth.licenses.map((s) => outcome(s, failed.includes(s.position) ? 'failed' : 'ok')),
  };
}

export const SANDBOX_ENTERPRISES = [
  { uscc: '91440101MA5CXXXX1A', name: '广州市天河区星河餐饮管理有限公司', note: '13 张证照，含已过期与已注销', licenseCount: 13 },
  { uscc: '91440300MA5DYYYY2B', name: '深圳市南山区晨光科技有限公司', note: '证照获取超时（故障演示）', licenseCount: 3 },
];

/** A small but valid PDF, written by hand: `pages` pages, each with one line of Helvetica text; with `stamp`,
 *  also a grey diagonal watermark and a footer line holding it (what a stamped copy looks like, in ASCII). */
export function makePdf(pages = 2, stamp = null) {
  const objs = [];
  const kids = [];
  objs[1] = '<< /Type /Catalog /Pages 2 0 R >>';
  objs[3] = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>';
  for (let i = 0; i < pages; i++) {
    const pageObj = 4 + i * 2;
    const contentObj = pageObj + 1;
    kids.push(`${pageObj} 0 R`);
    let text = `BT /F1 36 Tf 72 700 Td (Test license page ${i + 1}) Tj ET 0 0 1 RG 8 w 60 60 475 720 re S`;
    if (stamp) {
      text += ` 0.75 g BT /F1 28 Tf 0.7071 0.7071 -0.7071 0.7071 140 260 Tm (COPY FOR THIS CASE ONLY) Tj ET`;
      text += ` 0.2 g 0 0 0 RG 1 w 60 48 m 535 48 l S BT /F1 9 Tf 64 36 Td (${stamp}) Tj ET`;
    }
    objs[pageObj] = `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents ${contentObj} 0 R >>`;
    objs[contentObj] = `<< /Length ${text.length} >>\nstream\n${text}\nendstream`;
  }
  objs[2] = `<< /Type /Pages /Kids [${kids.join(' ')}] /Count ${pages} >>`;
  let out = '%PDF-1.4\n';
  const offsets = [];
  for (let n = 1; n < objs.length; n++) {
    offsets[n] = out.length;
    out += `${n} 0 obj\n${objs[n]}\nendobj\n`;
  }
  const xref = out.length;
  out += `xref\n0 ${objs.length}\n0000000000 65535 f \n`;
  for (let n = 1; n < objs.length; n++) out += `${String(offsets[n]).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${objs.length} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1').toString('base64');
}

/** A real JPEG (or PNG), drawn by the browser itself: a licence-like card with a border and a line of text. */
export async function makeImage(page, mime = 'image/jpeg', w = 600, h = 400) {
  return page.evaluate(
    ([mime, w, h]) => {
      const c = document.createElement('canvas');
      c.width = w;
      c.height = h;
      const g = c.getContext('2d');
      g.fillStyle = '#fffdf5';
      g.fillRect(0, 0, w, h);
      g.strokeStyle = '#b22222';
      g.lineWidth = 12;
      g.strokeRect(10, 10, w - 20, h - 20);
      g.fillStyle = '#222';
      g.font = '32px sans-serif';
      g.fillText('License image', 60, 120);
      return c.toDataURL(mime).split(',')[1];
    },
    [mime, w, h],
  );
}
