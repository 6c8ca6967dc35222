// Browser tests of signing in and out: the keyboard-only sign-in screen, its errors, sandbox accounts, an inert scanner, SIGN_IN_REQUIRED from anywhere, 退出登录 and 关于.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  sharedBrowser, calls, CLERK, closePage, counterInfo, ENTERPRISE, gunBurst, KEY_FINGERPRINT, aboutInfo, openApp, PAYLOAD, recordOf,
  rejectPending, resolvePending, SANDBOX_ACCOUNTS, scanResult, scanWithGun, setResponse, shot, signedCounter, startScan,
  SUPERVISOR, waitForCall, waitForPending,
} from './support.mjs';

const env = sharedBrowser();

const focusedId = (page) => page.evaluate(() => document.activeElement?.dataset.testid ?? null);

async function openSignIn(responses = {}, opts = {}) {
  return openApp(env, { waitFor: 'sign-in', responses: { counter_info: { value: signedCounter(null) }, ...responses }, ...opts });
}

async function showResult(page) {
  await setResponse(page, 'scan', { value: scanResult() });
  await startScan(page);
  await page.locator('[data-testid="license-card"][data-phase="ready"]').nth(12).waitFor({ state: 'attached' });
}

test('sign-in screen: nothing of the counter; account focused, Tab to password, Enter signs in; the header then shows name and role', async () => {
  const page = await openSignIn({ sign_in: { pending: true } });
  try {
    for (const id of ['counter-header', 'workspace', 'scan-bar', 'action-bar', 'biz-num', 'item-select', 'next-customer']) {
      assert.equal(await page.getByTestId(id).count(), 0, `${id} is not behind the sign-in screen`);
    }
    assert.equal(await focusedId(page), 'sign-in-account');
    assert.equal(await page.getByTestId('sign-in-hall').textContent(), '广州市天河区政务服务中心');
    assert.equal(await page.getByTestId('sandbox-accounts').count(), 0, 'no sample accounts outside the sandbox list');
    await page.keyboard.type('wangxm', { delay: 60 });
    await page.keyboard.press('Tab');
    assert.equal(await focusedId(page), 'sign-in-password');
    await page.keyboard.type('correct horse 1', { delay: 60 });
    await page.keyboard.press('Enter');
    await waitForPending(page, 'sign_in');
    assert.deepEqual(await calls(page, 'sign_in'), [{ account: 'wangxm', password: 'correct horse 1' }]);
    assert.match(await page.getByTestId('sign-in-submit').textContent(), /正在登录/);
    const infos = (await calls(page, 'counter_info')).length;
    await resolvePending(page, 'sign_in', CLERK);
    await page.getByTestId('counter-header').waitFor();
    // The counter's figures are read again once someone is signed in.
    assert.equal((await calls(page, 'counter_info')).length, infos + 1);
    assert.equal(await page.getByTestId('clerk-name').textContent(), '王小明');
    assert.equal((await page.getByTestId('user-role').textContent()).trim(), '窗口人员');
    assert.equal(await page.getByTestId('sign-out').count(), 1);
    assert.equal(await page.getByTestId('supervisor-open').count(), 0);
    const html = await page.evaluate(() => document.body.innerHTML);
    assert.ok(!html.includes('correct horse 1'), 'the password is nowhere in the page');
    // The scanner works at once: nothing keeps the focus.
    await setResponse(page, 'scan', { value: scanResult() });
    await scanWithGun(page, PAYLOAD);
    await waitForCall(page, 'scan');
    assert.deepEqual(await page.evaluate(() => window.__h.cspViolations), []);
    assert.deepEqual(page.errors, []);
  } finally {
    await closePage(page);
  }
});

test('Enter in the account field with no password moves to the password; an empty form sends nothing', async () => {
  const page = await openSignIn({ sign_in: { value: CLERK } });
  try {
    await page.keyboard.press('Enter');
    assert.equal(await focusedId(page), 'sign-in-account');
    await page.keyboard.type('wangxm', { delay: 60 });
    await page.keyboard.press('Enter');
    assert.equal(await focusedId(page), 'sign-in-password');
    assert.deepEqual(await calls(page, 'sign_in'), []);
  } finally {
    await closePage(page);
  }
});

