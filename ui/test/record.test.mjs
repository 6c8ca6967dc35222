// Browser tests of the 办结 panel and the outbox: defaults, the reason rule, 已上报 / 待上报 / 需处理, live "outbox-changed", scans and 下一位.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  sharedBrowser, calls, CASE_BIZ_NUM, closePage, copyOf, counterInfo, emitOutbox, ENTERPRISE, gunBurst, makePdf, openApp, PAYLOAD,
  printingInfo, PRINTERS, recordOf, resolvePending, scanResult, setResponse, shot, startScan, summaries,
  waitForCall, waitForPending,
} from './support.mjs';

const env = sharedBrowser();
const S = summaries();
const VALID = S.filter((s) => s.status === 'valid').map((s) => s.licenseCode);

async function showResult(page) {
  await setResponse(page, 'scan', { value: scanResult() });
  await startScan(page);
  await page.locator('[data-testid="license-card"][data-phase="ready"]').nth(12).waitFor({ state: 'attached' });
}

const licenseBox = (page, i) => page.locator(`[data-testid="record-license"][data-license-code="${S[i].licenseCode}"]`);
const radio = (page, status) => page.locator(`[data-testid="record-status"][value="${status}"]`);

test('F9: valid licenses ticked, revoked and expired disabled; 不予受理 needs a reason; Ctrl+Enter submits; 已上报 (duplicate)', async () => {
  const page = await openApp(env, { responses: { submit_record: { pending: true }, outbox_status: { value: { waiting: 0, refused: 0, current: null } } } });
  try {
    assert.equal(await page.getByTestId('record-open').isDisabled(), true, '办结 waits for an enterprise');
    await page.keyboard.press('F9');
    assert.equal(await page.getByTestId('record-panel').count(), 0);
    await showResult(page);
    await page.keyboard.press('F9');
    const panel = page.getByTestId('record-panel');
    await panel.waitFor();
    for (const [i, s] of S.entries()) {
      const box = licenseBox(page, i);
      assert.equal(await box.isChecked(), s.status === 'valid', `${s.name} ticked iff valid`);
      assert.equal(await box.isDisabled(), s.status !== 'valid', `${s.name} disabled iff not valid`);
    }
    assert.match(await licenseBox(page, 5).locator('xpath=..').textContent(), /已注销/);
    assert.match(await licenseBox(page, 3).locator('xpath=..').textContent(), /已过期/);
    const submitBtn = page.getByTestId('record-submit');
    assert.equal(await submitBtn.isDisabled(), true, 'no result chosen yet');
    assert.match(await page.getByTestId('record-hint').textContent(), /请选择办理结果/);
    // Keyboard: the first result has the focus.
    assert.equal(await page.evaluate(() => document.activeElement?.value), 'RECEIVED');
    await radio(page, 'REJECTED').check();
    assert.equal(await submitBtn.isDisabled(), true, 'REJECTED without a reason');
    assert.match(await page.getByTestId('record-hint').textContent(), /不予受理须填写理由/);
    await page.keyboard.press('Control+Enter');
    assert.deepEqual(await calls(page, 'submit_record'), []);
    await shot(page, '20-record-panel');
    await licenseBox(page, 1).uncheck();
    await page.getByTestId('record-reason').fill('材料不齐：缺少法定代表人身份证明');
    assert.equal(await submitBtn.isDisabled(), false);
    await page.keyboard.press('Control+Enter');
    await waitForPending(page, 'submit_record');
    const [args] = await calls(page, 'submit_record');
    assert.deepEqual(args, { status: 'REJECTED', reason: '材料不齐：缺少法定代表人身份证明', licenseCodes: VALID.filter((c) => c !== S[1].licenseCode) });
    assert.match(await submitBtn.textContent(), /正在提交/);
    await resolvePending(page, 'submit_record', recordOf({ status: 'REJECTED', reason: args.reason, licenseCodes: args.licenseCodes, duplicate: true }));
    const st = page.getByTestId('record-state');
    await st.waitFor();
    assert.equal(await st.getAttribute('data-state'), 'sent');
    assert.match(await page.getByTestId('record-state-badge').textContent(), /已上报/);
    assert.match(await page.getByTestId('record-id').textContent(), /REC-20261128-000123/);
    assert.match(await page.getByTestId('record-duplicate').textContent(), /重复提交，已按原记录处理/);
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'record-close');
    await shot(page, '21-record-sent');
    await waitForCall(page, 'outbox_status');
    // Closed and opened again: the record's state, not a second form.
    await page.keyboard.press('Escape');
    await panel.waitFor({ state: 'detached' });
    await page.keyboard.press('F9');
    await page.getByTestId('record-state').waitFor();
    assert.equal(await page.getByTestId('record-submit').count(), 0);
    assert.deepEqual(await page.evaluate(() => window.__h.cspViolations), []);
    assert.deepEqual(page.errors, []);
  } finally {
    await closePage(page);
  }
});

