import * as tf from '../tf.ts';
import type { ParamStore } from './params.ts';
import { applyDense, customOp } from './ops.ts';
import {
  gruScanBackwardWebGPU,
  gruScanForwardWebGPU,
  lstmScanBackwardWebGPU,
  lstmScanForwardWebGPU,
} from './webgpu/scan.ts';
import { KERNEL_GATE_PACK, KERNEL_GATE_UNPACK, webgpuKernelActive } from './webgpu/select.ts';
import {
  KERNEL_GRU_SCAN,
  KERNEL_GRU_SCAN_GRAD,
  KERNEL_LSTM_SCAN,
  KERNEL_LSTM_SCAN_GRAD,
  wasmScanActive,
} from '../wasmRecurrent.ts';

/**
 * Bidirectional recurrent encoder with lengths (eq. 8), PyTorch's GRU (gates r, z, n, two biases,
 * reset applied after the recurrent matMul) or LSTM (gates i, f, g, o).
 *
 * Why it looks like this (ENVIRONMENT.md): on wasm a per-step `slice` copies the whole source and
 * tfjs's automatic gradient of `stack` is an `unstack`, so an autodiff loop over time is O(L²). Here
 * both directions run in ONE loop on a state [B, 2h] = [h_fwd, h_bwd] with a block-diagonal
 * recurrent matrix; the input projections for every step come from one matMul and are put in step
 * order (time-major, the backward half at time L−1−s: nothing is reversed, split or transposed) by
 * one `gather` of h-wide rows, which copies only what it returns and whose gradient is the inverse
 * gather; the outputs go back the same way; the steps are unstacked once; and backpropagation
 * through time is written by hand inside `tf.customGrad`, with every factor that does not depend
 * on the carried gradient computed for all steps at once before the loop. Kernels per step (GRU):
 * 12 forward, 6 backward.
 *
 * Lengths: padding is at the end. A padding step reads constant gate inputs that saturate the gates
 * (GRU z = 1; LSTM f = 1, i = 0), so it keeps the state unchanged without a mask multiply (at zero
 * for the backward direction, which starts at t = L−1), and the output gather writes zeros beyond
 * each length, exactly as pack_padded_sequence gives.
 *
 * Gate layout inside the scan: G blocks of width 2h, each [fwd | bwd], in PyTorch's gate order.
 */

export type Cell = 'gru' | 'lstm';

/**
 * The fused WebGPU scan (webgpu/scan.ts: one dispatch per layer forward and one backward, in
 * place of ~12 kernels per step each way) is used when this is on and the active backend is
 * webgpu; every other backend takes the op-by-op path below. A switch so the browser
 * test (e2e/tests/15-fused-rnn.spec.ts) can run both paths on the same inputs.
 */
export const fusedScan = { webgpu: true };

function useFused(): boolean {
  return fusedScan.webgpu && tf.getBackend() === 'webgpu';
}

interface DirectionWeights {
  wih: tf.Variable; // [in, G·h]  (PyTorch weight_ih [G·h, in])
  whh: tf.Variable; // [h, G·h]
  bih: tf.Variable; // [G·h]
  bhh: tf.Variable; // [G·h]
}

export class BiRNN {
  private readonly layers: [DirectionWeights, DirectionWeights][] = [];
  private readonly gates: number;

  constructor(
    p: ParamStore,
    name: string,
    readonly cell: Cell,
    inF: number,
    readonly hidden: number,
    nLayers: number,
  ) {
    this.gates = cell === 'gru' ? 3 : 4;
    const G = this.gates,
      h = hidden;
    const bound = 1 / Math.sqrt(h);
    for (let l = 0; l < nLayers; l++) {
      const inL = l === 0 ? inF : 2 * h;
      const dir = (sfx: string): DirectionWeights => ({
        wih: p.uniform(`${name}.weight_ih_l${l}${sfx}`, [inL, G * h], bound, 'linear'),
        whh: p.uniform(`${name}.weight_hh_l${l}${sfx}`, [h, G * h], bound, 'linear'),
        bih: p.uniform(`${name}.bias_ih_l${l}${sfx}`, [G * h], bound),
        bhh: p.uniform(`${name}.bias_hh_l${l}${sfx}`, [G * h], bound),
      });
      this.layers.push([dir(''), dir('_reverse')]);
    }
  }

