// Browser tests of the supervisor view's 全厅 scope ([hall_service]): the 本窗口 / 全厅 switch, the hall's day with 各窗口, its alarms, events by 窗口, export and the hall's errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  sharedBrowser, calls, closePage, openApp, rejectPending, resolvePending, setResponse, shot, signedCounter, SUPERVISOR, waitForCall,
  waitForPending,
} from './support.mjs';

const env = sharedBrowser();

const TODAY = new Date(Date.now() + 8 * 3600_000).toISOString().slice(0, 10);
const HALL_SERVICE = { url: 'https://hall.tianhe.gov.cn:8443' };

/** The counter's own day (day_summary), as in supervisor.test.mjs but smaller. */
function daySummary(date = TODAY, over = {}) {
  const byHour = Array.from({ length: 24 }, (_, hour) => {
    const scans = [0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 9, 7, 0, 3, 8, 10, 6, 4][hour] ?? 0;
    const failures = hour === 10 ? 3 : hour === 15 ? 4 : 0;
    return { hour, events: scans * 6 + failures, scans, failures };
  });
  return {
    date, events: 331, customers: 47, scans: 53, scansOk: 48, successRate: 48 / 53, licensesFetched: 312, licensesFailed: 9,
    copiesPrinted: 64, recordsSubmitted: 45, medianScanMs: 1840, slowestScanMs: 15230, slowestBizNum: 'YS-440106001-A03-20261128-0031',
    failuresByReason: [{ key: 'GATEWAY_TIMEOUT', label: '网关响应超时', count: 5 }, { key: 'CODE_EXPIRED', label: '粤商码已过期', count: 3 }],
    byHour,
    byItem: [{ key: 'SP-001', label: '食品经营许可（新办）', count: 24 }, { key: 'GS-010', label: '企业登记信息变更', count: 17 }],
    byClerk: [{ key: 'wangxm', label: '王小明', count: 29 }, { key: 'clerk01', label: '张晓燕', count: 21 }],
    ...over,
  };
}

const COUNTERS = [
  { hall: '440106001', counter: 'A03', events: 331, ackedSeq: 48213, lastAt: `${TODAY}T16:42:10+08:00`, gaps: 0 },
  { hall: '440106001', counter: 'A01', events: 412, ackedSeq: 50877, lastAt: `${TODAY}T16:55:02+08:00`, gaps: 0 },
  { hall: '440106001', counter: 'B07', events: 268, ackedSeq: 30417, lastAt: `${TODAY}T15:03:44+08:00`, gaps: 2 },
  { hall: '440106001', counter: 'B12', events: 0, ackedSeq: 9120, lastAt: null, gaps: 0 },
];

const FORK = {
  hall: '440106001', counter: 'B07', seq: 30418, kind: 'fork', at: `${TODAY}T15:04:01+08:00`,
  message: '第 30418 条的哈希与大厅已存的同号记录不同：该窗口的审计记录可能被改写。',
};

/** The hall's day (hall_day_summary): DaySummary summed over the counters, plus each counter and the alarms. */
function hallSummary(date = TODAY, over = {}) {
  const day = daySummary(date);
  return {
    ...day,
    events: 1011, customers: 139, scans: 160, scansOk: 149, successRate: 149 / 160, licensesFetched: 934, licensesFailed: 21,
    copiesPrinted: 201, recordsSubmitted: 133, medianScanMs: 1720, slowestScanMs: 18400, slowestBizNum: 'YS-440106001-B07-20261128-0012',
    byClerk: [...day.byClerk, { key: 'zhoul', label: '周磊', count: 40 }, { key: 'huangq', label: '黄琪', count: 33 }],
    counters: COUNTERS,
    alarms: [],
    ...over,
  };
}

const KINDS = [['scan', '扫码', 'ok', '成功'], ['license_fetch', '取证', 'failed', '失败'], ['copy_print', '打印', 'ok', '成功']];

