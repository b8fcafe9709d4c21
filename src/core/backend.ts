import * as tf from './tf.ts';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { installFastWasmSlice } from './wasmSlice.ts';
import { installFastWasmBatchMatMul } from './wasmMatMul.ts';
import { installWasmFusedKernels } from './wasmAttention.ts';

/**
 * Picks the tfjs backend in Node (wasm by default, cpu as fallback). The browser app has its own
 * chooser (WebGPU first); the core itself never assumes a backend.
 */
export type NodeBackend = 'wasm' | 'cpu';

/**
 * A Node resolve/load hook for tfjs-core's ES-module files only (src/core/gradients.ts imports its
 * gradient configs from them): their relative imports have no extension ('../ops/reshape'; tsx even
 * resolves './gradients' to the directory dist/gradients/ rather than the file dist/gradients.js), and
 * the package has no "type": "module". Every such import names an existing '<specifier>.js' (checked
 * for 4.22.0); anything else passes through untouched. These files are a second copy of the ops next
 * to the CommonJS bundle that `@tensorflow/tfjs-core` resolves to in Node; both share tfjs's global
 * engine and registries, so the gradients they register serve every op.
 */
const TFJS_CORE_ESM_HOOK = `
const inCore = (u) => typeof u === 'string' && u.startsWith('file:') && u.includes('/@tensorflow/tfjs-core/dist/');
export async function resolve(specifier, context, next) {
  if (inCore(context.parentURL) && /^\\.\\.?\\//.test(specifier) && !specifier.endsWith('.js')) return next(specifier + '.js', context);
  return next(specifier, context);
}
export async function load(url, context, next) {
  if (inCore(url) && url.endsWith('.js') && !url.endsWith('.node.js')) return next(url, { ...context, format: 'module' });
  return next(url, context);
}`;

let registrations: Promise<void> | null = null;

/**
 * Registers the gradients training needs (src/core/gradients.ts) in Node, after the hook above
 * (see src/core/tf.ts for why this is not a static import). Idempotent; initNodeBackend calls it,
 * so Node code needs nothing else.
 */
export function registerTfjsOps(): Promise<void> {
  registrations ??= (async () => {
    const { register } = await import('node:module');
    register(`data:text/javascript,${encodeURIComponent(TFJS_CORE_ESM_HOOK)}`);
    await import('./gradients.ts');
    if (!tf.getGradient('Reshape')) throw new Error('tfjs gradients did not register');
  })();
  return registrations;
}

export async function initNodeBackend(name: NodeBackend = 'wasm'): Promise<string> {
  await registerTfjsOps();
  if (name === 'wasm') {
    const path = await import('node:path');
    const { createRequire } = await import('node:module');
    const require = createRequire(import.meta.url);
    const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')) + '/dist/';
    setWasmPaths(dist);
    installFastWasmSlice();
    installFastWasmBatchMatMul();
    installWasmFusedKernels();
  }
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tfjs backend "${name}" failed to initialise`);
  await tf.ready();
  return tf.getBackend();
}
