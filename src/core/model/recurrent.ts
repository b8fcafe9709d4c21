import * as tf from '../tf.ts';
import type { ParamStore } from './params.ts';
import { applyDense, customOp } from './ops.ts';
import {
  gruScanBackwardWebGPU,
  gruScanForwardWebGPU,
  lstmScanBackwardWebGPU,
  lstmScanForwardWebGPU,
} from './webgpu/scan.ts';

/**
 * Bidirectional recurrent encoder with lengths (eq. 8), PyTorch's GRU (gates r, z, n, two biases,
 * reset applied after the recurrent matMul) or LSTM (gates i, f, g, o).
 *
 * Why it looks like this (ENVIRONMENT.md): on wasm a per-step `slice` copies the whole source and
 * tfjs's automatic gradient of `stack` is an `unstack`, so an autodiff loop over time is O(L²). Here
 * both directions run in ONE loop on a state [B, 2h] = [h_fwd, h_bwd] with a block-diagonal
 * recurrent matrix, the input projections for every step come from one matMul, each step's slice is
 * fetched with `gather` (copies only what it returns), and backpropagation through time is written
 * by hand inside `tf.customGrad`.
 *
 * Lengths: padding is at the end, so no gather by length is needed. A per-step mask keeps the state
 * unchanged (at zero for the backward direction, which starts at t = L−1) while t ≥ len, and
 * outputs beyond the length are zero, exactly as pack_padded_sequence gives.
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
    const mask = scanMask(len, B, L, h);
    let out = x;
    for (const [f, b] of this.layers) {
      // Fused weights: gate blocks [fwd | bwd]; the recurrent matrix is block-diagonal.
      const wih = interleave(f.wih, b.wih, G, 1); // [in, G·2h]
      const bih = interleave(f.bih, b.bih, G, 0); // [G·2h]
      const bhh = interleave(f.bhh, b.bhh, G, 0); // [G·2h]
      const zero = tf.zeros([h, G * h]);
      const whh = tf.concat([interleave(f.whh, zero, G, 1), interleave(zero, b.whh, G, 1)], 0); // [2h, G·2h]
      // Input projections for all steps at once, the backward half reversed in time, then time-major.
      // (Rank ≤ 4 throughout: webgl has no rank-5 reverse.)
      const xp = tf.reshape(applyDense(out, wih, bih), [B, L * G, 2, h]);
      const [xf, xb] = tf.split(xp, 2, 2); // [B, L·G, 1, h] each
      const xbRev = tf.reshape(tf.reverse(tf.reshape(xb, [B, L, G * h]), 1), [B, L * G, 1, h]);
      const gi = tf.transpose(tf.reshape(tf.concat([xf, xbRev], 2), [B, L, G * 2 * h]), [1, 0, 2]); // [L, B, G·2h]
      const hs = (this.cell === 'gru' ? gruScan : lstmScan)(gi, whh, bhh, mask); // [L, B, 2h] by step, zero where masked
      // Step s of the backward half is time L−1−s: undo the reversal.
      const [hf, hb] = tf.split(tf.reshape(hs, [L, B, 2, h]), 2, 2);
      out = tf.transpose(tf.reshape(tf.concat([hf, tf.reverse(hb, 0)], 2), [L, B, 2 * h]), [1, 0, 2]) as tf.Tensor3D;
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
    for (const [f, b] of this.layers) {
      const wih = interleave(f.wih, b.wih, G, 1);
      const bih = interleave(f.bih, b.bih, G, 0);
      const bhh = interleave(f.bhh, b.bhh, G, 0);
      const zero = tf.zeros([h, G * h]);
      const whh = tf.concat([interleave(f.whh, zero, G, 1), interleave(zero, b.whh, G, 1)], 0);
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

/** [.., G·h] ⊕ [.., G·h] → [.., G·2h] with each gate block as [a_g | b_g]. */
function interleave(a: tf.Tensor, b: tf.Tensor, G: number, axis: number): tf.Tensor {
  const as = tf.split(a, G, axis),
    bs = tf.split(b, G, axis);
  return tf.concat(
    as.flatMap((x, i) => [x, bs[i]]),
    axis,
  );
}

