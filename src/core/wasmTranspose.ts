import * as tf from './tf.ts';
import { checkWasmPatch, warnSkipped, wasmPatchEnv, type WasmPatchEnv, type WasmPatchNeeds } from './wasmGuard.ts';
import { findWasmMemory, simdKernels } from './wasmSimd.ts';

/**
 * A faster Transpose for the wasm backend where it matters here: swapping the last two axes of a
 * float32 tensor ([R, C] → [C, R], or [.., R, C] → [.., C, R] per leading index), which the Linear
 * layers' and attention's hand-written gradients do on every step (tiny aligned: 414 calls per
 * step, base: 1,182). tfjs-wasm 4.22 moves one element at a time (measured 2.5–3.7 ns per element
 * here); the SIMD module (wasmSimd.ts) moves 4×4 blocks with lane shuffles (0.4 ns). Same values,
 * bit for bit (a transpose only moves them); every other permutation, dtype or a side shorter than 4
 * goes to the stock kernel.
 */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  wasm?: unknown;
}
type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown };

/** Is `perm` the identity on all but the last two axes, which it swaps? */
export function swapsLastTwo(perm: readonly number[]): boolean {
  const r = perm.length;
  if (r < 2 || perm[r - 1] !== r - 2 || perm[r - 2] !== r - 1) return false;
  for (let i = 0; i < r - 2; i++) if (perm[i] !== i) return false;
  return true;
}

export const TRANSPOSE_NEEDS: WasmPatchNeeds = {
  kernels: ['Transpose'],
  backendMethods: ['makeOutput', 'typedArrayFromHeap'],
  functions: {},
  kernelFields: [['Transpose', 'setupFunc']],
};

let installed = false;
let enabled = true;

/** The stock kernel for every call when off: for A/B timing and tests. */
export function setFastTransposeEnabled(on: boolean): void {
  enabled = on;
}

/** Wraps the wasm backend's Transpose (idempotent; checked by wasmGuard first). `env` is for tests. */
export function installFastWasmTranspose(env: WasmPatchEnv = wasmPatchEnv()): string {
  if (installed) return 'installed';
  const why = checkWasmPatch(env, TRANSPOSE_NEEDS);
  if (why) {
    warnSkipped('fast wasm Transpose', why);
    return `skipped: ${why}`;
  }
  const original = env.getKernel('Transpose', 'wasm')!;
  installed = true;
  const kernelFunc = (args: KernelArgs): tf.TensorInfo => {
    const x = args.inputs.x as tf.TensorInfo;
    const perm = (args.attrs as unknown as { perm: number[] }).perm;
    const r = x.shape.length;
    const R = x.shape[r - 2],
      C = x.shape[r - 1];
    const backend = args.backend as WasmBackendLike;
    const simd =
      enabled && x.dtype === 'float32' && r >= 2 && R >= 4 && C >= 4 && swapsLastTwo(perm)
        ? simdKernels(findWasmMemory(backend.wasm))
        : null;
    if (!simd) return original.kernelFunc(args as never) as tf.TensorInfo;
    const outShape = perm.map((p) => x.shape[p]);
    const out = backend.makeOutput(outShape, 'float32'); // allocate first: growing the heap detaches views
    const nb = x.shape.slice(0, -2).reduce((a, b) => a * b, 1);
    simd.tr(backend.typedArrayFromHeap(x).byteOffset, backend.typedArrayFromHeap(out).byteOffset, nb, R, C);
    return out;
  };
  tf.unregisterKernel('Transpose', 'wasm');
  tf.registerKernel({
    kernelName: 'Transpose',
    backendName: 'wasm',
    kernelFunc: kernelFunc as unknown as tf.KernelFunc,
    setupFunc: original.setupFunc,
    disposeFunc: original.disposeFunc,
  });
  return 'installed';
}
