// Accessibility beyond the axe check every shot() runs: what the live region says of a scan, a failure and
// 下一位; the cards as a list; 大字模式 (1.5× text, 7:1 contrast, 1366×768 without overlap, remembered);
// the F1 list of keys, which README's key table must contain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  sharedBrowser, ENTERPRISE, UI_DIR, authorization, closePage, counterInfo, emitProgress, fileInfo, makePdf, openApp,
  rejectPending, resolvePending, scanResult, setResponse, shot, startScan, waitForPending,
} from './support.mjs';

const env = sharedBrowser();

/** Every text that reaches the live region, in order (a probe installed before the app's scripts). */
function recordAnnouncements() {
  window.__announced = [];
  new MutationObserver(() => {
    const region = document.querySelector('[data-testid="announcer"]');
    const text = region?.textContent.trim();
    if (text && window.__announced[window.__announced.length - 1] !== text) window.__announced.push(text);
  }).observe(document, { subtree: true, childList: true, characterData: true });
}

const announced = (page) => page.evaluate(() => window.__announced);

async function untilAnnounced(page, count) {
  await page.waitForFunction((n) => window.__announced.length >= n, count).catch(async (e) => {
    throw new Error(`${count} announcements expected, the live region said: ${JSON.stringify(await announced(page))}`, { cause: e });
  });
  return announced(page);
}

test('a screen reader hears the enterprise, the count with failures, an error and 下一位, once each', async () => {
  const page = await openApp(env, { initScripts: [recordAnnouncements], responses: { next_customer: { value: { bizNum: 'YS-2' } } } });
  try {
    // Only the live region speaks: the progress in the scan bar and the banner are not read out too.
    assert.equal(await page.getByTestId('scan-status').getAttribute('aria-live'), null);
    assert.equal(await page.getByTestId('scan-status').getAttribute('role'), null);
    const region = page.getByTestId('announcer');
    assert.equal(await region.getAttribute('aria-live'), 'polite');

    const scanId = await startScan(page);
    await emitProgress(page, scanId, { kind: 'enterpriseKnown', bizNum: 'YS-1', enterprise: ENTERPRISE, authorization: authorization() });
    await resolvePending(page, 'scan', scanResult({ failed: [3, 7] }));
    assert.deepEqual(await untilAnnounced(page, 2), [`已找到企业：${ENTERPRISE.name}`, '13 张证照，2 张失败']);

    // The cards are a list of 13, each read as name, status, then its facts.
    const list = page.getByRole('list', { name: '已授权证照 13 张' });
    assert.equal(await list.getByRole('listitem').count(), 13);
    const first = (await list.getByRole('listitem').first().innerText()).replace(/\s+/g, ' ');
    assert.match(first, /^营业执照 有效 证照编号 .+ 发证机关 .+ 有效期 /);

    await page.keyboard.press('F8');
    assert.deepEqual((await untilAnnounced(page, 3)).slice(2), ['已清空，请扫描下一位办事人的粤商码']);

    await startScan(page);
    await waitForPending(page, 'scan');
    await rejectPending(page, 'scan', { code: 'CODE_EXPIRED', message: '码已过期', fact: null });
    const [spoken] = (await untilAnnounced(page, 4)).slice(3);
    assert.match(spoken, /^请办事人处理：.*刷新粤商码/);
    assert.equal(await page.getByTestId('error-banner').getAttribute('role'), null, 'the banner is not a second, assertive live region');
    // Nothing was said twice.
    assert.equal((await announced(page)).length, 4);
  } finally {
    await closePage(page);
  }
});

/** Font sizes (px) of what a clerk reads most, on the current screen. */
function readSizes(page) {
  return page.evaluate(() => {
    const px = (sel) => {
      const el = document.querySelector(sel);
      return el ? parseFloat(getComputedStyle(el).fontSize) : null;
    };
    return {
      hall: px('[data-testid="hall-name"]'),
      status: px('[data-testid="scan-status"]'),
      enterprise: px('[data-testid="enterprise-name"]'),
      license: px('.license-name'),
      facts: px('[data-testid="license-validity"]'),
      next: px('[data-testid="next-customer"]'),
    };
  });
}