  /** x [B, L, in], lengths [B] → [B, L, 2h] = [forward, backward], zero beyond each length. */
  forward(x: tf.Tensor3D, len: Int32Array): tf.Tensor3D {
    const [B, L] = x.shape;
    const h = this.hidden,
      G = this.gates;
    if (useFused()) return this.forwardFused(x, len);
    if (wasmScanActive()) return this.forwardWasm(x, len);
    // Time-major step order with the backward half at time L−1−s, and back, as ONE gather each way
    // (a permutation of h-wide rows; padding steps read constant rows, see gateRows/outRows).
    const gates = gateRows(len, B, L, G, this.cell);
    const big = new Float32Array(3 * h);
    big.fill(MASKED_PRE, h, 2 * h).fill(-MASKED_PRE, 2 * h);
    const gatherIn = rowGather(gates.idx, gates.inv, tf.tensor2d(big, [3, h]));
    const outs = outRows(len, B, L);
    const gatherOut = rowGather(outs.idx, outs.inv, tf.zeros([1, h]));
    const scan = this.cell === 'gru' ? gruScan : lstmScan;
    let out = x;
    for (const [f, b] of this.layers) {
      // Fused weights: gate blocks [fwd | bwd]; the recurrent matrix is block-diagonal.
      const wih = interleave(f.wih, b.wih, G, 1); // [in, G·2h]
      const bih = interleave(f.bih, b.bih, G, 0); // [G·2h]
      const bhh = interleave(f.bhh, b.bhh, G, 0); // [G·2h]
      const zero = tf.zeros([h, G * h]);
      const whh = tf.concat([interleave(f.whh, zero, G, 1), interleave(zero, b.whh, G, 1)], 0); // [2h, G·2h]
      // Input projections for all steps at once (rows [B, L, G, 2] of width h), then per step s the
      // rows [fwd at s | bwd at L−1−s] of every gate: [L, B, G·2h].
      const xp = tf.reshape(applyDense(out, wih, bih), [B * L * G * 2, h]) as tf.Tensor2D;
      const gi = tf.reshape(gatherIn(xp), [L, B, G * 2 * h]);
      const hs = scan(gi, whh, bhh); // [L, B, 2h] by step
      out = tf.reshape(gatherOut(tf.reshape(hs, [L * B * 2, h]) as tf.Tensor2D), [B, L, 2 * h]) as tf.Tensor3D;
    }
    return out;
  }

  /**
   * The same on wasm with the scan kernels (wasmRecurrent.ts): each layer is the input projection's
   * matMul and one kernel each way, which puts the steps in order (and back) itself, so no gathers.
   */
  private forwardWasm(x: tf.Tensor3D, len: Int32Array): tf.Tensor3D {
    const [B, L] = x.shape;
    const h = this.hidden,
      G = this.gates;
    const scan = (this.cell === 'gru' ? gruScanWasm : lstmScanWasm)(Array.from(len));
    let out = x;
    for (const [f, b] of this.layers) {
      const wih = interleave(f.wih, b.wih, G, 1); // [in, G·2h]
      const bih = interleave(f.bih, b.bih, G, 0); // [G·2h]
      const bhh = interleave(f.bhh, b.bhh, G, 0); // [G·2h]
      const zero = tf.zeros([h, G * h]);
      const whh = tf.concat([interleave(f.whh, zero, G, 1), interleave(zero, b.whh, G, 1)], 0); // [2h, G·2h]
      const xp = tf.reshape(applyDense(out, wih, bih), [B, L, G * 2 * h]);
      out = scan(xp, whh, bhh);
    }
    return out;
  }

