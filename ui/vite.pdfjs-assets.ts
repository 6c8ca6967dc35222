// Vite plugin that ships pdf.js's CMaps, standard fonts and wasm decoders inside the build, so Chinese PDFs render on offline hall PCs.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plugin } from 'vite';

// Licenses from the e-license system are Chinese PDFs that often use non-embedded CJK fonts:
// without the CMaps pdf.js cannot map their glyphs, and a CDN is not an option (halls may be offline).
const DIRS = ['cmaps', 'standard_fonts', 'wasm', 'iccs'];

export function pdfjsAssets(): Plugin {
  const root = join(import.meta.dirname, 'node_modules', 'pdfjs-dist');
  return {
    name: 'yueshang-pdfjs-assets',
    apply: 'build',
    generateBundle() {
      for (const dir of DIRS) {
        for (const file of readdirSync(join(root, dir))) {
          if (file.startsWith('LICENSE')) continue;
          this.emitFile({ type: 'asset', fileName: `pdfjs/${dir}/${file}`, source: readFileSync(join(root, dir, file)) });
        }
      }
    },
  };
}