/** A page of hall_events: rows of several counters, each with `counter`; the same seq may come from two counters. */
function hallPage(offset, total, { counter = null, n = 100 } = {}) {
  const count = Math.max(0, Math.min(n, total - offset));
  const names = counter ? [counter] : ['A01', 'A03', 'B07'];
  const rows = Array.from({ length: count }, (_, i) => {
    const [kind, kindLabel, outcome, outcomeLabel] = KINDS[i % KINDS.length];
    const c = names[i % names.length];
    return {
      seq: 30000 + offset + Math.floor(i / names.length),
      at: `${TODAY}T${String(9 + Math.floor(i / 20)).padStart(2, '0')}:${String((i * 3) % 60).padStart(2, '0')}:07+08:00`,
      kind, kindLabel, outcome, outcomeLabel,
      errorCode: outcome === 'failed' ? 'GATEWAY_TIMEOUT' : null,
      reason: outcome === 'failed' ? '网关响应超时' : null,
      operator: i % 2 ? 'wangxm' : 'zhoul',
      itemCode: 'SP-001',
      bizNum: `YS-440106001-${c}-${TODAY.replaceAll('-', '')}-${String(1 + Math.floor(i / 6)).padStart(4, '0')}`,
      uscc: '91440101MA5CXXXX1A',
      licenseCode: kind === 'scan' ? null : `LC-44-${1000 + (i % 13)}`,
      detail: kind === 'copy_print' ? '打印机 HP-A03，1 份' : '',
      counter: c,
    };
  });
  return { total, offset, rows };
}

const hallCounter = (over = {}) => signedCounter(SUPERVISOR, { hallService: HALL_SERVICE, ...over });

/** Signed in as the supervisor with a hall service, the view open on 今日概况 (本窗口). */
async function openView(responses = {}, { storage } = {}) {
  const page = await openApp(env, {
    storage,
    responses: {
      counter_info: { value: hallCounter() }, day_summary: { value: daySummary() }, hall_day_summary: { value: hallSummary() }, ...responses,
    },
  });
  await page.keyboard.press('F10');
  await page.getByTestId('supervisor-view').waitFor();
  return page;
}

const waitRendered = (page, n) =>
  page.waitForFunction((n) => document.querySelectorAll('[data-testid="chart-canvas"][data-rendered="true"]').length >= n, n, { timeout: 10000 });

const tabs = (page) => page.locator('[role="tab"]').evaluateAll((els) => els.map((e) => e.dataset.tab));
const pressed = (page, scope) => page.getByTestId(`sup-scope-${scope}`).getAttribute('aria-pressed');

test('without a hall service there is no scope switch and the view is 本窗口 as before', async () => {
  for (const hallService of [undefined, null]) {
    const info = signedCounter(SUPERVISOR, hallService === null ? { hallService: null } : {});
    const page = await openApp(env, { responses: { counter_info: { value: info }, day_summary: { value: daySummary() } } });
    try {
      await page.keyboard.press('F10');
      await page.getByTestId('supervisor-view').waitFor();
      await waitRendered(page, 4);
      assert.equal(await page.getByTestId('sup-scope').count(), 0);
      assert.equal(await page.getByText('全厅').count(), 0);
      assert.deepEqual(await tabs(page), ['summary', 'events', 'export', 'accounts', 'chain']);
      assert.equal(await page.getByTestId('hall-counters').count(), 0);
      assert.deepEqual(await calls(page, 'day_summary'), [{ date: TODAY }]);
      assert.deepEqual(await calls(page, 'hall_day_summary'), []);
      assert.deepEqual(page.errors, []);
    } finally {
      await closePage(page);
    }
  }
});

