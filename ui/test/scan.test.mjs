// Browser tests of the scan flow: the keyboard-wedge scanner, manual entry with an input method, streaming cards, retry and 下一位.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  sharedBrowser, authorization, calls, closePage, counterInfo, emitProgress, ENTERPRISE, fileInfo, license, openApp, outcome, PAYLOAD,
  rejectPending, resolvePending, scanResult, scanWithGun, shot, startScan, summaries, typeKeyEvents, waitForCall,
  waitForPending,
} from './support.mjs';

const env = sharedBrowser();

const cardsState = (page) =>
  page.$$eval('[data-testid="license-card"]', (els) =>
    els.map((e) => ({
      code: e.dataset.licenseCode,
      status: e.dataset.status,
      phase: e.dataset.phase,
      badge: e.querySelector('[data-testid="status-badge"]').textContent.trim(),
    })),
  );

test('scanner keystrokes with nothing focused call scan with the exact payload and the selected item', async () => {
  const page = await openApp(env);
  try {
    await page.getByTestId('item-select').selectOption('SP-002');
    const scanId = await startScan(page, PAYLOAD);
    const [args] = await calls(page, 'scan');
    assert.deepEqual(args, { scanId, payload: PAYLOAD, itemCode: 'SP-002' });
    assert.match(await page.getByTestId('scan-status').textContent(), /正在查询/);
    assert.equal(await page.getByTestId('scan-prompt').getAttribute('data-busy'), 'true');
  } finally {
    await closePage(page);
  }
});

test('a scan right after picking the item, with the select still focused, keeps the item', async () => {
  const page = await openApp(env);
  try {
    await page.getByTestId('item-select').selectOption('SP-002');
    await page.getByTestId('item-select').focus();
    // Typed characters must not jump the select to an item starting with them.
    await typeKeyEvents(page, PAYLOAD);
    await page.keyboard.press('Enter');
    await waitForCall(page, 'scan');
    const [args] = await calls(page, 'scan');
    assert.equal(args.payload, PAYLOAD);
    assert.equal(args.itemCode, 'SP-002');
    assert.equal(await page.getByTestId('item-select').inputValue(), 'SP-002');
  } finally {
    await closePage(page);
  }
});

test('full-width scanner input is folded to ASCII', async () => {
  const page = await openApp(env);
  try {
    // What a scanner types behind a Chinese IME in full-width mode.
    await page.evaluate(() => document.activeElement?.blur());
    await typeKeyEvents(page, 'ＹＳＭ：ｖ１：９１４４０１０１ＭＡ５ＣＸＸＸＸ１Ａ／ａｂ。ｃ');
    await page.keyboard.press('Enter');
    await waitForCall(page, 'scan');
    const [args] = await calls(page, 'scan');
    assert.equal(args.payload, 'YSM:v1:91440101MA5CXXXX1A/ab.c');
  } finally {
    await closePage(page);
  }
});

test('a short Enter, a pause of more than 2 s, and keys typed into a field never make a scan', async () => {
  const page = await openApp(env);
  try {
    await scanWithGun(page, 'ab');
    await page.keyboard.type('YSM:');
    await page.waitForTimeout(2200);
    await page.keyboard.type('xy');
    await page.keyboard.press('Enter');
    await page.getByTestId('manual-open').click();
    await page.getByTestId('manual-input').pressSequentially('YSM:typed');
    await page.getByTestId('manual-input').blur();
    await page.keyboard.press('Control+c');
    await page.keyboard.press('Enter');
    assert.deepEqual(await calls(page, 'scan'), []);
  } finally {
    await closePage(page);
  }
});

test('the scanner works while a card is focused, without opening the viewer', async () => {
  const page = await openApp(env, { responses: { scan: { value: scanResult() } } });
  try {
    await startScan(page);
    await page.locator('[data-testid="license-card"][data-phase="ready"]').first().waitFor();
    await page.locator('[data-testid="license-card"]').first().focus();
    await page.keyboard.type('YSM:v1:second');
    await page.keyboard.press('Enter');
    const all = await waitForCall(page, 'scan', 2);
    assert.equal(all[1].payload, 'YSM:v1:second');
    assert.equal(await page.getByTestId('viewer').count(), 0);
  } finally {
    await closePage(page);
  }
});