/** [L, B, 2h] step mask: forward half valid iff s < len, backward half iff L−1−s < len. */
function scanMask(len: Int32Array, B: number, L: number, h: number): tf.Tensor3D {
  const m = new Float32Array(L * B * 2 * h);
  for (let s = 0; s < L; s++) {
    for (let b = 0; b < B; b++) {
      const o = (s * B + b) * 2 * h;
      if (s < len[b]) m.fill(1, o, o + h);
      if (L - 1 - s < len[b]) m.fill(1, o + h, o + 2 * h);
    }
  }
  return tf.tensor3d(m, [L, B, 2 * h]);
}

type Scan = (gi: tf.Tensor, whh: tf.Tensor, bhh: tf.Tensor, mask: tf.Tensor) => tf.Tensor3D;

/*
 * Masking without extra work: padding is at the end, so the backward direction meets its invalid
 * steps before any valid one and the forward direction only after the last one. Setting the state
 * to m ⊙ candidate therefore keeps the backward state at zero until its first valid step, and only
 * zeroes forward states that nothing valid reads — and the output is that state, already zero
 * beyond the length.
 */

/**
 * GRU over time on the fused state. gi [L, B, 3·2h] input projections (b_ih included), whh [2h, 3·2h],
 * bhh [3·2h], mask [L, B, 2h] → states [L, B, 2h], zero where masked. ~12 kernels per step forward.
 */
const gruScan: Scan = customOp(
  (gi: tf.Tensor, whh: tf.Tensor, bhh: tf.Tensor, mask: tf.Tensor, save: tf.GradSaveFunc) => {
    const [L, B] = gi.shape;
    const H2 = mask.shape[2] as number;
    const [giRZ, giN] = tf.split(gi, [2 * H2, H2], 2).map((t) => tf.unstack(t)); // per step [B, 4h] / [B, 2h]
    const ms = tf.unstack(mask);
    const keep: Record<'r' | 'z' | 'n' | 'ghn' | 'hp', tf.Tensor[]> = { r: [], z: [], n: [], ghn: [], hp: [] };
    const outs: tf.Tensor[] = [];
    let H: tf.Tensor2D = tf.zeros([B, H2]);
    for (let s = 0; s < L; s++) {
      const prev = H;
      const res = tf.tidy(() => {
        const gh = tf.fused.matMul({ a: prev, b: whh as tf.Tensor2D, bias: bhh }); // [B, 3·2h]
        const [ghRZ, ghn] = tf.split(gh, [2 * H2, H2], 1);
        const [r, z] = tf.split(tf.sigmoid(tf.add(giRZ[s], ghRZ)), 2, 1);
        const n = tf.tanh(tf.add(giN[s], tf.mul(r, ghn)));
        const next = tf.mul(ms[s], tf.add(n, tf.mul(z, tf.sub(prev, n)))) as tf.Tensor2D; // m ⊙ ((1 − z) ⊙ n + z ⊙ h)
        return { r, z, n, ghn, next };
      });
      keep.r.push(res.r);
      keep.z.push(res.z);
      keep.n.push(res.n);
      keep.ghn.push(res.ghn);
      keep.hp.push(prev);
      outs.push(res.next);
      H = res.next;
    }
    const out = tf.stack(outs) as tf.Tensor3D;
    save([whh, mask, ...(['r', 'z', 'n', 'ghn', 'hp'] as const).map((k) => tf.stack(keep[k]))]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sWhh, sMask, R, Z, N, GHN, HP] = saved;
        const [rs, zs, ns, ghns, ms2, dys] = [R, Z, N, GHN, sMask, dy].map((t) => tf.unstack(t));
        const whhT = tf.transpose(sWhh as tf.Tensor2D);
        const dgi: tf.Tensor[] = new Array(L);
        const dgh: tf.Tensor[] = new Array(L);
        const hps = tf.unstack(HP);
        let dH: tf.Tensor = tf.zeros([B, H2]);
        for (let s = L - 1; s >= 0; s--) {
          const carry = dH;
          const res = tf.tidy(() => {
            const r = rs[s],
              z = zs[s],
              n = ns[s];
            const dCand = tf.mul(tf.add(dys[s], carry), ms2[s]); // ∂/∂candidate
            const oneMinusZ = tf.sub(tf.scalar(1), z);
            const dnPre = tf.mul(tf.mul(dCand, oneMinusZ), tf.sub(tf.scalar(1), tf.square(n)));
            const drPre = tf.mul(tf.mul(dnPre, ghns[s]), tf.mul(r, tf.sub(tf.scalar(1), r)));
            const dzPre = tf.mul(tf.mul(dCand, tf.sub(hps[s], n)), tf.mul(z, oneMinusZ));
            const dGh = tf.concat([drPre, dzPre, tf.mul(dnPre, r)], 1);
            const dPrev = tf.add(tf.mul(dCand, z), tf.matMul(dGh, whhT));
            return { dGi: tf.concat([drPre, dzPre, dnPre], 1), dGh, dPrev };
          });
          dgi[s] = res.dGi;
          dgh[s] = res.dGh;
          carry.dispose();
          dH = res.dPrev;
        }
        const dGh = tf.concat(dgh, 0); // [L·B, 3·2h]
        const dWhh = tf.matMul(tf.transpose(tf.reshape(HP, [L * B, H2]) as tf.Tensor2D), dGh as tf.Tensor2D); // Σ_s h_{s−1}ᵀ ∂gh_s
        return [tf.stack(dgi), dWhh, tf.sum(dGh, 0), tf.zerosLike(sMask)];
      },
    };
  },
);

