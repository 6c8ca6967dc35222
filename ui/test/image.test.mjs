// Browser tests of the 粤商码 from an image: Ctrl+V of a picture, a dropped or opened file, the picture shown with IMAGE_NO_CODE, and the camera (F4) fed by Chromium's fake camera playing a Y4M video of a QR code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import qrcode from 'qrcode-generator';
import {
  sharedBrowser, calls, closePage, openApp, scanResult, setResponse, shot, waitForCall,
} from './support.mjs';

/** A sandbox-like 粤商码, as the sandbox gateway issues them (a link with the code after /ysm/). */
const CODE = 'https://yueshangma.sandbox.invalid/ysm/Q7mK2pX9vR4tB8nW3zL6cY1dF5hJ0sGa';
const NOT_A_CODE = 'https://pay.example.com/qr?order=20261128-0042&amount=12.50';

/** The QR code's modules: true is dark. */
function qrMatrix(text) {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount();
  return Array.from({ length: n }, (_, r) => Array.from({ length: n }, (_, c) => qr.isDark(r, c)));
}

/** A raw 4:2:0 YUV4MPEG2 video: a grey desk with the code drawn large and sharp in the middle (black on white, its
 *  quiet zone included), the same in every frame; Chromium's fake camera plays it in a loop. */
function y4mOf(text, { w = 640, h = 480, frames = 10 } = {}) {
  const matrix = qrMatrix(text);
  const quiet = 4;
  const total = matrix.length + 2 * quiet;
  const px = Math.floor((Math.min(w, h) * 0.85) / total);
  const size = px * total;
  const x0 = (w - size) >> 1;
  const y0 = (h - size) >> 1;
  const y = Buffer.alloc(w * h, 90);
  for (let row = 0; row < size; row++) {
    for (let col = 0; col < size; col++) {
      const r = Math.floor(row / px) - quiet;
      const c = Math.floor(col / px) - quiet;
      const dark = r >= 0 && c >= 0 && r < matrix.length && c < matrix.length && matrix[r][c];
      y[(y0 + row) * w + x0 + col] = dark ? 16 : 235;
    }
  }
  const chroma = Buffer.alloc((w / 2) * (h / 2) * 2, 128);
  const parts = [Buffer.from(`YUV4MPEG2 W${w} H${h} F10:1 Ip A1:1 C420jpeg\n`)];
  for (let i = 0; i < frames; i++) parts.push(Buffer.from('FRAME\n'), y, chroma);
  return Buffer.concat(parts);
}

const VIDEO = join(tmpdir(), `yueshang-camera-${process.pid}.y4m`);
writeFileSync(VIDEO, y4mOf(CODE));

// Every page of this file gets the fake camera (the flags are this file's only), granted without a prompt.
const env = sharedBrowser({
  browserArgs: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', `--use-file-for-fake-video-capture=${VIDEO}`],
});

/** Keeps every stream the page got, and the constraints asked for, so a test can see the camera go off. */
const TRACK_STREAMS = () => {
  window.__streams = [];
  const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    window.__constraints = constraints;
    const stream = await real(constraints);
    window.__streams.push(stream);
    return stream;
  };
};

/** A camera that sees `matrix` (a QR code's modules) or nothing (null): a canvas stream, for what the video file does not show. */
const CANVAS_CAMERA = (matrix) => {
  window.__streams = [];
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    window.__constraints = constraints;
    const canvas = document.createElement('canvas');
    canvas.width = 640;
    canvas.height = 480;
    const g = canvas.getContext('2d');
    const draw = () => {
      g.fillStyle = '#5a5a5a';
      g.fillRect(0, 0, 640, 480);
      if (!matrix) return;
      const px = 8;
      const size = (matrix.length + 8) * px;
      const x0 = (640 - size) / 2;
      const y0 = (480 - size) / 2;
      g.fillStyle = '#fff';
      g.fillRect(x0, y0, size, size);
      g.fillStyle = '#000';
      matrix.forEach((row, r) => row.forEach((dark, c) => dark && g.fillRect(x0 + (c + 4) * px, y0 + (r + 4) * px, px, px)));
    };
    draw();
    setInterval(draw, 100);
    const stream = canvas.captureStream(10);
    window.__streams.push(stream);
    return stream;
  };
};

/** getUserMedia refuses as a webview does with no camera or a refused permission (`window.__gumError` names how). */
const REFUSING_CAMERA = () => {
  window.__gumError = 'NotAllowedError';
  navigator.mediaDevices.getUserMedia = async () => {
    throw new DOMException('refused', window.__gumError);
  };
};