test('manual entry: F2 opens it, an IME composition Enter does not submit, a real Enter does and leaves the field', async () => {
  const page = await openApp(env);
  try {
    await page.keyboard.press('F2');
    const input = page.getByTestId('manual-input');
    await input.waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'manual-input');
    // A real composition through Chromium's IME path, committed (as an IME's Enter does).
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Input.imeSetComposition', { text: 'ｙｓｍ', selectionStart: 3, selectionEnd: 3 });
    await cdp.send('Input.dispatchKeyEvent', { type: 'rawKeyDown', windowsVirtualKeyCode: 229, key: 'Process', code: 'Enter' });
    await cdp.send('Input.insertText', { text: 'ＹＳＭ：' });
    // The Enter keydown an IME delivers while composing.
    await input.evaluate((el) => {
      el.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', isComposing: true, bubbles: true, cancelable: true }));
      el.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', keyCode: 229, bubbles: true, cancelable: true }));
    });
    await page.waitForTimeout(50);
    assert.deepEqual(await calls(page, 'scan'), []);
    await input.pressSequentially('v1:ＡＢＣ１２３');
    await page.keyboard.press('Enter');
    const [args] = await waitForCall(page, 'scan');
    assert.equal(args.payload, 'YSM:v1:ABC123');
    assert.notEqual(await page.evaluate(() => document.activeElement?.dataset.testid), 'manual-input');
    // The scanner works again at once.
    await rejectPending(page, 'scan', { code: 'CODE_INVALID', message: '不是粤商码' });
    await page.getByTestId('error-banner').waitFor();
    await page.keyboard.type(PAYLOAD);
    await page.keyboard.press('Enter');
    const all = await waitForCall(page, 'scan', 2);
    assert.equal(all[1].payload, PAYLOAD);
  } finally {
    await closePage(page);
  }
});

test('after a bad scan the error shows and the next scan needs no click, and starts clean', async () => {
  const page = await openApp(env);
  try {
    await startScan(page, 'hello-not-a-code');
    await rejectPending(page, 'scan', { code: 'CODE_INVALID', message: '扫描内容不是粤商码。', fact: '扫描内容不是粤商码。' });
    await page.getByTestId('error-banner').waitFor();
    assert.match(await page.getByTestId('error-headline').textContent(), /不是有效的粤商码/);
    assert.match(await page.getByTestId('error-detail').textContent(), /扫描内容不是粤商码/);
    await page.keyboard.type(PAYLOAD);
    await page.keyboard.press('Enter');
    await waitForCall(page, 'scan', 2);
    assert.equal(await page.getByTestId('error-banner').count(), 0, 'a new scan clears the old error');
  } finally {
    await closePage(page);
  }
});

