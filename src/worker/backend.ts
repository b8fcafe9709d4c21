/**
 * Backend selection inside the training worker. 'auto' walks BACKEND_ORDER (webgpu → webgl → wasm
 * → cpu) and records why each one that failed did; a named backend is tried alone (and falls back
 * to cpu if it fails, so the worker always has something to compute on). tfjs itself comes only
 * through src/core/tf.ts; the backend packages below only register themselves with it.
 */
import * as tf from '../core/tf.ts';
// The gradients training needs (tfjs-core registers none by itself; Node loads them in initNodeBackend).
import '../core/gradients.ts';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { installFastWasmSlice } from '../core/wasmSlice.ts';
import { installFastWasmBatchMatMul } from '../core/wasmMatMul.ts';
import { BACKEND_ORDER, type BackendName } from './protocol.ts';

export interface BackendAttempt {
  name: BackendName;
  ok: boolean;
  reason?: string;
}

export interface BackendChoice {
  name: BackendName;
  tried: BackendAttempt[];
}

/** Called once if the WebGPU device behind the active backend is lost. */
export type DeviceLostHandler = (message: string) => void;

const INIT_TIMEOUT_MS = 30_000;

/** Backends that broke during this worker's life (e.g. a lost GPU device): skipped by 'auto'. */
const broken = new Map<BackendName, string>();

let wasmConfigured = false;
let webgpuFactory: ReturnType<typeof tf.findBackendFactory> | null = null;
const webgpuPriority = 3;
let webglFactory: ReturnType<typeof tf.findBackendFactory> | null = null;

/**
 * The GPU backends are imported when first tried, each into a chunk of its own (vite.config.ts):
 * a WebGPU user never downloads the WebGL kernels, and a page that falls back to wasm neither.
 * Importing a backend package registers its factory (webgpu's only when navigator.gpu exists).
 */
const gpuBackendModules: Record<'webgpu' | 'webgl', () => Promise<unknown>> = {
  webgpu: () => import('@tensorflow/tfjs-backend-webgpu'),
  webgl: () => import('@tensorflow/tfjs-backend-webgl'),
};
const gpuBackendLoaded = new Map<'webgpu' | 'webgl', Promise<string | null>>();

/** Imports a GPU backend package once; the reason it could not be loaded, or null. */
function loadGpuBackend(name: 'webgpu' | 'webgl'): Promise<string | null> {
  let p = gpuBackendLoaded.get(name);
  if (!p) {
    p = gpuBackendModules[name]().then(
      () => {
        if (name === 'webgpu') webgpuFactory ??= tf.findBackendFactory('webgpu');
        else webglFactory ??= tf.findBackendFactory('webgl');
        return null;
      },
      (e: unknown) => `${name} unavailable: its tfjs backend did not load (${errorText(e)})`,
    );
    gpuBackendLoaded.set(name, p);
  }
  return p;
}

interface GpuLike {
  requestAdapter(opts?: unknown): Promise<unknown | null>;
}