test('a wrong password says so with the tries left (never which field), clears the password and puts the cursor back in it', async () => {
  const page = await openSignIn({ sign_in: { error: { code: 'SIGN_IN_FAILED', message: '账号或密码不对。还可再试 3 次。', fact: '还可再试 3 次。' } } });
  try {
    await page.getByTestId('sign-in-account').fill('wangxm');
    await page.getByTestId('sign-in-password').fill('wrong-password');
    await page.keyboard.press('Enter');
    const err = page.getByTestId('sign-in-error');
    await err.waitFor();
    assert.equal(await err.getAttribute('data-code'), 'SIGN_IN_FAILED');
    assert.match(await err.textContent(), /账号或密码不对/);
    assert.match(await page.getByTestId('sign-in-error-fact').textContent(), /还可再试 3 次/);
    assert.equal(await page.getByTestId('sign-in-password').inputValue(), '');
    assert.equal(await page.getByTestId('sign-in-account').inputValue(), 'wangxm');
    assert.equal(await focusedId(page), 'sign-in-password');
    assert.equal(await page.getByTestId('counter-header').count(), 0);
    await page.getByTestId('sign-in-password').fill('xx');
    await shot(page, '26b-sign-in-failed');
  } finally {
    await closePage(page);
  }
});

test('a locked account says until when; a disabled one says to ask the supervisor', async () => {
  const page = await openSignIn({
    sign_in: { error: { code: 'ACCOUNT_LOCKED', message: '连续 5 次密码错误，账号已锁定 5 分钟。请在 10:35 后再试。', fact: '请在 10:35 后再试。' } },
  });
  try {
    await page.getByTestId('sign-in-account').fill('wangxm');
    await page.getByTestId('sign-in-password').fill('whatever-1');
    await page.getByTestId('sign-in-submit').click();
    const err = page.locator('[data-testid="sign-in-error"][data-code="ACCOUNT_LOCKED"]');
    await err.waitFor();
    assert.match(await err.textContent(), /连续 5 次密码错误，账号已锁定 5 分钟/);
    assert.match(await err.textContent(), /请在 10:35 后再试/);
    await setResponse(page, 'sign_in', { error: { code: 'ACCOUNT_DISABLED', message: '账号已停用，请找值班长。' } });
    await page.getByTestId('sign-in-password').fill('whatever-2');
    await page.keyboard.press('Enter');
    const dis = page.locator('[data-testid="sign-in-error"][data-code="ACCOUNT_DISABLED"]');
    await dis.waitFor();
    assert.match(await dis.textContent(), /账号已停用，请找值班长/);
  } finally {
    await closePage(page);
  }
});

test('sandbox: 沙箱账号 lists the sample accounts with their roles; a click or Enter fills the form, Enter then signs in', async () => {
  const page = await openSignIn({
    counter_info: { value: counterInfo({ signIn: { required: true, user: null, sandboxAccounts: SANDBOX_ACCOUNTS } }) },
    sign_in: { value: { account: 'duty01', name: '李志华', role: 'supervisor' } },
    day_summary: { pending: true },
  });
  try {
    const box = page.getByTestId('sandbox-accounts');
    assert.match(await box.textContent(), /沙箱账号/);
    const items = page.getByTestId('sandbox-account');
    assert.equal(await items.count(), 3);
    assert.match(await items.nth(0).textContent(), /张晓燕.*窗口人员.*clerk01.*sandbox-clerk-01/s);
    assert.match(await items.nth(2).textContent(), /李志华.*值班长.*duty01.*sandbox-duty-01/s);
    await shot(page, '26-sign-in-sandbox');
    await items.nth(1).click();
    assert.equal(await page.getByTestId('sign-in-account').inputValue(), 'clerk02');
    assert.equal(await page.getByTestId('sign-in-password').inputValue(), 'sandbox-clerk-02');
    // Keyboard only: to the supervisor's entry, Enter fills, Enter again signs in.
    await items.nth(2).focus();
    await page.keyboard.press('Enter');
    assert.equal(await page.getByTestId('sign-in-account').inputValue(), 'duty01');
    assert.equal(await focusedId(page), 'sign-in-submit');
    await page.keyboard.press('Enter');
    await page.getByTestId('counter-header').waitFor();
    assert.deepEqual(await calls(page, 'sign_in'), [{ account: 'duty01', password: 'sandbox-duty-01' }]);
    assert.equal((await page.getByTestId('user-role').textContent()).trim(), '值班长');
    assert.equal(await page.getByTestId('supervisor-open').count(), 1);
  } finally {
    await closePage(page);
  }
});