test('全厅: the switch asks hall_day_summary for the day and shows the hall\'s numbers, charts and 各窗口; 本窗口 asks day_summary again', async () => {
  const page = await openView();
  try {
    await waitRendered(page, 4);
    assert.equal(await pressed(page, 'counter'), 'true');
    assert.equal(await pressed(page, 'hall'), 'false');
    assert.equal(await page.getByTestId('sup-scope').getAttribute('role'), 'group');
    await page.getByTestId('sup-scope-hall').click();
    await page.getByTestId('hall-counters').waitFor();
    assert.deepEqual(await calls(page, 'hall_day_summary'), [{ date: TODAY }]);
    assert.equal(await pressed(page, 'hall'), 'true');
    assert.equal(await page.getByTestId('supervisor-view').getAttribute('data-scope'), 'hall');
    // Accounts and the chain are this counter's alone.
    assert.deepEqual(await tabs(page), ['summary', 'events', 'export']);
    assert.match(await page.getByTestId('hall-counters').textContent(), /账号和审计链只属于本窗口/);
    // The same numbers and charts, of the hall.
    assert.match(await page.getByTestId('stat-customers').textContent(), /服务企业\s*139/);
    assert.equal(await page.getByTestId('slowest-biz-num').textContent(), 'YS-440106001-B07-20261128-0012');
    await waitRendered(page, 4);
    assert.match(await page.locator('[data-chart="clerks"] table').innerText(), /周磊\s+40/);
    // 各窗口: ordered, with events, confirmed seq, last record HH:MM and gaps; a table with a caption in a focusable region.
    const table = page.getByTestId('hall-counters-table');
    assert.equal(await table.locator('caption').textContent(), `${TODAY} 全厅各窗口送达大厅的记录`);
    assert.deepEqual(await page.locator('[data-testid="hall-counters"] [role="region"]').evaluate((e) => [e.tabIndex, !!e.getAttribute('aria-label')]), [0, true]);
    const head = await table.locator('thead').innerText();
    for (const col of ['窗口', '事件数', '已确认序号', '最近记录', '缺口']) assert.match(head, new RegExp(col));
    const rows = await page.getByTestId('hall-counter-row').evaluateAll((trs) => trs.map((tr) => tr.innerText.replace(/\s+/g, ' ').trim()));
    assert.deepEqual(rows, ['A01 412 50877 16:55 0', 'A03本窗口 331 48213 16:42 0', 'B07 268 30417 15:03 2', 'B12 0 9120 — 0']);
    assert.ok(await page.locator('[data-counter="B07"] .hall-gaps').count(), 'gaps in red');
    assert.equal(await page.getByTestId('hall-alarms').count(), 0, 'no alarms, no alarm block');
    await shot(page, 'hall-01-summary');
    // Back to 本窗口: the counter's own day again, all five tabs.
    await page.getByTestId('sup-scope-counter').click();
    await waitForCall(page, 'day_summary', 2);
    await page.waitForFunction(() => /服务企业\s*47/.test(document.querySelector('[data-testid="stat-customers"]')?.textContent ?? ''));
    assert.equal(await page.getByTestId('hall-counters').count(), 0);
    assert.deepEqual(await tabs(page), ['summary', 'events', 'export', 'accounts', 'chain']);
    assert.deepEqual(page.errors, []);
  } finally {
    await closePage(page);
  }
});

test('全厅 in 大字模式 at 1366×768: the switch, the numbers and 各窗口 readable', async () => {
  const page = await openView({}, { storage: { 'yueshang.largeType': '1' } });
  try {
    assert.equal(await page.evaluate(() => document.documentElement.classList.contains('large-type')), true);
    await page.getByTestId('sup-scope-hall').click();
    await page.getByTestId('hall-counters').waitFor();
    await waitRendered(page, 4);
    await shot(page, 'hall-01b-summary-large');
    assert.deepEqual(page.errors, []);
  } finally {
    await closePage(page);
  }
});

test('a fork alarm: a red block above the 全厅 view names the counter, the record and what to do, and stays on every 全厅 tab', async () => {
  const gap = { hall: '440106001', counter: 'B12', seq: 9121, kind: 'gap', at: `${TODAY}T14:20:00+08:00`, message: '大厅未收到第 9121–9140 条。' };
  const page = await openView({ hall_day_summary: { value: hallSummary(TODAY, { alarms: [gap, FORK] }) }, hall_events: { value: hallPage(0, 3, { n: 3 }) } });
  try {
    await page.getByTestId('sup-scope-hall').click();
    const block = page.getByTestId('hall-alarms');
    await block.waitFor();
    assert.equal(await block.getAttribute('role'), 'alert');
    assert.match(await block.locator('h2').textContent(), /大厅告警：2 项/);
    const items = await page.getByTestId('hall-alarm').evaluateAll((lis) => lis.map((li) => [li.dataset.kind, li.dataset.counter, li.dataset.seq, li.innerText]));
    // The fork first, whatever the order they came in.
    assert.deepEqual(items.map((i) => i.slice(0, 3)), [['fork', 'B07', '30418'], ['gap', 'B12', '9121']]);
    assert.match(items[0][3], /窗口 B07 审计链分叉：第 30418 条与大厅已存记录不一致/);
    assert.match(items[0][3], /大厅记录于 15:04/);
    assert.match(items[0][3], /该窗口的审计记录可能被改写/);
    assert.match(items[1][3], /窗口 B12 记录缺口：大厅缺少第 9121 条起的记录/);
    assert.match(await page.getByTestId('hall-alarm-advice').textContent(), /请勿继续在该窗口导出；请联系信息科核查该电脑。/);
    assert.equal(await block.evaluate((el) => getComputedStyle(el).backgroundColor), 'rgb(253, 228, 228)');
    // The counters with an alarm are marked in 各窗口.
    assert.equal(await page.locator('[data-testid="hall-counter-row"][data-alarm="true"]').count(), 2);
    await waitRendered(page, 4);
    await shot(page, 'hall-02-fork-alarm');
    await page.getByTestId('sup-tab-events').click();
    await page.getByTestId('event-row').first().waitFor();
    assert.equal(await block.isVisible(), true, 'still there on 事件明细');
    // 本窗口 has no hall alarms.
    await page.getByTestId('sup-scope-counter').click();
    await block.waitFor({ state: 'detached' });
    assert.deepEqual(page.errors, []);
  } finally {
    await closePage(page);
  }
});

