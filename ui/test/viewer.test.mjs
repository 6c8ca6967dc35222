// Browser tests of the license viewer: a hand-written PDF rendered by the bundled pdf.js under the CSP, an image, keys and clean-up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  sharedBrowser, calls, closePage, counterInfo, fileInfo, makeImage, makePdf, openApp, scanResult, setResponse, shot, startScan,
  summaries,
} from './support.mjs';

const env = sharedBrowser();

async function resultWith(page, mime) {
  const r = scanResult({ n: 4 });
  r.licenses[0].file = fileInfo(r.licenses[0].summary, mime);
  await setResponse(page, 'scan', { value: r });
  await startScan(page);
  await page.locator('[data-testid="license-card"][data-phase="ready"]').first().waitFor();
  return r;
}

test('a PDF opens in the viewer: 1 / 2, rendered canvas, PageDown, zoom, face fields, Esc back to the card', async () => {
  const page = await openApp(env, { responses: { counter_info: { value: counterInfo({ mode: 'gateway' }) }, license_file: { bytesBase64: makePdf(2) } } });
  try {
    const r = await resultWith(page, 'application/pdf');
    const code = r.licenses[0].summary.licenseCode;
    const card = page.locator(`[data-license-code="${code}"]`);
    await card.focus();
    await page.keyboard.press('Enter');
    const viewer = page.getByTestId('viewer');
    await viewer.waitFor();
    await page.locator('[data-testid="viewer"][data-rendered="true"]').waitFor({ timeout: 15000 });
    assert.deepEqual(await calls(page, 'license_file'), [{ licenseCode: code }]);
    // The frame that first showed the page is stamped once (scripts/measure's re-open time), with the file's size.
    await page.locator('[data-testid="viewer"][data-first-page-at]').waitFor();
    const firstAt = Number(await viewer.getAttribute('data-first-page-at'));
    assert.ok(firstAt > 0 && firstAt <= (await page.evaluate(() => performance.now())), `first page at ${firstAt}`);
    assert.equal(Number(await viewer.getAttribute('data-file-size')), r.licenses[0].file.size);
    assert.equal((await page.getByTestId('viewer-page').textContent()).trim(), '1 / 2');
    // The canvas really has ink on it (text and the blue frame), not just a white page.
    const inked = await page.getByTestId('viewer-canvas').evaluate((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let dark = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] < 300) dark++;
      return { w: c.width, h: c.height, dark };
    });
    assert.ok(inked.w > 100 && inked.h > 100, 'canvas has a size');
    assert.ok(inked.dark > 200, `canvas has ink (${inked.dark})`);
    const table = await page.getByTestId('face-fields').textContent();
    assert.match(table, /经营者名称/);
    assert.match(table, /热食类食品制售/);
    assert.match(await page.getByTestId('viewer-details').textContent(), /JY14401060012345/);
    await shot(page, '05-viewer-pdf');

    await page.keyboard.press('PageDown');
    await page.waitForFunction(() => document.querySelector('[data-testid="viewer-page"]').textContent.trim() === '2 / 2');
    await page.keyboard.press('PageUp');
    await page.waitForFunction(() => document.querySelector('[data-testid="viewer-page"]').textContent.trim() === '1 / 2');
    const width = () => page.getByTestId('viewer-canvas').evaluate((c) => c.getBoundingClientRect().width);
    const fit = await width();
    await page.keyboard.press('Control+=');
    await page.waitForFunction((w) => document.querySelector('[data-testid="viewer-canvas"]').getBoundingClientRect().width > w + 10, fit);
    await page.getByTestId('viewer-zoom-out').click();
    await page.getByTestId('viewer-zoom-out').click();
    await page.waitForFunction((w) => document.querySelector('[data-testid="viewer-canvas"]').getBoundingClientRect().width < w - 10, fit);
    await page.getByTestId('viewer-fit').click();
    await page.waitForFunction((w) => Math.abs(document.querySelector('[data-testid="viewer-canvas"]').getBoundingClientRect().width - w) < 2, fit);

    await page.keyboard.press('Escape');
    await viewer.waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.licenseCode), code);
    assert.deepEqual(await page.evaluate(() => window.__h.cspViolations), []);
    assert.deepEqual(page.errors.filter((e) => !/favicon/.test(e)), []);
  } finally {
    await closePage(page);
  }
});

