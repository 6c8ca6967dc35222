// Browser tests of the unattended window: the idle countdown over everything, stopped by any key, click or wheel, then the window cleared as at 下一位 (viewer, pdf.js workers and object URLs gone); the idle lock and its sign-in screen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  sharedBrowser, calls, CLERK, closePage, counterInfo, ENTERPRISE, fileInfo, makeImage, makePdf, openApp, scanResult, setResponse,
  shot, signedCounter, startScan, waitForCall,
} from './support.mjs';

const env = sharedBrowser();

/** Short timers from counter_info, as a configuration file's minutes would give them. */
const privacy = (over = {}) => ({ privacy: { idleClearSeconds: 1, lockSeconds: null, countdownSeconds: 3, ...over } });

const NEXT_BIZ = 'YS-440106001-A03-20261128-0009';

/** In the page, before the app: counts the pdf.js workers started and ended, and the object URLs made and revoked. */
function trackFiles() {
  const files = { workers: 0, terminated: 0, urls: [], revoked: [] };
  window.__files = files;
  const BaseWorker = window.Worker;
  window.Worker = class extends BaseWorker {
    constructor(...args) {
      super(...args);
      files.workers++;
    }
    terminate() {
      files.terminated++;
      super.terminate();
    }
  };
  const create = URL.createObjectURL.bind(URL);
  const revoke = URL.revokeObjectURL.bind(URL);
  URL.createObjectURL = (blob) => {
    const url = create(blob);
    files.urls.push(url);
    return url;
  };
  URL.revokeObjectURL = (url) => {
    files.revoked.push(url);
    revoke(url);
  };
}

async function open(info, responses = {}, opts = {}) {
  return openApp(env, {
    responses: {
      counter_info: { value: info },
      idle_clear: { value: { bizNum: NEXT_BIZ } },
      outbox_status: { value: { waiting: 0, refused: 0, current: null } },
      ...responses,
    },
    initScripts: [trackFiles],
    ...opts,
  });
}

/** A customer on screen: 4 cards, the first with a file of `mime`. */
async function serve(page, mime = 'application/pdf') {
  const r = scanResult({ n: 4 });
  r.licenses[0].file = fileInfo(r.licenses[0].summary, mime);
  await setResponse(page, 'scan', { value: r });
  await startScan(page);
  await page.locator('[data-testid="license-card"][data-phase="ready"]').nth(3).waitFor({ state: 'attached' });
  return r;
}

const countdown = (page) => page.getByTestId('idle-countdown');

test('idle with a customer on screen: a countdown over the open viewer, then the window clears as at 下一位, with every pdf.js document and worker gone', async () => {
  const tracked = await open(counterInfo(privacy({ idleClearSeconds: 3 })), { license_file: { bytesBase64: makePdf(2) } });
  try {
    const r = await serve(tracked);
    await tracked.locator(`[data-license-code="${r.licenses[0].summary.licenseCode}"]`).click();
    await tracked.locator('[data-testid="viewer"][data-rendered="true"]').waitFor({ timeout: 15000 });
    assert.ok((await tracked.evaluate(() => window.__files.workers)) >= 1, 'pdf.js runs in a worker');

    // Nobody touches the window: the countdown comes, over the viewer, big and announced.
    await countdown(tracked).waitFor({ timeout: 8000 });
    const banner = tracked.locator('[data-testid="idle-countdown"] [role="alert"]');
    assert.match(await banner.textContent(), /秒后自动清屏/);
    assert.match(await banner.textContent(), /（按任意键继续办理）/);
    const seconds = Number(await tracked.getByTestId('idle-seconds').textContent());
    assert.ok(seconds >= 1 && seconds <= 3, `${seconds} s left`);
    const size = await tracked.getByTestId('idle-seconds').evaluate((e) => parseFloat(getComputedStyle(e).fontSize));
    assert.ok(size >= 64, `the seconds are big (${size}px)`);
    await tracked.waitForFunction(() => document.querySelector('[data-testid="idle-seconds"]')?.textContent.trim() === '2');
    await shot(tracked, '35-idle-countdown');
    assert.deepEqual(await calls(tracked, 'idle_clear'), []);

    // It runs out: exactly 下一位 on screen, and the shell is told it was an idle clear.
    await waitForCall(tracked, 'idle_clear');
    await tracked.getByTestId('idle-cleared').waitFor();
    assert.equal(await countdown(tracked).count(), 0);
    assert.equal(await tracked.getByTestId('viewer').count(), 0);
    assert.equal(await tracked.getByTestId('enterprise-card').count(), 0);
    assert.equal(await tracked.getByTestId('license-card').count(), 0);
    assert.equal(await tracked.getByTestId('biz-num').textContent(), NEXT_BIZ);
    assert.deepEqual(await calls(tracked, 'next_customer'), [], 'one call: idle_clear is the 下一位');
    const html = await tracked.evaluate(() => document.documentElement.outerHTML);
    assert.ok(!html.includes(ENTERPRISE.name) && !html.includes(ENTERPRISE.uscc), 'nothing of the enterprise in the page');
    assert.equal(await tracked.evaluate(() => document.activeElement === document.body), true, 'nothing keeps the focus');
    await tracked.waitForFunction(() => window.__files.terminated === window.__files.workers, null, { timeout: 5000 });
    await shot(tracked, '36-idle-cleared');

    // The note goes at the next key; with no customer the window does not count down again.
    await tracked.keyboard.press('Shift');
    await tracked.getByTestId('idle-cleared').waitFor({ state: 'detached' });
    await tracked.waitForTimeout(2600);
    assert.equal(await countdown(tracked).count(), 0, 'no customer, no countdown');
    assert.equal((await calls(tracked, 'idle_clear')).length, 1);
    assert.deepEqual(tracked.errors, []);
  } finally {
    await closePage(tracked);
  }
});

