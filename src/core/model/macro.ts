import * as tf from '../tf.ts';
import { MODALITIES, type Modality, type ModelConfig } from '../config/config.ts';
import type { ByModality } from '../data/types.ts';
import type { ParamStore } from './params.ts';
import { Encoder, type SeqInfo } from './transformer.ts';
import { createLinear, linear, type Ctx, type Linear } from './ops.ts';

/**
 * Macro-fusion stream (eqs. 3–7): per-modality encoders, then the coarse hub H_ker passed down a
 * waterfall of transformers (paper order v → a → t). Output H_f [B, 3d] = the last hub token.
 */
export class Macro {
  private readonly maps = new Map<Modality, Linear>();
  private readonly enc = new Map<Modality, Encoder>();
  private readonly hubTf = new Map<Modality, Encoder>();
  private readonly hub: tf.Variable; // [k, 3d]

  constructor(
    p: ParamStore,
    private readonly c: ModelConfig,
  ) {
    const w = 3 * c.d;
    // Unequal lengths: a learned Linear along time maps L_m → L_t (the code's 375→50, 500→50).
    MODALITIES.forEach((m, i) => {
      if (i > 0 && c.lens[i] !== c.lens[0]) this.maps.set(m, createLinear(p, `macro.maps.${m}`, c.lens[i], c.lens[0]));
    });
    for (const m of MODALITIES)
      this.enc.set(
        m,
        new Encoder(p, `macro.enc.${m}`, w, c.hubHeads, c.macroEncLayers, c.macroDropout, c.macroDropout),
      );
    for (const m of MODALITIES)
      this.hubTf.set(
        m,
        new Encoder(p, `macro.hub_tf.${m}`, w, c.hubHeads, c.hubLayers, c.macroDropout, c.macroDropout),
      );
    this.hub =
      c.hubInit === 'learned'
        ? p.normal('macro.hub', [c.hubK, w], 0.02)
        : p.constant('macro.hub', [c.hubK, w], 0, false);
  }

  forward(H: ByModality<tf.Tensor3D>, seq: ByModality<SeqInfo>, ctx: Ctx): tf.Tensor2D {
    const B = H.t.shape[0];
    const k = this.c.hubK;
    const w = 3 * this.c.d;
    const Hb = {} as ByModality<tf.Tensor3D>;
    const lens = {} as ByModality<Int32Array>;
    for (const m of MODALITIES) {
      let x = H[m];
      let info = seq[m];
      const map = this.maps.get(m);
      if (map) {
        // Zero the padding first (else it leaks into every mapped frame); all mapped frames count as valid.
        const Lm = info.L,
          Lt = this.c.lens[0];
        const valid = tf.tensor3d(info.valid, [B, Lm, 1]);
        const xt = tf.transpose(tf.mul(x, valid), [0, 2, 1]); // [B, 3d, L_m]
        x = tf.transpose(linear(map, xt), [0, 2, 1]) as tf.Tensor3D; // [B, L_t, 3d]
        info = fullSeq(B, Lt);
      }
      Hb[m] = this.enc.get(m)!.forward(x, info, ctx);
      lens[m] = lengthsOf(info, B);
      seq = { ...seq, [m]: info };
    }
    let hub: tf.Tensor3D = tf.tile(tf.reshape(this.hub, [1, k, w]), [B, 1, 1]) as tf.Tensor3D;
    const order = [...this.c.hubOrder] as Modality[];
    for (const [stage, m] of order.entries()) {
      const L = seq[m].L;
      // The hub sits after the sequence (after any padding); its tokens take positions len+1..len+k
      // of each sample, so padding never shifts them.
      const pos = new Int32Array(B * (L + k));
      const valid = new Float32Array(B * (L + k));
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < L; t++) {
          pos[b * (L + k) + t] = seq[m].pos[b * L + t];
          valid[b * (L + k) + t] = seq[m].valid[b * L + t];
        }
        for (let j = 0; j < k; j++) {
          pos[b * (L + k) + L + j] = lens[m][b] + 1 + j;
          valid[b * (L + k) + L + j] = 1;
        }
      }
      // Only the hub tokens leave a stage, and only the last one leaves the final stage.
      const last = stage === order.length - 1;
      hub = this.hubTf
        .get(m)!
        .forward(
          tf.concat([Hb[m], hub], 1) as tf.Tensor3D,
          { pos, valid, L: L + k },
          ctx,
          undefined,
          undefined,
          last ? L + k - 1 : L,
        );
    }
    return tf.reshape(hub, [B, w]); // H_f: the last hub token
  }
}

function fullSeq(B: number, L: number): SeqInfo {
  const pos = new Int32Array(B * L);
  for (let b = 0; b < B; b++) for (let t = 0; t < L; t++) pos[b * L + t] = t + 1;
  return { pos, valid: new Float32Array(B * L).fill(1), L };
}

function lengthsOf(info: SeqInfo, B: number): Int32Array {
  const out = new Int32Array(B);
  for (let b = 0; b < B; b++) {
    let n = 0;
    for (let t = 0; t < info.L; t++) n += info.valid[b * info.L + t];
    out[b] = n;
  }
  return out;
}