test('a PDF opened again for the same customer is drawn from the kept document; after 下一位 it is read again', async () => {
  const page = await openApp(env, {
    responses: {
      counter_info: { value: counterInfo({ mode: 'gateway' }) }, license_file: { bytesBase64: makePdf(2) },
      next_customer: { value: { bizNum: 'YS-440106001-A03-20261128-0011' } },
    },
  });
  try {
    const r = await resultWith(page, 'application/pdf');
    const code = r.licenses[0].summary.licenseCode;
    const open = async () => {
      await page.locator(`[data-license-code="${code}"]`).click();
      await page.locator('[data-testid="viewer"][data-first-page-at]').waitFor({ timeout: 15000 });
      const read = await page.getByTestId('viewer').getAttribute('data-file-at');
      await page.keyboard.press('Escape');
      await page.getByTestId('viewer').waitFor({ state: 'detached' });
      return read;
    };
    assert.ok(Number(await open()) > 0, 'the first open reads the file');
    assert.equal(await open(), null, 'the second open reads nothing');
    assert.equal((await calls(page, 'license_file')).length, 1);
    // 下一位 lets the document go: the same license for the next customer is read again.
    await page.keyboard.press('F8');
    await page.getByTestId('enterprise-card').waitFor({ state: 'detached' });
    await resultWith(page, 'application/pdf');
    assert.ok(Number(await open()) > 0);
    assert.equal((await calls(page, 'license_file')).length, 2);
  } finally {
    await closePage(page);
  }
});

test('an image/jpeg license opens as an image from a blob URL, zooms, and the URL is revoked on close', async () => {
  const page = await openApp(env, { responses: { counter_info: { value: counterInfo({ mode: 'gateway' }) } } });
  try {
    await setResponse(page, 'license_file', { bytesBase64: await makeImage(page, 'image/jpeg') });
    const r = await resultWith(page, 'image/jpeg');
    await page.locator(`[data-license-code="${r.licenses[0].summary.licenseCode}"]`).click();
    await page.locator('[data-testid="viewer"][data-rendered="true"]').waitFor();
    const img = page.getByTestId('viewer-image');
    const src = await img.getAttribute('src');
    assert.match(src, /^blob:/);
    assert.equal(await img.evaluate((i) => i.naturalWidth), 600);
    const before = await img.evaluate((i) => i.getBoundingClientRect().width);
    await page.getByTestId('viewer-zoom-in').click();
    assert.ok((await img.evaluate((i) => i.getBoundingClientRect().width)) > before);
    assert.equal(await page.getByTestId('viewer-page').count(), 0, 'no page indicator for an image');
    await shot(page, '05b-viewer-image');
    await page.getByTestId('viewer-close').click();
    await page.getByTestId('viewer').waitFor({ state: 'detached' });
    // A revoked blob URL no longer loads.
    const loads = await page.evaluate(
      (src) => new Promise((res) => {
        const i = new Image();
        i.onload = () => res(true);
        i.onerror = () => res(false);
        i.src = src;
      }),
      src,
    );
    assert.equal(loads, false, 'blob URL revoked');
  } finally {
    await closePage(page);
  }
});

test('a file that cannot be fetched shows the reason inside the viewer', async () => {
  const page = await openApp(env, { responses: { license_file: { error: { code: 'NO_CUSTOMER', message: '当前没有办事企业' } } } });
  try {
    await resultWith(page, 'application/pdf');
    await page.locator('[data-testid="license-card"]').first().click();
    const err = page.getByTestId('viewer-error');
    await err.waitFor();
    assert.equal(await err.getAttribute('data-code'), 'NO_CUSTOMER');
    assert.match(await err.textContent(), /当前没有办事企业/);
  } finally {
    await closePage(page);
  }
});

test('cards without a file (revoked) do not open the viewer', async () => {
  const page = await openApp(env, { responses: { license_file: { bytesBase64: makePdf(1) } } });
  try {
    await resultWith(page, 'application/pdf');
    const revoked = summaries()[5];
    assert.ok(revoked.status === 'revoked');
    const r = scanResult();
    await setResponse(page, 'scan', { value: r });
    await startScan(page);
    const card = page.locator(`[data-license-code="${revoked.licenseCode}"][data-phase="ready"]`);
    await card.click();
    await card.focus();
    await page.keyboard.press('Enter');
    assert.equal(await page.getByTestId('viewer').count(), 0);
    assert.equal(await card.getAttribute('data-status'), 'revoked');
  } finally {
    await closePage(page);
  }
});