test('any key, a click or the wheel stops the countdown; a scan is activity too', async () => {
  const page = await open(counterInfo(privacy({ idleClearSeconds: 1, countdownSeconds: 15 })));
  try {
    await serve(page);
    await countdown(page).waitFor({ timeout: 5000 });
    await page.keyboard.press('a');
    await countdown(page).waitFor({ state: 'detached' });

    // A click only stops it: 下一位 under the overlay is not pressed by it.
    await countdown(page).waitFor({ timeout: 5000 });
    const next = await page.getByTestId('next-customer').boundingBox();
    await page.mouse.click(next.x + next.width / 2, next.y + next.height / 2);
    await countdown(page).waitFor({ state: 'detached' });
    assert.deepEqual(await calls(page, 'next_customer'), []);
    assert.equal(await page.getByTestId('enterprise-card').count(), 1);

    await countdown(page).waitFor({ timeout: 5000 });
    await page.mouse.move(700, 400);
    await page.mouse.wheel(0, 120);
    await countdown(page).waitFor({ state: 'detached' });

    // A mouse that only moves is not the clerk.
    await page.mouse.move(200, 200);
    await page.mouse.move(300, 300);
    await countdown(page).waitFor({ timeout: 5000 });
    assert.deepEqual(await calls(page, 'idle_clear'), []);
    // A scan while it counts: stopped, and the new customer is served.
    await serve(page);
    assert.equal(await countdown(page).count(), 0);
    assert.deepEqual(await calls(page, 'idle_clear'), []);
    assert.deepEqual(page.errors, []);
  } finally {
    await closePage(page);
  }
});

test('the countdown is also over a dialog, and a scanned image’s object URL is revoked by the idle clear', async () => {
  const page = await open(counterInfo(privacy({ idleClearSeconds: 2, countdownSeconds: 2 })));
  try {
    await setResponse(page, 'license_file', { bytesBase64: await makeImage(page) });
    const r = await serve(page, 'image/jpeg');
    await page.locator(`[data-license-code="${r.licenses[0].summary.licenseCode}"]`).click();
    await page.getByTestId('viewer-image').waitFor();
    const made = await page.evaluate(() => window.__files.urls.length);
    assert.ok(made >= 1, 'the image is shown from an object URL');
    // F9 (办结) over the viewer is not possible; close the viewer and open 办结 instead: the banner is over it.
    await page.keyboard.press('Escape');
    await page.keyboard.press('F9');
    await page.getByTestId('record-panel').waitFor();
    await countdown(page).waitFor({ timeout: 6000 });
    const onTop = await page.evaluate(() => {
      const s = document.querySelector('[data-testid="idle-seconds"]').getBoundingClientRect();
      const hit = document.elementFromPoint(s.left + s.width / 2, s.top + s.height / 2);
      return !!hit?.closest('[data-testid="idle-countdown"]');
    });
    assert.ok(onTop, 'the countdown is drawn over the dialog');
    await waitForCall(page, 'idle_clear');
    await page.getByTestId('record-panel').waitFor({ state: 'detached' });
    const files = await page.evaluate(() => window.__files);
    assert.deepEqual([...files.revoked].sort(), [...files.urls].sort(), 'every object URL was revoked');
    assert.deepEqual(page.errors, []);
  } finally {
    await closePage(page);
  }
});

