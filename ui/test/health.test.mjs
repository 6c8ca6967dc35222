// Browser tests of the header's gateway status and 网页模式: ok / amber / red words as "gateway-health" events arrive, the advice on a click, open_portal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  sharedBrowser, closePage, counterInfo, openApp, signedCounter, CLERK, resolvePending, setResponse, shot, waitForCall, waitForPending,
} from './support.mjs';

const env = sharedBrowser();

const ADVICE_UNAVAILABLE = '暂时连不上省网关，请稍后重试；持续失败请联系IT检查网络和网关地址。';

function healthOf(over = {}) {
  return {
    level: 'ok',
    lastSuccessAt: '2026-11-28T10:02:00+08:00',
    recentFailures: 0,
    consecutiveFailures: 0,
    lastFailureCode: null,
    lastFailureAt: null,
    advice: null,
    clockSkewSecs: 0,
    ...over,
  };
}

const DEGRADED = healthOf({
  level: 'degraded', recentFailures: 2, lastSuccessAt: '2026-11-28T10:04:10+08:00',
  lastFailureCode: 'RATE_LIMITED', lastFailureAt: '2026-11-28T10:04:00+08:00', advice: '请求过于频繁，请稍等片刻再试。',
});
const DOWN = healthOf({
  level: 'down', recentFailures: 3, consecutiveFailures: 3, lastSuccessAt: '2026-11-28T10:04:10+08:00',
  lastFailureCode: 'GATEWAY_UNAVAILABLE', lastFailureAt: '2026-11-28T10:05:30+08:00', advice: ADVICE_UNAVAILABLE,
});

const emitHealth = (page, h) => page.evaluate((h) => window.__h.emitEvent('gateway-health', h), h);
/** The words as written (textContent), whatever the width shows: at 1366 the fact goes under the words, without the dot between. */
const words = async (page) => (await page.getByTestId('health-text').textContent()).replace(/\s+/g, ' ').trim();
const buttonText = async (page) => (await page.getByTestId('portal-open').textContent()).replace(/\s+/g, ' ').trim();
const levelOf = (page) => page.getByTestId('gateway-health').getAttribute('data-level');

test('the header shows ok, amber and red words as gateway-health events arrive, with the advice on a click', async () => {
  const page = await openApp(env, { responses: { gateway_health: { value: healthOf() } } });
  try {
    await page.waitForFunction(() => document.querySelector('[data-testid="gateway-health"]')?.dataset.level === 'ok');
    assert.equal(await words(page), '网关正常 · 上次成功 10:02');
    assert.equal(await buttonText(page), '网页模式');
    assert.equal(await page.getByTestId('health-indicator').getAttribute('class'), 'health-pill health-ok');

    await emitHealth(page, DEGRADED);
    await page.waitForFunction(() => document.querySelector('[data-testid="gateway-health"]')?.dataset.level === 'degraded');
    assert.equal(await words(page), '网关不稳定 · 5 分钟内失败 2 次');
    await shot(page, 'health-01-degraded');

    await emitHealth(page, DOWN);
    await page.waitForFunction(() => document.querySelector('[data-testid="gateway-health"]')?.dataset.level === 'down');
    assert.equal(await words(page), '网关连不上 · 上次成功 10:04');
    const portal = page.getByTestId('portal-open');
    assert.equal(await buttonText(page), '网关连不上？改用网页模式');
    assert.equal((await portal.innerText()).trim(), '改用网页模式', 'at 1366 the pill already says 网关连不上');
    assert.match(await portal.getAttribute('class'), /portal-prominent/);
    // The advice is in the tooltip and in the line a click opens.
    assert.match(await page.getByTestId('health-indicator').getAttribute('title'), /暂时连不上省网关/);
    await page.getByTestId('health-indicator').click();
    const details = await page.getByTestId('health-details').innerText();
    assert.match(details, /暂时连不上省网关，请稍后重试/);
    assert.match(details, /最近一次失败：10:05（GATEWAY_UNAVAILABLE）/);
    assert.match(details, /连续失败 3 次/);
    assert.equal(await page.getByTestId('health-indicator').getAttribute('aria-expanded'), 'true');
    // Nothing is cut off or pushed sideways at 1366×768.
    const fits = await page.evaluate(() => {
      const r = document.querySelector('[data-testid="counter-header"]').getBoundingClientRect();
      return document.documentElement.scrollWidth <= innerWidth && r.right <= innerWidth;
    });
    assert.equal(fits, true);
    await shot(page, 'health-02-down');
    await page.getByTestId('health-indicator').click();
    assert.equal(await page.getByTestId('health-details').count(), 0);

    // Back: green again, the plain button.
    await emitHealth(page, healthOf({ lastSuccessAt: '2026-11-28T10:11:00+08:00' }));
    await page.waitForFunction(() => document.querySelector('[data-testid="gateway-health"]')?.dataset.level === 'ok');
    assert.equal(await words(page), '网关正常 · 上次成功 10:11');
    assert.equal(await buttonText(page), '网页模式');
    assert.deepEqual(page.errors, []);
  } finally {
    await closePage(page);
  }
});

