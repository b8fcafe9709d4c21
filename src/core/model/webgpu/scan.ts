import * as tf from '../../tf.ts';
import type { Program, WebGPUBackendLike } from './program.ts';

/**
 * The fused bidirectional GRU and LSTM scans, each as two WebGPU compute programs (tfjs-backend-webgpu's
 * `runWebGPUProgram`): one dispatch for the whole sequence forward, one for backpropagation
 * through time, instead of ~12 small kernels per step each way.
 *
 * This file does not import `@tensorflow/tfjs-backend-webgpu` (src/core also runs in Node): the
 * programs are plain objects with the fields of its `WebGPUProgram` interface, and they are run
 * through `tf.backend().runWebGPUProgram` only when the active backend is webgpu.
 *
 * Layout: batch-major and in natural time order, so no transpose or reversal copy is needed around
 * the scan. gi [B, L, 3·2h] is the input projection (b_ih included) with gate blocks r, z, n of
 * width 2h = [fwd | bwd]; whh [2h, 3·2h] is the block-diagonal recurrent matrix (only the diagonal
 * blocks are read); bhh [3·2h]; len [B] (float32). The backward direction's step s is time L−1−s:
 * the shader indexes it instead of copying a reversed sequence.
 *
 * One workgroup per batch row loops over time inside the shader; the state lives in workgroup
 * memory and each step ends with a workgroupBarrier. Outputs and masking are exactly the op-by-op
 * path's (recurrent.ts): the state is m ⊙ candidate, zero beyond each length.
 *
 * The LSTM is the same with gates i, f, g, o (gi [B, L, 4·2h]) and its cell state c, which the
 * forward program writes next to h ([B, L, 2·2h] = [h | c]) for the backward one.
 */

function workgroupWidth(H2: number): number {
  let w = 32;
  while (w < H2 && w < 256) w *= 2;
  return w;
}

const HELPERS = /* wgsl */ `
  fn sigm_(x : f32) -> f32 { return 1.0 / (1.0 + exp(-x)); }
  fn tanh_(x : f32) -> f32 { let e = exp(-2.0 * abs(x)); return sign(x) * (1.0 - e) / (1.0 + e); }
`;

/**
 * Shared WGSL for one step: recurrent pre-activations of unit j from the state in `hsrc` (own
 * direction's half only: the off-diagonal blocks are zero), then r, z, n.
 */
function gatesSnippet(H2: number, hsrc: string): string {
  const h = H2 / 2,
    G3 = 3 * H2;
  return /* wgsl */ `
      let k0 = select(0, ${h}, j >= ${h});
      var ar = bhh[j];
      var az = bhh[${H2} + j];
      var an = bhh[${2 * H2} + j];
      for (var k = k0; k < k0 + ${h}; k++) {
        let hk = ${hsrc}[k];
        let w = k * ${G3} + j;
        ar += hk * whh[w];
        az += hk * whh[w + ${H2}];
        an += hk * whh[w + ${2 * H2}];
      }
      let gb = (b * L + t) * ${G3};
      let r = sigm_(gi[gb + j] + ar);
      let z = sigm_(gi[gb + ${H2} + j] + az);
      let n = tanh_(gi[gb + ${2 * H2} + j] + r * an);
      let m = select(0.0, 1.0, f32(t) < lens[b]);`;
}