test('an unknown key that tried to ship is an alarm with its own advice, not the chain\'s', async () => {
  const unenrolled = {
    hall: '', counter: '', seq: null, kind: 'unenrolled', at: `${TODAY}T08:01:00+08:00`,
    message: '未登记的密钥（指纹 0f3a9c2d4e5b6a7c…）尝试上传审计记录，大厅已拒收。',
  };
  const page = await openView({ hall_day_summary: { value: hallSummary(TODAY, { alarms: [unenrolled] }) } });
  try {
    await page.getByTestId('sup-scope-hall').click();
    const item = page.getByTestId('hall-alarm');
    await item.waitFor();
    const text = await item.innerText();
    assert.match(text, /未登记的窗口密钥尝试上传审计记录，大厅已拒收/);
    assert.match(text, /指纹 0f3a9c2d4e5b6a7c/);
    assert.match(await page.getByTestId('hall-alarms').innerText(), /新装的窗口请信息科用 yueshang hall enroll 登记/);
    assert.equal(await page.getByTestId('hall-alarm-advice').count(), 0, 'no counter to stop exporting from');
    assert.deepEqual(page.errors, []);
  } finally {
    await closePage(page);
  }
});

test('a fork alarm in 大字模式 at 1366×768', async () => {
  const page = await openView({ hall_day_summary: { value: hallSummary(TODAY, { alarms: [FORK] }) } }, { storage: { 'yueshang.largeType': '1' } });
  try {
    await page.getByTestId('sup-scope-hall').click();
    await page.getByTestId('hall-alarms').waitFor();
    await waitRendered(page, 4);
    await shot(page, 'hall-02b-fork-alarm-large');
    // Only a chain fault, no gap: only its advice.
    assert.equal(await page.locator('.hall-alarm-advice-gap').count(), 0);
    assert.deepEqual(page.errors, []);
  } finally {
    await closePage(page);
  }
});