test('the scanner is inert on the sign-in screen: no scan call, a note, and a burst into the password field is taken back out', async () => {
  const page = await openSignIn({ sign_in: { value: CLERK } });
  try {
    await scanWithGun(page, PAYLOAD);
    await page.getByTestId('sign-in-scan-ignored').waitFor();
    // Into the focused password field, after the clerk typed part of it by hand.
    await page.getByTestId('sign-in-account').fill('wangxm');
    await page.getByTestId('sign-in-password').focus();
    await page.keyboard.type('abc', { delay: 80 });
    await page.waitForTimeout(600);
    await gunBurst(page, PAYLOAD);
    await page.waitForTimeout(50);
    assert.equal(await page.getByTestId('sign-in-password').inputValue(), 'abc');
    assert.deepEqual(await calls(page, 'sign_in'), [], 'the scan\'s Enter signs nobody in');
    // And into the account field.
    await page.getByTestId('sign-in-account').focus();
    await page.waitForTimeout(600);
    await gunBurst(page, PAYLOAD);
    await page.waitForTimeout(50);
    assert.equal(await page.getByTestId('sign-in-account').inputValue(), 'wangxm');
    await page.getByTestId('sign-in-scan-ignored').waitFor();
    // The counter's keys do nothing here either.
    for (const key of ['F8', 'F9', 'F2', 'F6', 'F10']) await page.keyboard.press(key);
    await page.waitForTimeout(50);
    assert.deepEqual(await calls(page, 'scan'), []);
    assert.deepEqual(await calls(page, 'next_customer'), []);
    assert.deepEqual(await calls(page, 'sign_in'), []);
    assert.equal(await page.getByTestId('counter-header').count(), 0);
  } finally {
    await closePage(page);
  }
});

test('account, Tab, password, Enter sent in one fast run (a test driver, a password manager) still signs in', async () => {
  const page = await openSignIn({ sign_in: { value: CLERK } });
  try {
    await page.getByTestId('sign-in-account').focus();
    await gunBurst(page, 'wangxm\tsandbox-clerk');
    await page.getByTestId('counter-header').waitFor();
    assert.deepEqual(await calls(page, 'sign_in'), [{ account: 'wangxm', password: 'sandbox-clerk' }]);
  } finally {
    await closePage(page);
  }
});

test('SIGN_IN_REQUIRED from a scan drops to the sign-in screen (登录已失效) and clears the customer; signing in again starts clean', async () => {
  const page = await openApp(env, { responses: { counter_info: { value: signedCounter(CLERK) }, sign_in: { value: CLERK } } });
  try {
    await showResult(page);
    assert.equal(await page.getByTestId('enterprise-name').textContent(), ENTERPRISE.name);
    await setResponse(page, 'scan', { pending: true });
    await startScan(page);
    await rejectPending(page, 'scan', { code: 'SIGN_IN_REQUIRED', message: '需要登录：账号在登录期间被停用。' });
    await page.getByTestId('sign-in').waitFor();
    assert.match(await page.getByTestId('sign-in-expired').textContent(), /登录已失效，请重新登录/);
    await shot(page, '26c-sign-in-expired');
    assert.equal(await page.getByTestId('counter-header').count(), 0);
    let html = await page.evaluate(() => document.body.innerHTML);
    for (const trace of [ENTERPRISE.name, ENTERPRISE.uscc, '营业执照']) assert.ok(!html.includes(trace), `no trace of ${trace}`);
    assert.equal(await focusedId(page), 'sign-in-account');
    await page.keyboard.type('wangxm', { delay: 60 });
    await page.keyboard.press('Tab');
    await page.keyboard.type('password-9', { delay: 60 });
    await page.keyboard.press('Enter');
    await page.getByTestId('counter-header').waitFor();
    await page.getByTestId('scan-prompt').waitFor();
    assert.equal(await page.getByTestId('enterprise-card').count(), 0);
    html = await page.evaluate(() => document.body.innerHTML);
    assert.ok(!html.includes(ENTERPRISE.name), 'the old customer does not come back');
    assert.equal(await page.getByTestId('error-banner').count(), 0, 'no leftover error banner');
  } finally {
    await closePage(page);
  }
});