test('streaming: enterprise card, placeholders in position order, details and files, badges never 有效 when not valid', async () => {
  const page = await openApp(env);
  try {
    const scanId = await startScan(page);
    const auth = authorization();
    // Summaries arrive out of order; cards must follow `position`.
    const shuffled = { ...auth, licenses: [...auth.licenses].reverse() };
    await emitProgress(page, scanId, { kind: 'enterpriseKnown', bizNum: 'YS-440106001-A03-20261128-0008', enterprise: ENTERPRISE, authorization: shuffled });
    await page.getByTestId('enterprise-card').waitFor();
    assert.equal(await page.getByTestId('enterprise-name').textContent(), ENTERPRISE.name);
    assert.equal(await page.getByTestId('enterprise-uscc').textContent(), ENTERPRISE.uscc);
    assert.equal(await page.getByTestId('enterprise-legal-rep').textContent(), '陈*');
    assert.equal(await page.getByTestId('biz-num').textContent(), 'YS-440106001-A03-20261128-0008');
    let cards = await cardsState(page);
    assert.deepEqual(cards.map((c) => c.code), auth.licenses.map((l) => l.licenseCode));
    assert.ok(cards.every((c) => c.phase === 'loading'));
    assert.equal(cards[3].badge, '已过期');
    assert.equal(cards[5].badge, '已注销');
    assert.equal(cards[0].badge, '有效');
    assert.match(await page.locator('[data-testid="license-card"]').nth(0).getByTestId('license-validity').textContent(), /^长期$/);
    assert.match(await page.locator('[data-testid="license-card"]').nth(1).getByTestId('license-validity').textContent(), /^2024-01-01 至 2029-12-31$/);

    const s = summaries();
    // #1: detail says revoked although the summary said valid: the most recent status wins.
    await emitProgress(page, scanId, { kind: 'licenseArrived', license: license(s[1], { status: 'revoked', abolishReason: '吊销' }) });
    await emitProgress(page, scanId, { kind: 'licenseArrived', license: license(s[0]) });
    await emitProgress(page, scanId, { kind: 'fileArrived', position: 0, licenseCode: s[0].licenseCode, file: fileInfo(s[0]) });
    await emitProgress(page, scanId, { kind: 'licenseArrived', license: license(s[3]) });
    await emitProgress(page, scanId, { kind: 'fileArrived', position: 3, licenseCode: s[3].licenseCode, file: fileInfo(s[3]) });
    await emitProgress(page, scanId, { kind: 'licenseArrived', license: license(s[5]) });
    // A stale summary (valid, but its end date has passed) is still not shown as 有效.
    await emitProgress(page, scanId, { kind: 'licenseArrived', license: license(s[6], { validUntil: '2020-01-01', status: 'valid' }) });
    await page.locator(`[data-license-code="${s[0].licenseCode}"][data-phase="ready"]`).waitFor();
    cards = await cardsState(page);
    assert.deepEqual(
      cards.slice(0, 7).map((c) => [c.status, c.badge]),
      [['valid', '有效'], ['revoked', '已注销'], ['valid', '有效'], ['expired', '已过期'], ['valid', '有效'], ['revoked', '已注销'], ['expired', '已过期']],
    );
    assert.equal(cards[5].phase, 'ready', 'a revoked license needs no file');
    assert.match(await page.getByTestId('scan-status').textContent(), /已完成 \d+ \/ 13/);
    await shot(page, '02-streaming');

    // The final result is the truth for the end state.
    await resolvePending(page, 'scan', scanResult());
    await page.waitForFunction(() => document.querySelector('[data-testid="scan-status"]').dataset.phase === 'done');
    cards = await cardsState(page);
    assert.equal(cards.length, 13);
    assert.ok(cards.every((c) => c.phase === 'ready'));
    assert.deepEqual(cards.filter((c) => c.badge === '有效').length, 13 - 3);
    for (const c of cards) if (c.status !== 'valid') assert.notEqual(c.badge, '有效');
    assert.equal(await page.getByTestId('scan-status').textContent(), '13 张证照，用时 0.4 秒');
  } finally {
    await closePage(page);
  }
});

test('events of an older scan are ignored', async () => {
  const page = await openApp(env);
  try {
    const first = await startScan(page, 'YSM:v1:first-code');
    const second = await startScan(page, 'YSM:v1:second-code');
    assert.ok(second > first);
    await rejectPending(page, 'scan', { code: 'SCAN_CANCELLED', message: '已取消' });
    await emitProgress(page, first, { kind: 'enterpriseKnown', bizNum: 'OLD', enterprise: { ...ENTERPRISE, name: '旧企业有限公司' }, authorization: authorization(2) });
    await emitProgress(page, second, { kind: 'enterpriseKnown', bizNum: 'NEW', enterprise: ENTERPRISE, authorization: authorization(3) });
    await emitProgress(page, first, { kind: 'licenseFailed', position: 0, licenseCode: summaries()[0].licenseCode, error: { code: 'GATEWAY_TIMEOUT', message: 'x' } });
    await page.getByTestId('enterprise-card').waitFor();
    await page.waitForTimeout(50);
    assert.equal(await page.getByTestId('enterprise-name').textContent(), ENTERPRISE.name);
    assert.equal(await page.getByTestId('biz-num').textContent(), 'NEW');
    assert.equal(await page.getByTestId('license-card').count(), 3);
    assert.equal(await page.getByTestId('card-error').count(), 0);
    assert.equal(await page.getByTestId('error-banner').count(), 0, 'SCAN_CANCELLED is silent');
  } finally {
    await closePage(page);
  }
});

