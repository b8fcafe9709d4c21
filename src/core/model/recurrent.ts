import * as tf from '../tf.ts';
import type { ParamStore } from './params.ts';
import { applyDense, customOp } from './ops.ts';

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

interface DirectionWeights {
  wih: tf.Variable; // [in, G·h]  (PyTorch weight_ih [G·h, in])
  whh: tf.Variable; // [h, G·h]
  bih: tf.Variable; // [G·h]
  bhh: tf.Variable; // [G·h]
}

export class BiRNN {
  private readonly layers: [DirectionWeights, DirectionWeights][] = [];
  private readonly gates: number;

  constructor(p: ParamStore, name: string, readonly cell: Cell, inF: number, readonly hidden: number, nLayers: number) {
    this.gates = cell === 'gru' ? 3 : 4;
    const G = this.gates, h = hidden;
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
    const h = this.hidden, G = this.gates;
    const mask = scanMask(len, B, L, h);
    let out = x;
    for (const [f, b] of this.layers) {
      // Fused weights: gate blocks [fwd | bwd]; the recurrent matrix is block-diagonal.
      const wih = interleave(f.wih, b.wih, G, h, 1); // [in, G·2h]
      const bih = interleave(f.bih, b.bih, G, h, 0); // [G·2h]
      const bhh = interleave(f.bhh, b.bhh, G, h, 0).reshape([1, G * 2 * h]);
      const zero = tf.zeros([h, G * h]);
      const whh = tf.concat([interleave(f.whh, zero, G, h, 1), interleave(zero, b.whh, G, h, 1)], 0); // [2h, G·2h]
      // Input projections for all steps at once, the backward half reversed in time, then time-major.
      const xp = applyDense(out, wih, bih).reshape([B, L, G, 2, h]);
      const [xf, xb] = tf.split(xp, 2, 3);
      const gi = tf.concat([xf, tf.reverse(xb, 1)], 3).reshape([B, L, G * 2 * h]).transpose([1, 0, 2]); // [L, B, G·2h]
      const hs = (this.cell === 'gru' ? gruScan : lstmScan)(gi, whh, bhh, mask); // [L, B, 2h] by step
      // Step s of the backward half is time L−1−s: undo the reversal.
      const [hf, hb] = tf.split(hs.reshape([L, B, 2, h]), 2, 2);
      out = tf.concat([hf, tf.reverse(hb, 0)], 2).reshape([L, B, 2 * h]).transpose([1, 0, 2]) as tf.Tensor3D;
    }
    return out;
  }
}

