// Browser tests of the counter frame: start-up, badges, service item memory, language, error texts, CSP and the 1366×768 layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  sharedBrowser, closePage, counterInfo, launchBrowser, startServer, UI_DIR, emitProgress, openApp, rejectPending, resolvePending, scanResult, shot, startScan,
  waitForPending, authorization, ENTERPRISE,
} from './support.mjs';

const ERROR_CODES = [
  'CODE_INVALID', 'CODE_UNKNOWN', 'CODE_EXPIRED', 'CODE_USED', 'CONSENT_DECLINED', 'ITEM_NOT_ALLOWED',
  'GATEWAY_AUTH_REJECTED', 'CLOCK_SKEW', 'GATEWAY_FORBIDDEN', 'GATEWAY_TIMEOUT', 'GATEWAY_UNAVAILABLE', 'RATE_LIMITED',
  'BODY_TOO_LARGE', 'BAD_RESPONSE', 'REQUEST_REJECTED', 'LICENSE_LOGIN_REJECTED', 'LICENSE_REVOKED', 'AUTH_CODE_EXPIRED',
  'AUTH_CODE_NOT_FOUND', 'LICENSE_NOT_AUTHORIZED', 'CONFIG_INVALID', 'STORAGE_FAILED', 'SCAN_CANCELLED', 'NO_CUSTOMER',
  'SANDBOX_ONLY',
];

const env = sharedBrowser();

test('initial render shows the counter, the sandbox badge, the handling number and the service items', async () => {
  const page = await openApp(env);
  try {
    assert.equal(await page.getByTestId('hall-name').textContent(), '广州市天河区政务服务中心');
    assert.equal(await page.getByTestId('counter-name').textContent(), 'A03');
    assert.equal(await page.getByTestId('clerk-name').textContent(), '王小明');
    assert.equal((await page.getByTestId('mode-badge').textContent()).trim(), '沙箱模式');
    assert.equal(await page.getByTestId('biz-num').textContent(), 'YS-440106001-A03-20261128-0007');
    const options = await page.getByTestId('item-select').locator('option').allTextContents();
    assert.deepEqual(options, ['食品经营许可（新办）', '食品经营许可（变更）', '企业登记信息变更']);
    assert.equal(await page.getByTestId('item-select').inputValue(), 'SP-001');
    assert.match(await page.getByTestId('scan-prompt').textContent(), /请扫描粤商码/);
    assert.equal(await page.evaluate(() => document.compatMode), 'CSS1Compat');
    assert.deepEqual(await page.evaluate(() => window.__h.cspViolations), []);
    await shot(page, '01-idle');
    assert.deepEqual(page.errors, []);
    // Ready for the scanner: reported to the shell once (its log's start-up time), not again on later renders.
    await page.waitForFunction(() => window.__h.callsOf('window_ready').length === 1);
    await page.getByTestId('lang-toggle').click();
    await page.waitForTimeout(50);
    assert.equal(await page.evaluate(() => window.__h.callsOf('window_ready').length), 1);
  } finally {
    await closePage(page);
  }
});

test('gateway mode shows 测试环境 / 正式环境 and no sandbox helper', async () => {
  for (const [environment, text] of [['test', '测试环境'], ['production', '正式环境']]) {
    const page = await openApp(env, { responses: { counter_info: { value: counterInfo({ mode: 'gateway', environment }) } } });
    try {
      assert.equal((await page.getByTestId('mode-badge').textContent()).trim(), text);
      assert.equal(await page.getByTestId('sandbox-toggle').count(), 0);
      await page.keyboard.press('F6');
      assert.equal(await page.getByTestId('sandbox-panel').count(), 0);
    } finally {
      await closePage(page);
    }
  }
});

