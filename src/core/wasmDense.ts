import * as tf from './tf.ts';
import { fusedKernelsActive } from './wasmAttention.ts';

/**
 * A Linear layer on the wasm backend as one kernel forward and one backward. On the op path a
 * Linear is matMul, Add (bias), Relu forward and, backward, two Transposes, two matMuls, the bias's
 * Sum (tfjs's Add gradient, with its reshapes), Step and Multiply (Relu's gradient), each a kernel
 * with tfjs's per-call overhead (tape, scopes, tensor bookkeeping), which at `tiny`'s sizes costs as
 * much as the arithmetic. These kernels call the same backend kernels directly (BatchMatMul,
 * Transpose and Sum as registered for wasm: the SIMD/XNNPACK products of wasmMatMul.ts, the SIMD
 * transpose, Add, Relu, Step, Multiply) on the heap, with the temporaries freed inside: the same
 * kernels on the same values as the op path. (Bias add and ReLU as JavaScript loops on heap views
 * were measured slower than tfjs-wasm's own kernels: a step 6–10 % slower.)
 */

interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  disposeData(dataId: tf.DataId, force?: boolean): boolean;
}
type KernelArgs = { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown };

export const KERNEL_WASM_DENSE = 'MfmbWasmDense';
export const KERNEL_WASM_DENSE_GRAD = 'MfmbWasmDenseGrad';

/** Runs a kernel registered for wasm on TensorInfos of the heap (no engine, no tape). */
function call(backend: WasmBackendLike, name: string, inputs: tf.NamedTensorInfoMap, attrs: object): tf.TensorInfo {
  return tf.getKernel(name, 'wasm')!.kernelFunc({
    inputs,
    attrs: attrs as tf.NamedAttrMap,
    backend: backend as unknown as tf.KernelBackend,
  }) as tf.TensorInfo;
}

const matMul = (backend: WasmBackendLike, a: tf.TensorInfo, b: tf.TensorInfo) =>
  call(backend, 'BatchMatMul', { a, b }, { transposeA: false, transposeB: false });
const transpose2d = (backend: WasmBackendLike, x: tf.TensorInfo) => call(backend, 'Transpose', { x }, { perm: [1, 0] });

/** inputs x [N, in], w [in, out], optional b [out] → y [N, out] = x·w (+ b) (then ReLU, attr relu). */
function denseKernel(args: KernelArgs): tf.TensorInfo {
  const { relu } = args.attrs as unknown as { relu: boolean };
  const backend = args.backend as WasmBackendLike;
  const { x, w, b } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  let y = matMul(backend, x!, w!);
  const step = (name: string, inputs: tf.NamedTensorInfoMap) => {
    const next = call(backend, name, inputs, {});
    backend.disposeData(y.dataId);
    y = next;
  };
  if (b) step('Add', { a: y, b });
  if (relu) step('Relu', { x: y });
  return y;
}

/**
 * inputs dy [N, out], x [N, in], w [in, out] (and y, the forward's output, with attr relu) →
 * [∂x = dz·wᵀ, ∂w = xᵀ·dz, ∂b = Σₙ dz (attr bias)] with dz = dy · step(y) under ReLU (tfjs's Relu
 * gradient: y > 0 exactly where the ReLU's input is).
 */
function denseGradKernel(args: KernelArgs): tf.TensorInfo[] {
  const { relu, bias } = args.attrs as unknown as { relu: boolean; bias: boolean };
  const backend = args.backend as WasmBackendLike;
  const { dy, x, w, y } = args.inputs as Record<string, tf.TensorInfo | undefined>;
  const temps: tf.TensorInfo[] = [];
  let dz = dy!;
  if (relu) {
    const mask = call(backend, 'Step', { x: y! }, { alpha: 0 });
    temps.push(mask);
    dz = call(backend, 'Multiply', { a: dy!, b: mask }, {});
    temps.push(dz);
  }
  const wT = transpose2d(backend, w!);
  temps.push(wT);
  const dx = matMul(backend, dz, wT);
  const xT = transpose2d(backend, x!);
  temps.push(xT);
  const dw = matMul(backend, xT, dz);
  const grads = [dx, dw];
  if (bias) grads.push(call(backend, 'Sum', { x: dz }, { axis: [0], keepDims: false }));
  for (const t of temps) backend.disposeData(t.dataId);
  return grads;
}

let registered = false;
let enabled = true;

/** Turns these kernels off (Linear layers take the op path on wasm): for tests and A/B timing. */
export function setWasmDenseEnabled(on: boolean): void {
  enabled = on;
}

/**
 * True when the wasm Linear kernels can run: the backend is wasm and the fused wasm kernels are on
 * (wasmAttention.ts's switch). Registers the kernels on first use.
 */
export function wasmDenseActive(): boolean {
  if (!enabled || !fusedKernelsActive()) return false;
  if (!registered) {
    registered = true;
    for (const [kernelName, fn] of [
      [KERNEL_WASM_DENSE, denseKernel],
      [KERNEL_WASM_DENSE_GRAD, denseGradKernel],
    ] as const) {
      if (!tf.getKernel(kernelName, 'wasm'))
        tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc: fn as unknown as tf.KernelFunc });
    }
  }
  return true;
}