  /**
   * The same on webgpu with the fused scan: batch-major and in natural time order throughout (the
   * shader indexes the backward direction's reversed time), so the layer is the input projection's
   * matMul, one scan dispatch and nothing else.
   */
  private forwardFused(x: tf.Tensor3D, len: Int32Array): tf.Tensor3D {
    const [B, L] = x.shape;
    const h = this.hidden,
      G = this.gates;
    const lens = tf.tensor1d(Float32Array.from(len));
    let out = x;
    const packed = webgpuKernelActive('gatePack', KERNEL_GATE_PACK);
    for (const [f, b] of this.layers) {
      let wih: tf.Tensor, bih: tf.Tensor, bhh: tf.Tensor, whh: tf.Tensor;
      if (packed) {
        // One program per weight (webgpu/kernels.ts) instead of splits and concats both ways.
        wih = packGates(f.wih, b.wih, G, h, 'interleave'); // [in, G·2h]
        bih = packGates(f.bih, b.bih, G, h, 'interleave'); // [G·2h]
        bhh = packGates(f.bhh, b.bhh, G, h, 'interleave'); // [G·2h]
        whh = packGates(f.whh, b.whh, G, h, 'blockDiag'); // [2h, G·2h]
      } else {
        wih = interleave(f.wih, b.wih, G, 1);
        bih = interleave(f.bih, b.bih, G, 0);
        bhh = interleave(f.bhh, b.bhh, G, 0);
        const zero = tf.zeros([h, G * h]);
        whh = tf.concat([interleave(f.whh, zero, G, 1), interleave(zero, b.whh, G, 1)], 0);
      }
      const gi = tf.reshape(applyDense(out, wih, bih), [B, L, G * 2 * h]);
      out = (this.cell === 'gru' ? gruScanFused : lstmScanFused)(gi, whh, bhh, lens);
    }
    return out;
  }
}

/** gi [B, L, 3·2h], whh [2h, 3·2h], bhh [3·2h], lens [B] → [B, L, 2h] on webgpu (webgpu/scan.ts). */
const gruScanFused: Scan = customOp(
  (gi: tf.Tensor, whh: tf.Tensor, bhh: tf.Tensor, lens: tf.Tensor, save: tf.GradSaveFunc) => {
    const hs = gruScanForwardWebGPU(gi as tf.Tensor3D, whh as tf.Tensor2D, bhh as tf.Tensor1D, lens as tf.Tensor1D);
    save([gi, whh, bhh, lens, hs]);
    return {
      value: hs,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sGi, sWhh, sBhh, sLens, sHs] = saved;
        const grads = gruScanBackwardWebGPU(
          sGi as tf.Tensor3D,
          sWhh as tf.Tensor2D,
          sBhh as tf.Tensor1D,
          sLens as tf.Tensor1D,
          sHs as tf.Tensor3D,
          dy as tf.Tensor3D,
        );
        return [...grads, tf.zerosLike(sLens)];
      },
    };
  },
);

/** gi [B, L, 4·2h], whh [2h, 4·2h], bhh [4·2h], lens [B] → [B, L, 2h] on webgpu (webgpu/scan.ts). */
const lstmScanFused: Scan = customOp(
  (gi: tf.Tensor, whh: tf.Tensor, bhh: tf.Tensor, lens: tf.Tensor, save: tf.GradSaveFunc) => {
    const { h, hc } = lstmScanForwardWebGPU(
      gi as tf.Tensor3D,
      whh as tf.Tensor2D,
      bhh as tf.Tensor1D,
      lens as tf.Tensor1D,
    );
    save([gi, whh, bhh, lens, hc]);
    return {
      value: h,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sGi, sWhh, sBhh, sLens, sHc] = saved;
        const grads = lstmScanBackwardWebGPU(
          sGi as tf.Tensor3D,
          sWhh as tf.Tensor2D,
          sBhh as tf.Tensor1D,
          sLens as tf.Tensor1D,
          sHc as tf.Tensor3D,
          dy as tf.Tensor3D,
        );
        return [...grads, tf.zerosLike(sLens)];
      },
    };
  },
);

