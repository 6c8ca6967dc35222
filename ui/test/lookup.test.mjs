// Browser tests of 依职能用证: a typed USCC asks for the legal ground before anything goes out, the lookup answers as a scan does, and the ground stays on the enterprise card.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  sharedBrowser, calls, closePage, ENTERPRISE, openApp, resolvePending, scanResult, scanWithGun, setResponse, shot, waitForCall,
  waitForPending,
} from './support.mjs';

const env = sharedBrowser();
const USCC = '91440101MA5CXXXX1A';
const asUscc = { read_entry: { value: { kind: 'uscc', uscc: USCC } } };

test('a typed USCC asks for the ground first; nothing is looked up until the clerk confirms', async () => {
  const page = await openApp(env, { responses: asUscc });
  try {
    await page.getByTestId('manual-open').click();
    await page.getByTestId('manual-input').fill('9144 0101 ma5c xxxx 1a');
    await page.keyboard.press('Enter');
    await page.getByTestId('lookup-dialog').waitFor();
    assert.deepEqual(await calls(page, 'read_entry'), [{ text: '9144 0101 ma5c xxxx 1a' }]);
    assert.equal(await page.getByTestId('lookup-uscc').textContent(), '91 440101 MA5CXXXX1 A');
    assert.equal(await page.getByTestId('lookup-confirm').isDisabled(), true, 'no ground picked yet');
    // Enter without a ground does nothing.
    await page.keyboard.press('Enter');
    assert.deepEqual(await calls(page, 'lookup'), []);
    await shot(page, 'lookup-01-ground');
    // The second ground, by its number key, then Enter.
    await page.keyboard.press('2');
    assert.equal(await page.getByTestId('lookup-confirm').isDisabled(), false);
    await page.keyboard.press('Enter');
    const [args] = await waitForCall(page, 'lookup');
    assert.equal(args.uscc, USCC);
    assert.equal(args.ground, '企业现场书面授权');
    assert.equal(args.itemCode, 'SP-001');
    assert.deepEqual(await calls(page, 'scan'), [], 'a USCC is never sent as a code');
    await page.getByTestId('lookup-dialog').waitFor({ state: 'detached' });

    await waitForPending(page, 'lookup');
    await resolvePending(page, 'lookup', { ...scanResult({ n: 4 }), enterprise: { ...ENTERPRISE, legalRepName: '' } });
    await page.getByTestId('enterprise-ground').waitFor();
    assert.match(await page.getByTestId('enterprise-ground').textContent(), /依职能\s*依据：企业现场书面授权/);
    assert.equal(await page.getByTestId('enterprise-legal-rep').textContent(), '（未提供）');
    assert.equal(await page.locator('[data-testid="license-card"]').count(), 4);
    await shot(page, 'lookup-02-result');

    // 下一位 forgets the ground with the customer.
    await setResponse(page, 'next_customer', { value: { bizNum: 'YS-440106001-A03-20261128-0009' } });
    await page.keyboard.press('F8');
    await page.getByTestId('enterprise-ground').waitFor({ state: 'detached' });
  } finally {
    await closePage(page);
  }
});

test('a USCC takes the previous customer off the screen; Esc leaves without a call; a code after it is scanned as a code', async () => {
  const page = await openApp(env, { responses: { scan: { value: scanResult({ n: 2 }) } } });
  try {
    await scanWithGun(page, 'Yx3kP9qLm2Rt8Vw4Zs6AYx3kP9qLm2Rt');
    await page.getByTestId('enterprise-card').waitFor();
    await setResponse(page, 'read_entry', asUscc.read_entry);
    await scanWithGun(page, USCC);
    await page.getByTestId('lookup-dialog').waitFor();
    assert.equal(await page.getByTestId('enterprise-card').count(), 0, 'the previous enterprise is not behind the question');
    assert.equal(await page.getByTestId('license-card').count(), 0);
    await page.keyboard.press('Escape');
    await page.getByTestId('lookup-dialog').waitFor({ state: 'detached' });
    assert.deepEqual(await calls(page, 'lookup'), []);
    await setResponse(page, 'read_entry', { value: { kind: 'code', uscc: null } });
    await scanWithGun(page, 'Yx3kP9qLm2Rt8Vw4Zs6AYx3kP9qLm2Rt');
    await waitForCall(page, 'scan', 2);
    assert.deepEqual(await calls(page, 'lookup'), []);
  } finally {
    await closePage(page);
  }
});

test('a USCC with a mistake says where, and nothing is looked up', async () => {
  const fact = '校验位（第 18 位）按前 17 位算应为“A”，输入的是“B”。若第 18 位无误，则前 17 位中有输错的字符。';
  const error = { code: 'USCC_INVALID', message: `${fact}请核对营业执照上的18位统一社会信用代码后重新输入。`, fact };
  const page = await openApp(env, { responses: { read_entry: { error }, scan: { error } } });
  try {
    await scanWithGun(page, '91440101MA5CXXXX1B');
    await page.getByTestId('error-banner').waitFor();
    assert.match(await page.getByTestId('error-banner').textContent(), /第 18 位/);
    // The core refuses it in `scan`, which puts the refusal on record.
    assert.equal((await calls(page, 'scan')).length, 1);
    assert.deepEqual(await calls(page, 'lookup'), []);
    assert.equal(await page.getByTestId('lookup-dialog').count(), 0);
  } finally {
    await closePage(page);
  }
});
