// Browser tests of the supervisor view: who may open it, the day's numbers and charts, the paged event list, export, accounts and the audit chain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  sharedBrowser, calls, CLERK, closePage, openApp, PAYLOAD, rejectPending, resolvePending, scanWithGun, setResponse, shot,
  signedCounter, SUPERVISOR, waitForCall, waitForPending,
} from './support.mjs';

const env = sharedBrowser();

const TODAY = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
const dayBefore = (d) => new Date(Date.parse(`${d}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

function daySummary(date = TODAY, over = {}) {
  const byHour = Array.from({ length: 24 }, (_, hour) => {
    const busy = hour >= 9 && hour <= 17 && hour !== 12;
    const scans = busy ? [0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 9, 7, 0, 3, 8, 10, 6, 4][hour] : 0;
    const failures = hour === 10 ? 3 : hour === 15 ? 4 : hour === 14 ? 1 : hour === 16 ? 1 : 0;
    return { hour, events: scans * 6 + failures, scans, failures };
  });
  return {
    date,
    events: 331,
    customers: 47,
    scans: 53,
    scansOk: 48,
    successRate: 48 / 53,
    licensesFetched: 312,
    licensesFailed: 9,
    copiesPrinted: 64,
    recordsSubmitted: 45,
    medianScanMs: 1840,
    slowestScanMs: 15230,
    slowestBizNum: 'YS-440106001-A03-20261128-0031',
    failuresByReason: [
      { key: 'GATEWAY_TIMEOUT', label: '网关响应超时', count: 5 },
      { key: 'CODE_EXPIRED', label: '粤商码已过期', count: 3 },
      { key: 'LICENSE_NOT_AUTHORIZED', label: '办事人未授权查看此证照', count: 1 },
    ],
    byHour,
    byItem: [
      { key: 'SP-001', label: '食品经营许可（新办）', count: 24 },
      { key: 'GS-010', label: '企业登记信息变更', count: 17 },
      { key: 'SP-002', label: '食品经营许可（变更）', count: 12 },
    ],
    byClerk: [
      { key: 'wangxm', label: '王小明', count: 29 },
      { key: 'clerk01', label: '张晓燕', count: 21 },
      { key: 'lizh', label: '李志华', count: 3 },
    ],
    ...over,
  };
}

function emptyDay(date) {
  return daySummary(date, {
    events: 0, customers: 0, scans: 0, scansOk: 0, successRate: null, licensesFetched: 0, licensesFailed: 0, copiesPrinted: 0,
    recordsSubmitted: 0, medianScanMs: null, slowestScanMs: null, slowestBizNum: null, failuresByReason: [],
    byHour: Array.from({ length: 24 }, (_, hour) => ({ hour, events: 0, scans: 0, failures: 0 })), byItem: [], byClerk: [],
  });
}

const KINDS = [
  ['scan', '扫码', 'ok', '成功'], ['exchange', '换取授权', 'ok', '成功'], ['license_fetch', '取证', 'ok', '成功'],
  ['license_fetch', '取证', 'failed', '失败'], ['scan_done', '扫码完成', 'ok', '成功'], ['copy_print', '打印', 'ok', '成功'],
  ['submit', '上报', 'ok', '成功'], ['case_closed', '办结/下一位', 'info', '记录'],
];

function auditPage(offset, total, { tag = '', n = 100 } = {}) {
  const count = Math.max(0, Math.min(n, total - offset));
  const rows = Array.from({ length: count }, (_, i) => {
    const seq = 1000 + offset + i;
    const [kind, kindLabel, outcome, outcomeLabel] = KINDS[seq % KINDS.length];
    const failed = outcome === 'failed';
    const mm = String(Math.floor((offset + i) / 10) % 60).padStart(2, '0');
    return {
      seq,
      at: `${TODAY}T${String(9 + Math.floor((offset + i) / 60)).padStart(2, '0')}:${mm}:${String((i * 7) % 60).padStart(2, '0')}+08:00`,
      kind, kindLabel, outcome, outcomeLabel,
      errorCode: failed ? 'GATEWAY_TIMEOUT' : null,
      reason: failed ? '网关响应超时' : null,
      operator: i % 3 ? 'wangxm' : 'clerk01',
      itemCode: 'SP-001',
      bizNum: `YS-440106001-A03-${TODAY.replaceAll('-', '')}-${String(7 + Math.floor(i / 8)).padStart(4, '0')}`,
      uscc: '91440101MA5CXXXX1A',
      licenseCode: kind.startsWith('license') || kind === 'copy_print' ? `LC-44-${1000 + (i % 13)}` : null,
      detail: `${tag}${kind === 'copy_print' ? '打印机 HP-A03，1 份' : kind === 'scan_done' ? '13 张证照，用时 1.8 秒' : ''}`,
    };
  });
  return { total, offset, rows };
}

const ACCOUNTS = [
  { account: 'lizh', name: '李志华', role: 'supervisor', disabled: false, lockedUntil: null, lastSignInAt: `${TODAY}T08:31:00+08:00` },
  { account: 'wangxm', name: '王小明', role: 'clerk', disabled: false, lockedUntil: null, lastSignInAt: `${TODAY}T08:45:12+08:00` },
  { account: 'clerk01', name: '张晓燕', role: 'clerk', disabled: false, lockedUntil: '2099-01-01T10:35:00+08:00', lastSignInAt: null },
  { account: 'chenw', name: '陈伟', role: 'clerk', disabled: true, lockedUntil: null, lastSignInAt: '2026-10-02T17:02:00+08:00' },
];

const CHAIN_OK = {
  intact: true, events: 48213, head: 'a1b2c3d4'.repeat(8), firstSeq: 1, lastSignedAt: `${TODAY}T08:30:02+08:00`, checkpoints: 212, problem: null,
};

/** Signed in as the supervisor, with the view open on 今日概况. */
async function openView(responses = {}, { viewport } = {}) {
  const page = await openApp(env, {
    viewport,
    responses: { counter_info: { value: signedCounter(SUPERVISOR) }, day_summary: { value: daySummary() }, ...responses },
  });
  await page.keyboard.press('F10');
  await page.getByTestId('supervisor-view').waitFor();
  return page;
}

const waitRendered = (page, n) =>
  page.waitForFunction((n) => document.querySelectorAll('[data-testid="chart-canvas"][data-rendered="true"]').length >= n, n, { timeout: 10000 });

test('a clerk never reaches the supervisor view: no button, F10 does nothing, nothing of it in the DOM', async () => {
  const page = await openApp(env, { responses: { counter_info: { value: signedCounter(CLERK) }, day_summary: { value: daySummary() } } });
  try {
    assert.equal(await page.getByTestId('supervisor-open').count(), 0);
    await page.keyboard.press('F10');
    await page.waitForTimeout(100);
    assert.equal(await page.getByTestId('supervisor-view').count(), 0);
    assert.equal(await page.evaluate(() => document.body.innerHTML.includes('值班长视图')), false);
    for (const cmd of ['day_summary', 'audit_events', 'accounts_list', 'chain_status']) assert.deepEqual(await calls(page, cmd), []);
    // The counter still answers its own keys.
    await page.getByTestId('scan-prompt').waitFor();
  } finally {
    await closePage(page);
  }
});

test('a supervisor opens it (button or F10): the day in big numbers and four charts with their tables; Esc goes back to the counter', async () => {
  const page = await openApp(env, { responses: { counter_info: { value: signedCounter(SUPERVISOR) }, day_summary: { value: daySummary() } } });
  try {
    await page.getByTestId('supervisor-open').click();
    await page.getByTestId('supervisor-view').waitFor();
    assert.deepEqual((await waitForCall(page, 'day_summary'))[0], { date: TODAY });
    for (const id of ['scan-bar', 'workspace', 'action-bar']) assert.equal(await page.getByTestId(id).count(), 0, `${id} is replaced`);
    assert.match(await page.getByTestId('stat-customers').textContent(), /服务企业\s*47/);
    assert.match(await page.getByTestId('stat-licenses').textContent(), /取证\s*312.*失败 9 张/s);
    assert.match(await page.getByTestId('stat-success').textContent(), /成功率\s*90\.6%/);
    assert.match(await page.getByTestId('stat-scan-time').textContent(), /1\.8 秒.*15\.2 秒/s);
    assert.equal(await page.getByTestId('slowest-biz-num').textContent(), 'YS-440106001-A03-20261128-0031');
    await waitRendered(page, 4);
    const charts = await page.evaluate(() =>
      [...document.querySelectorAll('[data-testid="chart-card"]')].map((c) => ({
        id: c.dataset.chart,
        canvas: !!c.querySelector('canvas') && c.querySelector('canvas').width > 100,
        table: c.querySelector('table')?.innerText ?? '',
      })),
    );
    assert.deepEqual(charts.map((c) => c.id), ['hours', 'reasons', 'items', 'clerks']);
    assert.ok(charts.every((c) => c.canvas), 'every chart drew on a canvas');
    assert.match(charts[0].table, /10:00–11:00\s+57\s+9\s+3/);
    assert.match(charts[1].table, /网关响应超时\s+5/);
    assert.match(charts[2].table, /食品经营许可（新办）\s+24/);
    assert.match(charts[3].table, /王小明\s+29/);
    // Canvas is hidden from screen readers; the tables carry the numbers.
    assert.equal(await page.locator('[data-testid="chart-canvas"]').first().getAttribute('aria-hidden'), 'true');
    // The canvas tooltip works under the CSP (hover a bar).
    const box = await page.locator('[data-chart="hours"] [data-testid="chart-canvas"]').boundingBox();
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.6);
    await page.waitForTimeout(100);
    await shot(page, '27-supervisor-summary');
    assert.deepEqual(await page.evaluate(() => window.__h.cspViolations), []);
    assert.deepEqual(page.errors, []);
    // The counter's keys wait; a scan does nothing here and says so.
    await page.keyboard.press('F8');
    await scanWithGun(page, PAYLOAD);
    await page.getByTestId('sup-scan-held').waitFor();
    assert.deepEqual(await calls(page, 'scan'), []);
    assert.deepEqual(await calls(page, 'next_customer'), []);
    await page.keyboard.press('Escape');
    await page.getByTestId('supervisor-view').waitFor({ state: 'detached' });
    await page.getByTestId('scan-prompt').waitFor();
    assert.equal(await page.evaluate(() => document.querySelectorAll('canvas').length), 0, 'charts disposed');
    await page.keyboard.press('F10');
    await page.getByTestId('supervisor-view').waitFor();
    await page.keyboard.press('F10');
    await page.getByTestId('supervisor-view').waitFor({ state: 'detached' });
  } finally {
    await closePage(page);
  }
});

test('another day: ‹ 前一天 asks for it; an empty day says 这一天没有记录 with no charts; 后一天 stops at today', async () => {
  const page = await openView();
  try {
    await waitRendered(page, 4);
    assert.equal(await page.getByTestId('sup-date-next').isDisabled(), true);
    const yesterday = dayBefore(TODAY);
    await setResponse(page, 'day_summary', { value: emptyDay(yesterday) });
    await page.getByTestId('sup-date-prev').click();
    await page.getByTestId('summary-empty').waitFor();
    assert.deepEqual((await calls(page, 'day_summary')).at(-1), { date: yesterday });
    assert.equal(await page.getByTestId('sup-date').inputValue(), yesterday);
    assert.match(await page.getByTestId('summary-empty').textContent(), /这一天没有记录/);
    await shot(page, '27c-summary-empty');
    assert.equal(await page.locator('canvas').count(), 0);
    assert.equal(await page.getByTestId('chart-card').count(), 0);
    assert.equal(await page.getByTestId('sup-date-next').isDisabled(), false);
    await setResponse(page, 'day_summary', { value: daySummary() });
    await page.getByTestId('sup-date-next').click();
    await waitRendered(page, 4);
    assert.deepEqual((await calls(page, 'day_summary')).at(-1), { date: TODAY });
    assert.deepEqual(page.errors, []);
  } finally {
    await closePage(page);
  }
});

test('a day with no failures: the reasons card says so instead of an empty chart', async () => {
  const page = await openView({ day_summary: { value: daySummary(TODAY, { failuresByReason: [], licensesFailed: 0 }) } });
  try {
    await waitRendered(page, 3);
    const card = page.locator('[data-chart="reasons"]');
    assert.match(await card.textContent(), /这一天没有失败/);
    assert.equal(await card.locator('canvas').count(), 0);
  } finally {
    await closePage(page);
  }
});

test('事件明细: page 1 then 下一页 asks offset 100; a filter goes back to offset 0 with the filter; the range reads 第 x–y 条，共 N 条', async () => {
  const page = await openView({ audit_events: { pending: true } });
  try {
    await page.getByTestId('sup-tab-events').click();
    await waitForPending(page, 'audit_events');
    assert.deepEqual((await calls(page, 'audit_events'))[0], {
      date: TODAY, filter: { clerk: null, item: null, outcome: null, kind: null, bizNum: null, uscc: null }, offset: 0, limit: 100,
    });
    await resolvePending(page, 'audit_events', auditPage(0, 250));
    await page.locator('[data-testid="event-row"]').nth(99).waitFor();
    assert.equal((await page.getByTestId('events-range').textContent()).trim(), '第 1–100 条，共 250 条');
    assert.equal(await page.getByTestId('events-prev').isDisabled(), true);
    const head = await page.locator('[data-testid="events-table"] thead').innerText();
    for (const col of ['序号', '时间', '事件', '结果', '原因', '操作员', '事项', '办件号', 'USCC', '证照', '说明']) assert.match(head, new RegExp(col));
    await shot(page, '28-event-list');
    await page.getByTestId('events-next').click();
    await waitForPending(page, 'audit_events');
    assert.equal((await calls(page, 'audit_events')).at(-1).offset, 100);
    await resolvePending(page, 'audit_events', auditPage(100, 250));
    await page.waitForFunction(() => document.querySelector('[data-testid="event-row"]')?.dataset.seq === '1100');
    assert.equal((await page.getByTestId('events-range').textContent()).trim(), '第 101–200 条，共 250 条');
    // A filter: back to the first page, with it.
    await page.getByTestId('filter-outcome').selectOption('failed');
    await waitForPending(page, 'audit_events');
    let last = (await calls(page, 'audit_events')).at(-1);
    assert.equal(last.offset, 0);
    assert.equal(last.filter.outcome, 'failed');
    await resolvePending(page, 'audit_events', auditPage(0, 12, { n: 12 }));
    await page.waitForFunction(() => document.querySelector('[data-testid="events-range"]').textContent.includes('共 12 条'));
    // Clerk and item come from the day's summary; text filters apply on Enter.
    const clerks = await page.getByTestId('filter-clerk').locator('option').allTextContents();
    assert.deepEqual(clerks, ['全部', '王小明', '张晓燕', '李志华']);
    await page.getByTestId('filter-clerk').selectOption('clerk01');
    await waitForPending(page, 'audit_events');
    await resolvePending(page, 'audit_events', auditPage(0, 3, { n: 3 }));
    await page.getByTestId('filter-biz-num').fill('YS-440106001-A03-20261128-0009');
    await page.getByTestId('filter-biz-num').press('Enter');
    await waitForPending(page, 'audit_events');
    last = (await calls(page, 'audit_events')).at(-1);
    assert.deepEqual(last.filter, { clerk: 'clerk01', item: null, outcome: 'failed', kind: null, bizNum: 'YS-440106001-A03-20261128-0009', uscc: null });
    assert.equal(last.offset, 0);
    await resolvePending(page, 'audit_events', { total: 0, offset: 0, rows: [] });
    await page.getByTestId('events-empty').waitFor();
    assert.match(await page.getByTestId('events-empty').textContent(), /没有符合筛选条件的记录/);
    await page.getByTestId('filter-kind').selectOption('copy_print');
    await waitForPending(page, 'audit_events');
    assert.equal((await calls(page, 'audit_events')).at(-1).filter.kind, 'copy_print');
    const kinds = await page.getByTestId('filter-kind').locator('option').allTextContents();
    assert.equal(kinds.length, 26, 'all, and every kind the core writes');
    assert.deepEqual(kinds.slice(0, 4), ['全部', '扫码无效', '扫码', '换取授权']);
    assert.deepEqual(page.errors, []);
  } finally {
    await closePage(page);
  }
});

test('事件明细: an older page answering after a newer request is ignored', async () => {
  const page = await openView({ audit_events: { value: auditPage(0, 250) } });
  try {
    await page.getByTestId('sup-tab-events').click();
    await page.locator('[data-testid="event-row"]').nth(99).waitFor();
    await setResponse(page, 'audit_events', { pending: true });
    await page.getByTestId('events-next').click(); // A: offset 100
    await waitForPending(page, 'audit_events');
    await page.getByTestId('filter-outcome').selectOption('ok'); // B: offset 0, filtered
    await page.waitForFunction(() => window.__h.pending.filter((p) => p.cmd === 'audit_events').length === 2);
    const [a, b] = await page.evaluate(() => window.__h.pending.filter((p) => p.cmd === 'audit_events').map((p) => p.args));
    assert.equal(a.offset, 100);
    assert.equal(b.offset, 0);
    // B answers first, then A (stale).
    await page.evaluate((v) => window.__h.pending.find((p) => p.cmd === 'audit_events' && p.args.offset === 0).resolve(v), auditPage(0, 5, { n: 5, tag: 'NEW ' }));
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="event-row"]').length === 5);
    await resolvePending(page, 'audit_events', auditPage(100, 250, { tag: 'STALE ' }));
    await page.waitForTimeout(100);
    assert.equal(await page.getByTestId('event-row').count(), 5);
    assert.equal((await page.getByTestId('events-range').textContent()).trim(), '第 1–5 条，共 5 条');
    const text = await page.getByTestId('events-table').innerText();
    assert.ok(!text.includes('STALE'), 'the stale page is not shown');
  } finally {
    await closePage(page);
  }
});

test('导出: 两种都要 asks for a folder, shows progress from "export-progress", then the files and 已签名校验', async () => {
  const files = [
    `/media/usb/audit-440106001-A03-${TODAY.replaceAll('-', '')}.csv`,
    `/media/usb/audit-440106001-A03-${TODAY.replaceAll('-', '')}.xlsx`,
    `/media/usb/audit-440106001-A03-${TODAY.replaceAll('-', '')}.checkpoint`,
    `/media/usb/audit-440106001-A03-${TODAY.replaceAll('-', '')}.checkpoint.sig`,
    `/media/usb/audit-440106001-A03-${TODAY.replaceAll('-', '')}.pub.pem`,
  ];
  const page = await openView({ 'plugin:dialog|open': { value: '/media/usb' }, export_audit: { pending: true } });
  try {
    await page.getByTestId('sup-tab-export').click();
    await page.getByTestId('export-both').click();
    await waitForPending(page, 'export_audit');
    assert.deepEqual(await calls(page, 'export_audit'), [{ date: TODAY, format: 'both', dir: '/media/usb' }]);
    await page.getByTestId('export-running').waitFor();
    await page.evaluate(() => window.__h.emitEvent('export-progress', { done: 120, total: 331 }));
    await page.waitForFunction(() => document.querySelector('[data-testid="export-progress"]')?.dataset.done === '120');
    assert.equal(await page.getByTestId('export-progress').getAttribute('max'), '331');
    assert.match(await page.getByTestId('export-running').textContent(), /已写入 120 \/ 331 条（36%）/);
    assert.equal(await page.getByTestId('export-both').isDisabled(), true);
    await shot(page, '29-export-progress');
    await resolvePending(page, 'export_audit', { events: 331, firstSeq: 47883, lastSeq: 48213, head: 'a1b2c3d4'.repeat(8), files });
    const result = page.getByTestId('export-result');
    await result.waitFor();
    assert.match(await result.textContent(), /已导出 331 条事件/);
    assert.match(await page.getByTestId('export-signed').textContent(), /已签名校验/);
    assert.deepEqual(await page.getByTestId('export-file').allTextContents(), files);
    await shot(page, '30-export-result');
    // A closed folder picker exports nothing; a failure is said in Chinese.
    await setResponse(page, 'plugin:dialog|open', { value: null });
    await page.getByTestId('export-csv').click();
    await page.getByTestId('export-no-folder').waitFor();
    await setResponse(page, 'plugin:dialog|open', { value: '/media/usb' });
    await setResponse(page, 'export_audit', { error: { code: 'SAVE_FAILED', message: '无法写入 /media/usb：只读文件系统。', fact: '无法写入 /media/usb：只读文件系统。' } });
    await page.getByTestId('export-xlsx').click();
    const err = page.getByTestId('export-error');
    await err.waitFor();
    assert.equal(await err.getAttribute('data-code'), 'SAVE_FAILED');
    assert.match(await err.textContent(), /无法保存到所选文件夹.*只读文件系统/s);
    assert.equal((await calls(page, 'export_audit')).at(-1).format, 'xlsx');
  } finally {
    await closePage(page);
  }
});

test('导出 with a folder IT configured ([audit] export_dir): no folder picker, the files go there', async () => {
  const page = await openView({
    counter_info: { value: signedCounter(SUPERVISOR, { audit: { exportDir: 'D:\\审计导出' } }) },
    export_audit: { value: { events: 2, firstSeq: 1, lastSeq: 2, head: 'ab'.repeat(32), files: ['D:\\审计导出\\a.csv'] } },
  });
  try {
    await page.getByTestId('sup-tab-export').click();
    assert.match(await page.getByTestId('export-dir').textContent(), /IT 设定的文件夹：D:\\审计导出/);
    await page.getByTestId('export-csv').click();
    await page.getByTestId('export-result').waitFor();
    assert.deepEqual(await calls(page, 'export_audit'), [{ date: TODAY, format: 'csv', dir: 'D:\\审计导出' }]);
    assert.deepEqual(await calls(page, 'plugin:dialog|open'), []);
  } finally {
    await closePage(page);
  }
});

test('账号: the list with 启用 / 停用 / 锁定至 HH:MM; the own row cannot be disabled; 停用 and 启用 send the right args', async () => {
  const page = await openView({
    accounts_list: { value: ACCOUNTS },
    account_set_disabled: { value: { ...ACCOUNTS[1], disabled: true } },
  });
  try {
    await page.getByTestId('sup-tab-accounts').click();
    await page.locator('[data-testid="account-row"]').nth(3).waitFor();
    const status = await page.getByTestId('account-status').allTextContents();
    assert.deepEqual(status.map((s) => s.trim()), ['启用', '启用', '锁定至 10:35', '停用']);
    const own = page.locator('[data-testid="account-row"][data-account="lizh"] [data-testid="account-toggle"]');
    assert.equal(await own.isDisabled(), true);
    assert.match(await own.getAttribute('title'), /不能停用自己/);
    assert.match(await page.locator('[data-testid="account-row"][data-account="clerk01"]').textContent(), /从未登录/);
    await shot(page, '31-accounts');
    await page.locator('[data-testid="account-row"][data-account="wangxm"] [data-testid="account-toggle"]').click();
    await page.getByTestId('accounts-notice').waitFor();
    assert.deepEqual(await calls(page, 'account_set_disabled'), [{ account: 'wangxm', disabled: true }]);
    assert.equal(await page.locator('[data-testid="account-row"][data-account="wangxm"]').getAttribute('data-status'), 'disabled');
    await setResponse(page, 'account_set_disabled', { value: { ...ACCOUNTS[3], disabled: false } });
    await page.locator('[data-testid="account-row"][data-account="chenw"] [data-testid="account-toggle"]').click();
    await page.waitForFunction(() => document.querySelector('[data-account="chenw"]')?.dataset.status === 'active');
    assert.deepEqual((await calls(page, 'account_set_disabled')).at(-1), { account: 'chenw', disabled: false });
    // The shell's refusal is shown, in Chinese.
    await setResponse(page, 'account_set_disabled', { error: { code: 'NOT_PERMITTED', message: '只有值班长可以做这件事。' } });
    await page.locator('[data-testid="account-row"][data-account="clerk01"] [data-testid="account-toggle"]').click();
    await page.locator('[data-testid="accounts-error"][data-code="NOT_PERMITTED"]').waitFor();
  } finally {
    await closePage(page);
  }
});

test('账号: 新增账号 checks the passwords before sending, sends the right args and leaves no password in the page', async () => {
  const added = { account: 'liuf', name: '刘芳', role: 'clerk', disabled: false, lockedUntil: null, lastSignInAt: null };
  const page = await openView({ accounts_list: { value: ACCOUNTS }, account_add: { value: added } });
  try {
    await page.getByTestId('sup-tab-accounts').click();
    await page.getByTestId('account-add').click();
    await page.getByTestId('account-add-dialog').waitFor();
    await page.waitForFunction(() => document.activeElement?.dataset.testid === 'account-new-id');
    await page.keyboard.type('liuf', { delay: 40 });
    await page.keyboard.press('Tab');
    await page.keyboard.insertText('刘芳');
    await page.getByTestId('account-new-password').fill('short7!');
    await page.getByTestId('account-new-password2').fill('short7!');
    await page.getByTestId('account-new-password2').press('Enter');
    assert.match(await page.getByTestId('account-form-problem').textContent(), /密码至少 8 位/);
    await page.getByTestId('account-new-password').fill('Counter#2026');
    await page.getByTestId('account-new-password2').fill('Counter#2025');
    await page.getByTestId('account-add-submit').click();
    assert.match(await page.getByTestId('account-form-problem').textContent(), /两次输入的密码不一致/);
    await shot(page, '31b-account-add');
    assert.deepEqual(await calls(page, 'account_add'), []);
    // The shell's own refusal stays in the dialog.
    await setResponse(page, 'account_add', { error: { code: 'ACCOUNT_EXISTS', message: '账号 liuf 已存在。', fact: '账号 liuf 已存在。' } });
    await page.getByTestId('account-new-password2').fill('Counter#2026');
    await page.getByTestId('account-add-submit').click();
    await page.locator('[data-testid="account-form-error"][data-code="ACCOUNT_EXISTS"]').waitFor();
    await setResponse(page, 'account_add', { value: added });
    await page.locator('[data-testid="account-new-role"][value="clerk"]').check();
    await page.getByTestId('account-add-submit').click();
    await page.getByTestId('account-add-dialog').waitFor({ state: 'detached' });
    assert.deepEqual((await calls(page, 'account_add')).at(-1), { account: 'liuf', name: '刘芳', role: 'clerk', password: 'Counter#2026' });
    await page.locator('[data-testid="account-row"][data-account="liuf"]').waitFor();
    const html = await page.evaluate(() => document.documentElement.outerHTML);
    assert.ok(!html.includes('Counter#2026') && !html.includes('Counter#2025'), 'no password in the page');
    assert.equal(await page.locator('input[type="password"]').count(), 0);
  } finally {
    await closePage(page);
  }
});

test('账号: 重置密码 needs the new password twice, sends it once and reloads the list (a locked account is unlocked)', async () => {
  const page = await openView({ accounts_list: { value: ACCOUNTS }, account_reset_password: { pending: true } });
  try {
    await page.getByTestId('sup-tab-accounts').click();
    const row = page.locator('[data-testid="account-row"][data-account="clerk01"]');
    await row.getByTestId('account-reset').click();
    const dlg = page.getByTestId('reset-dialog');
    await dlg.waitFor();
    assert.match(await dlg.textContent(), /张晓燕（clerk01）/);
    await page.waitForFunction(() => document.activeElement?.dataset.testid === 'reset-password');
    await page.keyboard.type('NewPass-2026', { delay: 30 });
    await page.keyboard.press('Tab');
    await page.keyboard.type('NewPass-2062', { delay: 30 });
    await page.keyboard.press('Enter');
    assert.match(await page.getByTestId('reset-problem').textContent(), /不一致/);
    await page.getByTestId('reset-password2').fill('NewPass-2026');
    const lists = (await calls(page, 'accounts_list')).length;
    await setResponse(page, 'accounts_list', { value: ACCOUNTS.map((a) => (a.account === 'clerk01' ? { ...a, lockedUntil: null } : a)) });
    await page.keyboard.press('Enter');
    await waitForPending(page, 'account_reset_password');
    assert.deepEqual(await calls(page, 'account_reset_password'), [{ account: 'clerk01', password: 'NewPass-2026' }]);
    await resolvePending(page, 'account_reset_password', null);
    await dlg.waitFor({ state: 'detached' });
    await waitForCall(page, 'accounts_list', lists + 1);
    await page.waitForFunction(() => document.querySelector('[data-account="clerk01"]')?.dataset.status === 'active');
    assert.match(await page.getByTestId('accounts-notice').textContent(), /已重置账号 clerk01 的密码/);
    // Focus back where it was: the row's 重置密码 button.
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'account-reset');
    assert.ok(!(await page.evaluate(() => document.documentElement.outerHTML)).includes('NewPass-20'));
  } finally {
    await closePage(page);
  }
});

test('审计链: intact reads 审计链完整，共 N 条，最新签名于 …; 重新校验 asks again; a broken chain is a red banner naming the record', async () => {
  const page = await openView({ chain_status: { value: CHAIN_OK } });
  try {
    await page.getByTestId('sup-tab-chain').click();
    const st = page.locator('[data-testid="chain-status"][data-intact="true"]');
    await st.waitFor();
    assert.match(await st.textContent(), new RegExp(`审计链完整，共 48213 条，最新签名于 ${TODAY} 08:30`));
    await setResponse(page, 'chain_status', {
      value: {
        ...CHAIN_OK, intact: false, firstSeq: 1201,
        problem: { seq: 30417, message: '第 30417 条的哈希与上一条不衔接：记录被改动、删除或插入。' },
      },
    });
    await page.getByTestId('chain-recheck').click();
    const bad = page.locator('[data-testid="chain-status"][data-intact="false"]');
    await bad.waitFor();
    assert.equal((await calls(page, 'chain_status')).length, 2);
    assert.match(await page.getByTestId('chain-problem').textContent(), /审计链校验未通过：第 30417 条/);
    assert.match(await bad.textContent(), /哈希与上一条不衔接/);
    assert.match(await page.getByTestId('chain-panel').textContent(), /更早的记录已按保存期限清理/);
    const bg = await bad.evaluate((el) => getComputedStyle(el).backgroundColor);
    assert.equal(bg, 'rgb(253, 228, 228)');
    await shot(page, '32-chain-tampered');
  } finally {
    await closePage(page);
  }
});

test('SIGN_IN_REQUIRED from a supervisor command drops to the sign-in screen and forgets the view', async () => {
  const page = await openView({ chain_status: { pending: true } });
  try {
    await page.getByTestId('sup-tab-chain').click();
    await waitForPending(page, 'chain_status');
    await rejectPending(page, 'chain_status', { code: 'SIGN_IN_REQUIRED', message: '需要登录。' });
    await page.getByTestId('sign-in-expired').waitFor();
    assert.equal(await page.getByTestId('supervisor-view').count(), 0);
    // The next person (a clerk) sees the counter, not the last one's view.
    await setResponse(page, 'sign_in', { value: CLERK });
    await page.getByTestId('sign-in-account').fill('wangxm');
    await page.getByTestId('sign-in-password').fill('password-1');
    await page.keyboard.press('Enter');
    await page.getByTestId('scan-prompt').waitFor();
    assert.equal(await page.getByTestId('supervisor-view').count(), 0);
    await page.keyboard.press('F10');
    await page.waitForTimeout(50);
    assert.equal(await page.getByTestId('supervisor-view').count(), 0);
  } finally {
    await closePage(page);
  }
});

test('1920×1080: the day with charts has room to breathe', async () => {
  const page = await openView({}, { viewport: { width: 1920, height: 1080 } });
  try {
    await waitRendered(page, 4);
    await shot(page, '27b-supervisor-summary-1920');
    assert.deepEqual(page.errors, []);
  } finally {
    await closePage(page);
  }
});
