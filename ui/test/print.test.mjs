// Browser tests of stamped copies: the print dialog with the stamped preview, direct mode, the status re-check question, revoked at print time, saving, keys and scans.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  sharedBrowser, calls, closePage, copyOf, counterInfo, makePdf, openApp, PAYLOAD, printingInfo, PRINTERS, rejectPending,
  resolvePending, scanResult, setResponse, shot, startScan, summaries, waitForCall, waitForPending,
} from './support.mjs';

const env = sharedBrowser();
const S = summaries();

async function showResult(page, n = 4) {
  await setResponse(page, 'scan', { value: scanResult({ n }) });
  await startScan(page);
  await page.locator('[data-testid="license-card"][data-phase="ready"]').nth(n - 1).waitFor();
}

const card = (page, i) => page.locator(`[data-testid="license-card"][data-license-code="${S[i].licenseCode}"]`);

function app(printing = {}, responses = {}) {
  return {
    responses: {
      counter_info: { value: counterInfo({ mode: 'gateway', printing: printingInfo(printing) }) },
      copy_file: { bytesBase64: makePdf(2, 'Copy P-440106001-A03-20261128-0007 - case YS-440106001-A03-20261128-0008 - status valid') },
      printers: { value: PRINTERS },
      ...responses,
    },
  };
}

test('picker: 打印 on a card stamps a copy, previews the stamped pages, preselects the last printer, prints and confirms', async () => {
  const page = await openApp(env, app({ lastPrinter: 'HP-A03', lastCopies: 2 }, { prepare_copy: { value: copyOf(S[1], 7) }, print_copies: { pending: true } }));
  try {
    await showResult(page);
    // Only valid licenses with a file can be printed or selected (#3 is expired).
    assert.equal(await card(page, 3).getByTestId('card-print').count(), 0);
    assert.equal(await card(page, 3).getByTestId('card-select').count(), 0);
    await card(page, 1).getByTestId('card-print').click();
    const dialog = page.getByTestId('print-dialog');
    await dialog.waitFor();
    await page.locator('[data-testid="print-preview"][data-rendered="true"]').waitFor({ timeout: 15000 });
    const serial = copyOf(S[1], 7).serial;
    assert.deepEqual(await calls(page, 'prepare_copy'), [{ licenseCode: S[1].licenseCode, allowUnchecked: false }]);
    // The preview is the stamped file, never the original.
    assert.deepEqual(await calls(page, 'copy_file'), [{ serial }]);
    assert.deepEqual(await calls(page, 'license_file'), []);
    assert.equal(await page.getByTestId('print-serial').textContent(), serial);
    assert.equal((await page.getByTestId('print-page').textContent()).trim(), '1 / 2');
    const inked = await page.getByTestId('print-preview').evaluate((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let dark = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] + d[i + 1] + d[i + 2] < 300) dark++;
      return dark;
    });
    assert.ok(inked > 200, `preview has ink (${inked})`);
    // Printer: the last one used; the paused queue is marked and cannot be chosen.
    assert.equal(await page.getByTestId('printer-select').inputValue(), 'HP-A03');
    const stopped = page.locator('[data-testid="printer-select"] option[value="Brother-Old"]');
    assert.equal(await stopped.isDisabled(), true);
    assert.match(await stopped.textContent(), /已暂停/);
    assert.equal(await page.getByTestId('print-copies').getAttribute('aria-valuenow'), '2');
    // Focus is inside the dialog, on 打印.
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'print-confirm');
    await shot(page, '10-print-dialog');

    await page.keyboard.press('PageDown');
    await page.waitForFunction(() => document.querySelector('[data-testid="print-page"]').textContent.trim() === '2 / 2');
    await page.keyboard.press('ArrowUp'); // not on the spinbutton: nothing changes
    await page.getByTestId('print-copies').focus();
    await page.keyboard.press('ArrowUp');
    assert.equal(await page.getByTestId('print-copies').getAttribute('aria-valuenow'), '3');
    await page.keyboard.press('ArrowDown');

    // The printer fails first: the message stays in the dialog, nothing is closed.
    await page.keyboard.press('Enter');
    await waitForPending(page, 'print_copies');
    await rejectPending(page, 'print_copies', { code: 'PRINTER_UNAVAILABLE', message: '打印机 HP-A03 已暂停（缺纸）。', fact: '打印机 HP-A03 已暂停（缺纸）。' });
    const err = page.getByTestId('print-error');
    await err.waitFor();
    assert.equal(await err.getAttribute('data-code'), 'PRINTER_UNAVAILABLE');
    assert.match(await err.textContent(), /缺纸/);
    await shot(page, '11-print-dialog-error');

    await page.getByTestId('printer-select').selectOption('Canon-Hall');
    await page.getByTestId('printer-select').focus();
    await page.keyboard.press('Enter');
    await waitForPending(page, 'print_copies');
    assert.deepEqual((await calls(page, 'print_copies'))[1], { serials: [serial], printer: 'Canon-Hall', copies: 2 });
    await resolvePending(page, 'print_copies', [{ serial, printer: 'Canon-Hall', jobId: 42 }]);
    const done = page.getByTestId('print-done');
    await done.waitFor();
    assert.match(await done.textContent(), /Canon-Hall/);
    assert.match(await done.textContent(), new RegExp(serial));
    await shot(page, '12-print-done');
    await dialog.waitFor({ state: 'detached', timeout: 5000 });
    const notice = page.locator('[data-testid="print-notice"][data-kind="printed"]');
    assert.match(await notice.textContent(), /Canon-Hall/);
    assert.equal(await notice.getByTestId('print-notice-serial').textContent(), serial);
    assert.deepEqual(await calls(page, 'cancel_print'), [], 'a printed copy is not cancelled');
    // Focus back where the clerk was.
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'card-print');
    await shot(page, '13-print-notice');
    assert.deepEqual(await page.evaluate(() => window.__h.cspViolations), []);
    assert.deepEqual(page.errors, []);
  } finally {
    await closePage(page);
  }
});