/** interleave(a, b) ('interleave') or the block-diagonal recurrent matrix ('blockDiag') as one WebGPU program. */
function packGates(a: tf.Tensor, b: tf.Tensor, G: number, h: number, mode: 'interleave' | 'blockDiag'): tf.Tensor {
  const run = (inputs: tf.NamedTensorMap, kernel: string, attrs: object) =>
    tf.engine().runKernel(kernel, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
  return customOp((ta: tf.Tensor, tb: tf.Tensor) => ({
    value: run({ a: ta, b: tb }, KERNEL_GATE_PACK, { G, h, mode }),
    gradFunc: (dy: tf.Tensor) => [0, 1].map((part) => run({ dy }, KERNEL_GATE_UNPACK, { G, h, mode, part })),
  }))(a, b);
}

/** [.., G·h] ⊕ [.., G·h] → [.., G·2h] with each gate block as [a_g | b_g]. */
function interleave(a: tf.Tensor, b: tf.Tensor, G: number, axis: number): tf.Tensor {
  const as = tf.split(a, G, axis),
    bs = tf.split(b, G, axis);
  return tf.concat(
    as.flatMap((x, i) => [x, bs[i]]),
    axis,
  );
}

/**
 * Gate pre-activation that a padding step reads in place of its input projection (for the GRU's z
 * and the LSTM's f; minus it for the LSTM's i). It saturates the sigmoid to exactly 1 (or 0), so
 * the step keeps the state unchanged: h = n + z ⊙ (h_prev − n) = h_prev, c = f ⊙ c_prev + i ⊙ g =
 * c_prev. Padding is at the end, so the backward direction meets its padding steps first and its
 * state stays exactly zero until its first valid step; the forward direction's state after its
 * last valid step is read by nothing valid, and outRows replaces those outputs by zeros. The
 * gradients through such a step vanish the same way (z(1−z) = 1−z = 0, i = f(1−f) = 0).
 */
const MASKED_PRE = 1e4;

/**
 * Rows of the input projections, [B, L, G, 2] rows of width h (batch-major, natural time) → the
 * scan's [L, B, G, 2] (step s: the forward half at time s, the backward half at L−1−s). Padding
 * rows read row n (zero), n+1 (+MASKED_PRE: GRU z, LSTM f) or n+2 (−MASKED_PRE: LSTM i), where n
 * is the row count. inv maps each source row to where it went (n, a zero row of dy, if nowhere).
 */
function gateRows(len: Int32Array, B: number, L: number, G: number, cell: Cell): { idx: Int32Array; inv: Int32Array } {
  const n = L * B * G * 2;
  const idx = new Int32Array(n),
    inv = new Int32Array(n).fill(n);
  const padRow = (g: number): number => (g === 1 ? n + 1 : cell === 'lstm' && g === 0 ? n + 2 : n);
  let i = 0;
  for (let s = 0; s < L; s++)
    for (let b = 0; b < B; b++)
      for (let g = 0; g < G; g++)
        for (let d = 0; d < 2; d++, i++) {
          const t = d === 0 ? s : L - 1 - s;
          if (t < len[b]) {
            const src = ((b * L + t) * G + g) * 2 + d;
            idx[i] = src;
            inv[src] = i;
          } else idx[i] = padRow(g);
        }
  return { idx, inv };
}

/** Rows of the scan's states [L, B, 2] (width h, by step) → [B, L, 2] in natural time, zero (row n) beyond each length. */
function outRows(len: Int32Array, B: number, L: number): { idx: Int32Array; inv: Int32Array } {
  const n = L * B * 2;
  const idx = new Int32Array(n),
    inv = new Int32Array(n).fill(n);
  let i = 0;
  for (let b = 0; b < B; b++)
    for (let t = 0; t < L; t++)
      for (let d = 0; d < 2; d++, i++) {
        if (t < len[b]) {
          const src = ((d === 0 ? t : L - 1 - t) * B + b) * 2 + d;
          idx[i] = src;
          inv[src] = i;
        } else idx[i] = n;
      }
  return { idx, inv };
}

/**
 * x [n, w] → rows idx of [x; extra] (extra: constant rows, no gradient). The gradient is the same
 * gather the other way, rows inv of [dy; 0]. One gather copies only what it returns (ENVIRONMENT.md).
 */
function rowGather(idx: Int32Array, inv: Int32Array, extra: tf.Tensor2D): (x: tf.Tensor2D) => tf.Tensor2D {
  return customOp((x: tf.Tensor) => ({
    value: tf.gather(tf.concat([x, extra], 0), tf.tensor1d(idx, 'int32')),
    gradFunc: (dy: tf.Tensor) => [
      tf.gather(tf.concat([dy, tf.zeros([1, x.shape[1] as number])], 0), tf.tensor1d(inv, 'int32')),
    ],
  })) as (x: tf.Tensor2D) => tf.Tensor2D;
}

type Scan = (gi: tf.Tensor, whh: tf.Tensor, bhh: tf.Tensor, lens: tf.Tensor) => tf.Tensor3D;
type OpScan = (gi: tf.Tensor, whh: tf.Tensor, bhh: tf.Tensor) => tf.Tensor3D;

const runKernel = (kernel: string, inputs: tf.NamedTensorMap, attrs: object): tf.Tensor[] =>
  tf.engine().runKernel(kernel, inputs, attrs as tf.NamedAttrMap) as unknown as tf.Tensor[];

/**
 * Σ_s h_{s−1}ᵀ ∂gh_s over the steps (h_{−1} = 0) and the column sum of ∂gh: the recurrent weight
 * and bias gradients from the states hs [L, B, W] and ∂gh [L, B, G·W].
 */
function recurrentWeightGrads(hs: tf.Tensor, dGh: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const [L, B, W] = hs.shape as [number, number, number];
  const GW = dGh.shape[2] as number;
  const dbhh = tf.sum(tf.reshape(dGh, [L * B, GW]), 0);
  if (L === 1) return [tf.zeros([W, GW]), dbhh];
  const hp = tf.reshape(tf.slice(hs, [0, 0, 0], [L - 1, B, W]), [(L - 1) * B, W]) as tf.Tensor2D;
  const dg = tf.reshape(tf.slice(dGh, [1, 0, 0], [L - 1, B, GW]), [(L - 1) * B, GW]) as tf.Tensor2D;
  return [tf.matMul(tf.transpose(hp), dg), dbhh];
}

type WasmScan = (lens: number[]) => (xp: tf.Tensor, whh: tf.Tensor, bhh: tf.Tensor) => tf.Tensor3D;

/**
 * A GRU layer as two wasm kernels (wasmRecurrent.ts): xp [B, L, 3·2h] (natural time), whh, bhh →
 * [B, L, 2h]; the loop over time forward, and backpropagation through time.
 */
const gruScanWasm: WasmScan = (lens) =>
  customOp((xp: tf.Tensor, whh: tf.Tensor, bhh: tf.Tensor, save: tf.GradSaveFunc) => {
    const [out, gi, hs, gh] = runKernel(KERNEL_GRU_SCAN, { xp, whh, bhh }, { lens });
    save([gi, whh, gh, hs]);
    return {
      value: out as tf.Tensor3D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sGi, sWhh, sGh, sHs] = saved;
        const whhT = tf.transpose(sWhh as tf.Tensor2D);
        const [dxp, dgh, scratch] = runKernel(KERNEL_GRU_SCAN_GRAD, { dy, gi: sGi, gh: sGh, hs: sHs, whhT }, { lens });
        tf.dispose([scratch, whhT]);
        const [dWhh, dbhh] = recurrentWeightGrads(sHs, dgh);
        dgh.dispose();
        return [dxp, dWhh, dbhh];
      },
    };
  }) as (xp: tf.Tensor, whh: tf.Tensor, bhh: tf.Tensor) => tf.Tensor3D;