test('全厅 事件明细: hall_events with the filter, a 窗口 column, and the 窗口 filter sends `counter` from page 1', async () => {
  const page = await openView({ hall_events: { pending: true }, audit_events: { value: { total: 0, offset: 0, rows: [] } } });
  try {
    await page.getByTestId('sup-tab-events').click();
    await waitForCall(page, 'audit_events');
    assert.equal(await page.getByTestId('filter-counter').count(), 0, 'no 窗口 filter in 本窗口');
    assert.doesNotMatch(await page.locator('[data-testid="events-table"] thead').innerText(), /窗口/);
    await page.getByTestId('sup-scope-hall').click();
    await waitForPending(page, 'hall_events');
    assert.equal(await page.getByTestId('supervisor-view').getAttribute('data-tab'), 'events', 'the tab stays');
    assert.deepEqual((await calls(page, 'hall_events'))[0], {
      date: TODAY, filter: { clerk: null, item: null, outcome: null, kind: null, bizNum: null, uscc: null, counter: null }, offset: 0, limit: 100,
    });
    await resolvePending(page, 'hall_events', hallPage(0, 240));
    await page.locator('[data-testid="event-row"]').nth(99).waitFor();
    const head = await page.locator('[data-testid="events-table"] thead').innerText();
    assert.match(head, /^窗口\s+序号/);
    assert.deepEqual(await page.getByTestId('event-counter').evaluateAll((tds) => tds.slice(0, 4).map((td) => td.textContent)), ['A01', 'A03', 'B07', 'A01']);
    assert.match(await page.getByTestId('events-table').locator('caption').textContent(), /全厅的审计事件/);
    // The 窗口 choices come from the hall's counters.
    await page.getByTestId('filter-counter').locator('option').nth(4).waitFor({ state: 'attached' });
    assert.deepEqual(await page.getByTestId('filter-counter').locator('option').allTextContents(), ['全部', 'A01', 'A03', 'B07', 'B12']);
    await page.getByTestId('events-next').click();
    await waitForPending(page, 'hall_events');
    await resolvePending(page, 'hall_events', hallPage(100, 240));
    await page.getByTestId('filter-counter').selectOption('B07');
    await waitForPending(page, 'hall_events');
    const last = (await calls(page, 'hall_events')).at(-1);
    assert.equal(last.offset, 0);
    assert.deepEqual(last.filter, { clerk: null, item: null, outcome: null, kind: null, bizNum: null, uscc: null, counter: 'B07' });
    await resolvePending(page, 'hall_events', hallPage(0, 40, { counter: 'B07', n: 40 }));
    await page.waitForFunction(() => document.querySelector('[data-testid="events-range"]').textContent.includes('共 40 条'));
    assert.deepEqual([...new Set(await page.getByTestId('event-counter').allTextContents())], ['B07']);
    await page.getByTestId('filter-outcome').selectOption('failed');
    await waitForPending(page, 'hall_events');
    assert.deepEqual((await calls(page, 'hall_events')).at(-1).filter.counter, 'B07', 'the 窗口 stays with other filters');
    await resolvePending(page, 'hall_events', hallPage(0, 14, { counter: 'B07', n: 14 }));
    await page.waitForFunction(() => document.querySelector('[data-testid="events-range"]').textContent.includes('共 14 条'));
    await shot(page, 'hall-03-events');
    // Back to 本窗口: audit_events, no 窗口 filter sent or shown.
    const before = (await calls(page, 'audit_events')).length;
    await page.getByTestId('sup-scope-counter').click();
    const counterCalls = await waitForCall(page, 'audit_events', before + 1);
    assert.deepEqual(counterCalls.at(-1).filter, { clerk: null, item: null, outcome: 'failed', kind: null, bizNum: null, uscc: null });
    assert.equal(await page.getByTestId('filter-counter').count(), 0);
    assert.doesNotMatch(await page.locator('[data-testid="events-table"] thead').innerText(), /窗口/);
    assert.deepEqual(page.errors, []);
  } finally {
    await closePage(page);
  }
});

test('a 全厅 answer arriving after switching back to 本窗口 is dropped', async () => {
  const page = await openView({ hall_day_summary: { pending: true } });
  try {
    await waitRendered(page, 4);
    await page.getByTestId('sup-scope-hall').click();
    await waitForPending(page, 'hall_day_summary');
    await page.getByTestId('sup-scope-counter').click();
    await waitForCall(page, 'day_summary', 2);
    await page.waitForFunction(() => /服务企业\s*47/.test(document.querySelector('[data-testid="stat-customers"]')?.textContent ?? ''));
    await resolvePending(page, 'hall_day_summary', hallSummary(TODAY, { alarms: [FORK] }));
    await page.waitForTimeout(100);
    assert.match(await page.getByTestId('stat-customers').textContent(), /服务企业\s*47/);
    assert.equal(await page.getByTestId('hall-counters').count(), 0);
    assert.equal(await page.getByTestId('hall-alarms').count(), 0);
  } finally {
    await closePage(page);
  }
});

test('全厅 导出: hall_export with the date, format and chosen folder; 已导出 N 个窗口、M 条记录 and the files', async () => {
  const ymd = TODAY.replaceAll('-', '');
  const files = ['A01', 'A03', 'B07'].flatMap((c) => [`/media/usb/audit-440106001-${c}-${ymd}.csv`, `/media/usb/audit-440106001-${c}-${ymd}.xlsx`]);
  const page = await openView({ 'plugin:dialog|open': { value: '/media/usb' }, hall_export: { pending: true } });
  try {
    await page.getByTestId('sup-scope-hall').click();
    await page.getByTestId('hall-counters').waitFor();
    await page.getByTestId('sup-tab-export').click();
    assert.match(await page.getByTestId('export-panel').textContent(), /全厅各窗口的审计记录.*这一天全厅 4 个窗口共有 1011 条事件/s);
    await page.getByTestId('export-both').click();
    await waitForPending(page, 'hall_export');
    assert.deepEqual(await calls(page, 'hall_export'), [{ date: TODAY, format: 'both', dir: '/media/usb' }]);
    assert.deepEqual(await calls(page, 'export_audit'), []);
    await page.getByTestId('export-running').waitFor();
    await resolvePending(page, 'hall_export', { counters: 3, events: 1011, files });
    const result = page.getByTestId('hall-export-result');
    await result.waitFor();
    assert.match(await page.getByTestId('hall-export-done').textContent(), /已导出 3 个窗口、1011 条记录/);
    assert.deepEqual(await page.getByTestId('export-file').allTextContents(), files);
    await shot(page, 'hall-04-export');
    // A folder IT set: no picker.
    await page.getByTestId('sup-scope-counter').click();
    await result.waitFor({ state: 'detached' });
  } finally {
    await closePage(page);
  }
  const fixed = await openView({
    counter_info: { value: hallCounter({ audit: { exportDir: 'D:\\审计导出' } }) },
    hall_export: { value: { counters: 4, events: 1011, files: ['D:\\审计导出\\audit-440106001-A01.csv'] } },
  });
  try {
    await fixed.getByTestId('sup-scope-hall').click();
    await fixed.getByTestId('sup-tab-export').click();
    await fixed.getByTestId('export-csv').click();
    await fixed.getByTestId('hall-export-result').waitFor();
    assert.deepEqual(await calls(fixed, 'hall_export'), [{ date: TODAY, format: 'csv', dir: 'D:\\审计导出' }]);
    assert.deepEqual(await calls(fixed, 'plugin:dialog|open'), []);
  } finally {
    await closePage(fixed);
  }
});