/** Forward: hs [B, L, 2h]. */
function forwardProgram(B: number, L: number, H2: number): Program {
  const WG = workgroupWidth(H2),
    h = H2 / 2;
  return {
    variableNames: ['gi', 'whh', 'bhh', 'lens'],
    outputShape: [B, L, H2],
    shaderKey: `mfmbGruScanFwd_${H2}_${WG}`,
    dispatchLayout: { x: [0, 1, 2] },
    dispatch: [B, 1, 1],
    workgroupSize: [WG, 1, 1],
    getUserCode: () => /* wgsl */ `
    ${HELPERS}
    var<workgroup> hcur : array<f32, ${H2}>;
    var<workgroup> hnext : array<f32, ${H2}>;
    fn main(index : i32) {
      let b = i32(workgroupId.x);
      let L = uniforms.giShape.y;
      for (var j = i32(localId.x); j < ${H2}; j += ${WG}) { hcur[j] = 0.0; }
      workgroupBarrier();
      for (var s = 0; s < L; s++) {
        for (var j = i32(localId.x); j < ${H2}; j += ${WG}) {
          let t = select(s, L - 1 - s, j >= ${h});
          ${gatesSnippet(H2, 'hcur')}
          let v = m * (n + z * (hcur[j] - n));
          hnext[j] = v;
          result[(b * L + t) * ${H2} + j] = v;
        }
        workgroupBarrier();
        for (var j = i32(localId.x); j < ${H2}; j += ${WG}) { hcur[j] = hnext[j]; }
        workgroupBarrier();
      }
    }`,
  };
}

/**
 * Backward through time: out [B, L, 5·2h] = [∂r_pre, ∂z_pre, ∂n_pre ⊙ r, ∂n_pre, h_prev], each at
 * the row's own time index. Gate pre-activations are recomputed from the saved states.
 * Inputs: gi, whh, bhh, lens, hs [B, L, 2h] (forward output), dy [B, L, 2h].
 */
function backwardProgram(B: number, L: number, H2: number): Program {
  const WG = workgroupWidth(H2),
    h = H2 / 2,
    G3 = 3 * H2,
    O = 5 * H2;
  return {
    variableNames: ['gi', 'whh', 'bhh', 'lens', 'hs', 'dy'],
    outputShape: [B, L, O],
    shaderKey: `mfmbGruScanBwd_${H2}_${WG}`,
    dispatchLayout: { x: [0, 1, 2] },
    dispatch: [B, 1, 1],
    workgroupSize: [WG, 1, 1],
    getUserCode: () => /* wgsl */ `
    ${HELPERS}
    var<workgroup> hprev : array<f32, ${H2}>;
    var<workgroup> carry : array<f32, ${H2}>;
    var<workgroup> dcz : array<f32, ${H2}>;
    var<workgroup> dg : array<f32, ${G3}>;
    fn main(index : i32) {
      let b = i32(workgroupId.x);
      let L = uniforms.giShape.y;
      for (var j = i32(localId.x); j < ${H2}; j += ${WG}) { carry[j] = 0.0; }
      for (var s = L - 1; s >= 0; s--) {
        for (var j = i32(localId.x); j < ${H2}; j += ${WG}) {
          let bw = j >= ${h};
          let tp = select(s - 1, L - s, bw); // the row's time at step s − 1
          var v = 0.0;
          if (s > 0) { v = hs[(b * L + tp) * ${H2} + j]; }
          hprev[j] = v;
        }
        workgroupBarrier();
        for (var j = i32(localId.x); j < ${H2}; j += ${WG}) {
          let t = select(s, L - 1 - s, j >= ${h});
          ${gatesSnippet(H2, 'hprev')}
          let dc = (dy[(b * L + t) * ${H2} + j] + carry[j]) * m;
          let dn = dc * (1.0 - z) * (1.0 - n * n);
          let dr = dn * an * r * (1.0 - r);
          let dz = dc * (hprev[j] - n) * z * (1.0 - z);
          dg[j] = dr;
          dg[${H2} + j] = dz;
          dg[${2 * H2} + j] = dn * r;
          dcz[j] = dc * z;
          let o = (b * L + t) * ${O};
          result[o + j] = dr;
          result[o + ${H2} + j] = dz;
          result[o + ${2 * H2} + j] = dn * r;
          result[o + ${3 * H2} + j] = dn;
          result[o + ${4 * H2} + j] = hprev[j];
        }
        workgroupBarrier();
        for (var j = i32(localId.x); j < ${H2}; j += ${WG}) {
          let c0 = select(0, ${h}, j >= ${h});
          var acc = dcz[j];
          let row = j * ${G3};
          for (var c = c0; c < c0 + ${h}; c++) {
            acc += dg[c] * whh[row + c] + dg[${H2} + c] * whh[row + ${H2} + c] + dg[${2 * H2} + c] * whh[row + ${2 * H2} + c];
          }
          carry[j] = acc;
        }
        workgroupBarrier();
      }
    }`,
  };
}

