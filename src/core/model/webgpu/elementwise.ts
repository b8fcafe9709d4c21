import * as tf from '../../tf.ts';
import { DROP_UNIFORMS, dropUniforms, f, flat, HASH, type KernelArgs, type WebGPUBackendLike } from './program.ts';

/** Elementwise fused kernels: dropout, the dropout–add pairs, and the recurrent weights' packing. */

// ------------------------------------------------------------------ dropout

export function dropoutKernel(args: KernelArgs): tf.TensorInfo {
  const { rate, seed } = args.attrs as unknown as { rate: number; seed: number };
  const backend = args.backend as WebGPUBackendLike;
  const x = args.inputs.x as tf.TensorInfo;
  const n = tf.util.sizeFromShape(x.shape);
  const body = /* wgsl */ `
    ${HASH}
    fn main(index : i32) {
      if (index < uniforms.size) {
        result[index] = select(0.0, x[index] * uniforms.ks, kept_(u32(index)));
      }
    }`;
  const prog = flat('mfmbDropout', ['x'], [...x.shape], n, body, DROP_UNIFORMS, true);
  return backend.runWebGPUProgram(prog, [x], 'float32', dropUniforms(rate, seed));
}

/** What ops.ts passes to `MfmbDropAdd`. */
export interface DropAddAttrs {
  /**
   * 'inner': drop(x·scale + c) (the encoder's embedding); 'outer': c + drop(x) (a residual add);
   * 'grad': drop(x)·scale (the backward of both, on dy). drop(t) = t/(1 − rate) or 0 by the mask.
   */
  mode: 'inner' | 'outer' | 'grad';
  scale: number;
  rate: number;
  seed: number;
}

/** inputs x and (modes inner, outer) c of x's shape → one tensor of x's shape: one dispatch. */
export function dropAddKernel(args: KernelArgs): tf.TensorInfo {
  const { mode, scale, rate, seed } = args.attrs as unknown as DropAddAttrs;
  const backend = args.backend as WebGPUBackendLike;
  const { x, c } = args.inputs as Record<string, tf.TensorInfo>;
  const n = tf.util.sizeFromShape(x.shape);
  const drop = rate > 0;
  // The op path's rounding order: (x·s + c)·ks, c + x·ks, (dy·ks)·s.
  const keep = (v: string) => (drop ? `select(0.0, (${v}) * uniforms.ks, kept_(u32(index)))` : v);
  const expr =
    mode === 'inner'
      ? keep(`x[index] * ${f(scale)} + c[index]`)
      : mode === 'outer'
        ? `c[index] + ${keep('x[index]')}`
        : `${keep('x[index]')} * ${f(scale)}`;
  const body = /* wgsl */ `
    ${HASH}
    fn main(index : i32) {
      if (index < uniforms.size) { result[index] = ${expr}; }
    }`;
  const vars = mode === 'grad' ? ['x'] : ['x', 'c'];
  const prog = flat(`mfmbDropAdd_${mode}_${drop}_${f(scale)}`, vars, [...x.shape], n, body, DROP_UNIFORMS, true);
  return backend.runWebGPUProgram(prog, mode === 'grad' ? [x] : [x, c], 'float32', dropUniforms(drop ? rate : 0, seed));
}

// ------------------------------------------------------------------ recurrent weights

/**
 * Both directions' weights as the scan wants them, gate blocks of width 2h each [fwd | bwd]:
 * 'interleave': a, b [R, G·h] → [R, G·2h]; 'blockDiag': a, b [h, G·h] → [2h, G·2h] with a's rows on
 * top in the fwd halves, b's below in the bwd halves, zeros elsewhere. One dispatch for what the op
 * path does with two splits, a concat (and zeros) and, backward, the splits' concats and the
 * concat's split.
 */
export function gatePackKernel(args: KernelArgs): tf.TensorInfo {
  const { G, h, mode } = args.attrs as unknown as { G: number; h: number; mode: 'interleave' | 'blockDiag' };
  const backend = args.backend as WebGPUBackendLike;
  const { a, b } = args.inputs as Record<string, tf.TensorInfo>;
  const R = tf.util.sizeFromShape(a.shape) / (G * h);
  const rows = mode === 'blockDiag' ? 2 * R : R;
  const n = rows * G * 2 * h;
  const body = /* wgsl */ `
    fn main(index : i32) {
      if (index >= ${n}) { return; }
      let c = index % ${2 * G * h}; let r = index / ${2 * G * h};
      let g = c / ${2 * h}; let d = (c / ${h}) % 2; let j = c % ${h};
      ${
        mode === 'interleave'
          ? `let s = r * ${G * h} + g * ${h} + j;
      result[index] = select(b[s], a[s], d == 0);`
          : `let top = r < ${R};
      let s = (r % ${R}) * ${G * h} + g * ${h} + j;
      result[index] = select(0.0, select(b[s], a[s], d == 0), top == (d == 0));`
      }
    }`;
  const shape = mode === 'blockDiag' ? [2 * R, 2 * G * h] : a.shape.length === 1 ? [2 * G * h] : [R, 2 * G * h];
  return backend.runWebGPUProgram(
    flat(`mfmbGatePack_${mode}_${G}_${h}_${R}`, ['a', 'b'], shape, n, body),
    [a, b],
    'float32',
  );
}

/** The gradient of one side of MfmbGatePack: dy [.., G·2h] → the `part` (0 = a, 1 = b) half of every gate block. */
export function gateUnpackKernel(args: KernelArgs): tf.TensorInfo {
  const { G, h, mode, part } = args.attrs as unknown as { G: number; h: number; mode: string; part: number };
  const backend = args.backend as WebGPUBackendLike;
  const { dy } = args.inputs as Record<string, tf.TensorInfo>;
  const R = tf.util.sizeFromShape(dy.shape) / (2 * G * h) / (mode === 'blockDiag' ? 2 : 1);
  const n = R * G * h;
  const r0 = mode === 'blockDiag' && part === 1 ? R : 0;
  const body = /* wgsl */ `
    fn main(index : i32) {
      if (index >= ${n}) { return; }
      let r = index / ${G * h}; let c = index % ${G * h};
      let g = c / ${h}; let j = c % ${h};
      result[index] = dy[(r + ${r0}) * ${2 * G * h} + g * ${2 * h} + ${part * h} + j];
    }`;
  const shape = dy.shape.length === 1 ? [G * h] : [R, G * h];
  return backend.runWebGPUProgram(
    flat(`mfmbGateUnpack_${mode}_${part}_${G}_${h}_${R}`, ['dy'], shape, n, body),
    [dy],
    'float32',
  );
}
