// Browser tests of IT's screens: the setup screen (steps, validation as typed, paste from Excel, 测试连接 live, 保存, the onboarding
// forms), its entry points (first run, 值班长视图, 关于, a broken start) and the 诊断 dialog.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  sharedBrowser, calls, CLERK, closePage, counterInfo, openApp, resolvePending, scanWithGun, setResponse, shot, signedCounter,
  SUPERVISOR, waitForCall, waitForPending, PAYLOAD,
} from './support.mjs';

const env = sharedBrowser();

const TEST_DOMAIN = 'https://bs-test.digitalgd.com.cn';
const PROD_DOMAIN = 'https://zwms3.gdbs.gov.cn';
const USER_FILE = '/home/guitai/.config/yueshang-counter/config.toml';

function emptyForm(over = {}) {
  return {
    environment: 'sandbox', ystBase: '', licenseBase: '', paasid: '', token: '', systemId: '', venderId: '', departmentId: '',
    account: '', password: '', appKey: '', appSecret: '', caFile: '', proxy: '', operatorAccount: '', operatorName: '',
    divisionCode: '', serviceOrg: '', serviceOrgCode: '', hallCode: '', hallName: '', counter: '', hallCity: '', hallDistrict: '',
    hallAddress: '', hallPhone: '', items: [], ...over,
  };
}

const HALL = {
  operatorAccount: 'wangxm', operatorName: '王小明', divisionCode: '440106', serviceOrg: '广州市天河区政务服务中心',
  serviceOrgCode: '11440106MB2C91234X', hallCode: '440106001', hallName: '广州市天河区政务服务中心', counter: 'A03',
};

function setupState(over = {}) {
  return {
    form: emptyForm(),
    hasToken: false, hasPassword: false, hasAppSecret: false,
    userFile: USER_FILE,
    machineFile: null,
    firstRun: true,
    defaults: {
      test: { ystBase: `${TEST_DOMAIN}/ebus/yst_…`, licenseBase: `${TEST_DOMAIN}/ebus/dzzz_convergence-service` },
      production: { ystBase: `${PROD_DOMAIN}/ebus/yst_…`, licenseBase: `${PROD_DOMAIN}/ebus/dzzz_convergence-service` },
    },
    ...over,
  };
}

const TITLES = {
  config: '配置文件', dns: '域名解析', tcp: '网络连通', tls: 'TLS 证书', clock: '时钟偏差', signature: '网关签名', license_login: '电子证照登录',
  data_dir: '数据目录', disk: '磁盘空间', font: '中文字体', printers: '打印机', logs: '日志目录', secrets: '凭据存放',
};
const IDS = Object.keys(TITLES);

function check(id, over = {}) {
  return { id, title: TITLES[id], ok: true, warn: false, figure: `${TITLES[id]}正常`, fix: null, millis: 12, ...over };
}

const TCP_FAIL = check('tcp', {
  ok: false, figure: '连不上 bs-test.digitalgd.com.cn:443（连接超时 5 秒）',
  fix: '请网络管理员放通本机到 bs-test.digitalgd.com.cn 的 443 端口，或在「高级」中填写代理服务器。', millis: 5003,
});
const PRINTERS_WARN = check('printers', { warn: true, figure: '没有找到打印机', fix: '在系统设置中添加大厅打印机后重新检测。', millis: null });

/** Every check, with tcp failing (and what depends on it not tried) unless `allOk`. */
function report({ allOk = false } = {}) {
  const checks = IDS.map((id) => {
    if (allOk) return id === 'printers' ? PRINTERS_WARN : check(id);
    if (id === 'tcp') return TCP_FAIL;
    if (['tls', 'clock', 'signature', 'license_login'].includes(id)) {
      return check(id, { ok: false, figure: '未检查：网络不通', fix: '先解决上面失败的检查项，再重新检查。', millis: null });
    }
    return id === 'printers' ? PRINTERS_WARN : check(id);
  });
  return { checks, ready: allOk };
}

const emitCheck = (page, event, dto) => page.evaluate(([n, p]) => window.__h.emitEvent(n, p), [event, dto]);
const rowState = (page, id) => page.locator(`[data-testid="check-row"][data-id="${id}"]`).first().getAttribute('data-state');
const step = (page) => page.getByTestId('setup-screen').getAttribute('data-step');