test('待上报: the panel says it will be resent; "outbox-changed" updates the header badge and then the panel to 已上报', async () => {
  const page = await openApp(env, { responses: { outbox_status: { value: { waiting: 1, refused: 0, current: null } } } });
  try {
    assert.equal(await page.getByTestId('outbox-badge').count(), 0, 'nothing when the outbox is empty');
    await showResult(page);
    const queued = recordOf({ state: 'queued', recordId: null, attempts: 1, error: { code: 'GATEWAY_UNAVAILABLE', message: '粤商通网关暂时无法连接。' } });
    await setResponse(page, 'submit_record', { value: queued });
    await page.getByTestId('record-open').click();
    await radio(page, 'ACCEPTED').check();
    await page.getByTestId('record-submit').click();
    const st = page.locator('[data-testid="record-state"][data-state="queued"]');
    await st.waitFor();
    assert.match(await st.textContent(), /待上报/);
    assert.match(await st.textContent(), /网络恢复后将自动重新上报，可以继续办理下一位/);
    assert.match(await st.textContent(), /粤商通网关暂时无法连接/);
    await page.getByTestId('outbox-waiting').waitFor();
    assert.equal((await page.getByTestId('outbox-waiting').textContent()).trim(), '待上报 1');
    await shot(page, '22-record-queued');

    // The background sender: one more waits (another case), then this one goes through.
    await emitOutbox(page, { waiting: 2, refused: 0, current: { ...queued, attempts: 2 } });
    await page.waitForFunction(() => document.querySelector('[data-testid="outbox-waiting"]')?.textContent.trim() === '待上报 2');
    await emitOutbox(page, { waiting: 1, refused: 0, current: recordOf({ state: 'sent', recordId: 'REC-LATE-7', attempts: 3 }) });
    await page.locator('[data-testid="record-state"][data-state="sent"]').waitFor();
    assert.match(await page.getByTestId('record-id').textContent(), /REC-LATE-7/);
    assert.equal((await page.getByTestId('outbox-waiting').textContent()).trim(), '待上报 1');
    // An event about another handling number does not touch this case's panel.
    await emitOutbox(page, { waiting: 1, refused: 0, current: recordOf({ bizNum: 'YS-OTHER', state: 'refused', error: { code: 'REQUEST_REJECTED', message: 'x' } }) });
    await page.waitForTimeout(50);
    assert.equal(await page.getByTestId('record-state').getAttribute('data-state'), 'sent');
    await emitOutbox(page, { waiting: 0, refused: 0, current: null });
    await page.getByTestId('outbox-badge').waitFor({ state: 'detached' });
  } finally {
    await closePage(page);
  }
});