/** Elements inside the window that stick out of it, and header parts that overlap each other. */
function layoutProblems(page) {
  return page.evaluate(() => {
    const out = [...document.querySelectorAll('.app *')]
      .filter((el) => el.getClientRects().length && el.getBoundingClientRect().right > window.innerWidth + 0.5)
      .map((el) => el.className || el.tagName);
    const parts = [...document.querySelectorAll('.counter-header > *')].map((el) => [el.className, el.getBoundingClientRect()]);
    const overlaps = [];
    for (let i = 0; i < parts.length; i++) {
      for (let j = i + 1; j < parts.length; j++) {
        const [a, ra] = parts[i];
        const [b, rb] = parts[j];
        if (ra.left < rb.right - 0.5 && rb.left < ra.right - 0.5 && ra.top < rb.bottom - 0.5 && rb.top < ra.bottom - 0.5) overlaps.push(`${a} × ${b}`);
      }
    }
    // The idle prompt's last line shown above the action bar: nothing cut at the foot of the workspace.
    const hints = [...document.querySelectorAll('.scan-prompt > *')].filter((el) => el.getClientRects().length);
    const bar = document.querySelector('.action-bar');
    const cut = hints.length > 0 && hints[hints.length - 1].getBoundingClientRect().bottom > bar.getBoundingClientRect().top + 0.5;
    return { out: out.slice(0, 5), overlaps, pageScroll: document.documentElement.scrollWidth > window.innerWidth, cut };
  });
}

test('大字模式: the header toggle makes every text 1.5× larger at 1366×768 without overlap, is remembered, and follows [window] large_type', async () => {
  const responses = {
    counter_info: { value: counterInfo({ mode: 'gateway' }) }, license_file: { bytesBase64: makePdf(2) }, next_customer: { value: { bizNum: 'YS-2' } },
  };
  const page = await openApp(env, { responses });
  try {
    const result = scanResult({ n: 13, failed: [5] });
    result.licenses[0].file = fileInfo(result.licenses[0].summary);
    await setResponse(page, 'scan', { value: result });
    await startScan(page);
    await page.locator('[data-testid="license-card"][data-phase="ready"]').first().waitFor();
    const normal = await readSizes(page);

    const toggle = page.getByTestId('large-type-toggle');
    assert.equal(await toggle.getAttribute('aria-pressed'), 'false');
    await toggle.click();
    assert.equal(await toggle.getAttribute('aria-pressed'), 'true');
    const large = await readSizes(page);
    for (const [what, size] of Object.entries(normal)) assert.ok(large[what] >= size * 1.5 - 0.01, `${what}: ${size} → ${large[what]} px`);

    // Cards reflow to two columns; nothing sticks out or overlaps; the cards still scroll in their area.
    const columns = await page.evaluate(() => new Set([...document.querySelectorAll('[data-testid="license-card"]')].map((c) => c.getBoundingClientRect().left)).size);
    assert.equal(columns, 2);
    assert.deepEqual(await layoutProblems(page), { out: [], overlaps: [], pageScroll: false, cut: false });
    const next = await page.getByTestId('next-customer').boundingBox();
    assert.ok(next.y + next.height <= 768, '下一位 stays on screen');
    await shot(page, '20-large-result');

    const card = page.locator(`[data-license-code="${result.licenses[0].summary.licenseCode}"]`);
    await card.focus();
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="viewer"][data-rendered="true"]').waitFor({ timeout: 15000 });
    assert.deepEqual((await layoutProblems(page)).out, []);
    await shot(page, '21-large-viewer');
    await page.keyboard.press('Escape');

    await page.keyboard.press('F8');
    await page.getByTestId('scan-prompt').waitFor();
    assert.deepEqual(await layoutProblems(page), { out: [], overlaps: [], pageScroll: false, cut: false });
    await shot(page, '22-large-idle');
    await setResponse(page, 'scan', { error: { code: 'CLOCK_SKEW', message: '本机时钟比网关快 312 秒', fact: '本机时钟比网关快 312 秒' } });
    await startScan(page);
    await page.getByTestId('error-banner').waitFor();
    assert.deepEqual(await layoutProblems(page), { out: [], overlaps: [], pageScroll: false, cut: false });
    await shot(page, '23-large-error');

    // Remembered on this PC: a restart comes back large, even against the configuration.
    await page.reload();
    await page.getByTestId('counter-header').waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.classList.contains('large-type')), true);
  } finally {
    await closePage(page);
  }
  // IT's default, on a PC where no clerk chose: large from the start.
  const configured = await openApp(env, { responses: { counter_info: { value: counterInfo({ largeType: true }) } } });
  try {
    assert.equal(await configured.getByTestId('large-type-toggle').getAttribute('aria-pressed'), 'true');
    // A clerk's choice wins over it, and is remembered.
    await configured.getByTestId('large-type-toggle').click();
    await configured.reload();
    await configured.getByTestId('counter-header').waitFor();
    assert.equal(await configured.getByTestId('large-type-toggle').getAttribute('aria-pressed'), 'false');
  } finally {
    await closePage(configured);
  }
});