async function waitStep(page, s) {
  await page.waitForFunction((s) => document.querySelector('[data-testid="setup-screen"]')?.dataset.step === s, s);
}

/** What Excel puts on the clipboard for two copied columns. */
async function pasteInto(page, testId, text) {
  await page.getByTestId(testId).focus();
  await page.evaluate(([id, text]) => {
    const dt = new DataTransfer();
    dt.setData('text/plain', text);
    const e = new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true });
    document.querySelector(`[data-testid="${id}"]`).dispatchEvent(e);
  }, [testId, text]);
}

async function openFirstRun(responses = {}) {
  const page = await openApp(env, {
    responses: { setup_state: { value: setupState() }, validate_setup: { value: { errors: {} } }, ...responses },
  });
  await page.getByTestId('first-run').waitFor();
  return page;
}

test('the setup\'s pure rules: Excel paste with a header, merge, the 粤商通 base from the PaaS ID, local checks, steps', async () => {
  const page = await openApp(env, { responses: { setup_state: { value: setupState({ firstRun: false }) } } });
  try {
    await page.waitForFunction(() => !!window.__setupRules);
    const r = await page.evaluate(() => {
      const s = window.__setupRules;
      const form = s.emptyForm();
      form.environment = 'test';
      form.paasid = 'abc';
      form.venderId = '9144010';
      form.ystBase = 'https://x/ebus/abc';
      form.licenseBase = 'ftp://x';
      form.items = [{ code: 'A', name: '' }, { code: 'A', name: 'b' }];
      return {
        paste: s.parseItemsPaste('事项编码\t事项名称\r\nSP-001\t食品经营许可（新办）\r\n\r\nSP-002\t食品经营许可（变更）\n只有一列\n'),
        noHeader: s.parseItemsPaste('11440106007519235K4442020001\t设立登记\n'),
        spaces: s.parseItemsPaste('GS-010    企业登记信息变更'),
        merge: s.mergeItems([{ code: '', name: '' }, { code: 'SP-001', name: '旧名' }], [{ code: 'SP-001', name: '新名' }, { code: 'X-1', name: '新事项' }]),
        yst: [s.ystBaseFor('https://bs-test.digitalgd.com.cn/ebus/yst_…', 'yst_123'), s.ystBaseFor('https://a.b', 'yst_9'), s.ystBaseFor('https://a.b/ebus/yst_…', '')],
        local: s.localErrors(form),
        sandboxLocal: s.localErrors(s.emptyForm()),
        steps: [s.activeSteps('sandbox'), s.activeSteps('production')],
        byStep: s.errorsOfStep('items', { 'items.1.name': 'b', 'items.0.code': 'a', paasid: 'x' }, 'test'),
      };
    });
    assert.deepEqual(r.paste.items, [{ code: 'SP-001', name: '食品经营许可（新办）' }, { code: 'SP-002', name: '食品经营许可（变更）' }]);
    assert.equal(r.paste.headerSkipped, true);
    assert.equal(r.paste.skipped, 1);
    assert.equal(r.noHeader.headerSkipped, false);
    assert.equal(r.noHeader.items.length, 1);
    assert.deepEqual(r.spaces.items, [{ code: 'GS-010', name: '企业登记信息变更' }]);
    assert.deepEqual(r.merge, { items: [{ code: 'SP-001', name: '新名' }, { code: 'X-1', name: '新事项' }], added: 1, updated: 1 });
    assert.deepEqual(r.yst, ['https://bs-test.digitalgd.com.cn/ebus/yst_123', 'https://a.b/ebus/yst_9', 'https://a.b/ebus/yst_…']);
    assert.match(r.local.paasid, /yst_/);
    assert.match(r.local.venderId, /18 位，现在是 7 位/);
    assert.match(r.local.licenseBase, /https/);
    assert.equal(r.local.ystBase, undefined);
    assert.match(r.local['items.0.name'], /名称/);
    assert.match(r.local['items.1.code'], /重复/);
    assert.deepEqual(r.sandboxLocal, {});
    assert.deepEqual(r.steps, [['environment', 'hall', 'items', 'finish'], ['environment', 'gateway', 'license', 'hall', 'items', 'finish']]);
    assert.deepEqual(r.byStep.map(([f]) => f), ['items.0.code', 'items.1.name']);
  } finally {
    await closePage(page);
  }
});