test('a failed license shows the reason and 重试 updates the card with the outcome', async () => {
  const page = await openApp(env, { responses: { retry_license: { pending: true } } });
  try {
    const scanId = await startScan(page);
    const s = summaries(4);
    await emitProgress(page, scanId, { kind: 'enterpriseKnown', bizNum: 'YS-2', enterprise: ENTERPRISE, authorization: authorization(4) });
    await emitProgress(page, scanId, { kind: 'licenseFailed', position: 2, licenseCode: s[2].licenseCode, error: { code: 'GATEWAY_TIMEOUT', message: '电子证照系统 15 秒内未响应。', fact: '电子证照系统 15 秒内未响应。' } });
    const card = page.locator(`[data-license-code="${s[2].licenseCode}"]`);
    await card.getByTestId('card-error').waitFor();
    assert.match(await card.getByTestId('card-error').textContent(), /网关响应超时.*电子证照系统 15 秒内未响应/s);
    await resolvePending(page, 'scan', scanResult({ n: 4, failed: [2] }));
    await page.waitForFunction(() => document.querySelector('[data-testid="scan-status"]').dataset.phase === 'done');
    assert.match(await page.getByTestId('scan-status').textContent(), /4 张证照，用时 0\.4 秒，1 张获取失败/);
    await shot(page, '04-failed-card');

    // Retry, fails again: the card shows the new reason.
    await card.getByTestId('retry-button').focus();
    await page.keyboard.press('Enter');
    await waitForPending(page, 'retry_license');
    assert.equal(await card.getAttribute('data-phase'), 'retrying');
    assert.deepEqual((await calls(page, 'retry_license'))[0], { licenseCode: s[2].licenseCode });
    await resolvePending(page, 'retry_license', { summary: s[2], license: null, file: null, error: { code: 'RATE_LIMITED', message: '请求过于频繁' } });
    await card.locator('[data-testid="card-error"][data-code="RATE_LIMITED"]').waitFor();
    assert.equal(await page.getByTestId('viewer').count(), 0, 'Enter on 重试 does not open the viewer');

    // Retry, succeeds: the card becomes an ordinary one.
    await card.getByTestId('retry-button').click();
    await waitForPending(page, 'retry_license');
    await resolvePending(page, 'retry_license', outcome(s[2]));
    await page.locator(`[data-license-code="${s[2].licenseCode}"][data-phase="ready"]`).waitFor();
    assert.equal(await card.getByTestId('card-error').count(), 0);
    assert.equal(await card.getAttribute('data-has-file'), 'true');
    assert.doesNotMatch(await page.getByTestId('scan-status').textContent(), /失败/);
  } finally {
    await closePage(page);
  }
});

async function showResult(page) {
  const scanId = await startScan(page);
  await emitProgress(page, scanId, { kind: 'enterpriseKnown', bizNum: 'YS-440106001-A03-20261128-0008', enterprise: ENTERPRISE, authorization: authorization() });
  await resolvePending(page, 'scan', scanResult({ failed: [4] }));
  await page.getByTestId('card-error').waitFor();
}

function assertNoTrace(html) {
  for (const secret of [ENTERPRISE.name, ENTERPRISE.uscc, '陈*', 'JY14401060012345', '星河餐饮', PAYLOAD, '电子证照系统 15 秒内未响应']) {
    assert.ok(!html.includes(secret), `no trace of ${secret}`);
  }
}

test('下一位 by F8 clears every trace of the enterprise and shows the new handling number', async () => {
  const page = await openApp(env, { responses: { next_customer: { value: { bizNum: 'YS-440106001-A03-20261128-0009' } } } });
  try {
    await page.keyboard.press('F2');
    await page.getByTestId('manual-input').fill(PAYLOAD);
    await page.getByTestId('manual-input').blur();
    await showResult(page);
    await page.keyboard.press('F8');
    await waitForCall(page, 'next_customer');
    await page.waitForFunction(() => document.querySelector('[data-testid="biz-num"]').textContent.endsWith('0009'));
    assertNoTrace(await page.evaluate(() => document.body.innerHTML));
    await page.getByTestId('scan-prompt').waitFor();
    assert.equal(await page.getByTestId('scan-status').textContent(), '就绪，请扫码');
    // Nothing focused: a stray Enter does not press 下一位 again.
    assert.equal(await page.evaluate(() => document.activeElement === document.body), true);
    await page.keyboard.press('Enter');
    assert.equal((await calls(page, 'next_customer')).length, 1);
    // Ready to scan at once.
    await page.keyboard.type(PAYLOAD);
    await page.keyboard.press('Enter');
    await waitForCall(page, 'scan', 2);
  } finally {
    await closePage(page);
  }
});