test('picker: 打印所选 makes one copy per ticked card, tabs show each 副本编号, Esc cancels them all', async () => {
  const page = await openApp(env, app({}, { prepare_copy: { pending: true }, cancel_print: { value: null } }));
  try {
    await showResult(page);
    await card(page, 0).getByTestId('card-select').check();
    await card(page, 2).getByTestId('card-select').check();
    assert.match(await page.getByTestId('print-selected').textContent(), /打印所选 \(2\)/);
    await page.getByTestId('print-selected').click();
    await waitForPending(page, 'prepare_copy');
    await resolvePending(page, 'prepare_copy', copyOf(S[0], 1));
    await waitForPending(page, 'prepare_copy');
    await resolvePending(page, 'prepare_copy', copyOf(S[2], 2));
    await page.locator('[data-testid="print-preview"][data-rendered="true"]').waitFor({ timeout: 15000 });
    assert.deepEqual((await calls(page, 'prepare_copy')).map((c) => c.licenseCode), [S[0].licenseCode, S[2].licenseCode]);
    const tabs = page.getByTestId('print-copy-tab');
    assert.deepEqual(await tabs.evaluateAll((els) => els.map((e) => e.dataset.serial)), [copyOf(S[0], 1).serial, copyOf(S[2], 2).serial]);
    // No printer configured or remembered: the system default is chosen.
    assert.equal(await page.getByTestId('printer-select').inputValue(), 'Canon-Hall');
    await tabs.nth(1).click();
    await page.waitForFunction((s) => document.querySelector('[data-testid="print-preview"]')?.dataset.serial === s && document.querySelector('[data-testid="print-preview"]').dataset.rendered === 'true', copyOf(S[2], 2).serial);
    assert.equal(await page.getByTestId('print-serial').textContent(), copyOf(S[2], 2).serial);
    await shot(page, '14-print-dialog-two-copies');
    await page.keyboard.press('Escape');
    await page.getByTestId('print-dialog').waitFor({ state: 'detached' });
    assert.deepEqual(await calls(page, 'cancel_print'), [{ serials: [copyOf(S[0], 1).serial, copyOf(S[2], 2).serial] }]);
    assert.deepEqual(await calls(page, 'print_copies'), []);
  } finally {
    await closePage(page);
  }
});

