import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Relative paths so `npm run build` output works from any static host or sub-folder.
  base: './',
  test: {
    include: ['src/**/*.test.ts', 'cli/**/*.test.ts'],
    // tfjs-wasm is single-threaded and CPU-bound: running files in parallel on 2 cores only thrashes.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
