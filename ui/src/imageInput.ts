// The 粤商码 from an image: a pasted image (Ctrl+V), an image file dropped onto the window or picked with 打开图片, and the camera (F4); whatever is read goes to the very call the scanner gun's scans go to, and the image that held no code is shown beside the error until it is dismissed or the customer leaves.
import { reactive, watch } from 'vue';
import { getCurrentWebview } from '@tauri-apps/api/webview';
import * as api from './api';
import { adviceFor } from './errors';
import { noteActivity } from './idle';
import { modalOpen } from './modal';
import { closeObjectUrl, objectUrl } from './pdfDocument';
import { isEditable } from './scanner';
import { onCustomerCleared, state } from './session';
import { isSupervisor, shift, signInNeeded } from './shift';
import type { AppError } from './types';
import './image.css';

export interface ImageInputState {
  /** An image is being read by the shell. */
  busy: boolean;
  /** A file is dragged over the window: the drop overlay shows. */
  dragging: boolean;
  /** An object URL of the image that held no 粤商码, shown beside that error. */
  preview: string | null;
  cameraOpen: boolean;
}

export const imageInput = reactive<ImageInputState>({ busy: false, dragging: false, preview: null, cameraOpen: false });

/** What the files picker offers, and what a drop of several files is searched for first. */
export const IMAGE_EXTENSIONS = ['png', 'jpg', 'jpeg', 'bmp', 'gif', 'webp'];

/** The error the preview belongs to: the preview goes when that error does. */
let previewFor: AppError | null = null;
let deliver: ((text: string) => void) | null = null;

/** The counter screen is in front and no dialog is open: the only place an image may bring a customer. */
export function canRead(): boolean {
  return !!state.counter && !signInNeeded() && !(shift.supervisorOpen && isSupervisor()) && !modalOpen();
}

function dropPreview(): void {
  if (imageInput.preview) closeObjectUrl(imageInput.preview);
  imageInput.preview = null;
  previewFor = null;
}

// Dismissed, replaced by another message, or a new scan: the picture goes with its message.
watch(() => state.error, (error) => {
  if (error !== previewFor) dropPreview();
});
// 下一位, an idle clear, a lock, a sign-out: the camera goes off with the customer (the URL itself is revoked by pdfDocument).
onCustomerCleared(() => {
  imageInput.preview = null;
  previewFor = null;
  imageInput.cameraOpen = false;
});

/** One image at a time; its text goes on as a scan, or its error to the banner (the customer on screen stays:
 *  nothing was scanned). `shown` is the image to show when it holds no code. */
async function read(decode: () => Promise<{ text: string }>, shown: Blob | null): Promise<void> {
  if (imageInput.busy) return;
  noteActivity();
  imageInput.busy = true;
  try {
    const { text } = await decode();
    deliver?.(text);
  } catch (e) {
    const err = api.asAppError(e);
    // Signed out (or locked) meanwhile: nothing of the picture belongs on the sign-in screen.
    if (adviceFor(err.code).silent || signInNeeded()) return;
    dropPreview();
    state.error = err;
    if (err.code === 'IMAGE_NO_CODE' && shown) {
      previewFor = state.error;
      imageInput.preview = objectUrl(shown);
    }
  } finally {
    imageInput.busy = false;
  }
}

export async function readImageBlob(blob: Blob): Promise<void> {
  await read(async () => api.readImage(new Uint8Array(await blob.arrayBuffer())), blob);
}

export async function readImagePath(path: string): Promise<void> {
  await read(() => api.readImageFile(path), null);
}

/** 打开图片: the system's file picker, images only. */
export async function openImageFile(title: string, filterName: string): Promise<void> {
  if (!canRead() || imageInput.busy) return;
  let path: string | null;
  try {
    // GTK's file chooser matches patterns case-sensitively: a phone's IMG_0001.JPG must show too.
    path = await api.chooseImage(title, filterName, [...IMAGE_EXTENSIONS, ...IMAGE_EXTENSIONS.map((e) => e.toUpperCase())]);
  } catch (e) {
    state.error = api.asAppError(e);
    return;
  }
  if (path && canRead()) await readImagePath(path);
}

export function openCamera(): void {
  if (canRead()) imageInput.cameraOpen = true;
}

/** The camera saw a 粤商码: its dialog has closed (and the camera is off) before the text goes on. */
export function cameraCode(text: string): void {
  deliver?.(text);
}