test('first run: the sandbox screen offers 设置本机 without taking the focus or blocking a scan; a configured PC does not', async () => {
  const page = await openFirstRun({ scan: { pending: true } });
  try {
    const card = page.getByTestId('first-run');
    assert.match(await card.textContent(), /这台电脑还没有配置/);
    assert.match(await page.getByTestId('first-run-setup').textContent(), /设置本机（IT）/);
    assert.equal(await page.evaluate(() => document.activeElement === document.body), true);
    await shot(page, '40-first-run-card');
    // The scanner works as before.
    await scanWithGun(page, PAYLOAD);
    await waitForCall(page, 'scan');
    assert.equal(await page.getByTestId('setup-screen').count(), 0);
  } finally {
    await closePage(page);
  }
  for (const responses of [{ setup_state: { value: setupState({ firstRun: false }) } }, {}]) {
    const other = await openApp(env, { responses });
    try {
      await other.getByTestId('scan-prompt').waitFor();
      await other.waitForTimeout(100);
      assert.equal(await other.getByTestId('first-run').count(), 0);
    } finally {
      await closePage(other);
    }
  }
  // A gateway counter never even asks.
  const gw = await openApp(env, { responses: { counter_info: { value: counterInfo({ mode: 'gateway' }) }, setup_state: { value: setupState() } } });
  try {
    await gw.waitForTimeout(100);
    assert.deepEqual(await calls(gw, 'setup_state'), []);
    assert.equal(await gw.getByTestId('first-run').count(), 0);
  } finally {
    await closePage(gw);
  }
});