test('SIGN_IN_REQUIRED from 办结 (submit_record) drops to sign-in too: the panel closes, nothing of the customer stays', async () => {
  const page = await openApp(env, {
    responses: {
      counter_info: { value: signedCounter(CLERK) },
      submit_record: { error: { code: 'SIGN_IN_REQUIRED', message: '需要登录。' } },
      outbox_status: { value: { waiting: 0, refused: 0, current: null } },
    },
  });
  try {
    await showResult(page);
    await page.keyboard.press('F9');
    await page.locator('[data-testid="record-status"][value="ACCEPTED"]').check();
    await page.getByTestId('record-submit').click();
    await page.getByTestId('sign-in-expired').waitFor();
    assert.equal(await page.getByTestId('record-panel').count(), 0);
    assert.ok(!(await page.evaluate(() => document.body.innerHTML)).includes(ENTERPRISE.name));
    assert.equal(await focusedId(page), 'sign-in-account');
  } finally {
    await closePage(page);
  }
});

test('退出登录 (button and Ctrl+L): sign_out, then the sign-in screen; with a customer on screen it asks first', async () => {
  const page = await openApp(env, {
    responses: { counter_info: { value: signedCounter(CLERK) }, sign_out: { value: null }, next_customer: { value: { bizNum: 'YS-X' } } },
  });
  try {
    // No customer: straight out.
    await page.keyboard.press('Control+l');
    await page.getByTestId('sign-in').waitFor();
    assert.equal((await calls(page, 'sign_out')).length, 1);
    assert.equal(await page.getByTestId('sign-in-expired').count(), 0, 'signing out is not an expired sign-in');
    await setResponse(page, 'sign_in', { value: CLERK });
    await page.getByTestId('sign-in-account').fill('wangxm');
    await page.getByTestId('sign-in-password').fill('password-1');
    await page.keyboard.press('Enter');
    await page.getByTestId('counter-header').waitFor();
    // With a customer: the question, Esc keeps serving, then 结束办理并退出.
    await showResult(page);
    await page.getByTestId('sign-out').click();
    const dlg = page.getByTestId('sign-out-dialog');
    await dlg.waitFor();
    assert.match(await dlg.textContent(), new RegExp(ENTERPRISE.name));
    assert.equal(await focusedId(page), 'sign-out-cancel');
    await page.keyboard.press('Escape');
    await dlg.waitFor({ state: 'detached' });
    assert.equal((await calls(page, 'sign_out')).length, 1);
    assert.equal(await page.getByTestId('enterprise-name').textContent(), ENTERPRISE.name);
    await page.keyboard.press('Control+l');
    await page.getByTestId('sign-out-confirm').click();
    await page.getByTestId('sign-in').waitFor();
    assert.equal((await calls(page, 'sign_out')).length, 2);
    assert.deepEqual(await calls(page, 'next_customer'), [], 'the shell ends the case itself');
    assert.ok(!(await page.evaluate(() => document.body.innerHTML)).includes(ENTERPRISE.name));
  } finally {
    await closePage(page);
  }
});

test('a counter without accounts works as before: no sign-in, no 退出登录, no supervisor view, the configured operator', async () => {
  const page = await openApp(env);
  try {
    assert.equal(await page.getByTestId('clerk-name').textContent(), '王小明');
    assert.equal(await page.getByTestId('user-role').count(), 0);
    assert.equal(await page.getByTestId('sign-out').count(), 0);
    assert.equal(await page.getByTestId('supervisor-open').count(), 0);
    await page.keyboard.press('Control+l');
    await page.keyboard.press('F10');
    await page.waitForTimeout(50);
    assert.deepEqual(await calls(page, 'sign_out'), []);
    assert.equal(await page.getByTestId('supervisor-view').count(), 0);
  } finally {
    await closePage(page);
  }
});