/** The keys README's key table lists (its first column), as the overlay prints them. */
function readmeKeys() {
  const readme = readFileSync(join(UI_DIR, '..', 'README.md'), 'utf8');
  const start = readme.indexOf('| 键 |');
  assert.ok(start >= 0, "README has a key table (a header row '| 键 |')");
  const lines = readme.slice(start).split('\n');
  const rows = lines.slice(2, lines.findIndex((l) => !l.startsWith('|')));
  return rows.map((l) => l.split('|')[1].trim().replace(/`/g, ''));
}

test('F1 lists the keys of the screen in front, Esc closes it; README has every one of them', async () => {
  const responses = { counter_info: { value: counterInfo({ mode: 'sandbox' }) }, license_file: { bytesBase64: makePdf(1) } };
  const page = await openApp(env, { responses });
  try {
    const listed = async () => page.locator('[data-testid="keys-row"]').evaluateAll((rows) => rows.map((r) => r.dataset.keys));
    await page.keyboard.press('F1');
    const dialog = page.getByTestId('keys-dialog');
    await dialog.waitFor();
    assert.equal(await dialog.getAttribute('data-screen'), 'counter');
    const counterKeys = await listed();
    for (const key of ['F2', 'F4', 'F8', 'F9', 'Ctrl+P', 'F6', 'F1']) assert.ok(counterKeys.includes(key), `${key} in ${counterKeys}`);
    assert.ok(!counterKeys.includes('F10'), 'no supervisor key for a counter without a supervisor');
    await shot(page, '24-keys-counter');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });

    const result = scanResult({ n: 2 });
    result.licenses[0].file = fileInfo(result.licenses[0].summary);
    await setResponse(page, 'scan', { value: result });
    await startScan(page);
    const card = page.locator(`[data-license-code="${result.licenses[0].summary.licenseCode}"]`);
    await card.waitFor();
    await card.focus();
    await page.keyboard.press('Enter');
    await page.locator('[data-testid="viewer"][data-rendered="true"]').waitFor({ timeout: 15000 });
    await page.keyboard.press('F1');
    await dialog.waitFor();
    assert.equal(await dialog.getAttribute('data-screen'), 'viewer');
    const viewerKeys = await listed();
    assert.ok(viewerKeys.includes('PgUp / PgDn') && viewerKeys.includes('Esc'), `${viewerKeys}`);
    // Esc closes the list, not the viewer behind it.
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await page.getByTestId('viewer').count(), 1);

    const documented = readmeKeys();
    for (const key of new Set([...counterKeys, ...viewerKeys])) assert.ok(documented.includes(key), `README's key table lacks ${key}: ${documented}`);
  } finally {
    await closePage(page);
  }
});