test('walk the steps: environment, gateway (a bad PaaS ID shows the shell\'s reason and blocks 下一步), e-licenses, hall, items pasted from Excel, 测试连接 live, 保存 without leaving a secret on screen', async () => {
  const page = await openFirstRun({
    setup_state: { value: setupState({ form: emptyForm({ ...HALL, items: [] }) }) },
    test_setup: { pending: true },
    save_setup: { value: { path: USER_FILE, secretsSealed: ['gateway.token', 'license.password', 'license.app_secret'], restart: true } },
    restart_app: { value: null },
  });
  try {
    await page.getByTestId('first-run-setup').click();
    const screen = page.getByTestId('setup-screen');
    await screen.waitFor();
    await page.getByTestId('setup-env').first().waitFor();
    assert.equal(await step(page), 'environment');
    assert.match(await page.locator('.setup-where').textContent(), /config\.toml/);
    // The stepper: six steps; the sandbox (the first run's) skips 网关 and 电子证照.
    assert.equal(await page.getByTestId('setup-step-tab').count(), 6);
    assert.equal(await page.locator('[data-testid="setup-step-tab"][data-step="gateway"]').isDisabled(), true);
    await page.locator('[data-testid="setup-env"][data-env="test"]').click();
    assert.equal(await page.locator('[data-testid="setup-step-tab"][data-step="gateway"]').isDisabled(), false);
    await shot(page, '41-setup-environment');

    await page.getByTestId('setup-next').click();
    await waitStep(page, 'gateway');
    // Prefilled with the official test bases; the PaaS ID goes into the 粤商通 base as it is typed.
    assert.equal(await page.getByTestId('setup-licenseBase').inputValue(), `${TEST_DOMAIN}/ebus/dzzz_convergence-service`);
    assert.equal(await page.getByTestId('setup-paasid').evaluate((el) => el === document.activeElement), true);

    const reason = 'PaaS ID 必须以 yst_ 开头（网关分配的 PaaS ID 形如 yst_4401xxxx），现在是「abc」。';
    await setResponse(page, 'validate_setup', { value: { errors: { paasid: reason, token: '请填写 PaaS Token（网关分配）。' } } });
    await page.getByTestId('setup-paasid').fill('abc');
    // The local check at once, then the shell's reason in its place.
    await page.getByTestId('setup-error-paasid').waitFor();
    await page.waitForFunction((r) => document.querySelector('[data-testid="setup-error-paasid"]')?.textContent === r, reason);
    assert.equal(await page.getByTestId('setup-paasid').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByTestId('setup-paasid').getAttribute('aria-describedby'), 'setup-paasid-msg');
    assert.equal(await page.locator('#setup-paasid-msg').textContent(), reason);
    assert.equal(await page.getByTestId('setup-ystBase').inputValue(), `${TEST_DOMAIN}/ebus/abc`);
    // 下一步 does not go on, says why, and puts the focus on the first wrong field.
    await page.getByTestId('setup-next').click();
    await page.getByTestId('setup-blocked').waitFor();
    assert.match(await page.getByTestId('setup-blocked').textContent(), /2 项需要修改/);
    assert.equal(await step(page), 'gateway');
    assert.equal(await page.getByTestId('setup-paasid').evaluate((el) => el === document.activeElement), true);
    assert.match(await page.getByTestId('setup-error-token').textContent(), /PaaS Token/);
    assert.match(await page.locator('[data-testid="setup-step-tab"][data-step="gateway"]').textContent(), /2 项待改/);
    await shot(page, '42-setup-gateway-invalid');

    await setResponse(page, 'validate_setup', { value: { errors: {} } });
    await page.getByTestId('setup-paasid').fill('yst_4401060001');
    await page.getByTestId('setup-token').fill('tok-SECRET-123');
    assert.equal(await page.getByTestId('setup-token').getAttribute('type'), 'password');
    assert.equal(await page.getByTestId('setup-ystBase').inputValue(), `${TEST_DOMAIN}/ebus/yst_4401060001`);
    // Enter in a field is 下一步.
    await page.getByTestId('setup-token').press('Enter');
    await waitStep(page, 'license');

    await page.getByTestId('setup-systemId').fill('SYS-YS-0001');
    await setResponse(page, 'validate_setup', { value: { errors: { venderId: '开发商统一社会信用代码应为 18 位，现在是 7 位。' } } });
    await page.getByTestId('setup-venderId').fill('9144010');
    // Cheap checks show at once, before the shell answers.
    await page.getByTestId('setup-error-venderId').waitFor();
    assert.match(await page.getByTestId('setup-error-venderId').textContent(), /18 位/);
    await setResponse(page, 'validate_setup', { value: { errors: {} } });
    await page.getByTestId('setup-venderId').fill('91440101MA5CXXXX1A');
    await page.getByTestId('setup-departmentId').fill('11440106MB2C91234X');
    await page.getByTestId('setup-account').fill('ysm_th_counter');
    await page.getByTestId('setup-password').fill('pw-SECRET-456');
    await page.getByTestId('setup-appKey').fill('ak-0001');
    await page.getByTestId('setup-appSecret').fill('as-SECRET-789');
    await page.waitForFunction(() => !document.querySelector('[data-testid="setup-error-venderId"]'));
    await shot(page, '43-setup-license');
    await page.getByTestId('setup-next').click();
    await waitStep(page, 'hall');
    assert.equal(await page.getByTestId('setup-hallName').inputValue(), HALL.hallName);
    await page.getByTestId('setup-hallCity').fill('广州市');
    await page.getByTestId('setup-hallDistrict').fill('天河区');
    await page.getByTestId('setup-hallAddress').fill('广州市天河区天河路 100 号');
    await page.getByTestId('setup-hallPhone').fill('020-12345678');
    await shot(page, '44-setup-hall');
    await page.getByTestId('setup-next').click();
    await waitStep(page, 'items');

    // Two columns from Excel, with their header row.
    await pasteInto(page, 'setup-paste', '事项编码\t事项名称\r\nSP-001\t食品经营许可（新办）\r\nSP-002\t食品经营许可（变更）\r\nGS-010\t企业登记信息变更\r\n');
    await page.getByTestId('setup-paste-note').waitFor();
    assert.match(await page.getByTestId('setup-paste-note').textContent(), /已加入 3 项.*跳过表头/);
    const codes = await page.getByTestId('setup-item-code').evaluateAll((els) => els.map((e) => e.value));
    const names = await page.getByTestId('setup-item-name').evaluateAll((els) => els.map((e) => e.value));
    assert.deepEqual(codes, ['SP-001', 'SP-002', 'GS-010']);
    assert.deepEqual(names, ['食品经营许可（新办）', '食品经营许可（变更）', '企业登记信息变更']);
    assert.equal(await page.getByTestId('setup-paste').inputValue(), '');
    // Add a row by hand, then remove it.
    await page.getByTestId('setup-item-add').click();
    assert.equal(await page.getByTestId('setup-item-row').count(), 4);
    await setResponse(page, 'validate_setup', { value: { errors: { 'items.3.name': '第 4 行缺少事项名称。' } } });
    await page.locator('[data-testid="setup-item-code"][data-row="3"]').fill('TMP');
    await page.waitForFunction(() => document.querySelector('[data-testid="setup-item-error"]')?.textContent === '第 4 行缺少事项名称。');
    await setResponse(page, 'validate_setup', { value: { errors: {} } });
    await page.locator('[data-testid="setup-item-remove"]').nth(3).click();
    assert.equal(await page.getByTestId('setup-item-row').count(), 3);
    await shot(page, '45-setup-items');
    await page.getByTestId('setup-next').click();
    await waitStep(page, 'finish');

    // 测试连接: the rows wait, then turn green or red as each check arrives.
    await page.getByTestId('setup-test').click();
    await waitForPending(page, 'test_setup');
    const [sent] = await calls(page, 'test_setup');
    assert.equal(sent.form.paasid, 'yst_4401060001');
    assert.equal(await rowState(page, 'config'), 'running');
    assert.match(await page.getByTestId('check-summary').textContent(), /正在检测/);
    await emitCheck(page, 'setup-check', check('config', { figure: `${USER_FILE}（未保存的设置）` }));
    await emitCheck(page, 'setup-check', check('dns', { figure: 'bs-test.digitalgd.com.cn → 59.41.1.10（18 毫秒）', millis: 18 }));
    await page.waitForFunction(() => document.querySelector('[data-testid="check-row"][data-id="dns"]')?.dataset.state === 'ok');
    assert.equal(await rowState(page, 'config'), 'ok');
    assert.equal(await rowState(page, 'tcp'), 'running');
    assert.match(await page.getByTestId('check-summary').textContent(), /已完成 2 \/ 13/);
    await emitCheck(page, 'setup-check', TCP_FAIL);
    await page.waitForFunction(() => document.querySelector('[data-testid="check-row"][data-id="tcp"]')?.dataset.state === 'fail');
    const tcp = page.locator('[data-testid="check-row"][data-id="tcp"]');
    assert.match(await tcp.getByTestId('check-figure').textContent(), /连接超时/);
    assert.match(await tcp.getByTestId('check-fix').textContent(), /放通本机.*443/);
    assert.equal(await page.locator('[data-testid="check-row"][data-id="config"] [data-testid="check-fix"]').count(), 0);
    await shot(page, '46-setup-test-live');
    await resolvePending(page, 'test_setup', report());
    await page.waitForFunction(() => document.querySelector('[data-testid="check-summary"]')?.dataset.ready === 'false');
    assert.match(await page.getByTestId('check-summary').textContent(), /还不能扫码：5 项未通过/);
    assert.equal(await rowState(page, 'printers'), 'warn');
    assert.equal(await page.locator('[data-testid="check-row"][data-state="running"]').count(), 0);
    await shot(page, '47-setup-test-done');

    // 保存: the whole form goes, with the secrets; none of them stays on screen.
    await page.getByTestId('setup-save').click();
    await page.getByTestId('setup-saved').waitFor();
    const [saved] = await calls(page, 'save_setup');
    assert.equal(saved.form.environment, 'test');
    assert.equal(saved.form.paasid, 'yst_4401060001');
    assert.equal(saved.form.token, 'tok-SECRET-123');
    assert.equal(saved.form.password, 'pw-SECRET-456');
    assert.equal(saved.form.appSecret, 'as-SECRET-789');
    assert.equal(saved.form.ystBase, `${TEST_DOMAIN}/ebus/yst_4401060001`);
    assert.equal(saved.form.hallAddress, '广州市天河区天河路 100 号');
    assert.deepEqual(saved.form.items, [
      { code: 'SP-001', name: '食品经营许可（新办）' }, { code: 'SP-002', name: '食品经营许可（变更）' }, { code: 'GS-010', name: '企业登记信息变更' },
    ]);
    assert.equal(await page.getByTestId('setup-saved-path').textContent(), USER_FILE);
    assert.match(await page.getByTestId('setup-sealed').textContent(), /gateway\.token、license\.password、license\.app_secret/);
    await shot(page, '48-setup-saved');
    await page.getByTestId('setup-restart').click();
    await waitForCall(page, 'restart_app');
    // Back on the gateway step: the token field is empty and says a token is kept.
    await page.locator('[data-testid="setup-step-tab"][data-step="gateway"]').click();
    await waitStep(page, 'gateway');
    assert.equal(await page.getByTestId('setup-token').inputValue(), '');
    assert.equal(await page.getByTestId('setup-token').getAttribute('placeholder'), '已保存（留空则不变）');
    const leaked = await page.evaluate(() => {
      const values = [...document.querySelectorAll('input, textarea')].map((e) => e.value).join('\n');
      return ['tok-SECRET', 'pw-SECRET', 'as-SECRET'].filter((s) => values.includes(s) || document.body.innerText.includes(s));
    });
    assert.deepEqual(leaked, []);
    // Saved: Esc closes without asking.
    await page.keyboard.press('Escape');
    await screen.waitFor({ state: 'detached' });
    assert.deepEqual(page.errors, []);
  } finally {
    await closePage(page);
  }
});

