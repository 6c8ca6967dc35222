// Opening license PDFs with the locally bundled pdf.js (legacy build, worker and CMaps shipped in the app; no eval, no CDN).
import type { PDFDocumentProxy } from 'pdfjs-dist/legacy/build/pdf.mjs';
import workerUrl from 'pdfjs-dist/legacy/build/pdf.worker.min.mjs?url';

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

function assetUrl(dir: string): string {
  return new URL(`${import.meta.env.BASE_URL}pdfjs/${dir}/`, document.baseURI).href;
}

export async function openPdf(bytes: Uint8Array): Promise<PDFDocumentProxy> {
  const m = await pdfjs();
  // pdf.js takes ownership of (detaches) the buffer it is given, so hand it a copy.
  const task = m.getDocument({
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
  return task.promise;
}
