// Production build of the counter UI (ui/dist), loaded by the Tauri shell; contains no test code.
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import { pdfjsAssets } from './vite.pdfjs-assets.ts';
import { echartsFrozenPrototype } from './vite.echarts-frozen.ts';

export default defineConfig({
  plugins: [vue(), pdfjsAssets(), echartsFrozenPrototype()],
  // Relative asset URLs keep the bundle working whatever origin the webview gives it.
  base: './',
  clearScreen: false,
  server: { port: 1420, strictPort: true },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // Tauri webviews: WebView2 (Chromium) on Windows, WebKitGTK on UOS/Kylin.
    target: ['es2021', 'chrome105', 'safari15'],
    // Inlined assets become data: URLs; keeping them as files is friendlier to the strict CSP.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 2000,
  },
});