test('需处理: the refusal reason and 重新提交 (retry_record); the header shows 需处理 in red; RECORD_INVALID is shown in the panel', async () => {
  const refused = recordOf({ status: 'DONE', state: 'refused', recordId: null, attempts: 1, error: { code: 'REQUEST_REJECTED', message: '办件号与授权企业不一致，粤商通拒收。' } });
  const page = await openApp(env, {
    responses: {
      counter_info: { value: counterInfo({ outbox: { waiting: 2, refused: 1, current: null } }) },
      submit_record: { error: { code: 'RECORD_INVALID', message: '办理结果缺少证照。', fact: '办理结果缺少证照。' } },
      retry_record: { pending: true },
      outbox_status: { value: { waiting: 2, refused: 1, current: refused } },
    },
  });
  try {
    // Counts from counter_info at start.
    assert.equal((await page.getByTestId('outbox-waiting').textContent()).trim(), '待上报 2');
    assert.equal((await page.getByTestId('outbox-refused').textContent()).trim(), '需处理 1');
    const colours = await page.evaluate(() => ['outbox-waiting', 'outbox-refused'].map((id) => getComputedStyle(document.querySelector(`[data-testid="${id}"]`)).backgroundColor));
    assert.notEqual(colours[0], colours[1]);
    await shot(page, '23-header-outbox-badge');
    await showResult(page);
    await page.keyboard.press('F9');
    await radio(page, 'DONE').check();
    await page.getByTestId('record-submit').click();
    const err = page.getByTestId('record-error');
    await err.waitFor();
    assert.equal(await err.getAttribute('data-code'), 'RECORD_INVALID');
    assert.match(await err.textContent(), /办理结果缺少证照/);
    await setResponse(page, 'submit_record', { value: refused });
    await page.getByTestId('record-submit').click();
    const st = page.locator('[data-testid="record-state"][data-state="refused"]');
    await st.waitFor();
    assert.match(await st.textContent(), /需处理/);
    assert.match(await page.getByTestId('record-refusal').textContent(), /办件号与授权企业不一致/);
    await shot(page, '24-record-refused');
    const requeued = recordOf({ status: 'DONE', state: 'queued', recordId: null, attempts: 0 });
    await setResponse(page, 'outbox_status', { value: { waiting: 3, refused: 0, current: requeued } });
    await page.getByTestId('record-retry').click();
    await waitForPending(page, 'retry_record');
    assert.deepEqual(await calls(page, 'retry_record'), [{ bizNum: CASE_BIZ_NUM }]);
    await resolvePending(page, 'retry_record', requeued);
    await page.locator('[data-testid="record-state"][data-state="queued"]').waitFor();
    // The badge follows the outbox after the retry.
    await page.waitForFunction(() => !document.querySelector('[data-testid="outbox-refused"]'));
    assert.equal((await page.getByTestId('outbox-waiting').textContent()).trim(), '待上报 3');
  } finally {
    await closePage(page);
  }
});

test('scans while the 办结 panel is open: nothing focused or in the reason field, the scan changes nothing and the reason keeps the clerk’s words', async () => {
  const page = await openApp(env);
  try {
    await showResult(page);
    const scans = (await calls(page, 'scan')).length;
    await page.keyboard.press('F9');
    await page.getByTestId('record-panel').waitFor();
    await radio(page, 'REJECTED').check();
    // A person types the reason (slowly, as people do), then the gun fires into the field.
    await page.getByTestId('record-reason').focus();
    await page.keyboard.type('缺材料', { delay: 80 });
    await page.keyboard.type(' ok', { delay: 80 });
    await gunBurst(page, PAYLOAD);
    await page.getByTestId('record-scan-held').waitFor();
    assert.equal(await page.getByTestId('record-reason').inputValue(), '缺材料 ok');
    // And with the focus on a result.
    await radio(page, 'REJECTED').focus();
    await page.keyboard.type(PAYLOAD);
    await page.keyboard.press('Enter');
    assert.equal(await radio(page, 'REJECTED').isChecked(), true);
    assert.equal((await calls(page, 'scan')).length, scans);
    assert.deepEqual(await calls(page, 'submit_record'), []);
    assert.equal(await page.getByTestId('enterprise-name').textContent(), ENTERPRISE.name);
    await shot(page, '25-record-scan-held');
    // Closed, the scanner works again at once (focus back on the page, not in a field).
    await page.keyboard.press('Escape');
    await page.getByTestId('record-panel').waitFor({ state: 'detached' });
    await page.keyboard.type(PAYLOAD);
    await page.keyboard.press('Enter');
    await waitForCall(page, 'scan', scans + 1);
  } finally {
    await closePage(page);
  }
});

test('a ticked card checkbox keeps the focus and the scanner still works', async () => {
  const page = await openApp(env);
  try {
    await showResult(page);
    const scans = (await calls(page, 'scan')).length;
    await page.locator(`[data-testid="license-card"][data-license-code="${S[0].licenseCode}"]`).getByTestId('card-select').check();
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'card-select');
    await page.keyboard.type(PAYLOAD);
    await page.keyboard.press('Enter');
    await waitForCall(page, 'scan', scans + 1);
  } finally {
    await closePage(page);
  }
});

