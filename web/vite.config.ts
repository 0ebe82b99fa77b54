import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * Both pages in one build: React and the shared modules become one cached chunk. Hashed files
 * land in dist/web/assets (served with a year's cache); each page's index.html is revalidated on
 * every load, so a deploy is picked up at once. No inline scripts: the pages' CSP is script-src 'self'.
 */
export default defineConfig({
  root: here('.'),
  base: '/',
  plugins: [react()],
  build: {
    outDir: here('../dist/web'),
    emptyOutDir: true,
    assetsDir: 'assets',
    // The modulepreload polyfill would be inlined into index.html; every browser Telegram ships has it.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    rolldownOptions: {
      input: { app: here('app/index.html'), panel: here('panel/index.html') },
    },
  },
});