test('the sandbox skips 网关 and 电子证照; 生成接入申请材料 asks for a folder and lists the files', async () => {
  const page = await openFirstRun({
    setup_state: { value: setupState({ form: emptyForm({ ...HALL, items: [{ code: 'SP-001', name: '食品经营许可（新办）' }] }) }) },
    'plugin:dialog|open': { value: '/media/usb/接入材料' },
    write_forms: {
      value: {
        forms: [
          { title: '粤商码接入申请表', path: '/media/usb/接入材料/粤商码接入申请表.docx' },
          { title: '网关接入申请表', path: '/media/usb/接入材料/网关接入申请表.xlsx' },
          { title: '电子证照用证申请表', path: '/media/usb/接入材料/电子证照用证申请表.docx' },
        ],
      },
    },
  });
  try {
    await page.getByTestId('first-run-setup').click();
    await page.getByTestId('setup-env').first().waitFor();
    assert.equal(await page.locator('[data-testid="setup-env"][data-env="sandbox"] input').isChecked(), true);
    assert.match(await page.getByTestId('setup-env-note').textContent(), /第 2、3 步跳过/);
    await page.keyboard.press('Enter');
    await waitStep(page, 'hall');
    assert.equal(await page.locator('[data-testid="setup-step-tab"][data-step="license"]').getAttribute('data-state'), 'skipped');
    await page.getByTestId('setup-prev').click();
    await waitStep(page, 'environment');
    await page.locator('[data-testid="setup-step-tab"][data-step="finish"]').click();
    await waitStep(page, 'finish');
    await page.getByTestId('setup-forms').click();
    await page.getByTestId('setup-forms-result').waitFor();
    const [pick] = await calls(page, 'plugin:dialog|open');
    assert.equal(pick.options.directory, true);
    assert.deepEqual(await calls(page, 'write_forms'), [{ dir: '/media/usb/接入材料' }]);
    assert.equal(await page.getByTestId('setup-form-file').count(), 3);
    assert.match(await page.getByTestId('setup-forms-result').textContent(), /已生成 3 份/);
    await shot(page, '49-setup-forms');
  } finally {
    await closePage(page);
  }
});