test('HALL_UNREACHABLE and COUNTER_NOT_ENROLLED: the Chinese advice in the 全厅 view; 本窗口 still works', async () => {
  const page = await openView({
    hall_day_summary: { error: { code: 'HALL_UNREACHABLE', message: '连接 https://hall.tianhe.gov.cn:8443 超时（10 秒）。' } },
  });
  try {
    await page.getByTestId('sup-scope-hall').click();
    const err = page.locator('[data-testid="summary-error"][data-code="HALL_UNREACHABLE"]');
    await err.waitFor();
    assert.match(await err.textContent(), /连不上大厅服务.*请联系信息科检查大厅服务.*超时（10 秒）/s);
    await shot(page, 'hall-05-unreachable');
    await page.getByTestId('sup-scope-counter').click();
    await page.getByTestId('big-numbers').waitFor();
    assert.equal(await page.getByTestId('summary-error').count(), 0);
    await setResponse(page, 'hall_events', { error: { code: 'COUNTER_NOT_ENROLLED', message: '大厅服务不认识本窗口的公钥。' } });
    await setResponse(page, 'audit_events', { value: { total: 0, offset: 0, rows: [] } });
    await page.getByTestId('sup-tab-events').click();
    await page.getByTestId('sup-scope-hall').click();
    const enrol = page.locator('[data-testid="events-error"][data-code="COUNTER_NOT_ENROLLED"]');
    await enrol.waitFor();
    assert.match(await enrol.textContent(), /本窗口尚未在大厅登记.*请信息科用 yueshang hall enroll 登记本窗口的公钥/s);
    assert.deepEqual(page.errors, []);
  } finally {
    await closePage(page);
  }
});

test('signing out forgets 全厅: the next supervisor starts on 本窗口', async () => {
  const page = await openView({ chain_status: { pending: true } });
  try {
    await page.getByTestId('sup-scope-hall').click();
    await page.getByTestId('hall-counters').waitFor();
    await setResponse(page, 'hall_events', { pending: true });
    await page.getByTestId('sup-tab-events').click();
    await waitForPending(page, 'hall_events');
    await rejectPending(page, 'hall_events', { code: 'SIGN_IN_REQUIRED', message: '需要登录。' });
    await page.getByTestId('sign-in-expired').waitFor();
    await setResponse(page, 'sign_in', { value: SUPERVISOR });
    await page.getByTestId('sign-in-account').fill('lizh');
    await page.getByTestId('sign-in-password').fill('password-1');
    await page.keyboard.press('Enter');
    await page.getByTestId('scan-prompt').waitFor();
    const hallCalls = (await calls(page, 'hall_day_summary')).length;
    await page.keyboard.press('F10');
    await page.getByTestId('supervisor-view').waitFor();
    assert.equal(await page.getByTestId('supervisor-view').getAttribute('data-scope'), 'counter');
    assert.equal(await page.getByTestId('supervisor-view').getAttribute('data-tab'), 'summary');
    assert.equal(await pressed(page, 'counter'), 'true');
    await waitForCall(page, 'day_summary', 2);
    assert.equal((await calls(page, 'hall_day_summary')).length, hallCalls);
  } finally {
    await closePage(page);
  }
});