test('下一位 (F8) leaves nothing of the copies or the record: dialogs closed, notice gone, cancel_print before next_customer', async () => {
  const serial = copyOf(S[0], 11).serial;
  const page = await openApp(env, {
    responses: {
      counter_info: { value: counterInfo({ mode: 'gateway', printing: printingInfo({ lastPrinter: 'HP-A03' }) }) },
      prepare_copy: { value: copyOf(S[0], 11) },
      copy_file: { bytesBase64: makePdf(1) },
      printers: { value: PRINTERS },
      print_copies: { value: [{ serial, printer: 'HP-A03', jobId: 1 }] },
      cancel_print: { value: null },
      submit_record: { value: recordOf({ state: 'queued', recordId: null }) },
      outbox_status: { value: { waiting: 1, refused: 0, current: recordOf({ state: 'queued', recordId: null }) } },
      next_customer: { value: { bizNum: 'YS-440106001-A03-20261128-0009' } },
    },
  });
  try {
    await showResult(page);
    const card = page.locator(`[data-testid="license-card"][data-license-code="${S[0].licenseCode}"]`);
    // A printed copy (notice on screen), a record (queued), a selection, and a print dialog open again.
    await card.getByTestId('card-print').click();
    await page.getByTestId('print-confirm').waitFor();
    await page.locator('[data-testid="print-confirm"]:not([disabled])').click();
    await page.getByTestId('print-done').waitFor();
    await page.keyboard.press('Enter');
    await page.getByTestId('print-dialog').waitFor({ state: 'detached' });
    await page.keyboard.press('F9');
    await radio(page, 'RECEIVED').check();
    await page.getByTestId('record-submit').click();
    await page.getByTestId('record-state').waitFor();
    await page.keyboard.press('Escape');
    await card.getByTestId('card-select').check();
    await card.getByTestId('card-print').click();
    await page.locator('[data-testid="print-preview"][data-rendered="true"]').waitFor({ timeout: 15000 });
    await page.keyboard.press('F8');
    await waitForCall(page, 'next_customer');
    await page.waitForFunction(() => document.querySelector('[data-testid="biz-num"]').textContent.endsWith('0009'));
    const log = await page.evaluate(() => window.__h.calls.map((c) => c.cmd).filter((c) => c === 'cancel_print' || c === 'next_customer'));
    assert.deepEqual(log, ['cancel_print', 'next_customer']);
    for (const id of ['print-dialog', 'print-notice', 'record-panel', 'record-state', 'unchecked-dialog', 'print-preview']) {
      assert.equal(await page.getByTestId(id).count(), 0, `${id} gone`);
    }
    const html = await page.evaluate(() => document.body.innerHTML);
    for (const trace of [serial, 'P-440106001', 'HP-A03', CASE_BIZ_NUM, ENTERPRISE.name, '网络恢复后将自动重新上报']) {
      assert.ok(!html.includes(trace), `no trace of ${trace}`);
    }
    // The outbox is the desk's, not the customer's: its count stays in the header.
    assert.equal((await page.getByTestId('outbox-waiting').textContent()).trim(), '待上报 1');
    assert.equal(await page.getByTestId('record-open').isDisabled(), true);
    assert.equal(await page.evaluate(() => document.querySelectorAll('canvas').length), 0);
    // The new customer starts with an empty selection and a fresh panel.
    await showResult(page);
    assert.match(await page.getByTestId('print-selected').textContent(), /\(0\)/);
    await page.keyboard.press('F9');
    await page.getByTestId('record-submit').waitFor();
    assert.equal(await page.getByTestId('record-state').count(), 0);
  } finally {
    await closePage(page);
  }
});

test('English: the panel and badge speak English', async () => {
  const page = await openApp(env, { storage: { 'yueshang.lang': 'en' }, responses: { counter_info: { value: counterInfo({ outbox: { waiting: 3, refused: 0, current: null } }) } } });
  try {
    assert.equal((await page.getByTestId('outbox-waiting').textContent()).trim(), 'To report 3');
    await showResult(page);
    await page.keyboard.press('F9');
    await page.getByTestId('record-panel').waitFor();
    assert.doesNotMatch(await page.getByTestId('record-submit').textContent(), /[\u4e00-\u9fff]/);
    assert.match(await page.getByTestId('record-panel').textContent(), /Finish the case/);
  } finally {
    await closePage(page);
  }
});
