/**
 * Vite config of the browser benchmark page (bench/browser/), kept apart from the app's
 * vite.config.ts. bench/browser.ts builds it into a temporary folder and serves it with
 * `vite preview` (or runs the dev server with --dev); the e2e test uses the dev server.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));
const root = fileURLToPath(new URL('../..', import.meta.url));

export default defineConfig({
  root: here,
  base: './',
  // Its own pre-bundle cache: the app's dev server (node_modules/.vite) is left alone.
  cacheDir: `${root}node_modules/.vite-bench`,
  server: { fs: { allow: [root] } },
  optimizeDeps: {
    entries: ['index.html', 'worker.ts'],
    include: [
      '@tensorflow/tfjs-core',
      '@tensorflow/tfjs-core/dist/gradients/*_grad.js',
      '@tensorflow/tfjs-backend-cpu',
      '@tensorflow/tfjs-backend-wasm',
      '@tensorflow/tfjs-backend-webgl',
      '@tensorflow/tfjs-backend-webgpu',
    ],
  },
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    emptyOutDir: true,
    // The tfjs-wasm binaries must stay files (never inlined as base64).
    assetsInlineLimit: (file: string) => (file.endsWith('.wasm') ? false : undefined),
    chunkSizeWarningLimit: 4000,
  },
  logLevel: 'warn',
});
