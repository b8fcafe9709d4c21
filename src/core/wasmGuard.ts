import * as tf from './tf.ts';
import { BackendWasm, version_wasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * The guard in front of the wasm kernel patches (wasmSlice.ts, wasmMatMul.ts). They replace stock
 * tfjs-wasm kernels and lean on backend internals (BackendWasm.makeOutput / typedArrayFromHeap, the
 * registered kernel configs, a few tfjs-core utilities), all written against one tfjs release. On
 * any other release, or when one of those internals is missing or has another shape, the patch is
 * skipped and the stock kernels stay: slower, never wrong.
 */
export const PATCHED_TFJS_VERSION = '4.22.0';

/** What a patch looks at; injectable so that tests can hand it a different version or backend. */
export interface WasmPatchEnv {
  coreVersion: string;
  wasmVersion: string;
  /** Methods of the wasm backend class (BackendWasm.prototype). */
  backend: object | undefined;
  getKernel(kernelName: string, backendName: string): tf.KernelConfig | undefined;
}

export function wasmPatchEnv(): WasmPatchEnv {
  return {
    coreVersion: tf.version_core,
    wasmVersion: version_wasm,
    backend: (BackendWasm as { prototype?: object } | undefined)?.prototype,
    getKernel: (k, b) => tf.getKernel(k, b),
  };
}

export interface WasmPatchNeeds {
  /** Stock wasm kernels that must be registered (and are what gets replaced or wrapped). */
  kernels: string[];
  /** BackendWasm methods the patch calls. */
  backendMethods: string[];
  /** Other functions the patch calls, by a name for the message. */
  functions: Record<string, unknown>;
  /** Kernel config fields (kernelName.field) that must be functions, e.g. BatchMatMul.setupFunc. */
  kernelFields?: [string, 'kernelFunc' | 'setupFunc' | 'disposeFunc'][];
}

/** null when the patch may go in; otherwise why not (one line). */
export function checkWasmPatch(env: WasmPatchEnv, needs: WasmPatchNeeds): string | null {
  if (env.coreVersion !== PATCHED_TFJS_VERSION || env.wasmVersion !== PATCHED_TFJS_VERSION) {
    return `written for tfjs-core/tfjs-backend-wasm ${PATCHED_TFJS_VERSION}, found ${env.coreVersion}/${env.wasmVersion}`;
  }
  const backend = env.backend as Record<string, unknown> | undefined;
  if (!backend) return 'the wasm backend class (BackendWasm) is not exported';
  for (const m of needs.backendMethods) {
    if (typeof backend[m] !== 'function') return `BackendWasm.${m} is missing or not a function`;
  }
  for (const [name, fn] of Object.entries(needs.functions)) {
    if (typeof fn !== 'function') return `${name} is missing or not a function`;
  }
  for (const k of needs.kernels) {
    const config = env.getKernel(k, 'wasm');
    if (!config || typeof config.kernelFunc !== 'function') return `no stock wasm kernel ${k} to replace`;
  }
  for (const [k, field] of needs.kernelFields ?? []) {
    if (typeof env.getKernel(k, 'wasm')?.[field] !== 'function') return `the stock wasm kernel ${k} has no ${field}`;
  }
  return null;
}

const warned = new Set<string>();

/** Logs a skipped patch once per patch and reason. */
export function warnSkipped(patch: string, reason: string): void {
  const key = `${patch}: ${reason}`;
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(`[mfmb] ${patch} not installed (${reason}); tfjs's stock wasm kernels stay in place`);
}