/** An LSTM layer as two wasm kernels (wasmRecurrent.ts). */
const lstmScanWasm: WasmScan = (lens) =>
  customOp((xp: tf.Tensor, whh: tf.Tensor, bhh: tf.Tensor, save: tf.GradSaveFunc) => {
    const [out, hs, gates, cs, scratch] = runKernel(KERNEL_LSTM_SCAN, { xp, whh, bhh }, { lens });
    scratch.dispose();
    save([whh, gates, cs, hs]);
    return {
      value: out as tf.Tensor3D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sWhh, sGates, sCs, sHs] = saved;
        const whhT = tf.transpose(sWhh as tf.Tensor2D);
        const [dxp, dpre, scratch2] = runKernel(KERNEL_LSTM_SCAN_GRAD, { dy, gates: sGates, cs: sCs, whhT }, { lens });
        tf.dispose([scratch2, whhT]);
        const [dWhh, dbhh] = recurrentWeightGrads(sHs, dpre);
        dpre.dispose();
        return [dxp, dWhh, dbhh];
      },
    };
  }) as (xp: tf.Tensor, whh: tf.Tensor, bhh: tf.Tensor) => tf.Tensor3D;

/*
 * Backpropagation through time with the least work per step: every factor that does not depend on
 * the carried gradient (gate derivatives, 1 − n², …) is computed once for all steps before the
 * loop, so a step is the carry, one concat, one product, the recurrent matMul and its add.
 */