test('值班长视图 has 本机设置; Esc with unsaved changes asks first', async () => {
  const page = await openApp(env, {
    responses: {
      counter_info: { value: signedCounter(SUPERVISOR, { mode: 'gateway' }) },
      day_summary: { pending: true },
      setup_state: {
        value: setupState({
          firstRun: false, hasToken: true, hasPassword: true, hasAppSecret: true, machineFile: '/etc/yueshang-counter/config.toml',
          form: emptyForm({
            ...HALL, environment: 'production', paasid: 'yst_4401060001', ystBase: `${PROD_DOMAIN}/ebus/yst_4401060001`,
            licenseBase: `${PROD_DOMAIN}/ebus/dzzz_convergence-service`, systemId: 'SYS-1', venderId: '91440101MA5CXXXX1A',
            departmentId: '11440106MB2C91234X', account: 'ysm', appKey: 'ak', items: [{ code: 'SP-001', name: '食品经营许可（新办）' }],
          }),
        }),
      },
      validate_setup: { value: { errors: {} } },
    },
  });
  try {
    await page.keyboard.press('F10');
    await page.getByTestId('supervisor-view').waitFor();
    await shot(page, '50-supervisor-setup-entry');
    await page.getByTestId('sup-setup').click();
    await page.getByTestId('setup-env').first().waitFor();
    assert.equal(await page.locator('[data-testid="setup-env"][data-env="production"] input').isChecked(), true);
    assert.match(await page.getByTestId('setup-machine-file').textContent(), /\/etc\/yueshang-counter/);
    await page.getByTestId('setup-next').click();
    await waitStep(page, 'gateway');
    assert.equal(await page.getByTestId('setup-token').getAttribute('placeholder'), '已保存（留空则不变）');
    assert.equal(await page.getByTestId('setup-ystBase').inputValue(), `${PROD_DOMAIN}/ebus/yst_4401060001`);
    await page.getByTestId('setup-proxy').evaluate((el) => el.closest('details').open = true);
    await page.getByTestId('setup-proxy').fill('http://10.1.2.3:8080');
    await page.keyboard.press('Escape');
    await page.getByTestId('setup-confirm').waitFor();
    assert.equal(await page.getByTestId('setup-keep').evaluate((el) => el === document.activeElement), true);
    await shot(page, '51-setup-confirm-close');
    await page.keyboard.press('Escape');
    await page.getByTestId('setup-confirm').waitFor({ state: 'detached' });
    assert.equal(await page.getByTestId('setup-screen').count(), 1);
    await page.keyboard.press('Escape');
    await page.getByTestId('setup-discard').click();
    await page.getByTestId('setup-screen').waitFor({ state: 'detached' });
    // The supervisor view is still there, and Esc is its own again.
    assert.equal(await page.getByTestId('supervisor-view').count(), 1);
  } finally {
    await closePage(page);
  }
});