/** [.., G·h] ⊕ [.., G·h] → [.., G·2h] with each gate block as [a_g | b_g]. */
function interleave(a: tf.Tensor, b: tf.Tensor, G: number, h: number, axis: number): tf.Tensor {
  const as = tf.split(a, G, axis), bs = tf.split(b, G, axis);
  return tf.concat(as.flatMap((x, i) => [x, bs[i]]), axis);
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

/** Row s of a [L, …] tensor as [B, w], copying only that row. */
function step(x2d: tf.Tensor2D, s: number, B: number): tf.Tensor2D {
  return tf.gather(x2d, [s]).reshape([B, -1]);
}

type Scan = (gi: tf.Tensor, whh: tf.Tensor, bhh: tf.Tensor, mask: tf.Tensor) => tf.Tensor3D;

/**
 * GRU over time on the fused state. gi [L, B, 3·2h] input projections (b_ih included), whh [2h, 3·2h],
 * bhh [1, 3·2h], mask [L, B, 2h] → outputs [L, B, 2h] (mask · state).
 */
const gruScan: Scan = customOp((gi: tf.Tensor, whh: tf.Tensor, bhh: tf.Tensor, mask: tf.Tensor, save: tf.GradSaveFunc) => {
  const [L, B] = gi.shape;
  const H2 = mask.shape[2] as number;
  const gi2 = gi.reshape([L, -1]) as tf.Tensor2D;
  const m2 = mask.reshape([L, -1]) as tf.Tensor2D;
  const keep: { r: tf.Tensor[]; z: tf.Tensor[]; n: tf.Tensor[]; ghn: tf.Tensor[]; hp: tf.Tensor[]; out: tf.Tensor[] } =
    { r: [], z: [], n: [], ghn: [], hp: [], out: [] };
  let H: tf.Tensor2D = tf.zeros([B, H2]);
  for (let s = 0; s < L; s++) {
    const prev = H;
    const res = tf.tidy(() => {
      const [gr, gz, gn] = tf.split(step(gi2, s, B), 3, 1);
      const gh = tf.matMul(prev, whh as tf.Tensor2D).add(bhh);
      const [hr, hz, hn] = tf.split(gh, 3, 1);
      const r = tf.sigmoid(gr.add(hr));
      const z = tf.sigmoid(gz.add(hz));
      const n = tf.tanh(gn.add(r.mul(hn)));
      const cand = n.add(z.mul(prev.sub(n))); // (1 − z) ⊙ n + z ⊙ h
      const m = step(m2, s, B);
      const next = prev.add(m.mul(cand.sub(prev))) as tf.Tensor2D;
      return { r, z, n, hn, next, out: m.mul(next) };
    });
    keep.r.push(res.r); keep.z.push(res.z); keep.n.push(res.n); keep.ghn.push(res.hn); keep.hp.push(prev); keep.out.push(res.out);
    H = res.next;
  }
  const stacked = (xs: tf.Tensor[]) => tf.stack(xs) as tf.Tensor3D; // [L, B, 2h]
  const out = stacked(keep.out);
  save([whh, mask, stacked(keep.r), stacked(keep.z), stacked(keep.n), stacked(keep.ghn), stacked(keep.hp)]);
  return {
    value: out,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sWhh, sMask, R, Z, N, GHN, HP] = saved;
      const flat = (t: tf.Tensor) => t.reshape([L, -1]) as tf.Tensor2D;
      const [R2, Z2, N2, GHN2, HP2, M2, DY2] = [R, Z, N, GHN, HP, sMask, dy].map(flat);
      const whhT = tf.transpose(sWhh as tf.Tensor2D);
      const dgi: tf.Tensor[] = new Array(L);
      const dgh: tf.Tensor[] = new Array(L);
      let dH: tf.Tensor = tf.zeros([B, H2]);
      for (let s = L - 1; s >= 0; s--) {
        const carry = dH;
        const res = tf.tidy(() => {
          const r = step(R2, s, B), z = step(Z2, s, B), n = step(N2, s, B);
          const ghn = step(GHN2, s, B), hp = step(HP2, s, B), m = step(M2, s, B);
          const dNext = step(DY2, s, B).mul(m).add(carry); // ∂/∂state_s
          const dCand = dNext.mul(m);
          let dPrev = dNext.sub(dCand); // (1 − m) part passes straight through
          const dn = dCand.mul(tf.scalar(1).sub(z));
          const dz = dCand.mul(hp.sub(n));
          dPrev = dPrev.add(dCand.mul(z));
          const dnPre = dn.mul(tf.scalar(1).sub(n.square()));
          const drPre = dnPre.mul(ghn).mul(r.mul(tf.scalar(1).sub(r)));
          const dzPre = dz.mul(z.mul(tf.scalar(1).sub(z)));
          const dGh = tf.concat([drPre, dzPre, dnPre.mul(r)], 1);
          dPrev = dPrev.add(tf.matMul(dGh, whhT));
          return { dGi: tf.concat([drPre, dzPre, dnPre], 1), dGh, dPrev };
        });
        dgi[s] = res.dGi; dgh[s] = res.dGh;
        carry.dispose();
        dH = res.dPrev;
      }
      const dGh = tf.concat(dgh, 0); // [L·B, 3·2h]
      const dWhh = tf.matMul(tf.transpose(HP.reshape([L * B, H2]) as tf.Tensor2D), dGh as tf.Tensor2D); // Σ_s h_{s−1}ᵀ ∂gh_s
      return [tf.stack(dgi), dWhh, dGh.sum(0, true), tf.zerosLike(sMask)];
    },
  };
});