function gpu(): GpuLike | undefined {
  return (globalThis.navigator as unknown as { gpu?: GpuLike } | undefined)?.gpu;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/** Why a backend cannot even be attempted here; null when it is worth a try. */
async function precheck(name: BackendName): Promise<string | null> {
  if (broken.has(name)) return broken.get(name)!;
  if (name === 'webgpu') {
    const g = gpu();
    if (!g) return 'WebGPU unavailable: navigator.gpu missing';
    let adapter: unknown;
    try {
      adapter = await g.requestAdapter();
    } catch (e) {
      return `WebGPU unavailable: requestAdapter() failed (${errorText(e)})`;
    }
    if (!adapter) return 'WebGPU unavailable: no adapter';
    const notLoaded = await loadGpuBackend('webgpu');
    if (notLoaded) return notLoaded;
    if (!tf.findBackendFactory('webgpu')) {
      // The package registers its factory only when navigator.gpu existed at import; re-register after a device loss.
      if (webgpuFactory) tf.registerBackend('webgpu', webgpuFactory, webgpuPriority);
      else return 'WebGPU unavailable: the tfjs WebGPU backend did not register';
    }
    return null;
  }
  if (name === 'webgl') {
    if (typeof OffscreenCanvas === 'undefined') return 'WebGL unavailable: no OffscreenCanvas in this worker';
    // Right after a failed WebGPU attempt the first context request can fail transiently: retry.
    for (let i = 0; ; i++) {
      try {
        const canvas = new OffscreenCanvas(1, 1);
        const gl = canvas.getContext('webgl2') as WebGL2RenderingContext | null;
        if (gl) {
          gl.getExtension('WEBGL_lose_context')?.loseContext();
          return loadGpuBackend('webgl');
        }
      } catch (e) {
        if (i >= 2) return `WebGL unavailable: ${errorText(e)}`;
      }
      if (i >= 2) return 'WebGL unavailable: no WebGL 2 context on an OffscreenCanvas';
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  if (name === 'wasm') {
    if (typeof WebAssembly === 'undefined') return 'wasm unavailable: no WebAssembly';
    if (!wasmConfigured) {
      setWasmPaths({
        'tfjs-backend-wasm.wasm': wasmPlainUrl,
        'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
        'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl,
      });
      // Threaded wasm hangs in minified builds served with COOP/COEP (ENVIRONMENT.md); one thread is safe.
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      installFastWasmSlice();
      installFastWasmBatchMatMul();
      wasmConfigured = true;
    }
    return null;
  }
  return null;
}

/**
 * A tiny computation read back: proves the backend really computes before a job relies on it. The
 * core reads every value with the asynchronous data() (tfjs-webgpu's synchronous dataSync returns
 * zeros on some setups, e.g. headless Chromium with SwiftShader).
 */
async function smokeTest(): Promise<void> {
  const a = tf.tidy(() => tf.sum(tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([1, 0, 0, 1], [2, 2]))));
  try {
    const [v] = (await a.data()) as Float32Array;
    if (v !== 10) throw new Error(`a test computation gave ${v} instead of 10`);
  } finally {
    a.dispose();
  }
}

async function attempt(name: BackendName): Promise<string | null> {
  const pre = await precheck(name);
  if (pre) return pre;
  try {
    if (!tf.findBackendFactory(name)) return `${name} unavailable: backend not registered`;
    const ok = await withTimeout(tf.setBackend(name), INIT_TIMEOUT_MS, `${name} initialisation`);
    if (!ok) return `${name} failed to initialise (see the browser console for tfjs's warning)`;
    await tf.ready();
    await withTimeout(smokeTest(), INIT_TIMEOUT_MS, `${name} smoke test`);
    return null;
  } catch (e) {
    // Free what the failed backend holds (a GPU device, contexts) before trying the next one.
    if (name === 'webgpu') dropWebgpu();
    else if (name === 'webgl') {
      try {
        tf.removeBackend('webgl');
        tf.registerBackend('webgl', webglFactory!, 2);
      } catch {
        // nothing to free
      }
    }
    return `${name} failed: ${errorText(e)}`;
  }
}

/**
 * Selects a backend. 'auto' tries BACKEND_ORDER in turn; a named one is tried first and, if it
 * fails, the rest of the order after it (the failure is in `tried` with its reason).
 */
export async function selectBackend(
  requested: BackendName | 'auto',
  onDeviceLost?: DeviceLostHandler,
): Promise<BackendChoice> {
  const order: BackendName[] =
    requested === 'auto'
      ? [...BACKEND_ORDER]
      : [requested, ...BACKEND_ORDER.slice(BACKEND_ORDER.indexOf(requested) + 1)];
  if (!order.includes('cpu')) order.push('cpu');
  const tried: BackendAttempt[] = [];
  for (const name of order) {
    // A user who names a backend gets a fresh try even if it broke before.
    if (requested === name) broken.delete(name);
    const reason = await attempt(name);
    if (reason === null) {
      tried.push({ name, ok: true });
      if (name === 'webgpu' && onDeviceLost) watchDeviceLoss(onDeviceLost);
      return { name, tried };
    }
    tried.push({ name, ok: false, reason });
  }
  throw new BackendError(
    `no tfjs backend could be initialised: ${tried.map((t) => `${t.name}: ${t.reason}`).join('; ')}`,
    tried,
  );
}

export class BackendError extends Error {
  constructor(
    message: string,
    readonly tried: BackendAttempt[],
  ) {
    super(message);
    this.name = 'BackendError';
  }
}

interface LostInfo {
  reason?: string;
  message?: string;
}

let watchedDevice: unknown = null;

/** Listens to the WebGPU device's `lost` promise; on loss the backend is dropped and marked broken. */
function watchDeviceLoss(onLost: DeviceLostHandler): void {
  const backend = tf.backend() as unknown as { device?: { lost?: Promise<LostInfo> } };
  const device = backend.device;
  if (!device?.lost || watchedDevice === device) return;
  watchedDevice = device;
  device.lost.then(
    (info) => {
      if (watchedDevice !== device) return; // a device we replaced on purpose
      watchedDevice = null;
      const why = info?.message || info?.reason || 'unknown reason';
      const message = `WebGPU device lost (${why}); the next backend in the order will be used from now on`;
      broken.set('webgpu', `WebGPU device was lost earlier in this session (${why})`);
      dropWebgpu();
      onLost(message);
    },
    () => undefined,
  );
}

/** Removes the dead WebGPU backend instance so that a later init does not reuse it. */
function dropWebgpu(): void {
  try {
    if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu');
  } catch {
    // disposing a backend whose device is gone may throw; it is unusable either way
  }
}

export function errorText(e: unknown): string {
  if (e instanceof Error) return e.message;
  if (typeof e === 'string') return e;
  try {
    return JSON.stringify(e);
  } catch {
    return String(e);
  }
}