test('idle lock: the customer goes, the sign-in screen says whose session locked with the account filled in; the same clerk signs in again', async () => {
  const info = signedCounter(CLERK, privacy({ idleClearSeconds: 60, lockSeconds: 2 }));
  const page = await open(info, {
    lock_session: { value: { locked: CLERK, bizNum: NEXT_BIZ } },
    sign_in: { value: CLERK },
  });
  try {
    await serve(page);
    await page.getByTestId('sign-in-locked').waitFor({ timeout: 6000 });
    assert.equal((await calls(page, 'lock_session')).length, 1);
    assert.match(await page.getByTestId('sign-in-locked').textContent(), /已锁定：王小明，请重新登录/);
    assert.equal(await page.getByTestId('sign-in-account').inputValue(), CLERK.account);
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'sign-in-password');
    const html = await page.evaluate(() => document.documentElement.outerHTML);
    assert.ok(!html.includes(ENTERPRISE.name), 'nothing of the enterprise behind the sign-in screen');
    assert.equal(await page.getByTestId('sign-in-expired').count(), 0, 'locked, not expired');
    await shot(page, '37-sign-in-locked');

    // Locked: no second lock, no idle clear, however long it stays.
    await page.waitForTimeout(2500);
    assert.equal((await calls(page, 'lock_session')).length, 1);
    assert.deepEqual(await calls(page, 'idle_clear'), []);

    await setResponse(page, 'counter_info', { value: signedCounter(CLERK, { ...privacy({ idleClearSeconds: 60, lockSeconds: 2 }), bizNum: NEXT_BIZ }) });
    // A person's pace (a burst of keys 20 ms apart would be a scanner fired into the field, and its Enter is dropped).
    await page.keyboard.type('wangxm-pass', { delay: 60 });
    await page.keyboard.press('Enter');
    await page.getByTestId('counter-header').waitFor();
    assert.deepEqual(await calls(page, 'sign_in'), [{ account: 'wangxm', password: 'wangxm-pass' }]);
    assert.equal(await page.getByTestId('clerk-name').textContent(), '王小明');
    assert.equal(await page.getByTestId('biz-num').textContent(), NEXT_BIZ);
    // The timer starts again from the sign-in.
    await page.getByTestId('sign-in-locked').waitFor({ timeout: 6000 });
    assert.equal((await calls(page, 'lock_session')).length, 2);
    assert.deepEqual(page.errors, []);
  } finally {
    await closePage(page);
  }
});

test('idle lock in English, and a lock the shell could not record still locks the window', async () => {
  const info = signedCounter(CLERK, privacy({ idleClearSeconds: null, lockSeconds: 1 }));
  const page = await open(info, {
    lock_session: { error: { code: 'STORAGE_FAILED', message: '本机数据库写入失败。', fact: null } },
  }, { storage: { 'yueshang.lang': 'en' } });
  try {
    await page.getByTestId('sign-in-locked').waitFor({ timeout: 5000 });
    assert.match(await page.getByTestId('sign-in-locked').textContent(), /Locked: 王小明, please sign in again/);
    assert.equal(await page.getByTestId('sign-in-account').inputValue(), CLERK.account);
    assert.deepEqual(page.errors, []);
  } finally {
    await closePage(page);
  }
});

test('off in counter_info (null), or a counter without accounts: nothing clears or locks', async () => {
  const page = await open(counterInfo(privacy({ idleClearSeconds: null, lockSeconds: 1 })));
  try {
    await serve(page);
    await page.waitForTimeout(2200);
    assert.equal(await countdown(page).count(), 0);
    assert.deepEqual(await calls(page, 'idle_clear'), []);
    assert.deepEqual(await calls(page, 'lock_session'), [], 'no accounts: no lock');
    assert.equal(await page.getByTestId('enterprise-card').count(), 1);
  } finally {
    await closePage(page);
  }
});
