// Test-only build: the app behind a mocked Tauri IPC (test/harness.html) into ui/test-dist, never into dist.
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';
import { pdfjsAssets } from './vite.pdfjs-assets.ts';
import { echartsFrozenPrototype } from './vite.echarts-frozen.ts';

export default defineConfig({
  plugins: [vue(), pdfjsAssets(), echartsFrozenPrototype()],
  base: '/',
  clearScreen: false,
  logLevel: 'warn',
  build: {
    outDir: 'test-dist',
    emptyOutDir: true,
    target: ['es2021', 'chrome105'],
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 4000,
    minify: false,
    rolldownOptions: { input: { harness: 'test/harness.html' } },
  },
});
