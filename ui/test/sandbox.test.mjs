// Browser tests of the sandbox helper: only in sandbox mode, usable by mouse, its 粤商码 feeds the same scan path as the scanner.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  sharedBrowser, calls, closePage, counterInfo, makeImage, openApp, SANDBOX_ENTERPRISES, scanResult, setResponse, shot, waitForCall,
} from './support.mjs';

const env = sharedBrowser();

test('the sandbox panel (F6 or button) lists samples, shows the live QR, and 用此码扫码 scans its payload', async () => {
  const page = await openApp(env, { responses: { sandbox_enterprises: { value: SANDBOX_ENTERPRISES }, scan: { value: scanResult() } } });
  try {
    const png = await makeImage(page, 'image/png', 240, 240);
    await setResponse(page, 'sandbox_issue_code', {
      value: { payload: `YSM:v1:${SANDBOX_ENTERPRISES[0].uscc}:code1`, qrPng: `data:image/png;base64,${png}`, expiresAt: '2026-11-28T14:35:00+08:00' },
    });
    await page.keyboard.press('F6');
    const panel = page.getByTestId('sandbox-panel');
    await panel.waitFor();
    await page.getByTestId('sandbox-enterprise').first().waitFor();
    const texts = await page.getByTestId('sandbox-enterprise').allTextContents();
    assert.match(texts[0], /星河餐饮.*13 张证照.*13 张证照，含已过期与已注销/s);
    // The first sample is chosen on opening; clicking it again keeps its code.
    await page.getByTestId('sandbox-enterprise').first().click();
    const qr = page.getByTestId('sandbox-qr');
    await qr.waitFor();
    assert.match(await qr.getAttribute('src'), /^data:image\/png;base64,/);
    assert.ok(await qr.evaluate((i) => i.complete && i.naturalWidth > 0), 'QR image decodes under the CSP');
    assert.equal(await page.getByTestId('sandbox-payload').textContent(), `YSM:v1:${SANDBOX_ENTERPRISES[0].uscc}:code1`);
    assert.match(await page.getByTestId('sandbox-countdown').textContent(), /\d+ 秒后自动换码/);
    assert.deepEqual(await calls(page, 'sandbox_issue_code'), [{ uscc: SANDBOX_ENTERPRISES[0].uscc }]);
    await shot(page, '07-sandbox-panel');

    await page.getByTestId('sandbox-feed').click();
    const [args] = await waitForCall(page, 'scan');
    assert.equal(args.payload, `YSM:v1:${SANDBOX_ENTERPRISES[0].uscc}:code1`);
    assert.equal(args.itemCode, 'SP-001');
    await page.getByTestId('enterprise-card').waitFor();
    // The fed code is spent: a fresh one is issued at once.
    await waitForCall(page, 'sandbox_issue_code', 2);
    await shot(page, '07b-sandbox-result');

    await page.getByTestId('sandbox-reissue').click();
    await waitForCall(page, 'sandbox_issue_code', 3);
    await page.getByTestId('sandbox-close').click();
    await panel.waitFor({ state: 'detached' });
    await page.getByTestId('sandbox-toggle').click();
    await panel.waitFor();
    assert.deepEqual(await page.evaluate(() => window.__h.cspViolations), []);
  } finally {
    await closePage(page);
  }
});

test('the code is re-issued every 60 s', async () => {
  const page = await openApp(env, {
    responses: {
      sandbox_enterprises: { value: SANDBOX_ENTERPRISES },
      sandbox_issue_code: { value: { payload: 'YSM:v1:x', qrPng: 'data:image/png;base64,iVBORw0KGgo=', expiresAt: '2026-11-28T14:35:00+08:00' } },
    },
  });
  try {
    await page.clock.install();
    await page.getByTestId('sandbox-toggle').click();
    await page.getByTestId('sandbox-enterprise').nth(1).click();
    await waitForCall(page, 'sandbox_issue_code', 2);
    await page.clock.runFor(61_000);
    await waitForCall(page, 'sandbox_issue_code', 3);
    const issued = await calls(page, 'sandbox_issue_code');
    assert.deepEqual(issued.map((a) => a.uscc), [SANDBOX_ENTERPRISES[0].uscc, SANDBOX_ENTERPRISES[1].uscc, SANDBOX_ENTERPRISES[1].uscc]);
  } finally {
    await closePage(page);
  }
});

test('a sandbox error (e.g. SANDBOX_ONLY) is shown in the panel', async () => {
  const page = await openApp(env, { responses: { sandbox_enterprises: { error: { code: 'SANDBOX_ONLY', message: '仅沙箱模式可用。', fact: '仅沙箱模式可用。' } } } });
  try {
    await page.getByTestId('sandbox-toggle').click();
    await page.getByTestId('sandbox-error').waitFor();
    assert.match(await page.getByTestId('sandbox-error').textContent(), /仅沙箱模式可用/);
  } finally {
    await closePage(page);
  }
});

test('no sandbox panel in gateway mode, even with F6', async () => {
  const page = await openApp(env, { responses: { counter_info: { value: counterInfo({ mode: 'gateway', environment: 'production' }) } } });
  try {
    await page.keyboard.press('F6');
    await page.waitForTimeout(50);
    assert.equal(await page.getByTestId('sandbox-panel').count(), 0);
    assert.equal(await page.getByTestId('sandbox-toggle').count(), 0);
  } finally {
    await closePage(page);
  }
});