test('direct mode: Ctrl+P on the focused card prints to the configured printer with no dialog and names printer and serial', async () => {
  const page = await openApp(env, app({ mode: 'direct', printer: 'Counter-A03' }, {
    prepare_copy: { value: copyOf(S[0], 3) },
    print_copies: { value: [{ serial: copyOf(S[0], 3).serial, printer: 'Counter-A03', jobId: 7 }] },
  }));
  try {
    await showResult(page);
    await page.evaluate(() => {
      window.__ctrlP = [];
      window.addEventListener('keydown', (e) => {
        if (e.ctrlKey && e.key === 'p') window.__ctrlP.push(e.defaultPrevented);
      });
    });
    await card(page, 0).focus();
    await page.keyboard.press('Control+p');
    await waitForCall(page, 'print_copies');
    assert.deepEqual(await calls(page, 'print_copies'), [{ serials: [copyOf(S[0], 3).serial], printer: null, copies: 1 }]);
    const notice = page.locator('[data-testid="print-notice"][data-kind="printed"]');
    await notice.waitFor();
    assert.match(await notice.textContent(), /Counter-A03/);
    assert.match(await notice.textContent(), /P-440106001-A03-20261128-0003/);
    assert.equal(await page.getByTestId('print-dialog').count(), 0);
    assert.deepEqual(await page.evaluate(() => window.__ctrlP), [true], 'the webview does not print the page');
    assert.deepEqual(await calls(page, 'printers'), []);
    await shot(page, '15-direct-print');
  } finally {
    await closePage(page);
  }
});

test('STATUS_UNCHECKED: the clerk is told and may go on; prepare_copy is called again with allowUnchecked', async () => {
  const page = await openApp(env, app({}, { prepare_copy: { pending: true }, cancel_print: { value: null } }));
  try {
    await showResult(page);
    await card(page, 0).getByTestId('card-print').click();
    await waitForPending(page, 'prepare_copy');
    const msg = '电子证照系统暂时无法连接，最近一次核验于 2026-11-28 09:12。';
    await rejectPending(page, 'prepare_copy', { code: 'STATUS_UNCHECKED', message: msg, fact: msg });
    const q = page.getByTestId('unchecked-dialog');
    await q.waitFor();
    assert.match(await q.textContent(), /营业执照/);
    assert.match(await page.getByTestId('unchecked-message').textContent(), /09:12/);
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'unchecked-cancel', 'the safe answer has the focus');
    await shot(page, '16-status-unchecked');
    await page.getByTestId('unchecked-go').click();
    await waitForPending(page, 'prepare_copy');
    assert.deepEqual(await calls(page, 'prepare_copy'), [
      { licenseCode: S[0].licenseCode, allowUnchecked: false },
      { licenseCode: S[0].licenseCode, allowUnchecked: true },
    ]);
    await resolvePending(page, 'prepare_copy', copyOf(S[0], 4, { checkFresh: false, checkedAt: '2026-11-28T09:12:00+08:00' }));
    await page.getByTestId('print-dialog').waitFor();
    assert.match(await page.getByTestId('print-checked').textContent(), /未能重新核验.*2026-11-28 09:12/);
    await page.getByTestId('print-cancel').click();
    await page.getByTestId('print-dialog').waitFor({ state: 'detached' });

    // Cancel at the question: nothing is stamped, nothing opens.
    await card(page, 0).getByTestId('card-print').click();
    await waitForPending(page, 'prepare_copy');
    await rejectPending(page, 'prepare_copy', { code: 'STATUS_UNCHECKED', message: msg, fact: msg });
    await q.waitFor();
    await page.keyboard.press('Escape');
    await q.waitFor({ state: 'detached' });
    await page.waitForTimeout(50);
    assert.equal((await calls(page, 'prepare_copy')).length, 3);
    assert.equal(await page.getByTestId('print-dialog').count(), 0);
  } finally {
    await closePage(page);
  }
});