function imageIn(data: DataTransfer): File | null {
  for (const item of data.items) {
    if (item.kind === 'file' && item.type.startsWith('image/')) {
      const file = item.getAsFile();
      if (file) return file;
    }
  }
  return [...data.files].find((f) => f.type.startsWith('image/')) ?? null;
}

function hasText(data: DataTransfer): boolean {
  return [...data.types].some((type) => type === 'text/plain' || type === 'text/html');
}

function onPaste(e: ClipboardEvent): void {
  const data = e.clipboardData;
  if (!data) return;
  const image = imageIn(data);
  if (image) {
    // Text pasted into a field stays the field's; so does a copy that holds text and a picture (a web page, a document).
    if (isEditable(e.target) && hasText(data)) return;
    if (!canRead()) return;
    e.preventDefault();
    void readImageBlob(image);
    return;
  }
  // WebKitGTK hands a paste event nothing of a picture on the clipboard (no type, no file), yet lets the page read
  // the clipboard during it; a clipboard with text shows its types, so a text paste never gets here.
  if (data.types.length === 0 && canRead() && typeof navigator.clipboard?.read === 'function') {
    e.preventDefault();
    void readClipboardImage();
  }
}

async function readClipboardImage(): Promise<void> {
  let picture: Blob | null = null;
  try {
    for (const item of await navigator.clipboard.read()) {
      const type = item.types.find((t) => t.startsWith('image/'));
      if (type) {
        picture = await item.getType(type);
        break;
      }
    }
  } catch {
    // Nothing readable on the clipboard: as if nothing was pasted.
    return;
  }
  if (picture && canRead()) await readImageBlob(picture);
}

/** WebKit runs Ctrl+V outside an editable field only when `beforepaste` is taken (otherwise no `paste` event comes). */
function onBeforePaste(e: Event): void {
  if (!isEditable(e.target) && canRead()) e.preventDefault();
}

function pathToRead(paths: string[]): string | null {
  const image = paths.find((p) => IMAGE_EXTENSIONS.includes(p.split('.').pop()?.toLowerCase() ?? ''));
  return image ?? paths[0] ?? null;
}

/** The window's drag and drop gives the dropped files' paths (the webview's own HTML drop is off in Tauri). */
async function listenForDrops(): Promise<() => void> {
  const unlisten = await getCurrentWebview().onDragDropEvent(({ payload }) => {
    switch (payload.type) {
      case 'enter':
        imageInput.dragging = payload.paths.length > 0 && canRead();
        break;
      case 'over':
        break;
      case 'leave':
        imageInput.dragging = false;
        break;
      case 'drop': {
        const was = imageInput.dragging;
        imageInput.dragging = false;
        const path = pathToRead(payload.paths);
        if (was && path && canRead()) void readImagePath(path);
        break;
      }
    }
  });
  return () => void unlisten();
}

/** Starts listening for pasted and dropped images (once the window is up); `onCode` is the scanner's own scan call.
 *  Returns the way to stop. */
export function attachImageInput(onCode: (text: string) => void): () => void {
  deliver = onCode;
  document.addEventListener('paste', onPaste);
  document.addEventListener('beforepaste', onBeforePaste);
  let stopDrops: (() => void) | null = null;
  let detached = false;
  listenForDrops().then(
    (stop) => (detached ? stop() : (stopDrops = stop)),
    // Outside the app's window (no webview to listen on) there is nothing to drop onto.
    () => undefined,
  );
  return () => {
    detached = true;
    deliver = null;
    document.removeEventListener('paste', onPaste);
    document.removeEventListener('beforepaste', onBeforePaste);
    stopDrops?.();
    imageInput.dragging = false;
  };
}

/** Whether a QR code's text would be taken as a scan: a 粤商码 (16–64 of A–Z a–z 0–9 - _, bare or in a link's `c`/`code`
 *  query or after `/ysm/`), which a USCC also is in shape. The shell parses it again (EnterpriseCode::parse); this only
 *  keeps the camera looking past other QR codes. */
export function looksLikeYueshangCode(raw: string): boolean {
  const text = raw.trim();
  if (text.length > 2048) return false;
  const CODE = /^[A-Za-z0-9_-]{16,64}$/;
  if (!/^https?:\/\//i.test(text)) return CODE.test(text);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  const fromQuery = url.searchParams.get('c') ?? url.searchParams.get('code');
  if (fromQuery !== null) return CODE.test(fromQuery);
  const segments = url.pathname.split('/').filter(Boolean);
  return segments.length >= 2 && segments[segments.length - 2] === 'ysm' && CODE.test(segments[segments.length - 1]);
}