function run(program: Program, inputs: tf.Tensor[]): tf.Tensor {
  const backend = tf.backend() as unknown as WebGPUBackendLike;
  const info = backend.runWebGPUProgram(program, inputs, 'float32');
  return tf.engine().makeTensorFromTensorInfo(info);
}

/** hs [B, L, 2h] = the fused scan (see the file comment). */
export function gruScanForwardWebGPU(
  gi: tf.Tensor3D,
  whh: tf.Tensor2D,
  bhh: tf.Tensor1D,
  lens: tf.Tensor1D,
): tf.Tensor3D {
  const [B, L, G3] = gi.shape;
  return run(forwardProgram(B, L, G3 / 3), [gi, whh, bhh, lens]) as tf.Tensor3D;
}

/** Gradients of the fused scan: [∂gi [B, L, 3·2h], ∂whh [2h, 3·2h] (diagonal blocks), ∂bhh [3·2h]]. */
export function gruScanBackwardWebGPU(
  gi: tf.Tensor3D,
  whh: tf.Tensor2D,
  bhh: tf.Tensor1D,
  lens: tf.Tensor1D,
  hs: tf.Tensor3D,
  dy: tf.Tensor3D,
): [tf.Tensor3D, tf.Tensor2D, tf.Tensor1D] {
  const [B, L, G3] = gi.shape;
  const H2 = G3 / 3;
  return tf.tidy(() => {
    const all = tf.reshape(run(backwardProgram(B, L, H2), [gi, whh, bhh, lens, hs, dy]), [B * L, 5 * H2]);
    const dGh = tf.slice(all, [0, 0], [B * L, 3 * H2]) as tf.Tensor2D; // [∂r, ∂z, ∂n ⊙ r]
    const dGi = tf.concat([tf.slice(all, [0, 0], [B * L, 2 * H2]), tf.slice(all, [0, 3 * H2], [B * L, H2])], 1);
    const hp = tf.slice(all, [0, 4 * H2], [B * L, H2]) as tf.Tensor2D;
    // Rows pair each direction's h_prev with its own step's ∂gh; the off-diagonal blocks of the
    // product pair different steps and are discarded by the caller (they are not weights).
    const dWhh = tf.matMul(tf.transpose(hp), dGh) as tf.Tensor2D;
    return [tf.reshape(dGi, [B, L, G3]) as tf.Tensor3D, dWhh, tf.sum(dGh, 0) as tf.Tensor1D];
  });
}

/** Recurrent pre-activations of LSTM unit j from `hsrc`, then i, f, g, o (own direction's half only). */
function lstmGatesSnippet(H2: number, hsrc: string): string {
  const h = H2 / 2,
    G4 = 4 * H2;
  return /* wgsl */ `
      let k0 = select(0, ${h}, j >= ${h});
      var ai = bhh[j];
      var af = bhh[${H2} + j];
      var ag = bhh[${2 * H2} + j];
      var ao = bhh[${3 * H2} + j];
      for (var k = k0; k < k0 + ${h}; k++) {
        let hk = ${hsrc}[k];
        let w = k * ${G4} + j;
        ai += hk * whh[w];
        af += hk * whh[w + ${H2}];
        ag += hk * whh[w + ${2 * H2}];
        ao += hk * whh[w + ${3 * H2}];
      }
      let gb = (b * L + t) * ${G4};
      let ig = sigm_(gi[gb + j] + ai);
      let fg = sigm_(gi[gb + ${H2} + j] + af);
      let gg = tanh_(gi[gb + ${2 * H2} + j] + ag);
      let og = sigm_(gi[gb + ${3 * H2} + j] + ao);
      let m = select(0.0, 1.0, f32(t) < lens[b]);`;
}