/**
 * GRU over time on the fused state. gi [L, B, 3·2h] input projections (b_ih included, padding steps
 * as in gateRows), whh [2h, 3·2h], bhh [3·2h] → states [L, B, 2h]. 12 kernels per step forward, 6 back.
 */
const gruScan: OpScan = customOp((gi: tf.Tensor, whh: tf.Tensor, bhh: tf.Tensor, save: tf.GradSaveFunc) => {
  const [L, B, W] = gi.shape as [number, number, number];
  const H2 = W / 3;
  const [giRZ, giN] = tf.split(gi, [2 * H2, H2], 2).map((t) => tf.unstack(t)); // per step [B, 4h] / [B, 2h]
  const keep: Record<'rz' | 'n' | 'ghn' | 'hp', tf.Tensor[]> = { rz: [], n: [], ghn: [], hp: [] };
  const outs: tf.Tensor[] = [];
  let H: tf.Tensor2D = tf.zeros([B, H2]);
  for (let s = 0; s < L; s++) {
    const prev = H;
    const res = tf.tidy(() => {
      const gh = tf.add(tf.matMul(prev, whh as tf.Tensor2D), bhh); // [B, 3·2h] (tf.fused.matMul adds 3 reshapes)
      const [ghRZ, ghn] = tf.split(gh, [2 * H2, H2], 1);
      const rz = tf.sigmoid(tf.add(giRZ[s], ghRZ));
      const [r, z] = tf.split(rz, 2, 1);
      const n = tf.tanh(tf.add(giN[s], tf.mul(r, ghn)));
      const next = tf.add(n, tf.mul(z, tf.sub(prev, n))) as tf.Tensor2D; // (1 − z) ⊙ n + z ⊙ h
      return { rz, n, ghn, next };
    });
    keep.rz.push(res.rz);
    keep.n.push(res.n);
    keep.ghn.push(res.ghn);
    keep.hp.push(prev);
    outs.push(res.next);
    H = res.next;
  }
  const out = tf.stack(outs) as tf.Tensor3D;
  save([whh, ...(['rz', 'n', 'ghn', 'hp'] as const).map((k) => tf.stack(keep[k]))]);
  return {
    value: out,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sWhh, RZ, N, GHN, HP] = saved;
      const one = tf.scalar(1);
      const [R, Z] = tf.split(RZ, 2, 2);
      const omz = tf.sub(one, Z);
      const A = tf.mul(omz, tf.sub(one, tf.square(N))); // ∂n_pre/∂cand
      const ACr = tf.mul(A, tf.mul(GHN, tf.mul(R, tf.sub(one, R)))); // ∂r_pre/∂cand
      const Bz = tf.mul(tf.sub(HP, N), tf.mul(Z, omz)); // ∂z_pre/∂cand
      const kGi = tf.concat([ACr, Bz, A], 2); // ∂gi/∂cand
      const kGh = tf.unstack(tf.concat([ACr, Bz, tf.mul(A, R)], 2)); // ∂gh/∂cand
      const zs = tf.unstack(Z),
        dys = tf.unstack(dy);
      const whhT = tf.transpose(sWhh as tf.Tensor2D);
      const cand3: tf.Tensor[] = new Array(L);
      const dgh: tf.Tensor[] = new Array(L);
      let dH: tf.Tensor = tf.zeros([B, H2]);
      for (let s = L - 1; s >= 0; s--) {
        const carry = dH;
        const res = tf.tidy(() => {
          const dCand = tf.add(dys[s], carry); // ∂/∂candidate
          const c3 = tf.concat([dCand, dCand, dCand], 1);
          const dGh = tf.mul(c3, kGh[s]);
          return { c3, dGh, dPrev: tf.add(tf.mul(dCand, zs[s]), tf.matMul(dGh, whhT)) };
        });
        cand3[s] = res.c3;
        dgh[s] = res.dGh;
        carry.dispose();
        dH = res.dPrev;
      }
      const dGh = tf.concat(dgh, 0); // [L·B, 3·2h]
      const dWhh = tf.matMul(tf.transpose(tf.reshape(HP, [L * B, H2]) as tf.Tensor2D), dGh as tf.Tensor2D); // Σ_s h_{s−1}ᵀ ∂gh_s
      return [tf.mul(tf.stack(cand3), kGi), dWhh, tf.sum(dGh, 0)];
    },
  };
});