test('关于: version, the key fingerprint in groups of 4, data folder, config file, mode, the storage key and plain secrets; Esc closes and gives the focus back', async () => {
  const page = await openApp(env, {
    responses: {
      counter_info: {
        value: signedCounter(SUPERVISOR, {
          mode: 'gateway', environment: 'production',
          about: aboutInfo({
            version: '0.3.0', configPath: 'C:\\ProgramData\\yueshang\\counter.toml', dataDir: 'C:\\ProgramData\\yueshang\\data',
            storageKey: { backend: 'dpapi', label: 'Windows DPAPI（当前用户）', location: 'C:\\ProgramData\\yueshang\\keys\\storage-key-9a1f.dpapi' },
            plainSecrets: ['gateway.token'],
          }),
        }),
      },
    },
  });
  try {
    await page.getByTestId('about-open').click();
    const dlg = page.getByTestId('about-dialog');
    await dlg.waitFor();
    assert.equal(await page.getByTestId('about-version').textContent(), '0.3.0');
    assert.equal(await page.getByTestId('about-mode').textContent(), '正式环境');
    const fp = (await page.getByTestId('about-fingerprint').textContent()).trim();
    assert.equal(fp, KEY_FINGERPRINT.match(/.{4}/g).join(' '));
    assert.equal(await page.getByTestId('about-data-dir').textContent(), 'C:\\ProgramData\\yueshang\\data');
    assert.equal(await page.getByTestId('about-config').textContent(), 'C:\\ProgramData\\yueshang\\counter.toml');
    const storageKey = page.getByTestId('about-storage-key');
    assert.equal(await storageKey.getAttribute('data-backend'), 'dpapi');
    assert.match(await storageKey.textContent(), /Windows DPAPI/);
    assert.match(await page.getByTestId('about-plain-secrets').textContent(), /gateway\.token.*yueshang secrets import/);
    assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('[data-testid="about-fingerprint"]')).fontFamily.includes('Mono')), true);
    // While it is open the counter's keys and the scanner do nothing.
    await page.keyboard.press('F10');
    await scanWithGun(page, PAYLOAD);
    assert.equal(await page.getByTestId('supervisor-view').count(), 0);
    assert.deepEqual(await calls(page, 'scan'), []);
    await page.getByTestId('about-close').focus();
    await shot(page, '33-about');
    await page.keyboard.press('Escape');
    await dlg.waitFor({ state: 'detached' });
    assert.equal(await focusedId(page), 'about-open');
  } finally {
    await closePage(page);
  }
});

test('关于 on the sign-in screen too; in sandbox mode it says there is no configuration file', async () => {
  const page = await openSignIn();
  try {
    await page.getByTestId('about-open').click();
    await page.getByTestId('about-dialog').waitFor();
    assert.match(await page.getByTestId('about-config').textContent(), /沙箱模式，不使用配置文件/);
    assert.equal(await page.getByTestId('about-mode').textContent(), '沙箱模式');
    await page.keyboard.press('Escape');
    await page.getByTestId('about-dialog').waitFor({ state: 'detached' });
  } finally {
    await closePage(page);
  }
});

test('English: the sign-in screen speaks English', async () => {
  const page = await openSignIn({}, { storage: { 'yueshang.lang': 'en' } });
  try {
    assert.match(await page.getByTestId('sign-in').textContent(), /Sign in/);
    assert.doesNotMatch(await page.getByTestId('sign-in-submit').textContent(), /[\u4e00-\u9fff]/);
  } finally {
    await closePage(page);
  }
});

test('the 办结 record fixture still works signed in (outbox badge beside the person)', async () => {
  const page = await openApp(env, {
    responses: { counter_info: { value: signedCounter(SUPERVISOR, { outbox: { waiting: 2, refused: 1, current: recordOf() } }) } },
  });
  try {
    assert.equal((await page.getByTestId('outbox-waiting').textContent()).trim(), '待上报 2');
    assert.equal((await page.getByTestId('user-role').textContent()).trim(), '值班长');
    await shot(page, '34-header-supervisor');
  } finally {
    await closePage(page);
  }
});