test('LICENSE_REVOKED at print time: the card turns 已注销 at once and can no longer be printed or selected', async () => {
  const page = await openApp(env, app({}, {
    prepare_copy: { error: { code: 'LICENSE_REVOKED', message: '证照已于 2026-11-28 注销。', fact: '证照已于 2026-11-28 注销。' } },
    license_file: { bytesBase64: makePdf(1) },
  }));
  try {
    await showResult(page);
    await card(page, 1).getByTestId('card-select').check();
    await card(page, 1).click();
    await page.getByTestId('viewer').waitFor();
    await page.getByTestId('viewer-print').click();
    const notice = page.locator('[data-testid="print-notice"][data-kind="error"]');
    await notice.waitFor();
    assert.equal(await notice.getByTestId('error-banner').getAttribute('data-code'), 'LICENSE_REVOKED');
    assert.match(await notice.textContent(), /食品经营许可证.*注销/s);
    assert.equal(await page.getByTestId('viewer-print').count(), 0, 'no 打印 in the viewer any more');
    await page.keyboard.press('Escape');
    await page.getByTestId('viewer').waitFor({ state: 'detached' });
    assert.equal(await card(page, 1).getAttribute('data-status'), 'revoked');
    assert.equal((await card(page, 1).getByTestId('status-badge').textContent()).trim(), '已注销');
    assert.equal(await card(page, 1).getByTestId('card-print').count(), 0);
    assert.equal(await card(page, 1).getByTestId('card-select').count(), 0);
    assert.match(await page.getByTestId('print-selected').textContent(), /\(0\)/);
    assert.equal(await page.getByTestId('print-selected').isDisabled(), true);
    await shot(page, '17-revoked-at-print');
  } finally {
    await closePage(page);
  }
});

test('另存为 PDF: asks for a folder once (then remembered), says where each copy went; no folder, nothing saved', async () => {
  const page = await openApp(env, app({}, {
    prepare_copy: { value: copyOf(S[0], 5) },
    'plugin:dialog|open': { value: '/home/clerk/用证副本' },
    save_copies: { value: [{ serial: copyOf(S[0], 5).serial, path: '/home/clerk/用证副本/YS-0008-营业执照-P-0005.pdf' }] },
    cancel_print: { value: null },
  }));
  try {
    await showResult(page);
    await card(page, 0).getByTestId('card-select').check();
    await page.getByTestId('save-selected').click();
    const notice = page.locator('[data-testid="print-notice"][data-kind="saved"]');
    await notice.waitFor();
    const [dlg] = await calls(page, 'plugin:dialog|open');
    assert.equal(dlg.options.directory, true);
    assert.deepEqual(await calls(page, 'save_copies'), [{ serials: [copyOf(S[0], 5).serial], dir: '/home/clerk/用证副本' }]);
    assert.equal(await notice.getByTestId('print-notice-path').textContent(), '/home/clerk/用证副本/YS-0008-营业执照-P-0005.pdf');
    await shot(page, '18-saved');
    // The folder is remembered (the backend keeps it too): no second question.
    await page.getByTestId('save-selected').click();
    await waitForCall(page, 'save_copies', 2);
    assert.deepEqual((await calls(page, 'save_copies'))[1], { serials: [copyOf(S[0], 5).serial], dir: null });
    assert.equal((await calls(page, 'plugin:dialog|open')).length, 1);
  } finally {
    await closePage(page);
  }

  // A configured folder: no question at all. From the print dialog, saving closes it.
  const page2 = await openApp(env, app({ saveDir: 'D:\\用证副本' }, {
    prepare_copy: { value: copyOf(S[0], 6) },
    save_copies: { value: [{ serial: copyOf(S[0], 6).serial, path: 'D:\\用证副本\\a.pdf' }] },
  }));
  try {
    await showResult(page2);
    await card(page2, 0).getByTestId('card-print').click();
    await page2.getByTestId('print-dialog').waitFor();
    await page2.getByTestId('print-save').click();
    await page2.locator('[data-testid="print-notice"][data-kind="saved"]').waitFor();
    assert.equal(await page2.getByTestId('print-dialog').count(), 0);
    assert.deepEqual(await calls(page2, 'save_copies'), [{ serials: [copyOf(S[0], 6).serial], dir: null }]);
    assert.deepEqual(await calls(page2, 'plugin:dialog|open'), []);
    assert.deepEqual(await calls(page2, 'cancel_print'), []);
  } finally {
    await closePage(page2);
  }

  // The folder picker closed: nothing saved, the copy reported as cancelled.
  const page3 = await openApp(env, app({}, { prepare_copy: { value: copyOf(S[0], 8) }, 'plugin:dialog|open': { value: null }, cancel_print: { value: null } }));
  try {
    await showResult(page3);
    await card(page3, 0).getByTestId('card-select').check();
    await page3.getByTestId('save-selected').click();
    await page3.locator('[data-testid="print-notice"][data-kind="notSaved"]').waitFor();
    assert.deepEqual(await calls(page3, 'save_copies'), []);
    assert.deepEqual(await calls(page3, 'cancel_print'), [{ serials: [copyOf(S[0], 8).serial] }]);
  } finally {
    await closePage(page3);
  }
});

