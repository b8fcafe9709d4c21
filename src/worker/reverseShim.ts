/**
 * tf.reverse on tensors of rank > 4 for the GPU backends. tfjs 4.22's webgl Reverse throws
 * "Reverse of rank-5 tensor is not yet supported", and its webgpu Reverse silently computes a
 * wrong result (it indexes a 4-D shape with a negative axis). The core's BiGRU reverses a rank-5
 * tensor (src/core/model/recurrent.ts), so without this neither GPU backend could train MFMB-Net.
 * The fix is exact: neighbouring axes that are all reversed (or all kept) are merged — reversing
 * two adjacent axes together is reversing their flattened product — which brings every tensor the
 * model uses down to rank ≤ 3 before the backend's own kernel runs.
 */
import * as tf from '../core/tf.ts';

/** Merges runs of adjacent axes with the same reversed/kept flag (size-1 axes join any run). */
export function collapseReverse(shape: readonly number[], dims: readonly number[]): { shape: number[]; dims: number[] } {
  const reversed = new Set(dims);
  const sizes: number[] = [];
  const flags: boolean[] = [];
  shape.forEach((n, axis) => {
    const flag = reversed.has(axis) && n > 1;
    const last = sizes.length - 1;
    if (last >= 0 && (n === 1 || sizes[last] === 1 || flags[last] === flag)) {
      if (sizes[last] === 1) flags[last] = flag;
      sizes[last] *= n;
      return;
    }
    sizes.push(n);
    flags.push(flag);
  });
  return { shape: sizes, dims: flags.flatMap((f, i) => (f ? [i] : [])) };
}

type KernelArgs = Parameters<tf.KernelFunc>[0];
const installed = new Map<string, tf.KernelConfig>();

/** Replaces `backendName`'s Reverse kernel with the collapsing one. Idempotent; false if absent. */
export function installReverseShim(backendName: string, maxRank = 4): boolean {
  if (installed.has(backendName)) return true;
  const original = tf.getKernel('Reverse', backendName);
  const reshape = tf.getKernel('Reshape', backendName);
  if (!original || !reshape) return false;
  installed.set(backendName, original);
  const kernelFunc = (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const x = args.inputs.x as tf.TensorInfo;
    if (x.shape.length <= maxRank) return original.kernelFunc(args);
    const dims = tf.util.parseAxisParam((args.attrs as unknown as { dims: number | number[] }).dims, x.shape);
    const c = collapseReverse(x.shape, dims);
    if (c.shape.length > maxRank) return original.kernelFunc(args); // not reducible: the backend's own error
    const backend = args.backend as { disposeIntermediateTensorInfo?(t: tf.TensorInfo): void; disposeData?(id: object): void };
    const free = (t: tf.TensorInfo) => (backend.disposeIntermediateTensorInfo ? backend.disposeIntermediateTensorInfo(t) : backend.disposeData?.(t.dataId));
    const flat = reshape.kernelFunc({ inputs: { x }, backend: args.backend, attrs: { shape: c.shape } }) as tf.TensorInfo;
    const rev = original.kernelFunc({ inputs: { x: flat }, backend: args.backend, attrs: { dims: c.dims } }) as tf.TensorInfo;
    const out = reshape.kernelFunc({ inputs: { x: rev }, backend: args.backend, attrs: { shape: [...x.shape] } }) as tf.TensorInfo;
    free(flat);
    free(rev);
    return out;
  };
  tf.unregisterKernel('Reverse', backendName);
  tf.registerKernel({ ...original, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  return true;
}

/** Puts the backend's own kernel back (tests). */
export function uninstallReverseShim(backendName: string): void {
  const original = installed.get(backendName);
  if (!original) return;
  tf.unregisterKernel('Reverse', backendName);
  tf.registerKernel(original);
  installed.delete(backendName);
}