/** LSTM over time on the fused state (cell state c carried the same way). gi [L, B, 4·2h]. 12 kernels per step forward, 7 back. */
const lstmScan: OpScan = customOp((gi: tf.Tensor, whh: tf.Tensor, bhh: tf.Tensor, save: tf.GradSaveFunc) => {
  const [L, B, W] = gi.shape as [number, number, number];
  const H2 = W / 4;
  const gis = tf.unstack(tf.add(gi, bhh)); // b_hh once for all steps
  const keep: Record<'i' | 'f' | 'g' | 'o' | 'tc' | 'cp' | 'hp', tf.Tensor[]> = {
    i: [],
    f: [],
    g: [],
    o: [],
    tc: [],
    cp: [],
    hp: [],
  };
  const outs: tf.Tensor[] = [];
  let H: tf.Tensor2D = tf.zeros([B, H2]);
  let C: tf.Tensor2D = tf.zeros([B, H2]);
  for (let s = 0; s < L; s++) {
    const hPrev = H,
      cPrev = C;
    const res = tf.tidy(() => {
      const pre = tf.add(gis[s], tf.matMul(hPrev, whh as tf.Tensor2D));
      const [si, sf, sg, so] = tf.split(pre, 4, 1);
      const i = tf.sigmoid(si),
        f = tf.sigmoid(sf),
        g = tf.tanh(sg),
        o = tf.sigmoid(so);
      const c = tf.add(tf.mul(f, cPrev), tf.mul(i, g)) as tf.Tensor2D;
      const tc = tf.tanh(c);
      return { i, f, g, o, tc, c, h: tf.mul(o, tc) as tf.Tensor2D };
    });
    keep.i.push(res.i);
    keep.f.push(res.f);
    keep.g.push(res.g);
    keep.o.push(res.o);
    keep.tc.push(res.tc);
    keep.cp.push(cPrev);
    keep.hp.push(hPrev);
    outs.push(res.h);
    H = res.h;
    C = res.c;
  }
  C.dispose();
  const out = tf.stack(outs) as tf.Tensor3D;
  save([whh, ...(['i', 'f', 'g', 'o', 'tc', 'cp', 'hp'] as const).map((k) => tf.stack(keep[k]))]);
  return {
    value: out,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sWhh, I, F, G, O, TC, CP, HP] = saved;
      const one = tf.scalar(1);
      // c = f ⊙ c_prev + i ⊙ g; h = o ⊙ tanh(c)
      const qs = tf.unstack(tf.mul(O, tf.sub(one, tf.square(TC)))); // ∂c/∂h (through tanh)
      const ks = tf.unstack(
        tf.concat(
          [
            tf.mul(G, tf.mul(I, tf.sub(one, I))),
            tf.mul(CP, tf.mul(F, tf.sub(one, F))),
            tf.mul(I, tf.sub(one, tf.square(G))),
            tf.mul(TC, tf.mul(O, tf.sub(one, O))),
          ],
          2,
        ),
      ); // ∂pre/∂[c, c, c, h]
      const [fs, dys] = [F, dy].map((t) => tf.unstack(t));
      const whhT = tf.transpose(sWhh as tf.Tensor2D);
      const dpre: tf.Tensor[] = new Array(L);
      let dH: tf.Tensor = tf.zeros([B, H2]);
      let dC: tf.Tensor = tf.zeros([B, H2]);
      for (let s = L - 1; s >= 0; s--) {
        const carryH = dH,
          carryC = dC;
        const res = tf.tidy(() => {
          const dh = tf.add(dys[s], carryH);
          const dc = tf.add(carryC, tf.mul(dh, qs[s]));
          const dPre = tf.mul(tf.concat([dc, dc, dc, dh], 1), ks[s]);
          return { dPre, dhPrev: tf.matMul(dPre, whhT), dcPrev: tf.mul(dc, fs[s]) };
        });
        dpre[s] = res.dPre;
        carryH.dispose();
        carryC.dispose();
        dH = res.dhPrev;
        dC = res.dcPrev;
      }
      const dPre = tf.concat(dpre, 0);
      const dWhh = tf.matMul(tf.transpose(tf.reshape(HP, [L * B, H2]) as tf.Tensor2D), dPre as tf.Tensor2D);
      return [tf.stack(dpre), dWhh, tf.sum(dPre, 0)];
    },
  };
});
