/**
 * Counts the work a tfjs backend hands to the device, at the API boundary the backend calls — real
 * counts, not estimates:
 *
 * - `dispatches`: WebGPU compute dispatches (`GPUComputePassEncoder.prototype.dispatchWorkgroups`
 *   and `dispatchWorkgroupsIndirect`, wrapped on the prototype, so every encoder tfjs creates is
 *   counted);
 * - `draws`: WebGL draw calls (`drawArrays` / `drawElements` and their instanced forms on
 *   `WebGL2RenderingContext` and `WebGLRenderingContext`): each tfjs-webgl program is one draw;
 * - `kernels`: tfjs kernel executions (`engine.runKernel`, every op tfjs-core runs, forward and
 *   backward). The wasm and cpu backends have no GPU dispatches; this is their figure, and it is
 *   labelled "kernels", never "dispatches". On WebGPU one kernel may dispatch 0 (a reshape) or
 *   several programs.
 *
 * Install it in the worker (or page) that runs tfjs, before the backend creates its device: the
 * prototypes are patched for the whole realm. Nothing here imports tfjs; the engine is passed in.
 * Used by the browser benchmark (bench/browser/) and its e2e test; the app itself does not install it.
 */

export interface DispatchCounts {
  /** WebGPU compute dispatches (dispatchWorkgroups + dispatchWorkgroupsIndirect). */
  dispatches: number;
  /**
   * WebGPU buffer-to-buffer copies (`GPUCommandEncoder.prototype.copyBufferToBuffer`): no shader
   * runs, but each is a command of its own (fused kernels use them to split one program's packed
   * output into several tensors, and Adam to gather and scatter the flat parameter buffer).
   */
  copies: number;
  /** WebGL draw calls. */
  draws: number;
  /** tfjs kernel executions (engine.runKernel), any backend. */
  kernels: number;
  /** The most bytes held by tfjs tensors at the end of any kernel (engine state), since reset. */
  peakTensorBytes: number;
}

export interface DispatchCounter {
  /** A copy of the counts since the last reset. */
  read(): DispatchCounts;
  reset(): void;
  /** Restores every patched method. */
  uninstall(): void;
  /** Which hooks were installed (e.g. ['webgpu', 'webgl2', 'kernels']). */
  readonly hooks: readonly string[];
}

/** The slice of tfjs's engine that the kernel hook needs (tf.engine()). */
export interface EngineLike {
  runKernel(...args: unknown[]): unknown;
  state?: { numBytes?: number };
}

type Method = (this: unknown, ...args: unknown[]) => unknown;

interface Patch {
  target: object;
  name: string;
  original: Method;
  own: boolean;
}

const GPU_METHODS = ['dispatchWorkgroups', 'dispatchWorkgroupsIndirect'] as const;
const GL_METHODS = ['drawArrays', 'drawElements', 'drawArraysInstanced', 'drawElementsInstanced'] as const;

/**
 * Wraps the device-facing methods found on `scope` (default: globalThis) and, when given, the tfjs
 * engine's runKernel. Classes missing from the scope (no WebGPU, no WebGL) are skipped and not
 * listed in `hooks`.
 */
export function installDispatchCounter(
  opts: { scope?: Record<string, unknown>; engine?: EngineLike } = {},
): DispatchCounter {
  const scope = (opts.scope ?? globalThis) as Record<string, unknown>;
  const counts: DispatchCounts = { dispatches: 0, copies: 0, draws: 0, kernels: 0, peakTensorBytes: 0 };
  const patches: Patch[] = [];
  const hooks: string[] = [];

  const wrap = (target: object, name: string, count: () => void): boolean => {
    const t = target as Record<string, unknown>;
    const original = t[name];
    if (typeof original !== 'function') return false;
    const own = Object.prototype.hasOwnProperty.call(target, name);
    const fn = original as Method;
    const wrapped = function (this: unknown, ...args: unknown[]): unknown {
      count();
      return fn.apply(this, args);
    };
    Object.defineProperty(target, name, { value: wrapped, writable: true, configurable: true, enumerable: false });
    patches.push({ target, name, original: fn, own });
    return true;
  };

  const proto = (cls: string): object | null => {
    const c: unknown = scope[cls];
    const p = typeof c === 'function' ? (c as { prototype?: unknown }).prototype : null;
    return p && typeof p === 'object' ? p : null;
  };

  const gpuProto = proto('GPUComputePassEncoder');
  if (gpuProto) {
    let any = false;
    for (const m of GPU_METHODS) any = wrap(gpuProto, m, () => counts.dispatches++) || any;
    if (any) hooks.push('webgpu');
  }
  const encoderProto = proto('GPUCommandEncoder');
  if (encoderProto && wrap(encoderProto, 'copyBufferToBuffer', () => counts.copies++)) hooks.push('webgpu-copies');
  for (const [cls, label] of [
    ['WebGL2RenderingContext', 'webgl2'],
    ['WebGLRenderingContext', 'webgl'],
  ] as const) {
    const p = proto(cls);
    if (!p) continue;
    let any = false;
    for (const m of GL_METHODS) any = wrap(p, m, () => counts.draws++) || any;
    if (any) hooks.push(label);
  }
  const engine = opts.engine;
  if (engine) {
    const original = engine.runKernel;
    const own = Object.prototype.hasOwnProperty.call(engine, 'runKernel');
    const wrapped = function (this: unknown, ...args: unknown[]): unknown {
      counts.kernels++;
      const out = original.apply(this, args);
      const bytes = engine.state?.numBytes;
      if (typeof bytes === 'number' && bytes > counts.peakTensorBytes) counts.peakTensorBytes = bytes;
      return out;
    };
    // An own property on the engine instance: tfjs-core calls ENGINE.runKernel(...) for every op.
    engine.runKernel = wrapped;
    patches.push({ target: engine, name: 'runKernel', original: original as Method, own });
    hooks.push('kernels');
  }

  return {
    hooks,
    read: () => ({ ...counts }),
    reset() {
      counts.dispatches = 0;
      counts.copies = 0;
      counts.draws = 0;
      counts.kernels = 0;
      counts.peakTensorBytes = opts.engine?.state?.numBytes ?? 0;
    },
    uninstall() {
      for (const p of patches.splice(0).reverse()) {
        if (p.own) {
          Object.defineProperty(p.target, p.name, {
            value: p.original,
            writable: true,
            configurable: true,
            enumerable: false,
          });
        } else {
          delete (p.target as Record<string, unknown>)[p.name];
        }
      }
    },
  };
}

/**
 * The figure a benchmark reports per step for a backend: GPU dispatches on webgpu, draw calls on
 * webgl, kernel executions otherwise (with the unit, so a wasm figure is never called a dispatch).
 */
export function deviceWork(backend: string, c: DispatchCounts): { count: number; unit: string } {
  if (backend === 'webgpu') return { count: c.dispatches, unit: 'GPU dispatches' };
  if (backend === 'webgl') return { count: c.draws, unit: 'GPU draw calls' };
  return { count: c.kernels, unit: 'kernels' };
}