const tracksEnded = (page) =>
  page.evaluate(() => {
    const tracks = (window.__streams ?? []).flatMap((s) => s.getTracks());
    return { count: tracks.length, live: tracks.filter((t) => t.readyState !== 'ended').length };
  });

/** A real PNG drawn by the browser (its content does not matter to the mocked shell). */
async function pngBytes(page) {
  return page.evaluate(async () => {
    const c = document.createElement('canvas');
    c.width = 240;
    c.height = 160;
    const g = c.getContext('2d');
    g.fillStyle = '#fff';
    g.fillRect(0, 0, 240, 160);
    g.fillStyle = '#0d4f8b';
    g.fillRect(20, 20, 200, 120);
    g.fillStyle = '#fff';
    g.font = '28px sans-serif';
    g.fillText('no code', 60, 92);
    const blob = await new Promise((r) => c.toBlob(r, 'image/png'));
    return Array.from(new Uint8Array(await blob.arrayBuffer()));
  });
}

/** Ctrl+V with an image on the system clipboard, as the clerk does it (a real key press, a real clipboard). */
async function pasteImage(page, bytes) {
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
  await page.evaluate(async (bytes) => {
    const blob = new Blob([new Uint8Array(bytes)], { type: 'image/png' });
    await navigator.clipboard.write([new ClipboardItem({ 'image/png': blob })]);
    if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
  }, bytes);
  await page.keyboard.press('Control+V');
}

/** Whether an object URL still loads (a revoked one does not). */
const urlLoads = (page, url) =>
  page.evaluate(
    (url) => new Promise((resolve) => {
      const img = new Image();
      img.onload = () => resolve(true);
      img.onerror = () => resolve(false);
      img.src = url;
    }),
    url,
  );

const cspViolations = (page) => page.evaluate(() => window.__h.cspViolations);

async function waitLong(page, cmd, count = 1) {
  await page.waitForFunction(([cmd, count]) => window.__h.callsOf(cmd).length >= count, [cmd, count], { timeout: 20000 });
  return calls(page, cmd);
}

