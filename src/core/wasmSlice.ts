import * as tf from './tf.ts';
import { checkWasmPatch, warnSkipped, wasmPatchEnv, type WasmPatchEnv, type WasmPatchNeeds } from './wasmGuard.ts';

/**
 * A faster `Slice` for the wasm backend. tfjs-backend-wasm 4.22's Slice starts with
 * `backend.readSync(x)`, which copies the WHOLE input out of the wasm heap on every call — so
 * `split` into n parts copies the input n times, and any loop over slices of one tensor is O(n²)
 * (ENVIRONMENT.md). This version reads the input through a view on the heap instead; the output is
 * allocated first because growing the heap detaches earlier views. Same results, bit for bit.
 */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: string): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

function fastSlice(
  args: { inputs: tf.NamedTensorInfoMap; attrs?: tf.NamedAttrMap; backend: unknown },
  outShape?: number[],
): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  const backend = args.backend as WasmBackendLike;
  const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
  const [b, s] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, begin, size);
  if (x.dtype === 'string') throw new Error('string slice is not used by this project');
  const out = backend.makeOutput(outShape ?? s, x.dtype);
  const outVals = backend.typedArrayFromHeap(out);
  const xVals = backend.typedArrayFromHeap(x);
  const rank = x.shape.length;
  const strides = tf.util.computeStrides(x.shape);
  if (tf.slice_util.isSliceContinous(x.shape, b, s)) {
    const off = tf.slice_util.computeFlatOffset(b, strides);
    outVals.set(xVals.subarray(off, off + tf.util.sizeFromShape(s)));
    return out;
  }
  // General case: copy contiguous runs along the last axis.
  const inner = s[rank - 1];
  const outer = tf.util.sizeFromShape(s) / Math.max(inner, 1);
  const idx = new Array(rank - 1).fill(0);
  for (let o = 0; o < outer; o++) {
    let off = b[rank - 1];
    for (let d = 0; d < rank - 1; d++) off += (b[d] + idx[d]) * strides[d];
    outVals.set(xVals.subarray(off, off + inner), o * inner);
    for (let d = rank - 2; d >= 0; d--) {
      if (++idx[d] < s[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

/** SplitV on wasm calls the module-internal Slice directly, so it is replaced as well. */
function fastSplitV(args: {
  inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap;
  backend: unknown;
}): tf.TensorInfo[] {
  const x = args.inputs.x as tf.TensorInfo;
  const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
  const ax = tf.util.parseAxisParam(axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, ax);
  const begin = new Array(x.shape.length).fill(0);
  return sizes.map((n) => {
    const size = [...x.shape];
    size[ax] = n;
    const piece = fastSlice({ inputs: { x }, attrs: { begin: [...begin], size }, backend: args.backend });
    begin[ax] += n;
    return piece;
  });
}

/** Unpack (tf.unstack) too: one slice per output, each squeezed on the unpacked axis. */
function fastUnpack(args: {
  inputs: tf.NamedTensorInfoMap;
  attrs?: tf.NamedAttrMap;
  backend: unknown;
}): tf.TensorInfo[] {
  const x = args.inputs.value as tf.TensorInfo;
  const axis = tf.util.parseAxisParam((args.attrs as unknown as { axis: number }).axis, x.shape)[0];
  const size = [...x.shape];
  size[axis] = 1;
  const outShape = x.shape.filter((_, i) => i !== axis);
  return Array.from({ length: x.shape[axis] }, (_, i) => {
    const begin = new Array(x.shape.length).fill(0);
    begin[axis] = i;
    return fastSlice({ inputs: { x }, attrs: { begin, size }, backend: args.backend }, outShape);
  });
}

let installed = false;

/** What the fast Slice/SplitV/Unpack need from tfjs (checked before anything is replaced). */
export const SLICE_NEEDS: WasmPatchNeeds = {
  kernels: ['Slice', 'SplitV', 'Unpack'],
  backendMethods: ['makeOutput', 'typedArrayFromHeap'],
  functions: {
    'slice_util.parseSliceParams': tf.slice_util?.parseSliceParams,
    'slice_util.isSliceContinous': tf.slice_util?.isSliceContinous,
    'slice_util.computeFlatOffset': tf.slice_util?.computeFlatOffset,
    'util.computeStrides': tf.util?.computeStrides,
    'util.sizeFromShape': tf.util?.sizeFromShape,
    'util.parseAxisParam': tf.util?.parseAxisParam,
    'backend_util.prepareSplitSize': tf.backend_util?.prepareSplitSize,
  },
};

/**
 * Replaces the wasm backend's Slice, SplitV and Unpack kernels. Idempotent. Checks first (see
 * wasmGuard.ts) that tfjs is the release these were written against and that every internal they
 * use is there; if not, the stock kernels stay, the reason is logged once and returned as
 * 'skipped: …'. `env` is for tests.
 */
export function installFastWasmSlice(env: WasmPatchEnv = wasmPatchEnv()): string {
  if (installed) return 'installed';
  const why = checkWasmPatch(env, SLICE_NEEDS);
  if (why) {
    warnSkipped('fast wasm Slice/SplitV/Unpack', why);
    return `skipped: ${why}`;
  }
  installed = true;
  tf.unregisterKernel('Slice', 'wasm');
  tf.registerKernel({ kernelName: 'Slice', backendName: 'wasm', kernelFunc: fastSlice as unknown as tf.KernelFunc });
  tf.unregisterKernel('SplitV', 'wasm');
  tf.registerKernel({ kernelName: 'SplitV', backendName: 'wasm', kernelFunc: fastSplitV as unknown as tf.KernelFunc });
  tf.unregisterKernel('Unpack', 'wasm');
  tf.registerKernel({ kernelName: 'Unpack', backendName: 'wasm', kernelFunc: fastUnpack as unknown as tf.KernelFunc });
  return 'installed';
}