test('the service item is remembered, and a remembered code no longer offered falls back to the first', async () => {
  let page = await openApp(env);
  try {
    await page.getByTestId('item-select').selectOption('GS-010');
    assert.equal(await page.evaluate(() => localStorage.getItem('yueshang.itemCode')), 'GS-010');
    await page.reload();
    await page.getByTestId('counter-header').waitFor();
    assert.equal(await page.getByTestId('item-select').inputValue(), 'GS-010');
  } finally {
    await closePage(page);
  }
  page = await openApp(env, { storage: { 'yueshang.itemCode': 'GONE-999' } });
  try {
    assert.equal(await page.getByTestId('item-select').inputValue(), 'SP-001');
  } finally {
    await closePage(page);
  }
});

test('the English toggle switches the strings and is remembered', async () => {
  const page = await openApp(env);
  try {
    await page.getByTestId('lang-toggle').click();
    assert.equal((await page.getByTestId('mode-badge').textContent()).trim(), 'SANDBOX');
    assert.match(await page.getByTestId('scan-prompt').textContent(), /Scan the Yueshang code/);
    assert.match(await page.getByTestId('next-customer').textContent(), /Next customer/);
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'en');
    await page.reload();
    await page.getByTestId('counter-header').waitFor();
    assert.match(await page.getByTestId('scan-prompt').textContent(), /Scan the Yueshang code/);
    // A result in English: backend messages stay Chinese, as detail lines.
    const scanId = await startScan(page);
    const auth = authorization();
    await emitProgress(page, scanId, { kind: 'enterpriseKnown', bizNum: 'YS-1', enterprise: ENTERPRISE, authorization: auth });
    await resolvePending(page, 'scan', scanResult({ failed: [2] }));
    await page.getByTestId('card-error').waitFor();
    assert.match(await page.getByTestId('scan-status').textContent(), /13 licenses in 0\.4 s, 1 failed/);
    assert.match(await page.getByTestId('card-error').textContent(), /did not answer in time.*电子证照系统 15 秒内未响应/s);
    await shot(page, '08-english');
    await page.getByTestId('lang-toggle').click();
    assert.match(await page.getByTestId('scan-status').textContent(), /13 张证照，用时 0\.4 秒，1 张获取失败/);
  } finally {
    await closePage(page);
  }
});

test('every ErrorCode renders its advice and the backend detail (SCAN_CANCELLED stays silent)', async () => {
  const page = await openApp(env, { responses: { counter_info: { value: counterInfo({ mode: 'gateway' }) } } });
  try {
    for (const code of ERROR_CODES) {
      const message = `后端说明 ${code}`;
      await startScan(page);
      await waitForPending(page, 'scan');
      await rejectPending(page, 'scan', { code, message, fact: message });
      if (code === 'SCAN_CANCELLED') {
        await page.waitForTimeout(50);
        assert.equal(await page.getByTestId('error-banner').count(), 0, 'SCAN_CANCELLED must be silent');
        continue;
      }
      const banner = page.getByTestId('error-banner');
      await banner.waitFor();
      assert.equal(await banner.getAttribute('data-code'), code);
      const headline = (await page.getByTestId('error-headline').textContent()).trim();
      assert.ok(headline.length > 6, `${code} has a headline`);
      assert.match(await page.getByTestId('error-detail').textContent(), new RegExp(message));
      if (code === 'CLOCK_SKEW') {
        assert.match(headline, /时钟|时间/);
        assert.match(await page.getByTestId('error-who').textContent(), /IT/);
        await shot(page, '06-error-clock-skew');
      }
      if (code === 'CONFIG_INVALID') assert.match(await page.getByTestId('error-who').textContent(), /IT/);
      if (code === 'CODE_EXPIRED') assert.match(headline, /刷新粤商码/);
    }
    // And in English.
    await page.getByTestId('lang-toggle').click();
    for (const code of ERROR_CODES.filter((c) => c !== 'SCAN_CANCELLED')) {
      await startScan(page);
      await waitForPending(page, 'scan');
      await rejectPending(page, 'scan', { code, message: '中文说明' });
      await page.locator(`[data-testid="error-banner"][data-code="${code}"]`).waitFor();
      const headline = await page.getByTestId('error-headline').textContent();
      assert.doesNotMatch(headline, /[\u4e00-\u9fff]/, `${code} English headline`);
    }
  } finally {
    await closePage(page);
  }
});

