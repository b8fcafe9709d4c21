import * as tf from './tf.ts';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { installFastWasmSlice } from './wasmSlice.ts';
import { installFastWasmBatchMatMul } from './wasmMatMul.ts';

/**
 * Picks the tfjs backend in Node (wasm by default, cpu as fallback). The browser app has its own
 * chooser (WebGPU first); the core itself never assumes a backend.
 */
export type NodeBackend = 'wasm' | 'cpu';

export async function initNodeBackend(name: NodeBackend = 'wasm'): Promise<string> {
  if (name === 'wasm') {
    const path = await import('node:path');
    const { createRequire } = await import('node:module');
    const require = createRequire(import.meta.url);
    const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')) + '/dist/';
    setWasmPaths(dist);
    installFastWasmSlice();
    installFastWasmBatchMatMul();
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs backend "${name}" failed to initialise`);
  await tf.ready();
  return tf.getBackend();
}
