import { defineConfig } from 'vitest/config';
import react from '@vitejs/plugin-react';

// Cross-origin isolation (COOP + COEP) for `vite` and `vite preview`: it gives the page
// SharedArrayBuffer, so the worker's tfjs-wasm runs its threaded SIMD binary (src/worker/backend.ts).
// Static hosts that cannot send headers get them from public/coi-serviceworker.js instead.
const isolationHeaders = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

// tfjs is imported only by the training worker; keep it in a chunk of its own wherever it lands.
// The WebGPU and WebGL backends are imported on demand (src/worker/backend.ts), each in its own
// chunk, so the worker downloads tfjs-core + cpu + wasm and only the GPU backend it tries.
const chunks = {
  codeSplitting: {
    groups: [
      { name: 'tfjs-webgpu', test: /node_modules[\\/]@tensorflow[\\/]tfjs-backend-webgpu[\\/]/, priority: 3 },
      { name: 'tfjs-webgl', test: /node_modules[\\/]@tensorflow[\\/]tfjs-backend-webgl[\\/]/, priority: 2 },
      { name: 'tfjs', test: /node_modules[\\/]@tensorflow[\\/]/, priority: 1 },
      {
        name: 'vendor',
        test: /node_modules[\\/](react|react-dom|scheduler|zustand)[\\/]/,
      },
    ],
  },
};

export default defineConfig({
  // Relative paths so `npm run build` output works from any static host or sub-folder.
  base: './',
  plugins: [react()],
  server: { headers: isolationHeaders },
  preview: { headers: isolationHeaders },
  // The worker's imports are not found by the dev server's first scan (it starts from index.html);
  // pre-bundle them up front, or the first job in `vite` dev triggers a dependency re-optimisation
  // and a full page reload.
  optimizeDeps: {
    include: [
      '@tensorflow/tfjs-core',
      '@tensorflow/tfjs-core/dist/gradients/*_grad.js',
      '@tensorflow/tfjs-backend-cpu',
      '@tensorflow/tfjs-backend-wasm',
      '@tensorflow/tfjs-backend-webgl',
      '@tensorflow/tfjs-backend-webgpu',
    ],
  },
  worker: {
    format: 'es',
    rolldownOptions: { output: chunks },
  },
  build: {
    target: 'es2022',
    // `import u from '…/tfjs-backend-wasm-simd.wasm?url'` must stay a file: never inline wasm as base64.
    assetsInlineLimit: (file: string) => (file.endsWith('.wasm') ? false : undefined),
    chunkSizeWarningLimit: 1200,
    rolldownOptions: { output: chunks },
  },
  test: {
    include: ['src/**/*.test.ts', 'cli/**/*.test.ts'],
    // tfjs-wasm is single-threaded and CPU-bound: running files in parallel on 2 cores only thrashes.
    fileParallelism: false,
    // The slowest test (trainer.test.ts, a few epochs on cpu) takes ~9 s on a quiet 2-core machine and
    // the whole run ~65 s; 120 s leaves room for a machine twice as slow that is also busy.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