test('a start-up failure shows the error instead of a blank window', async () => {
  const page = await openApp(env, {
    responses: { counter_info: { error: { code: 'CONFIG_INVALID', message: '配置项 gateway.paasid 缺失。配置有误，请联系IT修正配置文件。', fact: '配置项 gateway.paasid 缺失。' } } },
    waitFor: 'error-banner',
  });
  try {
    assert.match(await page.getByTestId('error-banner').textContent(), /配置项 gateway\.paasid 缺失/);
    // Nothing to dismiss: a dismissed start-up error would leave a blank window.
    assert.equal(await page.getByTestId('error-dismiss').count(), 0);
    assert.match(await page.getByTestId('app-starting').textContent(), /柜台未能启动/);
  } finally {
    await closePage(page);
  }
});

test('at 1366×768 nothing overflows, header and 下一位 stay visible, 13 cards scroll inside their area', async () => {
  const page = await openApp(env);
  try {
    const scanId = await startScan(page);
    await emitProgress(page, scanId, { kind: 'enterpriseKnown', bizNum: 'YS-1', enterprise: ENTERPRISE, authorization: authorization() });
    await resolvePending(page, 'scan', scanResult());
    await page.locator('[data-testid="license-card"][data-phase="ready"]').nth(12).waitFor({ state: 'attached' });
    await page.getByTestId('sandbox-toggle').click();
    await page.getByTestId('sandbox-panel').waitFor();
    for (const withPanel of [true, false]) {
      const m = await page.evaluate(() => {
        const r = (id) => document.querySelector(`[data-testid="${id}"]`).getBoundingClientRect();
        const grid = document.querySelector('[data-testid="license-grid"]');
        return {
          scrollW: document.documentElement.scrollWidth,
          scrollH: document.documentElement.scrollHeight,
          header: r('counter-header'),
          next: r('next-customer'),
          cards: document.querySelectorAll('[data-testid="license-card"]').length,
          gridScrolls: grid.scrollHeight > grid.clientHeight,
          overflowing: [...document.querySelectorAll('.app *')]
            .filter((el) => el.getBoundingClientRect().right > window.innerWidth + 0.5)
            .map((el) => el.className || el.tagName)
            .slice(0, 5),
        };
      });
      assert.ok(m.scrollW <= 1366, `no horizontal overflow (${m.scrollW})`);
      assert.ok(m.scrollH <= 768, `no page scroll (${m.scrollH})`);
      assert.deepEqual(m.overflowing, []);
      assert.ok(m.header.top >= 0 && m.header.bottom <= 768);
      assert.ok(m.next.top >= 0 && m.next.bottom <= 768 && m.next.right <= 1366, 'next button inside the viewport');
      assert.equal(m.cards, 13);
      assert.ok(m.gridScrolls, 'the license list scrolls inside its area');
      if (withPanel) await page.keyboard.press('F6');
    }
    await shot(page, '03-result-13-cards');
    // Larger screens get more columns, still without overflow.
    await page.setViewportSize({ width: 1920, height: 1080 });
    assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 1920);
    await shot(page, '03b-result-1920');
  } finally {
    await closePage(page);
  }
});

test('the production dist (no mocks) loads under the CSP and reports the missing shell instead of a blank page', async () => {
  const server = await startServer(join(UI_DIR, 'dist'), 'index.html');
  const page = await env.browser.newPage();
  try {
    const violations = [];
    page.on('console', (m) => {
      if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
    });
    await page.goto(`${server.url}/index.html`);
    await page.getByTestId('error-banner').waitFor({ timeout: 5000 });
    assert.equal(await page.getByTestId('error-banner').getAttribute('data-code'), 'BAD_RESPONSE');
    assert.deepEqual(violations, []);
    for (const f of readdirSync(join(UI_DIR, 'dist', 'assets'))) {
      assert.doesNotMatch(readFileSync(join(UI_DIR, 'dist', 'assets', f), 'latin1'), /__scenario|shouldMockEvents/, `no test code in dist/${f}`);
    }
  } finally {
    await page.close();
    await server.close();
  }
});
