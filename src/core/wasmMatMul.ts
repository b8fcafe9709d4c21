import * as tf from './tf.ts';
import { checkWasmPatch, warnSkipped, wasmPatchEnv, type WasmPatchEnv, type WasmPatchNeeds } from './wasmGuard.ts';
import { findWasmMemory, simdKernels } from './wasmSimd.ts';

/**
 * Batched matMul for the wasm backend. tfjs-wasm 4.22 sends a plain 2-D product to XNNPACK (fast) but
 * any batch dimension to a scalar triple loop (`slow_batch_matmul`, ~1 GFLOP/s here) — and attention
 * is all batched products of small matrices ([B·heads, L, d_head] with d_head 5–9). This kernel takes
 * the batched, untransposed case and computes it in JavaScript on views of the wasm heap, four output
 * rows at a time so each loaded row of B feeds four multiply-adds (~2 GFLOP/s measured, up to 2.3× the
 * stock loop when the output is at least 16 columns wide); everything else goes to the original kernel.
 * Where WebAssembly SIMD is available (wasmSimd.ts: a module on the backend's own heap) that case,
 * and every batched product at least 4 columns wide, runs there instead: 15–20 GFLOP/s measured,
 * ~10× the stock loop at attention's sizes.
 */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  wasm?: unknown;
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown };

/** out[p] = a[p] (M×K) · b[p] (K×N); a or b may be shared across the batch (batch size 1). */
export function batchedMatMul(
  a: Float32Array,
  b: Float32Array,
  out: Float32Array,
  nb: number,
  M: number,
  K: number,
  N: number,
  aShared: boolean,
  bShared: boolean,
): void {
  out.fill(0);
  for (let p = 0; p < nb; p++) {
    const ab = aShared ? 0 : p * M * K,
      bb = bShared ? 0 : p * K * N,
      ob = p * M * N;
    let i = 0;
    for (; i + 3 < M; i += 4) {
      const a0 = ab + i * K,
        a1 = a0 + K,
        a2 = a1 + K,
        a3 = a2 + K;
      const o0 = ob + i * N,
        o1 = o0 + N,
        o2 = o1 + N,
        o3 = o2 + N;
      for (let k = 0; k < K; k++) {
        const v0 = a[a0 + k],
          v1 = a[a1 + k],
          v2 = a[a2 + k],
          v3 = a[a3 + k];
        const bo = bb + k * N;
        for (let j = 0; j < N; j++) {
          const bv = b[bo + j];
          out[o0 + j] += v0 * bv;
          out[o1 + j] += v1 * bv;
          out[o2 + j] += v2 * bv;
          out[o3 + j] += v3 * bv;
        }
      }
    }
    for (; i < M; i++) {
      const ao = ab + i * K,
        oo = ob + i * N;
      for (let k = 0; k < K; k++) {
        const av = a[ao + k];
        const bo = bb + k * N;
        for (let j = 0; j < N; j++) out[oo + j] += av * b[bo + j];
      }
    }
  }
}

let installed = false;
let simd2d = true;

/** Sends every plain 2-D product to XNNPACK (the stock kernel) when off: for A/B timing and tests. */
export function setSimd2dMatMul(on: boolean): void {
  simd2d = on;
}

/** What the batched kernel needs from tfjs (checked before the stock kernel is wrapped). */
export const MATMUL_NEEDS: WasmPatchNeeds = {
  kernels: ['BatchMatMul'],
  backendMethods: ['makeOutput', 'typedArrayFromHeap'],
  functions: {},
  // The stock kernel binds its wasm function in setupFunc; the wrapper must carry it over.
  kernelFields: [['BatchMatMul', 'setupFunc']],
};

/**
 * Wraps the wasm backend's BatchMatMul (the fast path above, the stock kernel for the rest).
 * Idempotent. Checks first (see wasmGuard.ts) that tfjs is the release this was written against
 * and that the internals it uses are there; if not, the stock kernel stays, the reason is logged
 * once and returned as 'skipped: …'. `env` is for tests.
 */
