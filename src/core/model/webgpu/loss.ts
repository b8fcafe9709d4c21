import * as tf from '../../tf.ts';
import { flat, type KernelArgs, type Program, unpack, type WebGPUBackendLike } from './program.ts';

/** L_gen^m, the reconstruction loss: one program (a workgroup reduction) forward and one backward. */

// ------------------------------------------------------------------ reconstruction loss

const RED = 256;

/**
 * L_gen^m's forward in one workgroup: with d = (x̂ − x)·M (M [B, L] broadcast over D), S = Σ
 * SmoothL1(d) (β = 1, as 0.5·q² + (|d| − q), q = min(|d|, 1), the op path's form) and den = ΣM·D +
 * 1e-4; output [S/den, den].
 */
function smoothL1Program(): Program {
  return {
    variableNames: ['xh', 'cl', 'm'],
    outputShape: [2],
    shaderKey: 'mfmbSmoothL1',
    dispatchLayout: { x: [0] },
    dispatch: [1, 1, 1],
    workgroupSize: [RED, 1, 1],
    getUserCode: () => /* wgsl */ `
    var<workgroup> part : array<f32, ${RED}>;
    var<workgroup> partM : array<f32, ${RED}>;
    fn main(index : i32) {
      let t = i32(localId.x);
      let D = uniforms.xhShape.z;
      let rows = uniforms.xhShape.x * uniforms.xhShape.y;
      var acc = 0.0;
      for (var i = t; i < rows * D; i += ${RED}) {
        let d = abs((xh[i] - cl[i]) * m[i / D]);
        let q = min(d, 1.0);
        acc += q * q * 0.5 + (d - q);
      }
      var accM = 0.0;
      for (var r = t; r < rows; r += ${RED}) { accM += m[r]; }
      part[t] = acc;
      partM[t] = accM;
      workgroupBarrier();
      for (var s = ${RED / 2}; s > 0; s = s / 2) {
        if (t < s) {
          part[t] += part[t + s];
          partM[t] += partM[t + s];
        }
        workgroupBarrier();
      }
      if (t == 0) {
        let den = partM[0] * f32(D) + 1e-4;
        result[0] = part[0] / den;
        result[1] = den;
      }
    }`,
  };
}

/** inputs xh [B, L, D], cl [B, L, D], m [B, L] → [L_gen (scalar), den (scalar)]: one dispatch. */
export function smoothL1Kernel(args: KernelArgs): tf.TensorInfo[] {
  const backend = args.backend as WebGPUBackendLike;
  const { xh, cl, m } = args.inputs as Record<string, tf.TensorInfo>;
  const packed = backend.runWebGPUProgram(smoothL1Program(), [xh, cl, m], 'float32');
  return unpack(backend, packed, [[], []]);
}

/** ∂x̂ = dy/den · clamp(d, −1, 1) · M, the op path's gradient (0 where M = 0): one dispatch. */
export function smoothL1GradKernel(args: KernelArgs): tf.TensorInfo {
  const backend = args.backend as WebGPUBackendLike;
  const { dy, xh, cl, m, den } = args.inputs as Record<string, tf.TensorInfo>;
  const n = tf.util.sizeFromShape(xh.shape);
  const body = /* wgsl */ `
    fn main(index : i32) {
      if (index >= uniforms.size) { return; }
      let mk = m[index / uniforms.xhShape.z];
      let d = (xh[index] - cl[index]) * mk;
      result[index] = dy[0] / den[0] * clamp(d, -1.0, 1.0) * mk;
    }`;
  const prog = flat('mfmbSmoothL1Grad', ['dy', 'xh', 'cl', 'm', 'den'], [...xh.shape], n, body, undefined, true);
  return backend.runWebGPUProgram(prog, [dy, xh, cl, m, den], 'float32');
}