test('Ctrl+V of a picture sends its bytes to read_image (also as WebKitGTK pastes), and the code read goes the scanner\'s way to scan', async () => {
  const page = await openApp(env, { responses: { read_image: { value: { text: CODE } }, scan: { value: scanResult({ n: 3 }) } } });
  try {
    await page.getByTestId('item-select').selectOption('SP-002');
    const png = await pngBytes(page);
    await pasteImage(page, png);
    const [read] = await waitForCall(page, 'read_image');
    // The clipboard re-encodes a picture, so not the same bytes: the same picture, as the raw body.
    assert.deepEqual(read.rawBytes.slice(0, 8), [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG');
    const size = await page.evaluate(async (bytes) => {
      const bitmap = await createImageBitmap(new Blob([new Uint8Array(bytes)], { type: 'image/png' }));
      return [bitmap.width, bitmap.height];
    }, read.rawBytes);
    assert.deepEqual(size, [240, 160], 'the pasted picture');
    const [scan] = await waitForCall(page, 'scan');
    assert.equal(scan.payload, CODE);
    assert.equal(scan.itemCode, 'SP-002');
    await page.getByTestId('enterprise-card').waitFor();

    // As WebKitGTK delivers it: a paste event that shows nothing of the picture, which is then read from the clipboard.
    await page.evaluate(() => {
      if (document.activeElement instanceof HTMLElement) document.activeElement.blur();
      document.body.dispatchEvent(new ClipboardEvent('paste', { clipboardData: new DataTransfer(), bubbles: true, cancelable: true }));
    });
    const [, second] = await waitForCall(page, 'read_image', 2);
    assert.deepEqual(second.rawBytes, read.rawBytes, 'the same picture, read from the clipboard');
    assert.equal((await waitForCall(page, 'scan', 2))[1].payload, CODE);

    // Text pasted into a field stays the field's: no image read.
    await page.evaluate(() => navigator.clipboard.writeText('typed text'));
    await page.getByTestId('manual-open').click();
    await page.getByTestId('manual-input').focus();
    await page.keyboard.press('Control+V');
    await page.waitForFunction(() => document.querySelector('[data-testid="manual-input"]').value === 'typed text');
    assert.equal((await calls(page, 'read_image')).length, 2);
    assert.deepEqual(await cspViolations(page), []);
    assert.deepEqual(page.errors, []);
  } finally {
    await closePage(page);
  }
});

test('IMAGE_NO_CODE shows the picture beside the advice; dismissing it, or 下一位, lets the picture go', async () => {
  const noCode = { code: 'IMAGE_NO_CODE', message: '图片中没有找到粤商码。请让办事人发送完整、清晰的粤商码截图，或直接出示手机扫码。', fact: null };
  const page = await openApp(env, { responses: { read_image: { error: noCode }, next_customer: { value: { bizNum: 'YS-440106001-A03-20261128-0009' } } } });
  try {
    const png = await pngBytes(page);
    await pasteImage(page, png);
    const banner = page.locator('[data-testid="error-banner"][data-code="IMAGE_NO_CODE"]');
    await banner.waitFor();
    assert.match(await page.getByTestId('error-headline').textContent(), /图片中没有找到粤商码/);
    const img = page.getByTestId('image-no-code-img');
    await page.waitForFunction(() => document.querySelector('[data-testid="image-no-code-img"]')?.naturalWidth === 240);
    const url = await img.getAttribute('src');
    assert.match(url, /^blob:/);
    assert.deepEqual(await calls(page, 'scan'), [], 'nothing was scanned');
    await shot(page, '40-image-no-code');

    await page.getByTestId('error-dismiss').click();
    await page.getByTestId('image-no-code').waitFor({ state: 'detached' });
    assert.equal(await urlLoads(page, url), false, 'the picture\'s URL is revoked with its message');

    // Again, then 下一位: the picture goes with the customer.
    await pasteImage(page, png);
    await page.getByTestId('image-no-code').waitFor();
    const second = await page.getByTestId('image-no-code-img').getAttribute('src');
    await page.keyboard.press('F8');
    await page.getByTestId('image-no-code').waitFor({ state: 'detached' });
    assert.equal(await urlLoads(page, second), false);
    assert.deepEqual(await cspViolations(page), []);
  } finally {
    await closePage(page);
  }
});

test('a file dragged over the window shows the drop overlay; dropped, its path goes to read_image_file and its code to scan', async () => {
  const page = await openApp(env, { responses: { read_image_file: { value: { text: CODE } } } });
  try {
    const at = { x: 400, y: 300 };
    await page.evaluate((at) => window.__h.emitEvent('tauri://drag-enter', { paths: ['/home/clerk/下载/粤商码.PNG'], position: at }), at);
    const overlay = page.getByTestId('image-drop');
    await overlay.waitFor();
    assert.match(await overlay.textContent(), /松开鼠标识别图片中的粤商码/);
    await shot(page, '41-image-drop');
    await page.evaluate((at) => window.__h.emitEvent('tauri://drag-leave', null), at);
    await overlay.waitFor({ state: 'detached' });

    // Several files: the picture among them is read.
    await page.evaluate((at) => window.__h.emitEvent('tauri://drag-enter', { paths: ['/tmp/a.txt', '/tmp/b.jpg'], position: at }), at);
    await overlay.waitFor();
    await page.evaluate((at) => window.__h.emitEvent('tauri://drag-drop', { paths: ['/tmp/a.txt', '/tmp/b.jpg'], position: at }), at);
    await overlay.waitFor({ state: 'detached' });
    assert.deepEqual(await waitForCall(page, 'read_image_file'), [{ path: '/tmp/b.jpg' }]);
    const [scan] = await waitForCall(page, 'scan');
    assert.equal(scan.payload, CODE);
  } finally {
    await closePage(page);
  }
});

test('打开图片 offers images only and reads the file picked', async () => {
  const page = await openApp(env, { responses: { 'plugin:dialog|open': { value: '/home/clerk/截图.webp' }, read_image_file: { value: { text: CODE } } } });
  try {
    await page.getByTestId('image-open').click();
    const [dialog] = await waitForCall(page, 'plugin:dialog|open');
    assert.equal(dialog.options.multiple, false);
    assert.equal(dialog.options.directory, false);
    const lower = ['png', 'jpg', 'jpeg', 'bmp', 'gif', 'webp'];
    assert.deepEqual(dialog.options.filters[0].extensions, [...lower, ...lower.map((e) => e.toUpperCase())]);
    assert.deepEqual(await waitForCall(page, 'read_image_file'), [{ path: '/home/clerk/截图.webp' }]);
    assert.equal((await waitForCall(page, 'scan'))[0].payload, CODE);
  } finally {
    await closePage(page);
  }
});

test('the camera (F4) reads the 粤商码 in the fake camera\'s video, turns itself off and scans it', async () => {
  const page = await openApp(env, { initScripts: [TRACK_STREAMS] });
  try {
    await page.keyboard.press('F4');
    const dialog = page.getByTestId('camera-dialog');
    await dialog.waitFor();
    const [scan] = await waitLong(page, 'scan');
    assert.equal(scan.payload, CODE, 'the text in the video, passed on as a scan');
    await dialog.waitFor({ state: 'detached' });
    const constraints = await page.evaluate(() => window.__constraints);
    assert.equal(constraints.video.facingMode, 'environment');
    assert.equal(constraints.audio, false);
    const tracks = await tracksEnded(page);
    assert.ok(tracks.count >= 1, 'the camera was used');
    assert.equal(tracks.live, 0, 'every track stopped: the light is off');
    assert.deepEqual(await cspViolations(page), []);
    assert.deepEqual(page.errors, []);
  } finally {
    await closePage(page);
  }
});

test('the camera goes off with Esc and with 下一位, and a QR code that is not a 粤商码 only brings a hint', async () => {
  const page = await openApp(env, {
    initScripts: [{ content: `(${CANVAS_CAMERA})(${JSON.stringify(qrMatrix(NOT_A_CODE))})` }],
    responses: { next_customer: { value: { bizNum: 'YS-440106001-A03-20261128-0009' } } },
  });
  try {
    await page.keyboard.press('F4');
    await page.locator('[data-testid="camera-dialog"][data-phase="looking"]').waitFor();
    const hint = page.getByTestId('camera-other-code');
    await hint.waitFor({ timeout: 10000 });
    assert.match(await hint.textContent(), /看到的二维码不是粤商码/);
    await shot(page, '42-camera-other-code');
    assert.deepEqual(await calls(page, 'scan'), [], 'another QR code is never scanned');
    assert.equal(await page.locator('[data-testid="error-banner"]').count(), 0, 'nor shown as an error');
    await page.keyboard.press('Escape');
    await page.getByTestId('camera-dialog').waitFor({ state: 'detached' });
    assert.deepEqual(await tracksEnded(page), { count: 1, live: 0 });

    await page.getByTestId('camera-open').click();
    await page.locator('[data-testid="camera-dialog"][data-phase="looking"]').waitFor();
    await page.keyboard.press('F8');
    await page.getByTestId('camera-dialog').waitFor({ state: 'detached' });
    assert.deepEqual(await tracksEnded(page), { count: 2, live: 0 });
    await waitForCall(page, 'next_customer');
  } finally {
    await closePage(page);
  }
});

test('60 s without a 粤商码 turns the camera off and says so (the page\'s clock run forward)', async () => {
  const page = await openApp(env, { initScripts: [{ content: `(${CANVAS_CAMERA})(null)` }] });
  try {
    await page.clock.install();
    await page.keyboard.press('F4');
    const dialog = page.locator('[data-testid="camera-dialog"]');
    await page.locator('[data-testid="camera-dialog"][data-phase="looking"]').waitFor();
    await page.clock.runFor(59_000);
    assert.equal(await dialog.getAttribute('data-phase'), 'looking');
    assert.deepEqual(await tracksEnded(page), { count: 1, live: 1 });
    await page.clock.runFor(1_500);
    await page.locator('[data-testid="camera-dialog"][data-phase="timedOut"]').waitFor();
    assert.equal((await page.getByTestId('camera-status').textContent()).trim(), '未识别到粤商码，已关闭摄像头');
    assert.deepEqual(await tracksEnded(page), { count: 1, live: 0 });
    await shot(page, '43-camera-timed-out');
    // 重新打开 turns it on again.
    await page.getByTestId('camera-retry').click();
    await page.locator('[data-testid="camera-dialog"][data-phase="looking"]').waitFor();
    assert.deepEqual(await tracksEnded(page), { count: 2, live: 1 });
    await page.getByTestId('camera-close').click();
    await dialog.waitFor({ state: 'detached' });
    assert.deepEqual(await tracksEnded(page), { count: 2, live: 0 });
  } finally {
    await closePage(page);
  }
});

test('no camera, or the camera refused: a clear message, nothing else happens', async () => {
  const page = await openApp(env, { initScripts: [REFUSING_CAMERA] });
  try {
    await page.keyboard.press('F4');
    await page.locator('[data-testid="camera-dialog"][data-phase="failed"]').waitFor();
    assert.match(await page.getByTestId('camera-status').textContent(), /^摄像头权限被拒绝/);
    await page.keyboard.press('Escape');
    await page.getByTestId('camera-dialog').waitFor({ state: 'detached' });

    await page.evaluate(() => (window.__gumError = 'NotFoundError'));
    await page.keyboard.press('F4');
    await page.locator('[data-testid="camera-dialog"][data-phase="failed"]').waitFor();
    assert.match(await page.getByTestId('camera-status').textContent(), /^本机没有可用的摄像头/);
    await shot(page, '44-camera-none');
    assert.deepEqual(await calls(page, 'scan'), []);
  } finally {
    await closePage(page);
  }
});
