import * as tf from './tf.ts';
import { fusedKernelsActive } from './wasmAttention.ts';

/**
 * LayerNorm on the wasm backend as one kernel forward and one backward, computed in JavaScript on
 * views of tfjs-wasm's heap (no copies in or out). The op path (tf.moments, sub, rsqrt, mul, mul, add
 * and their tfjs gradients) is ~9 kernels forward and ~25 backward per LayerNorm; at `tiny`'s sizes
 * (rows of 30–90 values) each of those kernels costs more in tfjs's per-call overhead than in
 * arithmetic. Same math as the WebGPU programs (model/webgpu/norm.ts): the two-pass moments of
 * tf.moments, rs = 1/√(var + eps), y = (x − mean)·rs·g + b; backward ∂x = rs·(ĝ − mean(ĝ) −
 * x̂·mean(ĝ ⊙ x̂)) with ĝ = dy ⊙ g, ∂g = Σₙ dy ⊙ x̂, ∂b = Σₙ dy. Sums are accumulated in float64
 * (JavaScript numbers) and rounded to float32 once.
 */

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}
type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown };

export const KERNEL_WASM_LAYER_NORM = 'MfmbWasmLayerNorm';
export const KERNEL_WASM_LAYER_NORM_GRAD = 'MfmbWasmLayerNormGrad';

/** y [N·w] and st [N·2] = (mean, rs) per row from x [N·w], g [w], b [w]. */
export function layerNormForward(
  x: Float32Array,
  g: Float32Array,
  b: Float32Array,
  y: Float32Array,
  st: Float32Array,
  N: number,
  w: number,
  eps: number,
): void {
  for (let n = 0; n < N; n++) {
    const o = n * w;
    let s = 0;
    for (let c = 0; c < w; c++) s += x[o + c];
    const mean = Math.fround(s / w);
    let v = 0;
    for (let c = 0; c < w; c++) {
      const e = x[o + c] - mean;
      v += e * e;
    }
    const rs = Math.fround(1 / Math.sqrt(Math.fround(v / w) + eps));
    for (let c = 0; c < w; c++) y[o + c] = (x[o + c] - mean) * rs * g[c] + b[c];
    st[2 * n] = mean;
    st[2 * n + 1] = rs;
  }
}

/** ∂x [N·w], ∂g [w], ∂b [w] from dy, x [N·w], g [w] and the forward's st [N·2]. */
export function layerNormBackward(
  dy: Float32Array,
  x: Float32Array,
  g: Float32Array,
  st: Float32Array,
  dx: Float32Array,
  dg: Float32Array,
  db: Float32Array,
  N: number,
  w: number,
): void {
  const accG = new Float64Array(w),
    accB = new Float64Array(w);
  for (let n = 0; n < N; n++) {
    const o = n * w;
    const mean = st[2 * n],
      rs = st[2 * n + 1];
    let s1 = 0,
      s2 = 0;
    for (let c = 0; c < w; c++) {
      const d = dy[o + c];
      const xh = (x[o + c] - mean) * rs;
      const gh = d * g[c];
      s1 += gh;
      s2 += gh * xh;
      accG[c] += d * xh;
      accB[c] += d;
    }
    s1 /= w;
    s2 /= w;
    for (let c = 0; c < w; c++) dx[o + c] = rs * (dy[o + c] * g[c] - s1 - (x[o + c] - mean) * rs * s2);
  }
  for (let c = 0; c < w; c++) {
    dg[c] = accG[c];
    db[c] = accB[c];
  }
}

/** inputs x [N, w], g [w], b [w] → [y [N, w], st [N, 2]]. */
function layerNormKernel(args: KernelArgs): tf.TensorInfo[] {
  const { eps } = args.attrs as unknown as { eps: number };
  const backend = args.backend as WasmBackendLike;
  const { x, g, b } = args.inputs as Record<string, tf.TensorInfo>;
  const [N, w] = x.shape;
  // Allocate first: growing the heap detaches earlier views.
  const y = backend.makeOutput([N, w], 'float32');
  const st = backend.makeOutput([N, 2], 'float32');
  const h = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t);
  layerNormForward(h(x), h(g), h(b), h(y), h(st), N, w, eps);
  return [y, st];
}

/** inputs dy, x [N, w], g [w], st [N, 2] → [∂x, ∂g, ∂b]. */
function layerNormGradKernel(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WasmBackendLike;
  const { dy, x, g, st } = args.inputs as Record<string, tf.TensorInfo>;
  const [N, w] = x.shape;
  const dx = backend.makeOutput([N, w], 'float32');
  const dg = backend.makeOutput([w], 'float32');
  const db = backend.makeOutput([w], 'float32');
  const h = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t);
  layerNormBackward(h(dy), h(x), h(g), h(st), h(dx), h(dg), h(db), N, w);
  return [dx, dg, db];
}

let registered = false;
let enabled = true;

/** Turns these kernels off (LayerNorm takes the op path on wasm): for tests and A/B timing. */
export function setWasmNormEnabled(on: boolean): void {
  enabled = on;
}

/**
 * True when the wasm LayerNorm kernels can run: the backend is wasm and the fused wasm kernels are on
 * (wasmAttention.ts's switch, so setFusedKernelsEnabled(false) gives the op path for tests and A/B).
 * Registers the kernels on first use.
 */
export function wasmNormActive(): boolean {
  if (!enabled || !fusedKernelsActive()) return false;
  if (!registered) {
    registered = true;
    for (const [kernelName, fn] of [
      [KERNEL_WASM_LAYER_NORM, layerNormKernel],
      [KERNEL_WASM_LAYER_NORM_GRAD, layerNormGradKernel],
    ] as const) {
      if (!tf.getKernel(kernelName, 'wasm'))
        tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: fn as unknown as tf.KernelFunc });
    }
  }
  return true;
}
