// Browser test of a slow gateway (2 s per call): while 13 licenses trickle in, typing in 手工输入 keeps up and 下一位 clears at once; prints the longest main-thread task (Long Tasks API).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  sharedBrowser, authorization, calls, closePage, emitProgress, ENTERPRISE, fileInfo, license, openApp, setResponse, startScan,
  summaries,
} from './support.mjs';

const env = sharedBrowser();

/** Every main-thread task over 50 ms, from the page's first script on (Chromium's Long Tasks API). */
function watchLongTasks() {
  window.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.__longTasks.push(entry.duration);
  }).observe({ type: 'longtask', buffered: true });
}

test('a slow gateway: typing keeps up while licenses trickle in, 下一位 clears at once; the longest task is printed', async () => {
  const page = await openApp(env, { initScripts: [watchLongTasks] });
  try {
    const scanId = await startScan(page);
    await emitProgress(page, scanId, { kind: 'enterpriseKnown', bizNum: 'YS-440106001-A03-20261128-0008', enterprise: ENTERPRISE, authorization: authorization(13) });
    await page.getByTestId('enterprise-card').waitFor();
    // The licenses arrive one by one, as a slow gateway answers them, while the clerk types.
    const s = summaries(13);
    const trickle = (async () => {
      for (const summary of s.slice(0, 8)) {
        await emitProgress(page, scanId, { kind: 'licenseArrived', license: license(summary) });
        await emitProgress(page, scanId, { kind: 'fileArrived', position: summary.position, licenseCode: summary.licenseCode, file: fileInfo(summary) });
        await page.waitForTimeout(40);
      }
    })();
    await page.keyboard.press('F2');
    await page.getByTestId('manual-input').waitFor();
    await page.keyboard.type('9144010', { delay: 60 });
    assert.equal(await page.getByTestId('manual-input').inputValue(), '9144010', 'every key landed while cards arrived');
    await trickle;

    // 下一位 in the middle of the scan: the screen is clear before the shell has even answered.
    await setResponse(page, 'next_customer', { pending: true });
    await page.keyboard.press('Escape');
    await page.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());
    const cleared = await page.evaluate(async () => {
      const started = performance.now();
      window.dispatchEvent(new KeyboardEvent('keydown', { key: 'F8', bubbles: true }));
      await new Promise(requestAnimationFrame);
      return { ms: performance.now() - started, gone: !document.querySelector('[data-testid="enterprise-card"]') };
    });
    assert.equal(cleared.gone, true, 'the enterprise left with the next frame');
    assert.equal((await calls(page, 'next_customer')).length, 1);
    // Late events of the cancelled scan draw nothing.
    await emitProgress(page, scanId, { kind: 'licenseArrived', license: license(s[9]) });
    assert.equal(await page.locator('[data-testid="license-card"]').count(), 0);

    const longTasks = await page.evaluate(() => window.__longTasks);
    assert.ok(Array.isArray(longTasks), 'the Long Tasks API reported');
    const longest = longTasks.length ? Math.max(...longTasks) : 0;
    console.log(`slow gateway: longest_task_ms=${longest.toFixed(1)} long_tasks=${longTasks.length} clear_after_next_ms=${cleared.ms.toFixed(1)}`);
    // The instrument itself works: a deliberate 80 ms task is seen.
    await page.evaluate(() => {
      setTimeout(() => {
        const until = performance.now() + 80;
        while (performance.now() < until);
      }, 0);
    });
    await page.waitForFunction(() => window.__longTasks.some((d) => d >= 75));
  } finally {
    await closePage(page);
  }
});