/** LSTM forward: [B, L, 2·2h] = [h | c] at each row's own time. */
function lstmForwardProgram(B: number, L: number, H2: number): Program {
  const WG = workgroupWidth(H2),
    h = H2 / 2;
  return {
    variableNames: ['gi', 'whh', 'bhh', 'lens'],
    outputShape: [B, L, 2 * H2],
    shaderKey: `mfmbLstmScanFwd_${H2}_${WG}`,
    dispatchLayout: { x: [0, 1, 2] },
    dispatch: [B, 1, 1],
    workgroupSize: [WG, 1, 1],
    getUserCode: () => /* wgsl */ `
    ${HELPERS}
    var<workgroup> hcur : array<f32, ${H2}>;
    var<workgroup> hnext : array<f32, ${H2}>;
    var<workgroup> ccur : array<f32, ${H2}>;
    fn main(index : i32) {
      let b = i32(workgroupId.x);
      let L = uniforms.giShape.y;
      for (var j = i32(localId.x); j < ${H2}; j += ${WG}) { hcur[j] = 0.0; ccur[j] = 0.0; }
      workgroupBarrier();
      for (var s = 0; s < L; s++) {
        for (var j = i32(localId.x); j < ${H2}; j += ${WG}) {
          let t = select(s, L - 1 - s, j >= ${h});
          ${lstmGatesSnippet(H2, 'hcur')}
          let c = m * (fg * ccur[j] + ig * gg);
          let v = og * tanh_(c);
          ccur[j] = c;
          hnext[j] = v;
          let o = (b * L + t) * ${2 * H2};
          result[o + j] = v;
          result[o + ${H2} + j] = c;
        }
        workgroupBarrier();
        for (var j = i32(localId.x); j < ${H2}; j += ${WG}) { hcur[j] = hnext[j]; }
        workgroupBarrier();
      }
    }`,
  };
}

/**
 * LSTM backward through time: out [B, L, 5·2h] = [∂i_pre, ∂f_pre, ∂g_pre, ∂o_pre, h_prev].
 * Inputs: gi, whh, bhh, lens, hc [B, L, 2·2h] (forward output), dy [B, L, 2h].
 */