test('下一位 by button, with the viewer and an error on screen, also clears everything; late events are ignored', async () => {
  const page = await openApp(env, { responses: { next_customer: { value: { bizNum: 'YS-440106001-A03-20261128-0010' } }, license_file: { pending: true } } });
  try {
    const scanId = await startScan(page);
    await emitProgress(page, scanId, { kind: 'enterpriseKnown', bizNum: 'YS-8', enterprise: ENTERPRISE, authorization: authorization() });
    const s = summaries();
    await emitProgress(page, scanId, { kind: 'licenseArrived', license: license(s[0]) });
    await emitProgress(page, scanId, { kind: 'fileArrived', position: 0, licenseCode: s[0].licenseCode, file: fileInfo(s[0]) });
    await emitProgress(page, scanId, { kind: 'licenseFailed', position: 4, licenseCode: s[4].licenseCode, error: { code: 'GATEWAY_TIMEOUT', message: '电子证照系统 15 秒内未响应。', fact: '电子证照系统 15 秒内未响应。' } });
    await page.locator(`[data-license-code="${s[0].licenseCode}"]`).click();
    await page.getByTestId('viewer').waitFor();
    // The viewer covers the page; the button is reached by F8 or, here, by a script click as a mouse would after closing.
    await page.getByTestId('next-customer').evaluate((b) => b.click());
    await waitForCall(page, 'next_customer');
    await rejectPending(page, 'scan', { code: 'SCAN_CANCELLED', message: '已取消' });
    await emitProgress(page, scanId, { kind: 'licenseArrived', license: license(s[1]) });
    await page.waitForFunction(() => document.querySelector('[data-testid="biz-num"]').textContent.endsWith('0010'));
    assert.equal(await page.getByTestId('viewer').count(), 0);
    assert.equal(await page.getByTestId('enterprise-card').count(), 0);
    assertNoTrace(await page.evaluate(() => document.body.innerHTML));
    assert.equal(await page.getByTestId('error-banner').count(), 0);
  } finally {
    await closePage(page);
  }
});

test('a new scan while a result is on screen starts clean and takes the new handling number', async () => {
  const page = await openApp(env);
  try {
    await showResult(page);
    const scanId = await startScan(page, 'YSM:v1:another');
    assert.equal(await page.getByTestId('enterprise-card').count(), 0, 'old enterprise gone as soon as the new scan starts');
    assert.equal(await page.getByTestId('license-card').count(), 0);
    await emitProgress(page, scanId, { kind: 'enterpriseKnown', bizNum: 'YS-440106001-A03-20261128-0011', enterprise: { ...ENTERPRISE, name: '另一家公司' }, authorization: authorization(1) });
    await page.waitForFunction(() => document.querySelector('[data-testid="enterprise-name"]')?.textContent === '另一家公司');
    assert.equal(await page.getByTestId('biz-num').textContent(), 'YS-440106001-A03-20261128-0011');
  } finally {
    await closePage(page);
  }
});

test('keyboard only: Tab reaches the cards, Enter opens the viewer, Esc returns focus to the card', async () => {
  const page = await openApp(env, {
    responses: { counter_info: { value: counterInfo({ mode: 'gateway' }) }, scan: { value: scanResult() }, license_file: { pending: true } },
  });
  try {
    await startScan(page);
    await page.locator('[data-testid="license-card"][data-phase="ready"]').first().waitFor();
    let reached = null;
    for (let i = 0; i < 15 && reached !== 'license-card'; i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.dataset.testid);
    }
    assert.equal(reached, 'license-card');
    const code = await page.evaluate(() => document.activeElement.dataset.licenseCode);
    await page.keyboard.press('Enter');
    await page.getByTestId('viewer').waitFor();
    await page.keyboard.press('Escape');
    await page.getByTestId('viewer').waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.licenseCode), code);
  } finally {
    await closePage(page);
  }
});