test('a scanner burst while the print dialog is open changes nothing: no scan, same copies and printer, then 打印 prints as chosen', async () => {
  const page = await openApp(env, app({ lastPrinter: 'HP-A03', lastCopies: 2 }, {
    prepare_copy: { value: copyOf(S[0], 9) },
    print_copies: { value: [{ serial: copyOf(S[0], 9).serial, printer: 'HP-A03', jobId: 9 }] },
  }));
  try {
    await showResult(page);
    const scansBefore = (await calls(page, 'scan')).length;
    await card(page, 0).getByTestId('card-print').click();
    await page.getByTestId('print-dialog').waitFor();
    await page.locator('[data-testid="printer-select"]').waitFor();
    // On the copies control, on the printer list, and on the dialog itself.
    for (const target of ['print-copies', 'printer-select', null]) {
      if (target) await page.getByTestId(target).focus();
      else await page.getByTestId('print-dialog').focus();
      await page.keyboard.type(PAYLOAD);
      await page.keyboard.press('Enter');
      await page.getByTestId('print-scan-held').waitFor();
      assert.equal(await page.getByTestId('print-copies').getAttribute('aria-valuenow'), '2');
      assert.equal(await page.getByTestId('printer-select').inputValue(), 'HP-A03');
    }
    assert.equal((await calls(page, 'scan')).length, scansBefore, 'no scan while the dialog is open');
    assert.deepEqual(await calls(page, 'print_copies'), [], 'the scan’s Enter did not print');
    assert.equal(await page.getByTestId('enterprise-card').count(), 1, 'the customer is still on the desk');
    await shot(page, '19-print-dialog-scan-held');
    await page.getByTestId('print-confirm').click();
    await waitForCall(page, 'print_copies');
    assert.deepEqual(await calls(page, 'print_copies'), [{ serials: [copyOf(S[0], 9).serial], printer: 'HP-A03', copies: 2 }]);
    await page.getByTestId('print-done').waitFor();
    await page.keyboard.press('Enter');
    await page.getByTestId('print-dialog').waitFor({ state: 'detached' });
    // And the scanner works again at once.
    await page.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur());
    await page.keyboard.type(PAYLOAD);
    await page.keyboard.press('Enter');
    await waitForCall(page, 'scan', scansBefore + 1);
  } finally {
    await closePage(page);
  }
});

test('no printer at all: the dialog says so, 打印 is off and 另存为 PDF still works', async () => {
  const page = await openApp(env, app({ saveDir: '/srv/copies' }, {
    prepare_copy: { value: copyOf(S[0], 10) },
    printers: { value: [] },
    save_copies: { value: [{ serial: copyOf(S[0], 10).serial, path: '/srv/copies/x.pdf' }] },
  }));
  try {
    await showResult(page);
    await card(page, 0).getByTestId('card-print').click();
    const err = page.getByTestId('printers-error');
    await err.waitFor();
    assert.equal(await err.getAttribute('data-code'), 'NO_PRINTER');
    assert.equal(await page.getByTestId('print-confirm').isDisabled(), true);
    await page.keyboard.press('Enter');
    assert.deepEqual(await calls(page, 'print_copies'), []);
    await page.getByTestId('print-save').click();
    await page.locator('[data-testid="print-notice"][data-kind="saved"]').waitFor();
  } finally {
    await closePage(page);
  }
});