/** LSTM over time on the fused state (cell state c carried the same way). gi [L, B, 4·2h]. */
const lstmScan: Scan = customOp((gi: tf.Tensor, whh: tf.Tensor, bhh: tf.Tensor, mask: tf.Tensor, save: tf.GradSaveFunc) => {
  const [L, B] = gi.shape;
  const H2 = mask.shape[2] as number;
  const gi2 = gi.reshape([L, -1]) as tf.Tensor2D;
  const m2 = mask.reshape([L, -1]) as tf.Tensor2D;
  const keep: Record<'i' | 'f' | 'g' | 'o' | 'tc' | 'cp' | 'hp' | 'out', tf.Tensor[]> =
    { i: [], f: [], g: [], o: [], tc: [], cp: [], hp: [], out: [] };
  let H: tf.Tensor2D = tf.zeros([B, H2]);
  let C: tf.Tensor2D = tf.zeros([B, H2]);
  for (let s = 0; s < L; s++) {
    const hPrev = H, cPrev = C;
    const res = tf.tidy(() => {
      const pre = step(gi2, s, B).add(tf.matMul(hPrev, whh as tf.Tensor2D)).add(bhh);
      const [pi, pf, pg, po] = tf.split(pre, 4, 1);
      const i = tf.sigmoid(pi), f = tf.sigmoid(pf), g = tf.tanh(pg), o = tf.sigmoid(po);
      const cNew = f.mul(cPrev).add(i.mul(g));
      const tc = tf.tanh(cNew);
      const hNew = o.mul(tc);
      const m = step(m2, s, B);
      const c = cPrev.add(m.mul(cNew.sub(cPrev))) as tf.Tensor2D;
      const h = hPrev.add(m.mul(hNew.sub(hPrev))) as tf.Tensor2D;
      return { i, f, g, o, tc, c, h, out: m.mul(h) };
    });
    keep.i.push(res.i); keep.f.push(res.f); keep.g.push(res.g); keep.o.push(res.o);
    keep.tc.push(res.tc); keep.cp.push(cPrev); keep.hp.push(hPrev); keep.out.push(res.out);
    H = res.h; C = res.c;
  }
  C.dispose();
  const st = (xs: tf.Tensor[]) => tf.stack(xs);
  const out = st(keep.out) as tf.Tensor3D;
  save([whh, mask, st(keep.i), st(keep.f), st(keep.g), st(keep.o), st(keep.tc), st(keep.cp), st(keep.hp)]);
  return {
    value: out,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [sWhh, sMask, ...rest] = saved;
      const flat = (t: tf.Tensor) => t.reshape([L, -1]) as tf.Tensor2D;
      const [I2, F2, G2, O2, TC2, CP2, HP2] = rest.map(flat);
      const M2 = flat(sMask), DY2 = flat(dy);
      const whhT = tf.transpose(sWhh as tf.Tensor2D);
      const dpre: tf.Tensor[] = new Array(L);
      let dH: tf.Tensor = tf.zeros([B, H2]);
      let dC: tf.Tensor = tf.zeros([B, H2]);
      for (let s = L - 1; s >= 0; s--) {
        const carryH = dH, carryC = dC;
        const res = tf.tidy(() => {
          const [i, f, g, o, tc, cp, m] = [I2, F2, G2, O2, TC2, CP2, M2].map((t) => step(t, s, B));
          const one = tf.scalar(1);
          const dHs = step(DY2, s, B).mul(m).add(carryH);
          const dhNew = dHs.mul(m);
          const dcNew = carryC.mul(m).add(dhNew.mul(o).mul(one.sub(tc.square())));
          const dcPrev = carryC.sub(carryC.mul(m)).add(dcNew.mul(f));
          const dPre = tf.concat([
            dcNew.mul(g).mul(i.mul(one.sub(i))),
            dcNew.mul(cp).mul(f.mul(one.sub(f))),
            dcNew.mul(i).mul(one.sub(g.square())),
            dhNew.mul(tc).mul(o.mul(one.sub(o))),
          ], 1);
          const dhPrev = dHs.sub(dhNew).add(tf.matMul(dPre, whhT));
          return { dPre, dhPrev, dcPrev };
        });
        dpre[s] = res.dPre;
        carryH.dispose(); carryC.dispose();
        dH = res.dhPrev; dC = res.dcPrev;
      }
      const HP = rest[6];
      const dPre = tf.concat(dpre, 0);
      const dWhh = tf.matMul(tf.transpose(HP.reshape([L * B, H2]) as tf.Tensor2D), dPre as tf.Tensor2D);
      return [tf.stack(dpre), dWhh, dPre.sum(0, true), tf.zerosLike(sMask)];
    },
  };
});
