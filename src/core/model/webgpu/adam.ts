import type * as tf from '../../tf.ts';
import { copyFloats, flat, type KernelArgs, type Program, type Uniform, type WebGPUBackendLike } from './program.ts';

/** Adam's update over the flat parameter buffer in one program. */

// ------------------------------------------------------------------ Adam

/** What adam.ts passes as attributes (numbers as the op path computes them, in float64). */
export interface AdamAttrs {
  sizes: number[];
  /** Whether θ is read from the state's first third (the last update wrote it) instead of the inputs. */
  thetaInState: boolean;
  /** Per-element coefficients given as input `coef` [3T] = [active | 1/√bc2 | step] (uneven step counts). */
  perElement: boolean;
  b1: number;
  b2: number;
  eps: number;
  wd: number;
  clip: number;
  /** √(1 − b2ᵗ) and lr/(1 − b1ᵗ) when every parameter has taken the same number of steps. */
  bc2Sqrt: number;
  step: number;
}

/**
 * The update over the flat vector: state' [3T] = [θ' | m' | v'], the op path's arithmetic in its order:
 * g = clip(g) + θ·wd; m' = m·b1 + g·(1−b1); v' = v·b2 + g²·(1−b2); θ' = θ − m'/(√v'·c + ε)·s.
 */
function adamProgram(T: number, perElement: boolean): Program {
  return flat(
    `mfmbAdam_${perElement}`,
    perElement ? ['th', 'gr', 'st', 'coef'] : ['th', 'gr', 'st'],
    [3 * T],
    T,
    /* wgsl */ `
    fn main(index : i32) {
      let T = uniforms.grShape;
      if (index >= T) { return; }
      let t0 = th[index];
      let g = clamp(gr[index], -uniforms.clip, uniforms.clip) + t0 * uniforms.wd;
      let m0 = st[T + index];
      let v0 = st[2 * T + index];
      var m = m0 * uniforms.b1 + g * uniforms.c1;
      var v = v0 * uniforms.b2 + (g * g) * uniforms.c2;
      ${
        perElement
          ? `let a = coef[index];
      m = m0 + (m - m0) * a;
      v = v0 + (v - v0) * a;
      let upd = m / (sqrt(v) * coef[T + index] + uniforms.eps) * coef[2 * T + index];`
          : `let upd = m / (sqrt(v) / uniforms.bc2s + uniforms.eps) * uniforms.step;`
      }
      result[index] = t0 - upd;
      result[T + index] = m;
      result[2 * T + index] = v;
    }`,
    'b1 : f32, c1 : f32, b2 : f32, c2 : f32, eps : f32, wd : f32, clip : f32, bc2s : f32, step : f32,',
  );
}

/**
 * Adam over every parameter in one dispatch. inputs: g0…g(n−1) (each variable's gradient), t0…t(n−1)
 * (each variable, unless θ is current in the state), state [3T], optionally coef [3T]. Gradients (and
 * θ) are gathered into flat buffers, and θ' scattered back into one buffer per variable, by GPU
 * buffer-to-buffer copies (no compute dispatch). Returns [θ'₀ … θ'ₙ₋₁, state'].
 */
export function adamKernel(args: KernelArgs): tf.TensorInfo[] {
  const a = args.attrs as unknown as AdamAttrs;
  const backend = args.backend as WebGPUBackendLike;
  const inputs = args.inputs as Record<string, tf.TensorInfo>;
  const n = a.sizes.length;
  const T = a.sizes.reduce((s, x) => s + x, 0);
  const state = inputs.state;
  const copy = (src: tf.TensorInfo, so: number, dst: tf.TensorInfo, dO: number, count: number): void =>
    copyFloats(backend, src, so, dst, dO, count);
  const gather = (prefix: string): tf.TensorInfo => {
    const out = backend.makeTensorInfo([T], 'float32');
    let o = 0;
    for (let i = 0; i < n; i++) {
      copy(inputs[`${prefix}${i}`], 0, out, o, a.sizes[i]);
      o += a.sizes[i];
    }
    return out;
  };
  const g = gather('g');
  let th: tf.TensorInfo;
  if (a.thetaInState) {
    th = backend.makeTensorInfo([T], 'float32');
    copy(state, 0, th, 0, T);
  } else {
    th = gather('t');
  }
  const ins = [th, g, state];
  if (a.perElement) ins.push(inputs.coef);
  const uniforms: Uniform[] = [a.b1, 1 - a.b1, a.b2, 1 - a.b2, a.eps, a.wd, a.clip, a.bc2Sqrt, a.step].map((v) => ({
    type: 'float32',
    data: [v],
  }));
  const next = backend.runWebGPUProgram(adamProgram(T, a.perElement), ins, 'float32', uniforms);
  backend.disposeData(g.dataId);
  backend.disposeData(th.dataId);
  const outs: tf.TensorInfo[] = [];
  let o = 0;
  for (let i = 0; i < n; i++) {
    const t = backend.makeTensorInfo([a.sizes[i]], 'float32');
    copy(next, o, t, 0, a.sizes[i]);
    o += a.sizes[i];
    outs.push(t);
  }
  outs.push(next);
  return outs;
}