export function installFastWasmBatchMatMul(env: WasmPatchEnv = wasmPatchEnv()): string {
  if (installed) return 'installed';
  const why = checkWasmPatch(env, MATMUL_NEEDS);
  if (why) {
    warnSkipped('fast wasm BatchMatMul', why);
    return `skipped: ${why}`;
  }
  const original = env.getKernel('BatchMatMul', 'wasm')!;
  installed = true;
  const kernelFunc = (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const a = args.inputs.a as tf.TensorInfo;
    const b = args.inputs.b as tf.TensorInfo;
    const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    const ra = a.shape.length,
      rb = b.shape.length;
    const nbA = a.shape.slice(0, -2).reduce((x, y) => x * y, 1);
    const nbB = b.shape.slice(0, -2).reduce((x, y) => x * y, 1);
    const batched = nbA > 1 || nbB > 1;
    const backend = args.backend as WasmBackendLike;
    // A plain 2-D product goes to XNNPACK (the stock kernel), except where the SIMD kernel was measured
    // faster: a short inner dimension (K ≤ 96: 1.3–2.8× at this model's Linear layers, e.g.
    // 1200×90·90×360 3.3 vs 9.3 ms) or a tiny product (call overhead). Same sums in the same order:
    // the results were identical in every shape measured.
    if (
      simd2d &&
      !batched &&
      !transposeA &&
      !transposeB &&
      ra === 2 &&
      rb === 2 &&
      a.dtype === 'float32' &&
      b.dtype === 'float32'
    ) {
      const [M, K] = a.shape,
        N = b.shape[1];
      const simd =
        N >= 4 && M > 0 && K > 0 && (K <= 96 || M * K * N <= 65536) ? simdKernels(findWasmMemory(backend.wasm)) : null;
      if (simd && b.shape[0] === K) {
        const out = backend.makeOutput([M, N], 'float32'); // allocate first: growing the heap detaches views
        simd.mm(
          backend.typedArrayFromHeap(a).byteOffset,
          backend.typedArrayFromHeap(b).byteOffset,
          backend.typedArrayFromHeap(out).byteOffset,
          M,
          K,
          N,
        );
        return out;
      }
    }
    // Only same-rank, untransposed, float32 batched products with equal or size-1 batches take the fast path.
    if (
      !batched ||
      transposeA ||
      transposeB ||
      ra !== rb ||
      a.dtype !== 'float32' ||
      b.dtype !== 'float32' ||
      (nbA !== nbB && nbA !== 1 && nbB !== 1) ||
      (nbA === nbB && a.shape.slice(0, -2).some((d, i) => d !== b.shape[i]))
    ) {
      return original.kernelFunc(args as never);
    }
    const M = a.shape[ra - 2],
      K = a.shape[ra - 1],
      N = b.shape[rb - 1];
    if (b.shape[rb - 2] !== K) return original.kernelFunc(args as never);
    const simd = N >= 4 && M > 0 && K > 0 ? simdKernels(findWasmMemory(backend.wasm)) : null;
    // With few output columns the row-blocked JavaScript loop's inner run is too short to pay off
    // (measured): without SIMD those products (probabilities × values, d_head wide) stay with the stock kernel.
    if (!simd && N < 16) return original.kernelFunc(args as never);
    const lead = (nbA >= nbB ? a : b).shape.slice(0, -2);
    const nb = Math.max(nbA, nbB);
    const out = backend.makeOutput([...lead, M, N], 'float32'); // allocate first: growing the heap detaches views
    if (simd) {
      const pa = backend.typedArrayFromHeap(a).byteOffset,
        pb = backend.typedArrayFromHeap(b).byteOffset,
        po = backend.typedArrayFromHeap(out).byteOffset;
      const sa = nbA === 1 ? 0 : M * K * 4,
        sb = nbB === 1 ? 0 : K * N * 4;
      for (let p = 0; p < nb; p++) simd.mm(pa + p * sa, pb + p * sb, po + p * M * N * 4, M, K, N);
      return out;
    }
    batchedMatMul(
      backend.typedArrayFromHeap(a),
      backend.typedArrayFromHeap(b),
      backend.typedArrayFromHeap(out),
      nb,
      M,
      K,
      N,
      nbA === 1,
      nbB === 1,
    );
    return out;
  };
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({
    kernelName: 'BatchMatMul',
    backendName: 'wasm',
    kernelFunc: kernelFunc as unknown as tf.KernelFunc,
    setupFunc: original.setupFunc,
    disposeFunc: original.disposeFunc,
  });
  return 'installed';
}