test('the state at start comes from gateway_health, and an event newer than its answer wins', async () => {
  const page = await openApp(env);
  try {
    await waitForPending(page, 'gateway_health');
    assert.equal(await levelOf(page), 'unknown');
    assert.equal(await words(page), '网关检测中');
    await emitHealth(page, DOWN);
    await page.waitForFunction(() => document.querySelector('[data-testid="gateway-health"]')?.dataset.level === 'down');
    await resolvePending(page, 'gateway_health', healthOf());
    await page.waitForTimeout(100);
    assert.equal(await levelOf(page), 'down', 'the older answer does not overwrite the event');
  } finally {
    await closePage(page);
  }
});

test('网页模式 calls open_portal with no address and says what it opened, or why not', async () => {
  const page = await openApp(env, {
    responses: {
      gateway_health: { value: DOWN },
      open_portal: { value: { url: 'http://127.0.0.1:4567/sim/portal', host: '127.0.0.1:4567' } },
    },
  });
  try {
    await page.waitForFunction(() => document.querySelector('[data-testid="gateway-health"]')?.dataset.level === 'down');
    await page.getByTestId('portal-open').click();
    const calls = await waitForCall(page, 'open_portal');
    assert.deepEqual(calls, [{}], 'the window names no URL: the shell opens only the configured portal');
    await page.getByTestId('portal-note').waitFor();
    assert.equal((await page.getByTestId('portal-note').innerText()).trim(), '已在浏览器中打开 127.0.0.1:4567');
    await shot(page, 'health-03-portal-opened');

    await setResponse(page, 'open_portal', {
      error: {
        code: 'CONFIG_INVALID',
        message: '本机无法用浏览器打开 https://www.gdzwfw.gov.cn/（未找到默认浏览器）。可在浏览器中手动输入该网址；配置有误，请联系IT修正配置文件。',
        fact: '本机无法用浏览器打开 https://www.gdzwfw.gov.cn/（未找到默认浏览器）。可在浏览器中手动输入该网址；',
      },
    });
    await page.getByTestId('portal-open').click();
    await waitForCall(page, 'open_portal', 2);
    await page.waitForFunction(() => document.querySelector('[data-testid="portal-note"]')?.innerText.includes('gdzwfw'));
    assert.match(await page.getByTestId('portal-note').getAttribute('class'), /portal-note-failed/);
  } finally {
    await closePage(page);
  }
});

test('in English the words and the advice follow the language', async () => {
  const page = await openApp(env, { responses: { gateway_health: { value: DOWN } }, storage: { 'yueshang.lang': 'en' } });
  try {
    await page.waitForFunction(() => document.querySelector('[data-testid="gateway-health"]')?.dataset.level === 'down');
    assert.equal(await words(page), 'Gateway unreachable · last success 10:04');
    assert.equal(await buttonText(page), 'Gateway down? Use the web portal');
    await page.getByTestId('health-indicator').click();
    assert.match(await page.getByTestId('health-details').innerText(), /cannot be reached right now/);
  } finally {
    await closePage(page);
  }
});

test('a gateway-mode counter shows the indicator too', async () => {
  const page = await openApp(env, {
    responses: { counter_info: { value: counterInfo({ mode: 'gateway', environment: 'production' }) }, gateway_health: { value: DEGRADED } },
  });
  try {
    await page.waitForFunction(() => document.querySelector('[data-testid="gateway-health"]')?.dataset.level === 'degraded');
    assert.equal(await words(page), '网关不稳定 · 5 分钟内失败 2 次');
  } finally {
    await closePage(page);
  }
});

test('on a wide screen the fact stands beside the words and the button says why', async () => {
  const page = await openApp(env, { responses: { gateway_health: { value: DOWN } }, viewport: { width: 1920, height: 1080 } });
  try {
    await page.waitForFunction(() => document.querySelector('[data-testid="gateway-health"]')?.dataset.level === 'down');
    assert.equal((await page.getByTestId('health-text').innerText()).replace(/\s+/g, ' ').trim(), '网关连不上 · 上次成功 10:04');
    assert.equal(await buttonText(page), '网关连不上？改用网页模式');
    assert.equal(await page.locator('.portal-lead').isVisible(), true, 'the lead shows on a wide screen');
    await shot(page, 'health-04-down-1920');
  } finally {
    await closePage(page);
  }
});

test('at 1366 with a signed-in clerk the header still has room for who and where', async () => {
  const page = await openApp(env, {
    responses: { counter_info: { value: signedCounter(CLERK) }, gateway_health: { value: DOWN } },
  });
  try {
    await page.waitForFunction(() => document.querySelector('[data-testid="gateway-health"]')?.dataset.level === 'down');
    const facts = await page.evaluate(() => {
      const q = (s) => document.querySelector(s);
      const staff = q('.header-staff');
      const hall = q('[data-testid="hall-name"]');
      const identity = q('.header-identity').getBoundingClientRect();
      const next = q('.header-status').getBoundingClientRect();
      return {
        staffFits: staff.scrollWidth <= staff.clientWidth + 1 && staff.getBoundingClientRect().right <= next.left,
        hallFits: hall.scrollWidth <= hall.clientWidth + 1,
        item: q('[data-testid="item-select"]').getBoundingClientRect().width,
        identityWidth: identity.width,
        pageFits: document.documentElement.scrollWidth <= innerWidth,
      };
    });
    assert.deepEqual(facts.pageFits, true, JSON.stringify(facts));
    assert.equal(facts.staffFits, true, JSON.stringify(facts));
    assert.equal(facts.hallFits, true, JSON.stringify(facts));
    await shot(page, 'health-05-signed-in-1366');
  } finally {
    await closePage(page);
  }
});