function lstmBackwardProgram(B: number, L: number, H2: number): Program {
  const WG = workgroupWidth(H2),
    h = H2 / 2,
    G4 = 4 * H2,
    O = 5 * H2;
  return {
    variableNames: ['gi', 'whh', 'bhh', 'lens', 'hc', 'dy'],
    outputShape: [B, L, O],
    shaderKey: `mfmbLstmScanBwd_${H2}_${WG}`,
    dispatchLayout: { x: [0, 1, 2] },
    dispatch: [B, 1, 1],
    workgroupSize: [WG, 1, 1],
    getUserCode: () => /* wgsl */ `
    ${HELPERS}
    var<workgroup> hprev : array<f32, ${H2}>;
    var<workgroup> carryH : array<f32, ${H2}>;
    var<workgroup> carryC : array<f32, ${H2}>;
    var<workgroup> dg : array<f32, ${G4}>;
    fn main(index : i32) {
      let b = i32(workgroupId.x);
      let L = uniforms.giShape.y;
      for (var j = i32(localId.x); j < ${H2}; j += ${WG}) { carryH[j] = 0.0; carryC[j] = 0.0; }
      for (var s = L - 1; s >= 0; s--) {
        for (var j = i32(localId.x); j < ${H2}; j += ${WG}) {
          let tp = select(s - 1, L - s, j >= ${h});
          var v = 0.0;
          if (s > 0) { v = hc[(b * L + tp) * ${2 * H2} + j]; }
          hprev[j] = v;
        }
        workgroupBarrier();
        for (var j = i32(localId.x); j < ${H2}; j += ${WG}) {
          let t = select(s, L - 1 - s, j >= ${h});
          let tp = select(s - 1, L - s, j >= ${h});
          ${lstmGatesSnippet(H2, 'hprev')}
          var cp = 0.0;
          if (s > 0) { cp = hc[(b * L + tp) * ${2 * H2} + ${H2} + j]; }
          let tc = tanh_(hc[(b * L + t) * ${2 * H2} + ${H2} + j]);
          let dh = dy[(b * L + t) * ${H2} + j] + carryH[j];
          let dc = (carryC[j] + dh * og * (1.0 - tc * tc)) * m;
          let di = dc * gg * ig * (1.0 - ig);
          let df = dc * cp * fg * (1.0 - fg);
          let dgg = dc * ig * (1.0 - gg * gg);
          let dog = dh * tc * og * (1.0 - og);
          dg[j] = di;
          dg[${H2} + j] = df;
          dg[${2 * H2} + j] = dgg;
          dg[${3 * H2} + j] = dog;
          carryC[j] = dc * fg;
          let o = (b * L + t) * ${O};
          result[o + j] = di;
          result[o + ${H2} + j] = df;
          result[o + ${2 * H2} + j] = dgg;
          result[o + ${3 * H2} + j] = dog;
          result[o + ${4 * H2} + j] = hprev[j];
        }
        workgroupBarrier();
        for (var j = i32(localId.x); j < ${H2}; j += ${WG}) {
          let c0 = select(0, ${h}, j >= ${h});
          var acc = 0.0;
          let row = j * ${G4};
          for (var c = c0; c < c0 + ${h}; c++) {
            acc += dg[c] * whh[row + c] + dg[${H2} + c] * whh[row + ${H2} + c]
              + dg[${2 * H2} + c] * whh[row + ${2 * H2} + c] + dg[${3 * H2} + c] * whh[row + ${3 * H2} + c];
          }
          carryH[j] = acc;
        }
        workgroupBarrier();
      }
    }`,
  };
}

/** [h, c], each [B, L, 2h]: the fused LSTM scan (gi [B, L, 4·2h], whh [2h, 4·2h], bhh [4·2h], lens [B]). */
export function lstmScanForwardWebGPU(
  gi: tf.Tensor3D,
  whh: tf.Tensor2D,
  bhh: tf.Tensor1D,
  lens: tf.Tensor1D,
): { h: tf.Tensor3D; hc: tf.Tensor3D } {
  const [B, L, G4] = gi.shape;
  const H2 = G4 / 4;
  const hc = run(lstmForwardProgram(B, L, H2), [gi, whh, bhh, lens]) as tf.Tensor3D;
  return { h: tf.slice(hc, [0, 0, 0], [B, L, H2]), hc };
}

/** Gradients of the fused LSTM scan: [∂gi, ∂whh (diagonal blocks), ∂bhh]. hc is the forward's [h | c]. */
export function lstmScanBackwardWebGPU(
  gi: tf.Tensor3D,
  whh: tf.Tensor2D,
  bhh: tf.Tensor1D,
  lens: tf.Tensor1D,
  hc: tf.Tensor3D,
  dy: tf.Tensor3D,
): [tf.Tensor3D, tf.Tensor2D, tf.Tensor1D] {
  const [B, L, G4] = gi.shape;
  const H2 = G4 / 4;
  return tf.tidy(() => {
    const all = tf.reshape(run(lstmBackwardProgram(B, L, H2), [gi, whh, bhh, lens, hc, dy]), [B * L, 5 * H2]);
    const dPre = tf.slice(all, [0, 0], [B * L, G4]) as tf.Tensor2D;
    const hp = tf.slice(all, [0, G4], [B * L, H2]) as tf.Tensor2D;
    const dWhh = tf.matMul(tf.transpose(hp), dPre) as tf.Tensor2D;
    return [tf.reshape(dPre, [B, L, G4]) as tf.Tensor3D, dWhh, tf.sum(dPre, 0) as tf.Tensor1D];
  });
}
