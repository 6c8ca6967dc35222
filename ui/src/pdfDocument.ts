// Opening license PDFs with the locally bundled pdf.js (legacy build, worker and CMaps shipped in the app; no eval, no CDN), and letting every document and object URL of a customer go when the customer leaves.
import type { PDFDocumentLoadingTask, PDFDocumentProxy } from 'pdfjs-dist/legacy/build/pdf.mjs';
import workerUrl from 'pdfjs-dist/legacy/build/pdf.worker.min.mjs?url';
import { onCustomerCleared } from './session';

export type { PDFDocumentProxy };

// The legacy build, because UOS/Kylin halls run older WebKitGTK webviews that lack what the modern build assumes.
let lib: Promise<typeof import('pdfjs-dist/legacy/build/pdf.mjs')> | null = null;

function pdfjs() {
  lib ??= import('pdfjs-dist/legacy/build/pdf.mjs').then((m) => {
    m.GlobalWorkerOptions.workerSrc = workerUrl;
    return m;
  });
  return lib;
}

// One pdf.js worker per customer: starting one (its 1.3 MB script parsed and compiled) cost about
// 300 ms of every open. It ends with the customer's documents when the customer leaves, so nothing
// of theirs stays in its memory (a document given a worker leaves the worker be when destroyed).
let worker: InstanceType<typeof import('pdfjs-dist/legacy/build/pdf.mjs').PDFWorker> | null = null;

function sharedWorker(m: typeof import('pdfjs-dist/legacy/build/pdf.mjs')) {
  if (!worker || worker.destroyed) worker = new m.PDFWorker();
  return worker;
}

function assetUrl(dir: string): string {
  return new URL(`${import.meta.env.BASE_URL}pdfjs/${dir}/`, document.baseURI).href;
}

/** Every document opened (or still opening) for the customer on screen, and every object URL made of their files. */
const liveTasks = new Set<PDFDocumentLoadingTask>();
const liveUrls = new Set<string>();

export async function openPdf(bytes: Uint8Array): Promise<PDFDocumentProxy> {
  const m = await pdfjs();
  // pdf.js takes ownership of (detaches) the buffer it is given, so hand it a copy.
  const task = m.getDocument({
    worker: sharedWorker(m),
    data: bytes.slice(),
    isEvalSupported: false,
    cMapUrl: assetUrl('cmaps'),
    cMapPacked: true,
    standardFontDataUrl: assetUrl('standard_fonts'),
    wasmUrl: assetUrl('wasm'),
    iccUrl: assetUrl('iccs'),
    // Licenses never need scripts or links to the outside.
    enableXfa: false,
  });
  liveTasks.add(task);
  return task.promise;
}

/** The license PDFs opened for the customer on the desk, by license code: opening a card again
 *  draws from the parsed document and its decoded images instead of reading and parsing the file
 *  again (a scanned page took 400 ms each time). They go with the customer, like everything else. */
const customerDocs = new Map<string, Promise<PDFDocumentProxy>>();

export function licensePdf(licenseCode: string, read: () => Promise<Uint8Array>): Promise<PDFDocumentProxy> {
  const kept = customerDocs.get(licenseCode);
  if (kept) return kept;
  const opening = read().then(openPdf);
  customerDocs.set(licenseCode, opening);
  // A failure is not kept: the next open tries again.
  opening.catch(() => {
    if (customerDocs.get(licenseCode) === opening) customerDocs.delete(licenseCode);
  });
  return opening;
}

/** Destroys a document (its worker, pages, fonts); safe to call twice. */
export function closePdf(doc: PDFDocumentProxy): void {
  liveTasks.delete(doc.loadingTask);
  doc.destroy().catch(() => undefined);
}

/** An object URL of a customer's file; revoked with closeObjectUrl, or when the customer leaves at the latest. */
export function objectUrl(blob: Blob): string {
  const url = URL.createObjectURL(blob);
  liveUrls.add(url);
  return url;
}

export function closeObjectUrl(url: string): void {
  liveUrls.delete(url);
  URL.revokeObjectURL(url);
}

/** How many documents and object URLs are still held (the tests look; 0 after 下一位). */
export function heldFiles(): { pdfs: number; urls: number } {
  return { pdfs: liveTasks.size, urls: liveUrls.size };
}

// 下一位, an idle clear, a lock, a sign-out, a new scan: whatever a viewer or preview still holds goes now, even one
// still loading, not only when its component unmounts.
onCustomerCleared(() => {
  customerDocs.clear();
  const tasks = [...liveTasks];
  liveTasks.clear();
  const ending = worker;
  worker = null;
  // The worker ends once its documents are destroyed (they say goodbye through it).
  void Promise.allSettled(tasks.map((task) => task.destroy())).then(() => ending?.destroy());
  for (const url of liveUrls) URL.revokeObjectURL(url);
  liveUrls.clear();
});