/** LSTM over time on the fused state (cell state c carried and masked the same way). gi [L, B, 4·2h]. */
const lstmScan: Scan = customOp(
  (gi: tf.Tensor, whh: tf.Tensor, bhh: tf.Tensor, mask: tf.Tensor, save: tf.GradSaveFunc) => {
    const [L, B] = gi.shape;
    const H2 = mask.shape[2] as number;
    const gis = tf.unstack(gi);
    const ms = tf.unstack(mask);
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
        const pre = tf.add(gis[s], tf.fused.matMul({ a: hPrev, b: whh as tf.Tensor2D, bias: bhh }));
        const [si, sf, sg, so] = tf.split(pre, 4, 1);
        const i = tf.sigmoid(si),
          f = tf.sigmoid(sf),
          g = tf.tanh(sg),
          o = tf.sigmoid(so);
        const c = tf.mul(ms[s], tf.add(tf.mul(f, cPrev), tf.mul(i, g))) as tf.Tensor2D;
        const tc = tf.tanh(c);
        return { i, f, g, o, tc, c, h: tf.mul(o, tc) as tf.Tensor2D }; // h is zero where c is masked
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
    save([whh, mask, ...(['i', 'f', 'g', 'o', 'tc', 'cp', 'hp'] as const).map((k) => tf.stack(keep[k]))]);
    return {
      value: out,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sWhh, sMask, I, F, G, O, TC, CP, HP] = saved;
        const [is, fs, gs, os, tcs, cps, ms2, dys] = [I, F, G, O, TC, CP, sMask, dy].map((t) => tf.unstack(t));
        const whhT = tf.transpose(sWhh as tf.Tensor2D);
        const dpre: tf.Tensor[] = new Array(L);
        let dH: tf.Tensor = tf.zeros([B, H2]);
        let dC: tf.Tensor = tf.zeros([B, H2]);
        for (let s = L - 1; s >= 0; s--) {
          const carryH = dH,
            carryC = dC;
          const res = tf.tidy(() => {
            const i = is[s],
              f = fs[s],
              g = gs[s],
              o = os[s],
              tc = tcs[s];
            const one = tf.scalar(1);
            const dh = tf.add(dys[s], carryH);
            // c = m ⊙ (f ⊙ c_prev + i ⊙ g); h = o ⊙ tanh(c)
            const dc = tf.mul(tf.add(carryC, tf.mul(tf.mul(dh, o), tf.sub(one, tf.square(tc)))), ms2[s]);
            const dPre = tf.concat(
              [
                tf.mul(tf.mul(dc, g), tf.mul(i, tf.sub(one, i))),
                tf.mul(tf.mul(dc, cps[s]), tf.mul(f, tf.sub(one, f))),
                tf.mul(tf.mul(dc, i), tf.sub(one, tf.square(g))),
                tf.mul(tf.mul(dh, tc), tf.mul(o, tf.sub(one, o))),
              ],
              1,
            );
            return { dPre, dhPrev: tf.matMul(dPre, whhT), dcPrev: tf.mul(dc, f) };
          });
          dpre[s] = res.dPre;
          carryH.dispose();
          carryC.dispose();
          dH = res.dhPrev;
          dC = res.dcPrev;
        }
        const dPre = tf.concat(dpre, 0);
        const dWhh = tf.matMul(tf.transpose(tf.reshape(HP, [L * B, H2]) as tf.Tensor2D), dPre as tf.Tensor2D);
        return [tf.stack(dpre), dWhh, tf.sum(dPre, 0), tf.zerosLike(sMask)];
      },
    };
  },
);