test('关于 leads to 诊断（IT）: the 13 checks live, the summary, the fix of a failing one, 重新检测', async () => {
  const page = await openApp(env, { responses: { run_doctor: { pending: true }, setup_state: { value: setupState({ firstRun: false }) } } });
  try {
    await page.getByTestId('about-open').click();
    await page.getByTestId('about-dialog').waitFor();
    // A counter without accounts: anyone at it may set it up.
    assert.equal(await page.getByTestId('about-setup').count(), 1);
    await page.getByTestId('about-doctor').click();
    const dlg = page.getByTestId('doctor-dialog');
    await dlg.waitFor();
    assert.equal(await page.getByTestId('about-dialog').count(), 0);
    await waitForPending(page, 'run_doctor');
    assert.equal(await page.getByTestId('check-row').count(), 13);
    assert.equal(await dlg.getByTestId('check-list').getAttribute('aria-busy'), 'true');
    for (const id of IDS.slice(0, 4)) await emitCheck(page, 'doctor-check', check(id));
    await emitCheck(page, 'doctor-check', check('clock', { ok: false, figure: '本机比网关慢 250 秒', fix: '请 IT 校准本机时间（开启自动同步时间）。', millis: 40 }));
    await page.waitForFunction(() => document.querySelector('[data-testid="check-row"][data-id="clock"]')?.dataset.state === 'fail');
    assert.equal(await rowState(page, 'tls'), 'ok');
    assert.equal(await rowState(page, 'signature'), 'running');
    await shot(page, '52-doctor-live');
    const done = report({ allOk: true });
    done.checks[4] = check('clock', { ok: false, figure: '本机比网关慢 250 秒', fix: '请 IT 校准本机时间（开启自动同步时间）。', millis: 40 });
    done.ready = false;
    await resolvePending(page, 'run_doctor', done);
    await page.waitForFunction(() => document.querySelector('[data-testid="check-summary"]')?.dataset.ready === 'false');
    assert.match(await page.getByTestId('check-summary').textContent(), /还不能扫码：1 项未通过/);
    assert.match(await page.locator('[data-testid="check-row"][data-id="clock"] [data-testid="check-fix"]').textContent(), /校准本机时间/);
    assert.match(await page.locator('[data-testid="check-row"][data-id="printers"] [data-testid="check-fix"]').textContent(), /添加大厅打印机/);
    await shot(page, '53-doctor-not-ready');
    await setResponse(page, 'run_doctor', { value: report({ allOk: true }) });
    await page.getByTestId('doctor-recheck').click();
    await page.waitForFunction(() => document.querySelector('[data-testid="check-summary"]')?.dataset.ready === 'true');
    assert.match(await page.getByTestId('check-summary').textContent(), /可以扫码（1 项需留意）/);
    assert.equal((await calls(page, 'run_doctor')).length, 2);
    await page.keyboard.press('Escape');
    await dlg.waitFor({ state: 'detached' });
    assert.deepEqual(page.errors, []);
  } finally {
    await closePage(page);
  }
});

test('a clerk\'s 关于 has 诊断 but not 本机设置 (the configuration is the supervisor\'s or IT\'s)', async () => {
  const page = await openApp(env, { responses: { counter_info: { value: signedCounter(CLERK, { mode: 'gateway' }) } } });
  try {
    await page.getByTestId('about-open').click();
    await page.getByTestId('about-dialog').waitFor();
    assert.equal(await page.getByTestId('about-doctor').count(), 1);
    assert.equal(await page.getByTestId('about-setup').count(), 0);
  } finally {
    await closePage(page);
  }
});

test('a broken configuration: the start screen offers 设置本机 and 诊断; the setup shows what is wrong at once', async () => {
  const page = await openApp(env, {
    waitFor: 'app-starting',
    responses: {
      counter_info: { error: { code: 'CONFIG_INVALID', message: '配置文件 /home/guitai/.config/yueshang-counter/config.toml 有误：gateway.paasid 缺失。' } },
      setup_state: {
        value: setupState({
          firstRun: false,
          form: emptyForm({ ...HALL, environment: 'test', paasid: 'counter01', items: [{ code: 'SP-001', name: '食品经营许可（新办）' }] }),
        }),
      },
      validate_setup: { value: { errors: { paasid: 'PaaS ID 必须以 yst_ 开头，现在是「counter01」。' } } },
      run_doctor: { value: report() },
    },
  });
  try {
    await page.getByTestId('start-setup').waitFor();
    await page.getByTestId('start-doctor').waitFor();
    await shot(page, '54-broken-start');
    await page.getByTestId('start-doctor').click();
    await page.getByTestId('doctor-dialog').waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid="check-summary"]')?.dataset.ready === 'false');
    await page.keyboard.press('Escape');
    await page.getByTestId('doctor-dialog').waitFor({ state: 'detached' });
    await page.getByTestId('start-setup').click();
    await page.getByTestId('setup-env').first().waitFor();
    await page.locator('[data-testid="setup-step-tab"][data-step="gateway"]').click();
    await waitStep(page, 'gateway');
    await page.getByTestId('setup-error-paasid').waitFor();
    assert.match(await page.getByTestId('setup-error-paasid').textContent(), /counter01/);
    assert.match(await page.locator('[data-testid="setup-step-tab"][data-step="gateway"]').textContent(), /待改/);
    await shot(page, '55-setup-from-broken');
  } finally {
    await closePage(page);
  }
});

test('English: the setup screen\'s labels and the check titles follow the language', async () => {
  const page = await openFirstRun();
  try {
    await page.getByTestId('lang-toggle').click();
    await page.getByTestId('first-run-setup').click();
    await page.getByTestId('setup-env').first().waitFor();
    assert.match(await page.locator('#setup-title').textContent(), /Set up this PC/);
    await page.locator('[data-testid="setup-env"][data-env="production"]').click();
    await page.getByTestId('setup-next').click();
    await waitStep(page, 'gateway');
    assert.match(await page.locator('label[for="setup-paasid"]').textContent(), /PaaS ID/);
    await page.locator('[data-testid="setup-step-tab"][data-step="environment"]').click();
    await waitStep(page, 'environment');
    await shot(page, '56-setup-english');
  } finally {
    await closePage(page);
  }
});
